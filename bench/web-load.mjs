// How fast the web client is ready (issue 10): the whole stack started from the built services
// (scripts/stack.cjs, a fresh NATS namespace and Postgres schema, deleted afterwards) and
// Debian's Chromium driven by playwright-core (headless, like the browser tests). It prints
// figures; it asserts nothing. See docs/benchmarks.md, section "Web client".
//
//   npm run bench:web        (builds first)
//   node bench/web-load.mjs --help
//
// Two moments, each timed in the page from the navigation's start (performance.now(), whose
// origin is the navigation start) by a script added before the page's own (addInitScript) that
// checks on every animation frame and DOM change:
//   login ready: the login form's username input is shown, enabled, and takes the focus (the
//                form is hidden in index.html until the bundle has run and found no session);
//   chat ready:  a logged-in reload shows the chat view with the room list filled and the open
//                room's timeline loaded with its messages (#message-list data-state="ready" and
//                at least one message in it).
// "Warm" runs reuse one browser context (its HTTP cache, its stored session); the gateway serves
// the page with express.static (ETag, max-age 0), so a warm load revalidates each file (304).
// "Cold" is a fresh context (empty cache), once. The bundle sizes are read from the built files
// (gzip level 9, as scripts/build-web.mjs reports them).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BENCH_MODERATION_ENV,
  CLK_TCK,
  procTicks,
  deleteNamespace,
  dropSchema,
  f0,
  freePort,
  intOption,
  lifecycle,
  log,
  machineInfo,
  renderTable,
  writeResult,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { ensureNats, ensurePostgres } = require('../scripts/infra.cjs');
const { SERVICES, startStack } = require('../scripts/stack.cjs');

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    messages: { type: 'string', default: '60' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(`node bench/web-load.mjs [--runs 20] [--messages 60] [--out file.json]
  --runs      warm loads measured for each moment (login form, logged-in reload)
  --messages  messages in the room the logged-in user has open`);
  process.exit(0);
}
const int = intOption(opt);
const RUNS = int('runs', 1);
const MESSAGES = int('messages', 1);
const { CHROMIUM, CHROMIUM_ARGS } = createRequire(import.meta.url)('../scripts/chromium.cjs');
const TARGET_MS = 1000;
const BUDGET = { minified: 360 * 1024, gzipped: 120 * 1024 };

const { cleanups, run } = lifecycle({});

/**
 * Runs in the page before its scripts: records in window.__ready the time (ms since the
 * navigation's start) at which each moment was first seen.
 */
function readinessProbe() {
  const ready = {};
  Object.defineProperty(window, '__ready', { value: ready });
  const shown = (el) => el && !el.closest('[hidden]') && el.getClientRects().length > 0;
  const check = () => {
    const t = performance.now();
    if (ready.login === undefined) {
      const input = document.querySelector('[data-testid="username"]');
      if (shown(input) && !input.disabled) {
        input.focus();
        if (document.activeElement === input) ready.login = t;
      }
    }
    if (ready.chat === undefined) {
      const list = document.querySelector('[data-testid="message-list"]');
      if (
        shown(document.querySelector('[data-testid="chat-view"]')) &&
        document.querySelector('[data-testid="room-list"] [data-testid^="room-"]') &&
        list?.getAttribute('data-state') === 'ready' &&
        list.querySelector('[data-testid="message"]')
      )
        ready.chat = t;
    }
    if (ready.login === undefined || ready.chat === undefined) requestAnimationFrame(check);
  };
  const observe = () => new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
  if (document.documentElement) observe();
  else document.addEventListener('readystatechange', observe, { once: true });
  requestAnimationFrame(check);
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** Navigates (or reloads) and returns the page-side time of `moment`, with what app.js cost on the wire. */
async function timed(page, moment, go) {
  const before = rendererCpuMs();
  await go();
  const handle = await page.waitForFunction((m) => window.__ready?.[m], moment, { timeout: 30_000 });
  const ms = await handle.jsonValue();
  // CPU time of the browser's renderers (the page's script, style, layout, and V8's threads)
  // until the moment was seen (a little after: the polling). Unlike the wall time it hardly
  // grows with the machine's load: what the page costs, not how long it waited for a core.
  const cpuMs = rendererCpuMs() - before;
  const appJs = await page.evaluate(() => {
    const e = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/bundle/app.js'));
    return e ? { transfer: e.transferSize, status: e.responseStatus ?? null } : null;
  });
  return { ms, cpuMs, appJs };
}

/** Our descendants' pids (the browser and its zygote, renderers, GPU and network processes). */
function descendants(pid = process.pid, out = []) {
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      for (const child of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
        out.push(Number(child));
        descendants(Number(child), out);
      }
    }
  } catch {}
  return out;
}

/** CPU time so far of our browser's renderer processes (others' browsers on the machine are not ours), in ms. */
function rendererCpuMs() {
  let ticks = 0;
  for (const pid of descendants()) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
    } catch {
      continue;
    }
    ticks += procTicks(pid) ?? 0;
  }
  return (ticks * 1000) / CLK_TCK;
}

function bundleSizes() {
  const file = (p) => path.join(root, 'apps/gateway/public', p);
  const size = (p) => {
    const buf = fs.readFileSync(file(p));
    return { bytes: buf.length, gzipped: zlib.gzipSync(buf, { level: 9 }).length };
  };
  return { appJs: size('bundle/app.js'), styleCss: size('style.css'), indexHtml: size('index.html') };
}

async function main() {
  const started = new Date();
  const info = machineInfo();
  const command = `node bench/web-load.mjs ${process.argv.slice(2).join(' ')}`.trim();
  log(`${info.cpus} x ${info.cpuModel}, ${info.ramGiB} GiB, Node ${info.node}, load average ${info.loadavgAtStart.join(' ')}`);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  if (!fs.existsSync(path.join(root, 'apps/gateway/public/bundle/app.js'))) throw new Error('no web bundle: run npm run build first');
  const bundle = bundleSizes();
  info.chromium = (await import('node:child_process'))
    .execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .trim();

  const natsUrl = await ensureNats(log);
  const databaseUrl = await ensurePostgres(log);
  const namespace = `bench_web_${crypto.randomBytes(4).toString('hex')}`;
  const schema = namespace;
  const { createSubjects } = require('../libs/contracts/dist/index.js');
  cleanups.push(() => dropSchema(databaseUrl, schema));
  cleanups.push(() => deleteNamespace(natsUrl, createSubjects(namespace), 'web-bench-cleanup'));
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-bench-web-'));
  const ports = {};
  while (new Set(Object.values(ports)).size < SERVICES.length) for (const s of SERVICES) ports[s] = await freePort();
  log(`starting the stack (logs in ${logDir})`);
  const stack = await startStack({
    env: {
      NATS_URL: natsUrl,
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      NATS_NAMESPACE: namespace,
      JWT_SECRET: crypto.randomBytes(48).toString('base64url'),
      LOG_LEVEL: 'warn',
    },
    ports,
    serviceEnv: {
      gateway: { WS_RATE_PER_S: '1000000', WS_RATE_BURST: '1000000', REGISTER_MAX_PER_ADDRESS: '1000000' },
      moderation: BENCH_MODERATION_ENV,
    },
    output: logDir,
  });
  cleanups.push(() => stack.stopAll());
  const base = stack.urls.gateway;

  // A user with a room of messages (Chinese and emoji, like the rooms people use).
  const { register, login, ChatClient, wsUrlOf } = require('../libs/client/dist/index.js');
  const { default: WebSocket } = await import('ws');
  const username = `reader_${crypto.randomBytes(3).toString('hex')}`;
  const password = crypto.randomBytes(12).toString('base64url');
  await register(base, username, password);
  const client = await ChatClient.connect(wsUrlOf(base), { WebSocket, reconnect: false });
  cleanups.push(() => client.close());
  await client.auth((await login(base, username, password)).accessToken);
  const roomId = 'bench-room';
  await client.request('room.create', { roomId, name: '基准测试 Bench room', visibility: 'public' });
  for (let i = 0; i < MESSAGES; i++)
    await client.request('message.send', { roomId, clientMsgId: `b${i}`, body: `第 ${i + 1} 条消息：今天天气不错 ☀️ message ${i + 1}` });
  log(`user ${username}, room ${roomId} with ${MESSAGES} messages`);

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
  cleanups.push(() => browser.close());
  const newContext = async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    await ctx.addInitScript(readinessProbe);
    return ctx;
  };

  // Cold: an empty cache, once.
  const coldCtx = await newContext();
  const coldPage = await coldCtx.newPage();
  const cold = await timed(coldPage, 'login', () => coldPage.goto(base, { waitUntil: 'commit' }));
  await coldCtx.close();
  log(`cold login form: ${f0(cold.ms)} ms (app.js ${cold.appJs?.transfer} bytes on the wire)`);

  // Warm: one context; the first load fills its cache and is not counted.
  const ctx = await newContext();
  const page = await ctx.newPage();
  await timed(page, 'login', () => page.goto(base, { waitUntil: 'commit' }));
  const loginRuns = [];
  for (let i = 0; i < RUNS; i++) loginRuns.push(await timed(page, 'login', () => page.reload({ waitUntil: 'commit' })));

  // Logged in (remembered, so the session is in localStorage), with the room open.
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('remember-me').check();
  await page.getByTestId('login').click();
  await page.getByTestId('chat-view').waitFor({ state: 'visible' });
  await page.getByTestId(`open-${roomId}`).click();
  await page.locator(`[data-testid="room-view"][data-room-id="${roomId}"]`).waitFor();
  await timed(page, 'chat', () => page.reload({ waitUntil: 'commit' }));
  const chatRuns = [];
  for (let i = 0; i < RUNS; i++) chatRuns.push(await timed(page, 'chat', () => page.reload({ waitUntil: 'commit' })));
  await ctx.close();

  const summary = (runs) => {
    const ms = runs.map((r) => r.ms);
    const cpu = runs.map((r) => r.cpuMs);
    return {
      rendererCpuP50: pct(cpu, 50),
      rendererCpuP95: pct(cpu, 95),
      p50: pct(ms, 50),
      p95: pct(ms, 95),
      min: Math.min(...ms),
      max: Math.max(...ms),
      appJsTransfer: runs[0].appJs?.transfer ?? null,
    };
  };
  const result = {
    started: started.toISOString(),
    command,
    machine: { ...info, loadavgAtEnd: os.loadavg().map((x) => Number(x.toFixed(2))) },
    runs: RUNS,
    messages: MESSAGES,
    targetMs: TARGET_MS,
    coldLoginMs: cold.ms,
    coldLoginRendererCpuMs: cold.cpuMs,
    coldAppJsTransfer: cold.appJs?.transfer ?? null,
    warmLogin: summary(loginRuns),
    warmChat: summary(chatRuns),
    bundle,
    budget: BUDGET,
    samples: {
      login: loginRuns.map((r) => r.ms),
      chat: chatRuns.map((r) => r.ms),
      loginRendererCpu: loginRuns.map((r) => r.cpuMs),
      chatRendererCpu: chatRuns.map((r) => r.cpuMs),
    },
  };

  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`\nWeb client load (${RUNS} warm runs each, target ${TARGET_MS} ms), ${info.cpus} x ${info.cpuModel}, ${info.chromium}`);
  console.log(
    renderTable(
      ['moment', 'cache', 'p50 ms', 'p95 ms', 'min ms', 'max ms', 'renderer CPU p50 / p95 ms', 'app.js on the wire'],
      [
        ['login form interactive', 'cold (once)', f0(cold.ms), '', '', '', f0(cold.cpuMs), `${cold.appJs?.transfer ?? '-'} B`],
        ...[
          ['login form interactive', result.warmLogin],
          ['logged in: rooms + timeline shown', result.warmChat],
        ].map(([m, s]) => [
          m,
          'warm',
          f0(s.p50),
          f0(s.p95),
          f0(s.min),
          f0(s.max),
          `${f0(s.rendererCpuP50)} / ${f0(s.rendererCpuP95)}`,
          `${s.appJsTransfer ?? '-'} B`,
        ]),
      ],
    ),
  );
  console.log(
    `\nbundle: app.js ${kib(bundle.appJs.bytes)} minified, ${kib(bundle.appJs.gzipped)} gzipped (budget ${kib(BUDGET.minified)} / ${kib(BUDGET.gzipped)}); ` +
      `style.css ${kib(bundle.styleCss.bytes)}, ${kib(bundle.styleCss.gzipped)} gzipped; index.html ${kib(bundle.indexHtml.bytes)}`,
  );
  console.log(`load average at start ${info.loadavgAtStart.join(' ')}, at end ${result.machine.loadavgAtEnd.join(' ')}`);
  log(`result written to ${writeResult({ out: opt.out, name: 'web-load', started, result })}`);
}

run(main);
