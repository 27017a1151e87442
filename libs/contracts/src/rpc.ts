import type {
  CreateRoomRpc,
  HistoryPageRpc,
  ListRoomsRpc,
  ModerationCheckRpc,
  PostMessageRpc,
  PresenceListRpc,
  RoomMembershipRpc,
  UserRoomsRpc,
} from './dto';
import type { ModerationVerdict } from './moderation/check';
import type { HistoryPage, MembershipAck, PostAck, PresenceView, RoomSummary } from './views';

/**
 * Request/reply operations between services, `<service>.<operation>`. Each is served by a
 * queue group named after the service, so any number of replicas may run. Replies are
 * `Result<Res>` envelopes (see errors.ts); transport failures surface as UNAVAILABLE.
 */
export interface RpcContract {
  'rooms.list': { req: ListRoomsRpc; res: RoomSummary[] };
  'rooms.userRooms': { req: UserRoomsRpc; res: { roomIds: string[] } };
  'rooms.create': { req: CreateRoomRpc; res: MembershipAck };
  'rooms.join': { req: RoomMembershipRpc; res: MembershipAck };
  'rooms.leave': { req: RoomMembershipRpc; res: { roomId: string; position: number } };
  'rooms.post': { req: PostMessageRpc; res: PostAck };
  'history.page': { req: HistoryPageRpc; res: HistoryPage };
  'presence.list': { req: PresenceListRpc; res: { users: PresenceView[] } };
  'moderation.check': { req: ModerationCheckRpc; res: ModerationVerdict };
}
export type RpcName = keyof RpcContract;
export type RpcRequest<N extends RpcName> = RpcContract[N]['req'];
export type RpcResponse<N extends RpcName> = RpcContract[N]['res'];

/** Names as values, for decorators and lookups (kept in step with RpcContract by the type below). */
export const Rpc = {
  roomsList: 'rooms.list',
  roomsUserRooms: 'rooms.userRooms',
  roomsCreate: 'rooms.create',
  roomsJoin: 'rooms.join',
  roomsLeave: 'rooms.leave',
  roomsPost: 'rooms.post',
  historyPage: 'history.page',
  presenceList: 'presence.list',
  moderationCheck: 'moderation.check',
} as const satisfies Record<string, RpcName>;

/** The service (queue group) that serves an operation. */
export const rpcService = (name: RpcName) => name.split('.')[0] as 'rooms' | 'history' | 'presence' | 'moderation';

/** Headers carried on RPC requests so that events can be correlated to the client request. */
export const RpcHeaders = {
  correlationId: 'Chat-Correlation-Id',
} as const;

import {
  CreateRoomRpc as CreateRoomRpcDto,
  HistoryPageRpc as HistoryPageRpcDto,
  ListRoomsRpc as ListRoomsRpcDto,
  ModerationCheckRpc as ModerationCheckRpcDto,
  PostMessageRpc as PostMessageRpcDto,
  PresenceListRpc as PresenceListRpcDto,
  RoomMembershipRpc as RoomMembershipRpcDto,
  UserRoomsRpc as UserRoomsRpcDto,
} from './dto';

/** The DTO class that validates each operation's request at the receiving service. */
export const RpcRequestDtos: { [N in RpcName]: new () => RpcRequest<N> } = {
  'rooms.list': ListRoomsRpcDto,
  'rooms.userRooms': UserRoomsRpcDto,
  'rooms.create': CreateRoomRpcDto,
  'rooms.join': RoomMembershipRpcDto,
  'rooms.leave': RoomMembershipRpcDto,
  'rooms.post': PostMessageRpcDto,
  'history.page': HistoryPageRpcDto,
  'presence.list': PresenceListRpcDto,
  'moderation.check': ModerationCheckRpcDto,
};

/** Operations that decide and may append events (commands, in the imperative). */
export const CommandNames = ['rooms.create', 'rooms.join', 'rooms.leave', 'rooms.post'] as const satisfies readonly RpcName[];
export type CommandName = (typeof CommandNames)[number];
/** Operations that only read (queries) or advise (moderation.check). */
export type QueryName = Exclude<RpcName, CommandName>;

/** Discriminated unions of every command and query with its request, for routing and logs. */
export type Command = { [N in CommandName]: { name: N; request: RpcRequest<N> } }[CommandName];
export type Query = { [N in QueryName]: { name: N; request: RpcRequest<N> } }[QueryName];
