import {
  directRoomId,
  makeEvent,
  type ConversationView,
  type ErrorBody,
  type Event,
  type MemberLeftV1Payload,
  type RoomEvent,
  type RpcName,
} from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import { Projector } from './projection/projector';
import { startHistory, type HistoryUnderTest } from './testing/history-fixture';

/**
 * Rooms, roles, blocks and conversations as history sees them: events appended straight to the
 * CHAT stream (as rooms would), projected by the running service, read over its RPCs.
 */
describe('history service - room rules: posts the stream refuses, who may read, conversations', () => {
  let h: HistoryUnderTest;

  const [ann, bob, cy, dan]: string[] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const names: Record<string, string> = { [ann]: 'ann', [bob]: 'bob', [cy]: 'cy', [dan]: 'dan' };
  const by = (userId: string) => ({ byUserId: userId, byUsername: names[userId] });

  const room = <E extends RoomEvent>(type: E['type'], payload: E['payload'], actor = ann) =>
    h.f.room<E>(type, payload, actor, type === 'MemberLeft' ? 2 : 1);
  const create = (roomId: string, over: { visibility?: 'public' | 'private'; postPolicy?: 'members' | 'admins' } = {}) =>
    h.f.createRoom(roomId, ann, over);
  const join = (roomId: string, userId: string, role: 'member' | 'admin' = 'member') => h.f.join(roomId, userId, role);
  const kick = (roomId: string, userId: string) =>
    room('MemberKicked', { roomId, userId, username: names[userId], reason: 'spam', ...by(ann) });
  const openConversation = (a: string, b: string) => h.f.openConversation(a, b);
  const block = (type: 'UserBlocked' | 'UserUnblocked', blockerId: string, blockedId: string) =>
    room(type, { roomId: directRoomId(blockerId, blockedId), blockerId, blockedId }, blockerId);
  const post = (roomId: string, senderId: string, body: string) => h.f.post(roomId, senderId, body);

  const call = <N extends RpcName>(name: N, req: object) => h.svc.deps.rpc.call(name, req as never);
  /** The bodies of the room's newest page as the user reads it (the newest page waits for the room's posts to be projected). */
  async function bodies(roomId: string, userId = ann): Promise<string[]> {
    const r = await call('history.page', { roomId, userId });
    if (!r.ok) throw new Error(`history.page failed: ${JSON.stringify(r.error)}`);
    return (r.data as { messages: Array<{ body: string }> }).messages.map((m) => m.body).reverse();
  }
  async function refusal(roomId: string, userId: string, before?: number): Promise<ErrorBody | 'allowed'> {
    const r = await call('history.page', before === undefined ? { roomId, userId } : { roomId, userId, before });
    return r.ok ? 'allowed' : r.error;
  }
  const conversations = async (userId: string): Promise<ConversationView[]> => {
    const r = await call('history.conversations', { userId, username: names[userId] });
    if (!r.ok) throw new Error(`history.conversations failed: ${JSON.stringify(r.error)}`);
    return (r.data as { conversations: ConversationView[] }).conversations;
  };
  const dropped = async (name: string) => {
    const text = await (await fetch(`${h.svc.url}/metrics`)).text();
    return Number(new RegExp(`^history_dropped_posts_total\\{reason="${name}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
  };

  beforeAll(async () => {
    h = await startHistory('hr', {}, { names });
  });
  afterAll(() => h?.close());

  it('a post appended after its sender was kicked is not stored; one before the kick is', async () => {
    await create('kick-room');
    await join('kick-room', bob);
    await post('kick-room', bob, 'before the kick');
    await kick('kick-room', bob);
    const late = await post('kick-room', bob, 'after the kick');
    await post('kick-room', ann, 'the owner goes on');
    expect(await bodies('kick-room')).toEqual(['before the kick', 'the owner goes on']);
    const { rows } = await h.pool.query(`SELECT reason FROM "${h.schema}".dropped_messages WHERE position = $1`, [late.position]);
    expect(rows).toEqual([{ reason: 'not_member' }]);
    expect(await dropped('not_member')).toBeGreaterThanOrEqual(1);
  });

  it('the kick and the post in the same batch: judged in stream order', async () => {
    await create('batch-room');
    await join('batch-room', bob);
    await h.f.projected();
    const projector = h.svc.app.get(Projector);
    await projector.onModuleDestroy(); // the consumer stops: the next events are applied as one batch here
    try {
      const from = h.f.appended.length;
      await post('batch-room', bob, 'in the batch, before the kick');
      await kick('batch-room', bob);
      await post('batch-room', bob, 'in the batch, after the kick');
      await join('batch-room', bob);
      await post('batch-room', bob, 'in the batch, after the rejoin');
      const batch = h.f.appended.slice(from);
      const plan = await projector.applyBatch(batch);
      expect(plan.dropped.map((d) => [d.position, d.reason])).toEqual([[batch[2].position, 'not_member']]);
    } finally {
      await projector.onApplicationBootstrap(); // it redelivers the batch: a replay, nothing changes
    }
    expect(await bodies('batch-room')).toEqual(['in the batch, before the kick', 'in the batch, after the rejoin']);
  });

  it('announcement room (posting policy admins): a plain member’s post is not stored, the owner’s and an admin’s are', async () => {
    await create('news', { postPolicy: 'admins' });
    await join('news', bob);
    await join('news', cy, 'admin');
    await post('news', ann, 'from the owner');
    await post('news', bob, 'from a member');
    await post('news', cy, 'from an admin');
    expect(await bodies('news', bob)).toEqual(['from the owner', 'from an admin']);
  });

  it('a private message while either side blocks the other is not stored; after the unblock it is', async () => {
    const dm = directRoomId(ann, bob);
    await openConversation(ann, bob);
    await post(dm, ann, 'hi bob');
    await block('UserBlocked', bob, ann);
    await post(dm, ann, 'while bob blocks ann');
    await post(dm, bob, 'bob writes to the one he blocks');
    await block('UserUnblocked', bob, ann);
    await post(dm, ann, 'after the unblock');
    expect(await bodies(dm, bob)).toEqual(['hi bob', 'after the unblock']);
    expect(await dropped('blocked')).toBe(2);
  });

  it('history.page: a non-member of a private room or a conversation gets the very error of a room that does not exist', async () => {
    await create('secret', { visibility: 'private' });
    await post('secret', ann, 'hidden');
    const dm = directRoomId(ann, bob);
    const missing = await refusal('nowhere', cy);
    expect(missing).toEqual({ code: 'NOT_FOUND', message: 'room "nowhere" does not exist' });
    // The same body, the id aside, newest page or older: nothing tells a hidden room from a missing one.
    const asMissing = (roomId: string) => ({ code: 'NOT_FOUND', message: `room "${roomId}" does not exist` });
    for (const before of [undefined, 1000]) {
      expect(await refusal('secret', cy, before)).toEqual(asMissing('secret'));
      expect(await refusal(dm, cy, before)).toEqual(asMissing(dm));
      expect(await refusal('nowhere', cy, before)).toEqual(missing);
    }
    // Its participants read it.
    expect(await refusal(dm, bob)).toBe('allowed');
  });

  it('history.page: a non-member of a public room gets FORBIDDEN (join to read); after joining, the history', async () => {
    await create('square');
    await post('square', ann, 'public words');
    const r = await refusal('square', dan);
    expect(r).toEqual({ code: 'FORBIDDEN', message: 'you are not a member of room "square"; join it to read its history' });
    await join('square', dan);
    expect(await bodies('square', dan)).toEqual(['public words']);
  });

  it('history.page: a deleted room is NOT_FOUND for everyone, its members included, and its messages are gone', async () => {
    await create('doomed');
    await join('doomed', bob);
    await post('doomed', bob, 'soon gone');
    expect(await bodies('doomed', bob)).toEqual(['soon gone']);
    await room('RoomDeleted', { roomId: 'doomed', reason: 'owner', ...by(ann) });
    for (const userId of [ann, bob, cy])
      expect(await refusal('doomed', userId)).toEqual({ code: 'NOT_FOUND', message: 'room "doomed" does not exist' });
    const { rows } = await h.pool.query(`SELECT count(*)::int AS n FROM "${h.schema}".messages WHERE room_id = 'doomed'`);
    expect(rows[0].n).toBe(0);
  });

  it('MemberLeft v1 (the old shape) still projects: the leaver can no longer read a private room', async () => {
    await create('old-club', { visibility: 'private' });
    await join('old-club', cy);
    expect(await refusal('old-club', cy)).toBe('allowed');
    const v1 = makeEvent<Event<'MemberLeft', MemberLeftV1Payload>>(h.f.ctx(cy), 'MemberLeft', 1, {
      roomId: 'old-club',
      userId: cy,
      username: 'cy',
    });
    await h.f.append(h.s.chat.roomMeta('old-club'), v1);
    expect(await refusal('old-club', cy)).toEqual({ code: 'NOT_FOUND', message: 'room "old-club" does not exist' });
    const { rows } = await h.pool.query(`SELECT count(*)::int AS n FROM "${h.schema}".dead_letters`);
    expect(rows[0].n).toBe(0);
  });

  it('MemberLeft v2 with a successor: the successor becomes the owner', async () => {
    await create('handover');
    await join('handover', bob);
    await room('MemberLeft', { roomId: 'handover', userId: ann, username: 'ann', successorId: bob, successorName: 'bob' });
    await h.f.projected();
    const { rows } = await h.pool.query(`SELECT owner_id FROM "${h.schema}".rooms WHERE room_id = 'handover'`);
    expect(rows).toEqual([{ owner_id: bob }]);
  });

  it('history.conversations: both sides list the conversation with its newest message, newest first; others and empty ones are not listed', async () => {
    const annBob = directRoomId(ann, bob);
    const annCy = directRoomId(ann, cy);
    await openConversation(ann, cy);
    await post(annCy, cy, 'hello ann');
    const last = await post(annCy, ann, 'hello cy');
    // bob and dan: opened by a block, never written to.
    await openConversation(bob, dan);
    await block('UserBlocked', dan, bob);
    // cy and dan: someone else's conversation.
    await openConversation(cy, dan);
    await post(directRoomId(cy, dan), dan, 'not for ann');
    await h.f.projected();

    const annList = await conversations(ann);
    expect(annList.map((c) => [c.roomId, c.peer, c.lastMessage?.body])).toEqual([
      [annCy, { userId: cy, username: 'cy' }, 'hello cy'],
      [annBob, { userId: bob, username: 'bob' }, 'after the unblock'],
    ]);
    expect(annList[0].lastMessage).toMatchObject({ roomId: annCy, senderId: ann, senderName: 'ann', position: last.position });
    const cyList = await conversations(cy);
    expect(cyList.map((c) => [c.roomId, c.peer.username, c.lastMessage?.body])).toEqual([
      [directRoomId(cy, dan), 'dan', 'not for ann'],
      [annCy, 'ann', 'hello cy'],
    ]);
    expect((await conversations(bob)).map((c) => c.roomId)).toEqual([annBob]);
    expect((await conversations(dan)).map((c) => c.roomId)).toEqual([directRoomId(cy, dan)]);
  });
});
