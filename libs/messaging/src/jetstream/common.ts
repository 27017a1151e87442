import { JetStreamApiError, type JsMsg } from '@nats-io/jetstream';
import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { decodeJson } from '../codec';
import { Spans } from '../spans';

export type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
export const silent: Log = () => undefined;

/** JetStream API error codes we act on (server `errors.json`). */
export const ApiErrorCode = {
  consumerNotFound: 10014,
  noMessageFound: 10037,
  streamNotFound: 10059,
  wrongLastSequence: 10071,
} as const;

/** true when the server answered a JetStream API call with this error code. */
export function isApiError(err: unknown, code?: number): err is JetStreamApiError {
  return err instanceof JetStreamApiError && (code === undefined || err.code === code);
}

export interface Delivered {
  subject: string;
  /** Stream sequence. */
  seq: number;
  /** Parsed JSON, or undefined when the payload was not JSON (a poison message). */
  data: unknown;
  /** The payload bytes as stored, so that a poison message can be kept verbatim. */
  raw?: Uint8Array;
  redelivered: boolean;
  /**
   * How many times the server has delivered this message to the consumer, this time included
   * (1 the first time). Set on consumer deliveries; a handler that gives up after some
   * attempts (moderation subscribers) reads it, since a redelivery may reach another replica.
   */
  deliveryCount?: number;
  /** Messages still pending for the consumer after this one (0 = caught up). */
  pending: number;
}

export function toDelivered(m: JsMsg): Delivered {
  // From JetStream's store to this consumer's handler (the consumer's queue included).
  Spans.sinceStoredNanos('consume.fromStore', m.info.timestampNanos);
  return {
    subject: m.subject,
    seq: m.seq,
    data: decodeJson(m.data),
    raw: m.data,
    redelivered: m.redelivered,
    deliveryCount: m.info.deliveryCount,
    pending: m.info.pending,
  };
}

/** JetStream is there but cannot answer right now (meta leader being elected, stream leader moving). */
const TEMPORARILY_UNAVAILABLE = 10008;

/** true for failures that say "not now" rather than "no": a timeout, no responders, JetStream temporarily unavailable. */
export function isTransient(err: unknown): boolean {
  return (
    err instanceof TimeoutError ||
    err instanceof NoRespondersError ||
    (err instanceof RequestError && err.isNoResponders()) ||
    isApiError(err, TEMPORARILY_UNAVAILABLE)
  );
}

/**
 * Runs a start-up call (ensuring streams, opening KV buckets) again while it fails transiently,
 * up to `attempts` times with a growing wait. In a cluster, creating or scaling a replicated
 * stream takes a round of consensus, which on a loaded machine, or while a leader is being
 * elected, outlasts the 5 s JetStream API timeout; the server usually finishes the change, and
 * the next attempt finds it done. Anything else (a refusal) fails at once.
 */
export async function retryTransient<T>(what: string, log: Log, fn: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isTransient(err)) throw err;
      const waitMs = 250 * 2 ** attempt;
      log('warn', `${what}: JetStream did not answer; trying again`, { attempt, waitMs, error: String(err) });
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}
