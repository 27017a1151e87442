import {
  ChatError,
  Limits,
  MODERATION_USER,
  decodeChatEvent,
  directRoomId,
  type EventContext,
  type MessageView,
  type UserView,
} from '@chat/contracts';
import { evolve, type Room } from '../room/room';
import { decide, type RoomCommand } from '../room/room.decide';
import { decideMessage, decideModeratorDelete, excerptOf, replyRefOf, type MessageCommand } from './message.decide';

const u = (n: number, username: string) => ({ userId: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, username });
const owner = u(0xa, 'olga');
const admin = u(0xb, 'adam');
const author = u(0xc, 'carol');
const other = u(0xd, 'dave');
const outsider = u(0xe, 'erin');

const ctx: EventContext = {
  now: () => new Date('2026-01-02T03:04:05.000Z'),
  newId: () => 'event-id',
  actor: { kind: 'user', id: author.userId },
  correlationId: 'corr-1',
};

const R = 'lounge';
const M = '33333333-3333-4333-8333-333333333333';

function room(commands: RoomCommand[]): Room {
  let r: Room | null = null;
  let position = 0;
  for (const c of commands) for (const e of decide(r, c, ctx)) r = evolve(r, e, ++position);
  return r!;
}
const create = (over: Partial<Extract<RoomCommand, { type: 'CreateRoom' }>> = {}): RoomCommand => ({
  type: 'CreateRoom',
  roomId: R,
  name: 'Lounge',
  topic: '',
  visibility: 'public',
  postPolicy: 'members',
  memberLimit: 50,
  slowModeSeconds: 0,
  owner,
  ...over,
});
const join = (user: UserView): RoomCommand => ({ type: 'JoinRoom', roomId: R, user });
const staffed = (over: Partial<Extract<RoomCommand, { type: 'CreateRoom' }>> = {}, ...more: RoomCommand[]) =>
  room([
    create(over),
    ...(over.visibility === 'private'
      ? [admin, author, other].flatMap((x): RoomCommand[] => [
          { type: 'Invite', roomId: R, actor: owner, invitee: x },
          { type: 'AcceptInvitation', roomId: R, user: x },
        ])
      : [join(admin), join(author), join(other)]),
    { type: 'SetRole', roomId: R, actor: owner, userId: admin.userId, role: 'admin' },
    ...more,
  ]);

const message = (over: Partial<MessageView> = {}): MessageView => ({
  messageId: M,
  roomId: R,
  senderId: author.userId,
  senderName: author.username,
  clientMsgId: 'c1',
  body: 'hello @dave',
  replyTo: null,
  mentions: [],
  html: '',
  time: '2026-01-01T00:00:00.000Z',
  position: 5,
  editedAt: null,
  deleted: null,
  reactions: [],
  ...over,
});

const edit = (actor: UserView, body = 'new text @olga', roomId = R): MessageCommand => ({
  type: 'EditMessage',
  roomId,
  messageId: M,
  actor,
  body,
});
const del = (actor: UserView, serverAdmin = false, roomId = R): MessageCommand => ({
  type: 'DeleteMessage',
  roomId,
  messageId: M,
  actor,
  serverAdmin,
});
const react = (actor: UserView, emoji = '👍', roomId = R): MessageCommand => ({ type: 'AddReaction', roomId, messageId: M, actor, emoji });
const unreact = (actor: UserView, emoji = '👍', roomId = R): MessageCommand => ({
  type: 'RemoveReaction',
  roomId,
  messageId: M,
  actor,
  emoji,
});

function outcome(r: Room | null, cmd: MessageCommand, m: MessageView | null = message()) {
  try {
    const e = decideMessage(r, cmd, m, ctx);
    return { type: e.type, payload: e.payload as unknown };
  } catch (err) {
    if (!(err instanceof ChatError)) throw err;
    return { error: err.code };
  }
}
const errorOf = (r: Room | null, cmd: MessageCommand, m: MessageView | null = message()) =>
  (outcome(r, cmd, m) as { error?: string }).error;

describe('messages - edit', () => {
  it('the author edits: MessageEdited with the new text and its mentions worked out again', () => {
    expect(outcome(staffed(), edit(author, '@OLGA and @dave, and @erin'))).toEqual({
      type: 'MessageEdited',
      payload: {
        messageId: M,
        roomId: R,
        senderId: author.userId,
        body: '@OLGA and @dave, and @erin',
        mentions: [
          { userId: owner.userId, username: 'olga' },
          { userId: other.userId, username: 'dave' },
        ],
      },
    });
  });

  it('only the author: not the owner, an admin or another member (FORBIDDEN)', () => {
    for (const who of [owner, admin, other]) expect(errorOf(staffed(), edit(who))).toBe('FORBIDDEN');
  });

  it('where only admins may post, an author who is no longer an admin may not edit', () => {
    const r = staffed({ postPolicy: 'admins' });
    expect(errorOf(r, edit(author))).toBe('FORBIDDEN');
    expect(outcome(r, edit(admin), message({ senderId: admin.userId })).type).toBe('MessageEdited');
  });

  it('error order: room, membership, message, right, block', () => {
    // The room is checked before the message: an outsider of a private room learns nothing of it.
    expect(errorOf(staffed({ visibility: 'private' }), edit(outsider), null)).toBe('NOT_FOUND');
    expect(errorOf(null, edit(author))).toBe('NOT_FOUND');
    // A public room the author left: NOT_MEMBER, whether or not the message exists.
    const left = staffed({}, { type: 'LeaveRoom', roomId: R, user: author });
    expect(errorOf(left, edit(author))).toBe('NOT_MEMBER');
    expect(errorOf(left, edit(author), null)).toBe('NOT_MEMBER');
    // Then the message: unknown, deleted, of another room.
    expect(errorOf(staffed(), edit(author), null)).toBe('NOT_FOUND');
    const deleted = message({ deleted: { by: author, reason: 'author', time: '2026-01-01T00:00:01.000Z' }, body: '' });
    expect(errorOf(staffed(), edit(author), deleted)).toBe('NOT_FOUND');
    expect(errorOf(staffed(), edit(author), message({ roomId: 'elsewhere' }))).toBe('NOT_FOUND');
    // Then the right (not the author) before anything else.
    expect(errorOf(staffed({ postPolicy: 'admins' }), edit(other))).toBe('FORBIDDEN');
  });

  it('a conversation: the author edits unless either side blocks the other (BLOCKED)', () => {
    const id = directRoomId(author.userId, other.userId);
    const open: RoomCommand = { type: 'OpenConversation', roomId: id, actor: author, peer: other };
    const m = message({ roomId: id });
    expect(outcome(room([open]), edit(author, 'x', id), m).type).toBe('MessageEdited');
    expect(errorOf(room([open]), edit(other, 'x', id), m)).toBe('FORBIDDEN');
    expect(errorOf(room([open]), edit(outsider, 'x', id), m)).toBe('NOT_FOUND');
    const blocked = room([open, { type: 'Block', roomId: id, actor: other, peer: author }]);
    expect(errorOf(blocked, edit(author, 'x', id), m)).toBe('BLOCKED');
  });
});

describe('messages - delete', () => {
  it('the author deletes their own (reason author), also a plain member and the owner', () => {
    for (const who of [author, owner]) {
      const o = outcome(staffed(), del(who), message({ senderId: who.userId }));
      expect(o).toEqual({
        type: 'MessageDeleted',
        payload: { messageId: M, roomId: R, byUserId: who.userId, byUsername: who.username, reason: 'author' },
      });
    }
  });

  it("the owner and admins delete anyone's message (reason moderator); a plain member may not (FORBIDDEN)", () => {
    for (const who of [owner, admin])
      expect(outcome(staffed(), del(who)).payload).toEqual(expect.objectContaining({ reason: 'moderator' }));
    expect(errorOf(staffed(), del(other))).toBe('FORBIDDEN');
  });

  it('a server administrator deletes in a group room they can see, member or not (reason moderator)', () => {
    expect(outcome(staffed(), del(other, true)).payload).toEqual(expect.objectContaining({ reason: 'moderator', byUserId: other.userId }));
    expect(outcome(staffed(), del(outsider, true)).payload).toEqual(expect.objectContaining({ reason: 'moderator' }));
    // A private room they are not in stays invisible.
    expect(errorOf(staffed({ visibility: 'private' }), del(outsider, true))).toBe('NOT_FOUND');
    expect(outcome(staffed({ visibility: 'private' }), del(other, true)).type).toBe('MessageDeleted');
  });

  it('a non-member (not a server administrator): NOT_MEMBER in a public room, NOT_FOUND in a private one, invited or not', () => {
    expect(errorOf(staffed(), del(outsider))).toBe('NOT_MEMBER');
    expect(errorOf(staffed({ visibility: 'private' }), del(outsider))).toBe('NOT_FOUND');
    const invited = staffed({ visibility: 'private' }, { type: 'Invite', roomId: R, actor: owner, invitee: outsider });
    for (const c of [del(outsider), edit(outsider), react(outsider), unreact(outsider)]) expect(errorOf(invited, c)).toBe('NOT_FOUND');
  });

  it('an author who left a public room can no longer delete (NOT_MEMBER)', () => {
    expect(errorOf(staffed({}, { type: 'LeaveRoom', roomId: R, user: author }), del(author))).toBe('NOT_MEMBER');
  });

  it('deleting a deleted or unknown message: NOT_FOUND', () => {
    const deleted = message({ deleted: { by: author, reason: 'author', time: '2026-01-01T00:00:01.000Z' }, body: '' });
    expect(errorOf(staffed(), del(author), deleted)).toBe('NOT_FOUND');
    expect(errorOf(staffed(), del(owner), null)).toBe('NOT_FOUND');
  });

  it('in a conversation only the author deletes, even a server administrator may not delete the other side', () => {
    const id = directRoomId(author.userId, other.userId);
    const r = room([{ type: 'OpenConversation', roomId: id, actor: author, peer: other }]);
    const m = message({ roomId: id });
    expect(outcome(r, del(author, false, id), m).type).toBe('MessageDeleted');
    expect(errorOf(r, del(other, true, id), m)).toBe('FORBIDDEN');
    expect(errorOf(r, del(outsider, true, id), m)).toBe('NOT_FOUND');
    // Blocks do not stop the author from removing what they wrote.
    const blocked = room([
      { type: 'OpenConversation', roomId: id, actor: author, peer: other },
      { type: 'Block', roomId: id, actor: other, peer: author },
    ]);
    expect(outcome(blocked, del(author, false, id), m).type).toBe('MessageDeleted');
  });
});

describe('messages - reactions', () => {
  const reactions = (n: number) => Array.from({ length: n }, (_, i) => ({ emoji: `e${i}`, count: 1, userIds: [owner.userId] }));

  it('any member reacts, whatever the posting policy', () => {
    expect(outcome(staffed({ postPolicy: 'admins' }), react(other, '❤️'))).toEqual({
      type: 'ReactionAdded',
      payload: { messageId: M, roomId: R, userId: other.userId, username: 'dave', emoji: '❤️' },
    });
    expect(outcome(staffed(), unreact(other)).type).toBe('ReactionRemoved');
  });

  it(`at most ${Limits.reactionsPerMessageMax} different emoji: a new one beyond is FORBIDDEN, one already there is always allowed`, () => {
    const full = message({
      reactions: [...reactions(Limits.reactionsPerMessageMax - 1), { emoji: '👍', count: 1, userIds: [owner.userId] }],
    });
    expect(errorOf(staffed(), react(other, '🎉'), full)).toBe('FORBIDDEN');
    expect(outcome(staffed(), react(other, '👍'), full).type).toBe('ReactionAdded');
    expect(outcome(staffed(), react(other, '🎉'), message({ reactions: reactions(Limits.reactionsPerMessageMax - 1) })).type).toBe(
      'ReactionAdded',
    );
  });

  it('removing a reaction history does not list yet is still appended (its add may not be projected yet)', () => {
    expect(outcome(staffed(), unreact(other, '🎉'), message({ reactions: [] })).type).toBe('ReactionRemoved');
  });

  it('errors: room, membership, message (deleted too); BLOCKED in a blocked conversation for adds only', () => {
    expect(errorOf(staffed(), react(outsider))).toBe('NOT_MEMBER');
    expect(errorOf(staffed(), unreact(outsider))).toBe('NOT_MEMBER');
    expect(errorOf(staffed({ visibility: 'private' }), react(outsider))).toBe('NOT_FOUND');
    const deleted = message({ deleted: { by: author, reason: 'author', time: '2026-01-01T00:00:01.000Z' }, body: '' });
    expect(errorOf(staffed(), react(other), deleted)).toBe('NOT_FOUND');
    expect(errorOf(staffed(), unreact(other), deleted)).toBe('NOT_FOUND');
    const id = directRoomId(author.userId, other.userId);
    const blocked = room([
      { type: 'OpenConversation', roomId: id, actor: author, peer: other },
      { type: 'Block', roomId: id, actor: author, peer: other },
    ]);
    expect(errorOf(blocked, react(other, '👍', id), message({ roomId: id }))).toBe('BLOCKED');
    expect(outcome(blocked, unreact(other, '👍', id), message({ roomId: id })).type).toBe('ReactionRemoved');
  });
});

describe('messages - replies', () => {
  it('the snapshot: id, position, sender and the first code points of the text', () => {
    expect(replyRefOf(message({ body: 'short' }), R, M)).toEqual({
      messageId: M,
      position: 5,
      senderId: author.userId,
      senderName: 'carol',
      excerpt: 'short',
    });
  });

  it(`the excerpt is at most ${Limits.replyExcerptChars} code points, never half an emoji`, () => {
    const long = '😀'.repeat(Limits.replyExcerptChars + 10);
    expect(Array.from(excerptOf(long))).toHaveLength(Limits.replyExcerptChars);
    expect(excerptOf(long)).toBe('😀'.repeat(Limits.replyExcerptChars));
    expect(excerptOf('汉'.repeat(Limits.replyExcerptChars))).toBe('汉'.repeat(Limits.replyExcerptChars));
  });

  it('a missing, deleted or other room message: NOT_FOUND', () => {
    const deleted = message({ deleted: { by: author, reason: 'author', time: '2026-01-01T00:00:01.000Z' }, body: '' });
    for (const m of [null, deleted, message({ roomId: 'elsewhere' })])
      expect(() => replyRefOf(m, R, M)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('messages - what decideMessage writes, the chat decoder reads back', () => {
  it('every message change decodes to itself', () => {
    const r = staffed();
    const events = [edit(author), del(owner), react(other), unreact(other)].map((c) => decideMessage(r, c, message(), ctx));
    expect(events.map((e) => e.type)).toEqual(['MessageEdited', 'MessageDeleted', 'ReactionAdded', 'ReactionRemoved']);
    for (const e of events) expect(decodeChatEvent(JSON.parse(JSON.stringify(e)))).toEqual({ ok: true, event: e });
  });
});

describe('messages - deleted by the moderation service (rooms.moderatorDelete)', () => {
  const ref = { roomId: R, messageId: M };
  const codeOf = (f: () => unknown) => {
    try {
      f();
      return 'OK';
    } catch (err) {
      return err instanceof ChatError ? err.code : 'THROWN';
    }
  };

  it('any message of a live room, public or private, whoever wrote it: MessageDeleted by MODERATION_USER, reason moderator, readable by the decoder', () => {
    for (const r of [staffed(), staffed({ visibility: 'private' })]) {
      const e = decideModeratorDelete(r, ref, message({ senderId: owner.userId, senderName: owner.username }), ctx);
      expect(e).toMatchObject({
        type: 'MessageDeleted',
        payload: { messageId: M, roomId: R, byUserId: MODERATION_USER.userId, byUsername: 'moderation', reason: 'moderator' },
      });
      expect(decodeChatEvent(JSON.parse(JSON.stringify(e)))).toMatchObject({ ok: true });
    }
  });

  it('NOT_FOUND: no such room, a deleted room, an unknown or already deleted message, a message of another room', () => {
    const deletedRoom = staffed({}, { type: 'DeleteRoom', roomId: R, actor: owner });
    const deleted = message({ deleted: { by: author, reason: 'author', time: '2026-01-01T00:00:01.000Z' }, body: '' });
    expect(codeOf(() => decideModeratorDelete(null, ref, message(), ctx))).toBe('NOT_FOUND');
    expect(codeOf(() => decideModeratorDelete(deletedRoom, ref, message(), ctx))).toBe('NOT_FOUND');
    expect(codeOf(() => decideModeratorDelete(staffed(), ref, null, ctx))).toBe('NOT_FOUND');
    expect(codeOf(() => decideModeratorDelete(staffed(), ref, deleted, ctx))).toBe('NOT_FOUND');
    expect(codeOf(() => decideModeratorDelete(staffed(), ref, message({ roomId: 'elsewhere' }), ctx))).toBe('NOT_FOUND');
  });
});
