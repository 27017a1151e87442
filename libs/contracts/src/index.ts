// The public surface of @chat/contracts: every item by name, so what other projects may rely
// on is a deliberate list (a new module's exports are added here, one by one).
export { assertNever, makeEvent, type Actor, type Event, type EventContext, type EventMeta, type Positioned } from './envelope';
export { ChatError, ErrorCodes, fail, isErrorCode, ok, type ErrorBody, type ErrorCode, type Result } from './errors';
export {
  DEFAULT_ROOM_ID,
  DIRECT_ROOM_PREFIX,
  GROUP_ROOM_ID_PATTERN,
  NAMESPACE_PATTERN,
  ROOM_ID_PATTERN,
  USER_ID_PATTERN,
  directRoomId,
  isDirectRoomId,
  isRoomId,
  isUserId,
} from './ids';
export { createSubjects, type Subjects } from './subjects';
export {
  CommandNames,
  Rpc,
  RpcHeaders,
  RpcNames,
  RpcOperations,
  RpcRequestDtos,
  reply,
  rpcService,
  type Command,
  type CommandName,
  type Query,
  type QueryName,
  type Reply,
  type ReplyOf,
  type RpcContract,
  type RpcName,
  type RpcRequest,
  type RpcResponse,
  type RpcService,
} from './rpc';
export {
  AuthRequest,
  BlockRpc,
  Caller,
  CallerRpc,
  DirectSendRequest,
  DirectSendRpc,
  DirectoryRequest,
  DirectoryRpc,
  InviteRequest,
  InviteRpc,
  RoomMembersRequest,
  RoomMembersRpc,
  RoomQueryRpc,
  RoomUserRequest,
  RoomUserRpc,
  SanctionRequest,
  SanctionRpc,
  SetRoleRequest,
  SetRoleRpc,
  UpdateRoomRequest,
  UpdateRoomRpc,
  UserRef,
  CreateRoomRequest,
  CreateRoomRpc,
  HistoryPageRequest,
  HistoryPageRpc,
  Limits,
  ListRoomsRpc,
  LoginRequest,
  ModerationCheckRpc,
  PostMessageRpc,
  PresenceListRpc,
  RegisterRequest,
  RoomMembershipRpc,
  RoomRef,
  SendMessageRequest,
  SetStatusRequest,
  UserRoomsRpc,
} from './dto';
export {
  type BanView,
  type BlockView,
  type CommandAck,
  type ConversationView,
  type DirectoryPage,
  type InvitationView,
  type MemberView,
  type MembersPage,
  type RoomDetails,
  type HistoryPage,
  type MembershipAck,
  type MessageView,
  type PostAck,
  type PresenceView,
  type RoomSummary,
  type UserView,
} from './views';
export { MAX_INPUT_DEPTH, validateInput } from './validation';
export {
  type ConversationOpened,
  type InvitationDeclined,
  type MemberBanned,
  type MemberInvited,
  type MemberKicked,
  type MemberLeftV1Payload,
  type MemberRoleChanged,
  type MemberUnbanned,
  type OwnershipTransferred,
  type RoomDeleted,
  type RoomKind,
  type RoomSettingsChanged,
  type UserBlocked,
  type UserUnblocked,
  type MemberJoined,
  type MemberLeft,
  type MemberRole,
  type PostPolicy,
  type RoomCreated,
  type RoomEvent,
  type RoomEventType,
  type RoomSettings,
  type RoomVisibility,
} from './rooms/events';
export { type ChatEvent, type MessageEvent, type MessageEventType, type MessagePosted } from './messages/events';
export { type AccessTokenClaims, type AccountEvent, type AccountRecord, type UserRegistered } from './accounts/events';
export { canonicalUsername, displayUsername, usernameKey } from './accounts/usernames';
export {
  PresenceStatuses,
  type GatewayHeartbeat,
  type GatewaySignal,
  type PresenceChanged,
  type PresenceEvent,
  type PresenceStatus,
  type SettableStatus,
} from './presence/events';
export { type ModerationCheckRequest, type ModerationVerdict } from './moderation/check';
export {
  PROTOCOL_VERSION,
  WsCloseCodes,
  WsLimits,
  WsOpNames,
  type WsEventFrame,
  type WsEventName,
  type WsEvents,
  type WsOp,
  type WsOps,
  type WsReplyFrame,
  type WsRequestFrame,
  type WsServerFrame,
} from './ws/protocol';
export {
  WsOperations,
  callerFields,
  isWsOp,
  wsOperation,
  type CallerFields,
  type CallerKind,
  type LocalOp,
  type LocalWsOp,
  type RequestOf,
  type RpcOfWsOp,
  type RpcOp,
  type RpcWsOp,
} from './ws/operations';
import type { AccountEvent } from './accounts/events';
import type { ChatEvent } from './messages/events';
import type { PresenceEvent } from './presence/events';
/** Every event the system appends, across streams. */
export type DomainEvent = ChatEvent | AccountEvent | PresenceEvent;
export {
  checks,
  createDecoder,
  readPayload,
  upcaster,
  type Check,
  type DecodeFailure,
  type Decoded,
  type EventDecoder,
  type EventSpec,
  type EventSpecs,
  type PayloadSpec,
  type Upcaster,
  type Upcasters,
} from './events/decoder';
export { isRoomEventType, roomEventSpecs, roomEventTypes, roomEventUpcasters } from './rooms/decode';
export { usersToNotify } from './rooms/notify';
export {
  chatDecoder,
  chatEventSpecs,
  chatEventTypes,
  chatEventUpcasters,
  decodeChatEvent,
  isMessageEvent,
  isRoomEvent,
  messageEventSpecs,
  messageEventTypes,
} from './messages/decode';
export { accountDecoder, accountEventSpecs, accountEventTypes, accountEventUpcasters, decodeAccountEvent } from './accounts/decode';
export { decodePresenceEvent, presenceDecoder, presenceEventSpecs, presenceEventTypes, presenceEventUpcasters } from './presence/decode';
