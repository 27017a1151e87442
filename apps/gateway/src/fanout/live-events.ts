import { assertNever, decodeChatEvent, decodePresenceEvent, type MessageView, type PresenceView, type WsEvents } from '@chat/contracts';

/**
 * Pure translation of events republished by JetStream (envelope JSON + `Nats-Sequence` header)
 * into the data of client events. The stream decoders check each event whole; anything
 * malformed gives null: the subscriber logs and drops it, and no client ever sees a half-valid
 * event.
 */

/** The stream position from the republish headers; null when absent or not a positive integer. */
export function positionOf(header: string | undefined | null): number | null {
  if (!header || !/^[1-9]\d{0,15}$/.test(header)) return null;
  return Number(header);
}

export function toMessageView(data: unknown, position: number): MessageView | null {
  const decoded = decodeChatEvent(data);
  if (!decoded.ok || decoded.event.type !== 'MessagePosted') return null;
  const { payload: p, time } = decoded.event;
  return {
    messageId: p.messageId,
    roomId: p.roomId,
    senderId: p.senderId,
    senderName: p.senderName,
    clientMsgId: p.clientMsgId,
    body: p.body,
    time,
    position,
  };
}

export type MemberChange =
  { event: 'member.joined'; data: WsEvents['member.joined'] } | { event: 'member.left'; data: WsEvents['member.left'] };

/**
 * MemberJoined/MemberLeft (and RoomCreated with an owner) -> client event. Types this version
 * does not know (added later) and other chat events are 'ignore'; anything that is not a valid
 * event (including a version this one cannot read) is 'malformed'.
 */
export function toMemberChange(data: unknown): MemberChange | 'ignore' | 'malformed' {
  const decoded = decodeChatEvent(data);
  if (!decoded.ok) return decoded.kind === 'unknown-type' ? 'ignore' : 'malformed';
  const e = decoded.event;
  switch (e.type) {
    case 'MemberJoined': {
      const { roomId, userId, username, role } = e.payload;
      return { event: 'member.joined', data: { roomId, userId, username, role, time: e.time } };
    }
    case 'RoomCreated': {
      // The creator becomes owner and member without a MemberJoined of their own: for clients
      // (and the room index) that is the owner joining. Rooms the system creates have no owner.
      const { roomId, ownerId, ownerName } = e.payload;
      if (ownerId === null) return 'ignore';
      if (ownerName === null) return 'malformed';
      return { event: 'member.joined', data: { roomId, userId: ownerId, username: ownerName, role: 'owner', time: e.time } };
    }
    case 'MemberLeft': {
      const { roomId, userId, username } = e.payload;
      return { event: 'member.left', data: { roomId, userId, username, time: e.time } };
    }
    case 'MessagePosted':
      return 'ignore';
    default:
      return assertNever(e, 'chat event');
  }
}

export function toPresenceView(data: unknown): PresenceView | null {
  const decoded = decodePresenceEvent(data);
  if (!decoded.ok) return null;
  const { userId, username, status, lastSeen } = decoded.event.payload;
  return { userId, username, status, lastSeen };
}
