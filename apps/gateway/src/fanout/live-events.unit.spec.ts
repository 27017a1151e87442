import { roomEventTypes, usersToNotify, type RoomEvent } from '@chat/contracts';
import {
  positionOf,
  readRoomEvent,
  roomEventEffect,
  toModerationNews,
  toOwnPresence,
  toReadMarker,
  toRoomPresence,
  toTypingEvent,
  type RoomEventEffect,
} from './live-events';
import { WsLimits } from '@chat/contracts';

const U = '00000000-0000-4000-8000-0000000000a1';
const V = '00000000-0000-4000-8000-0000000000a2';
const B = '00000000-0000-4000-8000-0000000000b0';
const M = '00000000-0000-4000-8000-0000000000b1';
const S = '00000000-0000-4000-8000-0000000000c1';
const T = '2025-01-01T00:00:00.000Z';
const settings = { name: 'Team', topic: '', visibility: 'public', postPolicy: 'members', memberLimit: 10, slowModeSeconds: 5 } as const;
const byUser = { byUserId: B, byUsername: 'Boss' };
const by = { userId: B, username: 'Boss' };
const ann = { roomId: 'team', userId: U, username: 'Ann' };

const env = (type: string, payload: unknown, version = 1) => ({
  id: 'e1',
  type,
  version,
  time: T,
  actor: { kind: 'user', id: 'u' },
  correlationId: 'c',
  causationId: null,
  payload,
});

/** One example of every room event type (a new type without an example fails the coverage test). */
const examples: Record<RoomEvent['type'], unknown> = {
  RoomCreated: { ...settings, roomId: 'team', ownerId: U, ownerName: 'Ann' },
  MemberJoined: { ...ann, role: 'member' },
  MemberLeft: { ...ann, successorId: V, successorName: 'Vic' },
  MemberInvited: { ...ann, ...byUser, roomName: 'Team' },
  InvitationDeclined: ann,
  MemberKicked: { ...ann, ...byUser, reason: 'spam' },
  MemberBanned: { ...ann, ...byUser, reason: 'spam' },
  MemberUnbanned: { ...ann, ...byUser },
  MemberRoleChanged: { ...ann, ...byUser, role: 'admin' },
  OwnershipTransferred: { ...ann, ...byUser },
  RoomSettingsChanged: { ...settings, roomId: 'team', ...byUser, name: 'New' },
  RoomRetentionSet: { roomId: 'team', days: 30, ...byUser },
  RoomDeleted: { roomId: 'team', reason: 'owner', ...byUser },
  ConversationOpened: { roomId: 'dm-1', userAId: U, userAName: 'Ann', userBId: V, userBName: 'Vic', openedById: V, reason: 'message' },
  UserBlocked: { roomId: 'dm-1', blockerId: U, blockedId: V },
  UserUnblocked: { roomId: 'dm-1', blockerId: U, blockedId: V },
};
const versions: Partial<Record<RoomEvent['type'], number>> = { MemberLeft: 2, RoomCreated: 2, RoomSettingsChanged: 2 };

const effectOf = (type: RoomEvent['type'], payload: unknown = examples[type]): RoomEventEffect => {
  const e = readRoomEvent(env(type, payload, versions[type] ?? 1), 9);
  if (e === 'ignore' || e === 'malformed' || e.kind !== 'room') throw new Error(`not a room event: ${JSON.stringify(e)}`);
  return e.effect;
};
const personal = (e: RoomEventEffect) => Object.fromEntries(e.personal);

describe('live events - translation of stream events to client events', () => {
  it('reads the position header', () => {
    expect(positionOf('42')).toBe(42);
    expect(positionOf(undefined)).toBeNull();
    expect(positionOf('0')).toBeNull();
    expect(positionOf('4x')).toBeNull();
  });

  it('maps MessagePosted to a MessageView with the position', () => {
    const p = { messageId: M, roomId: 'general', senderId: S, senderName: 'Sam', clientMsgId: 'c1', body: 'hi' };
    // A live post is shown as posted: never edited, not deleted, no reactions yet.
    const fresh = { editedAt: null, deleted: null, reactions: [] };
    // v1 (before replies and mentions) reads as a post that answers nothing and names nobody.
    expect(readRoomEvent(env('MessagePosted', p), 7)).toEqual({
      kind: 'message',
      message: { ...p, replyTo: null, mentions: [], html: '<p>hi</p>', ...fresh, time: T, position: 7 },
    });
    const replyTo = { messageId: B, position: 3, senderId: U, senderName: 'Ann', excerpt: '明天开会吗' };
    const v2 = { ...p, body: '@Ann 好的', replyTo, mentions: [{ userId: U, username: 'Ann' }] };
    // html: the body rendered with its mentions (docs/protocol.md, Formatting), once per event.
    const html = `<p><span class="mention" data-user-id="${U}">@Ann</span> 好的</p>`;
    expect(readRoomEvent(env('MessagePosted', v2, 2), 8)).toEqual({
      kind: 'message',
      message: { ...v2, html, ...fresh, time: T, position: 8 },
    });
    expect(readRoomEvent(env('MessagePosted', { ...p, body: '**hi** <script>x</script> :tada:' }), 9)).toMatchObject({
      message: { html: '<p><strong>hi</strong> &lt;script&gt;x&lt;/script&gt; 🎉</p>' },
    });
    expect(readRoomEvent(env('MessagePosted', { ...p, body: 3 }), 7)).toBe('malformed');
    expect(readRoomEvent(env('MessagePosted', { ...v2, mentions: [{ userId: 'x' }] }, 2), 7)).toBe('malformed');
    expect(readRoomEvent('garbage', 7)).toBe('malformed');
  });

  it('message changes: edits, deletions and reactions reach the room, held back like posts by who made them', () => {
    const ref = { messageId: M, roomId: 'general' };
    const mentions = [{ userId: U, username: 'Ann' }];
    expect(readRoomEvent(env('MessageEdited', { ...ref, senderId: S, body: 'hi @Ann', mentions }), 9)).toEqual({
      kind: 'change',
      roomId: 'general',
      senderId: S,
      frame: {
        event: 'message.edited',
        data: { ...ref, body: 'hi @Ann', mentions, html: `<p>hi <span class="mention" data-user-id="${U}">@Ann</span></p>`, editedAt: T },
      },
    });
    expect(readRoomEvent(env('MessageDeleted', { ...ref, ...byUser, reason: 'moderator' }), 9)).toEqual({
      kind: 'change',
      roomId: 'general',
      senderId: B,
      frame: { event: 'message.deleted', data: { ...ref, by, reason: 'moderator', time: T } },
    });
    const reaction = { ...ref, userId: U, username: 'Ann', emoji: '👍' };
    expect(readRoomEvent(env('ReactionAdded', reaction), 9)).toEqual({
      kind: 'change',
      roomId: 'general',
      senderId: U,
      frame: { event: 'reaction.added', data: { ...reaction, time: T } },
    });
    expect(readRoomEvent(env('ReactionRemoved', reaction), 9)).toMatchObject({ senderId: U, frame: { event: 'reaction.removed' } });
    expect(readRoomEvent(env('MessageDeleted', { ...ref, ...byUser, reason: 'because' }), 9)).toBe('malformed');
    expect(readRoomEvent(env('MessageEdited', { ...ref, senderId: S, body: 'x' }), 9)).toBe('malformed');
  });

  it('a retention change reaches the room as room.retention', () => {
    const e = effectOf('RoomRetentionSet');
    expect(e.room).toEqual({ event: 'room.retention', data: { roomId: 'team', days: 30, by, time: T } });
    expect(e).toMatchObject({ follow: [], unfollow: [] });
    expect(effectOf('RoomRetentionSet', { roomId: 'team', days: null, ...byUser }).room).toMatchObject({ data: { days: null } });
  });

  it('translates every room event type, and each one reaches exactly the users usersToNotify names', () => {
    for (const type of roomEventTypes) {
      const effect = effectOf(type);
      expect(effect.roomId).toBe(type === 'ConversationOpened' || type.startsWith('User') ? 'dm-1' : 'team');
      const decoded = readRoomEvent(env(type, examples[type], versions[type] ?? 1), 9);
      const event = { type, payload: examples[type] } as RoomEvent;
      if (decoded === 'ignore' || decoded === 'malformed') throw new Error(type);
      // Every user the notifier forwards the event to has something to see in it.
      for (const u of usersToNotify(event)) expect([type, effect.personal.has(u)]).toEqual([type, true]);
    }
  });

  it('member events: the room and the user see the same event; joins follow, removals unfollow', () => {
    const joined = effectOf('MemberJoined');
    expect(joined.room).toEqual({ event: 'member.joined', data: { ...ann, role: 'member', time: T } });
    expect(personal(joined)).toEqual({ [U]: joined.room });
    expect(joined).toMatchObject({ follow: [U], unfollow: [] });

    const created = effectOf('RoomCreated');
    expect(created.room).toEqual({ event: 'member.joined', data: { ...ann, role: 'owner', time: T } });
    expect(created).toMatchObject({ follow: [U], unfollow: [] });
    expect(effectOf('RoomCreated', { ...settings, roomId: 'general', ownerId: null, ownerName: null })).toMatchObject({
      room: null,
      follow: [],
    });

    const left = effectOf('MemberLeft');
    expect(left.room).toEqual({ event: 'member.left', data: { ...ann, time: T, newOwner: { userId: V, username: 'Vic' } } });
    expect(left).toMatchObject({ follow: [], unfollow: [U] });
    expect(effectOf('MemberLeft', { ...ann, successorId: null, successorName: null }).room).toMatchObject({ data: { newOwner: null } });

    const kicked = effectOf('MemberKicked');
    expect(kicked.room).toEqual({ event: 'member.kicked', data: { ...ann, time: T, by, reason: 'spam' } });
    expect(kicked).toMatchObject({ unfollow: [U] });
    expect(personal(kicked)).toEqual({ [U]: kicked.room });
    expect(effectOf('MemberBanned')).toMatchObject({ room: { event: 'member.banned' }, unfollow: [U] });
    expect(effectOf('InvitationDeclined')).toMatchObject({
      room: { event: 'invitation.declined', data: { ...ann, time: T } },
      unfollow: [],
    });
  });

  it('an invitation: member.invited to the room, invitation.received (the InvitationView) to the invitee', () => {
    const e = effectOf('MemberInvited');
    expect(e.room).toEqual({ event: 'member.invited', data: { ...ann, time: T, by } });
    expect(personal(e)).toEqual({
      [U]: { event: 'invitation.received', data: { roomId: 'team', roomName: 'Team', invitedBy: by, time: T } },
    });
    expect(e).toMatchObject({ follow: [], unfollow: [] });
  });

  it('room changes: role, owner, settings, deletion (everyone stops following)', () => {
    expect(effectOf('MemberRoleChanged').room).toEqual({ event: 'member.role', data: { ...ann, time: T, role: 'admin', by } });
    expect(effectOf('OwnershipTransferred').room).toEqual({ event: 'room.owner', data: { ...ann, time: T, previous: by, by } });
    expect(effectOf('RoomSettingsChanged').room).toEqual({
      event: 'room.updated',
      data: { ...settings, name: 'New', roomId: 'team', by, time: T },
    });
    expect(effectOf('MemberUnbanned').room).toEqual({ event: 'member.unbanned', data: { ...ann, time: T, by } });
    const deleted = effectOf('RoomDeleted');
    expect(deleted.room).toEqual({ event: 'room.deleted', data: { roomId: 'team', by, reason: 'owner', time: T } });
    expect(deleted.unfollow).toBe('everyone');
  });

  it('conversations: each side sees the other as the peer and follows it; blocks reach only the blocker', () => {
    const opened = effectOf('ConversationOpened');
    expect(opened.room).toBeNull();
    expect(personal(opened)).toEqual({
      [U]: { event: 'conversation.opened', data: { roomId: 'dm-1', peer: { userId: V, username: 'Vic' }, time: T } },
      [V]: { event: 'conversation.opened', data: { roomId: 'dm-1', peer: { userId: U, username: 'Ann' }, time: T } },
    });
    expect(opened.follow).toEqual([U, V]);
    // Opened by U blocking V: V follows it (silently) but is not told.
    const byBlock = effectOf('ConversationOpened', { ...(examples.ConversationOpened as object), openedById: U, reason: 'block' });
    expect(Object.keys(personal(byBlock))).toEqual([U]);
    expect(byBlock.follow).toEqual([U, V]);
    // Opened by U's first message, held for review: only U is told; V learns of it from the approved message.
    const byHeld = effectOf('ConversationOpened', { ...(examples.ConversationOpened as object), openedById: U, reason: 'held' });
    expect(Object.keys(personal(byHeld))).toEqual([U]);
    expect(byHeld.follow).toEqual([U, V]);
    const blocked = effectOf('UserBlocked');
    expect(blocked.room).toBeNull();
    expect(personal(blocked)).toEqual({ [U]: { event: 'user.blocked', data: { roomId: 'dm-1', userId: V, time: T } } });
    expect(personal(effectOf('UserUnblocked'))).toEqual({ [U]: { event: 'user.unblocked', data: { roomId: 'dm-1', userId: V, time: T } } });
    // What the gateway needs to hold back posts while a block stands.
    expect(blocked.block).toEqual({ blockerId: U, blocked: true });
    expect(effectOf('UserUnblocked').block).toEqual({ blockerId: U, blocked: false });
    expect(effectOf('MemberKicked').block).toBeUndefined();
  });

  it('checks events whole: unknown types are ignored, a bad field or unreadable version is malformed', () => {
    expect(readRoomEvent(env('RoomRenamed', { roomId: 'team' }), 1)).toBe('ignore');
    expect(readRoomEvent(env('MemberJoined', { ...ann, role: 'king' }), 1)).toBe('malformed');
    expect(readRoomEvent(env('MemberJoined', { ...ann, role: 'member' }, 7), 1)).toBe('malformed');
    expect(readRoomEvent({ ...env('MemberJoined', { ...ann, role: 'member' }), time: 'yesterday' }, 1)).toBe('malformed');
    expect(readRoomEvent(env('RoomCreated', { ...settings, roomId: 'team', ownerId: 'nobody', ownerName: 'Ann' }), 1)).toBe('malformed');
    expect(readRoomEvent(null, 1)).toBe('malformed');
    // MemberLeft v1 (before successors) reads as a leave without a new owner.
    expect(readRoomEvent(env('MemberLeft', ann, 1), 1)).toMatchObject({ kind: 'room', effect: { room: { data: { newOwner: null } } } });
  });

  it('reads a room presence signal whole: its position and the PresenceView, nothing else', () => {
    const presence = { userId: U, username: 'Ann', status: 'away', text: 'in a meeting', lastSeen: T };
    expect(toRoomPresence({ position: 7, presence })).toEqual({ position: 7, view: presence });
    expect(toRoomPresence({ position: 7, presence: { ...presence, secret: 1 } })).toEqual({ position: 7, view: presence });
    expect(toRoomPresence({ position: 7, presence: { ...presence, text: null, status: 'offline' } })?.view.text).toBeNull();
    for (const bad of [
      null,
      [],
      { presence },
      { position: 0, presence },
      { position: 1.5, presence },
      { position: 7, presence: { ...presence, status: 'sleeping' } },
      { position: 7, presence: { ...presence, status: 'invisible' } },
      { position: 7, presence: { ...presence, userId: 'nobody' } },
      { position: 7, presence: { ...presence, text: '' } },
      { position: 7, presence: { ...presence, text: ' padded ' } },
      { position: 7, presence: { ...presence, text: 'two\nlines' } },
      { position: 7, presence: { ...presence, text: 'x'.repeat(101) } },
      { position: 7, presence: { ...presence, lastSeen: 'yesterday' } },
    ])
      expect(toRoomPresence(bad)).toBeNull();
    // Lengths are code points: 100 emoji are 200 UTF-16 units and still fine.
    expect(toRoomPresence({ position: 7, presence: { ...presence, text: '😀'.repeat(100) } })).not.toBeNull();
  });

  it('reads the own presence view whole', () => {
    const mine = { status: 'invisible', text: null, shown: 'offline', updatedAt: T };
    expect(toOwnPresence({ ...mine, extra: true })).toEqual(mine);
    for (const bad of [
      null,
      { ...mine, status: 'offline' },
      { ...mine, shown: 'invisible' },
      { ...mine, updatedAt: 1 },
      { status: 'busy' },
    ])
      expect(toOwnPresence(bad)).toBeNull();
  });

  it('turns a typing signal into the typing event (the typist connection stays inside)', () => {
    const signal = { roomId: 'team', userId: U, username: 'Ann', typing: true, connId: 'c1' };
    expect(toTypingEvent(signal)).toEqual({
      roomId: 'team',
      userId: U,
      username: 'Ann',
      typing: true,
      expiresInMs: WsLimits.typingExpiresMs,
    });
    for (const bad of [
      null,
      { ...signal, typing: 'yes' },
      { ...signal, roomId: 'A.B' },
      { ...signal, userId: 'x' },
      { ...signal, connId: '' },
    ])
      expect(toTypingEvent(bad)).toBeNull();
  });

  it('reads a moved read marker whole, passing on only its own fields', () => {
    const m = { roomId: 'dm-1', lastRead: 42, time: T };
    expect(toReadMarker(m)).toEqual(m);
    expect(toReadMarker({ ...m, secret: 1 })).toEqual(m);
    expect(toReadMarker({ ...m, lastRead: 0 })).toEqual({ ...m, lastRead: 0 });
    for (const bad of [null, [], 'x', { ...m, roomId: 'A.B' }, { ...m, lastRead: -1 }, { ...m, lastRead: 1.5 }, { ...m, lastRead: '42' }])
      expect(toReadMarker(bad)).toBeNull();
    expect(toReadMarker({ ...m, lastRead: 2 ** 53 })).toBeNull();
    expect(toReadMarker({ ...m, time: 'yesterday' })).toBeNull();
    expect(toReadMarker({ roomId: 'dm-1', lastRead: 42 })).toBeNull();
  });
});

describe('live events - moderation news (live.userModeration)', () => {
  const time = '2026-12-01T00:00:00.000Z';
  const u = { userId: '00000000-0000-4000-8000-000000000001', username: '小明' };
  const report = {
    reportId: 'r-1',
    kind: 'held',
    state: 'open',
    roomId: 'general',
    messageId: null,
    target: u,
    excerpt: null,
    reason: 'held by the filters',
    rule: 'links',
    held: { clientMsgId: 'c-1', body: 'see http://example.com' },
    by: null,
    time,
    position: 12,
    claimedBy: null,
    closedBy: null,
    closedAt: null,
    action: null,
    note: null,
  };
  const good = {
    'moderation.warned': { reason: 'be nice', by: u, rule: null, time },
    'moderation.muted': { muteId: 'm1', ...u, roomId: 'general', until: time, reason: 'flood', by: null, rule: 'strikes', time },
    'moderation.unmuted': { muteId: 'm1', roomId: null, reason: 'expired', time },
    'moderation.role': { role: 'moderator', by: u, time },
    'moderation.report': report,
  };

  it('every moderation.* event, checked whole, becomes its frame; unknown top-level fields are dropped', () => {
    for (const [event, data] of Object.entries(good)) {
      expect(toModerationNews({ event, data })).toEqual({ event, data });
      expect(toModerationNews({ event, data: { ...data, secret: 1 } })).toEqual({ event, data });
    }
  });

  it('anything else is null: other names, missing or mistyped fields, not an object', () => {
    expect(toModerationNews({ event: 'message.posted', data: good['moderation.warned'] })).toBeNull();
    expect(toModerationNews({ event: 'moderation.banned', data: good['moderation.warned'] })).toBeNull();
    expect(toModerationNews({ event: 'moderation.warned', data: { ...good['moderation.warned'], time: 'yesterday' } })).toBeNull();
    expect(toModerationNews({ event: 'moderation.unmuted', data: { ...good['moderation.unmuted'], reason: 'bored' } })).toBeNull();
    expect(toModerationNews({ event: 'moderation.role', data: { role: 'king', by: u, time } })).toBeNull();
    expect(toModerationNews({ event: 'moderation.report', data: { ...report, target: { userId: 'x', username: 'y' } } })).toBeNull();
    expect(toModerationNews({ event: 'moderation.warned' })).toBeNull();
    expect(toModerationNews({ event: 'toString', data: {} })).toBeNull();
    expect(toModerationNews(null)).toBeNull();
    expect(toModerationNews('moderation.warned')).toBeNull();
  });
});
