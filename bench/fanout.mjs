// Fan-out benchmark: N WebSocket clients in one room on one gateway, a few senders, and the same
// load generator driving (a) a bare `ws` broadcast server and (b) the whole stack (gateway ->
// rooms -> moderation -> JetStream -> republish -> gateway -> sockets). It prints figures; it
// asserts nothing. See docs/benchmarks.md for how to read them.
//
//   npm run bench                       (builds first)
//   node bench/fanout.mjs --help
//
// Two scenarios per target, run one target at a time (the other is not running meanwhile):
//  1. saturation: every sender keeps `--window` messages outstanding (sent, not yet received by
//     every receiver) and sends the next one as soon as one is complete — a closed loop that
//     finds the highest rate each target sustains with bounded queues. Reported: deliveries/s.
//  2. half load: a paced open-loop stream at half the bare server's saturation message rate
//     (or `--rate`), same for both targets. Reported: p50/p99 send-to-receive latency.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import {
  cpuMeter,
  deleteNamespace,
  dropSchema,
  f0,
  f2,
  freePort,
  killOwnChildren,
  lifecycle,
  log,
  machineInfo,
  natsVersion,
  now,
  pidsByName,
  postgresVersion,
  renderTable,
  Reservoir,
  sleep,
  startBareServer,
  writeResult,
  BENCH_MODERATION_ENV,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { ensureNats, ensurePostgres } = require('../scripts/infra.cjs');
const { SERVICES, startStack } = require('../scripts/stack.cjs');

// ---------------------------------------------------------------------------------------------
// Options

const { values: opt } = parseArgs({
  options: {
    clients: { type: 'string', default: '200' },
    senders: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    window: { type: 'string', default: '8' },
    rate: { type: 'string' },
    'max-outstanding': { type: 'string', default: '200' },
    'body-chars': { type: 'string', default: '64' },
    only: { type: 'string' },
    profile: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(`usage: node bench/fanout.mjs [options]   (npm run bench builds first)
  --clients N          receivers in the room (default 200)
  --senders S          sending clients, also room members (default 16: a room's traffic comes from
                       many people, and the gateway keeps each connection's sends in order, so one
                       connection's rate is bounded by its send round trip)
  --seconds T          measured seconds per scenario (default 10)
  --warmup W           seconds sent but not measured before each scenario (default 2)
  --window K           saturation: messages each sender keeps outstanding, i.e. not yet received by every receiver (default 8, max 200)
  --rate R             half-load scenario rate in msgs/s (default: half the bare server's saturation rate)
  --max-outstanding M  half load: a sender with M messages outstanding skips a send (counted) instead of queueing it (default 200, max 200)
  --body-chars C       message body length (default 64)
  --only bare|stack    run one target only
  --profile DIR        write V8 CPU profiles (.cpuprofile) of the services and the bare server to DIR
  --out FILE           JSON result (default bench/results/fanout-<date>.json)`);
  process.exit(0);
}
const int = (name, min) => {
  const v = Number(opt[name]);
  if (!Number.isFinite(v) || v < min) throw new Error(`--${name} must be a number >= ${min}`);
  return v;
};
const P = {
  clients: int('clients', 1),
  senders: int('senders', 1),
  seconds: int('seconds', 1),
  warmup: int('warmup', 0),
  window: int('window', 1),
  rate: opt.rate === undefined ? null : int('rate', 1),
  maxOutstanding: int('max-outstanding', 1),
  bodyChars: int('body-chars', 32),
  only: opt.only ?? null,
  profile: opt.profile ? path.resolve(opt.profile) : null,
};
// Profiles are written when a process exits normally (SIGTERM is handled by every service);
// --cpu-prof is not allowed in NODE_OPTIONS, hence a preloaded module.
const profileEnv = P.profile
  ? {
      BENCH_PROFILE_DIR: P.profile,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(here, 'cpu-profile.cjs')}`.trim(),
    }
  : {};
if (P.only && !['bare', 'stack'].includes(P.only)) throw new Error('--only must be bare or stack');
// Below the gateway's WS_MAX_INFLIGHT (256): beyond it requests are refused, not queued.
// (a message is outstanding until every receiver has it, so never fewer are in flight at the gateway).
if (P.window > 200) throw new Error('--window above 200 would hit the gateway in-flight limit (256)');
if (P.maxOutstanding > 200) throw new Error('--max-outstanding above 200 would hit the gateway in-flight limit (256)');

// ---------------------------------------------------------------------------------------------
// Measurement: deliveries, latency samples (fixed-size reservoir), CPU of the processes involved

/** Read/write syscall counts of a process (Linux /proc/<pid>/io), or null. */
function procIo(pid) {
  try {
    const io = Object.fromEntries(
      fs
        .readFileSync(`/proc/${pid}/io`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(': ')),
    );
    return { syscr: Number(io.syscr), syscw: Number(io.syscw) };
  } catch {
    return null;
  }
}

const perDelivery = (n, deliveries) => (Number.isFinite(n) && deliveries > 0 ? Number((n / deliveries).toFixed(3)) : null);

/**
 * CPU use over an interval (lib.mjs cpuMeter), as this report has it: per named process group
 * (in % of one core), the load generator, the machine (in % of all cores), other and steal.
 */
function cpuPercent(groups) {
  const stop = cpuMeter(groups);
  return () => {
    const c = stop();
    return { ...c.groups, loadgen: c.loadgen, machineBusy: c.machineBusy, other: c.other, steal: c.steal };
  };
}

// ---------------------------------------------------------------------------------------------
// The load generator: one implementation for every target. A target is
//   { name, fanoutProcess, pids() -> {group: [pid]}, senders: [{ send(body) -> Promise|void }],
//     onReceiverBody (set here: called with the body of each room message a receiver gets), stop() }
// with its receivers already connected and in the room. Senders are room members too (they get
// every message, as in a real room); only the receivers' deliveries are counted.

let phaseSeq = 0;

async function runScenario(target, { kind, rate = 0 }) {
  const tag = `p${++phaseSeq}`;
  const rec = {
    phase: 'warmup',
    t0: 0,
    t1: 0,
    delivered: 0, // deliveries received during the measured window
    windowDeliveries: 0, // deliveries (any time) of messages sent during the measured window
    windowSent: 0,
    windowFailed: 0,
    sent: 0,
    failed: 0,
    skipped: 0,
    stale: 0,
    lat: new Reservoir(),
    ack: new Reservoir(),
  };
  const pad = (s) => (s.length >= P.bodyChars ? s : s + ':' + 'x'.repeat(P.bodyChars - s.length - 1));

  // Body: tag:sender:seq:sendTime[:padding]. Parsed on every delivery, so kept trivial.
  const parse = (body) => {
    if (!body.startsWith(tag + ':')) return null;
    const f = body.split(':');
    return { sender: Number(f[1]), key: `${f[1]}:${f[2]}`, ts: Number(f[3]) };
  };

  // A message is outstanding until every receiver has it: the window bounds what is in flight
  // end to end, whatever the target does inside (it cannot hide a backlog in socket buffers).
  const remaining = new Map();
  const onReceiverBody = (body) => {
    const t = now();
    const m = parse(body);
    if (!m) return void rec.stale++;
    if (rec.phase === 'measure') rec.delivered++;
    if (rec.t0 && m.ts >= rec.t0 && (!rec.t1 || m.ts < rec.t1)) {
      rec.windowDeliveries++;
      rec.lat.add(t - m.ts);
    }
    const left = remaining.get(m.key);
    if (left === undefined) return;
    if (left > 1) remaining.set(m.key, left - 1);
    else {
      remaining.delete(m.key);
      release(senders[m.sender]);
    }
  };

  const senders = [];
  let stopSending = false;
  const release = (s, afterFailure = false) => {
    s.outstanding--;
    if (kind !== 'saturation' || stopSending) return;
    // A refused send is not retried at once: a closed target would otherwise fail every send
    // synchronously, in an endless loop.
    if (afterFailure) setTimeout(() => topUp(s), 50);
    else topUp(s);
  };
  const sendOne = (s) => {
    const ts = now();
    const seq = ++s.seq;
    const body = pad(`${tag}:${s.idx}:${seq}:${ts.toFixed(3)}`);
    remaining.set(`${s.idx}:${seq}`, P.clients);
    s.outstanding++;
    rec.sent++;
    const counted = rec.phase === 'measure';
    if (counted) rec.windowSent++;
    const p = s.conn.send(body);
    if (p && typeof p.then === 'function') {
      p.then(
        () => {
          if (counted) rec.ack.add(now() - ts);
        },
        (err) => {
          rec.failed++;
          if (counted) rec.windowFailed++;
          s.lastError = err?.message ?? String(err);
          if (remaining.delete(`${s.idx}:${seq}`)) release(s, true);
        },
      );
    }
  };
  const topUp = (s) => {
    while (s.outstanding < P.window && !stopSending && !interrupted()) sendOne(s);
  };

  for (let i = 0; i < target.senders.length; i++) {
    const s = { idx: i, seq: 0, outstanding: 0, conn: target.senders[i], lastError: null };
    senders.push(s);
  }
  target.onReceiverBody = onReceiverBody;

  // Drive.
  let pacer;
  const start = now();
  if (kind === 'saturation') senders.forEach(topUp);
  else {
    let due = 0;
    const tick = () => {
      if (stopSending || interrupted()) return;
      const dueNow = Math.floor(((now() - start) * rate) / 1000);
      while (due < dueNow) {
        const s = senders[due % senders.length];
        due++;
        if (s.outstanding >= P.maxOutstanding) rec.skipped++;
        else sendOne(s);
      }
      pacer = setTimeout(tick, 1);
    };
    tick();
  }

  await sleep(P.warmup * 1000);
  const meter = cpuPercent(target.pids);
  const fanoutPid = target.pids()[target.fanoutProcess][0];
  const io0 = { fanout: procIo(fanoutPid), self: procIo('self') };
  rec.t0 = now();
  rec.phase = 'measure';
  const delivered0 = rec.delivered;
  const sent0 = rec.sent;
  await sleep(P.seconds * 1000);
  rec.t1 = now();
  rec.phase = 'drain';
  const cpu = meter();
  const io1 = { fanout: procIo(fanoutPid), self: procIo('self') };
  const secs = (rec.t1 - rec.t0) / 1000;
  const sentInWindow = rec.sent - sent0;
  stopSending = true;
  clearTimeout(pacer);

  // Drain: let in-flight messages arrive (latency samples of late messages count), bounded.
  const expected = () => (rec.windowSent - rec.windowFailed) * P.clients;
  let last = -1;
  let still = 0;
  const drainStart = now();
  while (now() - drainStart < 20_000 && rec.windowDeliveries < expected()) {
    await sleep(250);
    if (rec.windowDeliveries === last) {
      if (++still >= 12) break; // 3 s without progress: what is missing is lost
    } else still = 0;
    last = rec.windowDeliveries;
  }
  // Leftover deliveries/acks of this phase must not count towards the next one.
  await sleep(200);

  const [p50, p90, p99, max] = rec.lat.percentiles([50, 90, 99, 100]);
  const [ack50, ack99] = rec.ack.percentiles([50, 99]);
  const result = {
    kind,
    offeredMsgsPerSec: kind === 'saturation' ? null : rate,
    window: kind === 'saturation' ? P.window : null,
    seconds: secs,
    sentMsgsPerSec: sentInWindow / secs,
    deliveriesPerSec: (rec.delivered - delivered0) / secs,
    latencyMs: { p50, p90, p99, max, samples: rec.lat.n },
    ackLatencyMs: rec.ack.n ? { p50: ack50, p99: ack99, samples: rec.ack.n } : null,
    expectedDeliveries: expected(),
    lostDeliveries: Math.max(0, expected() - rec.windowDeliveries),
    failedSends: rec.failed,
    skippedSends: rec.skipped,
    staleDeliveries: rec.stale,
    lastError: senders.find((s) => s.lastError)?.lastError ?? null,
    cpuPercent: cpu,
    // Deliveries per CPU-second: less sensitive to what else runs on the machine than deliveries/s.
    efficiency: efficiency(target.fanoutProcess, (rec.delivered - delivered0) / secs, cpu),
    // Socket syscalls per delivery: 1 means one write per frame; below 1, frames were coalesced
    // (written or read several at a time because a socket was backed up).
    syscallsPerDelivery: {
      fanoutWrites: perDelivery(io1.fanout?.syscw - io0.fanout?.syscw, rec.delivered - delivered0),
      loadgenReads: perDelivery(io1.self?.syscr - io0.self?.syscr, rec.delivered - delivered0),
    },
  };
  target.onReceiverBody = () => undefined;
  return result;
}

function efficiency(fanoutProcess, deliveriesPerSec, cpu) {
  const { loadgen, machineBusy, other, steal, ...procs } = cpu;
  const targetCpu = Object.values(procs).reduce((a, b) => a + b, 0);
  const per = (pct) => (pct > 0 ? deliveriesPerSec / (pct / 100) : null);
  return {
    fanoutProcess,
    fanoutCpuPercent: procs[fanoutProcess] ?? null,
    deliveriesPerFanoutCpuSecond: per(procs[fanoutProcess] ?? 0),
    targetCpuPercent: targetCpu,
    deliveriesPerTargetCpuSecond: per(targetCpu),
  };
}

// ---------------------------------------------------------------------------------------------
// Target: bare ws broadcast server (child process)

async function connectRaw(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  return ws;
}

async function inBatches(items, size, fn) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

const { cleanups, interrupted, run } = lifecycle({ finally_: async () => killOwnChildren() });

async function bareTarget() {
  const { child, port, stop } = await startBareServer({ env: { ...process.env, ...profileEnv }, cleanups });
  const url = `ws://127.0.0.1:${port}`;

  // The frame the gateway would send for a message.posted event, with the same fields and a
  // similar size, so that receivers parse the same amount of JSON for both targets.
  const roomId = `bench-${crypto.randomBytes(4).toString('hex')}`;
  let position = 0;
  const frameFor = (i, body) =>
    JSON.stringify({
      type: 'evt',
      event: 'message.posted',
      position: ++position,
      data: {
        messageId: crypto.randomUUID(),
        roomId,
        senderId: senderIds[i],
        senderName: `bench_sender_${i}`,
        clientMsgId: `c${position.toString(36)}`,
        body,
        time: new Date().toISOString(),
        position,
      },
    });
  const senderIds = Array.from({ length: P.senders }, () => crypto.randomUUID());

  const target = {
    name: 'bare',
    fanoutProcess: 'server',
    onReceiverBody: () => undefined,
    pids: () => ({ server: [child.pid] }),
    receivers: [],
    senders: [],
  };
  const bodyOf = (data) => {
    const f = JSON.parse(data.toString());
    return f.type === 'evt' && f.event === 'message.posted' && f.data.roomId === roomId ? f.data.body : null;
  };
  target.receivers = await inBatches(Array.from({ length: P.clients }), 50, async () => {
    const ws = await connectRaw(url);
    ws.on('message', (data) => {
      const body = bodyOf(data);
      if (body !== null) target.onReceiverBody(body);
    });
    return ws;
  });
  for (let i = 0; i < P.senders; i++) {
    const ws = await connectRaw(url);
    // Parsed like a receiver's, as the typed client does for the stack's senders.
    ws.on('message', (data) => bodyOf(data));
    target.senders.push({ ws, send: (body) => void ws.send(frameFor(i, body)) });
  }
  target.stop = async () => {
    for (const ws of [...target.receivers, ...target.senders.map((s) => s.ws)]) ws.terminate();
    await stop();
  };
  return target;
}

// ---------------------------------------------------------------------------------------------
// Target: the whole stack, five services as separate processes

async function stackTarget(info) {
  const { ChatClient, register, login, wsUrlOf } = require('../libs/client/dist/index.js');
  const { createSubjects } = require('../libs/contracts/dist/index.js');
  const quiet = () => undefined;
  const natsUrl = await ensureNats(log);
  const databaseUrl = await ensurePostgres(log);
  const runId = crypto.randomBytes(4).toString('hex');
  const namespace = `bench_${runId}`;
  const schema = `bench_${runId}`;
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-bench-'));
  const names = [...SERVICES];
  const ports = {};
  for (const n of names) ports[n] = await freePort();

  let stack = null;
  const teardown = async () => {
    if (stack) await stack.stopAll().catch(() => undefined);
    stack = null;
    await deleteNamespace(natsUrl, createSubjects(namespace), 'fanout-bench').catch((e) =>
      log(`could not delete NATS namespace ${namespace}: ${e.message}`),
    );
    await dropSchema(databaseUrl, schema).catch((e) => log(`could not drop schema ${schema}: ${e.message}`));
  };
  cleanups.push(teardown);

  log(`starting the stack (namespace ${namespace}, logs in ${logDir})`);
  const t0 = now();
  stack = await startStack({
    env: {
      NATS_URL: natsUrl,
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      NATS_NAMESPACE: namespace,
      JWT_SECRET: crypto.randomBytes(48).toString('base64url'),
      LOG_LEVEL: 'warn',
      ...profileEnv,
    },
    ports,
    // Login cost is not what this measures: the cheapest argon2 the gateway accepts.
    // The benchmark's clients send far above one person's request rate: lift the per-connection limit.
    serviceEnv: {
      gateway: {
        ARGON2_MEMORY_KIB: '1024',
        ARGON2_ITERATIONS: '1',
        WS_RATE_PER_S: '1000000',
        WS_RATE_BURST: '1000000',
        REGISTER_MAX_PER_ADDRESS: '1000000',
      },
      moderation: BENCH_MODERATION_ENV,
    },
    output: logDir,
  });
  log(`stack ready in ${((now() - t0) / 1000).toFixed(1)} s`);
  info.natsVersion = await natsVersion(natsUrl, 'fanout-bench').catch(() => null);
  info.postgresVersion = await postgresVersion(databaseUrl).catch(() => null);
  info.stackLogs = logDir;

  const base = stack.urls.gateway;
  const wsUrl = wsUrlOf(base);
  const password = crypto.randomBytes(12).toString('base64url');
  const total = P.clients + P.senders;
  const t1 = now();
  const tokens = await inBatches(
    Array.from({ length: total }, (_, i) => i),
    16,
    async (i) => {
      const username = `b${runId}_${i}`;
      await register(base, username, password);
      return (await login(base, username, password)).accessToken;
    },
  );
  log(`${total} users registered and logged in in ${((now() - t1) / 1000).toFixed(1)} s`);

  const connect = async (token) => {
    const c = await ChatClient.connect(wsUrl, { WebSocket, eventHistory: 0, requestTimeoutMs: 30_000 });
    await c.auth(token);
    return c;
  };
  const roomId = `bench-${runId}`;
  const target = {
    name: 'stack',
    fanoutProcess: 'gateway',
    onReceiverBody: quiet,
    pids: () => ({
      ...Object.fromEntries([...stack.procs].map(([n, p]) => [n, [p.child.pid]])),
      nats: pidsByName('nats-server'),
      postgres: pidsByName('postgres'),
    }),
    receivers: [],
    senders: [],
  };
  const t2 = now();
  // The first sender creates the room; everyone else joins (a few at a time: joins of one room
  // are serialised by the room aggregate's expected-sequence check).
  const senderClients = [await connect(tokens[P.clients])];
  await senderClients[0].request('room.create', { roomId, name: `Bench ${runId}`, memberLimit: Math.max(2, total) });
  const join = async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.request('room.join', { roomId });
        return;
      } catch (err) {
        if (err.code === 'ALREADY_MEMBER') return;
        if (attempt >= 5 || !['CONFLICT', 'UNAVAILABLE'].includes(err.code)) throw err;
        await sleep(50 * (attempt + 1));
      }
    }
  };
  target.receivers = await inBatches(tokens.slice(0, P.clients), 8, async (token) => {
    const c = await connect(token);
    await join(c);
    c.on('message.posted', (m) => {
      if (m.roomId === roomId) target.onReceiverBody(m.body);
    });
    return c;
  });
  for (let i = 1; i < P.senders; i++) {
    const c = await connect(tokens[P.clients + i]);
    await join(c);
    senderClients.push(c);
  }
  senderClients.forEach((c, i) => {
    let n = 0;
    target.senders.push({
      client: c,
      send: (body) => c.request('message.send', { roomId, clientMsgId: `m${i}_${(++n).toString(36)}`, body }),
    });
  });
  log(`${total} clients connected, authenticated and in room ${roomId} in ${((now() - t2) / 1000).toFixed(1)} s`);
  target.stop = async () => {
    await Promise.all([...target.receivers, ...senderClients].map((c) => c.close().catch(() => undefined)));
    await teardown();
  };
  return target;
}

// ---------------------------------------------------------------------------------------------
// Report

function table(rows) {
  const head = [
    'scenario',
    'target',
    'offered msg/s',
    'sent msg/s',
    'deliveries/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'lost',
    'failed/skipped',
    'CPU % (target | loadgen | other | machine)',
  ];
  const body = rows.map(({ label, target, r }) => [
    label,
    target,
    r.offeredMsgsPerSec === null ? `window ${r.window}/sender` : f0(r.offeredMsgsPerSec),
    f0(r.sentMsgsPerSec),
    f0(r.deliveriesPerSec),
    f2(r.latencyMs.p50),
    f2(r.latencyMs.p99),
    f2(r.latencyMs.max),
    f0(r.lostDeliveries),
    `${r.failedSends}/${r.skippedSends}`,
    cpuSummary(r.cpuPercent),
  ]);
  return renderTable(head, body);
}

function effTable(rows) {
  const head = [
    'scenario',
    'target',
    'fan-out process',
    'its CPU %',
    'deliveries per its CPU-s',
    'target CPU % (all its processes)',
    'deliveries per target CPU-s',
    'write syscalls/delivery',
    'loadgen reads/delivery',
  ];
  const body = rows.map(({ label, target, r }) => [
    label,
    target,
    r.efficiency.fanoutProcess,
    f0(r.efficiency.fanoutCpuPercent),
    f0(r.efficiency.deliveriesPerFanoutCpuSecond),
    f0(r.efficiency.targetCpuPercent),
    f0(r.efficiency.deliveriesPerTargetCpuSecond),
    r.syscallsPerDelivery.fanoutWrites ?? '-',
    r.syscallsPerDelivery.loadgenReads ?? '-',
  ]);
  return renderTable(head, body);
}

function cpuSummary(c) {
  const { loadgen, machineBusy, other, steal, ...procs } = c;
  const parts = Object.entries(procs)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`);
  return `${parts.join(', ')} | ${loadgen} | ${other} | ${machineBusy}${steal ? ` (steal ${steal})` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const started = new Date();
  const info = machineInfo();
  const command = `node bench/fanout.mjs ${process.argv.slice(2).join(' ')}`.trim();
  log(`${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB, ${info.os}, Node ${info.node}, load average ${info.loadavgAtStart.join(' ')}`);
  log(`${P.clients} receivers + ${P.senders} senders in one room; ${P.warmup} s warm-up + ${P.seconds} s measured per scenario`);
  const results = {};

  if (P.only !== 'stack') {
    log('bare ws server: connecting');
    const bare = await bareTarget();
    log('bare: saturation');
    results.bareSaturation = await runScenario(bare, { kind: 'saturation' });
    log(`bare: saturation ${f0(results.bareSaturation.sentMsgsPerSec)} msg/s, ${f0(results.bareSaturation.deliveriesPerSec)} deliveries/s`);
    const rate = P.rate ?? Math.max(1, Math.round(results.bareSaturation.sentMsgsPerSec / 2));
    results.halfRate = rate;
    log(`bare: paced at ${rate} msg/s`);
    results.bareHalf = await runScenario(bare, { kind: 'paced', rate });
    await bare.stop();
  }
  if (P.only !== 'bare') {
    const stack = await stackTarget(info);
    log('stack: saturation');
    results.stackSaturation = await runScenario(stack, { kind: 'saturation' });
    log(
      `stack: saturation ${f0(results.stackSaturation.sentMsgsPerSec)} msg/s, ${f0(results.stackSaturation.deliveriesPerSec)} deliveries/s`,
    );
    const rate = results.halfRate ?? P.rate ?? Math.max(1, Math.round(results.stackSaturation.sentMsgsPerSec / 2));
    results.halfRate = rate;
    log(`stack: paced at ${rate} msg/s`);
    results.stackHalf = await runScenario(stack, { kind: 'paced', rate });
    await stack.stop();
  }

  const rows = [];
  const half = `half load (${f0(results.halfRate)} msg/s)`;
  if (results.bareSaturation) rows.push({ label: 'saturation', target: 'bare', r: results.bareSaturation });
  if (results.stackSaturation) rows.push({ label: 'saturation', target: 'stack', r: results.stackSaturation });
  if (results.bareHalf) rows.push({ label: half, target: 'bare', r: results.bareHalf });
  if (results.stackHalf) rows.push({ label: half, target: 'stack', r: results.stackHalf });

  const verdicts = {};
  if (results.bareSaturation && results.stackSaturation) {
    const ratio = results.stackSaturation.deliveriesPerSec / results.bareSaturation.deliveriesPerSec;
    verdicts.throughput = { ratio, goal: '>= 0.70', met: ratio >= 0.7 };
  }
  if (results.bareHalf && results.stackHalf) {
    const ratio = results.stackHalf.latencyMs.p99 / results.bareHalf.latencyMs.p99;
    verdicts.latency = { ratio, goal: '<= 2.0', met: ratio <= 2.0, rate: results.halfRate };
  }

  console.log('');
  console.log(`Fan-out benchmark — ${started.toISOString()}`);
  console.log(`command: ${command}`);
  console.log(
    `machine: ${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB RAM, ${info.os}, Node ${info.node}` +
      (info.natsVersion ? `, NATS ${info.natsVersion}` : '') +
      (info.postgresVersion ? `, PostgreSQL ${info.postgresVersion}` : ''),
  );
  console.log(`load average at start: ${info.loadavgAtStart.join(' ')}`);
  console.log(
    `parameters: ${P.clients} receivers + ${P.senders} senders in one room, body ${P.bodyChars} chars, ${P.warmup} s warm-up + ${P.seconds} s measured per scenario, saturation window ${P.window} msgs/sender`,
  );
  console.log('');
  console.log(table(rows));
  console.log('');
  console.log(effTable(rows));
  console.log('');
  if (results.stackSaturation?.ackLatencyMs)
    console.log(
      `stack send->ack (PostAck) latency: saturation p50 ${f2(results.stackSaturation.ackLatencyMs.p50)} / p99 ${f2(results.stackSaturation.ackLatencyMs.p99)} ms; half load p50 ${f2(results.stackHalf?.ackLatencyMs?.p50)} / p99 ${f2(results.stackHalf?.ackLatencyMs?.p99)} ms`,
    );
  if (verdicts.throughput)
    console.log(
      `goal 1 (throughput): stack/bare deliveries/s = ${f2(verdicts.throughput.ratio)} (goal >= 0.70): ${verdicts.throughput.met ? 'MET' : 'NOT MET'}`,
    );
  if (verdicts.latency)
    console.log(
      `goal 2 (latency):    stack/bare p99 at ${f0(verdicts.latency.rate)} msg/s = ${f2(verdicts.latency.ratio)} (goal <= 2.0): ${verdicts.latency.met ? 'MET' : 'NOT MET'}`,
    );
  console.log('');
  console.log(
    `notes: the load generator (all ${P.clients + P.senders} clients, one Node process) shares the ${info.cpus} CPU(s) with the target; CPU % is of one core per process, "other" is everything else that ran (other users of the machine), "machine" is % of all cores (with the hypervisor's steal, if any).`,
  );
  console.log(
    `       a delivery is one message.posted frame received by one receiver; senders are room members too and also get every message, not counted.`,
  );
  console.log(
    `       saturation is a closed loop (each sender keeps ${P.window} messages not yet received by every receiver), not a fixed offered rate; half load is an open-loop paced stream.`,
  );
  const maxOther = Math.max(0, ...rows.map(({ r }) => r.cpuPercent.other ?? 0));
  const maxSteal = Math.max(0, ...rows.map(({ r }) => r.cpuPercent.steal ?? 0));
  if (maxSteal >= 5)
    console.log(
      `WARNING: the hypervisor took up to ${maxSteal}% of this VM's CPU time (steal) during a measured window: the figures are skewed.`,
    );
  if (maxOther >= 20)
    console.log(
      `WARNING: other processes used up to ${maxOther}% of a core during a measured window: the figures are skewed; re-run on a quiet machine.`,
    );
  else console.log(`       nothing else used more than ${maxOther}% of a core during the measured windows.`);

  const out = writeResult({
    out: opt.out,
    name: 'fanout',
    started,
    result: { date: started.toISOString(), command, machine: info, parameters: P, results, verdicts },
  });
  console.log(`\nresult written to ${out}`);
}

await run(main);
