// Where a message's time goes, hop by hop: the stack with TRACE_SPANS=true (libs/messaging
// spans.ts) under a paced stream of sends, then the `chat_span_seconds` histograms of all five
// services read from their /metrics and printed in the order a message meets them. It prints
// figures; it asserts nothing.
//
//   npm run bench:spans                 (builds first)
//   node bench/spans.mjs --help
//
// Spans are per process: `rpc.call X` in the caller is the whole round trip, `rpc.wait X` in the
// callee the time from the caller's publish until the handler starts (NATS plus the callee's
// event-loop backlog), `rpc.handle X` the handler. `consume.fromStore` is the time from
// JetStream's store until a durable consumer's handler gets the message (every consumer of the
// process together), `live.fromAppend` from the append's publish until the gateway has the
// republished event (`live.fromStore` from the store, where the server stamps republished
// messages: NATS 2.10 on),
// `live.deliver` the gateway's decode + fan-out writes of one event.
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import {
  f2,
  inBatches,
  intOption,
  joinRoom,
  CLK_TCK,
  killOwnChildren,
  pidsByName,
  procTicks,
  lifecycle,
  log,
  machineInfo,
  now,
  registeredTokens,
  renderTable,
  Reservoir,
  scrapeMetrics,
  sleep,
  startBenchStack,
  writeResult,
} from './lib.mjs';
import { procIo } from './suite/loadgen.mjs';

const require = createRequire(import.meta.url);
const { values: opt } = parseArgs({
  options: {
    rooms: { type: 'string', default: '20' },
    members: { type: 'string', default: '5' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '15' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(`usage: node bench/spans.mjs [options]   (npm run bench:spans builds first)
  --rooms R     rooms (default 20)
  --members M   members per room, each connected once; every member sends (default 5)
  --rate X      messages per second over all senders, paced (default 200)
  --seconds T   seconds of sending (default 15)
  --out FILE    JSON result (default bench/results/spans-<date>.json)`);
  process.exit(0);
}
const num = intOption(opt);
const P = { rooms: num('rooms', 1), members: num('members', 1), rate: num('rate', 1), seconds: num('seconds', 1) };

/** The order a message.send meets the spans (others follow, sorted by name). */
const PATH = [
  ['gateway', 'ws message.send'],
  ['gateway', 'rpc.call rooms.post'],
  ['rooms', 'rpc.wait rooms.post'],
  ['rooms', 'rpc.handle rooms.post'],
  ['rooms', 'post.lookup'],
  ['rooms', 'rpc.call moderation.check'],
  ['moderation', 'rpc.wait moderation.check'],
  ['moderation', 'rpc.handle moderation.check'],
  ['rooms', 'js.append'],
  ['gateway', 'live.fromAppend'],
  ['gateway', 'live.fromStore'],
  ['gateway', 'live.deliver'],
  ['rooms', 'consume.fromStore'],
  ['history', 'consume.fromStore'],
  ['moderation', 'consume.fromStore'],
  ['presence', 'consume.fromStore'],
];

/** Histograms `chat_span_seconds` of one service's metrics: span -> { count, sum, buckets [[le, cumulative]] }. */
function spansOf(metrics) {
  const out = new Map();
  const get = (span) => {
    if (!out.has(span)) out.set(span, { count: 0, sum: 0, buckets: [] });
    return out.get(span);
  };
  for (const [key, value] of Object.entries(metrics)) {
    const m = /^chat_span_seconds_(bucket|sum|count)\{(.*)\}$/.exec(key);
    if (!m) continue;
    const span = /span="([^"]*)"/.exec(m[2])?.[1];
    if (!span) continue;
    const s = get(span);
    if (m[1] === 'count') s.count = value;
    else if (m[1] === 'sum') s.sum = value;
    else s.buckets.push([Number(/le="([^"]*)"/.exec(m[2])[1]), value]);
  }
  for (const s of out.values()) s.buckets.sort((a, b) => a[0] - b[0]);
  return out;
}

/** A quantile of a cumulative histogram, interpolated linearly inside its bucket (Prometheus' histogram_quantile). */
function quantile(q, s) {
  if (!s.count) return null;
  const rank = q * s.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, c] of s.buckets) {
    if (c >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, c - prevCount);
    }
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}

/** Subtracts a baseline scrape (spans recorded while setting up), so only the measured stream counts. */
function minus(after, before) {
  const out = new Map();
  for (const [span, a] of after) {
    const b = before.get(span);
    if (!b) out.set(span, a);
    else
      out.set(span, {
        count: a.count - b.count,
        sum: a.sum - b.sum,
        buckets: a.buckets.map(([le, c], i) => [le, c - (b.buckets[i]?.[1] ?? 0)]),
      });
  }
  return out;
}

/** CPU ticks and syscalls of every service process (and NATS), to take per-message costs over a window. */
function processCounters(stack) {
  const out = {};
  for (const [name, p] of stack.procs) out[name] = { ticks: procTicks(p.child.pid), io: procIo(p.child.pid) };
  const nats = pidsByName('nats-server');
  out.nats = { ticks: nats.reduce((a, pid) => a + (procTicks(pid) ?? 0), 0), io: null };
  return out;
}

const { cleanups, interrupted, run } = lifecycle({ finally_: async () => killOwnChildren() });

run(async () => {
  const started = new Date();
  const info = machineInfo();
  const { ChatClient, wsUrlOf } = require('../libs/client/dist/index.js');
  const { stack, teardown, runId } = await startBenchStack({ name: 'spans-bench', cleanups, info, env: { TRACE_SPANS: 'true' } });
  const base = stack.urls.gateway;
  const password = crypto.randomBytes(12).toString('base64url');
  const total = P.rooms * P.members;
  const tokens = await registeredTokens(
    base,
    Array.from({ length: total }, (_, i) => `s${runId}_${i}`),
    password,
  );
  const connect = async (token) => {
    const c = await ChatClient.connect(wsUrlOf(base), { WebSocket, eventHistory: 0, requestTimeoutMs: 30_000 });
    await c.auth(token);
    return c;
  };
  const delivered = new Reservoir();
  const senders = [];
  for (let r = 0; r < P.rooms; r++) {
    const roomId = `spans-${runId}-${r}`;
    const members = await inBatches(tokens.slice(r * P.members, (r + 1) * P.members), P.members, connect);
    await members[0].request('room.create', { roomId, name: `Spans ${r}`, memberLimit: Math.max(2, P.members) });
    await inBatches(members.slice(1), 4, (c) => joinRoom(c, roomId));
    for (const c of members) {
      c.on('message.posted', (m) => {
        const ts = Number(m.body.split(':')[0]);
        if (ts > 0) delivered.add(now() - ts);
      });
      senders.push({ c, roomId, n: 0 });
    }
  }
  log(`${total} clients in ${P.rooms} rooms; ${P.rate} msgs/s for ${P.seconds} s with TRACE_SPANS=true`);

  const scrapeAll = async () => {
    const out = {};
    for (const [name, url] of Object.entries(stack.urls)) out[name] = spansOf(await scrapeMetrics(url));
    return out;
  };
  const before = await scrapeAll();
  const counters0 = processCounters(stack);
  const ack = new Reservoir();
  let sent = 0;
  let failed = 0;
  const t0 = now();
  while (!interrupted() && now() - t0 < P.seconds * 1000) {
    const due = Math.floor(((now() - t0) * P.rate) / 1000);
    while (sent < due) {
      const s = senders[sent++ % senders.length];
      const ts = now();
      s.c.request('message.send', { roomId: s.roomId, clientMsgId: `m${++s.n}`, body: `${ts.toFixed(3)}:spans` }).then(
        () => ack.add(now() - ts),
        () => failed++,
      );
    }
    await sleep(2);
  }
  await sleep(3000);
  const after = await scrapeAll();
  const counters1 = processCounters(stack);
  // Per accepted message, over the stream and its 3 s drain (the setup before is excluded).
  const accepted = ack.n;
  const costs = Object.keys(counters1).map((name) => {
    const a = counters0[name];
    const b = counters1[name];
    return {
      process: name,
      cpuMsPerMessage: accepted ? (((b.ticks - a.ticks) / CLK_TCK) * 1000) / accepted : null,
      writesPerMessage: accepted && a.io && b.io ? (b.io.syscw - a.io.syscw) / accepted : null,
      readsPerMessage: accepted && a.io && b.io ? (b.io.syscr - a.io.syscr) / accepted : null,
    };
  });

  const rows = [];
  const seen = new Set();
  const row = (service, span) => {
    const s = minus(after[service] ?? new Map(), before[service] ?? new Map()).get(span);
    seen.add(`${service} ${span}`);
    if (!s || s.count <= 0) return;
    rows.push({
      service,
      span,
      count: s.count,
      meanMs: (s.sum / s.count) * 1000,
      p50Ms: quantile(0.5, s) * 1000,
      p99Ms: quantile(0.99, s) * 1000,
    });
  };
  for (const [service, span] of PATH) row(service, span);
  for (const service of Object.keys(after))
    for (const span of [...after[service].keys()].sort()) if (!seen.has(`${service} ${span}`)) row(service, span);

  const [a50, a99] = ack.percentiles([50, 99]);
  const [d50, d99] = delivered.percentiles([50, 99]);
  console.log(`\nTiming spans — ${started.toISOString()}`);
  console.log(`command: node bench/spans.mjs ${process.argv.slice(2).join(' ')}`);
  console.log(
    `machine: ${info.cpus} x ${info.cpuModel}, ${info.os}, Node ${info.node}, NATS ${info.natsVersion}; load average at start ${info.loadavgAtStart.join(' ')}`,
  );
  console.log(
    `${sent} sends (${failed} failed) at ${P.rate}/s into ${P.rooms} rooms of ${P.members}; client send->ack p50/p99 ${f2(a50)}/${f2(a99)} ms, send->delivery p50/p99 ${f2(d50)}/${f2(d99)} ms\n`,
  );
  console.log(
    renderTable(
      ['service', 'span', 'count', 'mean ms', 'p50 ms', 'p99 ms'],
      rows.map((r) => [r.service, r.span, String(r.count), f2(r.meanMs), f2(r.p50Ms), f2(r.p99Ms)]),
    ),
  );
  console.log('');
  console.log(
    renderTable(
      ['process', 'CPU ms / message', 'write syscalls / message', 'read syscalls / message'],
      costs.map((c) => [c.process, f2(c.cpuMsPerMessage), f2(c.writesPerMessage), f2(c.readsPerMessage)]),
    ),
  );
  console.log('\np50/p99 are interpolated inside histogram buckets (50 µs ... 10 s): read them as bucket-accurate, the mean as exact.');
  writeResult({
    out: opt.out,
    name: 'spans',
    started,
    result: { params: P, info, sent, failed, costs, ack: { p50: a50, p99: a99 }, delivery: { p50: d50, p99: d99 }, rows },
  });
  await Promise.all(senders.map((s) => s.c.close().catch(() => undefined)));
  await teardown();
});
