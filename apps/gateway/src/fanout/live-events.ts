import {
  ChosenStatuses,
  Limits,
  PresenceStatuses,
  WsLimits,
  assertNever,
  checks,
  decodeChatEvent,
  isMessageEvent,
  readPayload,
  type Check,
  type OwnPresenceView,
  type PayloadSpec,
  isRoomId,
  type MessageEvent,
  type MessagePosted,
  usersToNotify,
  type MessageView,
  type ModerationNewsName,
  type PresenceView,
  type RoomEvent,
  type RoomTypingSignal,
  type UserView,
  type WsEventName,
  type WsEvents,
} from '@chat/contracts';
import { renderMessageHtml } from '@chat/format';

/**
 * Pure translation of events read from the CHAT stream (republished by JetStream, or forwarded
 * by the rooms service's notifier: the same bytes with the same `Nats-Sequence` header) into
 * what clients see. The stream decoders check each event whole; anything malformed is
 * 'malformed': the subscriber logs and drops it, and no client ever sees a half-valid event.
 */

/** The stream position from the republish headers; null when absent or not a positive integer. */
export function positionOf(header: string | undefined | null): number | null {
  if (!header || !/^[1-9]\d{0,15}$/.test(header)) return null;
  return Number(header);
}

/** One client event: its name and data, typed together. */
export type WsFrame = { [E in WsEventName]: { event: E; data: WsEvents[E] } }[WsEventName];

const frame = <E extends WsEventName>(event: E, data: WsEvents[E]): WsFrame => ({ event, data }) as WsFrame;

/**
 * What one room event does at a gateway (docs/rooms.md "Who receives what"). Connections that
 * follow the room get `room`, except a user with a `personal` frame, who gets that instead;
 * the users in `personal` (exactly `usersToNotify`) also get it on their connections that do
 * not follow the room. Then the connections of the `follow` users follow the room from this
 * event on, and those of the `unfollow` users (or everyone, for a deleted room) stop: they got
 * this event, and nothing later of the room.
 */
export interface RoomEventEffect {
  roomId: string;
  room: WsFrame | null;
  personal: ReadonlyMap<string, WsFrame>;
  follow: readonly string[];
  unfollow: readonly string[] | 'everyone';
  /** A block set or lifted in a conversation (whose posts are not messages while any block stands). */
  block?: { blockerId: string; blocked: boolean };
}

const by = (p: { byUserId: string; byUsername: string }): UserView => ({ userId: p.byUserId, username: p.byUsername });

/** Every room event as the gateways show it. Exhaustive: a new event type that nobody shows does not compile. */
export function roomEventEffect(e: RoomEvent): RoomEventEffect {
  const time = e.time;
  const { roomId } = e.payload;
  /** An event about one user: the room sees it, and so does that user wherever they are. */
  const about = (f: WsFrame, follow: string[] = [], unfollow: string[] = []): RoomEventEffect => ({
    roomId,
    room: f,
    personal: new Map(usersToNotify(e).map((u) => [u, f])),
    follow,
    unfollow,
  });
  switch (e.type) {
    case 'RoomCreated': {
      // The creator becomes owner and member without a MemberJoined of their own: for clients
      // (and the room index) that is the owner joining. Rooms the system creates have no owner.
      const { ownerId, ownerName } = e.payload;
      if (ownerId === null) return { roomId, room: null, personal: new Map(), follow: [], unfollow: [] };
      return about(frame('member.joined', { roomId, userId: ownerId, username: ownerName ?? ownerId, role: 'owner', time }), [ownerId]);
    }
    case 'MemberJoined': {
      const { userId, username, role } = e.payload;
      return about(frame('member.joined', { roomId, userId, username, role, time }), [userId]);
    }
    case 'MemberLeft': {
      const { userId, username, successorId, successorName } = e.payload;
      const newOwner = successorId !== null && successorName !== null ? { userId: successorId, username: successorName } : null;
      return about(frame('member.left', { roomId, userId, username, time, newOwner }), [], [userId]);
    }
    case 'MemberInvited': {
      const { userId, username, roomName } = e.payload;
      const invitation = frame('invitation.received', { roomId, roomName, invitedBy: by(e.payload), time });
      return {
        roomId,
        room: frame('member.invited', { roomId, userId, username, time, by: by(e.payload) }),
        personal: new Map([[userId, invitation]]),
        follow: [],
        unfollow: [],
      };
    }
    case 'InvitationDeclined': {
      const { userId, username } = e.payload;
      return about(frame('invitation.declined', { roomId, userId, username, time }));
    }
    case 'MemberKicked': {
      const { userId, username, reason } = e.payload;
      return about(frame('member.kicked', { roomId, userId, username, time, by: by(e.payload), reason }), [], [userId]);
    }
    case 'MemberBanned': {
      const { userId, username, reason } = e.payload;
      return about(frame('member.banned', { roomId, userId, username, time, by: by(e.payload), reason }), [], [userId]);
    }
    case 'MemberUnbanned': {
      const { userId, username } = e.payload;
      return about(frame('member.unbanned', { roomId, userId, username, time, by: by(e.payload) }));
    }
    case 'MemberRoleChanged': {
      const { userId, username, role } = e.payload;
      return about(frame('member.role', { roomId, userId, username, time, role, by: by(e.payload) }));
    }
    case 'OwnershipTransferred': {
      // Only the owner transfers: the one acting is the previous owner.
      const { userId, username } = e.payload;
      return about(frame('room.owner', { roomId, userId, username, time, previous: by(e.payload), by: by(e.payload) }));
    }
    case 'RoomSettingsChanged': {
      const { name, topic, visibility, postPolicy, memberLimit, slowModeSeconds } = e.payload;
      return about(
        frame('room.updated', { roomId, name, topic, visibility, postPolicy, memberLimit, slowModeSeconds, by: by(e.payload), time }),
      );
    }
    case 'RoomDeleted':
      return {
        roomId,
        room: frame('room.deleted', { roomId, by: by(e.payload), reason: e.payload.reason, time }),
        personal: new Map(),
        follow: [],
        unfollow: 'everyone',
      };
    case 'ConversationOpened': {
      // Each side sees the other as the peer; nobody else is in a conversation. Opened by a
      // block, only the blocker is told (blocking is silent); opened by a first message held
      // for review, only its sender (the peer learns of it from the message once approved).
      // Both follow it from here.
      const { userAId, userAName, userBId, userBName, openedById, reason } = e.payload;
      const told = (userId: string) => reason === 'message' || userId === openedById;
      const personal = new Map<string, ReturnType<typeof frame>>();
      if (told(userAId))
        personal.set(userAId, frame('conversation.opened', { roomId, peer: { userId: userBId, username: userBName }, time }));
      if (told(userBId))
        personal.set(userBId, frame('conversation.opened', { roomId, peer: { userId: userAId, username: userAName }, time }));
      return {
        roomId,
        room: null,
        personal,
        follow: [userAId, userBId],
        unfollow: [],
      };
    }
    case 'UserBlocked':
    case 'UserUnblocked': {
      // Silent for the blocked side: only the blocker's connections learn of it.
      const name = e.type === 'UserBlocked' ? 'user.blocked' : 'user.unblocked';
      const { blockerId, blockedId } = e.payload;
      return {
        roomId,
        room: null,
        personal: new Map([[blockerId, frame(name, { roomId, userId: blockedId, time })]]),
        follow: [],
        unfollow: [],
        block: { blockerId, blocked: e.type === 'UserBlocked' },
      };
    }
    case 'RoomRetentionSet': {
      const { days } = e.payload;
      return {
        roomId,
        room: frame('room.retention', { roomId, days, by: by(e.payload), time }),
        personal: new Map(),
        follow: [],
        unfollow: [],
      };
    }
    default:
      return assertNever(e, 'room event');
  }
}

/**
 * What a message event other than a post shows: an edit, a deletion, a reaction. Like posts,
 * they reach the room's followers; the stream decides on them in history (an edit by someone
 * other than the author, or of a deleted message, changes nothing there).
 */
function messageChangeFrame(e: Exclude<MessageEvent, MessagePosted>): WsFrame {
  const { roomId, messageId } = e.payload;
  switch (e.type) {
    case 'MessageEdited':
      return frame('message.edited', {
        roomId,
        messageId,
        body: e.payload.body,
        mentions: e.payload.mentions,
        html: renderMessageHtml(e.payload.body, e.payload.mentions),
        editedAt: e.time,
      });
    case 'MessageDeleted':
      return frame('message.deleted', { roomId, messageId, by: by(e.payload), reason: e.payload.reason, time: e.time });
    case 'ReactionAdded':
    case 'ReactionRemoved': {
      const { emoji, userId, username } = e.payload;
      return frame(e.type === 'ReactionAdded' ? 'reaction.added' : 'reaction.removed', {
        roomId,
        messageId,
        emoji,
        userId,
        username,
        time: e.time,
      });
    }
    default:
      return assertNever(e, 'message event');
  }
}

/** A live event of a room: a message, a change to a message, or a room event with what it does. */
export type LiveRoomEvent =
  | { kind: 'message'; message: MessageView }
  | { kind: 'change'; roomId: string; senderId: string; frame: WsFrame }
  | { kind: 'room'; effect: RoomEventEffect };

/**
 * Any event of a room's subjects at its stream position. Types this version does not know
 * (added later) are 'ignore'; anything that is not a valid event (including a version this one
 * cannot read) is 'malformed'.
 */
export function readRoomEvent(data: unknown, position: number): LiveRoomEvent | 'ignore' | 'malformed' {
  const decoded = decodeChatEvent(data);
  if (!decoded.ok) return decoded.kind === 'unknown-type' ? 'ignore' : 'malformed';
  const e = decoded.event;
  if (e.type === 'MessagePosted') {
    const p = e.payload;
    const message: MessageView = {
      messageId: p.messageId,
      roomId: p.roomId,
      senderId: p.senderId,
      senderName: p.senderName,
      clientMsgId: p.clientMsgId,
      body: p.body,
      replyTo: p.replyTo,
      mentions: p.mentions,
      html: renderMessageHtml(p.body, p.mentions),
      time: e.time,
      position,
      editedAt: null,
      deleted: null,
      reactions: [],
    };
    return { kind: 'message', message };
  }
  if (isMessageEvent(e)) return { kind: 'change', roomId: e.payload.roomId, senderId: actingUser(e), frame: messageChangeFrame(e) };
  return { kind: 'room', effect: roomEventEffect(e as RoomEvent) };
}

/** Who made a message change (held back like a post when they were removed from the room). */
function actingUser(e: Exclude<MessageEvent, MessagePosted>): string {
  if (e.type === 'MessageEdited') return e.payload.senderId;
  if (e.type === 'MessageDeleted') return e.payload.byUserId;
  return e.payload.userId;
}

/** The room a live event belongs to. */
export const roomOf = (e: LiveRoomEvent): string =>
  e.kind === 'message' ? e.message.roomId : e.kind === 'change' ? e.roomId : e.effect.roomId;

/** A custom status text as the presence service stores it: trimmed, 1-100 code points, one line. */
const statusText: Check<string> = {
  expects: `a status text of 1-${Limits.statusTextMaxChars} characters`,
  is: (v): v is string =>
    typeof v === 'string' &&
    v.length > 0 &&
    v === v.trim() &&
    [...v].length <= Limits.statusTextMaxChars &&
    !/[\u0000-\u001f\u007f\u2028\u2029]/.test(v),
};
const oneOf = <T extends string>(values: readonly T[]) => checks.oneOf(Object.fromEntries(values.map((v) => [v, true])) as Record<T, true>);

const presenceViewSpec: PayloadSpec<PresenceView> = {
  userId: checks.uuid,
  username: checks.nonEmpty,
  status: oneOf(PresenceStatuses),
  text: checks.nullable(statusText),
  lastSeen: checks.time,
};
const ownPresenceSpec: PayloadSpec<OwnPresenceView> = {
  status: oneOf(ChosenStatuses),
  text: checks.nullable(statusText),
  shown: oneOf(PresenceStatuses),
  updatedAt: checks.time,
};
const typingSpec: PayloadSpec<RoomTypingSignal> = {
  roomId: checks.roomId,
  userId: checks.uuid,
  username: checks.nonEmpty,
  typing: { expects: 'a boolean', is: (v): v is boolean => typeof v === 'boolean' },
  connId: checks.nonEmpty,
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A status change pushed to a room by the presence fan-out (`live.roomPresence`), checked
 * whole: its presence-stream position and the PresenceView (only its own fields are passed on);
 * null when it is not one.
 */
export function toRoomPresence(data: unknown): { position: number; view: PresenceView } | null {
  if (!isObject(data) || !checks.positiveInt.is(data.position) || !isObject(data.presence)) return null;
  const view = readPayload(presenceViewSpec, data.presence);
  return view.ok ? { position: data.position, view: view.value } : null;
}

/** The user's own choice (`live.presenceMine`), checked whole; null when it is not one. */
export function toOwnPresence(data: unknown): OwnPresenceView | null {
  if (!isObject(data)) return null;
  const view = readPayload(ownPresenceSpec, data);
  return view.ok ? view.value : null;
}

/**
 * A typing signal of a room (`live.roomTyping`, from any gateway), checked whole, as the
 * `typing` event its room's connections get (the signal's `connId` stays inside); null when it
 * is not one.
 */
export function toTypingEvent(data: unknown): WsEvents['typing'] | null {
  if (!isObject(data)) return null;
  const signal = readPayload(typingSpec, data);
  if (!signal.ok) return null;
  const { roomId, userId, username, typing } = signal.value;
  return { roomId, userId, username, typing, expiresInMs: WsLimits.typingExpiresMs };
}

/** What the history service publishes on `live.readMarkers(userId)` when a user's marker moves. */
export type ReadMarkerView = WsEvents['read.marker'];

const MAX_POSITION = Number.MAX_SAFE_INTEGER;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A moved read marker, checked whole (a room id, a position, a time, and nothing else is
 * passed on: unknown fields are dropped, so a publisher adding one cannot leak it to clients);
 * null when it is not one.
 */
export function toReadMarker(data: unknown): ReadMarkerView | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const { roomId, lastRead, time } = data as Record<string, unknown>;
  if (!isRoomId(roomId)) return null;
  if (typeof lastRead !== 'number' || !Number.isInteger(lastRead) || lastRead < 0 || lastRead > MAX_POSITION) return null;
  if (typeof time !== 'string' || !ISO_TIME.test(time) || Number.isNaN(Date.parse(time))) return null;
  return { roomId, lastRead, time };
}

const userViewCheck: Check<UserView> = checks.shape<UserView>({ userId: checks.uuid, username: checks.nonEmpty });
const byCheck = checks.nullable(userViewCheck);
const ruleCheck = checks.nullable(checks.string);
const maybeRoom = checks.nullable(checks.roomId);

/** The data of each `moderation.*` event, checked whole (top-level fields not listed are dropped). */
const moderationNewsSpecs: { [E in ModerationNewsName]: PayloadSpec<WsEvents[E]> } = {
  'moderation.warned': { reason: checks.string, by: byCheck, rule: ruleCheck, time: checks.time },
  'moderation.muted': {
    muteId: checks.nonEmpty,
    userId: checks.uuid,
    username: checks.nonEmpty,
    roomId: maybeRoom,
    until: checks.time,
    reason: checks.string,
    by: byCheck,
    rule: ruleCheck,
    time: checks.time,
  },
  'moderation.unmuted': {
    muteId: checks.nonEmpty,
    roomId: maybeRoom,
    reason: checks.oneOf({ expired: true, lifted: true }),
    time: checks.time,
  },
  'moderation.role': { role: checks.nullable(checks.oneOf({ admin: true, moderator: true })), by: userViewCheck, time: checks.time },
  'moderation.report': {
    reportId: checks.nonEmpty,
    kind: checks.oneOf({ message: true, held: true, escalation: true, rule: true }),
    state: checks.oneOf({ open: true, claimed: true, resolved: true, dismissed: true }),
    roomId: maybeRoom,
    messageId: checks.nullable(checks.nonEmpty),
    target: userViewCheck,
    excerpt: checks.nullable(checks.string),
    reason: checks.string,
    rule: ruleCheck,
    held: checks.nullable(checks.shape({ clientMsgId: checks.nonEmpty, body: checks.string })),
    by: byCheck,
    time: checks.time,
    position: checks.intInRange(0, MAX_POSITION),
    claimedBy: byCheck,
    closedBy: byCheck,
    closedAt: checks.nullable(checks.time),
    action: checks.nullable(checks.string),
    note: checks.nullable(checks.string),
  },
};

/**
 * Moderation news for one user (`live.userModeration`, the moderation service publishes
 * `{ event, data }`, UserModerationNews), checked whole as the event its connections get; null
 * for anything else (an unknown event name, a field missing or of the wrong type).
 */
export function toModerationNews(raw: unknown): WsFrame | null {
  if (!isObject(raw) || typeof raw.event !== 'string' || !isObject(raw.data)) return null;
  if (!Object.hasOwn(moderationNewsSpecs, raw.event)) return null;
  const event = raw.event as ModerationNewsName;
  const data = readPayload(moderationNewsSpecs[event] as PayloadSpec<object>, raw.data);
  return data.ok ? frame(event, data.value as WsEvents[typeof event]) : null;
}
