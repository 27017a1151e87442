import { Pool } from 'pg';
import { WebSocket } from 'ws';
import { ChatClient, ChatClientError, login, register, wsUrlOf } from '@chat/client';
import type { MessageView } from '@chat/contracts';
import { eventually, randomName } from '@chat/testing';
import { logTail, type TestStack } from '../e2e/fixture';

/**
 * What the history fault tests share: users connected through the client library, pipelined
 * requests, whole-room history walks through the gateway and a look at the history tables.
 */

export interface User {
  id: string;
  name: string;
  client: ChatClient;
}

/** Registers `count` users, connects each (reconnect off: these tests do not kill the gateway) and joins them to `roomId`. */
export async function connectUsers(stack: TestStack, count: number, roomId = 'general'): Promise<User[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const name = randomName('u');
      const { user } = await register(stack.urls.gateway, name, 'a good long password');
      const { accessToken } = await login(stack.urls.gateway, name, 'a good long password');
      const client = await ChatClient.connect(wsUrlOf(stack.urls.gateway), { WebSocket, reconnect: false, requestTimeoutMs: 30_000 });
      await client.auth(accessToken);
      await client.request('room.join', { roomId });
      return { id: user.userId, name, client };
    }),
  );
}

/** Runs `work(i)` for i in [0, count), at most `width` at a time, in order of i. */
export async function pipelined(count: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/** `op` until it does not answer UNAVAILABLE (history catching up, or its database down), at most `timeoutMs`. */
export async function untilAvailable<T>(op: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof ChatClientError) || err.code !== 'UNAVAILABLE' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Every message of the room as the gateway's history pages show it, oldest first. */
export async function wholeRoom(client: ChatClient, roomId: string): Promise<MessageView[]> {
  const newestFirst: MessageView[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await untilAvailable(() =>
      client.request('history.page', before === undefined ? { roomId, limit: 100 } : { roomId, before, limit: 100 }),
    );
    newestFirst.push(...page.messages);
    if (page.nextBefore === null) return newestFirst.reverse();
    before = page.nextBefore;
  }
}

/**
 * The history schema of a stack, on the database it uses. Queries go through a one-connection
 * pool, which replaces a connection its server ended (a fault test stops that server).
 */
export class HistoryTables {
  private constructor(
    private readonly pool: Pool,
    readonly schema: string,
  ) {}

  static open(databaseUrl: string, stack: TestStack): HistoryTables {
    const pool = new Pool({ connectionString: databaseUrl, max: 1 });
    pool.on('error', () => undefined); // an idle connection ended by a stopped server: the next query opens another
    return new HistoryTables(pool, stack.schema);
  }

  query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.pool.query(sql.replace(/\$schema/g, `"${this.schema}"`), params).then((r) => r.rows as R[]);
  }

  /** Waits until `sql` answers a row whose `n` equals `expected` (the projection caught up). */
  async until(sql: string, params: unknown[], expected: number, timeoutMs: number): Promise<void> {
    let last: number | undefined;
    try {
      await eventually(async () => (last = Number((await this.query<{ n: string }>(sql, params))[0]?.n)) === expected, timeoutMs, 200);
    } catch (err) {
      throw new Error(`${String(err)}; expected ${expected}, last ${last}: ${sql}`);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * Runs a test body; when it throws (a service not ready, a timeout: not an assertion, which
 * printLogsIfFailed reports), the end of these services' logs goes to stderr first.
 */
export async function withLogs(stack: TestStack, services: string[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    for (const s of services) process.stderr.write(`--- ${s} log ---\n${logTail(stack, s, 60)}\n`);
    throw err;
  }
}
