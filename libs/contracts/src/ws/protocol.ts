import type { ErrorBody } from '../errors';
import type { MemberRole } from '../rooms/events';
import type { MessageView, PresenceView } from '../views';
import type { WsOp, WsOps } from './operations';

/**
 * The WebSocket protocol (docs/protocol.md is its prose form). Every frame is one JSON text
 * message. The client sends requests; the server answers each with exactly one reply carrying
 * the request's id, and pushes events at any time.
 */
export const PROTOCOL_VERSION = 1;

// The ops (WsOps, WsOp, WsOpNames) are derived from the operation table in operations.ts.
export { WsOpNames, type WsOp, type WsOps } from './operations';

/** event name -> data. */
export interface WsEvents {
  'message.posted': MessageView;
  'member.joined': { roomId: string; userId: string; username: string; role: MemberRole; time: string };
  'member.left': { roomId: string; userId: string; username: string; time: string };
  'presence.changed': PresenceView;
}
export type WsEventName = keyof WsEvents;

export interface WsRequestFrame<O extends WsOp = WsOp> {
  type: 'req';
  /** Client-chosen, 1-64 characters; echoed in the reply. */
  id: string;
  op: O;
  data?: WsOps[O]['req'];
}
export type WsReplyFrame<O extends WsOp = WsOp> =
  { type: 'res'; id: string; ok: true; data: WsOps[O]['res'] } | { type: 'res'; id: string | null; ok: false; error: ErrorBody };
export interface WsEventFrame<E extends WsEventName = WsEventName> {
  type: 'evt';
  event: E;
  /** Stream position of the event (JetStream sequence), for ordering and resume. */
  position: number;
  data: WsEvents[E];
}
export type WsServerFrame = WsReplyFrame | WsEventFrame;

/** Close codes the gateway uses (4000-4999 are application codes). */
export const WsCloseCodes = {
  authTimeout: 4401,
  tokenExpired: 4403,
  tooManyBadFrames: 4400,
  slowConsumer: 4408,
  shuttingDown: 1001,
} as const;

export const WsLimits = {
  /** Largest frame the gateway reads; larger frames get FRAME_TOO_LARGE and are not processed. */
  maxFrameBytes: 64 * 1024,
  /** Frames above this are cut off by the socket layer (close 1009). */
  hardMaxFrameBytes: 1024 * 1024,
  /** Time allowed between connecting and a successful `auth`. */
  authTimeoutMs: 10_000,
  /** Consecutive bad frames after which the gateway closes the connection. */
  maxConsecutiveBadFrames: 50,
  requestIdMaxChars: 64,
} as const;
