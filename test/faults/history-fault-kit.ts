import { Client } from 'pg';
import { WebSocket } from 'ws';
import { ChatClient, ChatClientError, login, register, wsUrlOf } from '@chat/client';
import type { MessageView } from '@chat/contracts';
import { eventually, randomName } from '@chat/testing';
import type { TestStack } from '../e2e/fixture';

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

/** The history schema of a stack, on the database it uses. */
export class HistoryTables {
  private constructor(
    private readonly pg: Client,
    readonly schema: string,
  ) {}

  static async open(databaseUrl: string, stack: TestStack): Promise<HistoryTables> {
    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    pg.on('error', () => undefined); // a private server stopped under it: queries fail, the process goes on
    return new HistoryTables(pg, stack.schema);
  }

  query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.pg.query(sql.replace(/\$schema/g, `"${this.schema}"`), params).then((r) => r.rows as R[]);
  }

  /** Waits until `sql` answers a row whose `n` equals `expected` (the projection caught up). */
  async until(sql: string, params: unknown[], expected: number, timeoutMs: number): Promise<void> {
    await eventually(async () => Number((await this.query<{ n: string }>(sql, params))[0]?.n) === expected, timeoutMs, 200);
  }

  close(): Promise<void> {
    return this.pg.end();
  }
}
