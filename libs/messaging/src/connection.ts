import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface NatsConnectionOptions {
  /** Comma-separated server URLs. */
  servers: string;
  /** Shown in the server's connection list (`nats server report connections`). */
  name: string;
  log?: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
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
