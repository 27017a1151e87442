import type { NatsConnection } from '@nats-io/transport-node';
import {
  directRoomId,
  makeEvent,
  type ConversationOpened,
  type MemberInvited,
  type MemberJoined,
  type MemberKicked,
  type RoomDeleted,
  type RoomEvent,
  type Subjects,
  type UserBlocked,
  type UserUnblocked,
  type UserView,
} from '@chat/contracts';
import { ChatClient, wsUrlOf } from '@chat/client';
import { encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { WebSocket } from 'ws';
import { appendPost, registerMember, serviceCtx, startRoomsStandIns } from '../testing/rooms-stand-in';
import { closeGatewayTest, startTestGateway } from '../testing/test-gateway';

/**
 * Two gateways on one namespace of the real NATS, fed by the real CHAT stream (republish) and a
 * stand-in for the rooms service's notifier; the rooms service's answers (a user's room list)
 * come from a tiny responder, and room events are appended to the stream as the rooms service
 * would append them.
 */
describe('fan-out - by interest, across two gateways', () => {
  let gw1: RunningService;
  let gw2: RunningService;
  let nc: NatsConnection;
  let s: Subjects;
  const memberships = new Map<string, Set<string>>();
  const clients: ChatClient[] = [];

  const user = (name: string, rooms: string[]) => registerMember(gw1, memberships, name, rooms);
  const post = (roomId: string, sender: UserView, body: string) => appendPost(gw1, s, roomId, sender, body);

  /** `kicked` removed from the room by `by`, for spam. */
  const memberKicked = (roomId: string, kicked: UserView, by: UserView) =>
    makeEvent<MemberKicked>(serviceCtx(), 'MemberKicked', 1, {
      roomId,
      userId: kicked.userId,
      username: kicked.username,
      byUserId: by.userId,
      byUsername: by.username,
      reason: 'spam',
    });

  /** The conversation of `a` and `b` (user A the lower id, as the rooms service orders them) opened by `by`. */
  const conversationOpened = (roomId: string, a: UserView, b: UserView, by: UserView, reason: 'message' | 'block') => {
    const [first, second] = [a, b].sort((x, y) => (x.userId < y.userId ? -1 : 1));
    return makeEvent<ConversationOpened>(serviceCtx(), 'ConversationOpened', 1, {
      roomId,
      userAId: first.userId,
      userAName: first.username,
      userBId: second.userId,
      userBName: second.username,
      openedById: by.userId,
      reason,
    });
  };

  async function connect(gw: RunningService, token: string): Promise<ChatClient> {
    const c = await ChatClient.connect(wsUrlOf(gw.url), { WebSocket, reconnect: false });
    clients.push(c);
    await c.auth(token);
    return c;
  }

  async function append(e: RoomEvent) {
    return (await gw1.deps.js.append(s.chat.roomMeta(e.payload.roomId), e, { msgId: e.id })).seq;
  }

  /** A counter of the gateway's /metrics (summed over the label set given), 0 when absent. */
  async function metric(gw: RunningService, name: string, labels = ''): Promise<number> {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }
  const received = (gw: RunningService, source: 'room' | 'user' | 'reads') =>
    metric(gw, 'gateway_live_received_total', `source="${source}"`);

  beforeAll(async () => {
    ({ s, nc } = await startRoomsStandIns('fanout-test', memberships));
    gw1 = await startTestGateway(s.namespace, { GATEWAY_ID: 'gw-1' });
    gw2 = await startTestGateway(s.namespace, { GATEWAY_ID: 'gw-2' });
  });

  afterAll(() => closeGatewayTest({ clients, gateways: [gw1, gw2], nc, s }));

  it("interest - a gateway receives the rooms of its own users only: another gateway's room traffic never reaches it", async () => {
    const a = await user('Ada', ['x-room']);
    const b = await user('Bea', ['y-room']);
    const ca = await connect(gw1, a.token);
    const cb = await connect(gw2, b.token);
    const before = { gw1: await received(gw1, 'room'), gw2: await received(gw2, 'room') };
    for (let i = 0; i < 5; i++) await post('y-room', b.user, `y ${i}`);
    const x = await post('x-room', a.user, 'x marker');
    const y = await post('y-room', b.user, 'y marker');
    // Each gateway gets its room's events in stream order on one connection: once the last
    // one arrived, anything else published before it would have arrived too.
    await ca.waitFor('message.posted', (d) => d.messageId === x.messageId);
    await cb.waitFor('message.posted', (d) => d.messageId === y.messageId);
    expect((await received(gw1, 'room')) - before.gw1).toBe(1);
    expect((await received(gw2, 'room')) - before.gw2).toBe(6);
    expect(ca.events('message.posted').map((f) => f.data.roomId)).toEqual(['x-room']);
  });

  it('removal - a kicked member stops receiving the room at once on every gateway, and a racing post of theirs is not delivered', async () => {
    const k = await user('Kit', ['k-room', 'k-general']);
    const o = await user('Oz', ['k-room', 'k-general']);
    const boss = await user('Kboss', []);
    const k1 = await connect(gw1, k.token);
    const k2 = await connect(gw2, k.token);
    const co = await connect(gw2, o.token);
    const notDeliveredBefore = await metric(gw2, 'gateway_posts_not_delivered_total');
    const kickedAt = await append(memberKicked('k-room', k.user, boss.user));
    // Stored after the kick: a post that raced it (in the stream, but not a message), then a real one.
    const racing = await post('k-room', k.user, 'racing the kick');
    const after = await post('k-room', o.user, 'after the kick');
    const marker = await post('k-general', o.user, 'marker');
    for (const c of [k1, k2, co]) {
      const f = await c.waitForFrame('member.kicked', (d) => d.userId === k.user.userId);
      expect(f).toEqual(
        expect.objectContaining({ position: kickedAt, data: expect.objectContaining({ roomId: 'k-room', reason: 'spam' }) }),
      );
      expect(f.data.by).toEqual({ userId: boss.user.userId, username: 'Kboss' });
    }
    await co.waitFor('message.posted', (d) => d.messageId === after.messageId);
    for (const c of [k1, k2, co]) await c.waitFor('message.posted', (d) => d.messageId === marker.messageId);
    for (const c of [k1, k2]) expect(c.events('message.posted').map((f) => f.data.messageId)).toEqual([marker.messageId]);
    expect(co.events('message.posted').map((f) => f.data.messageId)).not.toContain(racing.messageId);
    expect(await metric(gw2, 'gateway_posts_not_delivered_total')).toBe(notDeliveredBefore + 1);
  });

  // A known limit (docs/architecture.md, "The stream decides"): a gateway knows only the
  // removals it saw while following the room, so one that starts following after a kick (a
  // member joining there between the kick and the racing post) still delivers that post live;
  // history does not keep it. `failing`: this test turns red the day it is fixed (NATS 2.11's
  // expected-last-subject-sequence on the room's .meta subject would let rooms refuse the post).
  it.failing('removal - a racing post of a kicked member is not delivered by a gateway that started following after the kick', async () => {
    const k = await user('Rik', ['r-room']);
    const boss = await user('Rboss', []);
    const kickedAt = await append(memberKicked('r-room', k.user, boss.user));
    expect(kickedAt).toBeGreaterThan(0);
    memberships.get(k.user.userId)!.delete('r-room');
    const late = await user('Lou', ['r-room']);
    const cl = await connect(gw2, late.token); // follows r-room from now on, after the kick
    const racing = await post('r-room', k.user, 'racing the kick');
    const real = await post('r-room', late.user, 'a real one');
    await cl.waitFor('message.posted', (d) => d.messageId === real.messageId);
    expect(cl.events('message.posted').map((f) => f.data.messageId)).not.toContain(racing.messageId);
  });

  it('invitation - reaches the invitee live on the other gateway; accepting makes their connections follow the room', async () => {
    const inviter = await user('Ivy', ['i-room']);
    const invitee = await user('Vin', []);
    const ci = await connect(gw1, inviter.token);
    const cv = await connect(gw2, invitee.token);
    const userEventsBefore = await received(gw1, 'user');
    const invited = makeEvent<MemberInvited>(serviceCtx(), 'MemberInvited', 1, {
      roomId: 'i-room',
      userId: invitee.user.userId,
      username: 'Vin',
      byUserId: inviter.user.userId,
      byUsername: 'Ivy',
      roomName: 'Ivy room',
    });
    const at = await append(invited);
    const inv = await cv.waitForFrame('invitation.received', (d) => d.roomId === 'i-room');
    expect(inv).toEqual({
      type: 'evt',
      event: 'invitation.received',
      position: at,
      data: { roomId: 'i-room', roomName: 'Ivy room', invitedBy: { userId: inviter.user.userId, username: 'Ivy' }, time: invited.time },
    });
    await ci.waitFor('member.invited', (d) => d.userId === invitee.user.userId);
    // The invitation is about the invitee only: the inviter's gateway got nothing on its user subjects.
    expect(await received(gw1, 'user')).toBe(userEventsBefore);

    const accepted = makeEvent<MemberJoined>(serviceCtx(), 'MemberJoined', 1, {
      roomId: 'i-room',
      userId: invitee.user.userId,
      username: 'Vin',
      role: 'member',
    });
    await append(accepted);
    await cv.waitFor('member.joined', (d) => d.userId === invitee.user.userId);
    const hello = await post('i-room', inviter.user, 'welcome');
    await cv.waitFor('message.posted', (d) => d.messageId === hello.messageId);
    expect(cv.events('member.joined')).toHaveLength(1);
    expect(cv.events('message.posted')).toHaveLength(1);
  });

  it('conversation - reaches the peer live on the other gateway (then its messages); a block reaches only the blocker', async () => {
    const a = await user('Cal', ['c-general']);
    const b = await user('Dee', ['c-general']);
    const ca = await connect(gw1, a.token);
    const cb = await connect(gw2, b.token);
    const roomId = directRoomId(a.user.userId, b.user.userId);
    const opened = conversationOpened(roomId, a.user, b.user, a.user, 'message');
    const at = await append(opened);
    const hi = await post(roomId, a.user, 'hi Dee');
    const fb = await cb.waitForFrame('conversation.opened', (d) => d.roomId === roomId);
    expect(fb).toEqual(expect.objectContaining({ position: at, data: { roomId, peer: a.user, time: opened.time } }));
    const fa = await ca.waitForFrame('conversation.opened', (d) => d.roomId === roomId);
    expect(fa.data.peer).toEqual(b.user);
    for (const c of [ca, cb]) await c.waitFor('message.posted', (d) => d.messageId === hi.messageId);

    const blocked = makeEvent<UserBlocked>(serviceCtx(), 'UserBlocked', 1, { roomId, blockerId: a.user.userId, blockedId: b.user.userId });
    await append(blocked);
    expect(await ca.waitFor('user.blocked', (d) => d.roomId === roomId)).toEqual({ roomId, userId: b.user.userId, time: blocked.time });
    const marker = await post('c-general', a.user, 'marker');
    await cb.waitFor('message.posted', (d) => d.messageId === marker.messageId);
    expect(cb.events('user.blocked')).toEqual([]);
    for (const c of [ca, cb]) expect(c.events('conversation.opened')).toHaveLength(1);
  });

  // A conversation opened by a block is followed by both sides' gateways, though only the
  // blocker is told: after an unblock the blocker's first message reaches the peer live.
  it('conversation opened by a block - after the unblock, the blocked side receives the next message live', async () => {
    const a = await user('Blo', ['b-general']);
    const b = await user('Bed', ['b-general']);
    await connect(gw1, a.token);
    const cb = await connect(gw2, b.token);
    const roomId = directRoomId(a.user.userId, b.user.userId);
    await append(conversationOpened(roomId, a.user, b.user, a.user, 'block'));
    await append(makeEvent<UserBlocked>(serviceCtx(), 'UserBlocked', 1, { roomId, blockerId: a.user.userId, blockedId: b.user.userId }));
    await append(
      makeEvent<UserUnblocked>(serviceCtx(), 'UserUnblocked', 1, { roomId, blockerId: a.user.userId, blockedId: b.user.userId }),
    );
    // Let the notifier's copies reach gw2 before the message.
    const m1 = await post('b-general', a.user, 'marker 1');
    await cb.waitFor('message.posted', (d) => d.messageId === m1.messageId);
    const hi = await post(roomId, a.user, 'hi again');
    // Live, or read back by the follow the notifier's copy starts (whichever comes first): the
    // notifier's path is longer than the room's, so a marker cannot order them.
    await cb.waitFor('message.posted', (d) => d.messageId === hi.messageId);
  });

  // The stream decides: a post stored after a block is not a message (history drops it), and the
  // gateways that saw the block do not deliver it either.
  it('block - a message of the blocked user stored after the block is not delivered to the blocker', async () => {
    const a = await user('Bk1', ['bk-general']);
    const b = await user('Bk2', ['bk-general']);
    const roomId = directRoomId(a.user.userId, b.user.userId);
    memberships.get(a.user.userId)!.add(roomId);
    memberships.get(b.user.userId)!.add(roomId);
    await append(conversationOpened(roomId, a.user, b.user, b.user, 'message'));
    const ca = await connect(gw1, a.token);
    await connect(gw2, b.token);
    await append(makeEvent<UserBlocked>(serviceCtx(), 'UserBlocked', 1, { roomId, blockerId: a.user.userId, blockedId: b.user.userId }));
    const racing = await post(roomId, b.user, 'raced the block');
    const marker = await post('bk-general', b.user, 'marker');
    await ca.waitFor('user.blocked', (d) => d.roomId === roomId);
    await ca.waitFor('message.posted', (d) => d.messageId === marker.messageId);
    expect(ca.events('message.posted').map((f) => f.data.messageId)).not.toContain(racing.messageId);
  });

  it('read markers - a moved marker reaches every connection of its user on every gateway, malformed ones are dropped', async () => {
    const r = await user('Rdr', ['rm-room']);
    const other = await user('Oth', ['rm-room']);
    const [c1, c2, c3] = [await connect(gw1, r.token), await connect(gw1, r.token), await connect(gw2, r.token)];
    const co = await connect(gw2, other.token);
    const droppedBefore = await metric(gw1, 'gateway_live_dropped_total', 'subject="live.reads"');
    const subject = s.live.readMarkers(r.user.userId);
    nc.publish(subject, encodeJson({ roomId: 'rm-room', lastRead: 'ten', time: new Date().toISOString() }));
    nc.publish(subject, encodeJson({ roomId: 'Not A Room', lastRead: 10, time: new Date().toISOString() }));
    const marker = { roomId: 'rm-room', lastRead: 12, time: new Date().toISOString() };
    // An extra field of the publisher's is not passed on.
    nc.publish(subject, encodeJson({ ...marker, extra: 'x' }));
    for (const c of [c1, c2, c3]) expect(await c.waitFor('read.marker', (d) => d.roomId === 'rm-room')).toEqual(marker);
    const frame = c1.events('read.marker')[0];
    expect(frame.position).toBe(12);
    // Each connection gets it once (one subscription per user per gateway, not per connection).
    for (const c of [c1, c2, c3]) expect(c.events('read.marker')).toHaveLength(1);
    // Another user's marker is theirs alone.
    const post2 = await post('rm-room', r.user, 'marker for the other');
    await co.waitFor('message.posted', (d) => d.messageId === post2.messageId);
    expect(co.events('read.marker')).toHaveLength(0);
    expect(await metric(gw1, 'gateway_live_dropped_total', 'subject="live.reads"')).toBe(droppedBefore + 2);
    expect(await received(gw1, 'reads')).toBeGreaterThanOrEqual(3);
  });

  it('deletion - every member gets room.deleted, then nothing more of the room', async () => {
    const d = await user('Del', ['d-room', 'd-general']);
    const e = await user('Eve', ['d-room', 'd-general']);
    const cd = await connect(gw1, d.token);
    const ce = await connect(gw2, e.token);
    const deleted = makeEvent<RoomDeleted>(serviceCtx(), 'RoomDeleted', 1, {
      roomId: 'd-room',
      reason: 'owner',
      byUserId: d.user.userId,
      byUsername: 'Del',
    });
    await append(deleted);
    const late = await post('d-room', d.user, 'after the end');
    const marker = await post('d-general', d.user, 'marker');
    for (const c of [cd, ce]) {
      expect(await c.waitFor('room.deleted', (x) => x.roomId === 'd-room')).toEqual({
        roomId: 'd-room',
        by: d.user,
        reason: 'owner',
        time: deleted.time,
      });
      await c.waitFor('message.posted', (x) => x.messageId === marker.messageId);
      expect(c.events('message.posted').map((f) => f.data.messageId)).not.toContain(late.messageId);
    }
  });
});
