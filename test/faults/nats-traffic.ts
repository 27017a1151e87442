import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import { createSubjects, type MessageView, type PostAck } from '@chat/contracts';
import { eventually } from '@chat/testing';
import { JetStreamAdapter } from '@chat/messaging';
import { connect } from '@nats-io/transport-node';
import { WebSocket } from 'ws';
import { logTail, type TestStack } from '../e2e/fixture';

/**
 * Traffic for the NATS fault tests (nats-restart, nats-cluster): members of one room, each a
 * ChatClient (the client library, reconnecting and resuming on its own) sending one message
 * after another through the gateway, as a person's client does: a send that fails is sent
 * again with the same clientMsgId until it is acknowledged. Then the checks: what the stream
 * holds, what every member received, what history returns.
 */

export interface Member {
  name: string;
  client: ChatClient;
  /** Every socket the client opened, the current one last (a test cuts it to force a reconnect). */
  sockets: WebSocket[];
  /** How the client's reconnects went: `resumed` and `reloadNeeded` events seen. */
  resumes: number;
  reloads: number;
}

/** Cuts the member's connection as a network failure would (no close handshake): the client reconnects and resumes. */
export function cutConnection(m: Member): void {
  m.sockets.at(-1)?.terminate();
}

/** Registers `count` users, connects each with a reconnecting, resuming client, and has them join `roomId`. */
export async function connectMembers(stack: TestStack, roomId: string, count: number): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 0; i < count; i++) {
    const name = `member${i}`;
    await register(stack.urls.gateway, name, 'a good long password');
    const { accessToken } = await login(stack.urls.gateway, name, 'a good long password');
    const sockets: WebSocket[] = [];
    const client = await ChatClient.connect(wsUrlOf(stack.urls.gateway), {
      WebSocket: class extends WebSocket {
        constructor(url: string) {
          super(url);
          sockets.push(this);
        }
      },
      token: accessToken,
      // Quick retries: the outage is short and the test waits on the clients coming back.
      reconnect: { initialDelayMs: 200, maxDelayMs: 2000 },
      requestTimeoutMs: 10_000,
    });
    const member: Member = { name, client, sockets, resumes: 0, reloads: 0 };
    client.on('resumed', () => member.resumes++);
    client.on('reloadNeeded', () => member.reloads++);
    members.push(member);
  }
  for (const m of members) await m.client.request('room.join', { roomId });
  return members;
}

export interface Traffic {
  /** clientMsgId -> the acknowledgement (the last one, when a retry was answered again). */
  acks: Map<string, PostAck>;
  /** Sends answered with an error or not at all (each retried). */
  failures: number;
  /** Stops sending after each member's send in flight is settled (acknowledged or given up). */
  stop(): Promise<void>;
}

/** How many of the member's sends have been acknowledged so far. */
export function acksOf(traffic: Traffic, m: Member): number {
  let n = 0;
  for (const id of traffic.acks.keys()) if (id.startsWith(`${m.name}-`)) n++;
  return n;
}

/**
 * Every member sends, one message at a time, until `stop`; a failed send is retried with the
 * same clientMsgId (and counted in `failures`) until acknowledged or stopped.
 */
export function sendContinuously(members: Member[], roomId: string): Traffic {
  const acks = new Map<string, PostAck>();
  let sending = true;
  const traffic: Traffic = { acks, failures: 0, stop: async () => undefined };
  const loops = members.map(async (m) => {
    for (let n = 0; sending; n++) {
      const clientMsgId = `${m.name}-${n}`;
      while (sending) {
        try {
          const ack = await m.client.request('message.send', { roomId, clientMsgId, body: `message ${clientMsgId}` });
          acks.set(clientMsgId, ack);
          break;
        } catch {
          traffic.failures++;
          // Not a fixed pause in a test's logic: the retry cadence of a sending client (the
          // gateway answers UNAVAILABLE at once while NATS is down).
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  });
  traffic.stop = async () => {
    sending = false;
    await Promise.all(loops);
  };
  return traffic;
}

export interface StoredPost {
  seq: number;
  clientMsgId: string;
  messageId: string;
  senderId: string;
}

/** Every MessagePosted stored on the room's message subject, in stream order (read straight from the stream). */
export async function storedPosts(natsUrl: string, namespace: string, roomId: string): Promise<StoredPost[]> {
  const s = createSubjects(namespace);
  const nc = await connect({ servers: natsUrl.split(',') });
  try {
    const js = new JetStreamAdapter(nc);
    const stream = s.streams.chat.name;
    const subject = s.chat.roomMessages(roomId);
    const posts: StoredPost[] = [];
    for (let seq = 1; ;) {
      const m = await js.nextOnSubject(stream, subject, seq);
      if (!m) break;
      const e = m.data as { type: string; payload: { clientMsgId: string; messageId: string; senderId: string } };
      if (e.type === 'MessagePosted')
        posts.push({ seq: m.seq, clientMsgId: e.payload.clientMsgId, messageId: e.payload.messageId, senderId: e.payload.senderId });
      seq = m.seq + 1;
    }
    return posts;
  } finally {
    await nc.close();
  }
}

/**
 * The clientMsgIds (unique per member here) that are not stored exactly once: every acknowledged
 * one must be there once, and none may be there twice (a retry that was not de-duplicated).
 * Empty when all is well.
 */
export function notStoredOnce(acks: Map<string, PostAck>, posts: StoredPost[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const p of posts) counts.set(p.clientMsgId, (counts.get(p.clientMsgId) ?? 0) + 1);
  const wrong: Record<string, number> = {};
  for (const id of acks.keys()) if (counts.get(id) !== 1) wrong[id] = counts.get(id) ?? 0;
  for (const [id, n] of counts) if (n !== 1) wrong[id] = n;
  return wrong;
}

/**
 * What a member received of the room's messages, as positions in arrival order: the client
 * library hands each event once (a resume's overlap is dropped), so a repeat or a position
 * lower than the one before is a fault of the system, not noise.
 */
export function receivedPositions(m: Member, roomId: string): number[] {
  return m.client
    .events('message.posted')
    .filter((f) => f.data.roomId === roomId)
    .map((f) => f.position);
}

/**
 * Waits until every member has received every acknowledged message, then returns what is
 * wrong with each member's stream of messages: missing positions, repeats, or order.
 */
export async function deliveryProblems(members: Member[], roomId: string, acks: Map<string, PostAck>, timeoutMs = 30_000) {
  const expected = [...new Set([...acks.values()].map((a) => a.position))].sort((a, b) => a - b);
  const missingOf = (m: Member) => {
    const got = new Set(receivedPositions(m, roomId));
    return expected.filter((p) => !got.has(p));
  };
  await eventually(() => members.every((m) => missingOf(m).length === 0), timeoutMs).catch(() => undefined);
  const problems: Record<string, { missing: number[]; repeated: number[]; outOfOrder: number[] }> = {};
  for (const m of members) {
    const got = receivedPositions(m, roomId);
    const seen = new Set<number>();
    const repeated: number[] = [];
    const outOfOrder: number[] = [];
    got.forEach((p, i) => {
      if (seen.has(p)) repeated.push(p);
      else if (i > 0 && p < got[i - 1]) outOfOrder.push(p);
      seen.add(p);
    });
    const missing = missingOf(m);
    if (missing.length || repeated.length || outOfOrder.length) problems[m.name] = { missing, repeated, outOfOrder };
  }
  return problems;
}

/** Every message of the room in history, oldest first (paging back from the newest). */
export async function historyOf(client: ChatClient, roomId: string): Promise<MessageView[]> {
  const all: MessageView[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await client.request('history.page', before === undefined ? { roomId, limit: 100 } : { roomId, before, limit: 100 });
    all.push(...page.messages);
    if (page.nextBefore === null) break;
    before = page.nextBefore;
  }
  return all.reverse();
}

/** Resolves once every service's /health/ready answers 200; the error names those that did not. */
export async function allReady(stack: TestStack, timeoutMs = 60_000): Promise<void> {
  let codes: Record<string, unknown> = {};
  try {
    await eventually(
      async () => {
        const entries = await Promise.all(
          Object.entries(stack.urls).map(async ([name, u]) => {
            const res = await fetch(`${u}/health/ready`, { signal: AbortSignal.timeout(3000) }).catch(() => null);
            // The failing checks, named, for the error message.
            return [name, res?.status === 200 ? 200 : ((await res?.json().catch(() => null))?.checks ?? 0)] as const;
          }),
        );
        codes = Object.fromEntries(entries);
        return entries.every(([, c]) => c === 200);
      },
      timeoutMs,
      200,
    );
  } catch (err) {
    throw new Error(`not every service is ready again: ${JSON.stringify(codes)} (${String(err)})`);
  }
}

/**
 * For `afterEach` of the NATS fault tests: when the test did not pass (`passed` false, which
 * also covers a failure outside an assertion), prints the services' and the nats-servers' log tails.
 */
export function printLogsUnlessPassed(
  passed: boolean,
  stack: TestStack | undefined,
  servers: Array<{ name: string; logTail(lines?: number): string }>,
): void {
  if (passed || !stack) return;
  for (const s of Object.keys(stack.urls)) process.stderr.write(`--- ${s} log ---\n${logTail(stack, s, 30)}\n`);
  for (const n of servers) process.stderr.write(`--- nats-server ${n.name} log ---\n${n.logTail(20)}\n`);
}
