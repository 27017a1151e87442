import { Injectable } from '@nestjs/common';
import {
  fail,
  ok,
  type CreateRoomRequest,
  type HistoryPageRequest,
  type HistoryPageRpc,
  type Result,
  type RoomRef,
  type SendMessageRequest,
  type SetStatusRequest,
  type UserView,
  type WsOp,
} from '@chat/contracts';
import { RpcClient } from '@chat/messaging';
import { LiveFanout } from '../fanout/live.subscriber';
import type { Connection } from './connection';
import { PresencePublisher } from './presence.publisher';

/**
 * The ops of an authenticated connection (auth and ping are part of the connection lifecycle,
 * in WsServer). Most are a call to the owning service with the caller added; the gateway adds its
 * own knowledge where it has it: membership changes update the local room index at once, and
 * history is only read for rooms the caller is a member of. Service errors pass through as-is.
 */
@Injectable()
export class RequestHandler {
  constructor(
    private readonly rpc: RpcClient,
    private readonly fanout: LiveFanout,
    private readonly presence: PresencePublisher,
  ) {}

  async handle(
    conn: Connection,
    user: UserView,
    op: Exclude<WsOp, 'auth' | 'ping'>,
    data: object,
    correlationId: string,
  ): Promise<Result<unknown>> {
    const { userId, username } = user;
    const opts = { correlationId };
    switch (op) {
      case 'rooms.list': {
        const r = await this.rpc.call('rooms.list', { userId }, opts);
        return r.ok ? ok({ rooms: r.data }) : r;
      }
      case 'room.create': {
        const r = await this.rpc.call('rooms.create', { ...(data as CreateRoomRequest), userId, username }, opts);
        if (r.ok) await this.fanout.joined(userId, r.data.room.roomId, r.data.position);
        return r;
      }
      case 'room.join': {
        const { roomId } = data as RoomRef;
        const r = await this.rpc.call('rooms.join', { roomId, userId, username }, opts);
        // ALREADY_MEMBER means the index may have missed the join: follow the room anyway.
        if (r.ok || r.error.code === 'ALREADY_MEMBER') await this.fanout.joined(userId, roomId, r.ok ? r.data.position : undefined);
        return r;
      }
      case 'room.leave': {
        const { roomId } = data as RoomRef;
        const r = await this.rpc.call('rooms.leave', { roomId, userId, username }, opts);
        if (r.ok || r.error.code === 'NOT_MEMBER') this.fanout.left(userId, roomId);
        return r;
      }
      case 'message.send': {
        const { roomId, clientMsgId, body } = data as SendMessageRequest;
        return this.rpc.call('rooms.post', { roomId, clientMsgId, body, userId, username }, opts);
      }
      case 'history.page': {
        const { roomId, before, limit } = data as HistoryPageRequest;
        if (!this.fanout.isMember(userId, roomId)) return fail('FORBIDDEN', `you are not a member of room "${roomId}"`);
        // History authorises the read again from its own membership projection (it is the authority).
        const req: HistoryPageRpc = { roomId, userId };
        if (before !== undefined) req.before = before;
        if (limit !== undefined) req.limit = limit;
        return this.rpc.call('history.page', req, opts);
      }
      case 'presence.list':
        return this.rpc.call('presence.list', {}, opts);
      case 'presence.set': {
        const { status } = data as SetStatusRequest;
        conn.status = status;
        this.presence.status(conn, status);
        return ok({ status });
      }
    }
  }
}
