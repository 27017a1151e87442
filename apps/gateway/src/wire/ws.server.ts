import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server as HttpServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { WsCloseCodes, WsLimits } from '@chat/contracts';
import { CONFIG, PINO } from '@chat/platform';
import type { GatewayConfig } from '../config';
import { GatewayMetrics } from '../metrics';
import { WireConnection, type ConnectionSettings } from './connection';

export const WS_PATH = '/ws';
/** After the close frames of a shutdown, how long clients have to answer before their sockets are cut. */
const CLOSE_HANDSHAKE_MS = 2000;

/**
 * What the layers above do with connections. The wire calls it and knows nothing else of them
 * (the module binds it to the operations dispatcher).
 */
export interface WireListener {
  opened(conn: WireConnection): void;
  /** A frame of an open connection; a throw is answered INTERNAL and the connection lives on. */
  frame(conn: WireConnection, raw: Buffer, isBinary: boolean): void;
  closed(conn: WireConnection): void;
  /**
   * The server is stopping and accepts no new connections: tell the open ones, and resolve when
   * their requests in progress are answered or `drainMs` has passed, whichever comes first.
   */
  shutdown(drainMs: number): Promise<void>;
}
export const WIRE_LISTENER = Symbol('WIRE_LISTENER');

/**
 * Whether a WebSocket upgrade with this `Origin` header (undefined: none, not a browser) and
 * `Host` may open a connection. The module binds it to the http layer's OriginPolicy
 * (ALLOWED_ORIGINS).
 */
export type OriginCheck = (origin: string | undefined, host: string | undefined) => boolean;
export const ORIGIN_CHECK = Symbol('ORIGIN_CHECK');

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
  private readonly conns = new Set<WireConnection>();
  /** One settings object (and its three callbacks) shared by every connection, not one per connection. */
  private readonly connSettings: ConnectionSettings;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(PINO) private readonly logger: Logger,
    @Inject(WIRE_LISTENER) private readonly listener: WireListener,
    private readonly metrics: GatewayMetrics,
    @Inject(ORIGIN_CHECK) private readonly originAllowed: OriginCheck,
  ) {
    this.connSettings = {
      maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
      onSlowConsumer: () => metrics.slowConsumers.inc(),
      onFrameOut: () => metrics.framesOut.inc(),
      onBadFrame: () => metrics.badFrames.inc(),
    };
  }

  onApplicationBootstrap() {
    const server = this.adapterHost.httpAdapter.getHttpServer() as HttpServer;
    this.wss = new WebSocketServer({
      server,
      path: WS_PATH,
      // A browser page of a foreign origin gets no session at all: the upgrade is answered
      // 403 and no WebSocket is opened (docs/protocol.md, WebSocket).
      verifyClient: (info, done) => {
        if (this.originAllowed(info.req.headers.origin, info.req.headers.host)) return done(true);
        this.logger.info({ origin: String(info.req.headers.origin).slice(0, 200) }, 'websocket upgrade from a foreign origin refused');
        done(false, 403, 'origin not allowed');
      },
      maxPayload: WsLimits.hardMaxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.wss.on('connection', (ws) => this.accept(ws));
    this.wss.on('error', (err) => this.logger.error({ err: String(err) }, 'websocket server error'));
    // Keep-alive: a socket that has not answered the previous ping is cut (its 'close' follows),
    // so a client that vanished without closing is found within two intervals.
    this.keepalive = setInterval(() => {
      for (const c of this.conns) if (!c.ping()) c.terminate();
    }, this.config.WS_PING_INTERVAL_MS);
    this.keepalive.unref();
  }

  /**
   * Graceful shutdown (runs first among the gateway's hooks: nothing depends on this class, so
   * fan-out, presence signals and NATS are still up): no new connections, the layers above tell
   * every connection (`server.shutdown`) and wait for requests in progress (GATEWAY_DRAIN_MS),
   * then every socket is closed with 1012 so that clients reconnect elsewhere; stragglers are
   * cut after 2 s.
   */
  async onModuleDestroy() {
    this.stopping = true;
    clearInterval(this.keepalive);
    try {
      await this.listener.shutdown(this.config.GATEWAY_DRAIN_MS);
    } catch (err) {
      this.logger.error({ err: String(err) }, 'draining the connections failed; closing them now');
    }
    for (const c of this.conns) c.close(WsCloseCodes.shuttingDown, 'server shutting down');
    const deadline = Date.now() + CLOSE_HANDSHAKE_MS;
    while (this.conns.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.conns) c.terminate();
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
  }

  private accept(ws: WebSocket) {
    if (this.stopping) {
      // Without an 'error' listener a socket error during this close would be thrown.
      ws.on('error', () => undefined);
      return ws.close(WsCloseCodes.shuttingDown, 'server shutting down');
    }
    const conn = new WireConnection(ws, this.connSettings);
    this.conns.add(conn);
    this.metrics.connections.inc();
    this.listener.opened(conn);
    ws.on('message', (data, isBinary) => {
      // A throw here would be an uncaught exception in ws's event handler and end the process
      // for every connection. Frame handling answers bad input itself; this is the backstop for
      // a bug: that one frame gets INTERNAL, the connection and the gateway live on.
      try {
        this.metrics.framesIn.inc();
        // After close() the handshake can take a while; frames arriving meanwhile are not
        // executed (a late auth after a 4401, a send after a 4408).
        if (conn.closed || !conn.isOpen) return;
        this.listener.frame(conn, data as Buffer, isBinary);
      } catch (err) {
        this.logger.error({ err: String(err), stack: (err as Error)?.stack, connId: conn.connId }, 'frame handling failed');
        conn.replyError(null, { code: 'INTERNAL', message: 'internal error; nothing was changed' });
      }
    });
    ws.on('pong', () => (conn.alive = true));
    ws.on('close', () => {
      conn.closed = true;
      this.conns.delete(conn);
      this.metrics.connections.dec();
      this.listener.closed(conn);
    });
    // Socket errors (resets, frames above maxPayload -> 1009, invalid UTF-8 -> 1007) end in 'close'.
    ws.on('error', (err) => this.logger.debug({ err: String(err), connId: conn.connId }, 'websocket error'));
  }
}
