import { checks, createDecoder, type EventSpecs } from '../events/decoder';
import type { MemberRole, PostPolicy, RoomEvent, RoomEventType, RoomVisibility } from './events';

const role = checks.oneOf<MemberRole>({ owner: true, admin: true, member: true });

/** The room aggregate's events (`ns.chat.room.<id>.meta`), current version of each. */
export const roomEventSpecs: EventSpecs<RoomEvent> = {
  RoomCreated: {
    version: 1,
    payload: {
      roomId: checks.roomId,
      name: checks.nonEmpty,
      topic: checks.string,
      visibility: checks.oneOf<RoomVisibility>({ public: true, private: true }),
      postPolicy: checks.oneOf<PostPolicy>({ members: true, admins: true }),
      memberLimit: checks.positiveInt,
      ownerId: checks.nullable(checks.uuid),
      ownerName: checks.nullable(checks.nonEmpty),
    },
  },
  MemberJoined: { version: 1, payload: { roomId: checks.roomId, userId: checks.uuid, username: checks.nonEmpty, role } },
  MemberLeft: { version: 1, payload: { roomId: checks.roomId, userId: checks.uuid, username: checks.nonEmpty } },
};

const roomDecoder = createDecoder(roomEventSpecs);

/** Every room event type, read off the specs (so it cannot miss one). */
export const roomEventTypes: readonly RoomEventType[] = roomDecoder.types;
export const isRoomEventType = roomDecoder.isType;
