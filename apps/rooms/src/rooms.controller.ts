import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  Limits,
  Rpc,
  type CreateRoomRpc,
  type ListRoomsRpc,
  type MembershipAck,
  type PostAck,
  type PostMessageRpc,
  type RoomMembershipRpc,
  type RoomSummary,
  type UserRoomsRpc,
} from '@chat/contracts';
import type { RpcCallContext } from '@chat/platform';
import { randomBytes } from 'node:crypto';
import { summarize } from './room/room';
import { RoomCommandHandler } from './room/room.commands';
import { RoomStore } from './room/room.store';
import { PostMessageHandler } from './messages/post-message';

/** NATS adapter of the rooms service: requests are already validated by the transport. */
@Controller()
export class RoomsController {
  constructor(
    private readonly store: RoomStore,
    private readonly commands: RoomCommandHandler,
    private readonly posts: PostMessageHandler,
  ) {}

  @MessagePattern(Rpc.roomsList)
  list(@Payload() req: ListRoomsRpc): RoomSummary[] {
    return this.store
      .all()
      .filter((r) => r.visibility === 'public' || r.members.has(req.userId))
      .map((r) => summarize(r, req.userId))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  @MessagePattern(Rpc.roomsUserRooms)
  userRooms(@Payload() req: UserRoomsRpc): { roomIds: string[] } {
    return { roomIds: this.store.roomsOf(req.userId) };
  }

  @MessagePattern(Rpc.roomsCreate)
  async create(@Payload() req: CreateRoomRpc, @Ctx() ctx: RpcCallContext): Promise<MembershipAck> {
    const roomId = req.roomId ?? `r-${randomBytes(6).toString('hex')}`;
    const { room, position } = await this.commands.execute(
      {
        type: 'CreateRoom',
        roomId,
        name: req.name.normalize('NFKC'),
        topic: req.topic ?? '',
        visibility: req.visibility ?? 'public',
        postPolicy: req.postPolicy ?? 'members',
        memberLimit: req.memberLimit ?? Limits.memberLimitDefault,
        owner: { userId: req.userId, username: req.username },
      },
      { kind: 'user', id: req.userId },
      ctx.correlationId,
    );
    return { room: summarize(room, req.userId), position };
  }

  @MessagePattern(Rpc.roomsJoin)
  async join(@Payload() req: RoomMembershipRpc, @Ctx() ctx: RpcCallContext): Promise<MembershipAck> {
    const { room, position } = await this.commands.execute(
      { type: 'JoinRoom', roomId: req.roomId, userId: req.userId, username: req.username },
      { kind: 'user', id: req.userId },
      ctx.correlationId,
    );
    return { room: summarize(room, req.userId), position };
  }

  @MessagePattern(Rpc.roomsLeave)
  async leave(@Payload() req: RoomMembershipRpc, @Ctx() ctx: RpcCallContext): Promise<{ roomId: string; position: number }> {
    const { position } = await this.commands.execute(
      { type: 'LeaveRoom', roomId: req.roomId, userId: req.userId, username: req.username },
      { kind: 'user', id: req.userId },
      ctx.correlationId,
    );
    return { roomId: req.roomId, position };
  }

  @MessagePattern(Rpc.roomsPost)
  post(@Payload() req: PostMessageRpc, @Ctx() ctx: RpcCallContext): Promise<PostAck> {
    return this.posts.post(req, ctx.correlationId);
  }
}
