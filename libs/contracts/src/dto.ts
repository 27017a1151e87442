import 'reflect-metadata';
import {
  IsBoolean,
  IsIn,
  IsISO8601,
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
  IsArray,
  IsObject,
  ArrayMaxSize,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';
import { Nullable } from './validation';
import { GROUP_ROOM_ID_PATTERN, ROOM_ID_PATTERN } from './ids';
import type { PostPolicy, RoomVisibility } from './rooms/events';
import type { ChosenStatus } from './presence/events';
import type { MemberRole } from './rooms/events';
import { FilterLimits, type HoldAction, type LinkAction, type WordAction } from './moderation/filters';
import type { ReportState, ServerRole } from './moderation/events';

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
  /** Longest slow mode of a room, in seconds (6 hours); 0 is off. */
  slowModeSecondsMax: 21_600,
  /** Directory and member lists: items per page. */
  listPageMax: 200,
  listPageDefault: 50,
  reasonMaxChars: 300,
  directoryQueryMaxChars: 80,
  /** Distinct `@username` mentions kept per message (further ones are plain text). */
  mentionsPerMessageMax: 50,
  /** Code points of the quoted text a reply carries. */
  replyExcerptChars: 200,
  /** Distinct emoji on one message. */
  reactionsPerMessageMax: 20,
  /** UTF-16 code units of one reaction (an emoji sequence: flags, skin tones, ZWJ families). */
  emojiMaxChars: 32,
  searchQueryMaxChars: 200,
  searchPageMax: 50,
  searchPageDefault: 20,
  /** Deepest search result reachable by `offset`. */
  searchOffsetMax: 1000,
  /** A room's retention period: 1 day to 100 years. */
  retentionDaysMax: 36_500,
  /** Longest range of one statistics query, in days. */
  statsRangeMaxDays: 366,
  /** Unread counts stop counting here (a client shows "999+"). */
  unreadCountCap: 999,
  /** A custom status text, in code points. */
  statusTextMaxChars: 100,
  /** Users in one `presence.room` page. */
  presencePageMax: 200,
  /** Users in one `presence.contacts` / `presence.list` page (and its default): one page is enough for most users. */
  presenceListPageMax: 1000,
  /** Refresh tokens are `<sessionId>.<secret>`; longer input is refused unread. */
  refreshTokenMaxChars: 200,
  /** Sessions listed by GET /api/account/sessions (newest first). */
  sessionsListMax: 100,
  /** Reason of an administrator's account disable. */
  disableReasonMaxChars: 300,
  /** Longest mute: 30 days. */
  muteSecondsMax: 2_592_000,
} as const;

/**
 * One emoji as a reaction: a single emoji sequence (a pictograph with its variation selector,
 * skin tone and ZWJ parts, a flag of two regional indicators, or a keycap), nothing else.
 */
const EMOJI_SEQUENCE =
  /^(?:(?:\p{Extended_Pictographic}|[#*0-9]\uFE0F?\u20E3)(?:\uFE0F|[\u{1F3FB}-\u{1F3FF}]|[\u{E0020}-\u{E007F}])*(?:\u200D(?:\p{Extended_Pictographic})(?:\uFE0F|[\u{1F3FB}-\u{1F3FF}])*)*|\p{Regional_Indicator}{2})$/u;

@ValidatorConstraint({ name: 'emoji' })
class EmojiConstraint implements ValidatorConstraintInterface {
  validate(value: unknown) {
    return typeof value === 'string' && EMOJI_SEQUENCE.test(value);
  }
  defaultMessage() {
    return '$property must be one emoji';
  }
}
export const isEmoji = (value: string) => EMOJI_SEQUENCE.test(value);

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

/**
 * Request classes are built from a few field groups that several requests share (the optional
 * room settings, a message's content, who is calling). Each group is a mixin: a function from a
 * class to a subclass with the group's fields and their validation, so a rule is written once
 * and class-validator sees every field on the final class.
 */
// A mixin's base must be constructible with any arguments (TypeScript's rule for mixins).
type Ctor<T = object> = new (...args: any[]) => T;
class Empty {}

/** The room settings a creator may choose and an admin may change, all optional (the name is each request's own). */
function withRoomSettings<B extends Ctor>(Base: B) {
  class RoomSettingsFields extends Base {
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
    /** Seconds between two messages of one member (owner and admins exempt); 0: off. */
    @IsOptional()
    @IsInt()
    @Min(0)
    @Max(Limits.slowModeSecondsMax)
    slowModeSeconds?: number;
  }
  return RoomSettingsFields;
}

/** What a message is made of: the client's id for it and its text. */
function withMessageContent<B extends Ctor>(Base: B) {
  class MessageContent extends Base {
    @IsString()
    @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'clientMsgId must be 1-64 of A-Z a-z 0-9 _ -' })
    clientMsgId: string;
    @IsString()
    @MinLength(1)
    @MaxLength(Limits.messageMaxChars)
    body: string;
    /** The id of a message of the same room (or conversation) this one replies to. */
    @IsOptional()
    @IsUUID()
    replyTo?: string;
  }
  return MessageContent;
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
  /** "Remember me": the refresh token survives browser restarts (REFRESH_TOKEN_TTL_S); otherwise REFRESH_TOKEN_SESSION_TTL_S. */
  @IsOptional()
  @IsBoolean()
  remember?: boolean;
}

/** POST /api/auth/refresh and /api/auth/logout: the refresh token of the session. */
export class RefreshRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.refreshTokenMaxChars)
  refreshToken: string;
}

/** POST /api/account/password. */
export class ChangePasswordRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.passwordMaxChars)
  currentPassword: string;
  @IsString()
  @MinLength(Limits.passwordMinChars)
  @MaxLength(Limits.passwordMaxChars)
  newPassword: string;
}

/** DELETE /api/account: the password once more. */
export class DeleteAccountRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.passwordMaxChars)
  password: string;
}

/** POST /api/admin/users/disable and /enable (server administrators). */
export class AdminUserRequest {
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.usernameMaxChars * 4)
  username: string;
  @IsOptional()
  @IsString()
  @MaxLength(Limits.disableReasonMaxChars)
  reason?: string;
}

export class AuthRequest {
  @IsString()
  @IsNotEmpty()
  @MaxLength(4096)
  token: string;
  /**
   * Resume: the position of the last chat event this client received. The gateway sends every
   * event of the user's rooms and conversations stored after it, before the reply (see
   * "Resuming" in docs/protocol.md). Only on the connection's first `auth`.
   */
  @IsOptional()
  @Nullable()
  @IsInt()
  @Min(0)
  resumeFrom?: number | null;
}

export class RoomRef {
  @IsString()
  @Matches(ROOM_ID_PATTERN, { message: 'roomId must be 1-64 of a-z 0-9 _ - (starting with a letter or digit)' })
  roomId: string;
}

export class CreateRoomRequest extends withRoomSettings(Empty) {
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
}

export class SendMessageRequest extends withMessageContent(RoomRef) {}

const POSITION = { min: 1, max: Number.MAX_SAFE_INTEGER };

/**
 * A page of a room's history: at most one of `before`, `after`, `around` and `at` (none: the
 * newest page). Stream positions are below 2^53, so larger values are refused here rather than
 * failing in Postgres (bigint) with an INTERNAL error.
 */
export class HistoryPageRequest extends RoomRef {
  /** Messages strictly older than this position (the `nextBefore` of the previous page). */
  @IsOptional()
  @IsInt()
  @Min(POSITION.min)
  @Max(POSITION.max)
  before?: number;
  /** Messages strictly newer than this position (the `nextAfter` of the previous page). */
  @IsOptional()
  @IsInt()
  @Min(POSITION.min)
  @Max(POSITION.max)
  after?: number;
  /** The message at this position (or the nearest), with older and newer ones around it. */
  @IsOptional()
  @IsInt()
  @Min(POSITION.min)
  @Max(POSITION.max)
  around?: number;
  /** An ISO-8601 time: like `around`, anchored at the first message at or after it. */
  @IsOptional()
  @IsISO8601({ strict: true })
  at?: string;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Limits.historyPageMax)
  limit?: number;
}

/** A message of a room or conversation. */
export class MessageRef extends RoomRef {
  @IsUUID()
  messageId: string;
}

export class EditMessageRequest extends MessageRef {
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.messageMaxChars)
  body: string;
}

export class ReactionRequest extends MessageRef {
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.emojiMaxChars)
  @Validate(EmojiConstraint)
  emoji: string;
}

export class SetRetentionRequest extends RoomRef {
  /** Days to keep messages; null: the deployment's default. */
  @IsOptional()
  @Nullable()
  @IsInt()
  @Min(1)
  @Max(Limits.retentionDaysMax)
  days?: number | null;
}

export class SearchRequest {
  /** Words (all must match), "quoted phrases", Chinese/Japanese/Korean text with or without spaces. */
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.searchQueryMaxChars)
  query: string;
  @IsOptional()
  @IsString()
  @Matches(ROOM_ID_PATTERN, { message: 'roomId must be 1-64 of a-z 0-9 _ - (starting with a letter or digit)' })
  roomId?: string;
  @IsOptional()
  @IsUUID()
  senderId?: string;
  /** ISO-8601 time: only messages at or after it. */
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;
  /** ISO-8601 time: only messages before it. */
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
  /** `newest` (default) or `relevance`. */
  @IsOptional()
  @IsIn(['newest', 'relevance'])
  order?: 'newest' | 'relevance';
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Limits.searchOffsetMax)
  offset?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Limits.searchPageMax)
  limit?: number;
}

export class MarkReadRequest extends RoomRef {
  /** The position of the newest message read; markers only move forward. */
  @IsInt()
  @Min(POSITION.min)
  @Max(POSITION.max)
  position: number;
}

export class StatsRequest {
  /** A room (its owner and admins, or a server administrator); absent: every room (server administrators only). */
  @IsOptional()
  @IsString()
  @Matches(ROOM_ID_PATTERN, { message: 'roomId must be 1-64 of a-z 0-9 _ - (starting with a letter or digit)' })
  roomId?: string;
  /** First day, YYYY-MM-DD (UTC); default 29 days before `to`. */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'from must be YYYY-MM-DD' })
  from?: string;
  /** Last day, YYYY-MM-DD (UTC), inclusive; default today. */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'to must be YYYY-MM-DD' })
  to?: string;
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
export class UpdateRoomRequest extends withRoomSettings(RoomRef) {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.roomNameMaxChars)
  @Validate(DisplayNameConstraint)
  name?: string;
}

/** A private message to a user by name; opens the conversation if it is the first. */
export class DirectSendRequest extends withMessageContent(Empty) {
  @IsString()
  @MinLength(1)
  @MaxLength(Limits.usernameMaxChars * 4)
  username: string;
}

export class UserRef {
  @IsUUID()
  userId: string;
}

export class SetStatusRequest {
  @IsIn(['online', 'away', 'busy', 'invisible'])
  status: ChosenStatus;
  /** Custom status text; null or absent clears it. Trimmed; at most Limits.statusTextMaxChars code points, no line breaks. */
  @IsOptional()
  @Nullable()
  @IsString()
  @MaxLength(Limits.statusTextMaxChars * 2)
  text?: string | null;
}

/** `typing`: the caller started (true) or stopped (false) typing in a room or conversation. */
export class TypingRequest extends RoomRef {
  @IsBoolean()
  typing: boolean;
}

/** `presence.contacts` and `presence.list`: a page of users (in user id order). */
export class PresencePageRequest {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Limits.presenceListPageMax)
  limit?: number;
}

/** `presence.room`: statuses of a room's members, a page at a time (the member list's order). */
export class PresenceRoomRequest extends RoomRef {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Limits.presencePageMax)
  limit?: number;
}

// ---- Requests between services (RPC). The gateway adds who is asking. ----

/**
 * The caller fields the gateway adds to a forwarded request, one mixin per `CallerKind`
 * (ws/operations.ts): `user` (userId, username), `userId`, and for requests whose own `userId`
 * names the target, `actor` (actorId, actorName) and `actorId`.
 */
function asUser<B extends Ctor>(Base: B) {
  class WithUser extends Base {
    @IsUUID() userId: string;
    @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) username: string;
  }
  return WithUser;
}
function asUserId<B extends Ctor>(Base: B) {
  class WithUserId extends Base {
    @IsUUID() userId: string;
  }
  return WithUserId;
}
function asActor<B extends Ctor>(Base: B) {
  class WithActor extends Base {
    @IsUUID() actorId: string;
    @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) actorName: string;
  }
  return WithActor;
}
function asActorId<B extends Ctor>(Base: B) {
  class WithActorId extends Base {
    @IsUUID() actorId: string;
  }
  return WithActorId;
}

export class Caller extends asUser(Empty) {}
export class ListRoomsRpc extends asUserId(Empty) {}
export class UserRoomsRpc extends asUserId(Empty) {}
export class CreateRoomRpc extends asUser(CreateRoomRequest) {}
export class RoomMembershipRpc extends asUser(RoomRef) {}
export class PostMessageRpc extends asUser(SendMessageRequest) {
  /** Set only by the moderation service when a moderator approves a held message (never by a client: the op's DTO lacks it). */
  @IsOptional() @IsUUID() heldReportId?: string;
}
/** History authorises the read itself: `userId` is the caller, from the verified token. */
export class HistoryPageRpc extends asUserId(HistoryPageRequest) {}
/** `presence.list` answers server administrators only (FORBIDDEN for anyone else). */
export class PresenceListRpc extends asUser(PresencePageRequest) {}
export class PresenceContactsRpc extends asUser(PresencePageRequest) {}
export class SetStatusRpc extends asUser(SetStatusRequest) {}
export class PresenceRoomRpc extends asActorId(PresenceRoomRequest) {}
/** The rooms service's view of whom a user's presence reaches (see rooms.presenceAudience). */
export class PresenceAudienceRpc extends asUserId(Empty) {
  /** Rooms with more members than this are left out (their members ask `presence.room`). */
  @IsInt()
  @Min(2)
  @Max(Limits.memberLimitMax)
  maxMembers: number;
  /**
   * A page of the contacts (distinct members of those rooms, caller included, in user id
   * order) is wanted too: `contactsLimit` of them from `contactsOffset`. Without
   * `contactsLimit` only the rooms are answered (the fan-out's question, answered without
   * building the contacts).
   */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  contactsOffset?: number;
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Limits.presenceListPageMax)
  contactsLimit?: number;
}
export class ModerationCheckRpc extends RoomRef {
  @IsUUID() senderId: string;
  @IsString() @MinLength(1) @MaxLength(Limits.usernameMaxChars) senderName: string;
  @IsIn(['owner', 'admin', 'member']) senderRole: MemberRole;
  @IsIn(['post', 'edit']) kind: 'post' | 'edit';
  @IsOptional() @Nullable() @IsString() @MaxLength(Limits.clientMsgIdMaxChars) clientMsgId: string | null;
  @IsString() @MaxLength(Limits.messageMaxChars * 4) body: string;
  @IsOptional() @Nullable() @IsUUID() heldReportId: string | null;
}
export class DirectoryRpc extends asUserId(DirectoryRequest) {}
export class RoomMembersRpc extends asActorId(RoomMembersRequest) {}
export class RoomQueryRpc extends asUserId(RoomRef) {}
export class InviteRpc extends asActor(InviteRequest) {}
export class SanctionRpc extends asActor(SanctionRequest) {}
export class RoomUserRpc extends asActor(RoomUserRequest) {}
export class SetRoleRpc extends asActor(SetRoleRequest) {}
export class UpdateRoomRpc extends asUser(UpdateRoomRequest) {}
export class DirectSendRpc extends asActor(DirectSendRequest) {}
export class BlockRpc extends asActor(UserRef) {}
export class CallerRpc extends asUser(Empty) {}
export class EditMessageRpc extends asUser(EditMessageRequest) {}
export class DeleteMessageRpc extends asUser(MessageRef) {}
export class ReactionRpc extends asUser(ReactionRequest) {}
export class SetRetentionRpc extends asUser(SetRetentionRequest) {}
/** A message as history holds it, for the rooms service deciding an edit, deletion, reaction or reply. */
export class HistoryMessageRpc extends asUserId(MessageRef) {}
export class SearchRpc extends asUserId(SearchRequest) {}
export class MarkReadRpc extends asUserId(MarkReadRequest) {}
export class StatsRpc extends asUser(StatsRequest) {}

// ---------------------------------------------------------------------------------------------
// Moderation (docs/protocol.md, "Moderation"). Server-scope operations need a server role
// (administrator or moderator); room-scope ones (a `roomId` given) also accept the room's
// owner and admins.

const REPORT_ID = { message: 'reportId must be a UUID' };

export class WordEntryDto {
  @IsString() @MinLength(1) @MaxLength(FilterLimits.termMaxChars) term: string;
  @IsIn(['mask', 'block']) action: WordAction;
}
export class PatternEntryDto {
  @IsString() @MinLength(1) @MaxLength(FilterLimits.patternNameMaxChars) name: string;
  /** Checked by the moderation service too: it must compile (flags `iu`) and be free of catastrophic backtracking. */
  @IsString() @MinLength(1) @MaxLength(FilterLimits.patternMaxChars) pattern: string;
  @IsIn(['mask', 'block', 'hold']) action: HoldAction;
}
export class DomainEntryDto {
  @IsString()
  @Matches(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/, {
    message: 'domain must be a lower-case host name such as example.com (no scheme, no path)',
  })
  domain: string;
  @IsIn(['allow', 'hold', 'block']) action: LinkAction;
}
export class LinkPolicyDto {
  @IsOptional() @Nullable() @IsIn(['allow', 'hold', 'block']) default: LinkAction | null;
  @IsArray() @ArrayMaxSize(FilterLimits.domainsMax) @ValidateNested({ each: true }) @Type(() => DomainEntryDto) domains: DomainEntryDto[];
}
export class SpamPolicyDto {
  /** 0: off; otherwise FilterLimits.repeatedCharsMin-repeatedCharsMax; null: the server's. */
  @IsOptional() @Nullable() @IsInt() @Min(0) @Max(FilterLimits.repeatedCharsMax) repeatedCharsMax: number | null;
  @IsOptional() @Nullable() @IsInt() @Min(0) @Max(100) capsPercentMax: number | null;
  @IsOptional() @Nullable() @IsInt() @Min(1) @Max(FilterLimits.capsMinLettersMax) capsMinLetters: number | null;
}
export class FilterConfigDto {
  @IsArray() @ArrayMaxSize(FilterLimits.wordsMax) @ValidateNested({ each: true }) @Type(() => WordEntryDto) words: WordEntryDto[];
  @IsArray()
  @ArrayMaxSize(FilterLimits.allowMax)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(FilterLimits.termMaxChars, { each: true })
  allow: string[];
  @IsArray()
  @ArrayMaxSize(FilterLimits.patternsMax)
  @ValidateNested({ each: true })
  @Type(() => PatternEntryDto)
  patterns: PatternEntryDto[];
  @IsObject() @ValidateNested() @Type(() => LinkPolicyDto) links: LinkPolicyDto;
  @IsObject() @ValidateNested() @Type(() => SpamPolicyDto) spam: SpamPolicyDto;
}

/** A scope: the server (no roomId) or one room. */
export class FilterScopeRequest {
  @IsOptional()
  @IsString()
  @Matches(ROOM_ID_PATTERN, { message: 'roomId must be 1-64 of a-z 0-9 _ - (starting with a letter or digit)' })
  roomId?: string;
}
export class SetFiltersRequest extends FilterScopeRequest {
  // ValidateNested passes an absent value: IsObject makes `config`, `links` and `spam` required.
  @IsObject() @ValidateNested() @Type(() => FilterConfigDto) config: FilterConfigDto;
}
export class TestFiltersRequest extends FilterScopeRequest {
  @IsString() @MinLength(1) @MaxLength(Limits.messageMaxChars) body: string;
}
export class SetServerRoleRequest extends UserRef {
  @IsOptional() @Nullable() @IsIn(['admin', 'moderator']) role: ServerRole | null;
}
export class ModReasonRequest extends UserRef {
  @IsOptional() @IsString() @MaxLength(Limits.reasonMaxChars) reason?: string;
}
export class MuteRequest extends ModReasonRequest {
  /** A room mute (room owners and admins may give it); absent: server-wide (server roles only). */
  @IsOptional()
  @IsString()
  @Matches(ROOM_ID_PATTERN, { message: 'roomId must be 1-64 of a-z 0-9 _ - (starting with a letter or digit)' })
  roomId?: string;
  /** 1 s to 30 days. */
  @IsInt() @Min(1) @Max(Limits.muteSecondsMax) seconds: number;
}
export class UnmuteRequest extends UserRef {
  @IsOptional()
  @IsString()
  @Matches(ROOM_ID_PATTERN, { message: 'roomId must be 1-64 of a-z 0-9 _ - (starting with a letter or digit)' })
  roomId?: string;
}
export class WarnRequest extends UserRef {
  @IsString() @MinLength(1) @MaxLength(Limits.reasonMaxChars) reason: string;
}
export class ReportMessageRequest extends MessageRef {
  @IsString() @MinLength(1) @MaxLength(Limits.reasonMaxChars) reason: string;
}
export class ReportRef {
  @IsUUID('all', REPORT_ID) reportId: string;
}
export class CloseReportRequest extends ReportRef {
  @IsOptional() @IsString() @MaxLength(Limits.reasonMaxChars) note?: string;
  /** What was done (resolve only), e.g. "warned", "message deleted"; approving a held message needs none. */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(80) action?: string;
}
export class ReportsRequest {
  /** Absent: open and claimed. */
  @IsOptional() @IsIn(['open', 'claimed', 'resolved', 'dismissed']) state?: ReportState;
  /** Reports filed before this position (the `nextBefore` of the previous page). */
  @IsOptional() @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER) before?: number;
  @IsOptional() @IsInt() @Min(1) @Max(Limits.listPageMax) limit?: number;
}
export class AuditRequest {
  /** Only entries about this user (as target or actor). */
  @IsOptional() @IsUUID() userId?: string;
  @IsOptional()
  @IsString()
  @Matches(ROOM_ID_PATTERN, { message: 'roomId must be 1-64 of a-z 0-9 _ - (starting with a letter or digit)' })
  roomId?: string;
  @IsOptional() @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER) before?: number;
  @IsOptional() @IsInt() @Min(1) @Max(Limits.listPageMax) limit?: number;
}
/** Internal (moderation -> rooms, never a client op): delete a message on a rule's verdict. */
export class ModeratorDeleteRpc extends MessageRef {
  @IsString() @MinLength(1) @MaxLength(Limits.reasonMaxChars) reason: string;
  @IsString() @MinLength(1) @MaxLength(64) rule: string;
}

export class FiltersRpc extends asUser(FilterScopeRequest) {}
export class SetFiltersRpc extends asUser(SetFiltersRequest) {}
export class TestFiltersRpc extends asUser(TestFiltersRequest) {}
export class SetServerRoleRpc extends asActor(SetServerRoleRequest) {}
export class MuteRpc extends asActor(MuteRequest) {}
export class UnmuteRpc extends asActor(UnmuteRequest) {}
export class WarnRpc extends asActor(WarnRequest) {}
export class ModSanctionRpc extends asActor(ModReasonRequest) {}
export class ModUserRpc extends asActor(UserRef) {}
export class MutesRpc extends asUser(FilterScopeRequest) {}
export class ReportMessageRpc extends asUser(ReportMessageRequest) {}
export class ReportRpc extends asUser(ReportRef) {}
export class CloseReportRpc extends asUser(CloseReportRequest) {}
export class ReportsRpc extends asUser(ReportsRequest) {}
/** The caller as actor: the request's own `userId` is the audit filter. */
export class AuditRpc extends asActor(AuditRequest) {}
