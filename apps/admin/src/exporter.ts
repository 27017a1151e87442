import http from 'node:http';
import type { JetStreamManager } from '@nats-io/jetstream';
import { Gauge, Registry } from 'prom-client';
import { collectLag } from './lag';

/**
 * `./chat admin exporter`: the lag of the namespace's streams and durable consumers as
 * Prometheus metrics (GET /metrics), read from JetStream at every scrape; the services export
 * what happens inside them, this exports what the server holds for them (consumer backlogs
 * are not visible from inside a consumer). One replica is enough: every scrape asks the server.
 * `chat_jetstream_up` is 0 when the last scrape could not read JetStream (the other series are
 * then absent rather than stale).
 */
export function lagRegistry(jsm: JetStreamManager, namespace: string): Registry {
  const registry = new Registry();
  const registers = [registry];
  // Every gauge's collect (prom-client calls them all at once, each awaited before its value
  // is read) waits for the same single read of JetStream.
  const collect = () => refresh();
  const stream = ['stream'];
  const consumer = ['stream', 'consumer'];
  const up = new Gauge({
    name: 'chat_jetstream_up',
    help: 'Whether the last scrape could read JetStream (1) or not (0)',
    registers,
    collect,
  });
  const messages = new Gauge({
    name: 'chat_jetstream_stream_messages',
    help: 'Messages stored in the stream',
    labelNames: stream,
    registers,
    collect,
  });
  const bytes = new Gauge({
    name: 'chat_jetstream_stream_bytes',
    help: 'Bytes stored in the stream',
    labelNames: stream,
    registers,
    collect,
  });
  const lastSeq = new Gauge({
    name: 'chat_jetstream_stream_last_seq',
    help: 'Last sequence stored in the stream',
    labelNames: stream,
    registers,
    collect,
  });
  const pending = new Gauge({
    name: 'chat_jetstream_consumer_pending',
    help: 'Messages of the stream matching the durable consumer that were not delivered yet (its backlog)',
    labelNames: consumer,
    registers,
    collect,
  });
  const ackPending = new Gauge({
    name: 'chat_jetstream_consumer_ack_pending',
    help: 'Messages delivered to the durable consumer and not acknowledged yet',
    labelNames: consumer,
    registers,
    collect,
  });
  const redelivered = new Gauge({
    name: 'chat_jetstream_consumer_redelivered',
    help: 'Unacknowledged messages of the durable consumer that were delivered more than once',
    labelNames: consumer,
    registers,
    collect,
  });
  const ackFloor = new Gauge({
    name: 'chat_jetstream_consumer_ack_floor',
    help: 'Stream sequence up to which the durable consumer acknowledged everything',
    labelNames: consumer,
    registers,
    collect,
  });
  const all = [messages, bytes, lastSeq, pending, ackPending, redelivered, ackFloor];

  // One read of JetStream per scrape, filling every gauge.
  let reading: Promise<void> | null = null;
  const refresh = (): Promise<void> =>
    (reading ??= (async () => {
      for (const g of all) g.reset();
      try {
        const lag = await collectLag(jsm, namespace);
        for (const s of lag.streams) {
          messages.set({ stream: s.stream }, s.messages);
          bytes.set({ stream: s.stream }, s.bytes);
          lastSeq.set({ stream: s.stream }, s.lastSeq);
        }
        for (const c of lag.consumers) {
          const labels = { stream: c.stream, consumer: c.consumer };
          pending.set(labels, c.pending);
          ackPending.set(labels, c.ackPending);
          redelivered.set(labels, c.redelivered);
          ackFloor.set(labels, c.ackFloor);
        }
        up.set(1);
      } catch {
        up.set(0);
      }
    })().finally(() => setImmediate(() => (reading = null))));
  return registry;
}

export function serveMetrics(registry: Registry, port: number, host: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      registry
        .metrics()
        .then((text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text))
        .catch((err: Error) => res.writeHead(500).end(String(err.message)));
    } else if (req.url === '/health/live' || req.url === '/health/ready') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
