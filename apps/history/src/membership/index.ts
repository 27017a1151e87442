import { roomEventTypes } from '@chat/contracts';
import type { ReadModel } from '../store/read-model';
import { RoomMemberRow, RoomRow } from './membership.entity';
import { decodeRoomEvent, planMembership, type MembershipChange, type MembershipPart } from './membership.plan';
import { applyMembership } from './membership.store';

/**
 * The membership read model: every room event (`…meta`), kept as change logs by position and as
 * the newest state of rooms and members; authorises reads, lists conversations, and tells the
 * posting rule what a sender's rights were at a position.
 */
export const membership: ReadModel<MembershipChange, MembershipPart> = {
  eventTypes: roomEventTypes,
  entities: [RoomRow, RoomMemberRow],
  decode: decodeRoomEvent,
  plan: planMembership,
  apply: applyMembership,
};

export { RoomMemberRow, RoomRow } from './membership.entity';
export { MembershipQueries, type ConversationRecord } from './membership.store';
export { readRefusal, roomNotFound, type MembershipChange, type MembershipPart, type RoomAccess, type Standing } from './membership.plan';
