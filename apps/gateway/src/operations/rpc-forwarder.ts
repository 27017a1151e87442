import { Inject, Injectable } from '@nestjs/common';
import {
  WsOperations,
  callerFields,
  ok,
  type ErrorBody,
  type Result,
  type RpcOfWsOp,
  type RpcResponse,
  type RpcWsOp,
  type UserView,
  type WsOps,
} from '@chat/contracts';
import { RpcClient } from '@chat/messaging';
import { SESSION_ROOMS, type SessionRooms } from '../sessions/session-rooms';

/** What a forwarded op runs with: the authenticated caller and the request's correlation id. */
export interface ForwardContext {
  user: UserView;
  correlationId: string;
}

/**
 * The gateway's own knowledge around a forwarded op, where it has some: `before` may refuse
 * the request without asking the service, `after` sees the service's answer (the reply is
 * still the service's).
 */
export interface ForwardHook<O extends RpcWsOp> {
  before?(ctx: ForwardContext, data: WsOps[O]['req']): Result<never> | undefined;
  after?(ctx: ForwardContext, data: WsOps[O]['req'], result: Result<RpcResponse<RpcOfWsOp<O>>>): Promise<void> | void;
}
export type ForwardHooks = { [O in RpcWsOp]?: ForwardHook<O> };

/**
 * Ops answered by another service, forwarded generically from the operation table: the
 * validated data plus the caller fields the table names is the RPC request, and the RPC reply
 * (through the entry's `reply` mapping, if any) is the op's reply. Service errors pass through
 * as-is.
 */
@Injectable()
export class RpcForwarder {
  /**
   * Membership changes update the local room index at once, from the position the service
   * answers with (the live event follows; this gateway shows each event once either way). A
   * user who left stops receiving the room right away. History authorises on its own: only it
   * knows whether a room is private (a non-member must get NOT_FOUND, not FORBIDDEN).
   */
  private readonly hooks: ForwardHooks = {
    'room.create': {
      after: async ({ user }, _data, r) => {
        if (r.ok) await this.rooms.joined(user.userId, r.data.room.roomId, r.data.position);
      },
    },
    'room.join': {
      // ALREADY_MEMBER means the index may have missed the join: follow the room anyway.
      after: async ({ user }, { roomId }, r) => {
        if (r.ok || r.error.code === 'ALREADY_MEMBER') await this.rooms.joined(user.userId, roomId, r.ok ? r.data.position : undefined);
      },
    },
    'invitation.accept': {
      after: async ({ user }, { roomId }, r) => {
        if (r.ok) await this.rooms.joined(user.userId, roomId, r.data.position);
      },
    },
    // The conversation's first message may have opened it: follow it from that message on
    // (a no-op when already followed; the sender's conversation.opened comes from their own subject).
    'dm.send': {
      after: async ({ user }, _data, r) => {
        if (r.ok) await this.rooms.joined(user.userId, r.data.roomId, r.data.position);
      },
    },
    // A block is recorded in the pair's conversation, which the blocker may never have written
    // in: following it from the block on shows them user.blocked (the blocked side learns nothing).
    'user.block': {
      after: async ({ user }, _data, r) => {
        if (r.ok) await this.rooms.joined(user.userId, r.data.roomId, r.data.position);
      },
    },
    'user.unblock': {
      after: async ({ user }, _data, r) => {
        if (r.ok) await this.rooms.joined(user.userId, r.data.roomId, r.data.position);
      },
    },
    'room.leave': {
      after: ({ user }, { roomId }, r) => {
        if (r.ok || r.error.code === 'NOT_MEMBER') this.rooms.left(user.userId, roomId);
      },
    },
  };

  constructor(
    private readonly rpc: RpcClient,
    @Inject(SESSION_ROOMS) private readonly rooms: SessionRooms,
  ) {}

  async forward<O extends RpcWsOp>(op: O, ctx: ForwardContext, data: WsOps[O]['req']): Promise<Result<WsOps[O]['res']>> {
    // The table's types tie each op to its RPC; one generic call site cannot name them, so
    // the entry is read as the union of all forwarded entries here.
    const entry = WsOperations[op as RpcWsOp];
    const hook = this.hooks[op] as ForwardHook<O> | undefined;
    const refused = hook?.before?.(ctx, data);
    if (refused) return refused;
    const request = { ...data, ...callerFields(entry.caller, ctx.user) };
    const r = (await this.rpc.call(entry.rpc, request as never, { correlationId: ctx.correlationId })) as Result<RpcResponse<RpcOfWsOp<O>>>;
    await hook?.after?.(ctx, data, r);
    if (!r.ok) return asFrameFailure(r.error);
    if (!('reply' in entry)) return r as Result<WsOps[O]['res']>;
    return ok((entry.reply as (rpcReply: unknown) => WsOps[O]['res'])(r.data));
  }
}

/**
 * A service names a refused field of the request by its own name (`text`, `name`); on the
 * WebSocket a request's fields are inside `data`, and the frame checks say `data.<field>`:
 * the service's details are given the same form.
 */
function asFrameFailure(error: ErrorBody): { ok: false; error: ErrorBody } {
  if (!error.details) return { ok: false, error };
  const details = error.details.map((d) => (d.field.startsWith('data.') ? d : { ...d, field: `data.${d.field}` }));
  return { ok: false, error: { ...error, details } };
}
