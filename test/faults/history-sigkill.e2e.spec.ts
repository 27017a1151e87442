import { ChatClientError } from '@chat/client';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createSubjects, type PostAck } from '@chat/contracts';
import { eventually, testDatabaseUrl, testNatsUrl } from '@chat/testing';
import { printLogsIfFailed, startTestStack, type TestStack } from '../e2e/fixture';
import { connectUsers, HistoryTables, pipelined, wholeRoom, withLogs, type User } from './history-fault-kit';

jest.setTimeout(600_000);

const ROOM = 'general';
const MESSAGES = 10_000;
const USERS = 4;
/** Requests in flight per client. */
const WIDTH = 16;
/** history is SIGKILLed when this many messages were acknowledged, and started again at once. */
const KILL_AT = [2_500, 5_000, 7_500];
/** Every 5th message of a user is edited by its author; another 5th gets a reaction from the next user. */
const EDIT_EVERY = 5;
const EMOJI = '👍';
/** Edits and reactions waiting for their acknowledgement at once (over all users). */
const CHANGES_IN_FLIGHT = 32;

interface Edit {
  messageId: string;
  body: string;
  position: number;
}
interface Reaction {
  messageId: string;
  userId: string;
  position: number;
}

/**
 * Issue 11, Faults 1: the history service SIGKILLed three times while 10,000 messages, edits and
 * reactions are sent through the gateway (four clients, sixteen sends in flight each). Sending
 * never needs history; an edit or reaction does (rooms looks the message up there first), so
 * one asked while history is down or catching up is refused UNAVAILABLE before anything is
 * appended, and is asked again until acknowledged (one whose reply was lost, so whose outcome is
 * unknown, is not asked again and may be stored at most once). Afterwards the history tables hold exactly
 * what was acknowledged, once: every message at its acknowledged position, every acknowledged
 * edit and reaction at its position and nothing else, the statistics
 * counting each message once, no dead letter; and the gateway's pages show the same.
 */
describe('history SIGKILLed three times during 10,000 messages, edits and reactions - Postgres holds exactly what was acknowledged, once', () => {
  let stack: TestStack;
  let users: User[];
  let tables: HistoryTables;
  let nc: NatsConnection;
  const figures: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    users = await connectUsers(stack, USERS);
    tables = HistoryTables.open(await testDatabaseUrl(), stack);
    nc = await connect({ servers: await testNatsUrl() });
  });
  afterAll(async () => {
    await Promise.all((users ?? []).map((u) => u.client.close().catch(() => undefined)));
    await tables?.close();
    await nc?.close();
    await stack?.teardown();
    if (figures.length) process.stdout.write(`history SIGKILL x3:\n${figures.join('\n')}\n`);
  });
  afterEach(() => printLogsIfFailed(stack, ['history', 'rooms']));

  it('every acknowledged message, edit and reaction is in Postgres once; nothing unacknowledged is', () =>
    withLogs(stack, ['history', 'rooms'], async () => {
      const started = Date.now();
      const posts: PostAck[] = [];
      const edits: Edit[] = [];
      const reactions: Reaction[] = [];
      /** Typed refusals of edits and reactions (history down or catching up), each asked again. */
      let refused = 0;
      /** Edits and reactions whose outcome is unknown (rooms' reply did not reach the gateway in time), by message id. */
      const unknown = new Set<string>();
      /**
       * An edit or reaction, asked until it is acknowledged. Rooms looks the message up in
       * history first: while history is down or behind, that is refused UNAVAILABLE before
       * anything is appended, so asking again cannot apply it twice. When rooms' own answer is
       * lost (the gateway's call timed out, or no reply reached the client), the change may or
       * may not be stored: it is not asked again, and may be in the tables at most once.
       */
      const untilAcked = async <T>(messageId: string, ask: () => Promise<T>): Promise<T | null> => {
        for (;;) {
          try {
            return await ask();
          } catch (err) {
            if (!(err instanceof ChatClientError) || err.code !== 'UNAVAILABLE') throw err;
            if (/rooms service did not answer|no reply/.test(err.message)) {
              unknown.add(messageId);
              return null;
            }
            refused++;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      };
      /** Changes run beside the sends (which never wait for history), a bounded number at a time. */
      const changes: Promise<void>[] = [];
      let changing = 0;
      const change = (work: () => Promise<void>) => {
        changes.push(
          (async () => {
            await eventually(() => changing < CHANGES_IN_FLIGHT, 600_000, 20);
            changing++;
            try {
              await work();
            } finally {
              changing--;
            }
          })(),
        );
      };

      const perUser = MESSAGES / USERS;
      const traffic = Promise.all(
        users.map((u, k) =>
          pipelined(perUser, WIDTH, async (i) => {
            const ack = await u.client.request('message.send', { roomId: ROOM, clientMsgId: `m${k}-${i}`, body: `message ${k}-${i}` });
            posts.push(ack);
            const { messageId } = ack;
            if (i % EDIT_EVERY === 0) {
              const body = `edited ${k}-${i}`;
              change(async () => {
                const r = await untilAcked(messageId, () => u.client.request('message.edit', { roomId: ROOM, messageId, body }));
                if (r) edits.push({ messageId, body, position: r.position });
              });
            } else if (i % EDIT_EVERY === 2) {
              const other = users[(k + 1) % USERS];
              change(async () => {
                const r = await untilAcked(messageId, () =>
                  other.client.request('reaction.add', { roomId: ROOM, messageId, emoji: EMOJI }),
                );
                if (r) reactions.push({ messageId, userId: other.id, position: r.position });
              });
            }
          }),
        ),
      );
      const kills = (async () => {
        for (const at of KILL_AT) {
          await eventually(() => posts.length >= at, 300_000, 20);
          await stack.stop('history', 'SIGKILL');
          const killedAt = Date.now();
          await stack.start('history');
          figures.push(`  killed at ${posts.length} messages acknowledged; ready again after ${Date.now() - killedAt} ms`);
        }
      })();
      await Promise.all([traffic, kills]);
      await Promise.all(changes);
      const sentIn = Date.now() - started;
      figures.push(
        `  ${posts.length} messages, ${edits.length} edits, ${reactions.length} reactions acknowledged in ${sentIn} ms (${refused} refusals UNAVAILABLE asked again)`,
      );
      expect(posts.length).toBe(MESSAGES);
      expect(edits.length + reactions.length + unknown.size).toBe((2 * MESSAGES) / EDIT_EVERY);

      // The projection catches up with everything in the stream: the consumer's ack floor
      // reaches the stream's last position (every event at or below it is committed).
      const s = createSubjects(stack.namespace);
      const jsm = await jetstreamManager(nc);
      const lastSeq = (await jsm.streams.info(s.streams.chat.name)).state.last_seq;
      const durable = s.consumers.historyProjectorOf(stack.schema);
      await eventually(async () => (await jsm.consumers.info(s.streams.chat.name, durable)).ack_floor.stream_seq >= lastSeq, 120_000, 200);
      figures.push(`  projected ${Date.now() - started - sentIn} ms after the last acknowledgement`);

      // A change whose acknowledgement was lost is stored at most once; one that is stored counts
      // as acknowledged from here on, one that is not is nowhere.
      const changesOf = async (messageId: string) =>
        tables.query<{ position: string; kind: string; user_id: string; body: string | null }>(
          'SELECT position, kind, user_id, body FROM $schema.message_changes WHERE message_id = $1',
          [messageId],
        );
      for (const messageId of unknown) {
        const stored = await changesOf(messageId);
        expect(stored.length).toBeLessThanOrEqual(1);
        for (const c of stored) {
          if (c.kind === 'edit') edits.push({ messageId, body: c.body!, position: Number(c.position) });
          else reactions.push({ messageId, userId: c.user_id, position: Number(c.position) });
        }
      }
      if (unknown.size)
        figures.push(
          `  ${unknown.size} changes of unknown outcome (reply lost), found stored: ${edits.length + reactions.length - (2 * MESSAGES) / EDIT_EVERY + unknown.size}`,
        );

      // Messages: exactly the acknowledged ones, each at its position (message_id is the key, so
      // a second copy of a send would be a second id; none may exist).
      const byPosition = [...posts].sort((a, b) => a.position - b.position);
      const rows = await tables.query<{
        message_id: string;
        position: string;
        client_msg_id: string;
        body: string;
        edited_at: Date | null;
      }>('SELECT message_id, position, client_msg_id, body, edited_at FROM $schema.messages WHERE room_id = $1 ORDER BY position', [ROOM]);
      expect(rows.map((r) => [r.message_id, Number(r.position), r.client_msg_id])).toEqual(
        byPosition.map((a) => [a.messageId, a.position, a.clientMsgId]),
      );

      // Edits: the acknowledged ones at their positions, and the bodies they set; the rest untouched.
      const editOf = new Map(edits.map((e) => [e.messageId, e]));
      const logged = await tables.query<{
        position: string;
        message_id: string;
        kind: string;
        user_id: string;
        body: string | null;
        emoji: string | null;
      }>('SELECT position, message_id, kind, user_id, body, emoji FROM $schema.message_changes WHERE room_id = $1 ORDER BY position', [
        ROOM,
      ]);
      expect(logged.filter((c) => c.kind === 'edit').map((c) => [Number(c.position), c.message_id, c.body])).toEqual(
        [...edits].sort((a, b) => a.position - b.position).map((e) => [e.position, e.messageId, e.body]),
      );
      const bodies = new Map(byPosition.map((a) => [a.messageId, editOf.get(a.messageId)?.body ?? `message ${a.clientMsgId.slice(1)}`]));
      expect(rows.filter((r) => r.body !== bodies.get(r.message_id) || (r.edited_at !== null) !== editOf.has(r.message_id))).toEqual([]);

      // Reactions: the acknowledged ones at their positions, and the reactions they made.
      expect(logged.filter((c) => c.kind === 'react').map((c) => [Number(c.position), c.message_id, c.user_id, c.emoji])).toEqual(
        [...reactions].sort((a, b) => a.position - b.position).map((r) => [r.position, r.messageId, r.userId, EMOJI]),
      );
      expect(logged.filter((c) => c.kind !== 'edit' && c.kind !== 'react')).toEqual([]);
      const active = await tables.query<{ message_id: string; user_id: string; emoji: string }>(
        'SELECT message_id, user_id, emoji FROM $schema.message_reactions WHERE active ORDER BY position',
      );
      expect(active).toEqual(
        [...reactions].sort((a, b) => a.position - b.position).map((r) => ({ message_id: r.messageId, user_id: r.userId, emoji: EMOJI })),
      );

      // Statistics count every message once, per poster; nothing was dead-lettered.
      const perPoster = await tables.query<{ user_id: string; n: string }>(
        'SELECT user_id, sum(messages) AS n FROM $schema.stats_room_day_users WHERE room_id = $1 GROUP BY user_id ORDER BY user_id',
        [ROOM],
      );
      expect(perPoster.map((p) => [p.user_id, Number(p.n)])).toEqual(
        users
          .map((u) => u.id)
          .sort()
          .map((id) => [id, perUser]),
      );
      expect(await tables.query('SELECT position FROM $schema.dead_letters')).toEqual([]);

      // The gateway's pages show the same: every message once, in order, edited and reacted to as acknowledged.
      const pages = await wholeRoom(users[0].client, ROOM);
      expect(pages.map((m) => m.messageId)).toEqual(byPosition.map((a) => a.messageId));
      const reacted = new Map(reactions.map((r) => [r.messageId, r.userId]));
      const wrong = pages.filter((m) => {
        const by = reacted.get(m.messageId);
        const reactionsOk = by
          ? m.reactions.length === 1 && m.reactions[0].count === 1 && m.reactions[0].userIds[0] === by
          : !m.reactions.length;
        return m.body !== bodies.get(m.messageId) || (m.editedAt !== null) !== editOf.has(m.messageId) || !reactionsOk;
      });
      expect(wrong).toEqual([]);
    }));
});
