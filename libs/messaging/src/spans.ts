import { performance } from 'node:perf_hooks';
import type { MsgHdrs } from '@nats-io/transport-node';

/**
 * Timing spans: where a message's time goes, hop by hop, across the services. Off by default
 * (`TRACE_SPANS=true` turns them on in a service, see libs/platform bootstrap); when off every
 * call below is one null check, so the hot path keeps them.
 *
 * A span is a named duration measured inside one process (an RPC's round trip, a handler, a
 * JetStream append) or between two processes of one deployment: the sender stamps its clock in
 * a header (`Chat-Sent-At` on RPC requests) or JetStream stamps the store time
 * (`Nats-Time-Stamp` on republished messages, the delivery's timestamp for consumers), and the
 * receiver records `now - stamp`. Cross-process spans assume the machines' clocks agree (NTP:
 * well under a millisecond on one host, a few ms across hosts).
 *
 * The sink (set by the platform) feeds a Prometheus histogram `chat_span_seconds{span}` on the
 * service's /metrics and, at log level debug, one log line per span; `bench/spans.mjs` reads the
 * histograms of all five services and prints the path of a message as a table.
 */
export type SpanSink = (span: string, ms: number) => void;

let sink: SpanSink | null = null;

/** Header on RPC requests: the caller's clock (ms since the epoch, fractional) when it sent the request. */
export const SENT_AT_HEADER = 'Chat-Sent-At';

export const Spans = {
  get on(): boolean {
    return sink !== null;
  },
  /** Turns spans on (a sink) or off (null) for this process. */
  enable(s: SpanSink | null): void {
    sink = s;
  },
  /** Epoch ms with sub-ms precision, comparable between processes on one machine. */
  now(): number {
    return performance.timeOrigin + performance.now();
  },
  /** A start time for `end`, or 0 when spans are off (no clock read). */
  start(): number {
    return sink ? performance.timeOrigin + performance.now() : 0;
  },
  /** Records the span from `t0` (from `start`) to now; nothing when spans are off or t0 is 0. */
  end(span: string, t0: number): void {
    if (sink && t0 > 0) sink(span, performance.timeOrigin + performance.now() - t0);
  },
  /** Stamps the sending time on outgoing headers, when spans are on. */
  stamp(h: MsgHdrs): void {
    if (sink) h.set(SENT_AT_HEADER, (performance.timeOrigin + performance.now()).toFixed(3));
  },
  /** Records now minus the `Chat-Sent-At` stamp of incoming headers, if any. */
  sinceSent(span: string, h: MsgHdrs | undefined): void {
    if (!sink || !h) return;
    const t = Number(h.get(SENT_AT_HEADER));
    if (t > 0) sink(span, performance.timeOrigin + performance.now() - t);
  },
  /** Records now minus a JetStream store time (ns since the epoch, as in a delivery's info). */
  sinceStoredNanos(span: string, nanos: number | undefined): void {
    if (sink && nanos && nanos > 0) sink(span, performance.timeOrigin + performance.now() - nanos / 1e6);
  },
  /** Records now minus a republished message's `Nats-Time-Stamp` (RFC 3339 with ns). */
  sinceStoredHeader(span: string, h: MsgHdrs | undefined): void {
    if (!sink || !h) return;
    const ms = rfc3339Ms(h.get('Nats-Time-Stamp'));
    if (ms !== null) sink(span, performance.timeOrigin + performance.now() - ms);
  },
};

/** Epoch ms (fractional) of an RFC 3339 time with up to nanosecond digits; null if unreadable. */
export function rfc3339Ms(s: string | undefined): number | null {
  if (!s) return null;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return null;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(whole)) return null;
  return whole + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}
