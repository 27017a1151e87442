import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { streamKind, type StreamKind } from './namespace';

export interface StreamLag {
  stream: string;
  kind: StreamKind;
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  consumers: number;
}

export interface ConsumerLag {
  stream: string;
  consumer: string;
  /** Stored messages matching the filter that were never delivered: the backlog. */
  pending: number;
  /** Delivered, not acknowledged yet (in work, or waiting for the ack wait to redeliver them). */
  ackPending: number;
  /** Messages delivered more than once, currently unacknowledged. */
  redelivered: number;
  /** Everything at or below this stream sequence is acknowledged. */
  ackFloor: number;
  /** Pull requests waiting: the consumer's readers (0 means nobody is reading it now). */
  waiting: number;
}

export interface Lag {
  streams: StreamLag[];
  consumers: ConsumerLag[];
}

/** The namespace's streams, in name order, with their info (one API call per stream). */
export async function namespaceStreams(jsm: JetStreamManager, namespace: string): Promise<Array<{ info: StreamInfo; kind: StreamKind }>> {
  const out: Array<{ info: StreamInfo; kind: StreamKind }> = [];
  for await (const info of jsm.streams.list()) {
    const kind = streamKind(namespace, info.config.name, info.config.subjects ?? []);
    if (kind) out.push({ info, kind });
  }
  return out.sort((a, b) => a.info.config.name.localeCompare(b.info.config.name));
}

/**
 * Every stream of the namespace (messages, bytes) and every durable consumer on them (pending,
 * ack pending, redelivered, ack floor): what `./chat admin lag` prints and the exporter serves.
 * Ephemeral consumers (ordered replays, followers) are left out: their lag says nothing lasting.
 */
export async function collectLag(jsm: JetStreamManager, namespace: string): Promise<Lag> {
  const streams: StreamLag[] = [];
  const consumers: ConsumerLag[] = [];
  for (const { info, kind } of await namespaceStreams(jsm, namespace)) {
    const name = info.config.name;
    streams.push({
      stream: name,
      kind,
      messages: info.state.messages,
      bytes: info.state.bytes,
      firstSeq: info.state.first_seq,
      lastSeq: info.state.last_seq,
      consumers: info.state.consumer_count,
    });
    if (info.state.consumer_count === 0) continue;
    for await (const c of jsm.consumers.list(name)) {
      if (!c.config.durable_name) continue;
      consumers.push({
        stream: name,
        consumer: c.name,
        pending: c.num_pending,
        ackPending: c.num_ack_pending,
        redelivered: c.num_redelivered,
        ackFloor: c.ack_floor.stream_seq,
        waiting: c.num_waiting,
      });
    }
  }
  consumers.sort((a, b) => a.stream.localeCompare(b.stream) || a.consumer.localeCompare(b.consumer));
  return { streams, consumers };
}

/** Plain text columns, numbers right-aligned. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells
    .map((r, row) =>
      r
        .map((c, i) => (row > 0 && typeof rows[row - 1][i] === 'number' ? c.padStart(widths[i]) : c.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function formatLag(lag: Lag): string {
  const streams = table(
    ['STREAM', 'KIND', 'MESSAGES', 'BYTES', 'FIRST', 'LAST', 'CONSUMERS'],
    lag.streams.map((s) => [s.stream, s.kind, s.messages, formatBytes(s.bytes), s.firstSeq, s.lastSeq, s.consumers]),
  );
  const consumers = lag.consumers.length
    ? table(
        ['STREAM', 'CONSUMER', 'PENDING', 'ACK PENDING', 'REDELIVERED', 'ACK FLOOR', 'WAITING'],
        lag.consumers.map((c) => [c.stream, c.consumer, c.pending, c.ackPending, c.redelivered, c.ackFloor, c.waiting]),
      )
    : '(no durable consumers)';
  return `${streams}\n\n${consumers}\n`;
}
