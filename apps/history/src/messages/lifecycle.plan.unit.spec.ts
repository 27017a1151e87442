import {
  createSubjects,
  makeEvent,
  type EventContext,
  type MessageDeleted,
  type MessageEdited,
  type MessagePosted,
  type ReactionAdded,
  type ReactionRemoved,
} from '@chat/contracts';
import type { StreamEvent } from '../store/events';
import { route } from '../store/plan';
import { foldChanges, planMessages, type ChangeRecord, type MessageChange, type MessageRecord, type ReactionRow } from './messages.plan';

const s = createSubjects('unit');
const ann = '11111111-1111-4111-8111-111111111111';
const bob = '33333333-3333-4333-8333-333333333333';
const cid = '44444444-4444-4444-8444-444444444444';
const msgId = (n: number) => `22222222-2222-4222-8222-${String(n).padStart(12, '0')}`;
const time = new Date('2030-01-02T03:04:05.678Z');
const ctx: EventContext = {
  now: () => time,
  newId: () => '00000000-0000-4000-8000-000000000001',
  actor: { kind: 'user', id: ann },
  correlationId: 'c1',
};
const at = (position: number, data: unknown, roomId = 'general'): StreamEvent => ({ subject: s.chat.roomMessages(roomId), position, data });

const posted = (n: number, over: Partial<MessagePosted['payload']> = {}) =>
  makeEvent<MessagePosted>(ctx, 'MessagePosted', 2, {
    messageId: msgId(n),
    roomId: 'general',
    senderId: ann,
    senderName: 'ann',
    clientMsgId: `c${n}`,
    body: `m${n}`,
    replyTo: null,
    mentions: [],
    ...over,
  });
const edited = (n: number, body: string, senderId = ann) =>
  makeEvent<MessageEdited>(ctx, 'MessageEdited', 1, {
    messageId: msgId(n),
    roomId: 'general',
    senderId,
    body,
    mentions: body.includes('@bob') ? [{ userId: bob, username: 'bob' }] : [],
  });
const deleted = (n: number, byUserId = ann, reason: 'author' | 'moderator' = 'author') =>
  makeEvent<MessageDeleted>(ctx, 'MessageDeleted', 1, { messageId: msgId(n), roomId: 'general', byUserId, byUsername: 'x', reason });
const reacted = (n: number, userId: string, emoji: string, add = true) =>
  add
    ? makeEvent<ReactionAdded>(ctx, 'ReactionAdded', 1, { messageId: msgId(n), roomId: 'general', userId, username: 'u', emoji })
    : makeEvent<ReactionRemoved>(ctx, 'ReactionRemoved', 1, { messageId: msgId(n), roomId: 'general', userId, username: 'u', emoji });

const changeOf = (e: StreamEvent): MessageChange => {
  const out = route(e, s.chat);
  if (out.kind !== 'messages') throw new Error(`not a message change: ${JSON.stringify(out)}`);
  return out.change;
};

describe('messages plan - decoding the lifecycle', () => {
  it('a post keeps its reply snapshot and mentions, each user once', () => {
    const replyTo = { messageId: msgId(1), position: 1, senderId: bob, senderName: 'bob', excerpt: 'hi' };
    const mentions = [
      { userId: bob, username: 'bob' },
      { userId: bob, username: 'bob' },
    ];
    expect(changeOf(at(5, posted(2, { replyTo, mentions })))).toMatchObject({ replyTo, mentions: [{ userId: bob, username: 'bob' }] });
  });

  it('edits, deletions and reactions become changes at their position', () => {
    expect(changeOf(at(6, edited(1, 'new @bob')))).toEqual({
      kind: 'edit',
      position: 6,
      messageId: msgId(1),
      roomId: 'general',
      userId: ann,
      username: null,
      body: 'new @bob',
      mentions: [{ userId: bob, username: 'bob' }],
      emoji: null,
      reason: null,
      time,
    });
    expect(changeOf(at(7, deleted(1, bob, 'moderator')))).toMatchObject({
      kind: 'delete',
      userId: bob,
      reason: 'moderator',
      username: 'x',
    });
    expect(changeOf(at(8, reacted(1, bob, '👍')))).toMatchObject({ kind: 'react', userId: bob, emoji: '👍', username: 'u' });
    expect(changeOf(at(9, reacted(1, bob, '👍', false)))).toMatchObject({ kind: 'unreact', emoji: '👍' });
    const part = planMessages([changeOf(at(5, posted(2))), changeOf(at(6, edited(1, 'x')))]);
    expect(part.inserts.map((m) => m.position)).toEqual([5]);
    expect(part.changes.map((c) => c.position)).toEqual([6]);
  });

  it('dead-letters a change stored on another room subject', () => {
    const out = route({ ...at(6, edited(1, 'x')), subject: s.chat.roomMessages('other') }, s.chat);
    expect(out.kind === 'dead' && out.letter.error).toMatch(/MessageEdited for room "general" stored on subject/);
  });
});

describe('messages plan - foldChanges', () => {
  const state = { messageId: msgId(1), roomId: 'general', senderId: ann, editPosition: null, deletePosition: null };
  const c = (position: number, data: unknown) => changeOf(at(position, data)) as ChangeRecord;

  it('the latest edit by the author wins; an edit by anyone else is ignored', () => {
    const f = foldChanges(state, [c(12, edited(1, 'b')), c(11, edited(1, 'a')), c(13, edited(1, 'z', bob))]);
    expect(f.edit?.body).toBe('b');
    expect(f).toMatchObject({ writeEdit: true, writeDeletion: false, ignored: [13] });
    expect(foldChanges({ ...state, editPosition: 12 }, [c(12, edited(1, 'b')), c(11, edited(1, 'a'))]).writeEdit).toBe(false);
  });

  it('the first deletion holds; anything after it is ignored; an "author" deletion by someone else does not hold', () => {
    const f = foldChanges(state, [
      c(10, reacted(1, bob, '👍')),
      c(11, deleted(1, bob, 'author')),
      c(12, deleted(1, cid, 'moderator')),
      c(13, edited(1, 'late')),
      c(14, deleted(1)),
      c(15, reacted(1, bob, '🎉')),
    ]);
    expect(f.deletion?.position).toBe(12);
    expect(f).toMatchObject({ edit: null, reactions: [], writeDeletion: true, writeEdit: false, ignored: [11, 13, 14, 15] });
    expect(foldChanges({ ...state, deletePosition: 12 }, [c(12, deleted(1, cid, 'moderator'))]).writeDeletion).toBe(false);
  });

  it('a change naming a message of another room is ignored', () => {
    const wrong = { ...c(10, edited(1, 'x')), roomId: 'other' };
    expect(foldChanges(state, [wrong])).toMatchObject({ edit: null, ignored: [10] });
  });

  it('reactions: the latest event per user and emoji; a repeated add keeps the first add of the current run', () => {
    const f = foldChanges(state, [
      c(10, reacted(1, bob, '👍')),
      c(11, reacted(1, bob, '👍', false)),
      c(12, reacted(1, bob, '👍')),
      c(13, reacted(1, bob, '👍')),
      c(14, reacted(1, cid, '🎉')),
      c(15, reacted(1, cid, '🎉', false)),
    ]);
    const rows = Object.fromEntries(f.reactions.map((r) => [r.emoji, r]));
    expect(rows['👍']).toMatchObject({ userId: bob, active: true, position: 13, firstPosition: 12 });
    expect(rows['🎉']).toMatchObject({ userId: cid, active: false, position: 15, firstPosition: 15 });
  });
});

/**
 * The store's algorithm in memory (lifecycle.store.ts does the same in SQL): posts inserted if
 * new, with their logged changes folded in; changes logged, then their messages folded (edits and
 * deletions whole, reactions of the touched keys).
 */
class MemoryModel {
  log = new Map<number, ChangeRecord>();
  rows = new Map<string, MessageRecord & { editPosition: number | null; deletePosition: number | null; deletedBy: string | null }>();
  reactions = new Map<string, ReactionRow>();

  apply(batch: StreamEvent[]) {
    const part = planMessages(batch.map(changeOf));
    const inserted = part.inserts.filter((p) => !this.rows.has(p.messageId));
    for (const p of inserted) this.rows.set(p.messageId, { ...p, editPosition: null, deletePosition: null, deletedBy: null });
    for (const p of inserted)
      this.fold(
        p.messageId,
        [...this.log.values()].filter((c) => c.messageId === p.messageId),
      );
    for (const ch of part.changes) if (!this.log.has(ch.position)) this.log.set(ch.position, ch);
    for (const id of new Set(part.changes.map((ch) => ch.messageId))) {
      const keys = new Set(part.changes.filter((ch) => ch.messageId === id && ch.emoji).map((ch) => `${ch.emoji}|${ch.userId}`));
      const scope = [...this.log.values()].filter((l) => l.messageId === id && (l.emoji === null || keys.has(`${l.emoji}|${l.userId}`)));
      this.fold(id, scope);
    }
  }

  private fold(id: string, changes: ChangeRecord[]) {
    const row = this.rows.get(id);
    if (!row) return;
    const f = foldChanges(row, changes);
    if (f.writeDeletion) {
      Object.assign(row, {
        body: '',
        mentions: [],
        replyTo: null,
        editPosition: null,
        deletePosition: f.deletion!.position,
        deletedBy: f.deletion!.userId,
      });
      for (const k of [...this.reactions.keys()]) if (k.startsWith(id)) this.reactions.delete(k);
    }
    if (f.writeEdit) Object.assign(row, { body: f.edit!.body, mentions: f.edit!.mentions, editPosition: f.edit!.position });
    for (const r of f.reactions) {
      const k = `${id}|${r.emoji}|${r.userId}`;
      const old = this.reactions.get(k);
      if (!old || old.position <= r.position) this.reactions.set(k, r);
    }
  }

  snapshot() {
    return {
      rows: [...this.rows.values()].sort((a, b) => a.position - b.position),
      reactions: [...this.reactions.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    };
  }
}

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

describe('messages plan - order independence (property)', () => {
  /** A random history of 4 messages: posts, edits (some by the wrong user), deletions, reactions toggled and repeated. */
  const history = (rand: () => number): StreamEvent[] => {
    const events: StreamEvent[] = [];
    let position = 1;
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    for (let n = 1; n <= 4; n++) events.push(at(position++, posted(n)));
    for (let i = 0; i < 40; i++) {
      const n = 1 + Math.floor(rand() * 4);
      const r = rand();
      let data: unknown;
      if (r < 0.25) data = edited(n, pick(['a', 'b @bob', 'c']), pick([ann, ann, bob]));
      else if (r < 0.32) data = deleted(n, pick([ann, bob]), pick(['author', 'moderator']));
      else data = reacted(n, pick([bob, cid]), pick(['👍', '🎉']), rand() < 0.6);
      events.push(at(position++, data));
    }
    // A post placed late in the stream changes nothing: its changes come before it only in delivery.
    return events;
  };
  const shuffle = <T>(xs: T[], rand: () => number) => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
  const batches = (events: StreamEvent[], rand: () => number) => {
    const out: StreamEvent[][] = [];
    for (let i = 0; i < events.length;) {
      const size = 1 + Math.floor(rand() * 6);
      out.push(events.slice(i, i + size));
      i += size;
    }
    return out;
  };

  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('seed %i: shuffled batches, redeliveries included, end in the same rows', (seed) => {
    const rand = prng(seed);
    const events = history(rand);
    const inOrder = new MemoryModel();
    for (const e of events) inOrder.apply([e]);
    const expected = inOrder.snapshot();

    const shuffled = new MemoryModel();
    const bs = batches(events, rand);
    // Every batch once in a random order, then a few of them again (redelivered late).
    for (const b of [...shuffle(bs, rand), ...shuffle(bs, rand).slice(0, 3)]) shuffled.apply(b);
    expect(shuffled.snapshot()).toEqual(expected);
  });

  it('a removal that arrives before its add ends removed; changes before their post are folded in when it lands', () => {
    const model = new MemoryModel();
    model.apply([at(4, reacted(1, bob, '👍', false)), at(3, edited(1, 'edited @bob'))]);
    expect(model.rows.size).toBe(0);
    model.apply([at(2, reacted(1, bob, '👍'))]);
    model.apply([at(1, posted(1))]);
    const { rows, reactions } = model.snapshot();
    expect(rows[0]).toMatchObject({ body: 'edited @bob', editPosition: 3, mentions: [{ userId: bob, username: 'bob' }] });
    expect(reactions.map(([, r]) => [r.emoji, r.active, r.position])).toEqual([['👍', false, 4]]);
  });
});
