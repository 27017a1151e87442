// Rooms service benchmark (issue 6). Drives the rooms service directly over NATS request/reply
// (the same RPC subjects and DTOs the gateway uses, so the figures are the service's, not the
// gateway's) and measures the event store underneath it. It prints figures; it asserts nothing.
// See docs/benchmarks.md, section "Rooms (issue 6)".
//
//   npm run bench:rooms                 (builds first)
//   node bench/rooms.mjs --help
//
// Three parts, each on its own random NATS namespace whose streams are deleted afterwards:
//  1. commands: rooms.create, rooms.join and rooms.post per second with a fixed number of
//     requests in flight, on one hot room and spread over many rooms (rooms + moderation running).
//  2. conflict: the cost of the optimistic-concurrency check. Joins on one hot room with one and
//     with two rooms replicas (two replicas keep stale copies of each other's writes, so their
//     appends collide), and a micro measure on the JetStream adapter alone: an append that
//     succeeds vs one that is refused for a stale expected sequence, re-reads and succeeds.
//  3. memory: a rooms process started on a CHAT stream that already holds N rooms (RoomCreated +
//     MemberJoined events appended directly), against the same process on an empty stream: RSS
//     and V8 heap after a forced GC, per room, and the time to start (replay).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import {
  cpuMeter,
  deleteNamespace,
  f0,
  f2,
  intOption,
  lifecycle,
  log,
  machineInfo,
  natsConnect,
  natsVersion,
  now,
  onlyOption,
  pidsByName,
  renderTable,
  Reservoir,
  sleep,
  startBuiltService,
  writeResult,
  BENCH_MODERATION_ENV,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const { ensureNats } = require('../scripts/infra.cjs');

// ---------------------------------------------------------------------------------------------
// Options

const { values: opt } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rooms: { type: 'string', default: '1000' },
    'conflict-joins': { type: 'string', default: '5000' },
    'serial-joins': { type: 'string', default: '1000' },
    micro: { type: 'string', default: '2000' },
    'memory-rooms': { type: 'string', default: '100000' },
    'joins-per-room': { type: 'string', default: '2' },
    'body-chars': { type: 'string', default: '64' },
    only: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(`usage: node bench/rooms.mjs [options]   (npm run bench:rooms builds first)
  --concurrency C      requests in flight (closed loop: the next is sent when one is answered) (default 32)
  --seconds T          measured seconds per commands scenario (default 10)
  --warmup W           seconds run but not measured before each commands scenario (default 2)
  --rooms R            rooms the "spread" scenarios use (default 1000)
  --conflict-joins N   joins per variant of the conflict comparison with C in flight (default 5000)
  --serial-joins N     joins per variant with one in flight (default 1000)
  --micro M            iterations of each adapter micro measure (default 2000)
  --memory-rooms N     rooms in the stream for the memory measure (default 100000)
  --joins-per-room J   MemberJoined events per room in that stream (default 2: owner + one member)
  --body-chars B       message body length for posts (default 64)
  --only LIST          comma-separated parts to run: commands, conflict, memory (default all)
  --out FILE           JSON result (default bench/results/rooms-<date>.json)`);
  process.exit(0);
}
const int = intOption(opt);
const P = {
  concurrency: int('concurrency', 1),
  seconds: int('seconds', 1),
  warmup: int('warmup', 0),
  rooms: int('rooms', 1),
  conflictJoins: int('conflict-joins', 1),
  serialJoins: int('serial-joins', 1),
  micro: int('micro', 1),
  memoryRooms: int('memory-rooms', 1),
  joinsPerRoom: int('joins-per-room', 0),
  bodyChars: int('body-chars', 1),
};
const PARTS = ['commands', 'conflict', 'memory'];
const only = onlyOption(opt.only, PARTS);
// The built contracts' own limit: a hot room must admit every join of a run.
const { createSubjects, Limits } = require('../libs/contracts/dist/index.js');
const { JetStreamAdapter, RpcClient, AppendRefused, streamSpecs } = require('../libs/messaging/dist/index.js');
const { jetstream } = require('@nats-io/jetstream');
const HOT_LIMIT = Limits.memberLimitMax;

// ---------------------------------------------------------------------------------------------
// Measurement

/**
 * CPU over an interval (lib.mjs cpuMeter), as this report has it: each named process (in % of
 * one core), this load generator, whatever else ran on the machine ("other", % of one core: the
 * machine is shared, and a figure measured while something else took a core says little) and
 * the machine (% of all cores).
 */
function cpuPercent(groups) {
  const stop = cpuMeter(groups);
  return () => {
    const c = stop();
    return { ...c.groups, loadgen: c.loadgen, other: c.other, machine: c.machineBusy };
  };
}

const cpuText = (c) =>
  c
    ? Object.entries(c)
        .filter(([k, v]) => v > 0 || k === 'other')
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : '-';

/**
 * Runs `op` with `concurrency` calls in flight: each worker sends the next call as soon as its
 * previous one is answered (a closed loop: the rate found is what the service sustains with that
 * many requests queued, not an offered rate). Either for `seconds` after `warmup` seconds that
 * are run but not counted, or for exactly `count` calls. `op(i)` resolves to a Result envelope;
 * refusals are counted by error code, not retried.
 */
async function closedLoop({ op, concurrency = P.concurrency, seconds = null, warmup = 0, count = null, pids = () => ({}), tap = null }) {
  const lat = new Reservoir();
  const okLat = new Reservoir();
  const errors = {};
  const timed = count === null;
  let measuring = false;
  let stop = false;
  let started = 0;
  let calls = 0; // calls started in the measured window (or all, for a count)
  let okCount = 0;
  let completedInWindow = 0;
  const worker = async () => {
    while (!stop && (timed || started < count)) {
      const i = started++;
      const counted = measuring;
      const t = now();
      let r;
      try {
        r = await op(i);
      } catch (err) {
        r = { ok: false, error: { code: 'LOADGEN', message: String(err?.message ?? err) } };
      }
      if (measuring) completedInWindow++;
      // Latency and outcome of every call started in the window, even if it ends after it.
      if (!counted) continue;
      calls++;
      const ms = now() - t;
      lat.add(ms);
      if (r.ok) {
        okCount++;
        okLat.add(ms);
      } else errors[r.error.code] = (errors[r.error.code] ?? 0) + 1;
    }
  };
  let workers = [];
  if (timed) {
    workers = Array.from({ length: concurrency }, worker);
    await sleep(warmup * 1000);
  }
  const tap0 = tap?.snapshot();
  const meter = cpuPercent(pids);
  const t0 = now();
  measuring = true;
  if (timed) await sleep(seconds * 1000);
  else await Promise.all(Array.from({ length: concurrency }, worker));
  const t1 = now();
  measuring = false;
  stop = true;
  const cpu = meter();
  // The tap's connection sees the last republishes a moment after the replies.
  if (tap && !timed) await sleep(300);
  const tap1 = tap?.snapshot();
  await Promise.all(workers);
  const secs = (t1 - t0) / 1000;
  const [p50, p90, p99, max] = lat.percentiles([50, 90, 99, 100]);
  const [okP50, okP99] = okLat.percentiles([50, 99]);
  const res = {
    concurrency,
    seconds: secs,
    commands: calls,
    ok: okCount,
    errors,
    // Timed: calls answered within the window; counted: all calls over the time they took.
    commandsPerSec: completedInWindow / secs,
    okPerSec: (timed ? (completedInWindow * okCount) / Math.max(1, calls) : okCount) / secs,
    latencyMs: { p50, p90, p99, max },
    // Successful calls only: a refused one may have spent up to four attempts.
    okLatencyMs: { p50: okP50, p99: okP99 },
    cpuPercent: cpu,
  };
  if (tap) {
    // Every publish to a room's meta subject, refused or stored, reaches the tap; only stored
    // ones are republished. The difference is the appends refused for a stale expected sequence.
    const attempts = tap1.attempts - tap0.attempts;
    const stored = tap1.stored - tap0.stored;
    res.appends = {
      attempts,
      stored,
      refused: attempts - stored,
      refusedPerCommand: completedInWindow ? (attempts - stored) / completedInWindow : null,
    };
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// Processes

const procs = new Set();
const { cleanups, cleanupAll, resetCleanup, run } = lifecycle({
  finally_: async () => {
    for (const p of procs) await p.stop().catch(() => undefined);
  },
});

/**
 * Starts one service (lib.mjs startBuiltService) tracked in this run's `procs`; resolves when
 * /health/ready answers 200: for rooms that is after the replay of every room.
 */
function startService(opts) {
  return startBuiltService({ ...opts, procs });
}

function newNamespace(tag) {
  const ns = `bench_${tag}_${crypto.randomBytes(4).toString('hex')}`;
  cleanups.push(async () => {
    await deleteNamespace(RUN.natsUrl, createSubjects(ns), 'rooms-bench-cleanup').catch((e) =>
      log(`could not delete NATS namespace ${ns}: ${e.message}`),
    );
  });
  return ns;
}

const RUN = { natsUrl: null, logDir: null };

/** A user as the gateway would pass it on: the rooms service takes id and name on trust. */
let userSeq = 0;
const newUser = () => ({ userId: crypto.randomUUID(), username: `u${(++userSeq).toString(36)}` });

/** Core NATS subscriptions that count publishes to room meta subjects and the stored (republished) ones. */
function appendTap(nc, s) {
  const counts = { attempts: 0, stored: 0 };
  const count = async (sub, key) => {
    for await (const _ of sub) counts[key]++;
  };
  void count(nc.subscribe(s.chat.allRoomMeta), 'attempts');
  void count(nc.subscribe(s.live.allRoomMeta), 'stored');
  return { snapshot: () => ({ ...counts }), flush: () => nc.flush() };
}

// ---------------------------------------------------------------------------------------------
// Parts 1 and 2: commands over RPC

async function createRooms(rpc, roomIds, memberLimit, pids) {
  const owners = roomIds.map(() => newUser());
  const r = await closedLoop({
    count: roomIds.length,
    pids,
    op: (i) =>
      rpc.call('rooms.create', {
        roomId: roomIds[i],
        name: `Bench ${roomIds[i]}`,
        memberLimit,
        ...owners[i],
      }),
  });
  if (r.ok !== roomIds.length) throw new Error(`creating ${roomIds.length} rooms: ${r.ok} created, errors ${JSON.stringify(r.errors)}`);
  return { owners, result: r };
}

async function commandsAndConflict(results) {
  const natsUrl = RUN.natsUrl;
  const ns = newNamespace('rooms');
  const s = createSubjects(ns);
  log(`namespace ${ns}: starting moderation and rooms (logs in ${RUN.logDir})`);
  const moderation = await startService({ name: 'moderation', namespace: ns, natsUrl, logDir: RUN.logDir, env: BENCH_MODERATION_ENV });
  const rooms1 = await startService({ name: 'rooms', namespace: ns, natsUrl, logDir: RUN.logDir });
  cleanups.push(() => moderation.stop());
  cleanups.push(() => rooms1.stop());
  const replicas = [rooms1];
  const pids = () => ({
    ...Object.fromEntries(replicas.map((r) => [r.name, [r.child.pid]])),
    moderation: [moderation.child.pid],
    nats: pidsByName('nats-server'),
  });

  const nc = await natsConnect(natsUrl, 'rooms-bench');
  cleanups.push(() => nc.close());
  const rpc = new RpcClient(nc, s, 30_000);
  const tapNc = await natsConnect(natsUrl, 'rooms-bench-tap');
  cleanups.push(() => tapNc.close());
  const tap = appendTap(tapNc, s);
  await tap.flush();

  const spreadIds = Array.from({ length: P.rooms }, (_, i) => `sp-${i}`);
  const spread = await createRooms(rpc, spreadIds, HOT_LIMIT, pids);
  results.create = spread.result;
  log(
    `created ${P.rooms} rooms: ${f0(spread.result.commandsPerSec)} creates/s, p50/p99 ${f2(spread.result.latencyMs.p50)}/${f2(spread.result.latencyMs.p99)} ms`,
  );
  // A fresh hot room per variant: every variant starts from an empty room.
  const hotIds = ['hot', 'c1-hot', 'c2-hot', 'c1s-hot', 'c2s-hot'];
  const hot = await createRooms(rpc, hotIds, HOT_LIMIT, pids);
  const body = 'x'.repeat(P.bodyChars);

  const runTimed = async (label, op, withTap = true) => {
    log(`${label}: ${P.warmup} s warm-up + ${P.seconds} s, ${P.concurrency} in flight`);
    const r = await closedLoop({ op, seconds: P.seconds, warmup: P.warmup, pids, tap: withTap ? tap : null });
    log(
      `${label}: ${f0(r.commandsPerSec)} commands/s (${f0(r.okPerSec)} ok/s), p50/p99 ${f2(r.latencyMs.p50)}/${f2(r.latencyMs.p99)} ms${errText(r.errors)}`,
    );
    return r;
  };

  if (only.includes('commands')) {
    // Joiners of the hot room are kept (a sample) to post there afterwards.
    const hotMembers = [];
    let hotSize = 1;
    results.joinHot = await runTimed('join, one hot room', async () => {
      const u = newUser();
      const r = await rpc.call('rooms.join', { roomId: 'hot', ...u });
      if (r.ok && hotMembers.length < 10_000) hotMembers.push(u);
      if (r.ok) hotSize = Math.max(hotSize, r.data.room.memberCount);
      return r;
    });
    results.joinHot.roomMembersAfter = hotSize;
    results.joinSpread = await runTimed(`join, ${P.rooms} rooms`, () =>
      rpc.call('rooms.join', { roomId: spreadIds[Math.floor(Math.random() * P.rooms)], ...newUser() }),
    );
    const hotPosters = hotMembers.length ? hotMembers : [hot.owners[0]];
    let msgSeq = 0;
    results.postHot = await runTimed(
      'post, one hot room',
      () =>
        rpc.call('rooms.post', {
          roomId: 'hot',
          clientMsgId: `m${(++msgSeq).toString(36)}`,
          body,
          ...hotPosters[Math.floor(Math.random() * hotPosters.length)],
        }),
      false,
    );
    results.postSpread = await runTimed(
      `post, ${P.rooms} rooms`,
      () => {
        const i = Math.floor(Math.random() * P.rooms);
        return rpc.call('rooms.post', { roomId: spreadIds[i], clientMsgId: `m${(++msgSeq).toString(36)}`, body, ...spread.owners[i] });
      },
      false,
    );
  }

  if (only.includes('conflict')) {
    const runCounted = async (label, op, concurrency = P.concurrency) => {
      const count = concurrency === 1 ? P.serialJoins : P.conflictJoins;
      log(`${label}: ${count} joins, ${concurrency} in flight`);
      const r = await closedLoop({ op, count, concurrency, pids, tap });
      log(
        `${label}: ${f0(r.commandsPerSec)} joins/s, p50/p99 ${f2(r.latencyMs.p50)}/${f2(r.latencyMs.p99)} ms, ` +
          `refused appends ${r.appends.refused} (${f2(r.appends.refusedPerCommand)}/join)${errText(r.errors)}`,
      );
      return r;
    };
    const joinSpread = () => rpc.call('rooms.join', { roomId: spreadIds[Math.floor(Math.random() * P.rooms)], ...newUser() });
    results.conflict = {};
    if (!only.includes('commands')) {
      // Part 1 warms the replica up otherwise.
      await closedLoop({ op: joinSpread, seconds: P.warmup || 1, warmup: 0 });
    }
    const joinHot = (roomId) => () => rpc.call('rooms.join', { roomId, ...newUser() });
    results.conflict.oneReplicaSerial = await runCounted('1 replica, join one hot room', joinHot('c1s-hot'), 1);
    results.conflict.oneReplicaHot = await runCounted('1 replica, join one hot room', joinHot('c1-hot'));
    results.conflict.oneReplicaSpread = await runCounted(`1 replica, join ${P.rooms} rooms`, joinSpread);

    log('starting a second rooms replica');
    const rooms2 = await startService({ name: 'rooms2', service: 'rooms', namespace: ns, natsUrl, logDir: RUN.logDir });
    cleanups.push(() => rooms2.stop());
    replicas.push(rooms2);
    // Its code is cold: a few seconds of spread joins (few collisions) before measuring.
    await closedLoop({ op: joinSpread, seconds: Math.max(2, P.warmup), warmup: 0 });
    results.conflict.twoReplicasSerial = await runCounted('2 replicas, join one hot room', joinHot('c2s-hot'), 1);
    results.conflict.twoReplicasHot = await runCounted('2 replicas, join one hot room', joinHot('c2-hot'));
    results.conflict.twoReplicasSpread = await runCounted(`2 replicas, join ${P.rooms} rooms`, joinSpread);
    results.conflict.micro = await microConflict();
  }
}

const errText = (errors) => (Object.keys(errors).length ? `, errors ${JSON.stringify(errors)}` : '');

/**
 * The adapter alone, no service: one append with the right expected sequence, against the
 * conflict path of the command handler: an append refused for a stale expected sequence, a read
 * of the subject's last sequence (the handler's catch-up asks the stream the same way), and the
 * append again. The handler also waits for its follower to apply the missed events, which this
 * leaves out (the two-replica runs above include it). Interleaved, so both see the same load.
 */
async function microConflict() {
  const ns = newNamespace('micro');
  const s = createSubjects(ns);
  const nc = await natsConnect(RUN.natsUrl, 'rooms-bench-micro');
  try {
    const js = new JetStreamAdapter(nc);
    await js.ensureStreams(streamSpecs(s));
    const stream = s.streams.chat.name;
    const subject = s.chat.roomMeta('micro');
    const event = (i) => ({
      id: crypto.randomUUID(),
      type: 'MemberJoined',
      version: 1,
      time: new Date().toISOString(),
      actor: { kind: 'user', id: crypto.randomUUID() },
      correlationId: crypto.randomUUID(),
      causationId: null,
      payload: { roomId: 'micro', userId: crypto.randomUUID(), username: `u${i}`, role: 'member' },
    });
    let last = (await js.append(subject, event(0), { msgId: crypto.randomUUID(), expectLastSubjectSequence: 0 })).seq;
    const clean = new Reservoir();
    const conflict = new Reservoir();
    const refusedOnly = new Reservoir();
    let unexpected = 0;
    const warm = Math.min(200, P.micro);
    log(`adapter micro measure: ${P.micro} + ${warm} warm-up iterations of each`);
    for (let i = 0; i < P.micro + warm; i++) {
      const counted = i >= warm;
      let t = now();
      const e = event(i);
      last = (await js.append(subject, e, { msgId: e.id, expectLastSubjectSequence: last })).seq;
      if (counted) clean.add(now() - t);

      const e2 = event(i);
      t = now();
      try {
        await js.append(subject, e2, { msgId: e2.id, expectLastSubjectSequence: last - 1 });
        unexpected++;
      } catch (err) {
        if (!(err instanceof AppendRefused && err.reason === 'wrong-last-sequence')) throw err;
      }
      const tRefused = now() - t;
      const latest = (await js.lastOnSubject(stream, subject)).seq;
      last = (await js.append(subject, e2, { msgId: e2.id, expectLastSubjectSequence: latest })).seq;
      if (counted) {
        conflict.add(now() - t);
        refusedOnly.add(tRefused);
      }
    }
    const pct = (r) => {
      const [p50, p99] = r.percentiles([50, 99]);
      return { p50, p99, samples: r.n };
    };
    const res = {
      iterations: P.micro,
      clean: pct(clean),
      oneConflict: pct(conflict),
      refusedAppend: pct(refusedOnly),
      unexpectedAccepts: unexpected,
    };
    log(
      `adapter: append p50/p99 ${f2(res.clean.p50)}/${f2(res.clean.p99)} ms; with one conflict ${f2(res.oneConflict.p50)}/${f2(res.oneConflict.p99)} ms (refused append alone ${f2(res.refusedAppend.p50)}/${f2(res.refusedAppend.p99)})`,
    );
    return res;
  } finally {
    await nc.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Part 3: memory per room

/**
 * Preloaded into the measured rooms process (NODE_OPTIONS --require): on SIGUSR2 it runs a full
 * GC and writes process.memoryUsage() to BENCH_MEM_FILE. --expose-gc is not allowed in
 * NODE_OPTIONS, hence the flag set at run time and gc() taken from a fresh context.
 */
const GC_PRELOAD = `'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');
const vm = require('node:vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
process.on('SIGUSR2', () => {
  gc();
  gc();
  fs.writeFileSync(process.env.BENCH_MEM_FILE, JSON.stringify(process.memoryUsage()));
});
`;

function vmRssBytes(pid) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : null;
}

/** Appends N rooms' events straight to the CHAT stream, many publishes in flight. */
async function prefill(natsUrl, s, n, joinsPerRoom) {
  const nc = await natsConnect(natsUrl, 'rooms-bench-prefill');
  try {
    await new JetStreamAdapter(nc).ensureStreams(streamSpecs(s));
    const js = jetstream(nc);
    const enc = new TextEncoder();
    const time = new Date().toISOString();
    const envelope = (type, actorId, payload) => ({
      id: crypto.randomUUID(),
      type,
      version: 1,
      time,
      actor: { kind: 'user', id: actorId },
      correlationId: crypto.randomUUID(),
      causationId: null,
      payload,
    });
    function* events() {
      for (let i = 0; i < n; i++) {
        const roomId = `m-${i}`;
        const owner = newUser();
        const subject = s.chat.roomMeta(roomId);
        yield [
          subject,
          envelope('RoomCreated', owner.userId, {
            roomId,
            name: `Room ${i}`,
            topic: '',
            visibility: 'public',
            postPolicy: 'members',
            memberLimit: Limits.memberLimitDefault,
            ownerId: owner.userId,
            ownerName: owner.username,
          }),
        ];
        for (let j = 0; j < joinsPerRoom; j++) {
          const u = j === 0 ? owner : newUser();
          yield [subject, envelope('MemberJoined', u.userId, { roomId, ...u, role: j === 0 ? 'owner' : 'member' })];
        }
      }
    }
    const it = events();
    const total = n * (1 + joinsPerRoom);
    let sent = 0;
    const t0 = now();
    const window = 1000;
    const worker = async () => {
      for (let next = it.next(); !next.done; next = it.next()) {
        const [subject, e] = next.value;
        await js.publish(subject, enc.encode(JSON.stringify(e)), { msgID: e.id });
        if (++sent % 50_000 === 0) log(`  ${sent.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} events appended`);
      }
    };
    await Promise.all(Array.from({ length: window }, worker));
    return { events: total, seconds: (now() - t0) / 1000 };
  } finally {
    await nc.close();
  }
}

/**
 * The floor under the rooms service's replay: the same ordered consumer (the adapter's follow,
 * same filter) in this process, with a handler that does nothing, until it has caught up.
 */
async function bareReplay(natsUrl, s) {
  const nc = await natsConnect(natsUrl, 'rooms-bench-replay');
  try {
    const js = new JetStreamAdapter(nc);
    let n = 0;
    const t0 = now();
    const f = await js.follow(s.streams.chat.name, s.chat.allRoomMeta, () => void n++);
    await f.caughtUp;
    const ms = now() - t0;
    await f.stop();
    return { ms, events: n, eventsPerSec: n / (ms / 1000) };
  } finally {
    await nc.close();
  }
}

async function memoryOf(label, namespace) {
  const memFile = path.join(RUN.logDir, `mem-${label}.json`);
  const preload = path.join(RUN.logDir, 'gc-preload.cjs');
  fs.writeFileSync(preload, GC_PRELOAD);
  const svc = await startService({
    name: `rooms-${label}`,
    service: 'rooms',
    namespace,
    natsUrl: RUN.natsUrl,
    logDir: RUN.logDir,
    env: { BENCH_MEM_FILE: memFile, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim() },
  });
  try {
    // Whatever start-up left behind (buffers, the replay's in-flight batches) settles first.
    await sleep(3000);
    const rssBeforeGc = vmRssBytes(svc.child.pid);
    fs.rmSync(memFile, { force: true });
    svc.child.kill('SIGUSR2');
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(memFile)) {
      if (Date.now() > deadline) throw new Error(`rooms-${label} did not report its memory`);
      await sleep(50);
    }
    await sleep(100); // the file is written in one call; let it land completely
    const mem = JSON.parse(fs.readFileSync(memFile, 'utf8'));
    const rss = vmRssBytes(svc.child.pid);
    return {
      readyMs: svc.readyMs,
      rssBeforeGc,
      rss,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
    };
  } finally {
    await svc.stop();
  }
}

async function memory(results) {
  const natsUrl = RUN.natsUrl;
  const emptyNs = newNamespace('mem0');
  log(`memory: rooms on an empty stream (namespace ${emptyNs})`);
  const empty = await memoryOf('empty', emptyNs);
  log(`  empty: ready in ${f0(empty.readyMs)} ms, RSS ${mib(empty.rss)} MiB, heap used ${mib(empty.heapUsed)} MiB`);

  const fullNs = newNamespace('mem');
  const s = createSubjects(fullNs);
  log(
    `memory: appending ${P.memoryRooms.toLocaleString('en-US')} rooms x (RoomCreated + ${P.joinsPerRoom} MemberJoined) to ${s.streams.chat.name}`,
  );
  const fill = await prefill(natsUrl, s, P.memoryRooms, P.joinsPerRoom);
  log(`  appended ${fill.events.toLocaleString('en-US')} events in ${fill.seconds.toFixed(1)} s`);
  const bare = await bareReplay(natsUrl, s);
  log(`  the same events read by a bare ordered consumer (JetStreamAdapter.follow, no fold): ${f0(bare.ms)} ms`);
  const full = await memoryOf('full', fullNs);
  log(
    `  ${P.memoryRooms.toLocaleString('en-US')} rooms: ready in ${f0(full.readyMs)} ms, RSS ${mib(full.rss)} MiB, heap used ${mib(full.heapUsed)} MiB`,
  );
  results.memory = {
    rooms: P.memoryRooms,
    eventsPerRoom: 1 + P.joinsPerRoom,
    membersPerRoom: P.joinsPerRoom > 0 ? P.joinsPerRoom : 1,
    prefill: fill,
    empty,
    full,
    rssBytesPerRoom: (full.rss - empty.rss) / P.memoryRooms,
    heapBytesPerRoom: (full.heapUsed - empty.heapUsed) / P.memoryRooms,
    replayMs: full.readyMs - empty.readyMs,
    bareReplay: bare,
    eventsReplayedPerSec: fill.events / ((full.readyMs - empty.readyMs) / 1000),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const mib = (b) => (b === null || b === undefined ? '-' : (b / 2 ** 20).toFixed(1));

function report(results, info, command, started) {
  console.log('');
  console.log(`Rooms benchmark — ${started.toISOString()}`);
  console.log(`command: ${command}`);
  console.log(
    `machine: ${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB RAM, ${info.os}, Node ${info.node}${info.natsVersion ? `, NATS ${info.natsVersion}` : ''}`,
  );
  console.log(`load average at start: ${info.loadavgAtStart.join(' ')}`);
  console.log('');
  // Requests answered per second (any outcome), and those that succeeded; latency of all of
  // them and of the successful ones alone.
  const row = (label, r, extra = []) => [
    label,
    f0(r.commandsPerSec),
    f0(r.okPerSec),
    f0(r.commands),
    `${f2(r.latencyMs.p50)} / ${f2(r.latencyMs.p99)}`,
    `${f2(r.okLatencyMs.p50)} / ${f2(r.okLatencyMs.p99)}`,
    ...extra,
    Object.entries(r.errors)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '-',
    cpuText(r.cpuPercent),
  ];
  const head = (first, extra = []) => [
    first,
    'answered/s',
    'ok/s',
    'requests',
    'p50 / p99 ms',
    'ok p50 / p99 ms',
    ...extra,
    'errors',
    'CPU % of one core',
  ];
  if (results.joinHot || results.create) {
    console.log(
      `Commands (${P.concurrency} in flight; ${P.warmup} s warm-up + ${P.seconds} s measured each, except create: ${P.rooms} rooms, no warm-up)`,
    );
    // Posts append to the message subject (no expected sequence): the tap sees only room meta subjects.
    const refused = (r) => [r.appends ? f2(r.appends.refusedPerCommand) : '-'];
    const rows = [];
    if (results.create) rows.push(row(`create (${P.rooms} rooms)`, results.create, ['-']));
    if (results.joinHot)
      rows.push(
        row(`join, one hot room (${f0(results.joinHot.roomMembersAfter)} members at the end)`, results.joinHot, refused(results.joinHot)),
      );
    if (results.joinSpread) rows.push(row(`join, ${P.rooms} rooms`, results.joinSpread, refused(results.joinSpread)));
    if (results.postHot) rows.push(row('post, one hot room', results.postHot, ['-']));
    if (results.postSpread) rows.push(row(`post, ${P.rooms} rooms`, results.postSpread, ['-']));
    console.log(renderTable(head('scenario', ['refused appends per request']), rows));
    console.log('');
  }
  const c = results.conflict;
  if (c) {
    console.log(
      `Optimistic concurrency: joins on a fresh room per row (${P.serialJoins} with 1 in flight, ${P.conflictJoins} with ${P.concurrency})`,
    );
    const crow = (label, r) => row(label, r, [f0(r.appends.attempts), f0(r.appends.refused), f2(r.appends.refusedPerCommand)]);
    console.log(
      renderTable(head('variant', ['appends', 'refused (stale seq)', 'refused per request']), [
        crow('1 replica, one hot room, 1 in flight', c.oneReplicaSerial),
        crow('2 replicas, one hot room, 1 in flight', c.twoReplicasSerial),
        crow(`1 replica, one hot room, ${P.concurrency} in flight`, c.oneReplicaHot),
        crow(`2 replicas, one hot room, ${P.concurrency} in flight`, c.twoReplicasHot),
        crow(`1 replica, ${P.rooms} rooms, ${P.concurrency} in flight`, c.oneReplicaSpread),
        crow(`2 replicas, ${P.rooms} rooms, ${P.concurrency} in flight`, c.twoReplicasSpread),
      ]),
    );
    const ratio = (a, b) => (a && b ? a / b : null);
    const cmp = (label, two, one) =>
      console.log(
        `${label}, 2 replicas / 1 replica: ok/s ${f2(ratio(two.okPerSec, one.okPerSec))} x, ok p50 ${f2(ratio(two.okLatencyMs.p50, one.okLatencyMs.p50))} x, ok p99 ${f2(ratio(two.okLatencyMs.p99, one.okLatencyMs.p99))} x`,
      );
    cmp('hot room, 1 in flight', c.twoReplicasSerial, c.oneReplicaSerial);
    cmp(`hot room, ${P.concurrency} in flight`, c.twoReplicasHot, c.oneReplicaHot);
    const m = c.micro;
    console.log('');
    console.log(`JetStream adapter alone (${m.iterations} sequential iterations, one in flight)`);
    console.log(
      renderTable(
        ['path', 'p50 ms', 'p99 ms'],
        [
          ['append, expected sequence right', f2(m.clean.p50), f2(m.clean.p99)],
          ['append refused (stale expected sequence)', f2(m.refusedAppend.p50), f2(m.refusedAppend.p99)],
          ['refused + read last sequence + append', f2(m.oneConflict.p50), f2(m.oneConflict.p99)],
        ],
      ),
    );
    console.log('');
  }
  const mem = results.memory;
  if (mem) {
    console.log(
      `Memory: one rooms process on an empty CHAT stream vs on ${mem.rooms.toLocaleString('en-US')} rooms (${mem.eventsPerRoom} events each: RoomCreated + ${mem.eventsPerRoom - 1} MemberJoined), after start-up, 3 s settling and a forced full GC`,
    );
    console.log(
      renderTable(
        ['stream', 'ready after ms', 'RSS MiB (before GC)', 'RSS MiB', 'V8 heap used MiB', 'external MiB'],
        [
          [
            'empty',
            f0(mem.empty.readyMs),
            mib(mem.empty.rssBeforeGc),
            mib(mem.empty.rss),
            mib(mem.empty.heapUsed),
            mib(mem.empty.external),
          ],
          [
            `${mem.rooms.toLocaleString('en-US')} rooms`,
            f0(mem.full.readyMs),
            mib(mem.full.rssBeforeGc),
            mib(mem.full.rss),
            mib(mem.full.heapUsed),
            mib(mem.full.external),
          ],
        ],
      ),
    );
    console.log(
      `per room: RSS ${f0(mem.rssBytesPerRoom)} bytes, V8 heap ${f0(mem.heapBytesPerRoom)} bytes; replay of ${mem.prefill.events.toLocaleString('en-US')} events: ${f0(mem.replayMs)} ms more than an empty start (${f0(mem.eventsReplayedPerSec)} events/s)`,
    );
    console.log(
      `the same events read by a bare ordered consumer in the load generator (adapter follow, handler does nothing): ${f0(mem.bareReplay.ms)} ms (${f0(mem.bareReplay.eventsPerSec)} events/s)`,
    );
    console.log('');
  }
  const others = [
    results.joinHot,
    results.joinSpread,
    results.postHot,
    results.postSpread,
    c?.oneReplicaSerial,
    c?.twoReplicasSerial,
    c?.oneReplicaHot,
    c?.twoReplicasHot,
    c?.oneReplicaSpread,
    c?.twoReplicasSpread,
  ]
    .filter(Boolean)
    .map((r) => r.cpuPercent?.other ?? 0);
  const maxOther = Math.max(0, ...others);
  if (maxOther >= 20)
    console.log(
      `WARNING: other processes used up to ${maxOther}% of a core during a measured window: the figures are skewed; re-run on a quiet machine.`,
    );
  else if (others.length) console.log(`nothing else used more than ${maxOther}% of a core during the measured windows.`);
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const started = new Date();
  const info = machineInfo();
  const command = `node bench/rooms.mjs ${process.argv.slice(2).join(' ')}`.trim();
  log(`${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB, Node ${info.node}, load average ${info.loadavgAtStart.join(' ')}`);
  RUN.natsUrl = await ensureNats(log);
  RUN.logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-bench-rooms-'));
  info.natsVersion = await natsVersion(RUN.natsUrl, 'rooms-bench-info');
  const results = {};
  if (only.includes('commands') || only.includes('conflict')) await commandsAndConflict(results);
  // The services of parts 1-2 are stopped and their streams deleted before memory is measured.
  await cleanupAll();
  resetCleanup();
  if (only.includes('memory')) await memory(results);

  report(results, info, command, started);
  const out = writeResult({
    out: opt.out,
    name: 'rooms',
    started,
    result: { date: started.toISOString(), command, machine: info, parameters: P, results },
  });
  console.log(`\nresult written to ${out} (service logs in ${RUN.logDir})`);
}

await run(main);
