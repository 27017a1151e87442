// Send latency with the moderation filter chain and without it (issue 9). Drives `rooms.post`
// over NATS request/reply (the RPC the gateway uses, so the figures are the services', not the
// gateway's) with the rooms and moderation services running, and changes only the server's
// filter configuration between variants, in the same run on the same processes. It prints
// figures; it asserts nothing. See docs/benchmarks.md, section "Moderation: send latency with
// and without the filter chain (issue 9)". The filter chain's own cost per message (no
// services) is bench/moderation-filter.mjs.
//
//   npm run bench:moderation-send        (builds first)
//   node bench/moderation-send.mjs --help
//
// Variants (the server's filter configuration, set by `moderation.setFilters` as a server
// administrator, so stored as a FilterConfigSet event and applied as the service follows its
// stream; the run waits until `moderation.testFilters` answers as the new configuration says):
//   off-latin / off-chinese:     an empty configuration: the chain has nothing to do (the
//                                "without it" case), with Latin / Chinese messages;
//   chain-latin / chain-chinese: the whole chain: 10,000 words (half `mask`, half `block`),
//                                Latin / Chinese, an allow-list, patterns, a link policy with
//                                200 domains, repeated-character and all-caps limits.
// The messages (50-300 characters) all pass the chain: by default 10 % carry a listed `mask`
// word (posted masked) and 10 % a link to an allowed domain. They are chosen by asking
// `moderation.testFilters` under the chain configuration, so a message that the list would
// block by chance (Chinese text holds entries by chance) is left out. The "off" variant of a
// language posts the same messages.
//
// Each variant runs with each number of requests in flight (closed loops: the next post is sent
// when one is answered), a warm-up then a measured window, in rounds; each round starts at the
// next variant, so every variant is measured early and late in the run and slow drifts of a
// shared machine spread over all of them. Latency percentiles are over every post of every
// round. The send rate limit (MOD_SEND_RATE_PER_S=0), flood detection and the link-spam
// subscriber's limits are raised so that no bench post is refused or redacted.
//
// The moderation subscribers (link-spam, new-account-flood) are disabled by default: they are
// not in the send path, but they run in the moderation process on every posted message, one
// event per pull, and at the rates reached here they fall behind; how much CPU they take from
// the send path during a window then depends on how far behind they are, which has nothing to
// do with the chain and blurs the comparison. `--subscribers on` runs them as deployed (each
// window then starts once they have caught up, and the report says how far behind they were at
// its end).
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
  latencyOf,
  lifecycle,
  log,
  machineInfo,
  natsConnect,
  natsVersion,
  now,
  pidsByName,
  renderTable,
  seededRandom,
  sleep,
  startBuiltService,
  writeResult,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const { ensureNats } = require('../scripts/infra.cjs');

// ---------------------------------------------------------------------------------------------
// Options

const VARIANTS = ['off-latin', 'chain-latin', 'off-chinese', 'chain-chinese'];
// Not run by default: the whole chain but its patterns (no pattern worker round trip), to see what that costs.
const EXTRA_VARIANTS = ['nopat-latin', 'nopat-chinese'];
const { values: opt } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '1,16' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    rooms: { type: 'string', default: '50' },
    members: { type: 'string', default: '20' },
    words: { type: 'string', default: '10000' },
    bodies: { type: 'string', default: '1000' },
    'mask-percent': { type: 'string', default: '10' },
    'link-percent': { type: 'string', default: '10' },
    variants: { type: 'string', default: VARIANTS.join(',') },
    subscribers: { type: 'string', default: 'off' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(`usage: node bench/moderation-send.mjs [options]   (npm run bench:moderation-send builds first)
  --concurrency LIST   posts in flight, comma-separated (closed loops) (default 1,16)
  --seconds T          measured seconds per variant, concurrency and round (default 10)
  --warmup W           seconds run but not measured before each of them (default 2)
  --rounds N           rounds over all variants (default 3)
  --rooms R            rooms posted to (default 50)
  --members M          members per room besides the owner; they post (default 20)
  --words N            entries of the word list of a chain variant (default 10000; half mask, half block)
  --bodies B           distinct messages per language (default 1000)
  --mask-percent P     share of messages with a listed mask word (default 10)
  --link-percent P     share of messages with a link to an allowed domain (default 10)
  --variants LIST      among ${[...VARIANTS, ...EXTRA_VARIANTS].join(', ')} (default ${VARIANTS.join(',')});
                       nopat-*: the whole chain without its patterns
  --subscribers on|off run the moderation subscribers (link-spam, new-account-flood), as deployed, or
                       disable them (MOD_SUBSCRIBERS_DISABLED) (default off: see the header of this file)
  --out FILE           JSON result (default bench/results/moderation-send-<date>.json)`);
  process.exit(0);
}
const int = intOption(opt);
const P = {
  concurrency: opt.concurrency.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error('--concurrency: a comma-separated list of integers >= 1');
    return n;
  }),
  seconds: int('seconds', 1),
  warmup: int('warmup', 0),
  rounds: int('rounds', 1),
  rooms: int('rooms', 1),
  members: int('members', 1),
  words: int('words', 2),
  bodies: int('bodies', 10),
  maskPercent: int('mask-percent', 0),
  linkPercent: int('link-percent', 0),
  variants: opt.variants.split(',').map((s) => s.trim()),
  subscribers: opt.subscribers,
};
if (!['on', 'off'].includes(P.subscribers)) throw new Error('--subscribers: on or off');
for (const v of P.variants)
  if (![...VARIANTS, ...EXTRA_VARIANTS].includes(v))
    throw new Error(`--variants: unknown variant "${v}" (${[...VARIANTS, ...EXTRA_VARIANTS].join(', ')})`);
if (P.maskPercent > 100 || P.linkPercent > 100) throw new Error('--mask-percent and --link-percent are percentages');

const { createSubjects, emptyFilterConfig, Limits } = require('../libs/contracts/dist/index.js');
const { RpcClient } = require('../libs/messaging/dist/index.js');

// ---------------------------------------------------------------------------------------------
// Word lists, configurations and messages (seeded: every run draws the same ones)

const { rnd, rint, one, unique, shuffle, latinWord, hanChar, hanWord } = seededRandom(9);

const latinList = unique(P.words, latinWord);
const chineseList = unique(P.words, hanWord);
const entries = (list) => list.map((term, i) => ({ term, action: i % 2 ? 'mask' : 'block' }));
const maskWords = (list) => list.filter((_, i) => i % 2);
const filler = unique(3000, latinWord, new Set(latinList));

const ALLOW = [
  'class',
  'classic',
  'assistant',
  'scunthorpe',
  'passage',
  'grass',
  'bass',
  'cocktail',
  'analysis',
  'therapist',
  'document',
  'skyscraper',
  'title',
  'assassin',
  'shitake',
  'butter',
];
const PATTERNS = [
  { name: 'card-number', pattern: '\\b\\d{4}[ -]\\d{4}[ -]\\d{4}[ -]\\d{4}\\b', action: 'block' },
  { name: 'phone', pattern: '\\+\\d{2,3}[ .-]\\d{3}[ .-]\\d{3,4}[ .-]\\d{3,4}', action: 'mask' },
  { name: 'invite', pattern: '(?:discord\\.gg|t\\.me)/[a-z0-9_]+', action: 'block' },
  { name: 'giveaway', pattern: 'free\\s+(?:bitcoin|crypto|nitro|robux)', action: 'block' },
  { name: 'followers', pattern: 'buy\\s+(?:cheap\\s+followers|followers)', action: 'hold' },
  { name: 'casino', pattern: 'casino\\s+bonus', action: 'hold' },
  { name: 'password', pattern: 'send\\s+me\\s+your\\s+password', action: 'block' },
  { name: 'dm-me', pattern: '加我微信|私聊我', action: 'hold' },
  { name: 'wechat-id', pattern: '微信号?[:：]?\\s*[a-z][a-z0-9_-]{5,19}', action: 'mask' },
  { name: 'qq', pattern: 'qq[:：]?\\s*\\d{5,11}', action: 'mask' },
];
// 150 blocked, 30 held, 20 allowed domains; links to others are allowed (default).
const DOMAINS = [
  ...Array.from({ length: 150 }, (_, i) => ({ domain: `spam${i}.xyz`, action: 'block' })),
  ...Array.from({ length: 30 }, (_, i) => ({ domain: `short${i}.ly`, action: 'hold' })),
  ...Array.from({ length: 20 }, (_, i) => ({ domain: `docs${i}.example.org`, action: 'allow' })),
];
const chainConfig = (list) => ({
  words: entries(list),
  allow: ALLOW,
  patterns: PATTERNS,
  links: { default: 'allow', domains: DOMAINS },
  spam: { repeatedCharsMax: 5, capsPercentMax: 70, capsMinLetters: 10 },
});
const link = () =>
  rnd() < 0.5 ? `https://docs${rint(0, 19)}.example.org/p/${rint(1, 999)}` : `https://en.wikipedia.org/wiki/${one(filler)}`;

/** A Latin message of 50-300 characters (a little more when a link ends it), sentences with a capital letter. */
function latinMessage(withMask, withLink) {
  const target = rint(50, 300);
  const words = [];
  let len = 0;
  const maskAt = withMask ? rint(0, 6) : -1;
  const linkAt = withLink ? rint(0, 8) : -1;
  let capital = true;
  while (len < target || words.length <= Math.max(maskAt, linkAt)) {
    let w = words.length === maskAt ? one(maskWords(latinList)) : words.length === linkAt ? link() : one(filler);
    if (capital && words.length !== linkAt) w = w[0].toUpperCase() + w.slice(1);
    capital = false;
    if (rnd() < 0.1 && words.length !== linkAt) {
      const p = one(['.', ',', '!', '?']);
      w += p;
      capital = p !== ',';
    }
    words.push(w);
    len += w.length + 1;
  }
  return words.join(' ');
}
/** A Chinese message of 50-300 characters with punctuation; whatever entries it holds by chance, plus a mask entry put in. */
function chineseMessage(withMask, withLink) {
  const target = rint(50, 300);
  let s = '';
  while (s.length < target) s += rnd() < 0.08 ? one(['，', '。', '、', '！']) : hanChar();
  const insert = (x) => {
    const at = rint(0, s.length - 5);
    s = s.slice(0, at) + x + s.slice(at);
  };
  if (withMask) insert(one(maskWords(chineseList)));
  if (withLink) insert(`看看${link()}吧`);
  return s;
}

/** Candidates of one language: more than needed of each kind, since some are blocked or masked by chance. */
function candidates(make) {
  const masked = Math.round((P.bodies * P.maskPercent) / 100);
  const out = [];
  for (let i = 0; i < Math.ceil(masked * 1.5) + 5; i++) out.push({ text: make(true, rnd() * 100 < P.linkPercent), intended: 'masked' });
  for (let i = 0; i < Math.ceil((P.bodies - masked) * 1.3) + 20; i++)
    out.push({ text: make(false, rnd() * 100 < P.linkPercent), intended: 'clean' });
  return out;
}
const LANGS = {
  latin: { list: latinList, make: latinMessage, probe: () => `so ${maskWords(latinList)[0]} it is` },
  chinese: { list: chineseList, make: chineseMessage, probe: () => `so ${maskWords(chineseList)[0]} it is` },
};

// ---------------------------------------------------------------------------------------------
// Processes

const procs = new Set();
const { cleanups, run } = lifecycle({
  finally_: async () => {
    for (const p of procs) await p.stop().catch(() => undefined);
  },
});
const RUN = { natsUrl: null, logDir: null };
let userSeq = 0;
const newUser = () => ({ userId: crypto.randomUUID(), username: `u${(++userSeq).toString(36)}` });
const ADMIN = { userId: crypto.randomUUID(), username: 'benchadmin' };

function newNamespace(tag) {
  const ns = `bench_${tag}_${crypto.randomBytes(4).toString('hex')}`;
  cleanups.push(async () => {
    await deleteNamespace(RUN.natsUrl, createSubjects(ns), 'modsend-bench-cleanup').catch((e) =>
      log(`could not delete NATS namespace ${ns}: ${e.message}`),
    );
  });
  return ns;
}

const SUBSCRIBERS = ['link-spam', 'new-account-flood'];

/**
 * Events the moderation subscribers' durable consumers (`mod-sub-<name>`, one event per pull)
 * have yet to handle: pending + delivered but not acknowledged, summed over the subscribers.
 */
async function subscriberBacklog(jsm, s) {
  let pending = 0;
  for (const name of SUBSCRIBERS) {
    for (const stream of [s.streams.chat.name, s.streams.accounts.name, s.streams.moderation.name]) {
      const info = await jsm.consumers.info(stream, s.consumers.moderationSubscriber(name)).catch(() => null);
      if (info) pending += info.num_pending + info.num_ack_pending;
    }
  }
  return pending;
}

/** Waits (at most `maxMs`) until the subscribers have handled every stored event; returns the time waited and what was left. */
async function drainSubscribers(jsm, s, maxMs = 180_000) {
  const t0 = now();
  let left = await subscriberBacklog(jsm, s);
  while (left > 0 && now() - t0 < maxMs) {
    await sleep(100);
    left = await subscriberBacklog(jsm, s);
  }
  return { waitedMs: now() - t0, left };
}

const errText = (errors) => (Object.keys(errors).length ? `, errors ${JSON.stringify(errors)}` : '');

/** `count` calls of `op(i)` with `concurrency` in flight; throws unless all succeed. */
async function all(count, concurrency, op, what) {
  let next = 0;
  const errors = {};
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const r = await op(next++);
        if (!r.ok) errors[r.error.code] = (errors[r.error.code] ?? 0) + 1;
      }
    }),
  );
  if (Object.keys(errors).length) throw new Error(`${what}: ${errText(errors)}`);
}

/**
 * `op` with `concurrency` calls in flight for `warmup` then `seconds` seconds (closed loop).
 * Latency of every call started in the measured window (`samples`, ms), posts answered within
 * it, refusals by code, CPU of the named processes over the window (cpuMeter).
 */
async function closedLoop({ op, concurrency, seconds, warmup, pids }) {
  const samples = [];
  const errors = {};
  const examples = {};
  let measuring = false;
  let stop = false;
  let completedInWindow = 0;
  let ok = 0;
  const worker = async () => {
    while (!stop) {
      const counted = measuring;
      const t = now();
      let r;
      try {
        r = await op();
      } catch (err) {
        r = { ok: false, error: { code: 'LOADGEN', message: String(err?.message ?? err) } };
      }
      if (measuring) completedInWindow++;
      if (!counted) continue;
      samples.push(now() - t);
      if (r.ok) ok++;
      else {
        errors[r.error.code] = (errors[r.error.code] ?? 0) + 1;
        const ex = (examples[r.error.code] ??= []);
        if (ex.length < 3) ex.push(r.error.message);
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  await sleep(warmup * 1000);
  const meter = cpuMeter(pids);
  const t0 = now();
  measuring = true;
  await sleep(seconds * 1000);
  measuring = false;
  const t1 = now();
  const cpu = meter();
  stop = true;
  await Promise.all(workers);
  return { seconds: (t1 - t0) / 1000, completed: completedInWindow, calls: samples.length, ok, errors, examples, samples, cpu };
}

// ---------------------------------------------------------------------------------------------
// The run

async function main() {
  const started = new Date();
  const info = machineInfo();
  const command = `node bench/moderation-send.mjs ${process.argv.slice(2).join(' ')}`.trim();
  log(`${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB, Node ${info.node}, load average ${info.loadavgAtStart.join(' ')}`);
  RUN.natsUrl = await ensureNats(log);
  RUN.logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-bench-modsend-'));
  info.natsVersion = await natsVersion(RUN.natsUrl, 'modsend-bench-info');

  const ns = newNamespace('modsend');
  const s = createSubjects(ns);
  const moderationEnv = {
    SERVER_ADMINS: ADMIN.username,
    MOD_SEND_RATE_PER_S: '0',
    MOD_FLOOD_ROOMS: '1000',
    MOD_FLOOD_WINDOW_S: '1',
    MOD_LINK_SPAM_LINKS: '1000',
    MOD_LINK_SPAM_ROOMS: '1000',
    MOD_NEW_ACCOUNT_MESSAGES: '10000',
    ...(P.subscribers === 'off' ? { MOD_SUBSCRIBERS_DISABLED: SUBSCRIBERS.join(',') } : {}),
  };
  log(`namespace ${ns}: starting moderation and rooms (logs in ${RUN.logDir})`);
  const moderation = await startBuiltService({
    name: 'moderation',
    namespace: ns,
    natsUrl: RUN.natsUrl,
    logDir: RUN.logDir,
    env: moderationEnv,
    procs,
  });
  const rooms = await startBuiltService({ name: 'rooms', namespace: ns, natsUrl: RUN.natsUrl, logDir: RUN.logDir, procs });
  cleanups.push(() => moderation.stop());
  cleanups.push(() => rooms.stop());
  const pids = () => ({ moderation: [moderation.child.pid], rooms: [rooms.child.pid], nats: pidsByName('nats-server') });

  const nc = await natsConnect(RUN.natsUrl, 'modsend-bench');
  cleanups.push(() => nc.close());
  const rpc = new RpcClient(nc, s, 60_000);
  const { jetstreamManager } = require('@nats-io/jetstream');
  const jsm = await jetstreamManager(nc);

  // Rooms and their members (members post: the rate-limit path is taken, with the limit off).
  const roomIds = Array.from({ length: P.rooms }, (_, i) => `ms-${i}`);
  const members = roomIds.map(() => Array.from({ length: P.members }, newUser));
  await all(
    P.rooms,
    8,
    (i) => rpc.call('rooms.create', { roomId: roomIds[i], name: `Bench ${i}`, memberLimit: Limits.memberLimitMax, ...newUser() }),
    'creating rooms',
  );
  await all(
    P.rooms * P.members,
    16,
    (k) => rpc.call('rooms.join', { roomId: roomIds[Math.floor(k / P.members)], ...members[Math.floor(k / P.members)][k % P.members] }),
    'joining rooms',
  );
  log(`${P.rooms} rooms with ${P.members} members each`);

  // Configurations: set, then wait until the filters answer as the new one says.
  const configs = {
    off: emptyFilterConfig(),
    latin: chainConfig(latinList),
    chinese: chainConfig(chineseList),
    'latin-nopat': { ...chainConfig(latinList), patterns: [] },
    'chinese-nopat': { ...chainConfig(chineseList), patterns: [] },
  };
  const configBytes = Object.fromEntries(Object.entries(configs).map(([k, c]) => [k, Buffer.byteLength(JSON.stringify(c))]));
  const applies = [];
  let current = null;
  const test = async (body) => {
    const r = await rpc.call('moderation.testFilters', { ...ADMIN, body });
    if (!r.ok) throw new Error(`moderation.testFilters: ${r.error.code} ${r.error.message}`);
    return r.data;
  };
  const setConfig = async (name) => {
    if (current === name) return;
    const t0 = now();
    const r = await rpc.call('moderation.setFilters', { ...ADMIN, config: configs[name] });
    if (!r.ok) throw new Error(`moderation.setFilters (${name}): ${r.error.code} ${r.error.message}`);
    const tSet = now();
    // The probes carry a mask word of each list: masked only under that list's configuration.
    for (;;) {
      const [l, c] = await Promise.all([test(LANGS.latin.probe()), test(LANGS.chinese.probe())]);
      const masked = (v) => v.verdict === 'allow' && v.body.includes('***');
      if (masked(l) === name.startsWith('latin') && masked(c) === name.startsWith('chinese')) break;
      if (now() - t0 > 60_000) throw new Error(`configuration ${name} not applied after 60 s`);
      await sleep(5);
    }
    const a = { config: name, setMs: tSet - t0, appliedMs: now() - t0 };
    applies.push(a);
    current = name;
    return a;
  };

  // Messages: candidates tried under the chain configuration of their language.
  const bodies = {};
  const selection = {};
  for (const lang of ['latin', 'chinese']) {
    if (!P.variants.some((v) => v.endsWith(lang))) continue;
    const a = await setConfig(lang);
    log(`${lang} chain configuration (${f0(configBytes[lang] / 1024)} KiB): set in ${f0(a.setMs)} ms, applied after ${f0(a.appliedMs)} ms`);
    const cands = candidates(LANGS[lang].make);
    const outcome = { clean: [], masked: [], dropped: {} };
    await all(
      cands.length,
      8,
      async (i) => {
        const v = await test(cands[i].text);
        if (v.verdict === 'allow' && v.body === cands[i].text.normalize('NFC')) outcome.clean.push(cands[i].text);
        else if (v.verdict === 'allow' && v.body.includes('***')) outcome.masked.push(cands[i].text);
        else {
          const k = v.verdict === 'allow' ? 'changed' : `${v.verdict} (${v.rule})`;
          outcome.dropped[k] = (outcome.dropped[k] ?? 0) + 1;
        }
        return { ok: true };
      },
      `classifying ${lang} messages`,
    );
    const nMasked = Math.round((P.bodies * P.maskPercent) / 100);
    if (outcome.masked.length < nMasked || outcome.clean.length < P.bodies - nMasked)
      throw new Error(`${lang}: too few messages (${outcome.clean.length} clean, ${outcome.masked.length} masked)`);
    // Candidates come in the order they were drawn; sorted for a reproducible choice.
    outcome.clean.sort();
    outcome.masked.sort();
    bodies[lang] = shuffle([...outcome.masked.slice(0, nMasked), ...outcome.clean.slice(0, P.bodies - nMasked)]);
    const chars = bodies[lang].map((b) => [...b].length);
    selection[lang] = {
      candidates: cands.length,
      clean: outcome.clean.length,
      masked: outcome.masked.length,
      dropped: outcome.dropped,
      used: bodies[lang].length,
      usedMasked: nMasked,
      withLink: bodies[lang].filter((b) => b.includes('http')).length,
      meanChars: chars.reduce((x, y) => x + y, 0) / chars.length,
      meanBytes: bodies[lang].reduce((x, b) => x + Buffer.byteLength(b), 0) / bodies[lang].length,
    };
    log(
      `${lang}: ${cands.length} candidates: ${outcome.clean.length} pass unchanged, ${outcome.masked.length} masked, dropped ${JSON.stringify(outcome.dropped)}; ` +
        `posting ${P.bodies} (${nMasked} masked, ${selection[lang].withLink} with a link, mean ${f0(selection[lang].meanChars)} chars)`,
    );
  }

  let msgSeq = 0;
  const post = (lang) => {
    const list = bodies[lang];
    return () => {
      const r = Math.floor(Math.random() * P.rooms);
      const m = members[r][Math.floor(Math.random() * P.members)];
      const seq = ++msgSeq;
      return rpc.call('rooms.post', { roomId: roomIds[r], clientMsgId: `b${seq.toString(36)}`, body: list[seq % list.length], ...m });
    };
  };

  // Warm-up of both services' code paths before the first measured window.
  await setConfig('off');
  await closedLoop({
    op: post(P.variants[0].split('-')[1]),
    concurrency: Math.max(...P.concurrency),
    seconds: 1,
    warmup: P.warmup + 2,
    pids,
  });

  // What the processes use with no traffic (timers, consumers' heartbeats), once the subscribers have caught up.
  const warmDrain = await drainSubscribers(jsm, s);
  if (P.subscribers === 'on') log(`subscribers caught up with the warm-up ${f0(warmDrain.waitedMs)} ms after it (${warmDrain.left} left)`);
  const idleMeter = cpuMeter(pids);
  await sleep(3000);
  const idle = idleMeter();
  log(
    `idle (3 s, no posts): CPU moderation ${idle.groups.moderation} % rooms ${idle.groups.rooms} % nats ${idle.groups.nats} % other ${idle.other} %`,
  );

  const windows = [];
  const total = P.rounds * P.variants.length * P.concurrency.length * (P.seconds + P.warmup);
  log(`${P.rounds} rounds x ${P.variants.length} variants x in flight ${P.concurrency.join(', ')}: ~${f0(total)} s`);
  for (let round = 0; round < P.rounds; round++) {
    const order = P.variants.map((_, i) => P.variants[(i + round) % P.variants.length]);
    for (const variant of order) {
      const [mode, lang] = variant.split('-');
      await setConfig(mode === 'off' ? 'off' : mode === 'nopat' ? `${lang}-nopat` : lang);
      for (const concurrency of P.concurrency) {
        // Every window starts with the subscribers caught up: the backlog of one window's posts
        // (they take one event per pull) is not handled during the next one.
        const drainedBefore = await drainSubscribers(jsm, s);
        const w = await closedLoop({ op: post(lang), concurrency, seconds: P.seconds, warmup: P.warmup, pids });
        w.subscriberBacklogAfter = await subscriberBacklog(jsm, s);
        w.drainedBefore = drainedBefore;
        const lat = latencyOf(w.samples);
        log(
          `round ${round + 1} ${variant} ${concurrency} in flight: ${f0(w.completed / w.seconds)} posts/s, p50/p99 ${f2(lat.p50)}/${f2(lat.p99)} ms, ` +
            `CPU moderation ${w.cpu.groups.moderation} % rooms ${w.cpu.groups.rooms} % nats ${w.cpu.groups.nats} % other ${w.cpu.other} %, subscribers ${f0(w.subscriberBacklogAfter)} events behind${errText(w.errors)}${Object.keys(w.examples).length ? ` (${JSON.stringify(w.examples)})` : ''}`,
        );
        windows.push({ round, variant, concurrency, ...w });
      }
    }
  }

  const results = aggregate(windows);
  const loadavgAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  report({ results, applies, selection, configBytes, idle, info, loadavgAtEnd, command, started });
  const out = writeResult({
    out: opt.out,
    name: 'moderation-send',
    started,
    result: {
      date: started.toISOString(),
      command,
      machine: { ...info, loadavgAtEnd },
      parameters: P,
      moderationEnv,
      configBytes,
      selection,
      configApplies: applies,
      idleCpuPercent: idle,
      results,
      windows: windows.map(({ samples, ...w }) => ({ ...w, latencyMs: latencyOf(samples) })),
    },
  });
  console.log(`\nresult written to ${out} (service logs in ${RUN.logDir})`);
}

// ---------------------------------------------------------------------------------------------
// Figures

const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

function aggregate(windows) {
  const out = [];
  for (const variant of P.variants)
    for (const concurrency of P.concurrency) {
      const ws = windows.filter((w) => w.variant === variant && w.concurrency === concurrency);
      const secs = ws.reduce((a, w) => a + w.seconds, 0);
      const completed = ws.reduce((a, w) => a + w.completed, 0);
      const errors = {};
      for (const w of ws) for (const [k, v] of Object.entries(w.errors)) errors[k] = (errors[k] ?? 0) + v;
      const cpu = (k) => mean(ws.map((w) => w.cpu.groups[k]));
      // CPU time of a process per post answered, in ms: % of a core x seconds / posts.
      const cpuMsPerPost = (k) => (completed ? ws.reduce((a, w) => a + (w.cpu.groups[k] / 100) * w.seconds * 1000, 0) / completed : null);
      out.push({
        variant,
        concurrency,
        rounds: ws.length,
        posts: completed,
        ok: ws.reduce((a, w) => a + w.ok, 0),
        errors,
        postsPerSec: completed / secs,
        postsPerSecByRound: ws.map((w) => w.completed / w.seconds),
        latencyMs: latencyOf(ws.flatMap((w) => w.samples)),
        p50ByRound: ws.map((w) => latencyOf(w.samples).p50),
        cpuPercent: {
          moderation: cpu('moderation'),
          rooms: cpu('rooms'),
          nats: cpu('nats'),
          loadgen: mean(ws.map((w) => w.cpu.loadgen)),
          other: mean(ws.map((w) => w.cpu.other)),
          otherMax: Math.max(...ws.map((w) => w.cpu.other ?? 0)),
          machine: mean(ws.map((w) => w.cpu.machineBusy)),
        },
        cpuMsPerPost: { moderation: cpuMsPerPost('moderation'), rooms: cpuMsPerPost('rooms'), nats: cpuMsPerPost('nats') },
        // Events the subscribers had yet to handle at the end of the window (posts in the window for comparison).
        subscriberBacklogAfter: ws.map((w) => w.subscriberBacklogAfter),
        postsInWindow: ws.map((w) => w.calls),
      });
    }
  return out;
}

function report({ results, applies, selection, configBytes, idle, info, loadavgAtEnd, command, started }) {
  console.log('');
  console.log(`# Moderation: send latency with and without the filter chain, ${started.toISOString()}`);
  console.log(`command: ${command}`);
  console.log(
    `machine: ${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB, ${info.os}, Node ${info.node}, NATS ${info.natsVersion}; load average at start ${info.loadavgAtStart.join(' ')}, at end ${loadavgAtEnd.join(' ')}`,
  );
  console.log(
    `${P.rounds} rounds; per variant, in flight and round ${P.warmup} s warm-up + ${P.seconds} s measured; ${P.rooms} rooms x ${P.members} posting members; ` +
      `chain: ${f0(P.words)} words (half mask, half block), ${ALLOW.length} allow-list entries, ${PATTERNS.length} patterns, ${DOMAINS.length} domains, repeated chars <= 5, caps <= 70 %; ` +
      `moderation subscribers ${P.subscribers === 'on' ? `running (${SUBSCRIBERS.join(', ')}; each window starts once they have caught up)` : 'disabled'}`,
  );
  for (const [lang, sel] of Object.entries(selection))
    console.log(
      `${lang} messages: ${sel.used} (${sel.usedMasked} masked by the chain, ${sel.withLink} with a link), mean ${f0(sel.meanChars)} chars / ${f0(sel.meanBytes)} bytes; ` +
        `of ${sel.candidates} candidates ${JSON.stringify(sel.dropped)} left out`,
    );
  console.log(
    `idle (3 s with no posts, chain off): CPU moderation ${idle.groups.moderation} %, rooms ${idle.groups.rooms} %, nats ${idle.groups.nats} %, other ${idle.other} % of a core`,
  );
  console.log('');
  const rows = results.map((r) => [
    r.variant,
    r.concurrency,
    f0(r.postsPerSec),
    `${f0(Math.min(...r.postsPerSecByRound))}-${f0(Math.max(...r.postsPerSecByRound))}`,
    f2(r.latencyMs.p50),
    f2(r.latencyMs.p90),
    f2(r.latencyMs.p99),
    f2(r.latencyMs.max),
    f0(r.cpuPercent.moderation),
    f0(r.cpuMsPerPost.moderation * 1000),
    f0(r.cpuPercent.rooms),
    f0(r.cpuPercent.nats),
    `${f0(r.cpuPercent.other)} (max ${f0(r.cpuPercent.otherMax)})`,
    P.subscribers === 'on' ? f0(Math.max(...r.subscriberBacklogAfter)) : '-',
    Object.keys(r.errors).length ? JSON.stringify(r.errors) : '0',
  ]);
  console.log(
    renderTable(
      [
        'variant',
        'in flight',
        'posts/s',
        'posts/s by round',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'max ms',
        'moderation CPU %',
        'moderation CPU µs/post',
        'rooms CPU %',
        'nats CPU %',
        'other CPU %',
        'subscribers behind (max)',
        'refused',
      ],
      rows,
    ),
  );
  console.log('');
  const diffs = [];
  for (const lang of ['latin', 'chinese'])
    for (const mode of ['chain', 'nopat'])
      for (const c of P.concurrency) {
        const off = results.find((r) => r.variant === `off-${lang}` && r.concurrency === c);
        const on = results.find((r) => r.variant === `${mode}-${lang}` && r.concurrency === c);
        if (!off || !on) continue;
        const d = (k) => on.latencyMs[k] - off.latencyMs[k];
        diffs.push([
          mode === 'chain' ? lang : `${lang}, chain without patterns`,
          c,
          `${f2(d('p50'))} (${f2(on.latencyMs.p50)} vs ${f2(off.latencyMs.p50)})`,
          `${f2(d('p90'))}`,
          `${f2(d('p99'))} (${f2(on.latencyMs.p99)} vs ${f2(off.latencyMs.p99)})`,
          `${f2(on.postsPerSec / off.postsPerSec)} x`,
          `${f0((on.cpuMsPerPost.moderation - off.cpuMsPerPost.moderation) * 1000)} (${f0(on.cpuMsPerPost.moderation * 1000)} vs ${f0(off.cpuMsPerPost.moderation * 1000)})`,
        ]);
      }
  if (diffs.length) {
    console.log('The whole chain against none (chain - off, same messages):');
    console.log(
      renderTable(
        [
          'messages',
          'in flight',
          'p50 ms more (chain vs off)',
          'p90 ms more',
          'p99 ms more (chain vs off)',
          'posts/s chain / off',
          'moderation CPU µs/post more (chain vs off)',
        ],
        diffs,
      ),
    );
    console.log('');
  }
  const byConfig = {};
  for (const a of applies) (byConfig[a.config] ??= []).push(a);
  console.log(
    'Configuration changes (moderation.setFilters as a server administrator, then moderation.testFilters until it answers as the new configuration says):',
  );
  console.log(
    renderTable(
      ['configuration', 'JSON KiB', 'changes', 'setFilters answered ms (median, max)', 'applied after ms (median, max)'],
      Object.entries(byConfig).map(([k, as]) => {
        const set = as.map((a) => a.setMs).sort((a, b) => a - b);
        const app = as.map((a) => a.appliedMs).sort((a, b) => a - b);
        return [
          k,
          f0(configBytes[k] / 1024),
          as.length,
          `${f0(set[Math.floor(set.length / 2)])}, ${f0(set.at(-1))}`,
          `${f0(app[Math.floor(app.length / 2)])}, ${f0(app.at(-1))}`,
        ];
      }),
    ),
  );
  console.log('');
  const maxOther = Math.max(0, ...results.map((r) => r.cpuPercent.otherMax));
  if (maxOther >= 20)
    console.log(
      `WARNING: other processes used up to ${maxOther}% of a core during a measured window: the figures are skewed; re-run on a quiet machine.`,
    );
  else console.log(`nothing else used more than ${maxOther}% of a core during the measured windows.`);
}

await run(main);
