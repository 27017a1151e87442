import 'reflect-metadata';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  Validate,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { GROUP_ROOM_ID_PATTERN, ROOM_ID_PATTERN } from './ids';
import type { PostPolicy, RoomVisibility } from './rooms/events';
import type { SettableStatus } from './presence/events';

/** Limits shared by the gateway, the services and the protocol document. */
export const Limits = {
  usernameMaxChars: 32,
  passwordMinChars: 8,
  passwordMaxChars: 256,
  roomNameMaxChars: 80,
  topicMaxChars: 300,
  messageMaxChars: 4000,
  clientMsgIdMaxChars: 64,
  historyPageMax: 100,
  historyPageDefault: 50,
  memberLimitMax: 100_000,
  /** Members a new room admits unless its creator chooses otherwise (the original design's 50). */
  memberLimitDefault: 50,
  /** Directory and member lists: items per page. */
  listPageMax: 200,
  listPageDefault: 50,
  reasonMaxChars: 300,
  directoryQueryMaxChars: 80,
} as const;

/** Printable after NFKC: no control characters, no leading/trailing space, no line breaks. */
@ValidatorConstraint({ name: 'displayName' })
class DisplayNameConstraint implements ValidatorConstraintInterface {
  validate(value: unknown) {
    return typeof value === 'string' && value === value.trim() && !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(value);
  }
  defaultMessage() {
    return '$property must not contain control characters or leading/trailing spaces';
  }
}

// ---- Requests a client sends (HTTP bodies and WebSocket `data`) ----

export class RegisterRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.usernameMaxChars)
  @Validate(DisplayNameConstraint)
  username: string;
  @IsString()
  @MinLength(Limits.passwordMinChars)
  @MaxLength(Limits.passwordMaxChars)
  password: string;
}

export class LoginRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.usernameMaxChars * 4)
  username: string;
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.passwordMaxChars)
  password: string;
}

export class AuthRequest {
  @IsString()
  @IsNotEmpty()
  @MaxLength(4096)
  token: string;
}

export class RoomRef {
  @IsString()
  @Matches(ROOM_ID_PATTERN, { message: 'roomId must be 1-64 of a-z 0-9 _ - (starting with a letter or digit)' })
  roomId: string;
}

export class CreateRoomRequest {
  /** Optional slug; generated from a random id when absent. */
  @IsOptional()
  @IsString()
  @Matches(GROUP_ROOM_ID_PATTERN, {
    message: 'roomId must be 1-64 of a-z 0-9 _ - (starting with a letter or digit), and not start with "dm-" (conversations)',
  })
  roomId?: string;
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.roomNameMaxChars)
  @Validate(DisplayNameConstraint)
  name: string;
  @IsOptional()
  @IsString()
  @MaxLength(Limits.topicMaxChars)
  topic?: string;
  @IsOptional()
  @IsIn(['public', 'private'])
  visibility?: RoomVisibility;
  @IsOptional()
  @IsIn(['members', 'admins'])
  postPolicy?: PostPolicy;
  @IsOptional()
  @IsInt()
  @Min(2)
  @Max(Limits.memberLimitMax)
  memberLimit?: number;
}

export class SendMessageRequest extends RoomRef {
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'clientMsgId must be 1-64 of A-Z a-z 0-9 _ -' })
  clientMsgId: string;
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.messageMaxChars)
  body: string;
}

export class HistoryPageRequest extends RoomRef {
  /**
   * Return messages strictly older than this stream position (the `nextBefore` of the previous
   * page). Stream positions are below 2^53, so larger values are refused here rather than
   * failing in Postgres (bigint) with an INTERNAL error.
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  before?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Limits.historyPageMax)
  limit?: number;
}

/** A page of a list: `offset` items skipped (the previous page's `nextOffset`), at most `limit`. */
class Paged {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Limits.listPageMax)
  limit?: number;
}

export class DirectoryRequest extends Paged {
  /** Matched against room names: case-insensitive, after NFKC, anywhere in the name. Empty: every public room. */
  @IsOptional()
  @IsString()
  @MaxLength(Limits.directoryQueryMaxChars)
  query?: string;
}

export class RoomMembersRequest extends Paged {
  @IsString()
  @Matches(ROOM_ID_PATTERN, { message: 'roomId must be 1-64 of a-z 0-9 _ - (starting with a letter or digit)' })
  roomId: string;
}

export class InviteRequest extends RoomRef {
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.usernameMaxChars * 4)
  username: string;
}

/** A room and a user in it (kick, ban, unban, transfer). */
export class RoomUserRequest extends RoomRef {
  @IsUUID()
  userId: string;
}

export class SanctionRequest extends RoomUserRequest {
  @IsOptional()
  @IsString()
  @MaxLength(Limits.reasonMaxChars)
  reason?: string;
}

export class SetRoleRequest extends RoomUserRequest {
  @IsIn(['admin', 'member'])
  role: 'admin' | 'member';
}

/** The settings to change; fields left out keep their value. */
export class UpdateRoomRequest extends RoomRef {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.roomNameMaxChars)
  @Validate(DisplayNameConstraint)
  name?: string;
  @IsOptional()
  @IsString()
  @MaxLength(Limits.topicMaxChars)
  topic?: string;
  @IsOptional()
  @IsIn(['public', 'private'])
  visibility?: RoomVisibility;
  @IsOptional()
  @IsIn(['members', 'admins'])
  postPolicy?: PostPolicy;
  @IsOptional()
  @IsInt()
  @Min(2)
  @Max(Limits.memberLimitMax)
  memberLimit?: number;
}

/** A private message to a user by name; opens the conversation if it is the first. */
export class DirectSendRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.usernameMaxChars * 4)
  username: string;
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'clientMsgId must be 1-64 of A-Z a-z 0-9 _ -' })
  clientMsgId: string;
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.messageMaxChars)
  body: string;
}

export class UserRef {
  @IsUUID()
  userId: string;
}

export class SetStatusRequest {
  @IsIn(['online', 'away', 'busy'])
  status: SettableStatus;
}

// ---- Requests between services (RPC). The gateway adds who is asking. ----

export class Caller {
  @IsUUID() userId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) username: string;
}

export class ListRoomsRpc {
  @IsUUID() userId: string;
}
export class UserRoomsRpc {
  @IsUUID() userId: string;
}
export class CreateRoomRpc extends CreateRoomRequest {
  @IsUUID() userId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) username: string;
}
export class RoomMembershipRpc extends RoomRef {
  @IsUUID() userId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) username: string;
}
export class PostMessageRpc extends SendMessageRequest {
  @IsUUID() userId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) username: string;
}
/** History authorises the read itself: `userId` is the caller, from the verified token. */
export class HistoryPageRpc extends HistoryPageRequest {
  @IsUUID() userId: string;
}
export class PresenceListRpc {}
export class ModerationCheckRpc extends RoomRef {
  @IsUUID() senderId: string;
  @IsString() @MaxLength(Limits.messageMaxChars * 4) body: string;
}

/** The caller as the gateway adds it to forwarded requests (`caller: 'user'`). */
class WithCaller {
  @IsUUID() userId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) username: string;
}
// The `…Rpc` classes below are the WebSocket request plus the caller. Requests that already have
// a `userId` field (the target) carry the caller as `actorId`/`actorName` instead.
export class DirectoryRpc extends DirectoryRequest {
  @IsUUID() userId: string;
}
export class RoomMembersRpc extends RoomMembersRequest {
  @IsUUID() actorId: string;
}
export class RoomQueryRpc extends RoomRef {
  @IsUUID() userId: string;
}
export class InviteRpc extends InviteRequest {
  @IsUUID() actorId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) actorName: string;
}
export class SanctionRpc extends SanctionRequest {
  @IsUUID() actorId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) actorName: string;
}
export class RoomUserRpc extends RoomUserRequest {
  @IsUUID() actorId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) actorName: string;
}
export class SetRoleRpc extends SetRoleRequest {
  @IsUUID() actorId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) actorName: string;
}
export class UpdateRoomRpc extends UpdateRoomRequest {
  @IsUUID() userId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) username: string;
}
export class DirectSendRpc extends DirectSendRequest {
  @IsUUID() actorId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) actorName: string;
}
export class BlockRpc extends UserRef {
  @IsUUID() actorId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) actorName: string;
}
export class CallerRpc extends WithCaller {}
