import { roomEventTypes } from '@chat/contracts';
import type { ReadModel } from '../store/read-model';
import { RoomMemberRow, RoomRow } from './membership.entity';
import { decodeRoomEvent, planMembership, type MembershipChange, type MembershipPart } from './membership.plan';
import { applyMembership } from './membership.store';

/** The membership read model: rooms and who is in them, from the rooms' `…meta` events; authorises reads. */
export const membership: ReadModel<MembershipChange, MembershipPart> = {
  eventTypes: roomEventTypes,
  entities: [RoomRow, RoomMemberRow],
  decode: decodeRoomEvent,
  plan: planMembership,
  apply: applyMembership,
};

export { RoomMemberRow, RoomRow } from './membership.entity';
export { MembershipQueries } from './membership.store';
export { readRefusal, type MembershipChange, type MembershipPart, type Standing } from './membership.plan';
