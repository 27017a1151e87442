// Connections and presence benchmark (issue 8): what an idle authenticated connection costs one
// gateway, how many one gateway holds, how much traffic one status change makes in a server of
// 10,000 users in 1,000 rooms, and how long presence takes to converge after a gateway is
// killed. It prints figures; it asserts nothing. See docs/benchmarks.md, "Presence and sessions".
//
//   npm run bench:connections               (builds first)
//   node bench/connections.mjs --help
//
// The whole stack runs as separate processes (scripts/stack.cjs, built dist); the client side of
// every socket lives in child processes (bench/conn-clients.mjs), never in the measured one.
// Parts (--only):
//  memory    RSS and V8 heap of one gateway, after a forced full GC, with 0 and N idle
//            authenticated connections (N = --steps), per connection; distinct users, then
//            --shared-users users with many connections each; baseline: bench/bare-server.mjs
//            holding the same numbers of idle connections, measured the same way.
//  capacity  a fresh gateway, ramped in steps of --capacity-step up to --capacity-max (default:
//            its open-file limit less a margin): time to connect + authenticate each step,
//            and where it fails, if it does.
//  presence  every user connected (one connection each), in --rooms-per-user of --rooms rooms
//            plus the default room; one status change (presence.set) at a time: NATS messages
//            per subject kind, presence.changed frames delivered, who got one vs co-members.
//  kill      --kill-users users on a second gateway, a watcher (sharing a room with them) on
//            the first; SIGKILL the second: time until the watcher has seen every one offline
//            and until the PRESENCE stream holds offline for every one. --kill-runs runs.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  cpuMeter,
  deleteNamespace,
  dropSchema,
  f0,
  f2,
  freePort,
  intOption,
  killOwnChildren,
  latencyOf,
  lifecycle,
  log,
  machineInfo,
  natsConnect,
  natsVersion,
  now,
  onlyOption,
  postgresVersion,
  renderTable,
  scrapeMetrics,
  sleep,
  startBareServer,
  writeResult,
  BENCH_MODERATION_ENV,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// Open-file limit: a benchmark may raise its own soft limit up to the hard one; the services and
// client processes it starts inherit it. Node cannot call setrlimit, so the script runs itself
// again under `ulimit -n <hard>`.

function fileLimits() {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    const n = (v) => (v === 'unlimited' ? Infinity : Number(v));
    return { soft: n(m[1]), hard: n(m[2]) };
  } catch {
    return { soft: null, hard: null };
  }
}
{
  const { soft, hard } = fileLimits();
  if (soft !== null && soft < hard && Number.isFinite(hard) && !process.env.BENCH_FD_RAISED) {
    const r = spawnSync(
      'sh',
      ['-c', `ulimit -n ${hard} && exec "$@"`, 'sh', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      {
        stdio: 'inherit',
        env: { ...process.env, BENCH_FD_RAISED: '1' },
      },
    );
    process.exit(r.status ?? 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Options

const PARTS = ['memory', 'capacity', 'presence', 'kill'];
const { values: opt } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    steps: { type: 'string', default: '1000,5000,10000' },
    'shared-users': { type: 'string', default: '100' },
    'capacity-step': { type: 'string', default: '1000' },
    'capacity-max': { type: 'string' },
    rooms: { type: 'string', default: '1000' },
    'rooms-per-user': { type: 'string', default: '10' },
    'fanout-max': { type: 'string', default: '1000' },
    changes: { type: 'string', default: '6' },
    'kill-users': { type: 'string', default: '500' },
    'kill-runs': { type: 'string', default: '3' },
    settle: { type: 'string', default: '5' },
    'connect-concurrency': { type: 'string', default: '100' },
    'per-process': { type: 'string', default: '9000' },
    only: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(`usage: node bench/connections.mjs [options]   (npm run bench:connections builds first)
  --users U              users registered over HTTP (distinct users; default 10000)
  --steps A,B,C          memory: connection counts measured (default 1000,5000,10000; at most U)
  --shared-users S       memory: the largest step again with S users (many connections each) (default 100)
  --capacity-step K      capacity: connections added per step (default 1000)
  --capacity-max M       capacity: stop there (default: the gateway's open-file limit less 300)
  --rooms R              presence: rooms created (default 1000)
  --rooms-per-user K     presence: rooms each user joins, at random (seeded) (default 10); plus the default room
  --fanout-max F         presence: PRESENCE_FANOUT_MAX_MEMBERS given to the presence service (default 1000)
  --changes C            presence: status changes measured, one at a time (default 6)
  --kill-users N         kill: users on the gateway that is killed (default 500; at most F - 1)
  --kill-runs R          kill: runs (default 3)
  --settle T             seconds to wait before a memory measurement (default 5)
  --connect-concurrency  connections being opened at once per client process (default 100)
  --per-process P        connections per client process (default 9000)
  --only LIST            comma-separated parts: ${PARTS.join(', ')} (default all)
  --out FILE             JSON result (default bench/results/connections-<date>.json)`);
  process.exit(0);
}
const int = intOption(opt);
const limits = fileLimits();
const P = {
  users: int('users', 2),
  steps: opt.steps.split(',').map((x) => Number(x.trim())),
  sharedUsers: int('shared-users', 1),
  capacityStep: int('capacity-step', 1),
  capacityMax: opt['capacity-max'] === undefined ? null : int('capacity-max', 1),
  rooms: int('rooms', 1),
  roomsPerUser: int('rooms-per-user', 1),
  fanoutMax: int('fanout-max', 2),
  changes: int('changes', 1),
  killUsers: int('kill-users', 1),
  killRuns: int('kill-runs', 1),
  settle: int('settle', 0),
  connectConcurrency: int('connect-concurrency', 1),
  perProcess: int('per-process', 1),
};
P.capacityMax ??= Number.isFinite(limits.soft) ? limits.soft - 300 : 10_000;
const only = onlyOption(opt.only, PARTS);
if (only.includes('memory'))
  for (const n of P.steps) if (!Number.isInteger(n) || n < 1 || n > P.users) throw new Error(`--steps: ${n} is not between 1 and --users`);
if (only.includes('presence') && P.roomsPerUser > P.rooms) throw new Error('--rooms-per-user must be <= --rooms');
if (only.includes('kill') && P.killUsers >= P.users) throw new Error('--kill-users must be < --users (one more user watches)');
if (P.perProcess > (limits.soft ?? Infinity) - 200)
  throw new Error(`--per-process must be below the open-file limit (${limits.soft}) less 200`);

const { ensureNats, ensurePostgres } = require('../scripts/infra.cjs');
const { startStack } = require('../scripts/stack.cjs');
const { createSubjects } = require('../libs/contracts/dist/index.js');
const { RpcClient } = require('../libs/messaging/dist/index.js');

const { cleanups, run } = lifecycle({ finally_: async () => killOwnChildren() });

// ---------------------------------------------------------------------------------------------
// Memory of a process: VmRSS, and after a forced full GC process.memoryUsage() (a module
// preloaded with NODE_OPTIONS=--require runs gc() twice on SIGUSR2 and writes it to a file;
// --expose-gc is not allowed in NODE_OPTIONS, hence the flag set at run time).

const GC_PRELOAD = `'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');
const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
process.on('SIGUSR2', () => {
  gc();
  gc();
  fs.writeFileSync(process.env.BENCH_MEM_FILE + '.tmp', JSON.stringify(process.memoryUsage()));
  fs.renameSync(process.env.BENCH_MEM_FILE + '.tmp', process.env.BENCH_MEM_FILE);
});
`;

function procStatus(pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : null;
}
const openFiles = (pid) => {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
};

/** RSS and heap of `pid` (started with the GC preload writing to `memFile`) after a full GC. */
async function memoryOf(pid, memFile) {
  fs.rmSync(memFile, { force: true });
  const rssBeforeGc = procStatus(pid, 'VmRSS');
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(memFile)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not report its memory`);
    await sleep(50);
  }
  const mem = JSON.parse(fs.readFileSync(memFile, 'utf8'));
  await sleep(200); // the GC's freed pages are returned to the system in the background
  return {
    rssBeforeGc,
    rss: procStatus(pid, 'VmRSS'),
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    openFiles: openFiles(pid),
  };
}

// ---------------------------------------------------------------------------------------------
// Client processes (bench/conn-clients.mjs)

class ClientProcess {
  constructor(name) {
    this.name = name;
    this.count = 0;
    this.seq = 0;
    this.waiting = new Map();
    this.child = spawn(process.execPath, [path.join(here, 'conn-clients.mjs')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error) w.reject(new Error(`${this.name}: ${m.error}`));
      else w.resolve(m);
    });
    this.child.once('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`${this.name} exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }
  call(cmd, args = {}) {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, cmd, ...args });
    });
  }
  stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }
  pid() {
    return this.child.pid;
  }
}

/** Client processes, each holding at most --per-process connections. */
class Clients {
  constructor(label) {
    this.label = label;
    this.procs = [];
  }
  /** Opens one connection per item, spread over client processes (new ones as needed). */
  async open(url, items) {
    // Client processes are started (and answering) before the clock starts.
    let room = this.procs.reduce((a, p) => a + P.perProcess - p.count, 0);
    while (room < items.length) {
      const p = new ClientProcess(`${this.label}-${this.procs.length + 1}`);
      this.procs.push(p);
      cleanups.push(async () => p.stop());
      await p.call('stats');
      room += P.perProcess;
    }
    const t0 = now();
    const jobs = [];
    let i = 0;
    while (i < items.length) {
      const p = this.procs.find((x) => x.count < P.perProcess);
      const take = Math.min(P.perProcess - p.count, items.length - i);
      const slice = items.slice(i, i + take);
      p.count += take;
      i += take;
      jobs.push(
        p.call('open', { url, items: slice, concurrency: P.connectConcurrency, timeoutMs: 30_000 }).then((r) => {
          p.count -= r.failed; // failed ones leave room
          return r;
        }),
      );
    }
    const rs = await Promise.all(jobs);
    const failures = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
    return { opened: rs.reduce((a, r) => a + r.opened, 0), failed: rs.reduce((a, r) => a + r.failed, 0), failures, ms: now() - t0 };
  }
  async all(cmd, args) {
    return Promise.all(this.procs.map((p) => p.call(cmd, args)));
  }
  async stats() {
    const rs = await this.all('stats');
    const closes = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.unexpectedCloses)) closes[k] = (closes[k] ?? 0) + v;
    return { open: rs.reduce((a, r) => a + r.open, 0), unexpectedCloses: closes, framesIn: rs.reduce((a, r) => a + r.framesIn, 0) };
  }
  async closeAll() {
    await this.all('close');
    for (const p of this.procs) p.count = 0;
  }
  async stop() {
    for (const p of this.procs) p.stop();
    this.procs = [];
  }
  pids() {
    return this.procs.map((p) => p.pid());
  }
}

// ---------------------------------------------------------------------------------------------
// The stack

const RUN = {};

async function startBenchStack(info) {
  RUN.natsUrl = await ensureNats(log);
  RUN.databaseUrl = await ensurePostgres(log);
  RUN.runId = crypto.randomBytes(4).toString('hex');
  RUN.namespace = `bench_${RUN.runId}`;
  RUN.schema = `bench_${RUN.runId}`;
  RUN.logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-bench-conn-'));
  RUN.s = createSubjects(RUN.namespace);
  RUN.preload = path.join(RUN.logDir, 'gc-preload.cjs');
  fs.writeFileSync(RUN.preload, GC_PRELOAD);
  RUN.nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --require ${RUN.preload}`.trim();
  const ports = {};
  for (const n of ['moderation', 'rooms', 'history', 'presence', 'gateway']) ports[n] = await freePort();

  let stack = null;
  cleanups.push(async () => {
    if (stack) await stack.stopAll().catch(() => undefined);
    await deleteNamespace(RUN.natsUrl, RUN.s, 'connections-bench').catch((e) =>
      log(`could not delete NATS namespace ${RUN.namespace}: ${e.message}`),
    );
    await dropSchema(RUN.databaseUrl, RUN.schema).catch((e) => log(`could not drop schema ${RUN.schema}: ${e.message}`));
  });
  log(`starting the stack (namespace ${RUN.namespace}, logs in ${RUN.logDir})`);
  const t0 = now();
  RUN.gatewayEnv = {
    // Login cost is not what this measures: the cheapest argon2 the gateway accepts.
    ARGON2_MEMORY_KIB: '1024',
    ARGON2_ITERATIONS: '1',
    // Tokens and idleness must not change anything during a run: no expiry, no automatic away.
    ACCESS_TOKEN_TTL_S: String(24 * 3600),
    PRESENCE_IDLE_MS: String(24 * 3600 * 1000),
    // The shared-user memory variant opens many connections per user.
    WS_MAX_CONNECTIONS_PER_USER: '10000',
    // Every bench user registers from 127.0.0.1 (10 an hour by default).
    REGISTER_MAX_PER_ADDRESS: '1000000',
    BENCH_MEM_FILE: path.join(RUN.logDir, 'mem-gateway.json'),
    NODE_OPTIONS: RUN.nodeOptions,
  };
  stack = await startStack({
    env: {
      NATS_URL: RUN.natsUrl,
      DATABASE_URL: RUN.databaseUrl,
      DATABASE_SCHEMA: RUN.schema,
      NATS_NAMESPACE: RUN.namespace,
      JWT_SECRET: crypto.randomBytes(48).toString('base64url'),
      LOG_LEVEL: 'warn',
    },
    ports,
    serviceEnv: {
      gateway: { ...RUN.gatewayEnv, GATEWAY_ID: 'bench-gw1' },
      presence: { PRESENCE_FANOUT_MAX_MEMBERS: String(P.fanoutMax) },
      moderation: BENCH_MODERATION_ENV,
    },
    output: RUN.logDir,
  });
  RUN.stack = stack;
  log(`stack ready in ${((now() - t0) / 1000).toFixed(1)} s`);
  info.natsVersion = await natsVersion(RUN.natsUrl, 'connections-bench').catch(() => null);
  info.postgresVersion = await postgresVersion(RUN.databaseUrl).catch(() => null);
  info.stackLogs = RUN.logDir;
  RUN.nc = await natsConnect(RUN.natsUrl, 'connections-bench');
  cleanups.push(() => RUN.nc.close());
  RUN.rpc = new RpcClient(RUN.nc, RUN.s, 30_000);
}

const gatewayPid = () => RUN.stack.procs.get('gateway').child.pid;
const gatewayUrl = () => RUN.stack.urls.gateway;
const wsOf = (base) => `${base.replace(/^http/, 'ws')}/ws`;

async function restartGateway() {
  await RUN.stack.restart('gateway');
}

/** The gateway's /metrics as { 'name{labels}': value }. */
const metrics = (base = gatewayUrl()) => scrapeMetrics(base);
const metricSum = (m, name) => Object.entries(m).reduce((a, [k, v]) => (k === name || k.startsWith(`${name}{`) ? a + v : a), 0);

/**
 * The next complete presence heartbeat of a gateway (it lists every authenticated connection,
 * sent in parts `part` of `parts` of beat number `beat`, each part under NATS's max_payload):
 * the parts of the first beat whose part 0 arrives after the subscription, their sizes and the
 * connections they list, or null if no whole beat came within `waitMs` (the default interval
 * is 5 s). NATS refuses a message above the server's max_payload (1 MiB by default), so a part
 * above it would never arrive and presence would lose that gateway's users.
 */
async function heartbeatProbe(gatewayId, waitMs = 11_000) {
  const subject = RUN.s.presence.gatewayHeartbeat(gatewayId);
  let sub;
  const t0 = now();
  const got = new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), waitMs);
    let beat = null;
    let parts = [];
    sub = RUN.nc.subscribe(subject, {
      callback: (_err, m) => {
        let hb = null;
        try {
          hb = m.json();
        } catch {
          return;
        }
        if (beat === null) {
          if (hb.part !== undefined && hb.part !== 0) return; // a beat already under way: wait for the next
          beat = hb.beat ?? null;
        }
        if ((hb.beat ?? null) !== beat) return;
        parts.push({ part: hb.part ?? 0, bytes: m.data.length, connections: hb.connections?.length ?? 0, ms: now() - t0 });
        if (parts.length >= (hb.parts ?? 1)) {
          clearTimeout(timer);
          const spreadMs = parts[parts.length - 1].ms - parts[0].ms;
          resolve({
            beat,
            parts: parts.length,
            bytes: parts.reduce((a, p) => a + p.bytes, 0),
            largestPartBytes: Math.max(...parts.map((p) => p.bytes)),
            connections: parts.reduce((a, p) => a + p.connections, 0),
            spreadMs,
          });
        }
      },
    });
  });
  await RUN.nc.flush();
  const r = await got;
  sub.unsubscribe();
  const maxPayload = RUN.nc.info?.max_payload ?? null;
  return { ...r, maxPayload, received: !!r };
}
const hbText = (h) =>
  h.received
    ? `heartbeat (beat ${h.beat}) in ${h.parts} part(s), ${f0(h.bytes)} B in all, largest part ${f0(h.largestPartBytes)} B (NATS max_payload ${f0(h.maxPayload)} B), listing ${f0(h.connections)} connections`
    : `NO complete heartbeat within 11 s (NATS max_payload ${f0(h.maxPayload)} B)`;

// ---------------------------------------------------------------------------------------------
// Users: registered and logged in over HTTP, a few at a time

async function postJson(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(json)?.slice(0, 200)}`);
  return json;
}

async function registerUsers(n) {
  const base = gatewayUrl();
  const password = crypto.randomBytes(12).toString('base64url');
  const users = new Array(n);
  let next = 0;
  let done = 0;
  const t0 = now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const username = `c${RUN.runId}_${i}`;
      let user;
      for (let attempt = 0; ; attempt++) {
        try {
          user = (await postJson(`${base}/api/auth/register`, { username, password })).user;
          break;
        } catch (err) {
          if (attempt >= 3 || !/HTTP 5|fetch failed/.test(String(err.message))) throw err;
          await sleep(200 * (attempt + 1));
        }
      }
      const login = await postJson(`${base}/api/auth/login`, { username, password });
      users[i] = { userId: user.userId, username: user.username, token: login.accessToken };
      if (++done % 1000 === 0) log(`  ${done.toLocaleString('en-US')} / ${n.toLocaleString('en-US')} users registered and logged in`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { users, seconds: (now() - t0) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Part 1: memory per idle connection

async function measureRamp({ label, pid, memFile, url, itemsFor, steps }) {
  const clients = new Clients(`clients-${label}`);
  try {
    await sleep(P.settle * 1000);
    const base = await memoryOf(pid, memFile);
    log(`  ${label}: 0 connections: RSS ${mib(base.rss)} MiB, heap used ${mib(base.heapUsed)} MiB`);
    const rows = [{ connections: 0, ...base }];
    let have = 0;
    for (const n of steps) {
      const r = await clients.open(url, itemsFor(have, n));
      have += r.opened;
      if (r.failed) log(`  ${label}: ${r.failed} connections failed: ${JSON.stringify(r.failures)}`);
      await sleep(P.settle * 1000);
      const m = await memoryOf(pid, memFile);
      const st = await clients.stats();
      const row = {
        connections: have,
        openAtClients: st.open,
        unexpectedCloses: st.unexpectedCloses,
        openSeconds: r.ms / 1000,
        failures: r.failures,
        ...m,
        rssPerConnection: (m.rss - base.rss) / have,
        heapPerConnection: (m.heapUsed - base.heapUsed) / have,
      };
      rows.push(row);
      log(
        `  ${label}: ${have.toLocaleString('en-US')} connections (${f2(r.ms / 1000)} s to open): RSS ${mib(m.rss)} MiB, heap ${mib(m.heapUsed)} MiB; per connection RSS ${f0(row.rssPerConnection)} B, heap ${f0(row.heapPerConnection)} B`,
      );
    }
    await clients.closeAll();
    await sleep(P.settle * 1000);
    const after = await memoryOf(pid, memFile);
    return { label, rows, afterClose: after };
  } finally {
    await clients.stop();
  }
}

async function bareServer() {
  const memFile = path.join(RUN.logDir, 'mem-bare.json');
  const { child, port, stop } = await startBareServer({
    env: { ...process.env, NODE_OPTIONS: RUN.nodeOptions, BENCH_MEM_FILE: memFile },
    cleanups,
  });
  return { pid: child.pid, memFile, url: `ws://127.0.0.1:${port}/`, stop };
}

async function memoryPart(results) {
  const users = RUN.users;
  const steps = [...P.steps].sort((a, b) => a - b);
  const top = steps[steps.length - 1];
  const out = {};

  log('memory: bare ws server (baseline)');
  const bare = await bareServer();
  out.bare = await measureRamp({
    label: 'bare',
    pid: bare.pid,
    memFile: bare.memFile,
    url: bare.url,
    itemsFor: (from, to) => Array.from({ length: to - from }, (_, k) => ({ token: null, label: `b${from + k}` })),
    steps,
  });
  await bare.stop();

  log('memory: gateway, one user per connection (fresh gateway)');
  await restartGateway();
  const memFile = RUN.gatewayEnv.BENCH_MEM_FILE;
  out.distinct = await measureRamp({
    label: 'gateway-distinct',
    pid: gatewayPid(),
    memFile,
    url: wsOf(gatewayUrl()),
    itemsFor: (from, to) => users.slice(from, to).map((u) => ({ token: u.token, label: u.userId })),
    steps,
  });

  log(`memory: gateway, ${P.sharedUsers} users with ${f0(top / P.sharedUsers)} connections each (fresh gateway)`);
  await restartGateway();
  out.shared = await measureRamp({
    label: 'gateway-shared',
    pid: gatewayPid(),
    memFile,
    url: wsOf(gatewayUrl()),
    itemsFor: (from, to) =>
      Array.from({ length: to - from }, (_, k) => users[(from + k) % P.sharedUsers]).map((u) => ({ token: u.token, label: u.userId })),
    steps: [top],
  });
  results.memory = out;
}

// ---------------------------------------------------------------------------------------------
// Part 2: how many connections one gateway holds

async function capacityPart(results) {
  log(`capacity: fresh gateway, steps of ${P.capacityStep} up to ${P.capacityMax} (gateway open-file limit ${limits.soft})`);
  await restartGateway();
  const users = RUN.users;
  const clients = new Clients('clients-cap');
  const pid = gatewayPid();
  const rows = [];
  let have = 0;
  let firstFailure = null;
  const meter = cpuMeter(() => ({ gateway: [pid], clients: clients.pids() }));
  const t0 = now();
  try {
    while (have < P.capacityMax) {
      const n = Math.min(P.capacityStep, P.capacityMax - have);
      const items = Array.from({ length: n }, (_, k) => users[(have + k) % users.length]).map((u) => ({ token: u.token, label: u.userId }));
      const r = await clients.open(wsOf(gatewayUrl()), items);
      have += r.opened;
      const st = await clients.stats();
      const m = await metrics().catch(() => ({}));
      const row = {
        connections: have,
        stepSeconds: r.ms / 1000,
        perSecond: r.opened / (r.ms / 1000),
        elapsedSeconds: (now() - t0) / 1000,
        failed: r.failed,
        failures: r.failures,
        openAtClients: st.open,
        unexpectedCloses: st.unexpectedCloses,
        gatewayAuthenticated: m.gateway_ws_authenticated_connections ?? null,
        gatewayOpenFiles: openFiles(pid),
        gatewayRss: procStatus(pid, 'VmRSS'),
      };
      rows.push(row);
      log(
        `  ${have.toLocaleString('en-US')} connections (+${r.opened} in ${f2(r.ms / 1000)} s, ${f0(row.perSecond)}/s); gateway: ${row.gatewayAuthenticated ?? '?'} authenticated, ${row.gatewayOpenFiles} open files, RSS ${mib(row.gatewayRss)} MiB` +
          (r.failed ? `; FAILED ${r.failed}: ${JSON.stringify(r.failures)}` : ''),
      );
      if (r.failed && !firstFailure) firstFailure = { at: have, ...r.failures };
      if (r.failed) break;
    }
    const cpu = meter();
    await sleep(P.settle * 1000);
    const heartbeat = await heartbeatProbe('bench-gw1');
    log(`  gateway presence ${hbText(heartbeat)}`);
    const st = await clients.stats();
    const reach10k = rows.find((r) => r.connections >= 10_000);
    results.capacity = {
      limitSoft: limits.soft,
      limitHard: limits.hard,
      max: P.capacityMax,
      held: have,
      stillOpenAfterSettle: st.open,
      unexpectedCloses: st.unexpectedCloses,
      firstFailure,
      heartbeat,
      secondsTo10k: reach10k ? reach10k.elapsedSeconds : null,
      totalSeconds: (now() - t0) / 1000,
      cpu,
      rows,
    };
    log(
      `capacity: held ${have.toLocaleString('en-US')} (${st.open.toLocaleString('en-US')} still open after ${P.settle} s)` +
        (firstFailure ? `; first failure at ${firstFailure.at}` : '; no failure'),
    );
  } finally {
    await clients.closeAll().catch(() => undefined);
    await clients.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Part 3: presence traffic per status change

/** Small seeded PRNG (mulberry32), so a run's room assignment can be reproduced. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `fn(i)` for i in [0, n) with `concurrency` calls in flight; failures by code. */
async function pool(n, concurrency, fn) {
  let next = 0;
  const errors = {};
  const worker = async () => {
    while (next < n) {
      const i = next++;
      try {
        await fn(i);
      } catch (err) {
        const code = err.code ?? String(err.message).slice(0, 60);
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return errors;
}

async function rpcOk(name, data, tolerate = []) {
  const r = await RUN.rpc.call(name, data);
  if (!r.ok && !tolerate.includes(r.error.code))
    throw Object.assign(new Error(`${name}: ${r.error.code} ${r.error.message}`), { code: r.error.code });
  return r;
}

/** Rooms and memberships for the presence part (over the rooms RPC, as the gateway sends them). */
async function setUpRooms() {
  if (RUN.rooms) return RUN.rooms;
  const users = RUN.users;
  const rnd = prng(8);
  const roomIds = Array.from({ length: P.rooms }, (_, i) => `p${RUN.runId}-${i}`);
  const members = roomIds.map(() => []);
  const roomsOf = users.map(() => []);
  for (let u = 0; u < users.length; u++) {
    const chosen = new Set();
    while (chosen.size < P.roomsPerUser) chosen.add(Math.floor(rnd() * P.rooms));
    for (const r of chosen) {
      members[r].push(u);
      roomsOf[u].push(r);
    }
  }
  const memberLimit = Math.min(100_000, Math.max(2, ...members.map((m) => m.length)) + 10);
  const t0 = now();
  // Each room is created by its first member (the owner); rooms nobody chose are left out.
  const used = roomIds.map((_, r) => r).filter((r) => members[r].length);
  let errors = await pool(used.length, 32, (k) => {
    const r = used[k];
    const owner = users[members[r][0]];
    return rpcOk('rooms.create', {
      roomId: roomIds[r],
      name: `Presence ${r}`,
      memberLimit,
      userId: owner.userId,
      username: owner.username,
    });
  });
  if (Object.keys(errors).length) throw new Error(`creating rooms: ${JSON.stringify(errors)}`);
  const joins = [];
  for (const r of used) for (const u of members[r].slice(1)) joins.push([roomIds[r], u]);
  // Everyone also joins the default room (too big to push presence when users > fan-out max).
  for (let u = 0; u < users.length; u++) joins.push(['general', u]);
  log(
    `presence: ${used.length} rooms created, ${joins.length.toLocaleString('en-US')} joins (members per room ${Math.min(...used.map((r) => members[r].length))}-${Math.max(...used.map((r) => members[r].length))})`,
  );
  errors = await pool(joins.length, 32, async (k) => {
    const [roomId, u] = joins[k];
    for (let attempt = 0; ; attempt++) {
      try {
        return await rpcOk('rooms.join', { roomId, userId: users[u].userId, username: users[u].username }, ['ALREADY_MEMBER']);
      } catch (err) {
        if (attempt >= 5 || !['CONFLICT', 'UNAVAILABLE', 'TIMEOUT'].includes(err.code)) throw err;
        await sleep(50 * (attempt + 1));
      }
    }
  });
  if (Object.keys(errors).length) throw new Error(`joining rooms: ${JSON.stringify(errors)}`);
  const seconds = (now() - t0) / 1000;
  log(`presence: rooms set up in ${f2(seconds)} s`);
  RUN.rooms = { roomIds, members, roomsOf, seconds, joins: joins.length, memberLimit };
  return RUN.rooms;
}

/** Users sharing a room of at most --fanout-max members with user u (u included): who should see u's changes. */
function audienceOf(u) {
  const { members, roomsOf } = RUN.rooms;
  const out = new Set([u]);
  for (const r of roomsOf[u]) if (members[r].length <= P.fanoutMax) for (const v of members[r]) out.add(v);
  // The default room: everyone.
  if (RUN.users.length <= P.fanoutMax) for (let v = 0; v < RUN.users.length; v++) out.add(v);
  return out;
}

/** Counts NATS messages of the run's namespace (and its presence KV / consumers) by kind. */
function natsCounter() {
  const ns = RUN.namespace;
  const NS = ns.toUpperCase();
  const counts = {};
  const kind = (subject) => {
    if (subject.startsWith('$KV.')) return 'KV put (presence choice)';
    if (subject.startsWith('$JS.ACK.')) return 'JetStream ack (PRESENCE consumers)';
    if (subject.startsWith('$JS.API.CONSUMER.MSG.NEXT.')) return 'JetStream pull request (PRESENCE consumers)';
    const rest = subject.slice(ns.length + 1);
    if (/^presence\.user\./.test(rest)) return 'PRESENCE stream append (presence.user.<id>)';
    if (/^live\.presence\.user\./.test(rest)) return 'republish live.presence.user.<id> (to all gateways)';
    if (/^live\.user\.[^.]+\.presence$/.test(rest)) return 'live.user.<id>.presence (own presence)';
    if (/^live\.chat\.room\.[^.]+\.presence$/.test(rest)) return 'room presence signal live.chat.room.<id>.presence';
    if (/^gw\.[^.]+\.hb$/.test(rest)) return 'background: gateway heartbeat';
    if (/^gw\.[^.]+\.conn$/.test(rest)) return 'gateway signal gw.<id>.conn';
    if (rest.startsWith('rpc.')) return `request ${rest.slice(4)}`;
    return `other: ${rest.split('.').slice(0, 3).join('.')}`;
  };
  const subs = [`${ns}.>`, `$KV.${RUN.s.kv.presence}.>`, `$JS.ACK.${NS}_PRESENCE.>`, `$JS.API.CONSUMER.MSG.NEXT.${NS}_PRESENCE.>`].map(
    (subject) =>
      RUN.nc.subscribe(subject, {
        callback: (_err, m) => {
          const k = kind(m.subject);
          const c = (counts[k] ??= { messages: 0, bytes: 0 });
          c.messages++;
          c.bytes += m.data.length;
        },
      }),
  );
  return {
    /** Resolves once the server has the subscriptions (before the change is made). */
    ready: RUN.nc.flush(),
    async stop() {
      await RUN.nc.flush();
      for (const s of subs) s.unsubscribe();
      return counts;
    },
  };
}

/**
 * Waits until neither the gateway's delivered-events counter nor the frames the clients received
 * moved for `quietMs` (bounded by `maxMs`).
 */
async function quiescence(clients, quietMs = 3000, maxMs = 300_000) {
  const t0 = now();
  let last = -1;
  let since = now();
  while (now() - t0 < maxMs) {
    const m = await metrics().catch(() => ({}));
    const v = metricSum(m, 'gateway_events_delivered_total') + (await clients.stats()).framesIn;
    if (v !== last) {
      last = v;
      since = now();
    } else if (now() - since >= quietMs) return { seconds: (now() - t0) / 1000, delivered: v };
    await sleep(500);
  }
  return { seconds: (now() - t0) / 1000, delivered: last, timedOut: true };
}

async function presencePart(results) {
  const users = RUN.users;
  const rooms = await setUpRooms();
  const clients = new Clients('clients-presence');
  const pid = gatewayPid();
  try {
    await sleep(P.settle * 1000);
    const mem0 = await memoryOf(pid, RUN.gatewayEnv.BENCH_MEM_FILE);
    const d0 = await metrics();
    log(`presence: connecting ${users.length.toLocaleString('en-US')} users (one connection each) to one gateway`);
    const meter = cpuMeter(() => ({ gateway: [pid], clients: clients.pids() }));
    const c = await clients.open(
      wsOf(gatewayUrl()),
      users.map((u) => ({ token: u.token, label: u.userId })),
    );
    log(
      `  ${c.opened.toLocaleString('en-US')} connected and authenticated in ${f2(c.ms / 1000)} s${c.failed ? `, ${c.failed} failed ${JSON.stringify(c.failures)}` : ''}; waiting for the presence fan-out of their arrival to finish`,
    );
    const q = await quiescence(clients);
    const heartbeat = await heartbeatProbe('bench-gw1');
    log(`  gateway presence ${hbText(heartbeat)}`);
    const cpu = meter();
    const d1 = await metrics();
    const mem1 = await memoryOf(pid, RUN.gatewayEnv.BENCH_MEM_FILE);
    const arrival = {
      connected: c.opened,
      failed: c.failed,
      failures: c.failures,
      connectSeconds: c.ms / 1000,
      quietAfterSeconds: q.seconds,
      timedOut: !!q.timedOut,
      heartbeat,
      presenceFramesDelivered:
        metricSum(d1, 'gateway_events_delivered_total{event="presence.changed"}') -
        metricSum(d0, 'gateway_events_delivered_total{event="presence.changed"}'),
      cpu,
      // Idle connections of users in rooms: the gateway follows every room of its users.
      memory: {
        without: mem0,
        with: mem1,
        rssPerConnection: (mem1.rss - mem0.rss) / Math.max(1, c.opened),
        heapPerConnection: (mem1.heapUsed - mem0.heapUsed) / Math.max(1, c.opened),
      },
    };
    log(
      `  gateway memory with them (after a full GC): RSS ${f0(arrival.memory.rssPerConnection)} B, heap ${f0(arrival.memory.heapPerConnection)} B per connection`,
    );
    log(`  quiet after ${f2(q.seconds)} s; presence.changed frames delivered meanwhile: ${f0(arrival.presenceFramesDelivered)}`);

    const changes = [];
    const byId = new Map(users.map((u, i) => [u.userId, i]));
    for (let k = 0; k < P.changes; k++) {
      const u = Math.floor((Math.floor(k / 2) * users.length) / Math.ceil(P.changes / 2)) % users.length;
      const status = k % 2 === 0 ? 'busy' : 'online';
      const user = users[u];
      const expected = audienceOf(u);
      await clients.all('watch', { userIds: [user.userId] });
      const m0 = await metrics();
      const counter = natsCounter();
      await counter.ready;
      const tSet = performance.timeOrigin + performance.now();
      // The request goes out on the user's own connection (whichever client process has it).
      let reply = null;
      for (const p of clients.procs) {
        const r = await p.call('request', { label: user.userId, op: 'presence.set', data: { status } });
        if (r.reply?.error?.code !== 'NO_CONNECTION') {
          reply = r.reply;
          break;
        }
      }
      // Until every expected receiver has the frame, or nothing new came for 3 s (max 30 s).
      const t0 = now();
      let lastCount = -1;
      let since = now();
      let frames = [];
      while (now() - t0 < 30_000) {
        await sleep(250);
        frames = (await clients.all('watched')).flatMap((r) => r.frames).filter((f) => f[2] === status && f[4] >= tSet);
        const got = new Set(frames.map((f) => f[0]));
        if ([...expected].every((v) => got.has(users[v].userId)) && now() - since > 500) break;
        if (frames.length !== lastCount) {
          lastCount = frames.length;
          since = now();
        } else if (now() - since > 3000) break;
      }
      await sleep(1000); // stragglers: duplicates and extras
      frames = (await clients.all('watched')).flatMap((r) => r.frames).filter((f) => f[2] === status && f[4] >= tSet);
      const nats = await counter.stop();
      const m1 = await metrics();
      const perReceiver = new Map();
      for (const f of frames) perReceiver.set(f[0], (perReceiver.get(f[0]) ?? 0) + 1);
      const received = new Set([...perReceiver.keys()].map((id) => byId.get(id)));
      const missing = [...expected].filter((v) => !received.has(v)).length;
      const extra = [...received].filter((v) => !expected.has(v)).length;
      const duplicates = [...perReceiver.values()].reduce((a, n) => a + (n - 1), 0);
      const presenceNats = Object.entries(nats)
        .filter(([k]) => !k.startsWith('background'))
        .reduce((a, [, v]) => ({ messages: a.messages + v.messages, bytes: a.bytes + v.bytes }), { messages: 0, bytes: 0 });
      const lat = latencyOf(frames.map((f) => f[4] - tSet));
      const row = {
        user: u,
        status,
        reply: reply?.ok ? 'ok' : (reply?.error?.code ?? 'none'),
        roomsOfUser: rooms.roomsOf[u].length + 1,
        roomsWithinFanoutMax:
          rooms.roomsOf[u].filter((r) => rooms.members[r].length <= P.fanoutMax).length + (users.length <= P.fanoutMax ? 1 : 0),
        expectedReceivers: expected.size,
        receivers: received.size,
        framesReceived: frames.length,
        missing,
        extra,
        duplicates,
        gatewayFramesDelivered:
          metricSum(m1, 'gateway_events_delivered_total{event="presence.changed"}') -
          metricSum(m0, 'gateway_events_delivered_total{event="presence.changed"}'),
        latencyMs: lat,
        nats,
        natsPresenceMessages: presenceNats.messages,
        natsPresenceBytes: presenceNats.bytes,
      };
      changes.push(row);
      log(
        `  change ${k + 1}: user ${u} -> ${status} (${row.reply}): ${row.receivers} of ${row.expectedReceivers} co-members got it (missing ${missing}, extra ${extra}, duplicates ${duplicates}), p50/max ${f2(lat.p50)}/${f2(lat.max)} ms; NATS ${row.natsPresenceMessages} msgs ${f0(row.natsPresenceBytes)} B`,
      );
      await sleep(500);
    }
    results.presence = {
      users: users.length,
      rooms: rooms.roomIds.length,
      roomsPerUser: P.roomsPerUser,
      fanoutMax: P.fanoutMax,
      roomSetupSeconds: rooms.seconds,
      joins: rooms.joins,
      arrival,
      changes,
    };
  } finally {
    await clients.closeAll().catch(() => undefined);
    await clients.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Part 4: presence convergence after a gateway is killed

/** Waits until the PRESENCE stream's last sequence has not moved for `quietMs` (e.g. a wave of offlines being written). */
async function presenceStreamQuiet(quietMs = 3000, maxMs = 120_000) {
  const { jetstreamManager } = require('@nats-io/jetstream');
  const jsm = await jetstreamManager(RUN.nc);
  const t0 = now();
  let last = -1;
  let since = now();
  while (now() - t0 < maxMs) {
    const seq = (await jsm.streams.info(RUN.s.streams.presence.name)).state.last_seq;
    if (seq !== last) {
      last = seq;
      since = now();
    } else if (now() - since >= quietMs) return;
    await sleep(500);
  }
}

async function killPart(results) {
  await presenceStreamQuiet();
  const users = RUN.users;
  const N = P.killUsers;
  const watcher = users[users.length - 1];
  const killed = users.slice(0, N);
  const roomId = `w${RUN.runId}`;
  if (N + 1 > P.fanoutMax)
    log(`WARNING: the watch room has ${N + 1} members, above --fanout-max ${P.fanoutMax}: the watcher is not pushed their presence`);
  await rpcOk(
    'rooms.create',
    { roomId, name: 'Watch', memberLimit: Math.min(100_000, N + 10), userId: watcher.userId, username: watcher.username },
    ['ROOM_EXISTS', 'ALREADY_EXISTS'],
  );
  const errors = await pool(N, 32, (i) =>
    rpcOk('rooms.join', { roomId, userId: killed[i].userId, username: killed[i].username }, ['ALREADY_MEMBER']),
  );
  if (Object.keys(errors).length) throw new Error(`joining the watch room: ${JSON.stringify(errors)}`);
  const ids = new Set(killed.map((u) => u.userId));

  const watchClients = new Clients('clients-watcher');
  const runs = [];
  try {
    const w = await watchClients.open(wsOf(gatewayUrl()), [{ token: watcher.token, label: watcher.userId }]);
    if (w.failed) throw new Error(`the watcher could not connect: ${JSON.stringify(w.failures)}`);
    const { jetstream, DeliverPolicy } = require('@nats-io/jetstream');
    const js = jetstream(RUN.nc);
    for (let run = 1; run <= P.killRuns; run++) {
      const name = `gateway-k${run}`;
      const port = await freePort();
      await RUN.stack.startExtra(name, 'gateway', port, {
        ...RUN.gatewayEnv,
        GATEWAY_ID: `bench-gwk${run}`,
        BENCH_MEM_FILE: path.join(RUN.logDir, `mem-${name}.json`),
      });
      const base = RUN.stack.urls[name];
      await watchClients.all('watch', { userIds: [...ids] });
      const victims = new Clients(`clients-k${run}`);
      try {
        const tOpen = performance.timeOrigin + performance.now();
        const c = await victims.open(
          wsOf(base),
          killed.map((u) => ({ token: u.token, label: u.userId })),
        );
        // Everyone online as the watcher sees it, first (max 60 s).
        const lastStatus = async (since) => {
          const last = new Map();
          for (const f of (await watchClients.all('watched')).flatMap((r) => r.frames)) if (f[4] >= since) last.set(f[1], f);
          return last;
        };
        let onlineSeen = 0;
        const tw = now();
        while (now() - tw < 60_000) {
          const last = await lastStatus(tOpen);
          onlineSeen = [...ids].filter((id) => last.get(id) && last.get(id)[2] !== 'offline').length;
          if (onlineSeen === N) break;
          await sleep(250);
        }
        // The PRESENCE stream from now on, as stored (an ordered consumer).
        const stored = new Map();
        const consumer = await js.consumers.get(RUN.s.streams.presence.name, {
          filter_subjects: RUN.s.presence.allUsers,
          deliver_policy: DeliverPolicy.New,
        });
        const messages = await consumer.consume();
        const reading = (async () => {
          for await (const m of messages) {
            const t = performance.timeOrigin + performance.now();
            let e;
            try {
              e = m.json();
            } catch {
              continue;
            }
            const p = e?.payload;
            if (p && ids.has(p.userId)) stored.set(p.userId, [p.status, t]);
          }
        })().catch(() => undefined);
        await sleep(500);
        const tKill = performance.timeOrigin + performance.now();
        await RUN.stack.stop(name, 'SIGKILL');
        log(
          `kill run ${run}: ${c.opened} users on ${name} (${onlineSeen} seen online by the watcher); SIGKILL at ${new Date(tKill).toISOString()}`,
        );
        let watcherAll = null;
        let streamAll = null;
        let last = new Map();
        while (performance.timeOrigin + performance.now() - tKill < 120_000) {
          await sleep(200);
          last = await lastStatus(tKill);
          const offline = [...ids].filter((id) => last.get(id)?.[2] === 'offline');
          if (offline.length === N && !watcherAll) watcherAll = Math.max(...offline.map((id) => last.get(id)[4])) - tKill;
          const storedOff = [...ids].filter((id) => stored.get(id)?.[0] === 'offline');
          if (storedOff.length === N && !streamAll) streamAll = Math.max(...storedOff.map((id) => stored.get(id)[1])) - tKill;
          if (watcherAll && streamAll) break;
        }
        await messages.close();
        await reading;
        const watcherTimes = [...ids].filter((id) => last.get(id)?.[2] === 'offline').map((id) => last.get(id)[4] - tKill);
        const r = {
          run,
          users: c.opened,
          onlineSeenBefore: onlineSeen,
          watcherAllOfflineMs: watcherAll,
          watcherOffline: watcherTimes.length,
          watcherPerUserMs: latencyOf(watcherTimes),
          streamAllOfflineMs: streamAll,
          streamOffline: [...ids].filter((id) => stored.get(id)?.[0] === 'offline').length,
        };
        runs.push(r);
        log(
          `  watcher saw ${r.watcherOffline}/${N} offline, all by ${f0(watcherAll)} ms (first ${f0(r.watcherPerUserMs.p50 === null ? null : Math.min(...watcherTimes))} ms); stream: ${r.streamOffline}/${N}, all by ${f0(streamAll)} ms`,
        );
      } finally {
        await victims.closeAll().catch(() => undefined);
        await victims.stop();
      }
      await sleep(2000);
    }
  } finally {
    await watchClients.closeAll().catch(() => undefined);
    await watchClients.stop();
  }
  const all = (k) => runs.map((r) => r[k]).filter((x) => x !== null);
  results.kill = {
    users: N,
    runs,
    watcherAllOffline: latencyOf(all('watcherAllOfflineMs')),
    streamAllOffline: latencyOf(all('streamAllOfflineMs')),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

/**
 * Warnings and errors the services logged during the run (LOG_LEVEL=warn, one pino JSON line
 * each), counted by service and message: a figure measured while a service complained (e.g. a
 * presence publish that failed) is read with that in mind.
 */
function serviceComplaints() {
  const out = {};
  for (const file of fs.readdirSync(RUN.logDir).filter((f) => f.endsWith('.log'))) {
    const byMsg = {};
    for (const line of fs.readFileSync(path.join(RUN.logDir, file), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let rec;
      try {
        rec = JSON.parse(line);
      } catch {
        rec = { level: 50, msg: line.slice(0, 120) };
      }
      if ((rec.level ?? 0) < 40) continue;
      const key = `${rec.level >= 50 ? 'error' : 'warn'}: ${String(rec.msg ?? '').slice(0, 120)}`;
      byMsg[key] = (byMsg[key] ?? 0) + 1;
    }
    if (Object.keys(byMsg).length) out[file.replace(/\.log$/, '')] = byMsg;
  }
  return out;
}

const mib = (b) => (b === null || b === undefined ? '-' : (b / 2 ** 20).toFixed(1));
const kb = (b) => (b === null || b === undefined || Number.isNaN(b) ? '-' : (b / 1024).toFixed(1));

function report(results) {
  const lines = [];
  if (results.memory) {
    const head = [
      'target',
      'connections',
      'RSS MiB',
      'heap used MiB',
      'RSS per connection KiB',
      'heap per connection KiB',
      'time to open s',
      'failed',
    ];
    const body = [];
    for (const r of [results.memory.bare, results.memory.distinct, results.memory.shared]) {
      if (!r) continue;
      for (const row of r.rows)
        body.push([
          r.label,
          f0(row.connections),
          mib(row.rss),
          mib(row.heapUsed),
          row.connections ? kb(row.rssPerConnection) : '-',
          row.connections ? kb(row.heapPerConnection) : '-',
          row.openSeconds === undefined ? '-' : f2(row.openSeconds),
          row.connections ? Object.values(row.failures ?? {}).reduce((a, b) => a + b, 0) : '-',
        ]);
      body.push([`${r.label} (all closed)`, 0, mib(r.afterClose.rss), mib(r.afterClose.heapUsed), '-', '-', '-', '-']);
    }
    lines.push(
      '1. Memory per idle connection (after a forced full GC; per connection = (with N − with 0) / N)',
      '',
      renderTable(head, body),
      '',
    );
    const top = (r) => r?.rows[r.rows.length - 1];
    const g = top(results.memory.distinct);
    const b = top(results.memory.bare);
    if (g)
      lines.push(
        `goal (<= 16 KB per idle authenticated connection): gateway RSS ${kb(g.rssPerConnection)} KiB, heap ${kb(g.heapPerConnection)} KiB per connection at ${f0(g.connections)} (one user each): ${g.rssPerConnection <= 16 * 1024 ? 'MET' : 'NOT MET'} (RSS)` +
          (b ? `; bare ws server: RSS ${kb(b.rssPerConnection)} KiB, heap ${kb(b.heapPerConnection)} KiB` : ''),
        '',
      );
  }
  if (results.capacity) {
    const c = results.capacity;
    const head = [
      'connections',
      'step s',
      'per s',
      'elapsed s',
      'failed',
      'gateway authenticated',
      'gateway open files',
      'gateway RSS MiB',
    ];
    const body = c.rows.map((r) => [
      f0(r.connections),
      f2(r.stepSeconds),
      f0(r.perSecond),
      f2(r.elapsedSeconds),
      r.failed ? `${r.failed} ${JSON.stringify(r.failures)}` : 0,
      r.gatewayAuthenticated ?? '-',
      r.gatewayOpenFiles ?? '-',
      mib(r.gatewayRss),
    ]);
    lines.push(`2. Connections one gateway holds (open-file limit ${c.limitSoft}; ramp to ${f0(c.max)})`, '', renderTable(head, body), '');
    lines.push(
      `goal (10,000 on this machine): held ${f0(c.held)}, ${f0(c.stillOpenAfterSettle)} still open ${P.settle} s later (closes not asked for: ${JSON.stringify(c.unexpectedCloses)}); ` +
        `10,000 connected and authenticated in ${f2(c.secondsTo10k)} s; ${c.firstFailure ? `first failure at ${f0(c.firstFailure.at)}: ${JSON.stringify(c.firstFailure)}` : 'no failure'}: ${c.held >= 10_000 && c.stillOpenAfterSettle >= 10_000 ? 'MET' : 'NOT MET'}`,
      `with ${f0(c.held)} connections the gateway's presence ${hbText(c.heartbeat)}`,
      '',
    );
  }
  if (results.presence) {
    const p = results.presence;
    const head = [
      'change',
      'user → status',
      'rooms (≤ max)',
      'co-members',
      'receivers',
      'missing',
      'extra',
      'dup',
      'frames (gateway)',
      'p50 / max ms',
      'NATS msgs',
      'NATS bytes',
    ];
    const body = p.changes.map((r, i) => [
      i + 1,
      `${r.user} → ${r.status} (${r.reply})`,
      `${r.roomsOfUser} (${r.roomsWithinFanoutMax})`,
      f0(r.expectedReceivers),
      f0(r.receivers),
      r.missing,
      r.extra,
      r.duplicates,
      f0(r.gatewayFramesDelivered),
      `${f2(r.latencyMs.p50)} / ${f2(r.latencyMs.max)}`,
      f0(r.natsPresenceMessages),
      f0(r.natsPresenceBytes),
    ]);
    lines.push(
      `3. Presence traffic per status change: ${f0(p.users)} users, ${f0(p.rooms)} rooms, ${p.roomsPerUser} rooms each + the default room, fan-out max ${p.fanoutMax} members`,
      '',
      renderTable(head, body),
      '',
    );
    const kinds = new Map();
    for (const r of p.changes) for (const [k, v] of Object.entries(r.nats)) kinds.set(k, (kinds.get(k) ?? 0) + v.messages);
    lines.push(
      'NATS messages by kind, mean per change (replies to requests and JetStream publish acks go to inboxes and are not counted):',
      ...[...kinds].sort().map(([k, v]) => `  ${k}: ${f2(v / p.changes.length)}`),
      `arrival of all ${f0(p.arrival.connected)} users: connected and authenticated in ${f2(p.arrival.connectSeconds)} s, fan-out quiet ${f2(p.arrival.quietAfterSeconds)} s after that, ${f0(p.arrival.presenceFramesDelivered)} presence.changed frames delivered; then the gateway's presence ${hbText(p.arrival.heartbeat)}`,
      `gateway memory with them connected (users in ${p.roomsPerUser + 1} rooms each, after a full GC): RSS ${kb(p.arrival.memory.rssPerConnection)} KiB, heap ${kb(p.arrival.memory.heapPerConnection)} KiB per connection`,
      '',
    );
  }
  if (results.kill) {
    const k = results.kill;
    const head = [
      'run',
      'users',
      'seen online before',
      'watcher: all offline ms',
      'watcher per user p50 ms',
      'stream: all offline ms',
      'stream offline',
    ];
    const body = k.runs.map((r) => [
      r.run,
      r.users,
      r.onlineSeenBefore,
      f0(r.watcherAllOfflineMs),
      f0(r.watcherPerUserMs.p50),
      f0(r.streamAllOfflineMs),
      r.streamOffline,
    ]);
    lines.push(
      `4. Presence after SIGKILL of a gateway with ${k.users} users (watcher on another gateway)`,
      '',
      renderTable(head, body),
      '',
    );
    lines.push(
      `all offline as the watcher sees it: p50 ${f0(k.watcherAllOffline.p50)} ms, max ${f0(k.watcherAllOffline.max)} ms; in the PRESENCE stream: p50 ${f0(k.streamAllOffline.p50)} ms, max ${f0(k.streamAllOffline.max)} ms (bound: 30 s)`,
      '',
    );
  }
  const complaints = results.complaints ?? {};
  if (Object.keys(complaints).length) {
    lines.push(`Warnings and errors logged by the services (logs in ${RUN.logDir}):`);
    for (const [svc, byMsg] of Object.entries(complaints))
      for (const [msg, n] of Object.entries(byMsg)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8))
        lines.push(`  ${svc}: ${n} × ${msg}`);
  } else lines.push('The services logged no warning or error during the run.');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const started = new Date();
  const info = machineInfo();
  const command = `node bench/connections.mjs ${process.argv.slice(2).join(' ')}`.trim();
  log(
    `${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB, ${info.os}, Node ${info.node}, load average ${info.loadavgAtStart.join(' ')}; open files ${limits.soft} (hard ${limits.hard})`,
  );
  const results = {};
  await startBenchStack(info);
  const needUsers = only.some((p) => p !== 'kill') ? P.users : Math.max(P.killUsers + 1, 2);
  log(`registering and logging in ${needUsers.toLocaleString('en-US')} users`);
  const reg = await registerUsers(needUsers);
  RUN.users = reg.users;
  results.registration = { users: needUsers, seconds: reg.seconds };
  log(`  done in ${f2(reg.seconds)} s`);

  if (only.includes('memory')) await memoryPart(results);
  if (only.includes('capacity')) await capacityPart(results);
  if (only.includes('presence') || only.includes('kill')) await restartGateway();
  if (only.includes('presence')) await presencePart(results);
  if (only.includes('kill')) await killPart(results);

  results.complaints = serviceComplaints();
  console.log('');
  console.log(`Connections and presence benchmark — ${started.toISOString()}`);
  console.log(`command: ${command}`);
  console.log(
    `machine: ${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB RAM, ${info.os}, Node ${info.node}` +
      (info.natsVersion ? `, NATS ${info.natsVersion}` : '') +
      (info.postgresVersion ? `, PostgreSQL ${info.postgresVersion}` : '') +
      `; open-file limit ${limits.soft} (hard ${limits.hard})`,
  );
  console.log(
    `load average at start: ${info.loadavgAtStart.join(' ')}, at end: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `users: ${f0(results.registration.users)} registered and logged in over HTTP in ${f2(results.registration.seconds)} s (argon2 at its cheapest)`,
  );
  console.log('');
  console.log(report(results));
  const out = writeResult({
    out: opt.out,
    name: 'connections',
    started,
    result: { date: started.toISOString(), command, machine: info, fileLimits: limits, parameters: P, only, results },
  });
  console.log(`result written to ${out}`);
}

await run(main);
