import { RequestOne } from '@nats-io/nats-core/internal';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface NatsConnectionOptions {
  /** Comma-separated server URLs. */
  servers: string;
  /** Shown in the server's connection list (`nats server report connections`). */
  name: string;
  log?: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
  /**
   * Coalesce writes per event-loop turn (see coalesceWrites). It applies to the process: once a
   * connection has turned it on, every NATS connection of the process has it. @default true
   */
  coalesceWrites?: boolean;
}

/**
 * The core-NATS part of the connection that services use directly: plain pub/sub (live
 * fan-out, gateway presence signals) and connection status. Everything JetStream goes through
 * JetStreamAdapter; this type cannot be handed to nats.js's jetstream() or Kvm.
 */
export type CoreNats = Pick<NatsConnection, 'publish' | 'subscribe' | 'flush' | 'status'>;

/**
 * Connects and keeps reconnecting forever: a NATS restart must not kill a service. Status
 * changes are logged; callers observe `isClosed()` for readiness.
 */
export async function connectNats(opts: NatsConnectionOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: opts.servers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: false,
    // nats.js builds an Error (with a stack trace) for every request up front, to report a
    // timeout with the caller's stack; on the send path that was ~5% of the rooms service's
    // CPU (profiled under the fan-out benchmark). Our RPC client reports its own errors.
    noAsyncTraces: true,
  });
  if (opts.coalesceWrites !== false) coalesceWrites(nc);
  quietRequestEnd();
  const log = opts.log;
  if (log) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnecting')
          log('warn', `nats ${s.type}`, { server: 'server' in s ? s.server : undefined });
        else if (s.type === 'reconnect') log('info', 'nats reconnected', { server: s.server });
        else if (s.type === 'error') log('error', 'nats error', { error: String(s.error) });
      }
    })().catch(() => undefined);
  }
  return nc;
}

/**
 * Write coalescing for NATS, as the gateway does for WebSocket frames (wire/connection.ts).
 * nats.js flushes its outgoing buffer in a microtask after the first command, so every
 * command issued from a separate promise continuation (an ack per consumed message, a reply
 * per request, a publish per append) becomes its own write system call: the fan-out benchmark
 * measured 6.4 writes per message in the moderation service and 3.6 in the gateway. Here the
 * first write of an event-loop turn corks the socket and a setImmediate uncorks it, so the
 * turn's writes leave as one writev. Nothing waits longer than the current turn. nats.js has
 * no option for this, so its transport's `send` is wrapped (once per process, on the
 * prototype, so reconnects' new transports get it too); if that shape ever changes this
 * does nothing.
 */
function coalesceWrites(nc: NatsConnection): void {
  const transport = (nc as unknown as { protocol?: { transport?: object } }).protocol?.transport;
  const proto = transport ? (Object.getPrototypeOf(transport) as TransportProto) : null;
  if (!proto || typeof proto.send !== 'function' || proto[CORKED]) return;
  const send = proto.send;
  proto[CORKED] = true;
  proto.send = function (this: { socket?: CorkableSocket }, frame: Uint8Array) {
    const sock = this.socket;
    if (sock && !sock.destroyed && sock.writableCorked === 0 && typeof sock.cork === 'function') {
      sock.cork();
      setImmediate(() => sock.uncork());
    }
    return send.call(this, frame);
  };
}

const CORKED = Symbol.for('chat.natsWritesCoalesced');
type TransportProto = { send?: (frame: Uint8Array) => unknown; [CORKED]?: boolean };
type CorkableSocket = { destroyed: boolean; writableCorked: number; cork(): void; uncork(): void };

/**
 * nats.js 3.4 ends every answered request with `cancel()`, which rejects the (already
 * resolved) promise with a new RequestError: an Error with a captured stack trace per request,
 * thrown away. That was ~6 % of the rooms service's CPU on the send path (two requests per
 * message: the moderation check and the append). A request that has had its answer skips
 * that Error; every other cancel (timeout, connection closed, no responders) is unchanged.
 * Patched once per process on the prototype; if the class's shape ever changes this does nothing.
 */
function quietRequestEnd(): void {
  const proto = RequestOne.prototype as unknown as RequestProto;
  if (proto[QUIETED] || typeof proto.cancel !== 'function' || typeof proto.resolver !== 'function') return;
  proto[QUIETED] = true;
  const { cancel, resolver } = proto;
  proto.resolver = function (this: RequestState, err: unknown, msg: unknown) {
    this[ANSWERED] = true;
    return resolver.call(this, err, msg);
  };
  proto.cancel = function (this: RequestState, err?: unknown) {
    if (err === undefined && this[ANSWERED] && this.mux) {
      this.timer?.cancel();
      this.mux.cancel(this);
      return;
    }
    return cancel.call(this, err);
  };
}

const QUIETED = Symbol.for('chat.natsRequestEndQuieted');
const ANSWERED = Symbol('answered');
type RequestState = { [ANSWERED]?: boolean; timer?: { cancel(): void }; mux?: { cancel(r: unknown): void } };
type RequestProto = {
  cancel: (this: RequestState, err?: unknown) => unknown;
  resolver: (this: RequestState, err: unknown, msg: unknown) => unknown;
  [QUIETED]?: boolean;
};
