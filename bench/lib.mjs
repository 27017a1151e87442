// Helpers shared by the benchmarks (the suite in bench/suite, connections.mjs, history.mjs, rooms.mjs, soak.mjs):
// option parsing, latency samples, CPU and memory of processes and of the machine, free ports, NATS
// connections and clean-up of a run's streams, a whole stack on a fresh namespace and schema, users
// and rooms, the report's tables and machine description, and the clean-up of a run however it ends.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const log = (m) => console.log(`[bench] ${m}`);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const now = () => performance.now();

// ---------------------------------------------------------------------------------------------
// Options

/** `int(name, min)`: the parseArgs value `opt[name]` as an integer of at least `min`, or an error naming --name. */
export const intOption = (opt) => (name, min) => {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return v;
};

/** The parts of an `--only a,b` option (all of `parts` when absent); an unknown part is an error. */
export function onlyOption(value, parts) {
  const only = value ? value.split(',').map((s) => s.trim()) : parts;
  for (const p of only) if (!parts.includes(p)) throw new Error(`--only: unknown part "${p}" (${parts.join(', ')})`);
  return only;
}

// ---------------------------------------------------------------------------------------------
// Seeded data

/**
 * A seeded pseudo-random source (mulberry32), so that every run draws the same data: rnd() in
 * [0, 1), rint(a, b) an integer in [a, b], one(xs), unique(n, make, not) n distinct values of
 * make() outside `not`, shuffle(xs) in place; latinWord(), hanChar() and hanWord() made-up text (3,000
 * of the common Han characters, U+4E00 on, stand in for real text).
 */
export function seededRandom(seed) {
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const rint = (a, b) => a + Math.floor(rnd() * (b - a + 1));
  const one = (xs) => xs[Math.floor(rnd() * xs.length)];
  const unique = (n, make, not = new Set()) => {
    const set = new Set();
    while (set.size < n) {
      const x = make();
      if (!not.has(x)) set.add(x);
    }
    return [...set];
  };
  const shuffle = (xs) => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  };
  const consonants = [...'bcdfghjklmnprstvwz'];
  const vowels = [...'aeiou'];
  const syllable = () => one(consonants) + one(vowels) + (rnd() < 0.3 ? one(consonants) : '');
  const latinWord = () => Array.from({ length: rint(2, 3) }, syllable).join('');
  const hanChar = () => String.fromCharCode(0x4e00 + rint(0, 2999));
  const hanWord = () => Array.from({ length: rint(2, 4) }, hanChar).join('');
  return { rnd, rint, one, unique, shuffle, latinWord, hanChar, hanWord };
}

// ---------------------------------------------------------------------------------------------
// Measurement

/** Latency samples: the first `size` kept, then a uniform random sample of that size (reservoir sampling). */
export class Reservoir {
  constructor(size = 1_000_000) {
    this.buf = new Float64Array(size);
    this.n = 0; // samples offered
  }
  add(v) {
    if (this.n < this.buf.length) this.buf[this.n] = v;
    else {
      const j = Math.floor(Math.random() * (this.n + 1));
      if (j < this.buf.length) this.buf[j] = v;
    }
    this.n++;
  }
  percentiles(ps) {
    const k = Math.min(this.n, this.buf.length);
    if (!k) return ps.map(() => null);
    const sorted = this.buf.slice(0, k).sort();
    return ps.map((p) => sorted[Math.min(k - 1, Math.floor((p / 100) * k))]);
  }
}

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time of a process so far in clock ticks (Linux /proc/<pid>/stat), or null. */
export function procTicks(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return null;
  }
}

/** The machine's CPU time so far in clock ticks, all cores: total, idle and steal. */
export function machineTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  // steal: time the hypervisor gave this VM's CPUs to someone else (noisy neighbours).
  return { total: f.reduce((a, b) => a + b, 0), idle, steal: f[7] || 0 };
}

/** Processes whose command name (/proc/<pid>/comm) is `comm`. */
export function pidsByName(comm) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) out.push(Number(d));
    } catch {}
  }
  return out;
}

/**
 * CPU over an interval. `groups()` names the processes to measure: { name: [pid] }. Returns a
 * function that ends the interval and returns
 *   groups:      each named group, in % of one core;
 *   loadgen:     this process (the load generator), in % of one core;
 *   machineBusy: the machine, in % of all cores (null if no time passed);
 *   steal:       the hypervisor's steal, in % of all cores (null if no time passed);
 *   other:       whatever else ran on the machine (other users of a shared machine), in % of
 *                one core, steal left out (null if no time passed): a figure measured while
 *                something else took a core says little.
 */
export function cpuMeter(groups) {
  const snap = () => ({
    t: now(),
    groups: Object.fromEntries(Object.entries(groups()).map(([k, pids]) => [k, pids.map(procTicks).reduce((a, b) => a + (b ?? 0), 0)])),
    self: process.cpuUsage(),
    machine: machineTicks(),
  });
  const a = snap();
  return () => {
    const b = snap();
    const secs = (b.t - a.t) / 1000;
    const pct = (ticks) => Math.round((ticks / CLK_TCK / secs) * 100);
    const res = { groups: {} };
    for (const k of Object.keys(b.groups)) res.groups[k] = pct(b.groups[k] - (a.groups[k] ?? 0));
    res.loadgen = Math.round(((b.self.user - a.self.user + b.self.system - a.self.system) / 1e6 / secs) * 100);
    const dt = b.machine.total - a.machine.total;
    const busy = dt ? 1 - (b.machine.idle - a.machine.idle) / dt : null;
    const steal = dt ? (b.machine.steal - a.machine.steal) / dt : null;
    const known = Object.values(res.groups).reduce((s, v) => s + v, res.loadgen);
    res.machineBusy = busy === null ? null : Math.round(busy * 100);
    res.steal = steal === null ? null : Math.round(steal * 100);
    res.other = busy === null ? null : Math.max(0, Math.round((busy - steal) * os.cpus().length * 100 - known));
    return res;
  };
}

// ---------------------------------------------------------------------------------------------
// Processes and services

/** Our own child processes still running (e.g. services of a stack interrupted while starting). */
export function ownChildren() {
  const pids = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${process.pid}/task`)) {
      const list = fs.readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').trim();
      if (list) pids.push(...list.split(/\s+/).map(Number));
    }
  } catch {}
  return pids;
}

/** SIGTERM to each of our own child processes still running. */
export function killOwnChildren() {
  for (const pid of ownChildren()) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
  }
}

/**
 * Starts a Node script as a server process (`nodeArgs` before the script) with `env`, pushes its
 * stop (SIGTERM, SIGKILL after 5 s) onto `cleanups`, and waits up to 30 s for the port it
 * reports on its first line of output (`{"port":N}`). `name` is used in errors. The IPC channel
 * makes the server stop by itself if the benchmark dies; it does not keep this process alive.
 */
export async function startPortServer({ script, name, env, cleanups, nodeArgs = [] }) {
  const child = spawn(process.execPath, [...nodeArgs, script], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env });
  child.channel?.unref();
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  };
  cleanups.push(stop);
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not report its port within 30 s`)), 30_000);
    child.stdout.on('data', (d) => {
      buf += d;
      if (!buf.includes('\n')) return;
      clearTimeout(timer);
      const first = buf.split('\n')[0];
      try {
        resolve(JSON.parse(first).port);
      } catch (err) {
        reject(new Error(`${name}: unexpected first line ${JSON.stringify(first)}: ${err.message}`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited during start-up (${code ?? signal})`));
    });
  });
  return { child, port, stop };
}

/** Starts bench/bare-server.mjs (a plain ws server, the yardstick) with `env`; see startPortServer. */
export function startBareServer({ env, cleanups }) {
  return startPortServer({ script: path.join(root, 'bench', 'bare-server.mjs'), name: 'bare server', env, cleanups });
}

/** A TCP port free on 127.0.0.1 at the time of asking. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A NATS connection named `name` (as NATS monitoring shows it). */
export async function natsConnect(url, name) {
  const { connect } = require('@nats-io/transport-node');
  return connect({ servers: url, name, noAsyncTraces: true });
}

/** The NATS server's version, as its INFO says. */
export async function natsVersion(url, name) {
  const nc = await natsConnect(url, name);
  try {
    return nc.info?.version ?? null;
  } finally {
    await nc.close();
  }
}

/**
 * The streams and KV buckets of a namespace (`s`: its createSubjects), so the shared NATS does
 * not fill up with benchmark data.
 */
export async function deleteNamespace(url, s, connectionName) {
  const { jetstreamManager } = require('@nats-io/jetstream');
  const nc = await natsConnect(url, connectionName);
  try {
    const jsm = await jetstreamManager(nc);
    const names = [...Object.values(s.streams).map((x) => x.name), ...Object.values(s.kv).map((b) => `KV_${b}`)];
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

/**
 * How a benchmark run ends, whichever way it does: `cleanups` (functions, run last-in first-out)
 * then `finally_`, once, whoever asks first (the end of main, an error, or a signal); the others
 * wait for it. SIGINT and SIGTERM stop everything and exit with 130.
 */
export function lifecycle({ finally_ = async () => undefined }) {
  const cleanups = [];
  let cleaning = null;
  let interrupted = false;
  const cleanupAll = () => {
    cleaning ??= (async () => {
      while (cleanups.length)
        await cleanups
          .pop()()
          .catch(() => undefined);
      await finally_();
    })();
    return cleaning;
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => {
      if (interrupted) return;
      interrupted = true;
      log(`${sig}: stopping everything`);
      await cleanupAll();
      process.exit(130);
    });
  }
  return {
    cleanups,
    cleanupAll,
    /** After cleanupAll has finished: the clean-ups pushed from now on run at the next cleanupAll. */
    resetCleanup: () => void (cleaning = null),
    interrupted: () => interrupted,
    /** Runs main, cleans up and exits (client sockets and NATS clients may keep handles open for a moment; the work is done). */
    async run(main) {
      try {
        await main();
      } catch (err) {
        // After a signal, failures of what was interrupted are expected noise.
        if (!interrupted) console.error(`[bench] failed: ${err?.stack ?? err}`);
        process.exitCode = 1;
      } finally {
        await cleanupAll();
      }
      process.exit(interrupted ? 130 : (process.exitCode ?? 0));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Report

export const f0 = (x) => (x === null || x === undefined || Number.isNaN(x) ? '-' : Math.round(x).toLocaleString('en-US'));
export const f2 = (x) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(2));

/** A Markdown table, padded so that it also reads well in a terminal. */
export function renderTable(head, body) {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(w[i])).join(' | ') + ' |';
  return [line(head), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...body.map(line)].join('\n');
}

export function machineInfo() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^Model name:\s*(.+)$/m.exec(execFileSync('lscpu', { encoding: 'utf8' }));
    if (m) cpuModel = m[1].trim();
  } catch {}
  let osName = `${os.type()} ${os.release()}`;
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    if (m) osName = `${m[1]} (kernel ${os.release()})`;
  } catch {}
  return {
    cpuModel,
    cpus: os.cpus().length,
    ramGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osName,
    node: process.version,
    loadavgAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
}

/**
 * Writes a run's JSON result to `out`, by default bench/results/<name>-<date>.json, and returns
 * its path relative to the working directory.
 */
export function writeResult({ out, name, started, result }) {
  const file = out ?? path.join(root, 'bench', 'results', `${name}-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return path.relative(process.cwd(), file);
}

// ---------------------------------------------------------------------------------------------
// Postgres and JetStream bulk helpers

/** One query on a short-lived connection. */
export async function pgQuery(url, sql, params = []) {
  const pg = require('pg');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

export const dropSchema = (url, schema) => pgQuery(url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
export const postgresVersion = async (url) => (await pgQuery(url, 'SHOW server_version')).rows[0].server_version;

/**
 * Publishes every [subject, bytes] the iterator yields to JetStream with `window` publishes in
 * flight (each worker awaits its ack before taking the next), calling `onAck(i, seq)` with the
 * item's index and its stream sequence. No message ids: a run publishes each event once, and
 * millions of ids would only fill the server's duplicate-window table.
 */
export async function publishWindowed(js, items, { window = 1000, total = null, onAck = null, progressEvery = 0, label = 'events' } = {}) {
  let index = 0;
  let acked = 0;
  const t0 = now();
  const worker = async () => {
    for (let next = items.next(); !next.done; next = items.next()) {
      const i = index++;
      const [subject, data] = next.value;
      const ack = await js.publish(subject, data);
      onAck?.(i, ack.seq);
      if (progressEvery && ++acked % progressEvery === 0) {
        const secs = (now() - t0) / 1000;
        log(
          `  ${acked.toLocaleString('en-US')}${total ? ` / ${total.toLocaleString('en-US')}` : ''} ${label} appended (${f0(acked / secs)}/s)`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return { count: index, seconds: (now() - t0) / 1000 };
}

/** p50/p90/p99/max of a list of millisecond samples (all of them, no reservoir). */
export function latencyOf(samples) {
  if (!samples.length) return { n: 0, p50: null, p90: null, p99: null, max: null, mean: null };
  const s = Float64Array.from(samples).sort();
  const at = (p) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
  return { n: s.length, p50: at(50), p90: at(90), p99: at(99), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

// ---------------------------------------------------------------------------------------------
// Built services

/**
 * Starts one service from its built apps/<service>/dist/main.js like scripts/stack.cjs does
 * (with the IPC channel through which a service notices that its launcher died), on NATS
 * namespace `namespace`, its output appended to `<logDir>/<name>.log`, and resolves when
 * /health/ready answers 200. The entry (name, child, port, url, exited, readyMs: spawn to
 * ready, stop()) is added to `procs` and removed from it when stopped; stop() sends SIGTERM,
 * SIGKILL after 10 s.
 */
export async function startBuiltService({
  name,
  service = name,
  namespace,
  natsUrl,
  logDir,
  env = {},
  procs = new Set(),
  readyTimeoutMs = 600_000,
}) {
  const main = path.join(root, 'apps', service, 'dist', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const port = await freePort();
  const logFd = fs.openSync(path.join(logDir, `${name}.log`), 'a');
  const t0 = now();
  const child = spawn(process.execPath, [main], {
    cwd: root,
    env: {
      ...process.env,
      NATS_URL: natsUrl,
      NATS_NAMESPACE: namespace,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  fs.closeSync(logFd);
  child.channel?.unref();
  const entry = { name, child, port, url: `http://127.0.0.1:${port}`, exited: null, readyMs: null };
  child.once('exit', (code, signal) => (entry.exited = { code, signal }));
  procs.add(entry);
  entry.stop = async () => {
    if (entry.exited) return void procs.delete(entry);
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(t);
    procs.delete(entry);
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (entry.exited) throw new Error(`${name} exited during start-up (${JSON.stringify(entry.exited)}); see ${logDir}/${name}.log`);
    if (Date.now() > deadline) throw new Error(`${name} was not ready within ${readyTimeoutMs / 1000} s; see ${logDir}/${name}.log`);
    try {
      const r = await fetch(`${entry.url}/health/ready`);
      if (r.status === 200) break;
    } catch {}
    await sleep(20);
  }
  entry.readyMs = now() - t0;
  return entry;
}

/**
 * The moderation service's per-user limits (send rate, flood, the new-account and link-spam
 * subscribers) are for people; a benchmark's clients are a few brand-new accounts sending far
 * faster. Every benchmark that runs moderation lifts them, as it lifts the gateway's request rate.
 */
export const BENCH_MODERATION_ENV = {
  MOD_SEND_RATE_PER_S: '0',
  MOD_FLOOD_ROOMS: '1000',
  MOD_NEW_ACCOUNT_MESSAGES: '10000',
  MOD_LINK_SPAM_LINKS: '1000',
  MOD_LINK_SPAM_ROOMS: '1000',
};

/**
 * The gateway's limits for people (request rate per connection) lifted for a benchmark's clients,
 * and login made cheap (the cheapest argon2 the gateway accepts): login cost is not what is measured.
 */
// Every bench user registers from 127.0.0.1 (10 an hour per address by default).
export const BENCH_GATEWAY_ENV = {
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_ITERATIONS: '1',
  WS_RATE_PER_S: '1000000',
  WS_RATE_BURST: '1000000',
  REGISTER_MAX_PER_ADDRESS: '1000000',
};

/**
 * The five built services (scripts/stack.cjs) on the shared NATS and Postgres (started when absent,
 * scripts/infra.cjs), under a fresh NATS namespace and Postgres schema `bench_<runId>`, each
 * service's output in `<logDir>/<service>.log`. `serviceEnv` is added to BENCH_GATEWAY_ENV and
 * BENCH_MODERATION_ENV. Pushes onto `cleanups` a teardown (stop the services, delete the
 * namespace's streams and buckets, drop the schema), also returned; fills info.natsVersion,
 * info.postgresVersion and info.stackLogs.
 */
export async function startBenchStack({ name, cleanups, info, env = {}, serviceEnv = {} }) {
  const { ensureNats, ensurePostgres } = require('../scripts/infra.cjs');
  const { SERVICES, startStack } = require('../scripts/stack.cjs');
  const { createSubjects } = require('../libs/contracts/dist/index.js');
  const natsUrl = await ensureNats(log);
  const databaseUrl = await ensurePostgres(log);
  const runId = crypto.randomBytes(4).toString('hex');
  const namespace = `bench_${runId}`;
  const schema = `bench_${runId}`;
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-bench-'));
  const ports = {};
  for (const n of SERVICES) ports[n] = await freePort();

  let stack = null;
  const teardown = async () => {
    if (stack) await stack.stopAll().catch(() => undefined);
    stack = null;
    await deleteNamespace(natsUrl, createSubjects(namespace), name).catch((e) =>
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
      ...env,
    },
    ports,
    serviceEnv: {
      ...serviceEnv,
      gateway: { ...BENCH_GATEWAY_ENV, ...serviceEnv.gateway },
      moderation: { ...BENCH_MODERATION_ENV, ...serviceEnv.moderation },
    },
    output: logDir,
    // On a busy shared machine a service can take well over the default minute to start.
    readyTimeoutMs: 300_000,
  });
  log(`stack ready in ${((now() - t0) / 1000).toFixed(1)} s`);
  info.natsVersion = await natsVersion(natsUrl, name).catch(() => null);
  info.postgresVersion = await postgresVersion(databaseUrl).catch(() => null);
  info.stackLogs = logDir;
  return { stack, teardown, runId, namespace, schema, natsUrl, databaseUrl, logDir };
}

/** fn over `items`, `size` at a time (all of a batch at once, batch after batch); the results in order. */
export async function inBatches(items, size, fn) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

/** Registers and logs in each of `usernames` (16 at a time) with `password`; their access tokens, in order. */
export async function registeredTokens(base, usernames, password) {
  const { register, login } = require('../libs/client/dist/index.js');
  return inBatches(usernames, 16, async (username) => {
    await register(base, username, password);
    return (await login(base, username, password)).accessToken;
  });
}

/**
 * `room.join` of `roomId` by the client `c`, asked again (up to 5 times, waiting a little longer
 * each time) on CONFLICT or UNAVAILABLE: joins of one room are serialised by the room aggregate's
 * expected-sequence check, so many at once conflict. ALREADY_MEMBER counts as joined.
 */
export async function joinRoom(c, roomId) {
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
}

/** A service's Prometheus /metrics (at `base`) as { 'name{labels}': value }; rejects after `timeoutMs` (a stalled service). */
export async function scrapeMetrics(base, timeoutMs = 10_000) {
  const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })).text();
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

/** Resident memory of a process in bytes (Linux /proc/<pid>/status VmRSS), or null. */
export function procRss(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// History bulk load (bench/history.mjs pages part, the suite's stack target seedHistory)

/** Bulk-loaded rows sit far above any stream position of a run, so they never collide with projected ones. */
export const BULK_BASE = 1_000_000_000_000;

/** The column names of `<schema>.messages`. */
export async function messageColumns(db, schema) {
  const { rows } = await db.query(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'messages'`,
    [schema],
  );
  return new Set(rows.map((r) => r.column_name));
}

/**
 * Fills room `roomId` of the history schema `schema` (client `db`) with `n` messages at positions
 * BULK_BASE + 1 … BULK_BASE + n, bodies `bodyOf(i)` (i from 1), dated over the past year, from 50
 * made-up senders. The table's indexes and constraints (and foreign keys pointing at it) are
 * dropped, the rows are COPYed in, and each is re-created from its own definition, so the table
 * ends with exactly the indexes the migrations gave it; then VACUUM ANALYZE. The `search`
 * column, when the schema has one, is filled by the history service's own tokenizer.
 * `onBody(body)` sees every body; `onProgress(i, n, rowsPerSec)` is called every `progressEvery` rows.
 */
export async function bulkLoadMessages(db, schema, roomId, n, { bodyOf, onBody = null, onProgress = null, progressEvery = 1_000_000 }) {
  const { from: copyFrom } = require('pg-copy-streams');
  const { once } = await import('node:events');
  const table = `"${schema}".messages`;
  const cols = await messageColumns(db, schema);
  const withSearch = cols.has('search');
  const searchVector = withSearch ? require(path.join(root, 'apps', 'history', 'dist', 'search', 'tokenize.js')).searchVector : null;
  const own = (
    await db.query(
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p','u','x')`,
      [table],
    )
  ).rows;
  const fks = (
    await db.query(
      `SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE confrelid = $1::regclass AND contype = 'f'`,
      [table],
    )
  ).rows;
  const indexes = (
    await db.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'messages'`, [schema])
  ).rows.filter((i) => !own.some((c) => c.conname === i.indexname));
  for (const f of fks) await db.query(`ALTER TABLE ${f.tbl} DROP CONSTRAINT "${f.conname}"`);
  for (const c of own) await db.query(`ALTER TABLE ${table} DROP CONSTRAINT "${c.conname}"`);
  for (const i of indexes) await db.query(`DROP INDEX "${schema}"."${i.indexname}"`);

  const names = ['message_id', 'room_id', 'position', 'sender_id', 'sender_name', 'client_msg_id', 'body', 'created_at'];
  if (withSearch) names.push('search');
  const senders = Array.from({ length: 50 }, (_, i) => ({ id: crypto.randomUUID(), name: `sender${i}` }));
  const esc = (v) =>
    /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]) : v;
  const start = Date.now() - 365 * 86_400_000;
  const step = (365 * 86_400_000) / n;

  const t0 = now();
  const copy = db.query(copyFrom(`COPY ${table} (${names.join(', ')}) FROM STDIN`));
  const done = new Promise((resolve, reject) => {
    copy.on('finish', resolve);
    copy.on('error', reject);
  });
  let chunk = [];
  for (let i = 1; i <= n; i++) {
    const b = bodyOf(i);
    onBody?.(b);
    const s = senders[i % senders.length];
    const fields = [
      crypto.randomUUID(),
      roomId,
      String(BULK_BASE + i),
      s.id,
      s.name,
      `c${i}`,
      esc(b),
      new Date(start + i * step).toISOString(),
    ];
    if (withSearch) fields.push(esc(searchVector(b)));
    chunk.push(fields.join('\t'));
    if (chunk.length === 2000 || i === n) {
      if (!copy.write(chunk.join('\n') + '\n')) await once(copy, 'drain');
      chunk = [];
    }
    if (onProgress && i % progressEvery === 0) onProgress(i, n, i / ((now() - t0) / 1000));
  }
  copy.end();
  await done;
  const copySeconds = (now() - t0) / 1000;
  const t1 = now();
  await db.query(`SET maintenance_work_mem = '1GB'`);
  const indexSeconds = {};
  for (const c of own) {
    const t = now();
    await db.query(`ALTER TABLE ${table} ADD CONSTRAINT "${c.conname}" ${c.def}`);
    indexSeconds[c.conname] = (now() - t) / 1000;
  }
  for (const i of indexes) {
    const t = now();
    await db.query(i.indexdef);
    indexSeconds[i.indexname] = (now() - t) / 1000;
  }
  for (const f of fks) await db.query(`ALTER TABLE ${f.tbl} ADD CONSTRAINT "${f.conname}" ${f.def}`);
  await db.query(`RESET maintenance_work_mem`);
  await db.query(`VACUUM (ANALYZE) ${table}`);
  const size = (await db.query(`SELECT pg_total_relation_size($1::regclass) AS b`, [table])).rows[0].b;
  return {
    rows: n,
    withSearch,
    copySeconds,
    indexesSeconds: (now() - t1) / 1000,
    indexSeconds,
    constraints: own.length,
    indexes: indexes.length,
    foreignKeys: fks.length,
    tableBytes: Number(size),
  };
}

// ---------------------------------------------------------------------------------------------
// Forced full GC of a target process, for memory readings

const GC_PRELOAD_SOURCE = `'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');
const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
process.on('SIGUSR2', () => {
  gc();
  gc();
  const file = process.env.BENCH_GC_DIR + '/' + process.pid + '.json';
  fs.writeFileSync(file + '.tmp', JSON.stringify(process.memoryUsage()));
  fs.renameSync(file + '.tmp', file);
});
`;

/**
 * A module preloaded into a Node process (NODE_OPTIONS=--require; --expose-gc itself is not
 * allowed there, hence the flag set at run time) that runs two full GCs on SIGUSR2 and then
 * writes process.memoryUsage() to `<dir>/<pid>.json`. Returns the environment to start the
 * process with and `collect(pid)`, which signals it and resolves with its memoryUsage() once
 * written (memory figures without the garbage of the set-up: registrations, logins, joins).
 */
export function gcHook(dir) {
  const preload = path.join(dir, 'gc-preload.cjs');
  fs.writeFileSync(preload, GC_PRELOAD_SOURCE);
  return {
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim(), BENCH_GC_DIR: dir },
    async collect(pid) {
      const file = path.join(dir, `${pid}.json`);
      fs.rmSync(file, { force: true });
      process.kill(pid, 'SIGUSR2');
      const deadline = Date.now() + 30_000;
      while (!fs.existsSync(file)) {
        if (Date.now() > deadline) throw new Error(`process ${pid} did not report its memory after a GC`);
        await sleep(50);
      }
      return JSON.parse(fs.readFileSync(file, 'utf8'));
    },
  };
}
