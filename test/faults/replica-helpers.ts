import { ChatClient, ChatClientError, login, register, wsUrlOf, type ChatClientOptions } from '@chat/client';
import type { MessageView, PostAck, WsEventFrame } from '@chat/contracts';
import { WebSocket } from 'ws';

/** Shared by the replica, gateway-kill, subscriber and two-of-everything fault tests. */

export const PASSWORD = 'a good long password';

export interface TestUser {
  userId: string;
  username: string;
  token: string;
}

/** Registers `username` through `httpUrl` (a gateway) and logs in. */
export async function newUser(httpUrl: string, username: string): Promise<TestUser> {
  const r = await register(httpUrl, username, PASSWORD);
  const l = await login(httpUrl, username, PASSWORD);
  return { userId: r.user.userId, username, token: l.accessToken };
}

/** An authenticated connection of `user` to the gateway at `httpUrl`; no reconnect unless asked. */
export async function connectAs(
  httpUrl: string,
  user: TestUser,
  opts: Omit<ChatClientOptions, 'url' | 'WebSocket'> = {},
): Promise<ChatClient> {
  return ChatClient.connect(wsUrlOf(httpUrl), { WebSocket, reconnect: false, token: user.token, ...opts });
}

/** Every message of a room, through history.page (newest first, page after page). */
export async function readAll(client: ChatClient, roomId: string): Promise<MessageView[]> {
  const out: MessageView[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await client.request('history.page', before ? { roomId, before, limit: 100 } : { roomId, limit: 100 });
    out.push(...page.messages);
    if (page.nextBefore === null) return out;
    before = page.nextBefore;
  }
}

/**
 * Runs `fn` until it answers, as a client does through a fail-over: UNAVAILABLE (no replica
 * answered in time, a catching-up history page, a connection being replaced) is retried after
 * `pauseMs`; any other error fails at once. Counts the retries in `stats`.
 */
export async function retryUnavailable<T>(
  fn: () => Promise<T>,
  timeoutMs: number,
  stats?: { unavailable: number },
  pauseMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ChatClientError) || err.code !== 'UNAVAILABLE') throw err;
      if (Date.now() > deadline) throw new Error(`still UNAVAILABLE after ${timeoutMs} ms: ${err.message}`);
      if (stats) stats.unavailable++;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}

/** The message.posted frames of `roomId` a client received (raw frames: what was delivered, repeats included). */
export function postedFrames(client: ChatClient, roomId: string): WsEventFrame<'message.posted'>[] {
  return client.received.filter(
    (f): f is WsEventFrame<'message.posted'> =>
      f.type === 'evt' && f.event === 'message.posted' && (f as WsEventFrame<'message.posted'>).data.roomId === roomId,
  );
}

/** clientMsgIds seen more than once among `items`. */
export function repeated(ids: string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const id of ids) (seen.has(id) ? twice : seen).add(id);
  return [...twice].sort();
}

/** Sorts acks by position, for comparing with history. */
export function byPosition<T extends { position: number }>(items: Iterable<T>): T[] {
  return [...items].sort((a, b) => a.position - b.position);
}

export type { PostAck };
