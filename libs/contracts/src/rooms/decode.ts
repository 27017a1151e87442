import { checks, createDecoder, upcaster, type EventSpecs, type Upcasters } from '../events/decoder';
import { Limits } from '../dto';
import type {
  MemberLeft,
  MemberLeftV1Payload,
  MemberRole,
  PostPolicy,
  RoomCreated,
  RoomCreatedV1Payload,
  RoomEvent,
  RoomEventType,
  RoomSettingsChanged,
  RoomSettingsChangedV1Payload,
  RoomVisibility,
} from './events';

const role = checks.oneOf<MemberRole>({ owner: true, admin: true, member: true });
const aboutUser = { roomId: checks.roomId, userId: checks.uuid, username: checks.nonEmpty };
const byUser = { byUserId: checks.uuid, byUsername: checks.nonEmpty };
/** The settings as RoomCreated v1 and RoomSettingsChanged v1 carried them (before slow mode). */
const settingsV1 = {
  name: checks.nonEmpty,
  topic: checks.string,
  visibility: checks.oneOf<RoomVisibility>({ public: true, private: true }),
  postPolicy: checks.oneOf<PostPolicy>({ members: true, admins: true }),
  memberLimit: checks.positiveInt,
};
const settings = { ...settingsV1, slowModeSeconds: checks.intInRange(0, Limits.slowModeSecondsMax) };
const owner = { ownerId: checks.nullable(checks.uuid), ownerName: checks.nullable(checks.nonEmpty) };
const pair = { roomId: checks.roomId, blockerId: checks.uuid, blockedId: checks.uuid };

/** The room aggregate's events (`ns.chat.room.<id>.meta`), current version of each. */
export const roomEventSpecs: EventSpecs<RoomEvent> = {
  RoomCreated: { version: 2, payload: { roomId: checks.roomId, ...settings, ...owner } },
  MemberJoined: { version: 1, payload: { ...aboutUser, role } },
  MemberLeft: {
    version: 2,
    payload: { ...aboutUser, successorId: checks.nullable(checks.uuid), successorName: checks.nullable(checks.nonEmpty) },
  },
  MemberInvited: { version: 1, payload: { ...aboutUser, ...byUser, roomName: checks.nonEmpty } },
  InvitationDeclined: { version: 1, payload: aboutUser },
  MemberKicked: { version: 1, payload: { ...aboutUser, ...byUser, reason: checks.string } },
  MemberBanned: { version: 1, payload: { ...aboutUser, ...byUser, reason: checks.string } },
  MemberUnbanned: { version: 1, payload: { ...aboutUser, ...byUser } },
  MemberRoleChanged: {
    version: 1,
    payload: { ...aboutUser, ...byUser, role: checks.oneOf<'admin' | 'member'>({ admin: true, member: true }) },
  },
  OwnershipTransferred: { version: 1, payload: { ...aboutUser, ...byUser } },
  RoomSettingsChanged: { version: 2, payload: { roomId: checks.roomId, ...settings, ...byUser } },
  RoomRetentionSet: { version: 1, payload: { roomId: checks.roomId, days: checks.nullable(checks.positiveInt), ...byUser } },
  RoomDeleted: {
    version: 1,
    payload: { roomId: checks.roomId, reason: checks.oneOf<'owner' | 'empty'>({ owner: true, empty: true }), ...byUser },
  },
  ConversationOpened: {
    version: 1,
    payload: {
      roomId: checks.roomId,
      userAId: checks.uuid,
      userAName: checks.nonEmpty,
      userBId: checks.uuid,
      userBName: checks.nonEmpty,
      openedById: checks.uuid,
      reason: checks.oneOf<'message' | 'block' | 'held'>({ message: true, block: true, held: true }),
    },
  },
  UserBlocked: { version: 1, payload: pair },
  UserUnblocked: { version: 1, payload: pair },
};

/**
 * Older versions of room events. MemberLeft v1 (before ownership passed on leave) had no
 * successor: such a leave never promoted anyone. RoomCreated v1 and RoomSettingsChanged v1
 * (before slow mode) had no slowModeSeconds: those rooms had slow mode off.
 */
export const roomEventUpcasters: Upcasters<RoomEvent> = {
  RoomCreated: {
    1: upcaster<RoomCreatedV1Payload, RoomCreated['payload']>({ roomId: checks.roomId, ...settingsV1, ...owner }, (p) => ({
      ...p,
      slowModeSeconds: 0,
    })),
  },
  RoomSettingsChanged: {
    1: upcaster<RoomSettingsChangedV1Payload, RoomSettingsChanged['payload']>({ roomId: checks.roomId, ...settingsV1, ...byUser }, (p) => ({
      ...p,
      slowModeSeconds: 0,
    })),
  },
  MemberLeft: {
    1: upcaster<MemberLeftV1Payload, MemberLeft['payload']>(aboutUser, (p) => ({ ...p, successorId: null, successorName: null })),
  },
};

const roomDecoder = createDecoder(roomEventSpecs, roomEventUpcasters);

/** Every room event type, read off the specs (so it cannot miss one). */
export const roomEventTypes: readonly RoomEventType[] = roomDecoder.types;
export const isRoomEventType = roomDecoder.isType;
