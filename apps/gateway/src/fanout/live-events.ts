import { PresenceStatuses, isRoomId, type MemberRole, type MessageView, type PresenceView, type WsEvents } from '@chat/contracts';

/**
 * Pure translation of events republished by JetStream (envelope JSON + `Nats-Sequence` header)
 * into the data of client events. Anything malformed gives null: the subscriber logs and drops
 * it, and no client ever sees a half-valid event.
 */

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const roles: readonly string[] = ['owner', 'admin', 'member'];

/** The stream position from the republish headers; null when absent or not a positive integer. */
export function positionOf(header: string | undefined | null): number | null {
  if (!header || !/^[1-9]\d{0,15}$/.test(header)) return null;
  return Number(header);
}

function envelope(data: unknown, type: string): { time: string; payload: Record<string, unknown> } | null {
  if (!isObj(data) || data.type !== type || !isStr(data.time) || !isObj(data.payload)) return null;
  return { time: data.time, payload: data.payload };
}

export function toMessageView(data: unknown, position: number): MessageView | null {
  const e = envelope(data, 'MessagePosted');
  if (!e) return null;
  const { messageId, roomId, senderId, senderName, clientMsgId, body } = e.payload;
  if (!isStr(messageId) || !isRoomId(roomId) || !isStr(senderId) || !isStr(senderName) || !isStr(clientMsgId) || !isStr(body)) return null;
  return { messageId, roomId, senderId, senderName, clientMsgId, body, time: e.time, position };
}

export type MemberChange =
  { event: 'member.joined'; data: WsEvents['member.joined'] } | { event: 'member.left'; data: WsEvents['member.left'] };

/**
 * MemberJoined/MemberLeft (and RoomCreated with an owner) -> client event. Other well-formed
 * room events (types added later) are 'ignore'; anything that is not an event envelope, or a
 * known event with a bad payload, is 'malformed'.
 */
export function toMemberChange(data: unknown): MemberChange | 'ignore' | 'malformed' {
  if (!isObj(data) || !isStr(data.type)) return 'malformed';
  const e = envelope(data, data.type);
  if (!e) return 'malformed';
  const p = e.payload;
  if (data.type === 'MemberJoined') {
    if (!isRoomId(p.roomId) || !isStr(p.userId) || !isStr(p.username) || !isStr(p.role) || !roles.includes(p.role)) return 'malformed';
    return {
      event: 'member.joined',
      data: { roomId: p.roomId, userId: p.userId, username: p.username, role: p.role as MemberRole, time: e.time },
    };
  }
  if (data.type === 'RoomCreated') {
    // The creator becomes owner and member without a MemberJoined of their own: for clients
    // (and the room index) that is the owner joining. Rooms the system creates have no owner.
    if (p.ownerId === null || p.ownerId === undefined) return 'ignore';
    if (!isRoomId(p.roomId) || !isStr(p.ownerId) || !isStr(p.ownerName)) return 'malformed';
    return { event: 'member.joined', data: { roomId: p.roomId, userId: p.ownerId, username: p.ownerName, role: 'owner', time: e.time } };
  }
  if (data.type === 'MemberLeft') {
    if (!isRoomId(p.roomId) || !isStr(p.userId) || !isStr(p.username)) return 'malformed';
    return { event: 'member.left', data: { roomId: p.roomId, userId: p.userId, username: p.username, time: e.time } };
  }
  return 'ignore';
}

export function toPresenceView(data: unknown): PresenceView | null {
  const e = envelope(data, 'PresenceChanged');
  const p = e?.payload;
  if (!p || !isStr(p.userId) || !isStr(p.username) || !isStr(p.lastSeen) || !(PresenceStatuses as readonly unknown[]).includes(p.status))
    return null;
  return { userId: p.userId, username: p.username, status: p.status as PresenceView['status'], lastSeen: p.lastSeen };
}
