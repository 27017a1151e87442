import { assertNever } from '../envelope';
import type { RoomEvent } from './events';

/**
 * The users a room event must reach even where their gateway does not follow the room yet:
 * the user who joined (their other connections start following it), was invited, declined,
 * was removed, or the two sides of a new conversation. Members already following the room get
 * its events from the room's own subject; this is what the rooms service's notifier forwards
 * to `ns.live.user.<id>.rooms`. Pure, so the gateway and the notifier agree on it.
 */
export function usersToNotify(event: RoomEvent): string[] {
  switch (event.type) {
    case 'RoomCreated':
      return event.payload.ownerId ? [event.payload.ownerId] : [];
    case 'MemberJoined':
    case 'MemberLeft':
    case 'MemberInvited':
    case 'InvitationDeclined':
    case 'MemberKicked':
    case 'MemberBanned':
      return [event.payload.userId];
    case 'ConversationOpened':
      return [event.payload.userAId, event.payload.userBId];
    case 'MemberUnbanned':
    case 'MemberRoleChanged':
    case 'OwnershipTransferred':
    case 'RoomSettingsChanged':
    case 'RoomRetentionSet':
    case 'RoomDeleted':
    case 'UserBlocked':
    case 'UserUnblocked':
      return [];
    default:
      return assertNever(event, 'room event');
  }
}
