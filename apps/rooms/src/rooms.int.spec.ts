import { randomUUID } from 'node:crypto';
import type { Result } from '@chat/contracts';
import { loadConfig, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { decodeJson, type JetStreamAdapter } from '@chat/messaging';
import { RoomsConfig } from './config';
import { idempotencyKey } from './messages/idempotency';
import { PostMessageHandler } from './messages/post-message';
import { RoomStore } from './room/room.store';
import { fakeModeration, roomsTestEnv, startRooms } from './testing/rooms-fixture';

const user = (name: string) => ({ userId: randomUUID(), username: name });
const code = (r: Result<unknown>) => (r.ok ? 'OK' : r.error.code);

describe('rooms service - two replicas over real NATS', () => {
  const namespace = randomName();
  let a: RunningService;
  let b: RunningService;
  let moderation: Subscription | undefined;

  beforeAll(async () => {
    // Two replicas starting together both try to create the default room: exactly one wins.
    [a, b] = await Promise.all([startRooms(namespace), startRooms(namespace)]);
    startModeration();
  });
  /** Moderation played by the test on replica a: rejects '禁词'. */
  const startModeration = () => {
    moderation = fakeModeration(a, '禁词');
  };

  /**
   * Makes the appends of both replicas on one subject fail the way a lost answer does (a thrown
   * timeout), one step of `plan` per append: 'stored' really appends first, 'lost' does not.
   * Appends beyond the plan, and on other subjects, go through. NATS itself stays real.
   */
  function breakAppends(subject: string, plan: Array<'stored' | 'lost'>) {
    let calls = 0;
    const adapters: JetStreamAdapter[] = [a.deps.js, b.deps.js];
    for (const js of adapters) {
      const real = js.append.bind(js);
      js.append = async (subj, payload, opts) => {
        if (subj !== subject) return real(subj, payload, opts);
        const step = plan[calls++];
        if (step === 'stored') await real(subj, payload, opts);
        if (step) throw new Error('TIMEOUT (injected by the test)');
        return real(subj, payload, opts);
      };
    }
    return {
      calls: () => calls,
      restore: () => adapters.forEach((js) => Reflect.deleteProperty(js, 'append')),
    };
  }

  async function messagesOn(subject: string) {
    const jsm = await jetstreamManager(a.nc);
    const info = await jsm.streams.info(a.deps.subjects.streams.chat.name, { subjects_filter: subject });
    const count = info.state.subjects?.[subject] ?? 0;
    const events: Array<{ id: string; payload: { messageId: string; body: string } }> = [];
    let seq = 0;
    for (let i = 0; i < count; i++) {
      const m = await a.deps.js.nextOnSubject(a.deps.subjects.streams.chat.name, subject, seq + 1);
      seq = m!.seq;
      events.push(m!.data as (typeof events)[number]);
    }
    return events;
  }

  const messageIds = () => new Kvm(a.nc).open(a.deps.subjects.kv.messageIds);

  afterAll(async () => {
    moderation?.unsubscribe();
    await Promise.all([a?.close(), b?.close()]);
    await deleteNamespace(namespace);
  });

  it('default room - exists once, public, listed for everyone', async () => {
    const u = user('alice');
    const list = await a.deps.rpc.callOrThrow('rooms.list', { userId: u.userId });
    expect(list.filter((r) => r.roomId === 'general')).toEqual([
      expect.objectContaining({ visibility: 'public', myRole: null, memberCount: 0 }),
    ]);
    const jsm = await jetstreamManager(a.nc);
    const info = await jsm.streams.info(a.deps.subjects.streams.chat.name, { subjects_filter: a.deps.subjects.chat.roomMeta('general') });
    expect(info.state.subjects).toEqual({ [a.deps.subjects.chat.roomMeta('general')]: 1 });
  });

  it('create and join - a write on one replica is seen by the other', async () => {
    const owner = user('owner');
    const guest = user('客人');
    const created = await a.deps.rpc.callOrThrow('rooms.create', { ...owner, roomId: 'team', name: 'Team', visibility: 'public' });
    expect(created.room).toEqual(expect.objectContaining({ roomId: 'team', myRole: 'owner', memberCount: 1 }));
    // RPC is load-balanced; call each replica's handler by asking until both answered once.
    const joined = await b.deps.rpc.callOrThrow('rooms.join', { ...guest, roomId: 'team' });
    expect(joined.room.memberCount).toBe(2);
    expect(joined.position).toBeGreaterThan(created.position);
    for (let i = 0; i < 4; i++) {
      const mine = await a.deps.rpc.callOrThrow('rooms.userRooms', { userId: guest.userId });
      expect(mine.roomIds).toEqual(['team']);
    }
    expect(code(await a.deps.rpc.call('rooms.join', { ...guest, roomId: 'team' }))).toBe('ALREADY_MEMBER');
    expect(code(await a.deps.rpc.call('rooms.create', { ...guest, roomId: 'team', name: 'Again' }))).toBe('CONFLICT');
  });

  it('private room - listed only for members; joining it uninvited answers as for a missing room', async () => {
    const owner = user('p-owner');
    const other = user('p-other');
    await a.deps.rpc.callOrThrow('rooms.create', { ...owner, roomId: 'secret', name: 'Secret', visibility: 'private' });
    const seenByOwner = await a.deps.rpc.callOrThrow('rooms.list', { userId: owner.userId });
    const seenByOther = await b.deps.rpc.callOrThrow('rooms.list', { userId: other.userId });
    expect(seenByOwner.map((r) => r.roomId)).toContain('secret');
    expect(seenByOther.map((r) => r.roomId)).not.toContain('secret');
    expect(await b.deps.rpc.call('rooms.join', { ...other, roomId: 'secret' })).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'room "secret" does not exist' },
    });
  });

  it('member limit - exact under concurrent joins on both replicas', async () => {
    const owner = user('limit-owner');
    await a.deps.rpc.callOrThrow('rooms.create', { ...owner, roomId: 'small', name: 'Small', memberLimit: 5 });
    const joiners = Array.from({ length: 12 }, (_, i) => user(`j${i}`));
    const results = await Promise.all(
      joiners.map((u, i) => (i % 2 ? a : b).deps.rpc.call('rooms.join', { ...u, roomId: 'small' }, { timeoutMs: 15_000 })),
    );
    const codes = results.map(code).sort();
    expect(codes.filter((c) => c === 'OK')).toHaveLength(4);
    expect(codes.filter((c) => c !== 'OK').every((c) => c === 'ROOM_FULL' || c === 'CONFLICT')).toBe(true);
    const list = await a.deps.rpc.callOrThrow('rooms.list', { userId: owner.userId });
    expect(list.find((r) => r.roomId === 'small')?.memberCount).toBe(5);
  });

  it('post - idempotent by clientMsgId; the stream holds one message', async () => {
    const poster = user('poster');
    await a.deps.rpc.callOrThrow('rooms.join', { ...poster, roomId: 'general' });
    const req = { ...poster, roomId: 'general', clientMsgId: 'once-1', body: '第一条消息' };
    const first = await b.deps.rpc.callOrThrow('rooms.post', req);
    const again = await a.deps.rpc.callOrThrow('rooms.post', req);
    const third = await b.deps.rpc.callOrThrow('rooms.post', { ...req, body: 'a different body on retry' });
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ ...first, duplicate: true });
    expect(third).toEqual({ ...first, duplicate: true });
    const jsm = await jetstreamManager(a.nc);
    const subject = a.deps.subjects.chat.roomMessages('general');
    const stored = await jsm.streams.getMessage(a.deps.subjects.streams.chat.name, { last_by_subj: subject });
    expect(stored?.seq).toBe(first.position);
    const info = await jsm.streams.info(a.deps.subjects.streams.chat.name, { subjects_filter: subject });
    expect(info.state.subjects?.[subject]).toBe(1);
    expect(JSON.parse(new TextDecoder().decode(stored!.data))).toEqual(
      expect.objectContaining({
        type: 'MessagePosted',
        id: first.messageId,
        payload: expect.objectContaining({ body: '第一条消息', senderName: 'poster' }),
      }),
    );
  });

  it("message ids - remembered for MESSAGE_ID_TTL_HOURS (the bucket's max age), a bad value stops start-up", async () => {
    const jsm = await jetstreamManager(a.nc);
    const info = await jsm.streams.info(`KV_${a.deps.subjects.kv.messageIds}`);
    expect(info.config.max_age).toBe(24 * 3600 * 1e9);
    const env = await roomsTestEnv(namespace);
    expect(() => loadConfig(RoomsConfig, { ...env, MESSAGE_ID_TTL_HOURS: '0' })).toThrow(/MESSAGE_ID_TTL_HOURS/);
    expect(loadConfig(RoomsConfig, { ...env, MESSAGE_ID_TTL_HOURS: '168' }).MESSAGE_ID_TTL_HOURS).toBe(168);
  });

  it('post - refused for non-members, blocked words and bad requests; nothing appended', async () => {
    const outsider = user('outsider');
    const member = user('member');
    await b.deps.rpc.callOrThrow('rooms.join', { ...member, roomId: 'general' });
    const jsm = await jetstreamManager(a.nc);
    const before = (await jsm.streams.info(a.deps.subjects.streams.chat.name)).state.last_seq;
    expect(code(await a.deps.rpc.call('rooms.post', { ...outsider, roomId: 'general', clientMsgId: 'x1', body: 'hi' }))).toBe('NOT_MEMBER');
    expect(code(await a.deps.rpc.call('rooms.post', { ...member, roomId: 'nowhere', clientMsgId: 'x2', body: 'hi' }))).toBe('NOT_FOUND');
    expect(code(await a.deps.rpc.call('rooms.post', { ...member, roomId: 'general', clientMsgId: 'x3', body: '这是禁词啊' }))).toBe(
      'CONTENT_BLOCKED',
    );
    expect(code(await a.deps.rpc.call('rooms.post', { ...member, roomId: 'general', clientMsgId: 'has space', body: 'hi' }))).toBe(
      'BAD_REQUEST',
    );
    expect(code(await a.deps.rpc.call('rooms.post', { ...member, roomId: 'general', clientMsgId: 'x4', body: '' }))).toBe('BAD_REQUEST');
    expect((await jsm.streams.info(a.deps.subjects.streams.chat.name)).state.last_seq).toBe(before);
  });

  it('post - refused with UNAVAILABLE while moderation is down (fail closed)', async () => {
    const member = user('m2');
    await a.deps.rpc.callOrThrow('rooms.join', { ...member, roomId: 'general' });
    moderation?.unsubscribe();
    await a.nc.flush();
    expect(code(await a.deps.rpc.call('rooms.post', { ...member, roomId: 'general', clientMsgId: 'down-1', body: 'hello' }))).toBe(
      'UNAVAILABLE',
    );
    startModeration();
    await a.nc.flush();
    expect(code(await a.deps.rpc.call('rooms.post', { ...member, roomId: 'general', clientMsgId: 'down-1', body: 'hello' }))).toBe('OK');
  });

  it('message ids - a clientMsgId accepted again after its record expired is a new message with its own id', async () => {
    const poster = user('reuser');
    await a.deps.rpc.callOrThrow('rooms.create', { ...poster, roomId: 'reuse', name: 'Reuse' });
    const subject = a.deps.subjects.chat.roomMessages('reuse');
    const key = idempotencyKey('reuse', poster.userId, 'again-1');
    const req = { ...poster, roomId: 'reuse', clientMsgId: 'again-1', body: 'first' };
    const jsm = await jetstreamManager(a.nc);
    const chat = a.deps.subjects.streams.chat.name;
    const config = (await jsm.streams.info(chat)).config;
    // Both memories of the key run out: JetStream's duplicate window (shortened here, 120 s in
    // production) and the KV record (deleted here, as MESSAGE_ID_TTL_HOURS would expire it).
    await jsm.streams.update(chat, { ...config, duplicate_window: 1e9 });
    try {
      const first = await a.deps.rpc.callOrThrow('rooms.post', req);
      const kv = await messageIds();
      await eventually(async () => (await kv.get(key))?.value?.length);
      await kv.delete(key);
      // The stream has forgotten the key once an append with it is no longer answered as a
      // duplicate; this probe's expected sequence can never match, so it stores nothing.
      await eventually(async () => {
        await expect(a.deps.js.append(subject, {}, { msgId: key, expectLastSubjectSequence: 2 ** 40 })).rejects.toMatchObject({
          outcome: 'refused',
          reason: 'wrong-last-sequence',
        });
        return true;
      });
      const second = await b.deps.rpc.callOrThrow('rooms.post', { ...req, body: 'second' });
      expect(second.duplicate).toBe(false);
      expect(second.position).toBeGreaterThan(first.position);
      expect(second.messageId).not.toBe(first.messageId);
      const stored = await messagesOn(subject);
      expect(stored.map((e) => [e.payload.messageId, e.payload.body])).toEqual([
        [first.messageId, 'first'],
        [second.messageId, 'second'],
      ]);
    } finally {
      await jsm.streams.update(chat, config);
    }
  });

  // The defect: the send path writes no idempotency record of its own (a replica killed
  // right after its append would lose it); the recorder derives it from the stream, so a retry
  // after the duplicate window, served by the other replica, still gets the original.
  it('post - a retry after the duplicate window gets the original, from the record derived from the stream', async () => {
    const poster = user('crasher');
    await a.deps.rpc.callOrThrow('rooms.create', { ...poster, roomId: 'crash', name: 'Crash' });
    const subject = a.deps.subjects.chat.roomMessages('crash');
    const req = { ...poster, roomId: 'crash', clientMsgId: 'crash-1', body: 'once' };
    const jsm = await jetstreamManager(a.nc);
    const chat = a.deps.subjects.streams.chat.name;
    const config = (await jsm.streams.info(chat)).config;
    await jsm.streams.update(chat, { ...config, duplicate_window: 1e9 });
    try {
      const first = await a.deps.rpc.callOrThrow('rooms.post', req);
      // The server forgets message ids on a timer, not at once: a probe id stored right after
      // the send is accepted again only once ids of that age are forgotten.
      const js = jetstream(a.nc);
      const probe = { subject: a.deps.subjects.chat.roomMessages('crash-probe'), id: `probe-${randomUUID()}` };
      await js.publish(probe.subject, '{}', { msgID: probe.id });
      await eventually(async () => !(await js.publish(probe.subject, '{}', { msgID: probe.id })).duplicate, 10_000, 100);
      const retry = await b.deps.rpc.callOrThrow('rooms.post', req);
      expect(retry).toEqual({ ...first, duplicate: true });
      expect((await messagesOn(subject)).map((e) => e.payload.messageId)).toEqual([first.messageId]);
    } finally {
      await jsm.streams.update(chat, config);
    }
  });

  it('post - a retry inside the duplicate window, with no KV record yet, is answered with the original id', async () => {
    const poster = user('racer');
    await a.deps.rpc.callOrThrow('rooms.create', { ...poster, roomId: 'race', name: 'Race' });
    const key = idempotencyKey('race', poster.userId, 'race-1');
    const req = { ...poster, roomId: 'race', clientMsgId: 'race-1', body: 'once' };
    const first = await a.deps.rpc.callOrThrow('rooms.post', req);
    const kv = await messageIds();
    await eventually(async () => (await kv.get(key))?.value?.length);
    await kv.delete(key);
    // The retry's own append is dropped by JetStream (same Nats-Msg-Id) and acked as a duplicate.
    const again = await b.deps.rpc.callOrThrow('rooms.post', { ...req, body: 'changed' });
    expect(again).toEqual({ ...first, duplicate: true });
    // The send path writes no records (the recorder does, from the stream): nothing new was stored.
    expect((await messagesOn(a.deps.subjects.chat.roomMessages('race'))).map((e) => e.payload.messageId)).toEqual([first.messageId]);
  });

  it('post - a publish whose answer was lost is published again: one message, a normal ack and a KV record', async () => {
    const poster = user('flaky');
    await a.deps.rpc.callOrThrow('rooms.create', { ...poster, roomId: 'flaky', name: 'Flaky' });
    const subject = a.deps.subjects.chat.roomMessages('flaky');
    const broken = breakAppends(subject, ['stored']);
    try {
      const ack = await a.deps.rpc.callOrThrow('rooms.post', { ...poster, roomId: 'flaky', clientMsgId: 'lost-1', body: 'hello' });
      expect(broken.calls()).toBe(2);
      expect(ack.duplicate).toBe(false);
      const stored = await messagesOn(subject);
      expect(stored.map((e) => e.payload.messageId)).toEqual([ack.messageId]);
      const last = await a.deps.js.lastOnSubject(a.deps.subjects.streams.chat.name, subject);
      expect(ack.position).toBe(last!.seq);
      // Remembered, so a retry after the duplicate window is still answered with this message.
      const kv = await messageIds();
      const record = await eventually(async () => (await kv.get(idempotencyKey('flaky', poster.userId, 'lost-1')))?.value);
      expect(decodeJson(record)).toEqual({ messageId: ack.messageId, position: ack.position, time: ack.time });
    } finally {
      broken.restore();
    }
  });

  it('post - when every publish goes unanswered the send is UNAVAILABLE after a bounded number of attempts', async () => {
    const poster = user('down');
    await a.deps.rpc.callOrThrow('rooms.create', { ...poster, roomId: 'unreachable', name: 'Unreachable' });
    const subject = a.deps.subjects.chat.roomMessages('unreachable');
    const broken = breakAppends(subject, ['lost', 'lost', 'lost', 'lost', 'lost', 'lost']);
    try {
      const r = await a.deps.rpc.call(
        'rooms.post',
        { ...poster, roomId: 'unreachable', clientMsgId: 'never-1', body: 'hello' },
        { timeoutMs: 15_000 },
      );
      expect(code(r)).toBe('UNAVAILABLE');
      expect(broken.calls()).toBe(4);
      expect(await messagesOn(subject)).toEqual([]);
    } finally {
      broken.restore();
    }
  });

  it('rooms - events on a room subject that this version does not understand move its version; joins still work', async () => {
    const owner = user('evolving-owner');
    const created = await a.deps.rpc.callOrThrow('rooms.create', { ...owner, roomId: 'evolving', name: 'Evolving' });
    const subject = a.deps.subjects.chat.roomMeta('evolving');
    // What a newer replica might write during a rolling deploy, and a broken payload.
    const archived = {
      id: randomUUID(),
      type: 'RoomArchived',
      version: 1,
      time: new Date().toISOString(),
      actor: { kind: 'user', id: owner.userId },
      correlationId: randomUUID(),
      causationId: null,
      payload: { roomId: 'evolving', userId: randomUUID() },
    };
    const r1 = await a.deps.js.append(subject, archived, { msgId: archived.id, expectLastSubjectSequence: created.position });
    const r2 = await a.deps.js.append(
      subject,
      { type: 'MemberJoined', payload: { roomId: 'evolving' } },
      { msgId: randomUUID(), expectLastSubjectSequence: r1.seq },
    );
    await jetstream(a.nc).publish(subject, new TextEncoder().encode('not json'), { expect: { lastSubjectSequence: r2.seq } });
    const guests = [user('e1'), user('e2'), user('e3'), user('e4')];
    for (const [i, g] of guests.entries()) {
      const r = await (i % 2 ? a : b).deps.rpc.call('rooms.join', { ...g, roomId: 'evolving' }, { timeoutMs: 15_000 });
      expect(code(r)).toBe('OK');
    }
    const list = await a.deps.rpc.callOrThrow('rooms.list', { userId: owner.userId });
    expect(list.find((r) => r.roomId === 'evolving')?.memberCount).toBe(5);
  });

  it('rooms - a MemberJoined of a version, role or room this version cannot read joins nobody; the version still moves', async () => {
    const owner = user('strict-owner');
    const created = await a.deps.rpc.callOrThrow('rooms.create', { ...owner, roomId: 'strict', name: 'Strict' });
    const subject = a.deps.subjects.chat.roomMeta('strict');
    const joined = (payload: object, version = 1) => ({
      id: randomUUID(),
      type: 'MemberJoined',
      version,
      time: new Date().toISOString(),
      actor: { kind: 'user', id: owner.userId },
      correlationId: randomUUID(),
      causationId: null,
      payload,
    });
    const [later, king, elsewhere] = [user('later'), user('king'), user('elsewhere')];
    let position = created.position;
    for (const e of [
      joined({ roomId: 'strict', ...later, role: 'member' }, 2),
      joined({ roomId: 'strict', ...king, role: 'king' }),
      joined({ roomId: 'general', ...elsewhere, role: 'member' }),
    ]) {
      position = (await a.deps.js.append(subject, e, { msgId: e.id, expectLastSubjectSequence: position })).seq;
    }
    const guest = user('strict-guest');
    const join = await b.deps.rpc.call('rooms.join', { ...guest, roomId: 'strict' }, { timeoutMs: 15_000 });
    expect(join.ok && join.data.position).toBeGreaterThan(position);
    // Each replica's own copy, once it has applied the join.
    for (const replica of [a, b]) {
      const store = replica.app.get(RoomStore);
      await eventually(() => store.versionOf('strict') >= (join.ok ? join.data.position : Infinity));
      expect([...store.get('strict')!.members.keys()].sort()).toEqual([owner.userId, guest.userId].sort());
    }
  });

  it('rooms - a join whose append got no answer is UNAVAILABLE (it may have been applied), not INTERNAL', async () => {
    const owner = user('shaky-owner');
    const guest = user('shaky-guest');
    await a.deps.rpc.callOrThrow('rooms.create', { ...owner, roomId: 'shaky', name: 'Shaky' });
    const broken = breakAppends(a.deps.subjects.chat.roomMeta('shaky'), ['stored']);
    try {
      const r = await a.deps.rpc.call('rooms.join', { ...guest, roomId: 'shaky' });
      expect(r.ok ? 'OK' : r.error).toEqual(
        expect.objectContaining({ code: 'UNAVAILABLE', message: expect.stringMatching(/may or may not/) }),
      );
      // It had been applied: the retry says so.
      expect(code(await b.deps.rpc.call('rooms.join', { ...guest, roomId: 'shaky' }))).toBe('ALREADY_MEMBER');
    } finally {
      broken.restore();
    }
  });

  it('restart - a new replica replays every room and membership', async () => {
    const owner = user('restart-owner');
    await a.deps.rpc.callOrThrow('rooms.create', { ...owner, roomId: 'durable', name: 'Durable', visibility: 'private' });
    moderation?.unsubscribe();
    await Promise.all([a.close(), b.close()]);
    [a, b] = [await startRooms(namespace), await startRooms(namespace)];
    startModeration();
    const list = await a.deps.rpc.callOrThrow('rooms.list', { userId: owner.userId });
    expect(list.find((r) => r.roomId === 'durable')).toEqual(expect.objectContaining({ myRole: 'owner', visibility: 'private' }));
    expect(list.find((r) => r.roomId === 'small')?.memberCount).toBe(5);
    // Replayed past the events it does not understand: the room is still writable.
    expect(code(await a.deps.rpc.call('rooms.join', { ...user('after-restart'), roomId: 'evolving' }))).toBe('OK');
    const jsm = await jetstreamManager(a.nc);
    const info = await jsm.streams.info(a.deps.subjects.streams.chat.name, { subjects_filter: a.deps.subjects.chat.roomMeta('general') });
    expect(Object.values(info.state.subjects ?? {})[0]).toBeGreaterThanOrEqual(1);
    const created = info.state.subjects?.[a.deps.subjects.chat.roomMeta('general')] ?? 0;
    // general: 1 RoomCreated + the joins above; a restart must not create it again.
    expect(created).toBe(4);
  });
});
