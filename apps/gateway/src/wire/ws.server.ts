import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server as HttpServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import {
  PROTOCOL_VERSION,
  WsCloseCodes,
  WsLimits,
  fail,
  ok,
  type AuthRequest,
  type ErrorBody,
  type Result,
  type WsOps,
} from '@chat/contracts';
import { RpcClient } from '@chat/messaging';
import { CONFIG, PINO } from '@chat/platform';
import { TokenService } from '../accounts/tokens';
import type { GatewayConfig } from '../config';
import { LiveFanout } from '../fanout/live.subscriber';
import { GatewayMetrics } from '../metrics';
import { Connection } from './connection';
import { parseFrame } from './frames';
import { PresencePublisher } from '../sessions/presence.publisher';
import { RequestHandler } from '../operations/request.handler';

export const WS_PATH = '/ws';
/** Keep-alive: a socket that does not answer a ping before the next one is dropped. */
const KEEPALIVE_MS = 30_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The client WebSocket at /ws, on the same HTTP server as the REST API.
 *
 * Why the `ws` package directly rather than @nestjs/websockets: the gateway's job is fan-out,
 * and that needs full control of the socket. We choose the framing (our own JSON request/reply
 * envelope, text frames, no per-message deflate), read `bufferedAmount` to cap each client's
 * send buffer (slow consumers are closed, not buffered without bound), and write one
 * pre-serialised Buffer to every recipient of an event — Nest's gateway abstraction would
 * serialise per client and hide backpressure.
 */
@Injectable()
export class WsServer implements OnApplicationBootstrap, OnModuleDestroy {
  private wss?: WebSocketServer;
  private keepalive?: NodeJS.Timeout;
  private stopping = false;
  private readonly conns = new Set<Connection>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(PINO) private readonly logger: Logger,
    private readonly tokens: TokenService,
    private readonly rpc: RpcClient,
    private readonly fanout: LiveFanout,
    private readonly presence: PresencePublisher,
    private readonly handler: RequestHandler,
    private readonly metrics: GatewayMetrics,
  ) {}

  onApplicationBootstrap() {
    const server = this.adapterHost.httpAdapter.getHttpServer() as HttpServer;
    this.wss = new WebSocketServer({
      server,
      path: WS_PATH,
      maxPayload: WsLimits.hardMaxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.wss.on('connection', (ws) => this.accept(ws));
    this.wss.on('error', (err) => this.logger.error({ err: String(err) }, 'websocket server error'));
    this.keepalive = setInterval(() => {
      for (const c of this.conns) {
        if (!c.alive) c.ws.terminate();
        else {
          c.alive = false;
          c.ws.ping();
        }
      }
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  /** Closes every socket (1001) so that clients reconnect elsewhere; stragglers are cut after 2 s. */
  async onModuleDestroy() {
    this.stopping = true;
    clearInterval(this.keepalive);
    for (const c of this.conns) c.close(WsCloseCodes.shuttingDown, 'server shutting down');
    const deadline = Date.now() + 2000;
    while (this.conns.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
  }

  private accept(ws: WebSocket) {
    if (this.stopping) {
      // Without an 'error' listener a socket error during this close would be thrown.
      ws.on('error', () => undefined);
      return ws.close(WsCloseCodes.shuttingDown, 'server shutting down');
    }
    const conn = new Connection(ws, {
      maxBufferedBytes: this.config.WS_MAX_BUFFERED_BYTES,
      onSlowConsumer: () => this.metrics.slowConsumers.inc(),
      onFrameOut: () => this.metrics.framesOut.inc(),
    });
    this.conns.add(conn);
    this.metrics.connections.inc();
    conn.authTimer = setTimeout(() => {
      if (conn.state !== 'authenticated') conn.close(WsCloseCodes.authTimeout, 'authentication timeout');
    }, this.config.WS_AUTH_TIMEOUT_MS);
    ws.on('message', (data, isBinary) => {
      // A throw here would be an uncaught exception in ws's event handler and end the process
      // for every connection. Frame handling answers bad input itself; this is the backstop for
      // a bug: that one frame gets INTERNAL, the connection and the gateway live on.
      try {
        this.onFrame(conn, data as Buffer, isBinary);
      } catch (err) {
        this.logger.error({ err: String(err), stack: (err as Error)?.stack, connId: conn.connId }, 'frame handling failed');
        conn.replyError(null, { code: 'INTERNAL', message: 'internal error; nothing was changed' });
      }
    });
    ws.on('pong', () => (conn.alive = true));
    ws.on('close', () => this.onClose(conn));
    // Socket errors (resets, frames above maxPayload -> 1009, invalid UTF-8 -> 1007) end in 'close'.
    ws.on('error', (err) => this.logger.debug({ err: String(err), connId: conn.connId }, 'websocket error'));
  }

  private onClose(conn: Connection) {
    const wasAuthenticated = conn.state === 'authenticated';
    conn.state = 'closed';
    conn.clearTimers();
    this.conns.delete(conn);
    this.metrics.connections.dec();
    this.fanout.unregister(conn);
    if (wasAuthenticated) {
      this.metrics.authenticated.dec();
      this.presence.closed(conn);
    }
  }

  private badFrame(conn: Connection, id: string | null, error: ErrorBody) {
    this.metrics.badFrames.inc();
    conn.replyError(id, error);
    if (++conn.badFrames >= WsLimits.maxConsecutiveBadFrames) conn.close(WsCloseCodes.tooManyBadFrames, 'too many bad frames');
  }

  private onFrame(conn: Connection, raw: Buffer, isBinary: boolean) {
    this.metrics.framesIn.inc();
    // After close() the handshake can take a while; frames arriving meanwhile are not executed
    // (a late auth after a 4401, a send after a 4408).
    if (conn.closed || !conn.isOpen) return;
    const req = parseFrame(raw, isBinary, WsLimits, conn.state === 'authenticated');
    if (!req.ok) return this.badFrame(conn, req.id, req.error);
    conn.badFrames = 0;
    if (conn.inflight >= this.config.WS_MAX_INFLIGHT) {
      return conn.replyError(req.id, {
        code: 'RATE_LIMITED',
        message: `more than ${this.config.WS_MAX_INFLIGHT} requests in progress; wait for replies`,
      });
    }
    // Requests run concurrently (a connection may pipeline up to WS_MAX_INFLIGHT). Serialising
    // message.send (WS_ORDERED_SENDS) keeps a client's messages in send order but caps each
    // sender at one RPC round trip per message.
    conn.inflight++;
    const run = () => this.execute(conn, req.id, req.op, req.data).finally(() => conn.inflight--);
    if (req.op === 'message.send' && this.config.WS_ORDERED_SENDS) conn.sendChain = conn.sendChain.then(run);
    else void run();
  }

  private async execute(conn: Connection, id: string, op: keyof WsOps, data: object): Promise<void> {
    const correlationId = randomUUID();
    let result: Result<unknown>;
    try {
      if (op === 'auth') result = await this.authenticate(conn, data as AuthRequest, correlationId);
      else if (op === 'ping') result = ok({ time: new Date().toISOString() });
      else if (conn.state === 'authenticated' && conn.user) result = await this.handler.handle(conn, conn.user, op, data, correlationId);
      else result = fail('UNAUTHENTICATED', 'authenticate first: send op "auth" with your access token');
    } catch (err) {
      this.logger.error({ err: String(err), stack: (err as Error)?.stack, op, correlationId }, 'request failed');
      result = fail('INTERNAL', 'internal error; nothing was changed');
    }
    if (result.ok) conn.reply(id, result.data);
    else conn.replyError(id, result.error);
  }

  private async authenticate(conn: Connection, req: AuthRequest, correlationId: string): Promise<Result<WsOps['auth']['res']>> {
    if (conn.state === 'authenticating') return fail('CONFLICT', 'authentication is already in progress on this connection');
    const token = this.tokens.verify(req.token);
    if (!token.ok) return token;
    const { user, expiresAtMs } = token.data;
    const answer = () => ok({ user: conn.user!, protocol: PROTOCOL_VERSION, expiresAt: new Date(conn.expiresAtMs).toISOString() });

    if (conn.state === 'authenticated') {
      // A fresh token for the same user extends the connection's life (no reconnect needed).
      if (conn.user?.userId !== user.userId)
        return fail('FORBIDDEN', 'this connection is authenticated as another user; open a new connection');
      this.armExpiry(conn, expiresAtMs);
      return answer();
    }

    // Registered before the room list is fetched, so that joins and leaves of this user that
    // arrive meanwhile are applied and not undone by an older list (RoomIndex.applyRoomList).
    conn.state = 'authenticating';
    conn.user = user;
    const undo = () => {
      this.fanout.unregister(conn);
      conn.user = null;
      if (!conn.closed) conn.state = 'open';
    };
    try {
      await this.fanout.register(conn, user.userId);
      const rooms = await this.rpc.call('rooms.userRooms', { userId: user.userId }, { correlationId });
      if (conn.closed) return fail('UNAVAILABLE', 'connection closed'); // onClose has unregistered it
      if (!rooms.ok) {
        undo();
        return rooms;
      }
      await this.fanout.applyRoomList(conn, rooms.data.roomIds);
    } catch (err) {
      // E.g. the NATS connection closed during a flush: the connection must not stay
      // half-registered and 'authenticating' (every later auth would get CONFLICT).
      undo();
      throw err;
    }
    if (conn.closed) return fail('UNAVAILABLE', 'connection closed');
    conn.state = 'authenticated';
    clearTimeout(conn.authTimer);
    this.armExpiry(conn, expiresAtMs);
    this.metrics.authenticated.inc();
    this.presence.opened(conn);
    return answer();
  }

  /** Closes the connection (4403) when its token expires; re-armed when a new token is presented. */
  private armExpiry(conn: Connection, expiresAtMs: number) {
    clearTimeout(conn.expiryTimer);
    conn.expiresAtMs = expiresAtMs;
    const check = () => {
      const left = conn.expiresAtMs - Date.now();
      if (left <= 0) conn.close(WsCloseCodes.tokenExpired, 'access token expired');
      else conn.expiryTimer = setTimeout(check, Math.min(left, MAX_TIMER_MS));
    };
    check();
  }
}
