import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  WsCloseCodes,
  WsLimits,
  WsOperations,
  fail,
  type LocalWsOp,
  type PostAck,
  type Result,
  type RpcWsOp,
  type WsOp,
} from '@chat/contracts';
import { Spans } from '@chat/messaging';
import { CONFIG, PINO } from '@chat/platform';
import type { GatewayConfig } from '../config';
import type { Session } from '../sessions/session';
import { Sessions } from '../sessions/sessions';
import type { WireConnection } from '../wire/connection';
import { eventFrame } from '../wire/frames';
import type { WireListener } from '../wire/ws.server';
import { LocalOps } from './local-handlers';
import { takeToken } from './rate-limit';
import { parseFrame } from './requests';
import { RpcForwarder } from './rpc-forwarder';
import { TypingSignals } from './typing';

/** Ops that are not the user doing something: they neither count as activity nor end automatic away. */
const NOT_ACTIVITY: ReadonlySet<WsOp> = new Set<WsOp>(['ping', 'auth', 'presence.list', 'presence.room', 'presence.contacts']);

/** A session's requests in progress, and the tail of its queue of ordered ops. */
interface Queue {
  inflight: number;
  tail: Promise<void>;
}

/**
 * From frame to reply, driven by the operation table: the frame checks and the op's DTO
 * (requests.ts), the bad-frame count, the request rate limit (4430 after too many refusals in a
 * row), the in-flight limit, ordered ops queued per connection, the authentication check and
 * the connection's activity, then the op's local handler or the RPC to the service that owns
 * it. Exactly one reply per request; an unexpected failure is INTERNAL and changes nothing else.
 * On shutdown it tells every connection and waits for the requests in progress.
 */
@Injectable()
export class OperationDispatcher implements WireListener {
  /** Only while a session has requests in progress: an idle connection holds no queue. */
  private readonly queues = new WeakMap<Session, Queue>();
  /** Requests in progress over all connections (graceful shutdown waits for them). */
  private inflight = 0;
  private stopping = false;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(PINO) private readonly logger: Logger,
    private readonly sessions: Sessions,
    private readonly local: LocalOps,
    private readonly forwarder: RpcForwarder,
    private readonly typing: TypingSignals,
  ) {}

  opened(conn: WireConnection): void {
    this.sessions.open(conn);
  }

  closed(conn: WireConnection): void {
    this.sessions.closed(conn);
  }

  frame(conn: WireConnection, raw: Buffer, isBinary: boolean): void {
    const session = this.sessions.get(conn);
    if (!session) return;
    const req = parseFrame(raw, isBinary, WsLimits, session.authenticated);
    if (!req.ok) return conn.badFrame(req.id, req.error);
    conn.goodFrame();
    if (this.stopping && req.op !== 'ping') {
      return conn.replyError(req.id, { code: 'UNAVAILABLE', message: 'this gateway is shutting down; reconnect and retry' });
    }
    if (req.op !== 'ping' && !this.withinRate(session, req.id)) return;
    let queue = this.queues.get(session);
    if (queue && queue.inflight >= this.config.WS_MAX_INFLIGHT) {
      return conn.replyError(req.id, {
        code: 'RATE_LIMITED',
        message: `more than ${this.config.WS_MAX_INFLIGHT} requests in progress; wait for replies`,
      });
    }
    // Requests run concurrently (a connection may pipeline up to WS_MAX_INFLIGHT). Serialising
    // ordered ops (message.send, WS_ORDERED_SENDS) keeps a client's messages in send order but
    // caps each sender at one RPC round trip per message.
    if (!queue) this.queues.set(session, (queue = { inflight: 0, tail: Promise.resolve() }));
    const q = queue;
    q.inflight++;
    this.inflight++;
    const run = () =>
      this.execute(session, req.id, req.op, req.data).finally(() => {
        q.inflight--;
        this.inflight--;
        // Nothing in progress: every earlier request has been answered, so the next one may
        // start a new queue (ordering kept) and an idle connection keeps none.
        if (q.inflight === 0 && this.queues.get(session) === q) this.queues.delete(session);
      });
    const entry = WsOperations[req.op];
    if ('ordered' in entry && entry.ordered && this.config.WS_ORDERED_SENDS) q.tail = q.tail.then(run);
    else void run();
  }

  private async execute(session: Session, id: string, op: WsOp, data: object): Promise<void> {
    const correlationId = randomUUID();
    const started = Spans.start();
    const entry = WsOperations[op];
    let result: Result<unknown>;
    try {
      if (entry.auth && !(session.authenticated && session.user)) {
        result = fail('UNAUTHENTICATED', 'authenticate first: send op "auth" with your access token');
      } else {
        if (!NOT_ACTIVITY.has(op)) this.sessions.active(session);
        if (entry.kind === 'local') {
          const handler = this.local.handlers[op as LocalWsOp] as (ctx: object, data: object) => Promise<Result<unknown>> | Result<unknown>;
          result = await handler({ session, correlationId }, data);
        } else {
          result = await this.forwarder.forward(op as RpcWsOp, { user: session.user!, correlationId }, data as never);
        }
      }
    } catch (err) {
      this.logger.error({ err: String(err), stack: (err as Error)?.stack, op, correlationId }, 'request failed');
      result = fail('INTERNAL', 'internal error; nothing was changed');
    }
    if (result.ok) session.conn.reply(id, result.data);
    else session.conn.replyError(id, result.error);
    Spans.end(`ws ${op}`, started);
    // Sending a message ends its sender's typing there (the ack names the room or conversation).
    if ((op === 'message.send' || op === 'dm.send') && result.ok) this.typing.sent(session, (result.data as PostAck).roomId);
    const close = session.closeAfterReply;
    if (close) {
      session.closeAfterReply = null;
      session.close(close.code, close.reason);
    }
  }

  /**
   * The request rate limit (token bucket, WS_RATE_PER_S / WS_RATE_BURST): false when the request
   * was refused (RATE_LIMITED with the wait), and the connection is closed (4430) after
   * WsLimits.rateLimitedBeforeClose refusals in a row.
   */
  private withinRate(session: Session, id: string): boolean {
    const waitMs = takeToken(session, Date.now(), this.config.WS_RATE_PER_S, this.config.WS_RATE_BURST);
    if (waitMs === 0) {
      session.rateRefusals = 0;
      return true;
    }
    session.conn.replyError(id, {
      code: 'RATE_LIMITED',
      message: `more than ${this.config.WS_RATE_PER_S} requests per second (burst ${this.config.WS_RATE_BURST}); retryAfterMs=${waitMs}`,
    });
    if (++session.rateRefusals >= WsLimits.rateLimitedBeforeClose) session.close(WsCloseCodes.requestFlood, 'request rate limit exceeded');
    return false;
  }

  async shutdown(drainMs: number): Promise<void> {
    this.stopping = true;
    const frame = eventFrame('server.shutdown', 0, { reason: 'gateway shutting down', reconnectWithinMs: drainMs });
    for (const session of this.sessions.all()) session.deliver(frame);
    const deadline = Date.now() + drainMs;
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }
}
