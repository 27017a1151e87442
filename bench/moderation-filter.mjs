// Moderation filter benchmark (issue 9): the cost per message of the word-list filter and of the
// whole filter chain with a 10,000-entry list (6,000 Latin words, 4,000 Chinese words), Latin
// and Chinese messages of 50-300 characters. It prints figures; it asserts nothing. See
// docs/benchmarks.md, section "Moderation filter".
//
//   npm run bench:moderation               (builds first)
//   node bench/moderation-filter.mjs --help
//
// In the same run, on the same list and messages:
//  - new:      WordListMatcher.apply (apps/moderation/dist/rules/wordlist/matcher.js): fold the
//              message to its skeleton, one Aho-Corasick pass, word-boundary and allow-list
//              checks, masking of the original;
//  - chain, words only: FilterChain (dist/rules/chain.js) of a room without its own
//              configuration under a server configuration holding only the list: the word rule
//              plus the cost of the other rules when they have nothing to do;
//  - chain, full: the whole chain as a busy deployment might set it: the server's list (half
//              mask, half block) with an allow-list, 10 patterns, 200 blocked and 20 held link
//              domains, repeated-character and capitals limits; the room's own 50 words, allow
//              words, 5 patterns and 20 domains. One message in ten carries a link (to a listed
//              domain or not), so link finding runs (linkify-it) on top of the lookups;
//  - old:      the BlockList as it was before issue 9 (one alternation regex over the Latin
//              words with whole-word look-arounds, then `includes` for each CJK entry), copied
//              below from commit 40ced38 apps/moderation/src/rules/blocklist.ts.
// Each message is timed alone (process.hrtime.bigint around one call) after a warm-up pass;
// rounds repeat over the message set until --seconds per filter have passed. The chain's
// figures are the send check's content part (with patterns, the time until the worker thread's
// answer: a round trip of two thread messages on top of the matching); the send-path checks before it (ban, mute, token
// bucket, flood) are map lookups plus one skeleton fold for the flood key.
import os from 'node:os';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { f0, log, machineInfo, renderTable, seededRandom } from './lib.mjs';

const require = createRequire(import.meta.url);

const { values: opt } = parseArgs({
  options: {
    latin: { type: 'string', default: '6000' },
    chinese: { type: 'string', default: '4000' },
    messages: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '4' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(`node bench/moderation-filter.mjs [--latin 6000] [--chinese 4000] [--messages 1000] [--seconds 4]
  --latin N      Latin entries in the list
  --chinese N    Chinese entries in the list
  --messages N   messages of each kind (Latin, Chinese), 50-300 characters
  --seconds S    time per filter and kind of message (each message timed alone)`);
  process.exit(0);
}

const { emptyFilterConfig } = require('../libs/contracts/dist/index.js');
const { WordListMatcher } = require('../apps/moderation/dist/rules/wordlist/matcher.js');
const { FilterChain, ServerFilters } = require('../apps/moderation/dist/rules/chain.js');

// ---------------------------------------------------------------------------------------------
// The BlockList before issue 9 (commit 40ced38), unchanged but for types.

const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}';
const cjkChar = new RegExp(`[${CJK}]`, 'u');
const spaceBetweenCjk = new RegExp(`(?<=[${CJK}]) (?=[${CJK}])`, 'gu');
function oldFold(text) {
  return text
    .normalize('NFKC')
    .replace(/\p{Default_Ignorable_Code_Point}/gu, '')
    .toUpperCase()
    .toLowerCase()
    .replace(/ß/gu, 'ss')
    .replace(/\s+/gu, ' ')
    .replace(spaceBetweenCjk, '');
}
class OldBlockList {
  constructor(entries) {
    const cleaned = [
      ...new Set(
        entries
          .map(oldFold)
          .map((e) => e.trim())
          .filter(Boolean),
      ),
    ];
    const isCjk = (s) => cjkChar.test(s);
    this.cjk = cleaned.filter(isCjk);
    const words = cleaned.filter((e) => !isCjk(e)).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const wordChar = `(?![${CJK}])[\\p{L}\\p{N}]`;
    this.wordRe = words.length ? new RegExp(`(?<!${wordChar})(?:${words.join('|')})(?!${wordChar})`, 'u') : null;
  }
  check(body) {
    const text = oldFold(body);
    const hit = this.cjk.find((w) => text.includes(w)) ?? text.match(this.wordRe ?? /$^/u)?.[0];
    if (hit !== undefined) return { verdict: 'reject' };
    return { verdict: 'allow', body: body.normalize('NFC') };
  }
}

// ---------------------------------------------------------------------------------------------
// List and messages (seeded: every run draws the same ones)

const { rnd, rint: int, one, unique, latinWord, hanChar, hanWord } = seededRandom(9);

const latinList = unique(Number(opt.latin), latinWord);
const chineseList = unique(Number(opt.chinese), hanWord);
const listed = [...latinList, ...chineseList];
const filler = unique(2000, latinWord).filter((w) => !latinList.includes(w));
const punct = ['.', ',', '!', '?', ''];

// Link domains: 200 blocked and 20 held by the server, 20 more named by the room.
const domains = unique(240, () => `${latinWord()}.${one(['com', 'net', 'org', 'io', 'xyz'])}`);
const serverDomains = domains.slice(0, 220);
const roomDomains = domains.slice(220);
/** One message in ten gets a link: to a listed domain half the time, else to an unlisted one. */
const maybeLink = () => (rnd() < 0.1 ? ` https://${rnd() < 0.5 ? one(domains) : `${latinWord()}.com`}/${latinWord()}` : '');

/** A Latin message of 50-300 characters; one in ten contains a listed word. */
function latinMessage() {
  const target = int(50, 300);
  const words = [];
  let len = 0;
  const listedAt = rnd() < 0.1 ? int(0, 8) : -1;
  while (len < target) {
    const w = words.length === listedAt ? one(latinList) : one(filler);
    words.push(w + (rnd() < 0.1 ? one(punct) : ''));
    len += w.length + 1;
  }
  return words.join(' ').slice(0, target) + maybeLink();
}
/** A Chinese message of 50-300 characters with some punctuation; whatever entries it holds by chance, plus one in ten an entry put in (and one in ten a link). */
function chineseMessage() {
  const target = int(50, 300);
  let s = '';
  while (s.length < target) s += rnd() < 0.08 ? one(['，', '。', '、', '！']) : hanChar();
  if (rnd() < 0.1) {
    const at = int(0, s.length - 5);
    s = s.slice(0, at) + one(chineseList) + s.slice(at);
  }
  return s.slice(0, target) + maybeLink();
}

const n = Number(opt.messages);
const sets = { latin: Array.from({ length: n }, latinMessage), chinese: Array.from({ length: n }, chineseMessage) };

// ---------------------------------------------------------------------------------------------
// Filters

function build(name, make) {
  const t = process.hrtime.bigint();
  const filter = make();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  log(`${name}: built in ${ms.toFixed(0)} ms`);
  return { name, filter, buildMs: ms };
}
const entries = listed.map((word, i) => ({ word, action: i % 2 ? 'mask' : 'block' }));
const allowList = ['class', 'scunthorpe', 'assistant'];
const patterns = (n, prefix) =>
  Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${i}`,
    pattern: [`\\b${latinWord()}\\s+${latinWord()}\\b`, `${hanWord()}\\d{2,}`, `\\b\\d{3}-\\d{4}\\b`][i % 3],
    action: ['mask', 'block', 'hold'][i % 3],
  }));
const serverWordsOnly = {
  ...emptyFilterConfig(),
  words: listed.map((term, i) => ({ term, action: i % 2 ? 'mask' : 'block' })),
  allow: allowList,
};
const serverFull = {
  ...serverWordsOnly,
  patterns: patterns(10, 's'),
  links: { default: 'allow', domains: serverDomains.map((domain, i) => ({ domain, action: i < 200 ? 'block' : 'hold' })) },
  spam: { repeatedCharsMax: 12, capsPercentMax: 70, capsMinLetters: 10 },
};
const roomFull = {
  ...emptyFilterConfig(),
  words: unique(50, latinWord).map((term) => ({ term, action: 'mask' })),
  allow: ['grass'],
  patterns: patterns(5, 'r'),
  links: { default: null, domains: roomDomains.map((domain) => ({ domain, action: 'hold' })) },
  spam: { repeatedCharsMax: 8, capsPercentMax: null, capsMinLetters: null },
};
const filters = [
  build('new (WordListMatcher.apply)', () => {
    const m = new WordListMatcher(entries, allowList);
    return (t) => m.apply(t);
  }),
  build('chain, words only', () => {
    const c = new FilterChain(new ServerFilters(serverWordsOnly), null);
    return (t) => c.check(t);
  }),
  build('chain, full (server + room)', () => {
    const c = new FilterChain(new ServerFilters(serverFull), roomFull);
    return (t) => c.run(t);
  }),
  build('old (BlockList regex, 40ced38)', () => {
    const b = new OldBlockList(listed);
    return (t) => b.check(t);
  }),
];

// A filter may answer with a promise (a chain with patterns awaits its worker thread): its time
// is then the time until the answer, the service's thread being free meanwhile.
async function measure(fn, messages, seconds) {
  let sink = 0;
  for (const m of messages) sink += (await fn(m)) ? 1 : 0; // warm-up
  const samples = [];
  let hits = 0;
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  let rounds = 0;
  do {
    for (const m of messages) {
      const t = process.hrtime.bigint();
      let r = fn(m);
      if (r instanceof Promise) r = await r;
      samples.push(Number(process.hrtime.bigint() - t));
      if (
        rounds === 0 &&
        (r.verdict === 'block' ||
          r.verdict === 'reject' ||
          (r.action !== undefined && (r.action !== 'allow' || r.body !== m)) ||
          r.hits?.length)
      )
        hits++;
    }
    rounds++;
  } while (process.hrtime.bigint() < end);
  samples.sort((a, b) => a - b);
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { n: samples.length, p50: q(0.5), p99: q(0.99), mean, hits, sink };
}

const started = new Date();
const info = machineInfo();
log(`list: ${latinList.length} Latin + ${chineseList.length} Chinese entries; ${n} messages of each kind`);
const rows = [];
for (const [kind, messages] of Object.entries(sets)) {
  const chars = messages.reduce((a, m) => a + m.length, 0) / messages.length;
  for (const f of filters) {
    const r = await measure(f.filter, messages, Number(opt.seconds));
    rows.push([kind, f.name, f0(chars), f0(r.n), f0(r.p50), f0(r.p99), f0(r.mean), `${r.hits}/${messages.length}`, f0(f.buildMs)]);
    log(`${kind} ${f.name}: p50 ${f0(r.p50)} ns, p99 ${f0(r.p99)} ns`);
  }
}

console.log(`\nMachine: ${info.cpuModel}, ${info.cpus} CPUs, ${info.ramGiB} GiB, ${info.os}, Node ${info.node}`);
console.log(
  `Date: ${started.toISOString()}; load average at start ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}\n`,
);
console.log(
  renderTable(
    ['messages', 'filter', 'mean chars', 'timed calls', 'p50 ns/msg', 'p99 ns/msg', 'mean ns/msg', 'messages hit', 'build ms'],
    rows,
  ),
);
