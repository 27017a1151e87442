// The refusals of every WebSocket operation (operations-authz.e2e.spec.ts), one entry per op of
// the operation table: a Record over WsOp, so an op added to libs/contracts/src/ws/operations.ts
// without a case here does not compile (and the spec fails for it at run time too).
import type { ErrorCode, WsOp } from '@chat/contracts';

/** The people of the test world (see the spec's beforeAll). */
export type Who =
  | 'owner' // owns the public room, the private room and the admins-only room; a party to the conversation
  | 'admin' // an admin of the public room
  | 'member' // a plain member of the public room and of the admins-only room; filed the report
  | 'victim' // a member of the public and the private room; wrote the messages attacked; the conversation's other party; blocks the outsider
  | 'outsider' // a member of nothing
  | 'banned' // banned from the public room
  | 'muted' // a member of the public room, muted there
  | 'invitee'; // invited to the private room, not yet a member

export interface World {
  publicRoom: string;
  privateRoom: string;
  adminsOnlyRoom: string;
  /** The conversation of owner and victim. */
  conversation: string;
  /** The victim's message in the public room, in the private room, and in the conversation. */
  publicMessage: string;
  privateMessage: string;
  conversationMessage: string;
  /** The member's report of the victim's public message. */
  reportId: string;
  userId: Record<Who, string>;
  username: Record<Who, string>;
  /** A token of the victim's real session (for `auth` on someone else's connection). */
  victimToken: string;
  /** The victim's access token with the outsider's signature (the payload names the victim). */
  forgedToken: string;
}

export interface Attempt {
  who: Who;
  data?: Record<string, unknown>;
  /** The documented refusal (docs/protocol.md), or the refusals it allows. */
  code: ErrorCode | ErrorCode[];
  why: string;
  /** Sent on a new, unauthenticated connection (auth). */
  fresh?: true;
}

export interface Case {
  /** The refusals. Empty only for ops every user may do on their own account (`open` says why). */
  attempts: (w: World) => Attempt[];
  open?: string;
}

const none = (open: string): Case => ({ attempts: () => [], open });
const NO_SUCH_USER = '0d6f8b7e-3c1a-4e59-9b2d-7a4c1e0f5b36';

export const cases: Record<WsOp, Case> = {
  auth: {
    attempts: (w) => [
      {
        who: 'outsider',
        fresh: true,
        data: { token: w.forgedToken },
        code: 'UNAUTHENTICATED',
        why: "the victim's token re-signed by someone else",
      },
      { who: 'outsider', data: { token: w.victimToken }, code: 'FORBIDDEN', why: "the victim's real token on the outsider's connection" },
    ],
  },
  ping: none('answers anyone, names nothing'),
  'rooms.list': none('lists public rooms and the caller’s own (the private room is checked absent)'),
  'room.create': {
    attempts: (w) => [
      { who: 'outsider', data: { roomId: w.publicRoom, name: 'mine now' }, code: 'CONFLICT', why: "an existing room's id" },
      { who: 'outsider', data: { roomId: w.privateRoom, name: 'mine now' }, code: 'CONFLICT', why: "a hidden room's id" },
      { who: 'outsider', data: { roomId: w.conversation, name: 'mine now' }, code: 'BAD_REQUEST', why: "the conversation's id" },
    ],
  },
  'room.join': {
    attempts: (w) => [
      { who: 'banned', data: { roomId: w.publicRoom }, code: 'BANNED', why: 'banned' },
      { who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'private, not invited' },
      { who: 'outsider', data: { roomId: w.conversation }, code: 'NOT_FOUND', why: "someone else's conversation" },
    ],
  },
  'room.leave': {
    attempts: (w) => [
      { who: 'outsider', data: { roomId: w.publicRoom }, code: 'NOT_MEMBER', why: 'not a member' },
      { who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'outsider', data: { roomId: w.conversation }, code: 'NOT_FOUND', why: "someone else's conversation" },
    ],
  },
  'room.directory': none('lists public rooms (the private room is checked absent)'),
  'room.mine': none("the caller's own rooms"),
  'room.details': {
    attempts: (w) => [
      { who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'outsider', data: { roomId: w.conversation }, code: 'NOT_FOUND', why: "someone else's conversation" },
    ],
  },
  'room.members': {
    attempts: (w) => [
      { who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'invitee', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'invited, not a member' },
      { who: 'outsider', data: { roomId: w.conversation }, code: 'NOT_FOUND', why: "someone else's conversation" },
    ],
  },
  'room.invite': {
    attempts: (w) => [
      { who: 'member', data: { roomId: w.publicRoom, username: w.username.outsider }, code: 'FORBIDDEN', why: 'a plain member' },
      { who: 'outsider', data: { roomId: w.publicRoom, username: w.username.outsider }, code: 'FORBIDDEN', why: 'not a member' },
      { who: 'invitee', data: { roomId: w.privateRoom, username: w.username.outsider }, code: 'FORBIDDEN', why: 'an invitee' },
      { who: 'outsider', data: { roomId: w.privateRoom, username: w.username.outsider }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'victim', data: { roomId: w.conversation, username: w.username.outsider }, code: 'NOT_FOUND', why: 'a conversation' },
    ],
  },
  'invitation.accept': {
    attempts: (w) => [
      { who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: "the invitee's invitation" },
      { who: 'outsider', data: { roomId: w.conversation }, code: 'NOT_FOUND', why: 'a conversation' },
    ],
  },
  'invitation.decline': {
    attempts: (w) => [{ who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: "the invitee's invitation" }],
  },
  'invitation.list': none("the caller's own invitations"),
  'room.kick': {
    attempts: (w) => sanction(w),
  },
  'room.ban': {
    attempts: (w) => sanction(w),
  },
  'room.unban': {
    attempts: (w) => [
      { who: 'member', data: { roomId: w.publicRoom, userId: w.userId.banned }, code: 'FORBIDDEN', why: 'a plain member' },
      { who: 'banned', data: { roomId: w.publicRoom, userId: w.userId.banned }, code: 'FORBIDDEN', why: 'the banned user themselves' },
      { who: 'outsider', data: { roomId: w.privateRoom, userId: w.userId.victim }, code: 'NOT_FOUND', why: 'hidden' },
    ],
  },
  'room.bans': {
    attempts: (w) => [
      { who: 'member', data: { roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'a plain member' },
      { who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'victim', data: { roomId: w.conversation }, code: 'NOT_FOUND', why: 'a conversation' },
    ],
  },
  'room.update': {
    attempts: (w) => [
      { who: 'member', data: { roomId: w.publicRoom, name: 'taken over' }, code: 'FORBIDDEN', why: 'a plain member' },
      { who: 'outsider', data: { roomId: w.publicRoom, topic: 'taken over' }, code: 'FORBIDDEN', why: 'not a member' },
      { who: 'outsider', data: { roomId: w.privateRoom, visibility: 'public' }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'victim', data: { roomId: w.conversation, name: 'x' }, code: 'NOT_FOUND', why: 'a conversation' },
    ],
  },
  'room.setRole': {
    attempts: (w) => [
      {
        who: 'admin',
        data: { roomId: w.publicRoom, userId: w.userId.member, role: 'admin' },
        code: 'FORBIDDEN',
        why: 'an admin (owner only)',
      },
      {
        who: 'member',
        data: { roomId: w.publicRoom, userId: w.userId.member, role: 'admin' },
        code: 'FORBIDDEN',
        why: 'promoting oneself',
      },
      {
        who: 'admin',
        data: { roomId: w.publicRoom, userId: w.userId.owner, role: 'member' },
        code: 'FORBIDDEN',
        why: 'demoting the owner',
      },
      { who: 'outsider', data: { roomId: w.privateRoom, userId: w.userId.outsider, role: 'admin' }, code: 'NOT_FOUND', why: 'hidden' },
    ],
  },
  'room.transfer': {
    attempts: (w) => [
      { who: 'admin', data: { roomId: w.publicRoom, userId: w.userId.admin }, code: 'FORBIDDEN', why: 'an admin (owner only)' },
      { who: 'member', data: { roomId: w.publicRoom, userId: w.userId.member }, code: 'FORBIDDEN', why: 'a plain member' },
      { who: 'outsider', data: { roomId: w.privateRoom, userId: w.userId.outsider }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'victim', data: { roomId: w.conversation, userId: w.userId.victim }, code: 'NOT_FOUND', why: 'a conversation' },
    ],
  },
  'room.delete': {
    attempts: (w) => [
      { who: 'admin', data: { roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'an admin (owner only)' },
      { who: 'member', data: { roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'a plain member' },
      { who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'victim', data: { roomId: w.conversation }, code: 'NOT_FOUND', why: 'a conversation' },
    ],
  },
  'message.send': {
    attempts: (w) => [
      { who: 'outsider', data: { roomId: w.publicRoom, clientMsgId: 'a1', body: 'x' }, code: 'NOT_MEMBER', why: 'not a member' },
      { who: 'banned', data: { roomId: w.publicRoom, clientMsgId: 'a2', body: 'x' }, code: 'NOT_MEMBER', why: 'banned' },
      { who: 'outsider', data: { roomId: w.privateRoom, clientMsgId: 'a3', body: 'x' }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'invitee', data: { roomId: w.privateRoom, clientMsgId: 'a4', body: 'x' }, code: 'NOT_FOUND', why: 'invited, not a member' },
      {
        who: 'outsider',
        data: { roomId: w.conversation, clientMsgId: 'a5', body: 'x' },
        code: 'NOT_FOUND',
        why: "someone else's conversation",
      },
      { who: 'member', data: { roomId: w.adminsOnlyRoom, clientMsgId: 'a6', body: 'x' }, code: 'FORBIDDEN', why: 'postPolicy admins' },
      { who: 'muted', data: { roomId: w.publicRoom, clientMsgId: 'a7', body: 'x' }, code: 'MUTED', why: 'muted in the room' },
      {
        who: 'member',
        data: { roomId: w.publicRoom, clientMsgId: 'a8', body: 'x', replyTo: w.privateMessage },
        code: 'NOT_FOUND',
        why: 'replyTo a message of a hidden room',
      },
    ],
  },
  'dm.send': {
    attempts: (w) => [
      {
        who: 'outsider',
        data: { username: w.username.victim, clientMsgId: 'd1', body: 'x' },
        code: 'BLOCKED',
        why: 'blocked by the recipient',
      },
      {
        who: 'owner',
        data: { username: w.username.victim, clientMsgId: 'd2', body: 'x', replyTo: w.privateMessage },
        code: 'NOT_FOUND',
        why: 'replyTo a message of another room',
      },
    ],
  },
  'dm.list': none("the caller's own conversations"),
  'user.block': {
    attempts: () => [{ who: 'outsider', data: { userId: NO_SUCH_USER }, code: 'NOT_FOUND', why: 'no such user' }],
    open: 'any user blocks another (a forged id is refused)',
  },
  'user.unblock': {
    attempts: () => [{ who: 'outsider', data: { userId: NO_SUCH_USER }, code: 'NOT_FOUND', why: 'no such user' }],
    open: "the caller's own blocks",
  },
  'user.blocks': none("the caller's own blocks"),
  'message.edit': {
    attempts: (w) => [
      {
        who: 'member',
        data: { roomId: w.publicRoom, messageId: w.publicMessage, body: 'x' },
        code: 'FORBIDDEN',
        why: "another member's message",
      },
      {
        who: 'owner',
        data: { roomId: w.publicRoom, messageId: w.publicMessage, body: 'x' },
        code: 'FORBIDDEN',
        why: 'the owner, not the author',
      },
      { who: 'outsider', data: { roomId: w.publicRoom, messageId: w.publicMessage, body: 'x' }, code: 'NOT_MEMBER', why: 'not a member' },
      { who: 'outsider', data: { roomId: w.privateRoom, messageId: w.privateMessage, body: 'x' }, code: 'NOT_FOUND', why: 'hidden' },
      {
        who: 'member',
        data: { roomId: w.publicRoom, messageId: w.privateMessage, body: 'x' },
        code: 'NOT_FOUND',
        why: 'a message of another room',
      },
      {
        who: 'owner',
        data: { roomId: w.conversation, messageId: w.conversationMessage, body: 'x' },
        code: 'FORBIDDEN',
        why: "the other party's message",
      },
    ],
  },
  'message.delete': {
    attempts: (w) => [
      { who: 'member', data: { roomId: w.publicRoom, messageId: w.publicMessage }, code: 'FORBIDDEN', why: "another member's message" },
      { who: 'outsider', data: { roomId: w.publicRoom, messageId: w.publicMessage }, code: 'NOT_MEMBER', why: 'not a member' },
      { who: 'outsider', data: { roomId: w.privateRoom, messageId: w.privateMessage }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'admin', data: { roomId: w.publicRoom, messageId: w.privateMessage }, code: 'NOT_FOUND', why: 'a message of another room' },
      {
        who: 'owner',
        data: { roomId: w.conversation, messageId: w.conversationMessage },
        code: 'FORBIDDEN',
        why: "the other party's message",
      },
    ],
  },
  'reaction.add': { attempts: (w) => reaction(w) },
  'reaction.remove': { attempts: (w) => reaction(w) },
  'room.setRetention': {
    attempts: (w) => [
      { who: 'member', data: { roomId: w.publicRoom, days: 1 }, code: 'FORBIDDEN', why: 'a plain member' },
      { who: 'outsider', data: { roomId: w.publicRoom, days: 1 }, code: 'NOT_MEMBER', why: 'not a member' },
      { who: 'outsider', data: { roomId: w.privateRoom, days: 1 }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'outsider', data: { roomId: w.conversation, days: 1 }, code: 'NOT_FOUND', why: "someone else's conversation" },
    ],
  },
  'history.page': {
    attempts: (w) => [
      { who: 'outsider', data: { roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'not a member (join to read)' },
      { who: 'banned', data: { roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'banned' },
      { who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'invitee', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'invited, not a member' },
      { who: 'outsider', data: { roomId: w.conversation }, code: 'NOT_FOUND', why: "someone else's conversation" },
    ],
  },
  'message.search': {
    attempts: (w) => [
      { who: 'outsider', data: { query: 'secret', roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'not a member' },
      { who: 'outsider', data: { query: 'secret', roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'outsider', data: { query: 'secret', roomId: w.conversation }, code: 'NOT_FOUND', why: "someone else's conversation" },
    ],
    open: 'over what the caller may read (a search without roomId is checked to find nothing of the hidden rooms)',
  },
  'read.mark': {
    attempts: (w) => [
      { who: 'outsider', data: { roomId: w.publicRoom, position: 1 }, code: 'FORBIDDEN', why: 'not a member' },
      { who: 'outsider', data: { roomId: w.privateRoom, position: 1 }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'outsider', data: { roomId: w.conversation, position: 1 }, code: 'NOT_FOUND', why: "someone else's conversation" },
    ],
  },
  'read.state': none("the caller's own read markers"),
  'room.stats': {
    attempts: (w) => [
      { who: 'member', data: { roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'a plain member' },
      { who: 'outsider', data: { roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'not a member' },
      { who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'outsider', data: { roomId: w.conversation }, code: 'NOT_FOUND', why: "someone else's conversation" },
      { who: 'owner', data: {}, code: 'FORBIDDEN', why: 'every room: server administrators only' },
    ],
  },
  'admin.retentionRuns': { attempts: () => [{ who: 'owner', code: 'FORBIDDEN', why: 'not a server administrator' }] },
  'presence.list': { attempts: () => [{ who: 'owner', data: {}, code: 'FORBIDDEN', why: 'not a server administrator' }] },
  'presence.set': none("the caller's own presence"),
  'presence.room': {
    attempts: (w) => [
      { who: 'outsider', data: { roomId: w.publicRoom }, code: 'NOT_MEMBER', why: 'not a member' },
      { who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'hidden' },
      { who: 'outsider', data: { roomId: w.conversation }, code: 'NOT_FOUND', why: "someone else's conversation" },
    ],
  },
  'presence.contacts': none("the caller's own contacts"),
  'presence.active': none("the caller's own activity"),
  typing: {
    attempts: (w) => [
      { who: 'outsider', data: { roomId: w.publicRoom, typing: true }, code: 'NOT_MEMBER', why: 'not a member' },
      { who: 'outsider', data: { roomId: w.privateRoom, typing: true }, code: 'NOT_MEMBER', why: 'hidden' },
      { who: 'outsider', data: { roomId: w.conversation, typing: true }, code: 'NOT_MEMBER', why: "someone else's conversation" },
    ],
  },
  'report.create': {
    attempts: (w) => [
      { who: 'outsider', data: { roomId: w.privateRoom, messageId: w.privateMessage, reason: 'r' }, code: 'NOT_FOUND', why: 'hidden' },
      {
        who: 'member',
        data: { roomId: w.publicRoom, messageId: w.privateMessage, reason: 'r' },
        code: 'NOT_FOUND',
        why: 'a message of another room',
      },
      {
        who: 'victim',
        data: { roomId: w.publicRoom, messageId: w.publicMessage, reason: 'r' },
        code: 'FORBIDDEN',
        why: 'their own message',
      },
    ],
  },
  'mod.me': none("the caller's own moderation state"),
  'mod.filters.get': { attempts: (w) => filterScope(w, {}) },
  'mod.filters.set': {
    attempts: (w) =>
      filterScope(w, {
        config: { words: [{ term: 'hello', action: 'block' }], allow: [], patterns: [], links: { default: null, domains: [] }, spam: {} },
      }),
  },
  'mod.filters.test': { attempts: (w) => filterScope(w, { body: 'hello' }) },
  'mod.roles': { attempts: () => [{ who: 'owner', code: 'FORBIDDEN', why: 'no server role' }] },
  'mod.role.set': {
    attempts: (w) => [
      { who: 'outsider', data: { userId: w.userId.outsider, role: 'admin' }, code: 'FORBIDDEN', why: 'making oneself an administrator' },
      { who: 'owner', data: { userId: w.userId.member, role: 'moderator' }, code: 'FORBIDDEN', why: 'a room owner, no server role' },
    ],
  },
  'mod.mute': {
    attempts: (w) => [
      { who: 'member', data: { userId: w.userId.victim, roomId: w.publicRoom, seconds: 60 }, code: 'FORBIDDEN', why: 'a plain member' },
      { who: 'admin', data: { userId: w.userId.victim, seconds: 60 }, code: 'FORBIDDEN', why: 'server-wide by a room admin' },
      {
        who: 'admin',
        data: { userId: w.userId.owner, roomId: w.publicRoom, seconds: 60 },
        code: 'FORBIDDEN',
        why: 'the owner by an admin',
      },
      { who: 'outsider', data: { userId: w.userId.victim, roomId: w.privateRoom, seconds: 60 }, code: 'NOT_FOUND', why: 'hidden' },
    ],
  },
  'mod.unmute': {
    attempts: (w) => [
      { who: 'member', data: { userId: w.userId.muted, roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'a plain member' },
      { who: 'muted', data: { userId: w.userId.muted, roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'unmuting oneself' },
      { who: 'outsider', data: { userId: w.userId.muted }, code: 'FORBIDDEN', why: 'server-wide, no role' },
    ],
  },
  'mod.mutes': {
    attempts: (w) => [
      { who: 'member', data: { roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'a plain member' },
      { who: 'owner', data: {}, code: 'FORBIDDEN', why: 'server scope, no role' },
      { who: 'outsider', data: { roomId: w.privateRoom }, code: 'NOT_FOUND', why: 'hidden' },
    ],
  },
  'mod.warn': { attempts: (w) => serverSanction(w, { reason: 'r' }) },
  'mod.kick': { attempts: (w) => serverSanction(w, {}) },
  'mod.ban': { attempts: (w) => serverSanction(w, {}) },
  'mod.unban': { attempts: (w) => [{ who: 'outsider', data: { userId: w.userId.victim }, code: 'FORBIDDEN', why: 'no server role' }] },
  'mod.bans': { attempts: () => [{ who: 'owner', code: 'FORBIDDEN', why: 'no server role' }] },
  'mod.reports': { attempts: () => [{ who: 'member', data: {}, code: 'FORBIDDEN', why: 'no server role (even the reporter)' }] },
  'mod.report.claim': { attempts: (w) => report(w, {}) },
  'mod.report.resolve': { attempts: (w) => report(w, { note: 'n' }) },
  'mod.report.dismiss': { attempts: (w) => report(w, { note: 'n' }) },
  'mod.audit': {
    attempts: (w) => [
      { who: 'owner', data: { roomId: w.publicRoom }, code: 'FORBIDDEN', why: 'a room owner, no server role' },
      { who: 'victim', data: { userId: w.userId.victim }, code: 'FORBIDDEN', why: 'their own entries, no server role' },
    ],
  },
};

function sanction(w: World): Attempt[] {
  return [
    { who: 'member', data: { roomId: w.publicRoom, userId: w.userId.victim }, code: 'FORBIDDEN', why: 'a plain member' },
    { who: 'muted', data: { roomId: w.publicRoom, userId: w.userId.victim }, code: 'FORBIDDEN', why: 'a muted member' },
    { who: 'outsider', data: { roomId: w.publicRoom, userId: w.userId.victim }, code: 'FORBIDDEN', why: 'not a member' },
    { who: 'admin', data: { roomId: w.publicRoom, userId: w.userId.owner }, code: 'FORBIDDEN', why: 'the owner by an admin' },
    { who: 'outsider', data: { roomId: w.privateRoom, userId: w.userId.victim }, code: 'NOT_FOUND', why: 'hidden' },
    { who: 'victim', data: { roomId: w.conversation, userId: w.userId.owner }, code: 'NOT_FOUND', why: 'a conversation' },
  ];
}

function reaction(w: World): Attempt[] {
  return [
    { who: 'outsider', data: { roomId: w.publicRoom, messageId: w.publicMessage, emoji: '👍' }, code: 'NOT_MEMBER', why: 'not a member' },
    { who: 'banned', data: { roomId: w.publicRoom, messageId: w.publicMessage, emoji: '👍' }, code: 'NOT_MEMBER', why: 'banned' },
    { who: 'outsider', data: { roomId: w.privateRoom, messageId: w.privateMessage, emoji: '👍' }, code: 'NOT_FOUND', why: 'hidden' },
    {
      who: 'member',
      data: { roomId: w.publicRoom, messageId: w.privateMessage, emoji: '👍' },
      code: 'NOT_FOUND',
      why: 'a message of another room',
    },
    {
      who: 'outsider',
      data: { roomId: w.conversation, messageId: w.conversationMessage, emoji: '👍' },
      code: 'NOT_FOUND',
      why: "someone else's conversation",
    },
  ];
}

function filterScope(w: World, extra: Record<string, unknown>): Attempt[] {
  return [
    { who: 'member', data: { roomId: w.publicRoom, ...extra }, code: 'FORBIDDEN', why: 'a plain member' },
    { who: 'owner', data: { ...extra }, code: 'FORBIDDEN', why: 'server scope, no role' },
    { who: 'outsider', data: { roomId: w.privateRoom, ...extra }, code: 'NOT_FOUND', why: 'hidden' },
  ];
}

function serverSanction(w: World, extra: Record<string, unknown>): Attempt[] {
  return [
    { who: 'outsider', data: { userId: w.userId.victim, ...extra }, code: 'FORBIDDEN', why: 'no server role' },
    { who: 'owner', data: { userId: w.userId.victim, ...extra }, code: 'FORBIDDEN', why: 'a room owner, no server role' },
  ];
}

function report(w: World, extra: Record<string, unknown>): Attempt[] {
  return [
    { who: 'member', data: { reportId: w.reportId, ...extra }, code: 'FORBIDDEN', why: 'the reporter, no server role' },
    { who: 'victim', data: { reportId: w.reportId, ...extra }, code: 'FORBIDDEN', why: 'the reported author' },
  ];
}
