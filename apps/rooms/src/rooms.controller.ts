import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  ChatError,
  DEFAULT_ROOM_ID,
  Limits,
  Rpc,
  type BanView,
  type BlockRpc,
  type BlockView,
  type CallerRpc,
  type CommandAck,
  type CreateRoomRpc,
  type DeleteMessageRpc,
  type DirectSendRpc,
  type DirectoryPage,
  type DirectoryRpc,
  type EditMessageRpc,
  type InvitationView,
  type InviteRpc,
  type ListRoomsRpc,
  type MembersPage,
  type MembershipAck,
  type ModeratorDeleteRpc,
  type PostAck,
  type PostMessageRpc,
  type ReactionRpc,
  type RoomDetails,
  type RoomMembersRpc,
  type RoomMembershipRpc,
  type RoomQueryRpc,
  type RoomSummary,
  type RoomUserRpc,
  type SanctionRpc,
  type SetRetentionRpc,
  type SetRoleRpc,
  type UpdateRoomRpc,
  type UserRoomsRpc,
  type UserView,
} from '@chat/contracts';
import type { RpcCallContext } from '@chat/platform';
import { randomBytes } from 'node:crypto';
import { DeletedUsers } from './accounts/deleted-users';
import { Conversations } from './direct/conversations';
import { MessageCommandHandler, type MessageAck } from './messages/message-commands';
import { PostMessageHandler } from './messages/post-message';
import { byRoomName, canSee, isAdmin, orderedMembers, summarize, type Room } from './room/room';
import { RoomCommandHandler } from './room/room.commands';
import { roomText } from './room/room-text';
import { roomNotFound, type RoomCommand } from './room/room.decide';
import { RoomStore } from './room/room.store';
import { UserDirectory } from './users/user-directory';

/**
 * NATS adapter of the rooms service: requests are already validated by the transport; the
 * rules are in room.decide.ts (commands) and room.ts (what a room shows to whom).
 */
@Controller()
export class RoomsController {
  constructor(
    private readonly store: RoomStore,
    private readonly commands: RoomCommandHandler,
    private readonly posts: PostMessageHandler,
    private readonly messages: MessageCommandHandler,
    private readonly users: UserDirectory,
    private readonly conversations: Conversations,
    private readonly deletedUsers: DeletedUsers,
  ) {}

  // ---- queries ----

  @MessagePattern(Rpc.roomsList)
  list(@Payload() req: ListRoomsRpc): RoomSummary[] {
    const rooms = new Map<string, Room>();
    // The public part is capped (the first page of the directory): one reply must stay under
    // NATS's payload limit however many rooms there are. room.directory pages through them all.
    for (const r of this.store.searchDirectory('').slice(0, Limits.listPageMax)) rooms.set(r.roomId, r);
    for (const r of this.groupRoomsOf(req.userId)) rooms.set(r.roomId, r);
    return byName([...rooms.values()]).map((r) => summarize(r, req.userId));
  }

  /**
   * Every room the user is in (conversations included): what a gateway follows for a new
   * connection. Answered once this replica has applied every room event stored before the call
   * (bounded wait), so a lagging replica does not hand back a room the user was just removed
   * from, or miss one just joined.
   */
  @MessagePattern(Rpc.roomsUserRooms)
  async userRooms(@Payload() req: UserRoomsRpc): Promise<{ roomIds: string[] }> {
    await this.store.waitForAllRooms();
    return { roomIds: this.store.roomsOf(req.userId) };
  }

  @MessagePattern(Rpc.roomsMine)
  mine(@Payload() req: CallerRpc): { rooms: RoomSummary[] } {
    return { rooms: byName(this.groupRoomsOf(req.userId)).map((r) => summarize(r, req.userId)) };
  }

  @MessagePattern(Rpc.roomsDirectory)
  directory(@Payload() req: DirectoryRpc): DirectoryPage {
    const found = this.store.searchDirectory(req.query ?? '');
    const { items, nextOffset } = page(found, req.offset, req.limit);
    return { rooms: items.map((r) => summarize(r, req.userId)), total: found.length, nextOffset };
  }

  @MessagePattern(Rpc.roomsDetails)
  async details(@Payload() req: RoomQueryRpc): Promise<RoomDetails> {
    const room = await this.visible(req.roomId, req.userId);
    const owner = room.ownerId ? room.members.get(room.ownerId) : undefined;
    return {
      ...summarize(room, req.userId),
      createdAt: room.createdAt,
      createdBy: room.createdBy,
      owner: owner ? { userId: owner.userId, username: owner.username } : null,
      retentionDays: room.retentionDays,
      isDefault: room.roomId === DEFAULT_ROOM_ID,
    };
  }

  /** Anyone sees a public room's members (as in a directory); a private room's and a conversation's only its members. */
  @MessagePattern(Rpc.roomsMembers)
  async members(@Payload() req: RoomMembersRpc): Promise<MembersPage> {
    const room = await this.visible(
      req.roomId,
      req.actorId,
      (r) => r.members.has(req.actorId) || (r.kind === 'group' && r.visibility === 'public'),
    );
    const all = orderedMembers(room);
    const { items, nextOffset } = page(all, req.offset, req.limit);
    return {
      roomId: room.roomId,
      members: items.map((m) => ({ userId: m.userId, username: m.username, role: m.role, joinedAt: m.joinedAt })),
      total: all.length,
      nextOffset,
    };
  }

  @MessagePattern(Rpc.roomsInvitations)
  invitations(@Payload() req: CallerRpc): { invitations: InvitationView[] } {
    const invitations: InvitationView[] = [];
    for (const room of this.store.invitedTo(req.userId)) {
      const i = room.invitations.get(req.userId);
      if (i && !room.deleted)
        invitations.push({
          roomId: room.roomId,
          roomName: i.roomName,
          invitedBy: { userId: i.byUserId, username: i.byUsername },
          time: i.time,
        });
    }
    return { invitations: invitations.sort((a, b) => b.time.localeCompare(a.time)) };
  }

  @MessagePattern(Rpc.roomsBans)
  async bans(@Payload() req: RoomQueryRpc): Promise<{ roomId: string; bans: BanView[] }> {
    const room = await this.visible(req.roomId, req.userId, (r) => r.kind === 'group');
    if (!isAdmin(room.members.get(req.userId))) throw new ChatError('FORBIDDEN', `only admins of "${room.roomId}" see its bans`);
    const bans = [...room.bans.values()].map((b) => ({
      userId: b.userId,
      username: b.username,
      by: { userId: b.byUserId, username: b.byUsername },
      reason: b.reason,
      time: b.time,
    }));
    return { roomId: room.roomId, bans };
  }

  @MessagePattern(Rpc.roomsBlocks)
  blocks(@Payload() req: CallerRpc): { blocks: BlockView[] } {
    return { blocks: this.conversations.blocks(req.userId) };
  }

  // ---- commands ----

  @MessagePattern(Rpc.roomsCreate)
  async create(@Payload() req: CreateRoomRpc, @Ctx() ctx: RpcCallContext): Promise<MembershipAck> {
    const roomId = req.roomId ?? `r-${randomBytes(6).toString('hex')}`;
    return this.membership(
      {
        type: 'CreateRoom',
        roomId,
        name: roomText('name', req.name),
        topic: roomText('topic', req.topic ?? ''),
        visibility: req.visibility ?? 'public',
        postPolicy: req.postPolicy ?? 'members',
        memberLimit: req.memberLimit ?? Limits.memberLimitDefault,
        slowModeSeconds: req.slowModeSeconds ?? 0,
        owner: { userId: req.userId, username: req.username },
      },
      req.userId,
      ctx,
    );
  }

  @MessagePattern(Rpc.roomsJoin)
  join(@Payload() req: RoomMembershipRpc, @Ctx() ctx: RpcCallContext): Promise<MembershipAck> {
    return this.membership({ type: 'JoinRoom', roomId: req.roomId, user: caller(req) }, req.userId, ctx);
  }

  @MessagePattern(Rpc.roomsAcceptInvitation)
  accept(@Payload() req: RoomMembershipRpc, @Ctx() ctx: RpcCallContext): Promise<MembershipAck> {
    return this.membership({ type: 'AcceptInvitation', roomId: req.roomId, user: caller(req) }, req.userId, ctx);
  }

  @MessagePattern(Rpc.roomsDeclineInvitation)
  decline(@Payload() req: RoomMembershipRpc, @Ctx() ctx: RpcCallContext): Promise<CommandAck> {
    return this.command({ type: 'DeclineInvitation', roomId: req.roomId, user: caller(req) }, req.userId, ctx);
  }

  @MessagePattern(Rpc.roomsLeave)
  leave(@Payload() req: RoomMembershipRpc, @Ctx() ctx: RpcCallContext): Promise<{ roomId: string; position: number }> {
    return this.command({ type: 'LeaveRoom', roomId: req.roomId, user: caller(req) }, req.userId, ctx);
  }

  @MessagePattern(Rpc.roomsInvite)
  async invite(@Payload() req: InviteRpc, @Ctx() ctx: RpcCallContext): Promise<CommandAck & { userId: string }> {
    // The room first: for a caller who may not see it, a missing user must not answer differently.
    await this.visible(req.roomId, req.actorId);
    const invitee = await this.users.requireByName(req.username);
    const ack = await this.command({ type: 'Invite', roomId: req.roomId, actor: actor(req), invitee }, req.actorId, ctx);
    return { ...ack, userId: invitee.userId };
  }

  @MessagePattern(Rpc.roomsKick)
  kick(@Payload() req: SanctionRpc, @Ctx() ctx: RpcCallContext): Promise<CommandAck> {
    return this.command(
      { type: 'Kick', roomId: req.roomId, actor: actor(req), userId: req.userId, reason: req.reason ?? '' },
      req.actorId,
      ctx,
    );
  }

  /** A member, a pending invitee or an already banned user is known by the room; anyone else by the accounts. */
  @MessagePattern(Rpc.roomsBan)
  async ban(@Payload() req: SanctionRpc, @Ctx() ctx: RpcCallContext): Promise<CommandAck> {
    const room = await this.visible(req.roomId, req.actorId);
    const known = room.members.get(req.userId) ?? room.invitations.get(req.userId) ?? room.bans.get(req.userId);
    const target = known ? { userId: known.userId, username: known.username } : await this.users.requireById(req.userId);
    return this.command({ type: 'Ban', roomId: req.roomId, actor: actor(req), target, reason: req.reason ?? '' }, req.actorId, ctx);
  }

  @MessagePattern(Rpc.roomsUnban)
  unban(@Payload() req: RoomUserRpc, @Ctx() ctx: RpcCallContext): Promise<CommandAck> {
    return this.command({ type: 'Unban', roomId: req.roomId, actor: actor(req), userId: req.userId }, req.actorId, ctx);
  }

  @MessagePattern(Rpc.roomsUpdate)
  update(@Payload() req: UpdateRoomRpc, @Ctx() ctx: RpcCallContext): Promise<MembershipAck> {
    // null is "unchanged" as absent is (validation lets null through an optional field): stored,
    // it would have replaced a setting with null, and a null name or topic failed INTERNAL (fuzz).
    const changes = {
      ...(req.name != null && { name: roomText('name', req.name) }),
      ...(req.topic != null && { topic: roomText('topic', req.topic) }),
      ...(req.visibility != null && { visibility: req.visibility }),
      ...(req.postPolicy != null && { postPolicy: req.postPolicy }),
      ...(req.memberLimit != null && { memberLimit: req.memberLimit }),
      ...(req.slowModeSeconds != null && { slowModeSeconds: req.slowModeSeconds }),
    };
    return this.membership({ type: 'UpdateSettings', roomId: req.roomId, actor: caller(req), changes }, req.userId, ctx);
  }

  @MessagePattern(Rpc.roomsSetRole)
  setRole(@Payload() req: SetRoleRpc, @Ctx() ctx: RpcCallContext): Promise<CommandAck> {
    return this.command({ type: 'SetRole', roomId: req.roomId, actor: actor(req), userId: req.userId, role: req.role }, req.actorId, ctx);
  }

  @MessagePattern(Rpc.roomsTransfer)
  transfer(@Payload() req: RoomUserRpc, @Ctx() ctx: RpcCallContext): Promise<CommandAck> {
    return this.command({ type: 'Transfer', roomId: req.roomId, actor: actor(req), userId: req.userId }, req.actorId, ctx);
  }

  @MessagePattern(Rpc.roomsDelete)
  delete(@Payload() req: RoomMembershipRpc, @Ctx() ctx: RpcCallContext): Promise<CommandAck> {
    return this.command({ type: 'DeleteRoom', roomId: req.roomId, actor: caller(req) }, req.userId, ctx);
  }

  @MessagePattern(Rpc.roomsPost)
  post(@Payload() req: PostMessageRpc, @Ctx() ctx: RpcCallContext): Promise<PostAck> {
    this.deletedUsers.refuse(req.userId);
    return this.posts.post(req, ctx.correlationId);
  }

  @MessagePattern(Rpc.roomsDirectSend)
  directSend(@Payload() req: DirectSendRpc, @Ctx() ctx: RpcCallContext): Promise<PostAck> {
    this.deletedUsers.refuse(req.actorId);
    return this.conversations.send(actor(req), req, ctx.correlationId);
  }

  @MessagePattern(Rpc.roomsEditMessage)
  editMessage(@Payload() req: EditMessageRpc, @Ctx() ctx: RpcCallContext): Promise<MessageAck> {
    this.deletedUsers.refuse(req.userId);
    return this.messages.edit(req, ctx.correlationId);
  }

  /** Internal (the moderation service only; no client op reaches it): a message removed on a rule's verdict. */
  @MessagePattern(Rpc.roomsModeratorDelete)
  moderatorDelete(@Payload() req: ModeratorDeleteRpc, @Ctx() ctx: RpcCallContext): Promise<MessageAck> {
    return this.messages.moderatorDelete(req, ctx.correlationId);
  }

  @MessagePattern(Rpc.roomsDeleteMessage)
  deleteMessage(@Payload() req: DeleteMessageRpc, @Ctx() ctx: RpcCallContext): Promise<MessageAck> {
    this.deletedUsers.refuse(req.userId);
    return this.messages.delete(req, ctx.correlationId);
  }

  @MessagePattern(Rpc.roomsAddReaction)
  addReaction(@Payload() req: ReactionRpc, @Ctx() ctx: RpcCallContext): Promise<MessageAck> {
    this.deletedUsers.refuse(req.userId);
    return this.messages.react(req, true, ctx.correlationId);
  }

  @MessagePattern(Rpc.roomsRemoveReaction)
  removeReaction(@Payload() req: ReactionRpc, @Ctx() ctx: RpcCallContext): Promise<MessageAck> {
    this.deletedUsers.refuse(req.userId);
    return this.messages.react(req, false, ctx.correlationId);
  }

  @MessagePattern(Rpc.roomsSetRetention)
  async setRetention(@Payload() req: SetRetentionRpc, @Ctx() ctx: RpcCallContext): Promise<CommandAck & { days: number | null }> {
    const days = req.days ?? null;
    const ack = await this.command({ type: 'SetRetention', roomId: req.roomId, actor: caller(req), days }, req.userId, ctx);
    return { ...ack, days };
  }

  @MessagePattern(Rpc.roomsBlock)
  block(@Payload() req: BlockRpc, @Ctx() ctx: RpcCallContext): Promise<CommandAck> {
    this.deletedUsers.refuse(req.actorId);
    return this.conversations.block(actor(req), req.userId, true, ctx.correlationId);
  }

  @MessagePattern(Rpc.roomsUnblock)
  unblock(@Payload() req: BlockRpc, @Ctx() ctx: RpcCallContext): Promise<CommandAck> {
    this.deletedUsers.refuse(req.actorId);
    return this.conversations.block(actor(req), req.userId, false, ctx.correlationId);
  }

  // ---- helpers ----

  /** A room command of `userId` (the caller): refused when the account is deleted (SESSION_REVOKED). */
  private async command(cmd: RoomCommand, userId: string, ctx: RpcCallContext): Promise<CommandAck> {
    this.deletedUsers.refuse(userId);
    const { position } = await this.commands.execute(cmd, { kind: 'user', id: userId }, ctx.correlationId);
    return { roomId: cmd.roomId, position };
  }

  private async membership(cmd: RoomCommand, userId: string, ctx: RpcCallContext): Promise<MembershipAck> {
    this.deletedUsers.refuse(userId);
    const { room, position } = await this.commands.execute(cmd, { kind: 'user', id: userId }, ctx.correlationId);
    if (!room || room.deleted) throw roomNotFound(cmd.roomId);
    return { room: summarize(room, userId), position };
  }

  /**
   * The room if `userId` may see it (and `allowed` holds), else the missing room's answer.
   * Before refusing, this replica catches up with the stream once: the caller may have just
   * joined through another replica.
   */
  private async visible(roomId: string, userId: string, allowed: (room: Room) => boolean = () => true): Promise<Room> {
    const check = () => {
      const room = this.store.get(roomId);
      return canSee(room, userId) && allowed(room) ? room : null;
    };
    const seen = this.store.versionOf(roomId);
    const room = check() ?? ((await this.caughtUp(roomId, seen)) ? check() : null);
    if (!room) throw roomNotFound(roomId);
    return room;
  }

  /** true if the room moved past `seen`, by this catch-up or by the follower meanwhile. */
  private async caughtUp(roomId: string, seen: number): Promise<boolean> {
    const latest = await this.store.latestVersion(roomId);
    if (latest > this.store.versionOf(roomId)) await this.store.waitForVersion(roomId, latest);
    return this.store.versionOf(roomId) > seen;
  }

  private groupRoomsOf(userId: string): Room[] {
    return this.store.memberOf(userId).filter((r) => r.kind === 'group' && !r.deleted);
  }
}

const caller = (req: { userId: string; username: string }): UserView => ({ userId: req.userId, username: req.username });
const actor = (req: { actorId: string; actorName: string }): UserView => ({ userId: req.actorId, username: req.actorName });
const byName = (rooms: Room[]) => rooms.sort(byRoomName);

function page<T>(all: readonly T[], offset = 0, limit: number = Limits.listPageDefault): { items: T[]; nextOffset: number | null } {
  const items = all.slice(offset, offset + limit);
  return { items, nextOffset: offset + items.length < all.length ? offset + items.length : null };
}
