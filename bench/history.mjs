// History benchmark (issue 7). Each figure is printed beside its baseline, measured in the same
// run on the same machine. It prints figures; it asserts nothing. See docs/benchmarks.md,
// section "History (issue 7)".
//
//   npm run bench:history               (builds first)
//   node bench/history.mjs --help
//
// Four parts, each on its own random NATS namespace and Postgres schemas, deleted afterwards:
//  1. projection: N MessagePosted (v2) events over R rooms (RoomCreated + the owner's
//     MemberJoined first, so the posting rule accepts every post) appended to the CHAT stream;
//     then the built history service starts on a fresh schema and is timed until its checkpoint
//     reaches the last position. Baseline: the same rows written by plain batched multi-row
//     INSERTs (one statement and transaction per batch, the service's batch size) into the
//     `messages` table of another fresh schema migrated the same way (same indexes).
//  2. pages: one room with M messages (default 10 million) in its table. The room is created
//     through the stream (the whole stack runs; a registered user creates it over the gateway)
//     and the history projector projects it; the M rows are then bulk-loaded with COPY at
//     positions far above the stream's (position is unique). Newest and deepest page, one call
//     in flight: (a) the history.page RPC over NATS, (b) history.page over the gateway's
//     WebSocket, (c) the keyset SQL directly, against (d) OFFSET paging at the same depths.
//  3. search on the same table: Latin word and phrase, Chinese two-character word and
//     four-character phrase, Japanese, a rare and a common term; the history.search RPC and its
//     tsquery SQL directly, against `body LIKE '%kw%'` and ILIKE, newest first, LIMIT 20.
//  4. rebuild: E events (default 10 million) appended to a fresh stream, replayed into a fresh
//     schema by apps/history/dist/rebuild.js; baseline: the same stream read by a bare ordered
//     consumer that does nothing (the floor under any replay).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BULK_BASE,
  bulkLoadMessages,
  CLK_TCK,
  cpuMeter,
  deleteNamespace,
  dropSchema,
  f0,
  f2,
  freePort,
  intOption,
  latencyOf,
  lifecycle,
  log,
  machineInfo,
  messageColumns,
  natsConnect,
  natsVersion,
  now,
  onlyOption,
  pidsByName,
  postgresVersion,
  procTicks,
  publishWindowed,
  renderTable,
  sleep,
  writeResult,
  BENCH_MODERATION_ENV,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const { ensureNats, ensurePostgres } = require('../scripts/infra.cjs');
const { SERVICES, startStack } = require('../scripts/stack.cjs');

// ---------------------------------------------------------------------------------------------
// Options

const { values: opt } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rooms: { type: 'string', default: '50' },
    messages: { type: 'string', default: '10000000' },
    'page-calls': { type: 'string', default: '1000' },
    'offset-calls': { type: 'string', default: '20' },
    'search-calls': { type: 'string', default: '200' },
    'like-calls': { type: 'string', default: '10' },
    'budget-seconds': { type: 'string', default: '20' },
    'rebuild-events': { type: 'string', default: '10000000' },
    window: { type: 'string', default: '1000' },
    only: { type: 'string' },
    'keep-dataset': { type: 'string' },
    dataset: { type: 'string' },
    'prepare-stream': { type: 'string' },
    stream: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(`usage: node bench/history.mjs [options]   (npm run bench:history builds first)
  --events N           MessagePosted events of the projection part (default 200000)
  --rooms R            rooms those events are spread over (default 50)
  --messages M         rows of the one room of the page and search parts (default 10000000)
  --page-calls C       calls per page variant, one in flight (default 1000)
  --offset-calls C     calls per OFFSET variant (default 20; the deep one takes seconds)
  --search-calls C     calls per query for the search RPC and its SQL (default 200)
  --like-calls C       calls per query for LIKE and ILIKE (default 10)
  --budget-seconds S   a variant stops after S seconds even with fewer calls (at least 3 are made, 2 for LIKE) (default 20)
  --rebuild-events E   MessagePosted events replayed by the rebuild part (default 10000000)
  --window W           publishes in flight while appending events (default 1000)
  --only LIST          comma-separated parts: projection, pages, search, rebuild (default all)
  --keep-dataset FILE  keep the namespace and schema of the pages/search data set and describe them in FILE
  --dataset FILE       reuse a data set kept with --keep-dataset (skips the bulk load; not deleted afterwards)
  --prepare-stream FILE  only append the rebuild part's events to a namespace that is kept, described in FILE
  --stream FILE        the rebuild part replays the events of a --prepare-stream namespace (not deleted afterwards)
  --out FILE           JSON result (default bench/results/history-<date>.json)`);
  process.exit(0);
}
const int = intOption(opt);
const P = {
  events: int('events', 1),
  rooms: int('rooms', 1),
  messages: int('messages', 100),
  pageCalls: int('page-calls', 1),
  offsetCalls: int('offset-calls', 1),
  searchCalls: int('search-calls', 1),
  likeCalls: int('like-calls', 1),
  budgetSeconds: int('budget-seconds', 1),
  rebuildEvents: int('rebuild-events', 1),
  window: int('window', 1),
};
const PARTS = ['projection', 'pages', 'search', 'rebuild'];
const only = onlyOption(opt.only, PARTS);

const { createSubjects } = require('../libs/contracts/dist/index.js');
const { JetStreamAdapter, RpcClient, streamSpecs } = require('../libs/messaging/dist/index.js');
const { jetstream } = require('@nats-io/jetstream');
const historyDist = path.join(root, 'apps', 'history', 'dist');
// The real tokenizer, so the indexed text and the search measured are the service's own.
const { searchVector } = require(path.join(historyDist, 'search', 'tokenize.js'));
/** The search part's query parser, when the search work has one: the SQL measured directly then uses its tsquery. */
const searchQuery = (() => {
  try {
    return require(path.join(historyDist, 'search', 'query.js'));
  } catch {
    return null;
  }
})();
/** The batch size the service uses by default: the baseline INSERTs use the same. */
const serviceBatch = (() => {
  require('reflect-metadata');
  const { HistoryConfig } = require(path.join(historyDist, 'config.js'));
  return new HistoryConfig().PROJECTION_BATCH;
})();

// ---------------------------------------------------------------------------------------------
// Message bodies: Chinese sentences (no spaces), English, Japanese, mixed. Each word slot takes
// a function word (a short, very common list: `the`, `我们`, …: in 20-40 % of messages), a topic
// word (~80 per language, each in roughly 0.5-2 % of messages: `deploy`, `部署`, …), or a
// long-tail word from a generated lexicon of ~20,000 per language (most of them rare), and
// a rare term is added to about 1 message in 100,000. Seeded: every run writes the same text.

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = (s) => s.split(' ');
const LEX = {
  zh: {
    head: words('我们 今天 一下 没有 可以 大家 好的 这个 已经 还是'),
    topic: words(
      '明天 开会 项目 部署 服务器 数据库 测试 上线 问题 讨论 需要 完成 客户 需求 版本 发布 修复 代码 会议 时间 下午 上午 计划 进度 报告 系统 ' +
        '用户 接口 文档 设计 方案 确认 什么 怎么 同事 团队 环境 配置 日志 性能 监控 告警 网络 迁移 备份 周末 准备 处理 检查 重启 延迟 缓存 ' +
        '分支 合并 审核 回滚 生产 预发 工单 负责 安排 结果 影响 原因 紧急 注意 记得 谢谢 收到 明白 马上 稍等 预算 合同',
    ),
    phrases: ['明天开会', '数据库迁移', '服务器部署', '上线计划'],
  },
  en: {
    head: words('the to we is it on for and a this'),
    topic: words(
      'need deploy server database migration test release meeting tomorrow review fix bug issue please check logs build failed ' +
        'passed latency cache query index team update customer version rollback staging production ticket merge branch approve ' +
        'coffee lunch today after before monitor alert config network backup weekend plan ready done thanks ok sure later again ' +
        'slow fast error timeout restart ship sprint demo budget contract invoice design spec docs schema replica cluster disk ' +
        'memory cpu queue worker',
    ),
    phrases: ['database migration', 'code review', 'on call', 'load test'],
  },
  ja: {
    head: words('します です ありがとうございます お疲れ様です'),
    topic: words(
      '明日 会議 確認 サーバー デプロイ テスト 問題 すみません 了解です 資料 共有 予定 本番 環境 対応 完了 よろしくお願いします',
    ),
    phrases: [],
  },
};
/** Long-tail words: syllable / character combinations, none of them containing a query term's characters. */
(() => {
  const r = rng(11);
  const make = (n, parts, min, max, join = '') => {
    const out = new Set();
    while (out.size < n) {
      const k = min + Math.floor(r() * (max - min + 1));
      out.add(Array.from({ length: k }, () => parts[Math.floor(r() * parts.length)]).join(join));
    }
    return [...out];
  };
  // Common characters, minus those of the queries (部署 明天开会 我们 麒麟).
  const hanzi = [
    ...'的一是不了人在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三己老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明此'.replace(
      /[部署明天开会我们麒麟]/g,
      '',
    ),
  ];
  LEX.zh.tail = make(20_000, hanzi, 2, 3);
  LEX.en.tail = make(20_000, words('ka lo mi ren tor vex dra pul sin gor bal fen qui zar mo nu pi sel vor wan'), 2, 4);
  LEX.ja.tail = make(
    5_000,
    [...'アカサタナハマヤラワガザダバパキシチニヒミリギジビピクスツヌフムユルグズブウエケセテネヘメレゲゼベペオコソトノホモヨヲゴゾドボポ'],
    2,
    4,
  );
})();

function bodyGenerator(seed) {
  const r = rng(seed);
  /** Skewed towards the start of the list: a few frequent entries, a long tail. */
  const skewed = (list) => list[Math.floor(list.length * r() ** 2)];
  const uniform = (list) => list[Math.floor(list.length * r())];
  const count = (min, max) => min + Math.floor(r() * (max - min + 1));
  const word = (lex) => {
    const x = r();
    if (x < 0.3) return skewed(lex.head);
    if (x < 0.5) return lex.phrases.length && r() < 0.02 ? uniform(lex.phrases) : uniform(lex.topic);
    return skewed(lex.tail);
  };
  const zh = () => {
    const w = [];
    for (let i = count(4, 10); i > 0; i--) w.push(word(LEX.zh));
    if (r() < 0.15) w.splice(Math.floor(r() * w.length), 0, word(LEX.en));
    if (w.length > 6 && r() < 0.5) w.splice(Math.floor(w.length / 2), 0, '，');
    return w.join('') + (r() < 0.8 ? '。' : '？');
  };
  const en = () => {
    const w = [];
    for (let i = count(5, 14); i > 0; i--) w.push(word(LEX.en));
    const s = w.join(' ');
    return s[0].toUpperCase() + s.slice(1) + (r() < 0.8 ? '.' : '?');
  };
  const ja = () => {
    const w = [];
    for (let i = count(3, 7); i > 0; i--) w.push(word(LEX.ja) + uniform(['の', 'を', 'は', 'が', 'に', '', '']));
    return w.join('') + '。';
  };
  return () => {
    const parts = [];
    for (let i = r() < 0.7 ? 1 : 2; i > 0; i--) {
      const x = r();
      parts.push(x < 0.5 ? zh() : x < 0.8 ? en() : ja());
    }
    if (r() < 1e-5) parts.push('xylophone');
    if (r() < 1e-5) parts.push('麒麟');
    return parts.join(' ');
  };
}

/** The queries of the search part, and the `LIKE '%kw%'` substring each is measured against. */
const QUERIES = [
  { label: 'Latin word', query: 'deploy', like: 'deploy' },
  { label: 'Latin phrase', query: '"database migration"', like: 'database migration' },
  { label: 'Chinese 2 characters', query: '部署', like: '部署' },
  { label: 'Chinese 4-character phrase', query: '明天开会', like: '明天开会' },
  { label: 'Japanese word', query: 'デプロイ', like: 'デプロイ' },
  { label: 'rare Latin (~1 in 100k)', query: 'xylophone', like: 'xylophone' },
  { label: 'rare Chinese (~1 in 100k)', query: '麒麟', like: '麒麟' },
  { label: 'common Latin', query: 'the', like: 'the' },
  { label: 'common Chinese', query: '我们', like: '我们' },
];

/**
 * The tsquery text for a query: the search work's own parser when built, else the phrase of
 * the query's lexemes as `searchVector` indexes them (positions kept as <N> distances).
 */
function tsqueryOf(query) {
  if (searchQuery?.parseQuery && searchQuery?.toTsquery) {
    const q = searchQuery.parseQuery(query);
    if (q) return searchQuery.toTsquery(q);
  }
  const lexemes = [];
  for (const m of searchVector(query.replace(/"/g, ' ')).matchAll(/'((?:[^']|'')*)':([\d,]+)/g))
    for (const p of m[2].split(',')) lexemes.push({ text: m[1], pos: Number(p) });
  lexemes.sort((a, b) => a.pos - b.pos);
  return lexemes.map((l, i) => (i ? ` <${l.pos - lexemes[i - 1].pos}> ` : '') + `'${l.text}'`).join('');
}

// ---------------------------------------------------------------------------------------------
// Processes and run resources

const procs = new Set();
const { cleanups, run } = lifecycle({
  finally_: async () => {
    for (const p of procs) await p.stop().catch(() => undefined);
  },
});
const RUN = { natsUrl: null, databaseUrl: null, logDir: null, runId: crypto.randomBytes(4).toString('hex') };

function newNamespace(tag, keep = () => false) {
  const ns = `bench_h${tag}_${crypto.randomBytes(4).toString('hex')}`;
  cleanups.push(async () => {
    if (keep()) return;
    await deleteNamespace(RUN.natsUrl, createSubjects(ns), 'history-bench-cleanup').catch((e) =>
      log(`could not delete NATS namespace ${ns}: ${e.message}`),
    );
  });
  return ns;
}

function newSchema(tag, keep = () => false) {
  const schema = `bench_h${tag}_${crypto.randomBytes(4).toString('hex')}`;
  cleanups.push(async () => {
    if (keep()) return;
    await dropSchema(RUN.databaseUrl, schema).catch((e) => log(`could not drop schema ${schema}: ${e.message}`));
  });
  return schema;
}

/** Starts a built entry point (a service's dist/main.js, or another script) with its output in the run's log directory. */
function spawnLogged(name, file, args, env) {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  const logFd = fs.openSync(path.join(RUN.logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, [file, ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  fs.closeSync(logFd);
  // The channel is how a service notices that its launcher died; it must not keep this process alive.
  child.channel?.unref();
  const entry = { name, child, exited: null };
  entry.exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      entry.exited = { code, signal };
      resolve(entry.exited);
    }),
  );
  procs.add(entry);
  entry.stop = async () => {
    if (!entry.exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await entry.exit;
      clearTimeout(t);
    }
    procs.delete(entry);
  };
  return entry;
}

async function startHistory(name, namespace, schema, env = {}) {
  const port = await freePort();
  return spawnLogged(name, path.join(historyDist, 'main.js'), [], {
    NATS_URL: RUN.natsUrl,
    NATS_NAMESPACE: namespace,
    DATABASE_URL: RUN.databaseUrl,
    DATABASE_SCHEMA: schema,
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    ...env,
  });
}

async function migrate(schema) {
  const p = spawnLogged(`migrate-${schema}`, path.join(historyDist, 'migrate.js'), [], {
    DATABASE_URL: RUN.databaseUrl,
    DATABASE_SCHEMA: schema,
  });
  const { code } = await p.exit;
  procs.delete(p);
  if (code !== 0) throw new Error(`migrating ${schema} failed (see ${RUN.logDir}/migrate-${schema}.log)`);
}

async function pgClient() {
  const pg = require('pg');
  const c = new pg.Client({ connectionString: RUN.databaseUrl, application_name: 'history-bench' });
  await c.connect();
  return c;
}

const cpuGroups = (extra) => () => ({ ...extra(), postgres: pidsByName('postgres'), nats: pidsByName('nats-server') });
const cpuText = (c) =>
  c
    ? [...Object.entries(c.groups), ['bench', c.loadgen], ['other', c.other]]
        .filter(([k, v]) => v > 0 || k === 'other')
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : '-';

/**
 * CPU of processes that may exit before the end of the interval (a rebuild, the connections'
 * Postgres backends): every pid of `groups()` is sampled each second, and each group's CPU is the
 * sum over its pids of the last sample minus the first, in % of one core.
 */
function cpuSampler(groups) {
  const seen = new Map(); // pid -> { group, first, last }
  const sample = () => {
    for (const [group, pids] of Object.entries(groups()))
      for (const pid of pids) {
        const t = procTicks(pid);
        if (t === null) continue;
        const e = seen.get(pid);
        if (e) e.last = t;
        else seen.set(pid, { group, first: t, last: t });
      }
  };
  sample();
  const timer = setInterval(sample, 1000);
  const t0 = now();
  const machine = cpuMeter(() => ({}));
  return () => {
    sample();
    clearInterval(timer);
    const secs = (now() - t0) / 1000;
    const m = machine();
    const res = { groups: {}, loadgen: m.loadgen, machineBusy: m.machineBusy };
    for (const e of seen.values()) res.groups[e.group] = (res.groups[e.group] ?? 0) + e.last - e.first;
    for (const k of Object.keys(res.groups)) res.groups[k] = Math.round((res.groups[k] / CLK_TCK / secs) * 100);
    const known = Object.values(res.groups).reduce((a, b) => a + b, m.loadgen);
    res.other = m.machineBusy === null ? null : Math.max(0, Math.round(m.machineBusy * os.cpus().length - known));
    return res;
  };
}

// ---------------------------------------------------------------------------------------------
// Events on the stream

const enc = new TextEncoder();
const envelope = (type, version, actorId, payload, time) => ({
  id: crypto.randomUUID(),
  type,
  version,
  time,
  actor: { kind: 'user', id: actorId },
  correlationId: crypto.randomUUID(),
  causationId: null,
  payload,
});

/**
 * Rooms first (RoomCreated + the owner's MemberJoined, so the posting rule accepts their posts),
 * then `posts` MessagePosted v2 by the owners, round robin over the rooms. `onPost(i, row)` sees
 * each post as the messages table will hold it (position set later from the publish ack).
 */
function* chatEvents(s, { rooms, posts, seed, onPost = null }) {
  const time = new Date().toISOString();
  const owners = Array.from({ length: rooms }, (_, i) => ({ roomId: `r${i}`, userId: crypto.randomUUID(), username: `owner${i}` }));
  for (const o of owners) {
    const subject = s.chat.roomMeta(o.roomId);
    yield [
      subject,
      enc.encode(
        JSON.stringify(
          envelope(
            'RoomCreated',
            1,
            o.userId,
            {
              roomId: o.roomId,
              name: `Room ${o.roomId}`,
              topic: '',
              visibility: 'public',
              postPolicy: 'members',
              memberLimit: 1000,
              ownerId: o.userId,
              ownerName: o.username,
            },
            time,
          ),
        ),
      ),
    ];
    yield [subject, enc.encode(JSON.stringify(envelope('MemberJoined', 1, o.userId, { roomId: o.roomId, ...o, role: 'owner' }, time)))];
  }
  const body = bodyGenerator(seed);
  for (let i = 0; i < posts; i++) {
    const o = owners[i % rooms];
    const payload = {
      messageId: crypto.randomUUID(),
      roomId: o.roomId,
      senderId: o.userId,
      senderName: o.username,
      clientMsgId: `c${i}`,
      body: body(),
      replyTo: null,
      mentions: [],
    };
    const e = envelope('MessagePosted', 2, o.userId, payload, time);
    onPost?.(i, { ...payload, createdAt: time });
    yield [s.chat.roomMessages(o.roomId), enc.encode(JSON.stringify(e))];
  }
}

async function appendChat(s, opts, total) {
  const nc = await natsConnect(RUN.natsUrl, 'history-bench-append');
  try {
    await new JetStreamAdapter(nc).ensureStreams(streamSpecs(s));
    const js = jetstream(nc);
    let last = 0;
    const res = await publishWindowed(js, chatEvents(s, opts), {
      window: P.window,
      total,
      progressEvery: total >= 1_000_000 ? 500_000 : 0,
      onAck: (i, seq) => {
        last = Math.max(last, seq);
        opts.onAck?.(i, seq);
      },
    });
    return { ...res, lastPosition: last, eventsPerSec: res.count / res.seconds };
  } finally {
    await nc.close();
  }
}

/** The highest projection checkpoint of a schema (membership back-fill markers aside), 0 before there is one. */
async function checkpointOf(db, schema) {
  try {
    const { rows } = await db.query(
      `SELECT coalesce(max(position), 0) AS p FROM "${schema}".projection_checkpoints WHERE name NOT LIKE '%:%'`,
    );
    return Number(rows[0].p);
  } catch {
    return 0; // no table yet: migrations still running
  }
}

/**
 * Starts the history service on `schema` and waits until its checkpoint reaches `last`. Times
 * from the spawn and from the first committed batch (start-up and migrations left out).
 */
async function projectWithService(name, namespace, schema, last) {
  const db = await pgClient();
  try {
    const t0 = now();
    const svc = await startHistory(name, namespace, schema);
    let meter = null;
    let first = null;
    let cp = 0;
    const deadline = Date.now() + 3_600_000;
    for (;;) {
      if (svc.exited) throw new Error(`${name} exited (${JSON.stringify(svc.exited)}); see ${RUN.logDir}/${name}.log`);
      if (Date.now() > deadline) throw new Error(`${name}: checkpoint ${cp} still below ${last} after an hour`);
      cp = await checkpointOf(db, schema);
      if (cp > 0 && !first) {
        first = { t: now(), position: cp };
        meter = cpuSampler(cpuGroups(() => ({ history: [svc.child.pid] })));
      }
      if (cp >= last) break;
      await sleep(50);
    }
    const t1 = now();
    const cpu = meter?.();
    await svc.stop();
    const counts = (
      await db.query(
        `SELECT (SELECT count(*) FROM "${schema}".messages) AS messages, (SELECT count(*) FROM "${schema}".dead_letters) AS dead, (SELECT count(*) FROM "${schema}".dropped_messages) AS dropped`,
      )
    ).rows[0];
    const secs = (t1 - first.t) / 1000;
    return {
      fromSpawnSeconds: (t1 - t0) / 1000,
      firstBatchAfterSeconds: (first.t - t0) / 1000,
      measuredEvents: last - first.position,
      measuredSeconds: secs,
      eventsPerSec: (last - first.position) / secs,
      messages: Number(counts.messages),
      deadLetters: Number(counts.dead),
      dropped: Number(counts.dropped),
      cpu,
    };
  } finally {
    await db.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Part 1: projection events/s against batched INSERTs

async function projection(results) {
  const ns = newNamespace('proj');
  const s = createSubjects(ns);
  const schemaSvc = newSchema('proj');
  const schemaBase = newSchema('base');
  const rows = new Array(P.events);
  const firstPost = 2 * P.rooms;
  log(`projection: appending ${P.rooms} rooms + ${P.events.toLocaleString('en-US')} MessagePosted v2 to ${s.streams.chat.name}`);
  const append = await appendChat(
    s,
    {
      rooms: P.rooms,
      posts: P.events,
      seed: 1,
      onPost: (i, row) => (rows[i] = row),
      onAck: (i, seq) => {
        if (i >= firstPost) rows[i - firstPost].position = seq;
      },
    },
    P.events + firstPost,
  );
  log(`  appended ${append.count.toLocaleString('en-US')} events in ${append.seconds.toFixed(1)} s (${f0(append.eventsPerSec)}/s)`);

  log(`  history service on schema ${schemaSvc}: projecting (batch ${serviceBatch})`);
  const service = await projectWithService('history-projection', ns, schemaSvc, append.lastPosition);
  log(
    `  service: ${f0(service.eventsPerSec)} events/s (${service.measuredSeconds.toFixed(1)} s after its first batch, ${service.fromSpawnSeconds.toFixed(1)} s from spawn); ${service.messages} rows, ${service.deadLetters} dead letters, ${service.dropped} dropped`,
  );

  await migrate(schemaBase);
  const db = await pgClient();
  let baseline;
  try {
    const cols = await messageColumns(db, schemaBase);
    const withSearch = cols.has('search');
    const names = ['message_id', 'room_id', 'position', 'sender_id', 'sender_name', 'client_msg_id', 'body', 'created_at'];
    if (withSearch) names.push('search');
    const width = names.length;
    rows.sort((a, b) => a.position - b.position);
    const meter = cpuMeter(cpuGroups(() => ({})));
    const t0 = now();
    for (let i = 0; i < rows.length; i += serviceBatch) {
      const batch = rows.slice(i, i + serviceBatch);
      const params = [];
      const tuples = batch.map((r, j) => {
        params.push(r.messageId, r.roomId, r.position, r.senderId, r.senderName, r.clientMsgId, r.body, r.createdAt);
        if (withSearch) params.push(searchVector(r.body));
        const ph = names.map((n, k) => `$${j * width + k + 1}${n === 'search' ? '::tsvector' : ''}`);
        return `(${ph.join(', ')})`;
      });
      await db.query(`INSERT INTO "${schemaBase}".messages (${names.join(', ')}) VALUES ${tuples.join(', ')}`, params);
    }
    const secs = (now() - t0) / 1000;
    baseline = { rows: rows.length, seconds: secs, rowsPerSec: rows.length / secs, batch: serviceBatch, withSearch, cpu: meter() };
  } finally {
    await db.end();
  }
  log(`  baseline: ${f0(baseline.rowsPerSec)} rows/s (${baseline.seconds.toFixed(1)} s, ${baseline.batch} rows per INSERT)`);
  results.projection = {
    rooms: P.rooms,
    events: append.count,
    posts: P.events,
    append,
    service,
    baseline,
    ratio: service.eventsPerSec / baseline.rowsPerSec,
    loadavg: os.loadavg(),
  };
}

// ---------------------------------------------------------------------------------------------
// Parts 2 and 3: the one big room

/**
 * The bulk load (lib.mjs bulkLoadMessages: indexes and constraints dropped, COPY, re-created),
 * with this benchmark's bodies, counting the bodies each LIKE query matches.
 */
async function bulkLoad(db, schema, roomId, n) {
  const body = bodyGenerator(7);
  const likeCounts = Object.fromEntries(QUERIES.map((q) => [q.like, 0]));
  const likes = Object.keys(likeCounts);
  const res = await bulkLoadMessages(db, schema, roomId, n, {
    bodyOf: () => body(),
    onBody: (b) => {
      for (const k of likes) if (b.includes(k)) likeCounts[k]++;
    },
    onProgress: (i, total, rate) => log(`  ${i.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} rows copied (${f0(rate)}/s)`),
  });
  log(
    `  COPY done in ${res.copySeconds.toFixed(0)} s; re-created ${res.constraints} constraints, ${res.indexes} indexes, ${res.foreignKeys} foreign keys in ${res.indexesSeconds.toFixed(0)} s`,
  );
  const { constraints, indexes, foreignKeys, ...load } = res;
  return { ...load, likeCounts };
}

/**
 * The data set of the pages and search parts: the stack on a fresh namespace and schema, a
 * reader who created the room over the gateway, and the room's rows. Or the one kept by an
 * earlier run (--dataset).
 */
async function dataset(results) {
  const { register, login } = require('../libs/client/dist/index.js');
  const reuse = opt.dataset ? JSON.parse(fs.readFileSync(opt.dataset, 'utf8')) : null;
  const keep = () => Boolean(reuse || opt['keep-dataset']);
  const namespace = reuse?.namespace ?? newNamespace('pages', keep);
  const schema = reuse?.schema ?? newSchema('pages', keep);
  const ports = {};
  for (const n of SERVICES) ports[n] = await freePort();
  log(`pages/search: starting the stack (namespace ${namespace}, schema ${schema})`);
  const stack = await startStack({
    env: {
      NATS_URL: RUN.natsUrl,
      DATABASE_URL: RUN.databaseUrl,
      DATABASE_SCHEMA: schema,
      NATS_NAMESPACE: namespace,
      JWT_SECRET: crypto.randomBytes(48).toString('base64url'),
      LOG_LEVEL: 'warn',
    },
    ports,
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
    output: RUN.logDir,
  });
  cleanups.push(() => stack.stopAll());
  const base = stack.urls.gateway;
  const d = reuse ?? {
    namespace,
    schema,
    roomId: `big-${RUN.runId}`,
    username: `reader${RUN.runId}`,
    password: crypto.randomBytes(12).toString('base64url'),
  };
  if (!reuse) d.userId = (await register(base, d.username, d.password)).user.userId;
  const token = (await login(base, d.username, d.password)).accessToken;
  const { ChatClient, wsUrlOf } = require('../libs/client/dist/index.js');
  const { default: WebSocket } = await import('ws');
  const client = await ChatClient.connect(wsUrlOf(base), { WebSocket, eventHistory: 0, requestTimeoutMs: 60_000 });
  cleanups.push(() => client.close());
  await client.auth(token);
  const nc = await natsConnect(RUN.natsUrl, 'history-bench-reader');
  cleanups.push(() => nc.close());
  const rpc = new RpcClient(nc, createSubjects(namespace), 60_000);

  if (!reuse) {
    await client.request('room.create', { roomId: d.roomId, name: `Bench ${RUN.runId}`, memberLimit: 10 });
    // The projector has the room (and the reader's membership) when the reader may page it.
    for (let i = 0; ; i++) {
      const r = await rpc.call('history.page', { userId: d.userId, roomId: d.roomId, limit: 1 });
      if (r.ok) break;
      if (i > 300) throw new Error(`the room never became readable: ${JSON.stringify(r.error)}`);
      await sleep(100);
    }
    log(`  room ${d.roomId} projected; bulk-loading ${P.messages.toLocaleString('en-US')} rows with COPY`);
    const db = await pgClient();
    try {
      d.load = await bulkLoad(db, schema, d.roomId, P.messages);
    } finally {
      await db.end();
    }
    d.messages = P.messages;
    log(
      `  loaded in ${(d.load.copySeconds + d.load.indexesSeconds).toFixed(0)} s (COPY ${d.load.copySeconds.toFixed(0)} s, indexes ${d.load.indexesSeconds.toFixed(0)} s); table + indexes ${(d.load.tableBytes / 2 ** 30).toFixed(1)} GiB`,
    );
    if (opt['keep-dataset']) {
      fs.writeFileSync(opt['keep-dataset'], JSON.stringify(d, null, 2) + '\n');
      log(`  data set kept: ${opt['keep-dataset']} (reuse with --dataset; drop schema ${schema} and namespace ${namespace} when done)`);
    }
  } else log(`  reusing ${reuse.messages.toLocaleString('en-US')} rows of room ${d.roomId}`);
  results.dataset = { messages: d.messages, roomId: d.roomId, load: d.load, reused: Boolean(reuse) };
  const pids = () => ({ ...Object.fromEntries([...stack.procs].map(([n, p]) => [n, [p.child.pid]])) });
  return { ...d, rpc, client, pids };
}

/**
 * Sequential calls (one in flight) of `fn`, which resolves to a result checked by `ok`; stops
 * after `n` calls or when the budget is spent (with at least 3 calls). A few calls first are
 * run but not counted (connections, plans and caches warm).
 */
async function timed(fn, { n, warmup = 5, budgetMs = P.budgetSeconds * 1000, check = () => true, min = 3 }) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  let failures = 0;
  let failedWith = null;
  let last = null;
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const t = now();
    last = await fn();
    samples.push(now() - t);
    if (!check(last)) {
      failures++;
      failedWith = last?.error?.code ?? last?.error ?? 'unexpected answer';
    }
    if (now() - t0 > budgetMs && samples.length >= min) break;
  }
  return { ...latencyOf(samples), failures, failedWith, last };
}

async function pages(results, d) {
  const M = d.messages;
  const schema = `"${d.schema}"`;
  const deepBefore = BULK_BASE + 51;
  const db = await pgClient();
  const out = {};
  try {
    const rpcOk = (r) => r.ok && r.data.messages.length === 50;
    const sqlOk = (r) => r.rows.length >= 50;
    const variants = [
      ['service', 'newest', () => rpc('history.page', { userId: d.userId, roomId: d.roomId, limit: 50 }), rpcOk, P.pageCalls],
      [
        'service',
        'deepest',
        () => rpc('history.page', { userId: d.userId, roomId: d.roomId, before: deepBefore, limit: 50 }),
        rpcOk,
        P.pageCalls,
      ],
      ['gateway', 'newest', () => ws({ roomId: d.roomId, limit: 50 }), (r) => r.messages?.length === 50, P.pageCalls],
      ['gateway', 'deepest', () => ws({ roomId: d.roomId, before: deepBefore, limit: 50 }), (r) => r.messages?.length === 50, P.pageCalls],
      [
        'keyset',
        'newest',
        () => db.query(`SELECT * FROM ${schema}.messages WHERE room_id = $1 ORDER BY position DESC LIMIT 51`, [d.roomId]),
        sqlOk,
        P.pageCalls,
      ],
      [
        'keyset',
        'deepest',
        () =>
          db.query(`SELECT * FROM ${schema}.messages WHERE room_id = $1 AND position < $2 ORDER BY position DESC LIMIT 51`, [
            d.roomId,
            deepBefore,
          ]),
        sqlOk,
        P.pageCalls,
      ],
      [
        'offset',
        'newest',
        () => db.query(`SELECT * FROM ${schema}.messages WHERE room_id = $1 ORDER BY position DESC OFFSET 0 LIMIT 50`, [d.roomId]),
        sqlOk,
        P.pageCalls,
      ],
      [
        'offset',
        'deepest',
        () => db.query(`SELECT * FROM ${schema}.messages WHERE room_id = $1 ORDER BY position DESC OFFSET $2 LIMIT 50`, [d.roomId, M - 50]),
        sqlOk,
        P.offsetCalls,
      ],
    ];
    const rpc = (name, data) => d.rpc.call(name, data);
    const ws = (data) => d.client.request('history.page', data).catch((e) => ({ error: e.code ?? String(e) }));
    for (const [path_, depth, fn, check, n] of variants) {
      const meter = cpuMeter(cpuGroups(d.pids));
      const r = await timed(fn, { n, warmup: path_ === 'offset' && depth === 'deepest' ? 1 : 20, check });
      const cpu = meter();
      delete r.last;
      out[`${path_}.${depth}`] = { ...r, cpu };
      log(
        `  page ${path_} ${depth}: p50 ${f2(r.p50)} ms, p99 ${f2(r.p99)} ms over ${r.n} calls${r.failures ? `, ${r.failures} FAILED` : ''}`,
      );
    }
  } finally {
    await db.end();
  }
  results.pages = { messages: M, deepBefore, results: out, loadavg: os.loadavg() };
}

async function search(results, d) {
  const schema = `"${d.schema}"`;
  const db = await pgClient();
  const out = [];
  try {
    const cols = await messageColumns(db, d.schema);
    for (const q of QUERIES) {
      const row = { ...q, likeMatches: d.load?.likeCounts?.[q.like] ?? null };
      const r = await timed(() => d.rpc.call('history.search', { userId: d.userId, query: q.query, order: 'newest', limit: 20 }), {
        n: P.searchCalls,
        warmup: 2,
        check: (x) => x.ok,
      });
      row.rpcHits = r.last?.ok ? r.last.data.hits.length : '-';
      delete r.last;
      row.rpc = r;
      if (cols.has('search')) {
        row.tsquery = tsqueryOf(q.query);
        // Two orderings: `position` lets the planner walk the (room_id, position) index backwards
        // and filter (fast for common terms, a long walk for rare ones); `position + 0` hides that
        // index, so the GIN index finds every match and the newest 20 are sorted out of them.
        for (const [key, order] of [
          ['sql', 'position DESC'],
          ['sqlGin', 'position + 0 DESC'],
        ]) {
          const s = await timed(
            () =>
              db.query(
                `SELECT message_id, position, body FROM ${schema}.messages WHERE room_id = $1 AND search @@ $2::tsquery ORDER BY ${order} LIMIT 20`,
                [d.roomId, row.tsquery],
              ),
            { n: P.searchCalls, warmup: 2 },
          );
          row[`${key}Hits`] = s.last.rows.length;
          delete s.last;
          row[key] = s;
        }
      }
      for (const op of ['LIKE', 'ILIKE']) {
        const l = await timed(
          () =>
            db.query(
              `SELECT message_id, position, body FROM ${schema}.messages WHERE room_id = $1 AND body ${op} $2 ORDER BY position DESC LIMIT 20`,
              [d.roomId, `%${q.like}%`],
            ),
          { n: P.likeCalls, warmup: 1, min: 2 },
        );
        row[`${op.toLowerCase()}Hits`] = l.last.rows.length;
        delete l.last;
        row[op.toLowerCase()] = l;
      }
      log(
        `  search ${q.label} (${q.query}): RPC p50 ${f2(row.rpc.p50)} / p99 ${f2(row.rpc.p99)} ms, ${row.rpcHits} hits; SQL p50 ${f2(row.sql?.p50)} / +0 ${f2(row.sqlGin?.p50)} ms; LIKE p50 ${f2(row.like.p50)} ms (${row.like.n} calls); ILIKE p50 ${f2(row.ilike.p50)} ms`,
      );
      out.push(row);
    }
  } finally {
    await db.end();
  }
  results.search = {
    messages: d.messages,
    queries: out,
    parser: searchQuery?.toTsquery ? 'search/query.js' : 'searchVector lexemes',
    loadavg: os.loadavg(),
  };
}

// ---------------------------------------------------------------------------------------------
// Part 4: rebuild

/**
 * The floor under any replay: the whole stream read by an ordered consumer (4,096 messages
 * pulled at a time, what the rebuild asks for per batch) whose handler only counts.
 */
async function bareRead(s, expected) {
  const nc = await natsConnect(RUN.natsUrl, 'history-bench-bare-read');
  try {
    const js = jetstream(nc);
    const t0 = now();
    const consumer = await js.consumers.get(s.streams.chat.name, { deliver_policy: 'all' });
    const messages = await consumer.consume({ max_messages: 4096 });
    let n = 0;
    let bytes = 0;
    for await (const m of messages) {
      n++;
      bytes += m.data.length;
      if (n >= expected || m.info.pending === 0) break;
    }
    const secs = (now() - t0) / 1000;
    await messages.close();
    return { events: n, seconds: secs, eventsPerSec: n / secs, meanBytes: bytes / n };
  } finally {
    await nc.close();
  }
}

/** The rebuild part's events, on a fresh namespace (or the one kept by --prepare-stream). */
async function rebuildStream(keep) {
  if (opt.stream) {
    const kept = JSON.parse(fs.readFileSync(opt.stream, 'utf8'));
    log(`rebuild: reusing ${kept.append.count.toLocaleString('en-US')} events of namespace ${kept.namespace}`);
    return { ...kept, s: createSubjects(kept.namespace) };
  }
  const ns = newNamespace('rebuild', keep);
  const s = createSubjects(ns);
  const total = P.rebuildEvents + 2 * P.rooms;
  log(`rebuild: appending ${P.rooms} rooms + ${P.rebuildEvents.toLocaleString('en-US')} MessagePosted v2 to ${s.streams.chat.name}`);
  const append = await appendChat(s, { rooms: P.rooms, posts: P.rebuildEvents, seed: 3 }, total);
  log(`  appended ${append.count.toLocaleString('en-US')} events in ${append.seconds.toFixed(0)} s (${f0(append.eventsPerSec)}/s)`);
  return { namespace: ns, rooms: P.rooms, append, s };
}

async function prepareStream() {
  const { s: _s, ...kept } = await rebuildStream(() => true);
  fs.writeFileSync(opt['prepare-stream'], JSON.stringify(kept, null, 2) + '\n');
  log(`events kept in namespace ${kept.namespace}: ${opt['prepare-stream']} (replay with --stream; delete the namespace when done)`);
}

async function rebuild(results) {
  const { namespace: ns, s, append, rooms } = await rebuildStream(() => false);
  const schema = newSchema('rebuild');
  const bare = await bareRead(s, append.count);
  log(`  bare ordered consumer: ${f0(bare.eventsPerSec)} events/s (${bare.seconds.toFixed(1)} s)`);
  const script = path.join(historyDist, 'rebuild.js');
  let replay;
  const db = await pgClient();
  try {
    if (fs.existsSync(script)) {
      log(`  ${path.relative(root, script)} --schema ${schema}`);
      const t0 = now();
      const p = spawnLogged('rebuild', script, ['--schema', schema], {
        NATS_URL: RUN.natsUrl,
        NATS_NAMESPACE: ns,
        DATABASE_URL: RUN.databaseUrl,
        DATABASE_SCHEMA: schema,
      });
      const meter = cpuSampler(cpuGroups(() => ({ rebuild: [p.child.pid] })));
      const { code, signal } = await p.exit;
      const cpu = meter();
      procs.delete(p);
      const secs = (now() - t0) / 1000;
      if (code !== 0) throw new Error(`rebuild exited ${code ?? signal}; see ${RUN.logDir}/rebuild.log`);
      const count = Number((await db.query(`SELECT count(*) AS n FROM "${schema}".messages`)).rows[0].n);
      replay = {
        how: 'rebuild.js',
        seconds: secs,
        eventsPerSec: append.count / secs,
        messages: count,
        checkpoint: await checkpointOf(db, schema),
        cpu,
      };
    } else {
      log(`  ${path.relative(root, script)} is not built: timing the live projector catching up from an empty schema instead`);
      const r = await projectWithService('history-rebuild', ns, schema, append.lastPosition);
      replay = {
        how: 'history service (live projector from an empty schema); rebuild.js not built',
        seconds: r.fromSpawnSeconds,
        eventsPerSec: append.count / r.fromSpawnSeconds,
        messages: r.messages,
        cpu: r.cpu,
      };
    }
  } finally {
    await db.end();
  }
  log(`  replay: ${replay.seconds.toFixed(0)} s, ${f0(replay.eventsPerSec)} events/s, ${replay.messages.toLocaleString('en-US')} rows`);
  results.rebuild = { rooms, events: append.count, append, reusedStream: Boolean(opt.stream), bare, replay, loadavg: os.loadavg() };
}

// ---------------------------------------------------------------------------------------------
// Report

const ms = (x) => f2(x);
const pair = (r) => (!r ? '-' : r.failures ? `${r.failures} of ${r.n} FAILED (${r.failedWith})` : `${ms(r.p50)} / ${ms(r.p99)}`);

function report(results, info, command, started) {
  console.log('');
  console.log(`History benchmark — ${started.toISOString()}`);
  console.log(`command: ${command}`);
  console.log(
    `machine: ${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB RAM, ${info.os}, Node ${info.node}, NATS ${info.natsVersion ?? '?'}, PostgreSQL ${info.postgresVersion ?? '?'}`,
  );
  console.log(`load average at start: ${info.loadavgAtStart.join(' ')}`);
  console.log('');
  const p = results.projection;
  if (p) {
    console.log(
      `1. Projection: ${p.events.toLocaleString('en-US')} events (${p.rooms} rooms: RoomCreated + MemberJoined, then ${p.posts.toLocaleString('en-US')} MessagePosted v2), load average after ${p.loadavg.map((x) => x.toFixed(2)).join(' ')}`,
    );
    console.log(
      renderTable(
        ['writer', 'rows/s', 'seconds', 'rows', 'CPU % of one core'],
        [
          [
            `history service, batch ${p.baseline.batch} (from its first commit; ${p.service.fromSpawnSeconds.toFixed(1)} s from spawn)`,
            f0(p.service.eventsPerSec),
            p.service.measuredSeconds.toFixed(1),
            `${f0(p.service.messages)} (dead ${p.service.deadLetters}, dropped ${p.service.dropped})`,
            cpuText(p.service.cpu),
          ],
          [
            `baseline: multi-row INSERT, ${p.baseline.batch} rows/statement${p.baseline.withSearch ? ' (with searchVector)' : ''}`,
            f0(p.baseline.rowsPerSec),
            p.baseline.seconds.toFixed(1),
            f0(p.baseline.rows),
            cpuText(p.baseline.cpu),
          ],
        ],
      ),
    );
    console.log(`service / baseline: ${f2(p.ratio)} (goal: at least 0.5)`);
    console.log('');
  }
  const pg = results.pages;
  if (pg) {
    const r = pg.results;
    console.log(`2. Pages of 50, one room with ${pg.messages.toLocaleString('en-US')} messages, one call in flight; p50 / p99 ms (calls)`);
    const row = (label, k) => [
      label,
      `${pair(r[`${k}.newest`])} (${r[`${k}.newest`]?.n ?? 0})`,
      `${pair(r[`${k}.deepest`])} (${r[`${k}.deepest`]?.n ?? 0})`,
    ];
    console.log(
      renderTable(
        ['path', 'newest page', `deepest page (before ${pg.deepBefore - BULK_BASE} of ${pg.messages})`],
        [
          row('history.page RPC (service, over NATS)', 'service'),
          row('history.page over the gateway (WebSocket)', 'gateway'),
          row('SQL keyset (position < $before)', 'keyset'),
          row('baseline: SQL OFFSET k LIMIT 50', 'offset'),
        ],
      ),
    );
    const fails = Object.entries(r).filter(([, v]) => v.failures);
    if (fails.length) console.log(`FAILED calls: ${fails.map(([k, v]) => `${k} ${v.failures}`).join(', ')}`);
    console.log(`goal: service p99 under 5 ms (newest ${ms(r['service.newest']?.p99)}, deepest ${ms(r['service.deepest']?.p99)})`);
    console.log('');
  }
  const s = results.search;
  if (s) {
    console.log(
      `3. Search, ${s.messages.toLocaleString('en-US')} messages, newest first, LIMIT 20; p50 / p99 ms (calls); tsquery from ${s.parser}`,
    );
    console.log(
      renderTable(
        [
          'query',
          'rows LIKE-matching',
          'history.search RPC',
          'tsquery SQL, ORDER BY position',
          'tsquery SQL, ORDER BY position + 0',
          'baseline LIKE',
          'baseline ILIKE',
          'hits RPC/SQL/LIKE',
        ],
        s.queries.map((q) => [
          `${q.label}: ${q.query}`,
          f0(q.likeMatches),
          `${pair(q.rpc)} (${q.rpc.n})`,
          q.sql ? `${pair(q.sql)} (${q.sql.n})` : '-',
          q.sqlGin ? `${pair(q.sqlGin)} (${q.sqlGin.n})` : '-',
          `${pair(q.like)} (${q.like.n})`,
          `${pair(q.ilike)} (${q.ilike.n})`,
          `${q.rpcHits}/${q.sqlHits ?? '-'}/${q.likeHits}`,
        ]),
      ),
    );
    console.log('goal: history.search p50 under 50 ms');
    console.log('');
  }
  const b = results.rebuild;
  if (b) {
    console.log(`4. Rebuild: ${b.events.toLocaleString('en-US')} events (${b.rooms} rooms) replayed into a fresh schema`);
    console.log(
      renderTable(
        ['reader', 'seconds', 'events/s', 'CPU % of one core'],
        [
          [b.replay.how, b.replay.seconds.toFixed(0), f0(b.replay.eventsPerSec), cpuText(b.replay.cpu)],
          ['baseline: bare ordered consumer, no-op handler', b.bare.seconds.toFixed(1), f0(b.bare.eventsPerSec), '-'],
        ],
      ),
    );
    console.log(`appending them took ${b.append.seconds.toFixed(0)} s (${f0(b.append.eventsPerSec)} events/s, ${P.window} in flight)`);
    console.log('');
  }
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const started = new Date();
  const info = machineInfo();
  const command = `node bench/history.mjs ${process.argv.slice(2).join(' ')}`.trim();
  log(`${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB, Node ${info.node}, load average ${info.loadavgAtStart.join(' ')}`);
  RUN.natsUrl = await ensureNats(log);
  RUN.databaseUrl = await ensurePostgres(log);
  RUN.logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-bench-history-'));
  info.natsVersion = await natsVersion(RUN.natsUrl, 'history-bench-info').catch(() => null);
  info.postgresVersion = await postgresVersion(RUN.databaseUrl);
  log(`service logs in ${RUN.logDir}`);
  const results = {};
  if (opt['prepare-stream']) return prepareStream();
  try {
    if (only.includes('projection')) await projection(results);
    if (only.includes('pages') || only.includes('search')) {
      const d = await dataset(results);
      if (only.includes('pages')) await pages(results, d);
      if (only.includes('search')) await search(results, d);
    }
    if (only.includes('rebuild')) await rebuild(results);
  } finally {
    if (Object.keys(results).length) {
      report(results, info, command, started);
      const out = writeResult({
        out: opt.out,
        name: 'history',
        started,
        result: { date: started.toISOString(), command, machine: info, parameters: { ...P, serviceBatch }, results },
      });
      console.log(`result written to ${out} (logs in ${RUN.logDir})`);
    }
  }
}

await run(main);
