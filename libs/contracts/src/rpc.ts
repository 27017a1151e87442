import {
  DeleteMessageRpc,
  EditMessageRpc,
  HistoryMessageRpc,
  MarkReadRpc,
  ReactionRpc,
  SearchRpc,
  SetRetentionRpc,
  StatsRpc,
  BlockRpc,
  CallerRpc,
  CreateRoomRpc,
  DirectSendRpc,
  DirectoryRpc,
  InviteRpc,
  RoomMembersRpc,
  RoomQueryRpc,
  RoomUserRpc,
  SanctionRpc,
  SetRoleRpc,
  UpdateRoomRpc,
  HistoryPageRpc,
  ListRoomsRpc,
  ModerationCheckRpc,
  PostMessageRpc,
  PresenceListRpc,
  PresenceContactsRpc,
  PresenceAudienceRpc,
  PresenceRoomRpc,
  SetStatusRpc,
  RoomMembershipRpc,
  UserRoomsRpc,
  AuditRpc,
  CloseReportRpc,
  FiltersRpc,
  ModSanctionRpc,
  ModUserRpc,
  ModeratorDeleteRpc,
  MuteRpc,
  MutesRpc,
  ReportMessageRpc,
  ReportRpc,
  ReportsRpc,
  SetFiltersRpc,
  SetServerRoleRpc,
  TestFiltersRpc,
  UnmuteRpc,
  WarnRpc,
} from './dto';
import type {
  AuditEntry,
  FilterConfigView,
  ModAck,
  MuteView,
  OwnModerationView,
  ReportView,
  ServerBanView,
  ServerRoleView,
} from './moderation/views';
import type { ModerationVerdict } from './moderation/check';
import type {
  BanView,
  BlockView,
  CommandAck,
  ConversationView,
  DirectoryPage,
  HistoryPage,
  InvitationView,
  MembersPage,
  MessageView,
  ReadStateView,
  RetentionRunView,
  SearchPage,
  StatsView,
  MembershipAck,
  PostAck,
  OwnPresenceView,
  PresenceView,
  RoomDetails,
  RoomSummary,
} from './views';

/**
 * The reply type of an operation, carried in a table as a value without content: the tables
 * below hold request DTO classes (values, needed at run time for validation) next to reply
 * types (needed only by the compiler), and `reply<T>()` is how a type sits among values.
 */
export interface Reply<T> {
  readonly __reply?: T;
}
export const reply = <T>(): Reply<T> => ({});
export type ReplyOf<R> = R extends Reply<infer T> ? T : never;

/**
 * Request/reply operations between services, `<service>.<operation>`: THE table. Each entry is
 * the DTO class that validates the request at the receiving service, the reply type, and
 * whether the operation decides and may append events (`command`) or only reads or advises
 * (`query`). Everything else (`RpcContract`, `Rpc`, `RpcRequestDtos`, `CommandNames`) is
 * derived from it. Each operation is served by a queue group named after the service (the part
 * before the dot), so any number of replicas may run; its handler is a
 * `@MessagePattern(Rpc.<camelName>)` in that service. Replies are `Result<Res>` envelopes (see
 * errors.ts); transport failures surface as UNAVAILABLE.
 */
export const RpcOperations = {
  'rooms.list': { dto: ListRoomsRpc, res: reply<RoomSummary[]>(), kind: 'query' },
  'rooms.userRooms': { dto: UserRoomsRpc, res: reply<{ roomIds: string[] }>(), kind: 'query' },
  'rooms.create': { dto: CreateRoomRpc, res: reply<MembershipAck>(), kind: 'command' },
  'rooms.join': { dto: RoomMembershipRpc, res: reply<MembershipAck>(), kind: 'command' },
  'rooms.leave': { dto: RoomMembershipRpc, res: reply<{ roomId: string; position: number }>(), kind: 'command' },
  'rooms.post': { dto: PostMessageRpc, res: reply<PostAck>(), kind: 'command' },
  'rooms.directory': { dto: DirectoryRpc, res: reply<DirectoryPage>(), kind: 'query' },
  'rooms.mine': { dto: CallerRpc, res: reply<{ rooms: RoomSummary[] }>(), kind: 'query' },
  'rooms.details': { dto: RoomQueryRpc, res: reply<RoomDetails>(), kind: 'query' },
  'rooms.members': { dto: RoomMembersRpc, res: reply<MembersPage>(), kind: 'query' },
  'rooms.invite': { dto: InviteRpc, res: reply<CommandAck & { userId: string }>(), kind: 'command' },
  'rooms.acceptInvitation': { dto: RoomMembershipRpc, res: reply<MembershipAck>(), kind: 'command' },
  'rooms.declineInvitation': { dto: RoomMembershipRpc, res: reply<CommandAck>(), kind: 'command' },
  'rooms.invitations': { dto: CallerRpc, res: reply<{ invitations: InvitationView[] }>(), kind: 'query' },
  'rooms.kick': { dto: SanctionRpc, res: reply<CommandAck>(), kind: 'command' },
  'rooms.ban': { dto: SanctionRpc, res: reply<CommandAck>(), kind: 'command' },
  'rooms.unban': { dto: RoomUserRpc, res: reply<CommandAck>(), kind: 'command' },
  'rooms.bans': { dto: RoomQueryRpc, res: reply<{ roomId: string; bans: BanView[] }>(), kind: 'query' },
  'rooms.update': { dto: UpdateRoomRpc, res: reply<MembershipAck>(), kind: 'command' },
  'rooms.setRole': { dto: SetRoleRpc, res: reply<CommandAck>(), kind: 'command' },
  'rooms.transfer': { dto: RoomUserRpc, res: reply<CommandAck>(), kind: 'command' },
  'rooms.delete': { dto: RoomMembershipRpc, res: reply<CommandAck>(), kind: 'command' },
  'rooms.directSend': { dto: DirectSendRpc, res: reply<PostAck>(), kind: 'command' },
  'rooms.block': { dto: BlockRpc, res: reply<CommandAck>(), kind: 'command' },
  'rooms.unblock': { dto: BlockRpc, res: reply<CommandAck>(), kind: 'command' },
  'rooms.blocks': { dto: CallerRpc, res: reply<{ blocks: BlockView[] }>(), kind: 'query' },
  'rooms.editMessage': { dto: EditMessageRpc, res: reply<CommandAck & { messageId: string }>(), kind: 'command' },
  'rooms.deleteMessage': { dto: DeleteMessageRpc, res: reply<CommandAck & { messageId: string }>(), kind: 'command' },
  'rooms.addReaction': { dto: ReactionRpc, res: reply<CommandAck & { messageId: string }>(), kind: 'command' },
  'rooms.removeReaction': { dto: ReactionRpc, res: reply<CommandAck & { messageId: string }>(), kind: 'command' },
  'rooms.setRetention': { dto: SetRetentionRpc, res: reply<CommandAck & { days: number | null }>(), kind: 'command' },
  'history.message': { dto: HistoryMessageRpc, res: reply<MessageView>(), kind: 'query' },
  'history.search': { dto: SearchRpc, res: reply<SearchPage>(), kind: 'query' },
  // Moves the caller's read marker (KV ns_reads, a compacted stream): a command of history's.
  'history.markRead': { dto: MarkReadRpc, res: reply<ReadStateView>(), kind: 'command' },
  'history.readState': { dto: CallerRpc, res: reply<{ rooms: ReadStateView[] }>(), kind: 'query' },
  'history.stats': { dto: StatsRpc, res: reply<StatsView>(), kind: 'query' },
  'history.retentionRuns': { dto: CallerRpc, res: reply<{ runs: RetentionRunView[] }>(), kind: 'query' },
  'history.conversations': { dto: CallerRpc, res: reply<{ conversations: ConversationView[] }>(), kind: 'query' },
  'history.page': { dto: HistoryPageRpc, res: reply<HistoryPage>(), kind: 'query' },
  /**
   * The user's rooms and conversations with at most `maxMembers` members: where a change of the
   * user's status is pushed (presence fan-out), and whose members are the user's contacts.
   */
  'rooms.presenceAudience': {
    dto: PresenceAudienceRpc,
    /** `contactIds`/`contactTotal` only when `contactsLimit` was given. */
    res: reply<{ roomIds: string[]; contactIds?: string[]; contactTotal?: number }>(),
    kind: 'query',
  },
  /** Every non-offline user of the server: server administrators only. */
  'presence.list': { dto: PresenceListRpc, res: reply<{ users: PresenceView[]; total: number }>(), kind: 'query' },
  /** The caller's choice (KV ns_presence, CAS), applied by every presence replica. */
  'presence.set': { dto: SetStatusRpc, res: reply<OwnPresenceView>(), kind: 'command' },
  /** Statuses of a page of a room's members (member list order); members only. */
  'presence.room': { dto: PresenceRoomRpc, res: reply<{ roomId: string; users: PresenceView[]; total: number }>(), kind: 'query' },
  /** Statuses of the caller's contacts (members of their rooms up to the fan-out size) and their own choice. */
  'presence.contacts': {
    dto: PresenceContactsRpc,
    res: reply<{ users: PresenceView[]; total: number; mine: OwnPresenceView }>(),
    kind: 'query',
  },
  'moderation.check': { dto: ModerationCheckRpc, res: reply<ModerationVerdict>(), kind: 'query' },
  // Moderation (docs/protocol.md, "Moderation"): filters, server roles, sanctions, reports, audit.
  'moderation.filters': { dto: FiltersRpc, res: reply<FilterConfigView>(), kind: 'query' },
  'moderation.setFilters': {
    dto: SetFiltersRpc,
    res: reply<ModAck & { scope: 'server' | 'room'; roomId: string | null }>(),
    kind: 'command',
  },
  /** What the filters of a scope would do to a text, without posting or striking anything. */
  'moderation.testFilters': { dto: TestFiltersRpc, res: reply<ModerationVerdict>(), kind: 'query' },
  'moderation.roles': { dto: CallerRpc, res: reply<{ roles: ServerRoleView[] }>(), kind: 'query' },
  'moderation.setRole': { dto: SetServerRoleRpc, res: reply<ModAck>(), kind: 'command' },
  'moderation.mute': { dto: MuteRpc, res: reply<ModAck & { mute: MuteView }>(), kind: 'command' },
  'moderation.unmute': { dto: UnmuteRpc, res: reply<ModAck>(), kind: 'command' },
  'moderation.mutes': { dto: MutesRpc, res: reply<{ mutes: MuteView[] }>(), kind: 'query' },
  'moderation.warn': { dto: WarnRpc, res: reply<ModAck>(), kind: 'command' },
  'moderation.kick': { dto: ModSanctionRpc, res: reply<ModAck>(), kind: 'command' },
  'moderation.ban': { dto: ModSanctionRpc, res: reply<ModAck>(), kind: 'command' },
  'moderation.unban': { dto: ModUserRpc, res: reply<ModAck>(), kind: 'command' },
  'moderation.bans': { dto: CallerRpc, res: reply<{ bans: ServerBanView[] }>(), kind: 'query' },
  'moderation.report': { dto: ReportMessageRpc, res: reply<ModAck & { reportId: string }>(), kind: 'command' },
  'moderation.reports': { dto: ReportsRpc, res: reply<{ reports: ReportView[]; nextBefore: number | null }>(), kind: 'query' },
  'moderation.claimReport': { dto: ReportRpc, res: reply<ModAck>(), kind: 'command' },
  'moderation.resolveReport': { dto: CloseReportRpc, res: reply<ModAck>(), kind: 'command' },
  'moderation.dismissReport': { dto: CloseReportRpc, res: reply<ModAck>(), kind: 'command' },
  'moderation.audit': { dto: AuditRpc, res: reply<{ entries: AuditEntry[]; nextBefore: number | null }>(), kind: 'query' },
  'moderation.me': { dto: CallerRpc, res: reply<OwnModerationView>(), kind: 'query' },
  /** Internal (moderation -> rooms): delete a message on a rule's verdict, as the moderation service. */
  'rooms.moderatorDelete': { dto: ModeratorDeleteRpc, res: reply<CommandAck & { messageId: string }>(), kind: 'command' },
} as const satisfies Record<`${string}.${string}`, { dto: new () => object; res: Reply<unknown>; kind: 'command' | 'query' }>;

type RpcTable = typeof RpcOperations;
export type RpcName = keyof RpcTable;
export type RpcContract = { [N in RpcName]: { req: InstanceType<RpcTable[N]['dto']>; res: ReplyOf<RpcTable[N]['res']> } };
export type RpcRequest<N extends RpcName> = RpcContract[N]['req'];
export type RpcResponse<N extends RpcName> = RpcContract[N]['res'];

/** All operation names, in table order. */
export const RpcNames = Object.keys(RpcOperations) as RpcName[];

/** `rooms.userRooms` -> `roomsUserRooms`: the key of an operation in `Rpc`. */
type CamelName<N extends string> = N extends `${infer S}.${infer O}` ? `${S}${Capitalize<O>}` : never;
const camelName = (name: string) => name.replace(/\.(.)/, (_, c: string) => c.toUpperCase());

/** Names as values, for decorators and lookups: `@MessagePattern(Rpc.roomsPost)`. */
export const Rpc = Object.fromEntries(RpcNames.map((n) => [camelName(n), n])) as { readonly [N in RpcName as CamelName<N>]: N };

/** The DTO class that validates each operation's request at the receiving service. */
export const RpcRequestDtos = Object.fromEntries(RpcNames.map((n) => [n, RpcOperations[n].dto])) as {
  readonly [N in RpcName]: new () => RpcRequest<N>;
};

/** The services that answer operations (queue groups). */
export type RpcService = RpcName extends `${infer S}.${string}` ? S : never;
/** The service (queue group) that serves an operation. */
export const rpcService = <N extends RpcName>(name: N) => name.split('.')[0] as N extends `${infer S}.${string}` ? S : never;

/** Headers carried on RPC requests so that events can be correlated to the client request. */
export const RpcHeaders = {
  correlationId: 'Chat-Correlation-Id',
} as const;

/** Operations that decide and may append events (commands, in the imperative). */
export type CommandName = { [N in RpcName]: RpcTable[N]['kind'] extends 'command' ? N : never }[RpcName];
export const CommandNames = RpcNames.filter((n): n is CommandName => RpcOperations[n].kind === 'command');
/** Operations that only read (queries) or advise (moderation.check). */
export type QueryName = Exclude<RpcName, CommandName>;

/** Discriminated unions of every command and query with its request, for routing and logs. */
export type Command = { [N in CommandName]: { name: N; request: RpcRequest<N> } }[CommandName];
export type Query = { [N in QueryName]: { name: N; request: RpcRequest<N> } }[QueryName];
