import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import type { MessageView, PostAck } from '@chat/contracts';
import { eventually } from '@chat/testing';
import { WebSocket } from 'ws';
import { printLogsIfFailed, startTestStack, type TestStack } from './fixture';
import { readAll } from '../faults/replica-helpers';

jest.setTimeout(240_000);

/** Short, so that the test can retry after it; production keeps the 120 s default. */
const DEDUP_WINDOW_MS = 3000;
/** Connections, and sends in flight on each: enough to keep rooms busy, so acks queue up in it. */
const CONNECTIONS = 4;
const SENDERS = 32;
/** Crash rounds at most, until one leaves a message stored but unanswered (usually the first). */
const ROUNDS = 10;

/**
 * Issue 6: rooms SIGKILLed while messages are being sent leaves messages that are stored but
 * were never answered (and, before the fix, never recorded). A client that retries them after the
 * stream's duplicate window, as one that was offline would, must get the original back, never a
 * second copy, live or in history.
 */
describe('message idempotency - survives a crash of rooms between the append and its record', () => {
  let stack: TestStack;
  let clients: ChatClient[] = [];

  beforeAll(async () => {
    stack = await startTestStack({
      serviceEnv: {
        rooms: { MESSAGE_DEDUP_WINDOW_MS: String(DEDUP_WINDOW_MS) },
        // Many sends of one connection in flight at once, so the kill lands among them.
        gateway: { WS_ORDERED_SENDS: 'false', RPC_TIMEOUT_MS: '3000' },
      },
    });
    await register(stack.urls.gateway, 'retrier', 'a good long password');
    const l = await login(stack.urls.gateway, 'retrier', 'a good long password');
    clients = await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const c = await ChatClient.connect(wsUrlOf(stack.urls.gateway), { WebSocket, reconnect: false });
        await c.auth(l.accessToken);
        return c;
      }),
    );
    await clients[0].request('room.join', { roomId: 'general' });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await stack?.teardown();
  });

  afterEach(() => printLogsIfFailed(stack, ['gateway', 'rooms']));

  it('retries after the duplicate window of messages in flight at a SIGKILL return the original; each stored once', async () => {
    const acks = new Map<string, PostAck>();
    const failed = new Set<string>();
    let next = 0;
    const client = clients[0];
    /** clientMsgId -> ids of the messages delivered live with it (to another connection). */
    const live = () => {
      const seen = new Map<string, string[]>();
      for (const f of clients[1].events('message.posted'))
        seen.set(f.data.clientMsgId, [...(seen.get(f.data.clientMsgId) ?? []), f.data.messageId]);
      return seen;
    };
    const send = async (sender: ChatClient, clientMsgId: string) => {
      try {
        acks.set(clientMsgId, await sender.request('message.send', { roomId: 'general', clientMsgId, body: `m ${clientMsgId}` }));
      } catch {
        failed.add(clientMsgId);
      }
    };

    // Until some sends were stored but never answered (what the crash leaves behind), SIGKILL
    // rooms while CONNECTIONS x SENDERS sends are in flight, and start it again.
    let unanswered: string[] = [];
    for (let round = 0; round < ROUNDS && unanswered.length === 0; round++) {
      let sending = true;
      const senders = clients.flatMap((c) =>
        Array.from({ length: SENDERS }, async () => {
          while (sending) await send(c, `r${round}-${next++}`);
        }),
      );
      const before = acks.size;
      await eventually(() => acks.size >= before + 200, 30_000);
      await stack.stop('rooms', 'SIGKILL');
      sending = false;
      await Promise.all(senders);
      await stack.start('rooms');
      // Past the duplicate window: from now on only the message-id records recognise a retry.
      await new Promise((r) => setTimeout(r, DEDUP_WINDOW_MS + 1000));
      // A failed send that was delivered live was stored: the crash came between its append and
      // its answer (and, before issue 6 was fixed, its record).
      const stored = live();
      unanswered = [...failed].filter((id) => stored.has(id));

      const retries = new Map<string, PostAck>();
      const thisRound = [...acks.keys(), ...failed].filter((id) => id.startsWith(`r${round}-`));
      for (const ids of chunks(thisRound, CONNECTIONS * SENDERS)) {
        await Promise.all(
          ids.map(async (clientMsgId) => {
            // UNAVAILABLE only while rooms is (re)starting or catching up: retrying is what clients do.
            const ack = await eventually(
              () => client.request('message.send', { roomId: 'general', clientMsgId, body: `retry ${clientMsgId}` }),
              20_000,
              100,
            );
            retries.set(clientMsgId, ack);
          }),
        );
      }
      for (const [clientMsgId, original] of acks) {
        if (retries.has(clientMsgId)) expect(retries.get(clientMsgId)).toEqual({ ...original, duplicate: true });
      }
      for (const id of unanswered)
        expect(retries.get(id)).toEqual(expect.objectContaining({ messageId: stored.get(id)![0], duplicate: true }));
      // Now every send of the round is stored (a failed one that was not, by its retry) and answered.
      for (const id of failed) acks.set(id, retries.get(id)!);
      failed.clear();
    }
    expect(unanswered.length).toBeGreaterThan(0);

    // Each clientMsgId is in history exactly once, with the acknowledged id...
    const sent = [...acks.keys()];
    const all = await eventually(async () => {
      const got = await readAll(client, 'general');
      return got.length >= sent.length ? got : null;
    }, 30_000);
    const byClientId = new Map<string, MessageView[]>();
    for (const m of all) byClientId.set(m.clientMsgId, [...(byClientId.get(m.clientMsgId) ?? []), m]);
    expect([...byClientId.keys()].sort()).toEqual([...sent].sort());
    for (const id of sent) expect(byClientId.get(id)!.map((m) => m.messageId)).toEqual([acks.get(id)!.messageId]);
    // ...and was delivered live once.
    expect([...live()].filter(([, ids]) => ids.length !== 1)).toEqual([]);
  });
});

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
