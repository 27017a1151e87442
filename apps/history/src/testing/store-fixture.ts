import { makeEvent, type Mention } from '@chat/contracts';
import { randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../db/data-source';
import type { StreamEvent } from '../store/events';
import { HistoryStore } from '../store/history.store';
import { unitSubjects } from './unit-events';

/**
 * Events of the CHAT stream as the projector reads them, at positions the test chooses, for
 * tests that apply batches to a HistoryStore directly in any order. An event's time is `epoch`
 * plus its position in seconds, so times follow positions; `actor` is the author of each.
 */
export function streamEvents(actor: string, epoch: number) {
  const s = unitSubjects.chat;
  const event = (position: number, type: string, payload: Record<string, unknown>, subject: string, version = 1): StreamEvent => ({
    subject,
    position,
    data: makeEvent(
      { now: () => new Date(epoch + position * 1000), newId: randomUUID, actor: { kind: 'user', id: actor }, correlationId: 'c' },
      type,
      version,
      payload,
    ),
  });
  const msg = (roomId: string, position: number, type: string, payload: Record<string, unknown>, version = 1) =>
    event(position, type, { roomId, ...payload }, s.roomMessages(roomId), version);
  const meta = (roomId: string, position: number, type: string, payload: Record<string, unknown>) =>
    event(position, type, { roomId, ...payload }, s.roomMeta(roomId));
  return {
    msg,
    meta,
    /** A public room with no owner. */
    created: (roomId: string, position: number) =>
      meta(roomId, position, 'RoomCreated', {
        name: roomId,
        topic: '',
        visibility: 'public',
        postPolicy: 'members',
        memberLimit: 10,
        ownerId: null,
        ownerName: null,
      }),
    joined: (roomId: string, position: number, userId: string, username: string) =>
      meta(roomId, position, 'MemberJoined', { userId, username, role: 'member' }),
    /** MessagePosted v2; `over` sets any other field (senderName, replyTo, mentions, …). */
    posted: (roomId: string, position: number, messageId: string, senderId: string, body: string, over: Record<string, unknown> = {}) =>
      msg(
        roomId,
        position,
        'MessagePosted',
        { messageId, senderId, senderName: 'x', clientMsgId: `c${position}`, body, replyTo: null, mentions: [], ...over },
        2,
      ),
    edited: (roomId: string, position: number, messageId: string, senderId: string, body: string, mentions: Mention[] = []) =>
      msg(roomId, position, 'MessageEdited', { messageId, senderId, body, mentions }),
    deleted: (roomId: string, position: number, messageId: string, byUserId: string, reason = 'author') =>
      msg(roomId, position, 'MessageDeleted', { messageId, byUserId, byUsername: 'someone', reason }),
    reaction: (roomId: string, position: number, messageId: string, userId: string, emoji: string, add = true) =>
      msg(roomId, position, add ? 'ReactionAdded' : 'ReactionRemoved', { messageId, userId, username: 'u', emoji }),
  };
}

/** Stores on schemas of their own (random names with `prefix`), migrated, and a pool to look at them with. */
export interface StoresUnderTest {
  pool: Pool;
  schemas: string[];
  dss: DataSource[];
  stores: HistoryStore[];
  /** Closes the data sources, drops the schemas and ends the pool. */
  close(): Promise<void>;
}

/** Opens `count` stores, each on a new schema; `retention` as HistoryStore takes it (default: keep forever). */
export async function openStores(
  prefix: string,
  count: number,
  retention?: ConstructorParameters<typeof HistoryStore>[3],
): Promise<StoresUnderTest> {
  const url = await testDatabaseUrl();
  const pool = new Pool({ connectionString: url, max: 2 });
  const schemas = Array.from({ length: count }, () => randomName(prefix));
  const dss: DataSource[] = [];
  const stores: HistoryStore[] = [];
  for (const schema of schemas) {
    const ds = await openDatabase({ url, schema, timeouts: { statementMs: 10_000, lockMs: 5000 } });
    dss.push(ds);
    stores.push(new HistoryStore(ds, 'test-projector', unitSubjects.chat, retention));
  }
  const close = async () => {
    for (const ds of dss) await ds.destroy();
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  };
  return { pool, schemas, dss, stores, close };
}
