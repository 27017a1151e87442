import {
  EditMessageRequest,
  MarkReadRequest,
  MessageRef,
  ReactionRequest,
  SearchRequest,
  SetRetentionRequest,
  StatsRequest,
  AuthRequest,
  CreateRoomRequest,
  DirectSendRequest,
  DirectoryRequest,
  HistoryPageRequest,
  InviteRequest,
  RoomMembersRequest,
  RoomRef,
  RoomUserRequest,
  SanctionRequest,
  SendMessageRequest,
  SetRoleRequest,
  SetStatusRequest,
  TypingRequest,
  PresenceRoomRequest,
  PresencePageRequest,
  UpdateRoomRequest,
  UserRef,
  AuditRequest,
  CloseReportRequest,
  FilterScopeRequest,
  ModReasonRequest,
  MuteRequest,
  ReportMessageRequest,
  ReportRef,
  ReportsRequest,
  SetFiltersRequest,
  SetServerRoleRequest,
  TestFiltersRequest,
  UnmuteRequest,
  WarnRequest,
} from '../dto';
import type { ResumeResult } from './protocol';
import { reply, type Reply, type ReplyOf, type RpcName, type RpcRequest, type RpcResponse } from '../rpc';
import type { RoomSummary, UserView } from '../views';

/**
 * What the gateway adds to a forwarded request to say who is asking: `user` adds the caller's
 * `userId` and `username`, `userId` only the id; `actor` and `actorId` the same as `actorId`
 * and `actorName`, for requests whose own `userId` names another user (the target); `none`
 * nothing (the answer is the same for everyone).
 */
export interface CallerFields {
  user: { userId: string; username: string };
  userId: { userId: string };
  actor: { actorId: string; actorName: string };
  actorId: { actorId: string };
  none: object;
}
export type CallerKind = keyof CallerFields;

/** The caller fields of `kind` for `user`, as they are added to a forwarded request. */
export function callerFields<K extends CallerKind>(kind: K, user: UserView): CallerFields[K] {
  const fields: { [C in CallerKind]: CallerFields[C] } = {
    user: { userId: user.userId, username: user.username },
    userId: { userId: user.userId },
    actor: { actorId: user.userId, actorName: user.username },
    actorId: { actorId: user.userId },
    none: {},
  };
  return fields[kind];
}

/** A request DTO class, or null for an op that takes no data fields (any field is BAD_REQUEST). */
type RequestDto = (new () => object) | null;
/** The request data type of a DTO entry. */
export type RequestOf<D> = D extends new () => infer T ? T : Record<string, never>;

interface OpCommon<D extends RequestDto> {
  /** Validates the op's `data` (after the frame checks); null: the op takes no fields. */
  dto: D;
  /** false: allowed before a successful `auth` (only auth and ping). */
  auth: boolean;
  /** Requests of this op from one connection are processed one after the other (WS_ORDERED_SENDS). */
  ordered?: true;
}

/** An op the gateway answers itself; its handler is in the gateway's local handler map. */
export interface LocalOp<D extends RequestDto = RequestDto, Res = unknown> extends OpCommon<D> {
  kind: 'local';
  res: Reply<Res>;
}

/**
 * An op the gateway forwards to the service that owns it: the validated `data` plus the caller
 * fields is the RPC request; the RPC reply is the op's reply, or `reply(rpcReply)` when given.
 */
export interface RpcOp<
  D extends RequestDto = RequestDto,
  N extends RpcName = RpcName,
  C extends CallerKind = CallerKind,
  Res = unknown,
> extends OpCommon<D> {
  kind: 'rpc';
  rpc: N;
  caller: C;
  reply?: (rpcReply: RpcResponse<N>) => Res;
  res: Reply<Res>;
}

const local = <D extends RequestDto, Res>(op: OpCommon<D> & { res: Reply<Res> }): LocalOp<D, Res> => ({ kind: 'local', ...op });

/**
 * The request data plus the caller fields must be a valid RPC request (checked by the
 * compiler: a mismatch makes `forward(...)` not type-check), and an op that names its caller
 * needs an authenticated connection.
 */
function forward<D extends RequestDto, N extends RpcName, C extends CallerKind, Res = RpcResponse<N>>(
  op: OpCommon<D> & { rpc: N; caller: C; reply?: (rpcReply: RpcResponse<N>) => Res } & (RequestOf<D> & CallerFields[C] extends RpcRequest<N>
      ? unknown
      : { rpcRequestMismatch: never }) &
    (C extends 'none' ? unknown : { auth: true }),
): RpcOp<D, N, C, Res> {
  return { kind: 'rpc', ...op, res: reply<Res>() };
}

/**
 * Every WebSocket operation, declared once: its request DTO, whether it needs an authenticated
 * connection, who answers it (the gateway itself, or an RPC with how the caller is added), and
 * its reply type. `WsOps`, `WsOp` and `WsOpNames` are derived from it; the gateway validates,
 * checks authentication and forwards from it; docs/protocol.md has a `### <op>` section for
 * each (a unit test checks). Adding an op: an entry here, plus a handler where it is answered
 * (the gateway's local handler map, or the owning service's `@MessagePattern`).
 */
export const WsOperations = {
  auth: local({
    dto: AuthRequest,
    auth: false,
    res: reply<{ user: UserView; protocol: number; expiresAt: string; sessionId: string; resume?: ResumeResult }>(),
  }),
  ping: local({ dto: null, auth: false, res: reply<{ time: string }>() }),
  'rooms.list': forward({
    dto: null,
    auth: true,
    rpc: 'rooms.list',
    caller: 'userId',
    reply: (rooms: RoomSummary[]) => ({ rooms }),
  }),
  'room.create': forward({ dto: CreateRoomRequest, auth: true, rpc: 'rooms.create', caller: 'user' }),
  'room.join': forward({ dto: RoomRef, auth: true, rpc: 'rooms.join', caller: 'user' }),
  'room.leave': forward({ dto: RoomRef, auth: true, rpc: 'rooms.leave', caller: 'user' }),
  'room.directory': forward({ dto: DirectoryRequest, auth: true, rpc: 'rooms.directory', caller: 'userId' }),
  'room.mine': forward({ dto: null, auth: true, rpc: 'rooms.mine', caller: 'user' }),
  'room.details': forward({ dto: RoomRef, auth: true, rpc: 'rooms.details', caller: 'userId' }),
  'room.members': forward({ dto: RoomMembersRequest, auth: true, rpc: 'rooms.members', caller: 'actorId' }),
  'room.invite': forward({ dto: InviteRequest, auth: true, rpc: 'rooms.invite', caller: 'actor' }),
  'invitation.accept': forward({ dto: RoomRef, auth: true, rpc: 'rooms.acceptInvitation', caller: 'user' }),
  'invitation.decline': forward({ dto: RoomRef, auth: true, rpc: 'rooms.declineInvitation', caller: 'user' }),
  'invitation.list': forward({ dto: null, auth: true, rpc: 'rooms.invitations', caller: 'user' }),
  'room.kick': forward({ dto: SanctionRequest, auth: true, rpc: 'rooms.kick', caller: 'actor' }),
  'room.ban': forward({ dto: SanctionRequest, auth: true, rpc: 'rooms.ban', caller: 'actor' }),
  'room.unban': forward({ dto: RoomUserRequest, auth: true, rpc: 'rooms.unban', caller: 'actor' }),
  'room.bans': forward({ dto: RoomRef, auth: true, rpc: 'rooms.bans', caller: 'userId' }),
  'room.update': forward({ dto: UpdateRoomRequest, auth: true, rpc: 'rooms.update', caller: 'user' }),
  'room.setRole': forward({ dto: SetRoleRequest, auth: true, rpc: 'rooms.setRole', caller: 'actor' }),
  'room.transfer': forward({ dto: RoomUserRequest, auth: true, rpc: 'rooms.transfer', caller: 'actor' }),
  'room.delete': forward({ dto: RoomRef, auth: true, rpc: 'rooms.delete', caller: 'user' }),
  'message.send': forward({ dto: SendMessageRequest, auth: true, rpc: 'rooms.post', caller: 'user', ordered: true }),
  'dm.send': forward({ dto: DirectSendRequest, auth: true, rpc: 'rooms.directSend', caller: 'actor', ordered: true }),
  'dm.list': forward({ dto: null, auth: true, rpc: 'history.conversations', caller: 'user' }),
  'user.block': forward({ dto: UserRef, auth: true, rpc: 'rooms.block', caller: 'actor' }),
  'user.unblock': forward({ dto: UserRef, auth: true, rpc: 'rooms.unblock', caller: 'actor' }),
  'user.blocks': forward({ dto: null, auth: true, rpc: 'rooms.blocks', caller: 'user' }),
  'message.edit': forward({ dto: EditMessageRequest, auth: true, rpc: 'rooms.editMessage', caller: 'user' }),
  'message.delete': forward({ dto: MessageRef, auth: true, rpc: 'rooms.deleteMessage', caller: 'user' }),
  'reaction.add': forward({ dto: ReactionRequest, auth: true, rpc: 'rooms.addReaction', caller: 'user' }),
  'reaction.remove': forward({ dto: ReactionRequest, auth: true, rpc: 'rooms.removeReaction', caller: 'user' }),
  'room.setRetention': forward({ dto: SetRetentionRequest, auth: true, rpc: 'rooms.setRetention', caller: 'user' }),
  'history.page': forward({ dto: HistoryPageRequest, auth: true, rpc: 'history.page', caller: 'userId' }),
  'message.search': forward({ dto: SearchRequest, auth: true, rpc: 'history.search', caller: 'userId' }),
  'read.mark': forward({ dto: MarkReadRequest, auth: true, rpc: 'history.markRead', caller: 'userId' }),
  'read.state': forward({ dto: null, auth: true, rpc: 'history.readState', caller: 'user' }),
  'room.stats': forward({ dto: StatsRequest, auth: true, rpc: 'history.stats', caller: 'user' }),
  'admin.retentionRuns': forward({ dto: null, auth: true, rpc: 'history.retentionRuns', caller: 'user' }),
  'presence.list': forward({ dto: PresencePageRequest, auth: true, rpc: 'presence.list', caller: 'user' }),
  'presence.set': forward({ dto: SetStatusRequest, auth: true, rpc: 'presence.set', caller: 'user' }),
  'presence.room': forward({ dto: PresenceRoomRequest, auth: true, rpc: 'presence.room', caller: 'actorId' }),
  'presence.contacts': forward({ dto: PresencePageRequest, auth: true, rpc: 'presence.contacts', caller: 'user' }),
  /** The user is active on this connection (input, focus): ends automatic away. */
  'presence.active': local({ dto: null, auth: true, res: reply<{ idle: false }>() }),
  typing: local({ dto: TypingRequest, auth: true, res: reply<{ roomId: string; typing: boolean }>() }),
  // Moderation (docs/protocol.md, "Moderation").
  'report.create': forward({ dto: ReportMessageRequest, auth: true, rpc: 'moderation.report', caller: 'user' }),
  'mod.me': forward({ dto: null, auth: true, rpc: 'moderation.me', caller: 'user' }),
  'mod.filters.get': forward({ dto: FilterScopeRequest, auth: true, rpc: 'moderation.filters', caller: 'user' }),
  'mod.filters.set': forward({ dto: SetFiltersRequest, auth: true, rpc: 'moderation.setFilters', caller: 'user' }),
  'mod.filters.test': forward({ dto: TestFiltersRequest, auth: true, rpc: 'moderation.testFilters', caller: 'user' }),
  'mod.roles': forward({ dto: null, auth: true, rpc: 'moderation.roles', caller: 'user' }),
  'mod.role.set': forward({ dto: SetServerRoleRequest, auth: true, rpc: 'moderation.setRole', caller: 'actor' }),
  'mod.mute': forward({ dto: MuteRequest, auth: true, rpc: 'moderation.mute', caller: 'actor' }),
  'mod.unmute': forward({ dto: UnmuteRequest, auth: true, rpc: 'moderation.unmute', caller: 'actor' }),
  'mod.mutes': forward({ dto: FilterScopeRequest, auth: true, rpc: 'moderation.mutes', caller: 'user' }),
  'mod.warn': forward({ dto: WarnRequest, auth: true, rpc: 'moderation.warn', caller: 'actor' }),
  'mod.kick': forward({ dto: ModReasonRequest, auth: true, rpc: 'moderation.kick', caller: 'actor' }),
  'mod.ban': forward({ dto: ModReasonRequest, auth: true, rpc: 'moderation.ban', caller: 'actor' }),
  'mod.unban': forward({ dto: UserRef, auth: true, rpc: 'moderation.unban', caller: 'actor' }),
  'mod.bans': forward({ dto: null, auth: true, rpc: 'moderation.bans', caller: 'user' }),
  'mod.reports': forward({ dto: ReportsRequest, auth: true, rpc: 'moderation.reports', caller: 'user' }),
  'mod.report.claim': forward({ dto: ReportRef, auth: true, rpc: 'moderation.claimReport', caller: 'user' }),
  'mod.report.resolve': forward({ dto: CloseReportRequest, auth: true, rpc: 'moderation.resolveReport', caller: 'user' }),
  'mod.report.dismiss': forward({ dto: CloseReportRequest, auth: true, rpc: 'moderation.dismissReport', caller: 'user' }),
  'mod.audit': forward({ dto: AuditRequest, auth: true, rpc: 'moderation.audit', caller: 'actor' }),
};

type OpTable = typeof WsOperations;
export type WsOp = keyof OpTable;
/** op -> request data and reply data. */
export type WsOps = { [O in WsOp]: { req: RequestOf<OpTable[O]['dto']>; res: ReplyOf<OpTable[O]['res']> } };
/** Every op name, in table order. */
export const WsOpNames = Object.keys(WsOperations) as readonly WsOp[];

/** Ops the gateway answers itself (auth, ping, presence.active, typing). */
export type LocalWsOp = { [O in WsOp]: OpTable[O] extends LocalOp ? O : never }[WsOp];
/** Ops forwarded to a service. */
export type RpcWsOp = Exclude<WsOp, LocalWsOp>;
/** The RPC an op is forwarded to. */
export type RpcOfWsOp<O extends RpcWsOp> = OpTable[O] extends RpcOp<RequestDto, infer N> ? N : never;
/** The entry of an op, typed. */
export const wsOperation = <O extends WsOp>(op: O): OpTable[O] => WsOperations[op];
export const isWsOp = (op: string): op is WsOp => Object.prototype.hasOwnProperty.call(WsOperations, op);
