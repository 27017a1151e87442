// Soak benchmark: the whole built stack (five services as processes, scripts/stack.cjs) on a fresh
// namespace and schema of the shared NATS and Postgres, under steady moderate load for
// `--minutes` (default 10): WebSocket clients (libs/client ChatClient) in rooms sending messages at
// a paced rate, typing, reacting, reading history pages, and a share of them dropping or closing
// their connection every minute and coming back with resume. It prints, per minute, the memory of
// every service process (RSS, and V8 heap used from its /metrics) and send-to-delivery latency,
// and at the end whether anything was lost, the memory slope and how steady p99 was. It asserts
// nothing, except that it exits 1 (and says so loudly) when messages were lost. See
// docs/reliability.md for a run's figures and how to read them.
//
//   npm run bench:soak                  (builds first)
//   node bench/soak.mjs --help
//
// What "nothing lost" means here: every member joined its room before the load starts and stays a
// member, and every client that goes away comes back with resume (or, when the gateway cannot
// resume it, reads the history it missed). So every acknowledged message must reach every member
// of its room — live, replayed by resume or read back — and be in the room's history exactly once.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import {
  cpuMeter,
  f0,
  f2,
  inBatches,
  intOption,
  joinRoom,
  killOwnChildren,
  latencyOf,
  lifecycle,
  log,
  machineInfo,
  now,
  procRss,
  registeredTokens,
  renderTable,
  Reservoir,
  scrapeMetrics,
  seededRandom,
  sleep,
  startBenchStack,
  writeResult,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const { ChatClient, wsUrlOf } = require('../libs/client/dist/index.js');

// ---------------------------------------------------------------------------------------------
// Options

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    clients: { type: 'string', default: '200' },
    rooms: { type: 'string', default: '20' },
    rate: { type: 'string', default: '2' },
    reconnect: { type: 'string', default: '10' },
    'max-outstanding': { type: 'string', default: '20' },
    'sample-seconds': { type: 'string', default: '5' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(`usage: node bench/soak.mjs [options]   (npm run bench:soak builds first)
  --minutes M          minutes of load (default 10)
  --clients N          WebSocket clients, one user each (default 200)
  --rooms R            rooms; the clients are spread evenly over them, one room each (default 20)
  --rate K             messages per second in each room (default 2); besides, per room, a reaction
                       every 4/K s, typing before a third of the messages, and a history page read
                       by some client every 2 s over all rooms
  --reconnect P        % of the clients that go away and come back with resume each minute
                       (default 10): half drop their socket (the client library reconnects on its
                       own), half close and reconnect as a new client after 2-10 s
  --max-outstanding O  a room with O messages not yet acknowledged skips a send (counted) instead of
                       queueing more (default 20): an overloaded stack shows as skipped sends, not
                       as an ever longer queue that would swell the services' memory
  --sample-seconds S   memory samples of every service every S seconds (default 5)
  --out FILE           JSON result (default bench/results/soak-<date>.json)`);
  process.exit(0);
}
const int = intOption(opt);
const P = {
  minutes: int('minutes', 1),
  clients: int('clients', 2),
  rooms: int('rooms', 1),
  rate: int('rate', 1),
  reconnectPct: int('reconnect', 0),
  maxOutstanding: int('max-outstanding', 1),
  sampleSeconds: int('sample-seconds', 1),
};
if (P.clients < 2 * P.rooms) throw new Error('--clients must be at least twice --rooms (two members per room)');
if (P.reconnectPct > 100) throw new Error('--reconnect is a percentage (0-100)');

const EMOJI = ['👍', '🎉', '😀', '❤️', '🚀', '👀'];
const rnd = seededRandom(11);

// ---------------------------------------------------------------------------------------------
// Per-minute figures

const MINUTE = 60_000;
const minutes = [];
/** The current minute's figures (minute 0 is the first of the load). */
function bucket(t = now()) {
  const m = Math.max(0, Math.min(P.minutes - 1, Math.floor((t - RUN.t0) / MINUTE)));
  while (minutes.length <= m)
    minutes.push({
      sent: 0,
      acked: 0,
      failed: 0,
      skipped: 0,
      live: 0, // deliveries on an open connection
      replayed: 0, // deliveries replayed by a resume (not had before)
      readBack: 0, // deliveries found by a history read after a reloadNeeded
      duplicates: 0, // the same message twice on one connection
      lat: new Reservoir(100_000),
      ack: new Reservoir(100_000),
      history: [], // history.page latencies (ms)
      historyFailed: 0,
      typingSent: 0,
      typingReceived: 0,
      reactions: 0,
      reactionsFailed: 0,
      drops: 0,
      closes: 0,
      resumed: 0,
      reloads: 0,
      mem: {}, // service -> [{ rss, heap }]
      cpu: null,
    });
  return minutes[m];
}

// ---------------------------------------------------------------------------------------------
// Clients: one user each, one room each. A user's client may be replaced (close and come back):
// what the user received is kept on the user, across its clients.

const RUN = { t0: 0, stopping: false, stack: null, wsUrl: null };
const messages = new Map(); // clientMsgId -> { room, sentAt, status, messageId, position, error }
let clientSeq = 0;

/**
 * A user's new client, resuming from `resumeFrom` when given. The WebSocket class is wrapped so
 * that the soak can drop the socket under the client (as a network drop would): the client
 * library then reconnects by itself, with resume.
 */
async function connectUser(u, resumeFrom) {
  const holder = { ws: null };
  class TrackedWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      holder.ws = this;
    }
  }
  const instance = ++clientSeq;
  u.live = false;
  const c = new ChatClient({
    url: RUN.wsUrl,
    WebSocket: TrackedWebSocket,
    token: u.token,
    eventHistory: 0,
    requestTimeoutMs: 30_000,
    ...(resumeFrom === null || resumeFrom === undefined ? {} : { resumeFrom }),
  });
  const state = { c, holder, instance };
  u.client = state;
  c.on('state', (s) => {
    if (s.state !== 'open' && u.client === state) u.live = false;
  });
  // `ready` comes after what a resume replayed: from then on, deliveries are live.
  c.on('ready', () => {
    if (u.client === state) u.live = true;
  });
  c.on('resumed', () => bucket().resumed++);
  c.on('reloadNeeded', () => {
    bucket().reloads++;
    u.needsReadBack = true;
  });
  c.on('message.posted', (m) => onPosted(u, state, m));
  c.on('typing', () => bucket().typingReceived++);
  const ready = new Promise((resolve, reject) => {
    const off = c.on('state', (s) => {
      if (s.state === 'open') {
        off();
        resolve();
      } else if (s.state === 'closed') {
        off();
        reject(s.error ?? new Error(`closed ${s.code} ${s.reason ?? ''}`));
      }
    });
  });
  c.open();
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('not open within 120 s')), 120_000)));
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
  if (u.needsReadBack) await readBack(u);
  return state;
}

function onPosted(u, state, m) {
  if (m.roomId !== u.room.roomId) return;
  const t = now();
  const b = bucket(t);
  const seen = u.received.get(m.clientMsgId);
  u.maxPosition = Math.max(u.maxPosition, m.position);
  if (seen !== undefined) {
    // The overlap of a resume sends again a few events the user had; the same connection twice is a duplicate.
    if (seen === state.instance && u.live && u.client === state) b.duplicates++;
    return;
  }
  u.received.set(m.clientMsgId, state.instance);
  const msg = messages.get(m.clientMsgId);
  if (u.live && u.client === state) {
    b.live++;
    u.lastLiveAt = t;
    if (msg) b.lat.add(t - msg.sentAt);
  } else b.replayed++;
}

/** After a reloadNeeded: the room's history newer than the newest message the user had. */
async function readBack(u) {
  u.needsReadBack = false;
  let after = u.maxPosition || undefined;
  for (;;) {
    const page = await u.client.c.request('history.page', { roomId: u.room.roomId, limit: 100, ...(after ? { after } : {}) });
    for (const m of page.messages) {
      if (!u.received.has(m.clientMsgId)) {
        u.received.set(m.clientMsgId, u.client.instance);
        bucket().readBack++;
      }
      u.maxPosition = Math.max(u.maxPosition, m.position);
    }
    if (page.nextAfter === null || !after) break;
    after = page.nextAfter;
  }
}

// ---------------------------------------------------------------------------------------------
// Load

const readyMember = (room) => {
  const live = room.members.filter((u) => u.live && !u.away);
  return live.length ? rnd.one(live) : null;
};

function sendOne(room) {
  const b = bucket();
  const u = readyMember(room);
  if (!u || room.outstanding >= P.maxOutstanding) return void b.skipped++;
  const c = u.client.c;
  if (rnd.rnd() < 1 / 3) {
    b.typingSent++;
    c.request('typing', { roomId: room.roomId, typing: true }).catch(() => undefined);
  }
  const clientMsgId = `k${(++RUN.seq).toString(36)}`;
  const body = `soak ${clientMsgId} ${Array.from({ length: rnd.rint(3, 9) }, rnd.latinWord).join(' ')}`;
  const msg = { room, clientMsgId, body, sentAt: now(), status: 'pending', messageId: null, position: null, error: null, tries: 0 };
  messages.set(clientMsgId, msg);
  b.sent++;
  room.outstanding++;
  attemptSend(u, msg);
}

/**
 * Sends (or sends again) a message from the user's current client. A send cut off by a dropped
 * connection may or may not have been stored: as a real client does, it is sent again with the
 * same clientMsgId once the user is back (the rooms service then answers with the stored
 * message, `duplicate: true`, rather than storing it twice).
 */
function attemptSend(u, msg) {
  msg.tries++;
  const { room, clientMsgId, body } = msg;
  u.client.c.request('message.send', { roomId: room.roomId, clientMsgId, body }).then(
    (ack) => {
      msg.status = 'acked';
      room.outstanding--;
      msg.messageId = ack.messageId;
      msg.position = ack.position;
      if (ack.duplicate) RUN.duplicateAcks++;
      room.recent.push(ack.messageId);
      if (room.recent.length > 50) room.recent.shift();
      const ab = bucket();
      ab.acked++;
      ab.ack.add(now() - msg.sentAt);
    },
    async (err) => {
      if (err?.code === 'UNAVAILABLE' && msg.tries < 3) {
        RUN.resends++;
        const deadline = now() + 60_000;
        while (!u.live && now() < deadline) await sleep(100);
        if (u.live) return attemptSend(u, msg);
      }
      msg.status = 'failed';
      room.outstanding--;
      msg.error = err?.code ?? String(err);
      bucket().failed++;
    },
  );
}

function reactOne(room) {
  const u = readyMember(room);
  if (!u || !room.recent.length) return;
  const messageId = rnd.one(room.recent);
  const emoji = rnd.one(EMOJI);
  const key = `${u.userId}:${messageId}:${emoji}`;
  if (RUN.reactions.has(key)) return;
  RUN.reactions.add(key);
  RUN.reactionsPending++;
  u.client.c
    .request('reaction.add', { roomId: room.roomId, messageId, emoji })
    .then(
      () => {
        RUN.reactionsAcked++;
        bucket().reactions++;
      },
      (err) => {
        bucket().reactionsFailed++;
        RUN.reactionErrors[err?.code ?? String(err)] = (RUN.reactionErrors[err?.code ?? String(err)] ?? 0) + 1;
      },
    )
    .finally(() => RUN.reactionsPending--);
}

function readHistory() {
  const room = rnd.one(RUN.rooms);
  const u = readyMember(room);
  if (!u) return;
  const t = now();
  u.client.c.request('history.page', { roomId: room.roomId, limit: 50 }).then(
    () => bucket().history.push(now() - t),
    () => bucket().historyFailed++,
  );
}

/** One user goes away and comes back: its socket dropped under the client, or the client closed and a new one resumes. */
async function reconnectOne(u, kind) {
  const b = bucket();
  const t = now();
  const rec = { user: u.username, kind, at: t, backMs: null, error: null };
  RUN.reconnects.push(rec);
  u.lastReconnect = rec;
  u.away = true;
  try {
    if (kind === 'drop') {
      b.drops++;
      const state = u.client;
      u.live = false;
      state.holder.ws?.terminate();
      // The client library reconnects after its back-off and resumes; `ready` marks it live again.
      const deadline = now() + 120_000;
      while (!(u.live && u.client === state) && now() < deadline) await sleep(100);
      if (!u.live) throw new Error(`not back within 120 s (client state ${state.c.state})`);
      if (u.needsReadBack) await readBack(u);
    } else {
      b.closes++;
      const old = u.client;
      u.live = false;
      await old.c.close();
      await sleep(rnd.rint(2000, 10_000));
      await connectUser(u, old.c.position);
    }
    rec.backMs = now() - t;
  } catch (err) {
    rec.error = err?.message ?? String(err);
    log(`reconnect of ${u.username} (${kind}) failed: ${rec.error}`);
    RUN.reconnectFailures++;
  } finally {
    u.away = false;
  }
}

/** Memory of every service: RSS and V8 heap used from its /metrics (RSS from /proc when /metrics does not answer). */
async function sampleMemory() {
  const b = bucket();
  watchExits();
  await Promise.all(
    [...RUN.stack.procs].map(async ([name, p]) => {
      let rss = null;
      let heap = null;
      try {
        const m = await scrapeMetrics(RUN.stack.urls[name], 4000);
        rss = m.process_resident_memory_bytes ?? null;
        heap = m.nodejs_heap_size_used_bytes ?? null;
      } catch {}
      rss ??= procRss(p.child.pid);
      (b.mem[name] ??= []).push({ rss, heap });
    }),
  );
}

/** A service process that exited during the run is said at once, loudly, with the end of its log. */
function watchExits() {
  for (const [name, p] of RUN.stack.procs) {
    if (!p.exited || RUN.exits.some((x) => x.name === name)) continue;
    const minute = Math.floor((now() - RUN.t0) / MINUTE) + 1;
    RUN.exits.push({ name, minute, ...p.exited });
    log(`!!! SERVICE EXITED: ${name} (${JSON.stringify(p.exited)}) during minute ${minute}; the end of its log:`);
    try {
      const text = fs.readFileSync(path.join(RUN.logDir, `${name}.log`), 'utf8');
      for (const line of text.trimEnd().split('\n').slice(-12)) console.log(`      ${line.slice(0, 300)}`);
    } catch {}
  }
}

// ---------------------------------------------------------------------------------------------
// Checks at the end

/** Expected (user, message) pairs not received: every acknowledged message, every member of its room. */
function missingDeliveries() {
  const missing = [];
  for (const [clientMsgId, msg] of messages) {
    if (msg.status !== 'acked') continue;
    for (const u of msg.room.members) if (!u.received.has(clientMsgId)) missing.push({ user: u.username, clientMsgId });
  }
  return missing;
}

/** Every room's whole history: each acknowledged message in it exactly once; what else is there. */
async function historyCheck() {
  const res = { rooms: 0, stored: 0, missing: [], duplicated: [], notAcked: 0, reactionsStored: 0, unreadable: [] };
  for (const room of RUN.rooms) {
    try {
      await checkRoomHistory(room, res);
    } catch (err) {
      res.unreadable.push({ roomId: room.roomId, error: err?.code ?? String(err) });
      for (const [clientMsgId, msg] of messages) if (msg.room === room && msg.status === 'acked') res.missing.push(clientMsgId);
    }
  }
  return res;
}

/** One room's whole history, newest first, page by page, into `res`. */
async function checkRoomHistory(room, res) {
  const u = room.members.find((m) => m.live) ?? room.members[0];
  const counts = new Map();
  let before;
  for (;;) {
    const page = await u.client.c.request('history.page', { roomId: room.roomId, limit: 100, ...(before ? { before } : {}) });
    for (const m of page.messages) {
      counts.set(m.clientMsgId, (counts.get(m.clientMsgId) ?? 0) + 1);
      for (const r of m.reactions) res.reactionsStored += r.count;
    }
    if (page.nextBefore === null) break;
    before = page.nextBefore;
  }
  res.rooms++;
  for (const [clientMsgId, n] of counts) {
    res.stored += n;
    const msg = messages.get(clientMsgId);
    if (n > 1) res.duplicated.push({ clientMsgId, times: n });
    if (!msg || msg.status !== 'acked') res.notAcked++;
  }
  for (const [clientMsgId, msg] of messages)
    if (msg.room === room && msg.status === 'acked' && !counts.has(clientMsgId)) res.missing.push(clientMsgId);
}

// ---------------------------------------------------------------------------------------------
// Main

const { cleanups, interrupted, run } = lifecycle({ finally_: async () => killOwnChildren() });

async function main() {
  const started = new Date();
  const info = machineInfo();
  const command = `node bench/soak.mjs ${process.argv.slice(2).join(' ')}`.trim();
  log(`${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB, ${info.os}, Node ${info.node}, load average ${info.loadavgAtStart.join(' ')}`);

  const { stack, runId } = await startBenchStack({
    name: 'soak-bench',
    cleanups,
    info,
    // Tokens must outlive the run (the default lifetime is 15 minutes).
    serviceEnv: { gateway: { ACCESS_TOKEN_TTL_S: String(24 * 3600) } },
  });
  RUN.stack = stack;
  RUN.logDir = info.stackLogs;
  RUN.exits = [];
  RUN.wsUrl = wsUrlOf(stack.urls.gateway);
  RUN.seq = 0;
  RUN.reactions = new Set();
  RUN.reconnectFailures = 0;
  RUN.resends = 0;
  RUN.reconnects = [];
  RUN.reactionsPending = 0;
  RUN.reactionsAcked = 0;
  RUN.reactionErrors = {};
  RUN.duplicateAcks = 0;

  // Users, rooms, clients.
  const t1 = now();
  const password = crypto.randomBytes(12).toString('base64url');
  const usernames = Array.from({ length: P.clients }, (_, i) => `s${runId}_${i}`);
  const tokens = await registeredTokens(stack.urls.gateway, usernames, password);
  RUN.rooms = Array.from({ length: P.rooms }, (_, i) => ({ roomId: `soak-${runId}-${i}`, members: [], recent: [], outstanding: 0 }));
  const users = usernames.map((username, i) => ({
    username,
    token: tokens[i],
    userId: null,
    room: RUN.rooms[i % P.rooms],
    client: null,
    live: false,
    away: false,
    needsReadBack: false,
    received: new Map(), // clientMsgId -> the client instance that got it first
    maxPosition: 0,
  }));
  await inBatches(users, 10, async (u) => {
    await connectUser(u);
    u.userId = u.client.c.user.userId;
  });
  // The first member of each room creates it, the others join (a few at a time: joins of one room conflict).
  for (const room of RUN.rooms) {
    const members = users.filter((u) => u.room === room);
    await members[0].client.c.request('room.create', {
      roomId: room.roomId,
      name: `Soak ${room.roomId}`,
      memberLimit: members.length + 10,
    });
    await inBatches(members.slice(1), 4, (u) => joinRoom(u.client.c, room.roomId));
    room.members = members;
  }
  log(`${P.clients} users registered, connected and in ${P.rooms} rooms in ${((now() - t1) / 1000).toFixed(1)} s`);

  // Load.
  RUN.t0 = now();
  info.loadavgAtLoadStart = os.loadavg().map((x) => Number(x.toFixed(2)));
  const pids = () => Object.fromEntries([...stack.procs].map(([n, p]) => [n, [p.child.pid]]));
  let meter = cpuMeter(pids);
  const timers = [];
  const reconnecting = new Set();
  const every = (ms, fn) => timers.push(setInterval(() => !interrupted() && !RUN.stopping && fn(), ms));

  // Messages: paced open loop, the rooms in turn.
  let due = 0;
  const msgsPerSec = P.rate * P.rooms;
  every(20, () => {
    const dueNow = Math.floor(((now() - RUN.t0) * msgsPerSec) / 1000);
    while (due < dueNow) sendOne(RUN.rooms[due++ % P.rooms]);
  });
  every(Math.round(4000 / (P.rate * P.rooms)), () => reactOne(rnd.one(RUN.rooms)));
  every(2000, readHistory);
  every(P.sampleSeconds * 1000, () => void sampleMemory());
  // Reconnects: each minute, the share of the clients at random moments of the minute.
  const scheduleReconnects = () => {
    const n = Math.round((P.clients * P.reconnectPct) / 100);
    const pick = rnd.shuffle(users.filter((u) => !u.away)).slice(0, n);
    pick.forEach((u, i) =>
      timers.push(
        setTimeout(
          () => {
            if (RUN.stopping || interrupted()) return;
            const p = reconnectOne(u, i % 2 ? 'close' : 'drop');
            reconnecting.add(p);
            void p.finally(() => reconnecting.delete(p));
          },
          rnd.rint(0, MINUTE - 15_000),
        ),
      ),
    );
  };
  scheduleReconnects();
  void sampleMemory();

  const rows = [];
  for (let m = 0; m < P.minutes && !interrupted(); m++) {
    const end = RUN.t0 + (m + 1) * MINUTE;
    while (now() < end - 50 && !interrupted()) await sleep(Math.min(1000, end - now()));
    if (interrupted()) break;
    const b = bucket(end - 1);
    b.cpu = meter();
    meter = cpuMeter(pids);
    b.loadavg = os.loadavg()[0];
    if (m + 1 < P.minutes) scheduleReconnects();
    const row = minuteRow(m, b);
    rows.push(row);
    log(
      `minute ${m + 1}: sent ${row.sent}, acked ${row.acked}, failed ${row.failed}, delivered ${row.live} live + ${row.replayed} by resume, ` +
        `p50 ${f0(row.p50)} ms, p99 ${f0(row.p99)} ms, reconnects ${row.reconnects}; ` +
        Object.entries(row.mem)
          .map(([n, x]) => `${n} ${mb(x.rss)}/${mb(x.heap)} MB`)
          .join(', '),
    );
  }
  RUN.stopping = true;
  watchExits();
  for (const t of timers) clearTimeout(t); // clears intervals too
  info.loadavgAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));

  // Drain: what was sent gets acknowledged, reconnecting clients come back, the deliveries arrive.
  log('load stopped: waiting for the last acks, reconnects and deliveries');
  const pending = () => [...messages.values()].filter((x) => x.status === 'pending').length;
  const drainStart = now();
  while ((pending() || RUN.reactionsPending || reconnecting.size) && now() - drainStart < 120_000) await sleep(250);
  const gone = users.filter((u) => !u.live && !u.away);
  if (gone.length) log(`${gone.length} clients are not connected at the end: connecting them again (resume)`);
  await inBatches(gone, 10, async (u) => {
    await u.client.c.close().catch(() => undefined);
    await connectUser(u, u.client.c.position).catch((e) => log(`${u.username} could not connect again: ${e.message}`));
  });
  let missing = missingDeliveries();
  let last = -1;
  let still = 0;
  while (missing.length && now() - drainStart < 180_000) {
    await sleep(500);
    missing = missingDeliveries();
    if (missing.length === last) {
      if (++still >= 20) break; // 10 s without progress: what is missing is lost
    } else still = 0;
    last = missing.length;
  }

  // History: the projection may lag; read until every room is complete or 60 s have passed.
  let history;
  const histStart = now();
  for (;;) {
    history = await historyCheck();
    if (!history.missing.length || now() - histStart > 60_000) break;
    await sleep(2000);
  }

  report({ started, command, info, rows, missing, history, users });
}

// ---------------------------------------------------------------------------------------------
// Report

const mb = (b) => (b === null || b === undefined ? '-' : (b / 2 ** 20).toFixed(0));
const countBy = (xs) => xs.reduce((o, x) => ((o[x] = (o[x] ?? 0) + 1), o), {});
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

function minuteRow(m, b) {
  const [p50, p99, max] = b.lat.percentiles([50, 99, 100]);
  const [ack50, ack99] = b.ack.percentiles([50, 99]);
  const hist = latencyOf(b.history);
  const mem = {};
  for (const [name, samples] of Object.entries(b.mem))
    mem[name] = {
      rss: mean(samples.map((s) => s.rss).filter((x) => x !== null)),
      heap: mean(samples.map((s) => s.heap).filter((x) => x !== null)),
    };
  return {
    minute: m + 1,
    sent: b.sent,
    acked: b.acked,
    failed: b.failed,
    skipped: b.skipped,
    live: b.live,
    replayed: b.replayed,
    readBack: b.readBack,
    duplicates: b.duplicates,
    p50,
    p99,
    max,
    ack50,
    ack99,
    historyReads: hist.n,
    historyP99: hist.p99,
    historyFailed: b.historyFailed,
    typingSent: b.typingSent,
    typingReceived: b.typingReceived,
    reactions: b.reactions,
    reactionsFailed: b.reactionsFailed,
    reconnects: b.drops + b.closes,
    drops: b.drops,
    closes: b.closes,
    resumed: b.resumed,
    reloads: b.reloads,
    cpu: b.cpu,
    loadavg1: b.loadavg,
    mem,
  };
}

/** Least-squares slope of ys over xs (per unit of x), or null with fewer than two points. */
function slope(xs, ys) {
  const pts = xs.map((x, i) => [x, ys[i]]).filter(([, y]) => y !== null && y !== undefined);
  if (pts.length < 2) return null;
  const mx = mean(pts.map((p) => p[0]));
  const my = mean(pts.map((p) => p[1]));
  const num = pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = pts.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den ? num / den : null;
}

function report({ started, command, info, rows, missing, history, users }) {
  const services = [...RUN.stack.procs.keys()];
  // Totals from the minutes' figures as they are now: the last minute's also has what came while draining.
  const totals = {};
  for (const b of minutes)
    for (const k of [
      'sent',
      'acked',
      'failed',
      'skipped',
      'live',
      'replayed',
      'readBack',
      'duplicates',
      'drops',
      'closes',
      'resumed',
      'reloads',
    ])
      totals[k] = (totals[k] ?? 0) + b[k];
  totals.reconnects = totals.drops + totals.closes;
  const acked = [...messages.values()].filter((x) => x.status === 'acked').length;
  const failed = [...messages.values()].filter((x) => x.status === 'failed');
  const expected = [...messages.values()].filter((x) => x.status === 'acked').reduce((a, x) => a + x.room.members.length, 0);

  console.log('');
  console.log(`Soak benchmark — ${started.toISOString()}`);
  console.log(`command: ${command}`);
  console.log(
    `machine: ${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB RAM, ${info.os}, Node ${info.node}` +
      (info.natsVersion ? `, NATS ${info.natsVersion}` : '') +
      (info.postgresVersion ? `, PostgreSQL ${info.postgresVersion}` : ''),
  );
  console.log(
    `load average (1/5/15 min): at start ${info.loadavgAtStart.join(' ')}, load start ${info.loadavgAtLoadStart.join(' ')}, end ${info.loadavgAtEnd.join(' ')}`,
  );
  console.log(
    `load: ${P.clients} clients in ${P.rooms} rooms (${P.clients / P.rooms} each), ${P.rate} msg/s per room (${P.rate * P.rooms} msg/s), ` +
      `reactions ${f2(P.rate / 4)}/s per room, typing before 1/3 of the messages, a history page every 2 s, ${P.reconnectPct}% of the clients reconnecting per minute (half dropped, half closed and resumed)`,
  );
  console.log('');
  console.log(
    renderTable(
      [
        'min',
        'sent',
        'acked',
        'failed',
        'delivered live',
        'by resume',
        'p50 ms',
        'p99 ms',
        'max ms',
        'ack p99 ms',
        'history p99 ms',
        'reconnects',
        'CPU % machine / other',
        'load 1m',
      ],
      rows.map((r) => [
        r.minute,
        f0(r.sent),
        f0(r.acked),
        f0(r.failed),
        f0(r.live),
        f0(r.replayed + r.readBack),
        f0(r.p50),
        f0(r.p99),
        f0(r.max),
        f0(r.ack99),
        f0(r.historyP99),
        `${r.reconnects} (${r.resumed} resumed, ${r.reloads} reload)`,
        `${r.cpu?.machineBusy ?? '-'} / ${r.cpu?.other ?? '-'}`,
        f2(r.loadavg1),
      ]),
    ),
  );
  console.log('');
  console.log('Memory per service and minute (mean of the samples): RSS / V8 heap used, MB; CPU % of one core');
  console.log(
    renderTable(
      ['min', ...services],
      rows.map((r) => [r.minute, ...services.map((s) => `${mb(r.mem[s]?.rss)} / ${mb(r.mem[s]?.heap)} (${r.cpu?.groups?.[s] ?? '-'}%)`)]),
    ),
  );

  // Memory slope: first vs last minute, and least squares over the minutes after the first (warm-up).
  const memory = {};
  for (const s of services) {
    const xs = rows.map((r) => r.minute);
    const rss = rows.map((r) => r.mem[s]?.rss ?? null);
    const heap = rows.map((r) => r.mem[s]?.heap ?? null);
    memory[s] = {
      rssFirst: rss[0],
      rssLast: rss[rss.length - 1],
      heapFirst: heap[0],
      heapLast: heap[heap.length - 1],
      rssSlopePerMin: slope(xs.slice(1), rss.slice(1)),
      heapSlopePerMin: slope(xs.slice(1), heap.slice(1)),
    };
  }
  console.log('');
  console.log('Memory slope: first minute -> last minute, and the least-squares slope over minutes 2..N (MB/min)');
  console.log(
    renderTable(
      ['service', 'RSS first', 'RSS last', 'RSS Δ', 'RSS MB/min', 'heap first', 'heap last', 'heap Δ', 'heap MB/min'],
      services.map((s) => {
        const x = memory[s];
        const d = (a, b) => (a === null || b === null ? '-' : `${b >= a ? '+' : ''}${((b - a) / 2 ** 20).toFixed(1)}`);
        const sl = (v) => (v === null ? '-' : (v / 2 ** 20).toFixed(2));
        return [
          s,
          mb(x.rssFirst),
          mb(x.rssLast),
          d(x.rssFirst, x.rssLast),
          sl(x.rssSlopePerMin),
          mb(x.heapFirst),
          mb(x.heapLast),
          d(x.heapFirst, x.heapLast),
          sl(x.heapSlopePerMin),
        ];
      }),
    ),
  );

  const p99s = rows.map((r) => r.p99).filter((x) => x !== null);
  const sorted = [...p99s].sort((a, b) => a - b);
  const steadiness = p99s.length
    ? {
        min: sorted[0],
        median: sorted[Math.floor(sorted.length / 2)],
        max: sorted[sorted.length - 1],
        firstToLast: p99s[p99s.length - 1] / p99s[0],
      }
    : null;
  console.log('');
  if (steadiness)
    console.log(
      `p99 steadiness: per-minute p99 from ${f0(steadiness.min)} to ${f0(steadiness.max)} ms (median ${f0(steadiness.median)}); last/first minute ${f2(steadiness.firstToLast)}`,
    );
  console.log(
    `messages: ${f0(totals.sent)} sent, ${f0(acked)} acknowledged, ${f0(failed.length)} failed${
      failed.length
        ? ` (${Object.entries(countBy(failed.map((x) => x.error)))
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')})`
        : ''
    }, ${f0(totals.skipped)} skipped (no member connected, or ${P.maxOutstanding} of the room's messages not yet acknowledged)`,
  );
  console.log(
    `deliveries: ${f0(expected)} expected (acknowledged x members), ${f0(expected - missing.length)} received: ${f0(totals.live)} live, ${f0(totals.replayed)} replayed by resume, ${f0(totals.readBack)} read back after a reload; ${f0(totals.duplicates)} duplicates on one connection`,
  );
  console.log(
    `reconnects: ${f0(totals.reconnects)} (${f0(totals.drops)} dropped, ${f0(totals.closes)} closed; ${f0(totals.resumed)} resumed, ${f0(totals.reloads)} reloadNeeded, ${RUN.reconnectFailures} failed); ${f0(RUN.resends)} sends cut off and sent again, ${f0(RUN.duplicateAcks)} of them answered as duplicates (already stored)`,
  );
  console.log(
    `history: ${history.rooms} rooms read whole: ${f0(history.stored)} messages stored, ${history.missing.length} acknowledged missing, ${history.duplicated.length} stored more than once, ${history.notAcked} stored but not acknowledged; reactions stored ${f0(history.reactionsStored)} (acknowledged ${f0(RUN.reactionsAcked)}, failed ${f0(minutes.reduce((a, b) => a + b.reactionsFailed, 0))}${
      Object.keys(RUN.reactionErrors).length
        ? `: ${Object.entries(RUN.reactionErrors)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}`
        : ''
    })`,
  );
  const back = RUN.reconnects.filter((r) => r.backMs !== null).map((r) => r.backMs);
  const backLat = latencyOf(back);
  console.log(
    `reconnect outcomes: ${back.length} of ${RUN.reconnects.length} came back (time to back p50 ${f0(backLat.p50)} ms, p99 ${f0(backLat.p99)} ms, max ${f0(backLat.max)} ms); ${RUN.reconnects.filter((r) => r.error).length} did not: ${[...new Set(RUN.reconnects.filter((r) => r.error).map((r) => `${r.kind}: ${r.error}`))].slice(0, 5).join('; ')}`,
  );
  if (missing.length) {
    const byUser = countBy(missing.map((x) => x.user));
    const who = users.filter((u) => byUser[u.username]);
    const mins = (t) => (t ? `${((t - RUN.t0) / MINUTE).toFixed(1)}` : '-');
    console.log(`missing deliveries by user: ${who.length} users miss some; the first ones:`);
    for (const u of who.slice(0, 12))
      console.log(
        `  ${u.username}: ${byUser[u.username]} missing; last live delivery at minute ${mins(u.lastLiveAt)}; last reconnect ${u.lastReconnect ? `${u.lastReconnect.kind} at minute ${mins(u.lastReconnect.at)}, ${u.lastReconnect.backMs === null ? `not back (${u.lastReconnect.error})` : `back after ${f0(u.lastReconnect.backMs)} ms`}` : 'none'}; now ${u.client.c.state}${u.live ? ', live' : ''}`,
      );
  }
  if (history.unreadable.length)
    console.log(
      `history unreadable in ${history.unreadable.length} rooms: ${[...new Set(history.unreadable.map((x) => x.error))].join(', ')}`,
    );
  if (RUN.exits.length) {
    console.log('');
    for (const x of RUN.exits)
      console.log(
        `!!! SERVICE EXITED during the run: ${x.name} in minute ${x.minute} (code ${x.code}, signal ${x.signal}); its log: ${info.stackLogs}/${x.name}.log`,
      );
    process.exitCode = 1;
  }
  const lost = missing.length + history.missing.length + history.duplicated.length;
  if (lost) {
    console.log('');
    console.log('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    console.log(
      `!!! MESSAGES LOST: ${missing.length} (member, message) deliveries never arrived, ${history.missing.length} acknowledged messages not in history, ${history.duplicated.length} in history more than once`,
    );
    for (const x of missing.slice(0, 10)) console.log(`!!!   not delivered: ${x.clientMsgId} to ${x.user}`);
    for (const x of history.missing.slice(0, 10)) console.log(`!!!   not in history: ${x}`);
    for (const x of history.duplicated.slice(0, 10)) console.log(`!!!   in history ${x.times} times: ${x.clientMsgId}`);
    console.log('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    process.exitCode = 1;
  } else console.log('nothing lost: every acknowledged message reached every member of its room and is in history once');
  console.log(
    `notes: the load generator (all ${P.clients} clients, one Node process) shares the ${info.cpus} CPU(s) with the stack; "other" CPU is everything else on the machine (other users of a shared machine), in % of one core.`,
  );
  console.log(`       service logs: ${info.stackLogs}`);

  const out = writeResult({
    out: opt.out,
    name: 'soak',
    started,
    result: {
      date: started.toISOString(),
      command,
      machine: info,
      parameters: P,
      minutes: rows,
      memory,
      steadiness,
      messages: { sent: totals.sent, acked, failed: failed.length, skipped: totals.skipped },
      deliveries: { expected, missing: missing.length, ...totals },
      history: { ...history, missing: history.missing.length, duplicated: history.duplicated.length },
      users: users.length,
      serviceExits: RUN.exits,
      reconnects: RUN.reconnects.map((r) => ({ ...r, at: r.at - RUN.t0 })),
      lost,
    },
  });
  console.log(`\nresult written to ${out}`);
}

await run(main);
