// Property-based fuzzing of the gateway (issue 11, "Bad input and attackers"): over 100,000
// random and mutated WebSocket frames and thousands of HTTP bodies against the built stack,
// including prototype-pollution keys, huge numbers, deep nesting, wrong types, long strings, NUL
// and lone surrogates, invalid UTF-8. Every frame gets exactly one reply, a valid one or a typed
// error (never INTERNAL); every HTTP answer is a typed JSON error or a success; all five
// services stay up; the gateway's memory stays bounded; and refused input changed nothing: the
// probes would see a polluted Object.prototype, the accounts the HTTP bodies aimed at still log
// in with their passwords.
import fs from 'node:fs';
import fc from 'fast-check';
import WebSocket from 'ws';
import { eventually } from '@chat/testing';
import { printLogsIfFailed, startTestStack, type TestStack } from '../e2e/fixture';
import { createAccount, http, type Account } from '../e2e/doc-client';
import { frameArb, httpArb, httpProblem, httpTargets, replyProblem, validSamples, type FuzzContext, type FuzzFrame } from './frames';

jest.setTimeout(300_000);

/**
 * Fuzz frames (pings added to keep the bad-frame count under 50 are not counted). FUZZ_FRAMES
 * sets fewer for a quick look at a change; the figure is the default.
 */
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000);
const SOCKETS = 4;
/** Frames per socket per round: pipelined, below WS_MAX_INFLIGHT (256). */
const PER_SOCKET = 200;
const ROUNDS = Math.ceil(FRAMES / (SOCKETS * PER_SOCKET));
const HTTP_BODIES = 5_000;
const HTTP_CONCURRENCY = 16;
/** A ping after this many fuzz frames: 50 bad frames in a row would close the socket (4400). */
const PING_EVERY = 20;
/**
 * Memory bound: the gateway's RSS at the end may exceed its RSS after the first tenth of the
 * rounds (heap grown to its working size) by at most this much. A leak of a few hundred bytes
 * per frame over the remaining 90,000 frames would pass it.
 */
const RSS_GROWTH_BOUND = 96 * 1024 * 1024;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

class FuzzSocket {
  readonly replies: any[] = [];
  events = 0;
  closed: { code: number; reason: string } | null = null;
  private pings = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let msg: any;
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch {
        msg = { unparsable: data.toString('utf8') };
      }
      if (msg?.type === 'evt') this.events++;
      else this.replies.push(msg);
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  }

  static open(url: string): Promise<FuzzSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const s = new FuzzSocket(ws);
      ws.once('open', () => resolve(s));
      ws.once('error', reject);
    });
  }

  /** Sends the frames at once (a ping after every PING_EVERY) and waits for one reply to each. */
  async exchange(frames: FuzzFrame[]): Promise<{ replies: any[]; sentIds: Set<string>; sent: string[] }> {
    const sentIds = new Set<string>();
    const sent: string[] = [];
    const from = this.replies.length;
    frames.forEach((f, i) => {
      sent.push(f.text);
      if (f.id !== null) sentIds.add(f.id);
      // A frame over 64 KiB is answered with the first `"id":"…"` of its first 512 bytes,
      // wherever it stands (docs/protocol.md, Frames): that id counts as sent.
      const bytes = Buffer.from(f.text);
      const peeked = bytes.length > 65_536 ? /"id"\s*:\s*"([^"\\]+)"/.exec(bytes.subarray(0, 512).toString('utf8')) : null;
      if (peeked) sentIds.add(peeked[1]);
      this.ws.send(f.text);
      if ((i + 1) % PING_EVERY === 0) {
        const id = `ping-${++this.pings}`;
        sentIds.add(id);
        sent.push(`{"type":"req","id":"${id}","op":"ping"}`);
        this.ws.send(sent[sent.length - 1]);
      }
    });
    await eventually(() => this.replies.length - from >= sent.length || this.closed !== null, 60_000, 5);
    if (this.replies.length - from < sent.length)
      throw new Error(`socket closed ${JSON.stringify(this.closed)} after ${this.replies.length - from} of ${sent.length} replies`);
    return { replies: this.replies.slice(from), sentIds, sent };
  }

  /** Resolves with the close, if the gateway closes the socket. */
  waitClose(): Promise<{ code: number; reason: string }> {
    return eventually(() => this.closed, 15_000);
  }
}

let stack: TestStack;
let gateway: string;
let wsUrl: string;
let fuzzer: Account;
let other: Account;
let httpUser: Account;
let ctx: FuzzContext;

async function call(s: FuzzSocket, op: string, data?: unknown): Promise<any> {
  const { replies } = await s.exchange([{ text: JSON.stringify({ type: 'req', id: `setup-${op}-${Math.random()}`, op, data }), id: null }]);
  const r = replies.find((x) => x.type === 'res' && String(x.id).startsWith(`setup-${op}`));
  if (!r?.ok) throw new Error(`${op} failed: ${JSON.stringify(r)}`);
  return r.data;
}

async function authed(account: Account): Promise<FuzzSocket> {
  const s = await FuzzSocket.open(wsUrl);
  await call(s, 'auth', { token: account.token });
  return s;
}

async function gatewayMetric(name: string): Promise<number> {
  const text = await (await fetch(`${gateway}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`${name} not in the gateway's /metrics`);
  return Number(line.split(' ')[1]);
}

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      // The fuzz sends far faster than a person and registers from one address.
      WS_MAX_INFLIGHT: '1000',
      // the unauthenticated fuzz socket stays open for the whole run, and a test process busy
      // generating frames on a loaded machine may answer a keep-alive ping late (1006 otherwise)
      WS_AUTH_TIMEOUT_MS: '600000',
      WS_PING_INTERVAL_MS: '60000',
      LOG_LEVEL: 'warn',
      // Password hashing at its cheapest, and the login limits out of reach: the bodies are what
      // is fuzzed, not argon2's cost, and the accounts must still log in afterwards (the limits'
      // own rules are proven by the gateway's tests).
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_ITERATIONS: '1',
      LOGIN_MAX_FAILURES: '10000',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000',
    },
  });
  gateway = stack.urls.gateway;
  wsUrl = `${gateway.replace(/^http/, 'ws')}/ws`;
  const tag = Date.now().toString(36);
  fuzzer = await createAccount(gateway, `fz${tag}`);
  other = await createAccount(gateway, `fo${tag}`);
  httpUser = await createAccount(gateway, `fh${tag}`);
  const s = await authed(fuzzer);
  const room = await call(s, 'room.create', { roomId: `fuzz-${tag}`, name: 'fuzz', visibility: 'public' });
  const spare = await call(s, 'room.create', { roomId: `spare-${tag}`, name: 'spare', visibility: 'public' });
  const posted = await call(s, 'message.send', { roomId: room.room.roomId, clientMsgId: 'seed', body: 'seed message' });
  const o = await authed(other);
  await call(o, 'room.join', { roomId: room.room.roomId });
  await call(o, 'room.join', { roomId: spare.room.roomId });
  o.ws.close();
  s.ws.close();
  ctx = {
    token: fuzzer.token,
    roomId: room.room.roomId,
    spareRoomId: spare.room.roomId,
    messageId: posted.messageId,
    userId: fuzzer.userId,
    otherUserId: other.userId,
    otherUsername: other.username,
  };
  // every op has a sample (a compile-time check too: validSamples is a Record over WsOp)
  expect(Object.keys(validSamples(ctx)).length).toBeGreaterThan(60);
}, 240_000);

afterEach(() => printLogsIfFailed(stack, ['gateway', 'rooms', 'history', 'moderation', 'presence'], 30));
afterAll(async () => {
  await stack?.teardown();
});

// Its time depends on the machine: a shared, loaded one takes several times longer than a quiet one.
test('fuzz - 100,000 random and mutated frames: one valid or typed reply each, memory bounded', async () => {
  const sockets: FuzzSocket[] = [];
  for (let i = 0; i < SOCKETS - 1; i++) sockets.push(await authed(fuzzer));
  // one socket stays unauthenticated: auth (with mutated tokens) and everything before auth
  sockets.push(await FuzzSocket.open(wsUrl));
  const arbs = [
    ...sockets.slice(0, -1).map(() => frameArb(ctx)),
    frameArb(ctx, ['auth', 'ping', 'room.join', 'message.send', 'history.page']),
  ];
  const started = Date.now();
  const startTime = await gatewayMetric('process_start_time_seconds');
  let frames = 0;
  let round = 0;
  let rssWarm = 0;
  const rssBefore = await gatewayMetric('process_resident_memory_bytes');
  const codes = new Map<string, number>();
  let okReplies = 0;
  // Every distinct (op, problem) with one example: the fuzz goes on past a problem so that one
  // run reports all of them.
  const problems = new Map<string, { reply: unknown; frame: string | undefined }>();

  // the problems found so far are printed even when a socket failure ends the run
  const report = () =>
    problems.size && console.log(`fuzz problems:\n${JSON.stringify(Object.fromEntries(problems), null, 1).slice(0, 20_000)}`);
  await fc
    .assert(
      fc.asyncProperty(fc.tuple(...arbs.map((a) => fc.array(a, { minLength: PER_SOCKET, maxLength: PER_SOCKET }))), async (batches) => {
        const results = await Promise.all(batches.map((b, i) => sockets[i].exchange(b)));
        for (const { replies, sentIds, sent } of results) {
          for (const r of replies) {
            const problem = replyProblem(r, sentIds);
            if (problem) {
              // the frame it answers, when its id tells; one example per op and problem
              const frame = typeof r?.id === 'string' ? sent.find((t) => t.includes(JSON.stringify(r.id))) : undefined;
              const op = frame ? (/"op":("[^"]*")/.exec(frame)?.[1] ?? '?') : '(id null)';
              const key = `${op} ${problem}`;
              if (!problems.has(key)) problems.set(key, { reply: r, frame: frame?.slice(0, 1000) });
            } else if (r.ok) okReplies++;
            else codes.set(r.error.code, (codes.get(r.error.code) ?? 0) + 1);
          }
        }
        frames += batches.reduce((n, b) => n + b.length, 0);
        if (process.env.FUZZ_PROGRESS)
          fs.appendFileSync(process.env.FUZZ_PROGRESS, `${new Date().toISOString()} ${frames} frames, ${problems.size} problems\n`);
        if (++round === Math.ceil(ROUNDS / 10)) rssWarm = await gatewayMetric('process_resident_memory_bytes');
      }),
      { numRuns: ROUNDS, seed: SEED, endOnFailure: true },
    )
    .finally(report);
  const seconds = (Date.now() - started) / 1000;
  const rssAfter = await gatewayMetric('process_resident_memory_bytes');
  const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
  console.log(
    `fuzz (seed ${SEED}): ${frames} frames on ${SOCKETS} sockets in ${seconds.toFixed(1)} s (${Math.round(frames / seconds)}/s); ` +
      `${okReplies} ok, errors ${JSON.stringify(Object.fromEntries(codes))}; gateway RSS ${mib(rssBefore)} MiB before, ` +
      `${mib(rssWarm)} after the first tenth, ${mib(rssAfter)} after`,
  );
  expect(frames).toBeGreaterThanOrEqual(FRAMES);
  expect(Object.fromEntries(problems)).toEqual({});
  // the same gateway process answered throughout, and memory stayed within the bound
  expect(await gatewayMetric('process_start_time_seconds')).toBe(startTime);
  expect({ growth: rssAfter - rssWarm, within: rssAfter - rssWarm <= RSS_GROWTH_BOUND }).toEqual({
    growth: rssAfter - rssWarm,
    within: true,
  });
  // no socket was closed by the gateway, and no reply came late: a last ping is answered next
  for (const s of sockets) {
    expect(s.closed).toBeNull();
    const { replies } = await s.exchange([{ text: '{"type":"req","id":"last","op":"ping"}', id: 'last' }]);
    expect(replies.map((r) => [r.id, r.ok])).toEqual([['last', true]]);
    s.ws.close();
  }
}, 900_000);

test('fuzz - HTTP bodies to every endpoint that reads one: typed errors only', async () => {
  const login = await http(gateway, 'POST', '/api/auth/login', { username: httpUser.username, password: httpUser.password });
  const targets = httpTargets({ username: httpUser.username, refreshToken: login.json.refreshToken });
  const requests = fc.sample(httpArb(targets), { numRuns: HTTP_BODIES, seed: SEED });
  const statuses = new Map<number, number>();
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const rq = requests[next++];
      const headers: Record<string, string> = {};
      if (rq.contentType) headers['content-type'] = rq.contentType;
      if (rq.target.bearer) headers.authorization = `Bearer ${login.json.accessToken}`;
      let r: Response;
      let text: string;
      try {
        r = await fetch(gateway + rq.target.path, { method: rq.target.method, headers, body: new Uint8Array(rq.body) });
        text = await r.text();
      } catch (err) {
        throw new Error(
          `${rq.target.method} ${rq.target.path} (${rq.body.length} bytes, ${rq.contentType}): ${String((err as Error).cause ?? err)}`,
        );
      }
      const problem = httpProblem(r.status, text);
      expect({ problem, status: r.status, text, body: problem ? rq.body.toString('latin1').slice(0, 2000) : undefined }).toEqual({
        problem: null,
        status: r.status,
        text,
        body: undefined,
      });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: HTTP_CONCURRENCY }, worker));
  console.log(
    `HTTP fuzz (seed ${SEED}): ${requests.length} bodies in ${((Date.now() - started) / 1000).toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
  // what the bodies aimed at is unchanged: the accounts log in with their passwords
  for (const a of [httpUser, fuzzer, other]) {
    const r = await http(gateway, 'POST', '/api/auth/login', { username: a.username, password: a.password });
    expect({ user: a.username, status: r.status }).toEqual({ user: a.username, status: 200 });
  }
});

test('fuzz - socket-layer input: binary frames, oversized frames, invalid UTF-8', async () => {
  const s = await authed(fuzzer);
  // events (a presence change of another fuzz account, say) may come first: only replies count
  const from = s.replies.length;
  s.ws.send(Buffer.from('{"type":"req","id":"b","op":"ping"}'), { binary: true });
  const binary = await eventually(() => s.replies[from], 15_000);
  expect({ id: binary.id, code: binary.error?.code }).toEqual({ id: null, code: 'BAD_REQUEST' });
  const { replies } = await s.exchange([
    { text: JSON.stringify({ type: 'req', id: 'big', op: 'ping', data: { x: 'y'.repeat(70_000) } }), id: 'big' },
  ]);
  expect(replies.map((r) => [r.id, r.error?.code])).toEqual([['big', 'FRAME_TOO_LARGE']]);
  s.ws.send('x'.repeat(1024 * 1024 + 1));
  expect((await s.waitClose()).code).toBe(1009);
  const samples = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 30 }), { numRuns: 5, seed: SEED });
  for (const bytes of samples) {
    const u = await authed(fuzzer);
    // 0xff is never valid UTF-8; ws's sender does not check text frames given as a Buffer
    u.ws.send(
      Buffer.concat([Buffer.from('{"type":"req","id":"u","op":"ping","x":"'), Buffer.from(bytes), Buffer.from([0xff]), Buffer.from('"}')]),
      {
        binary: false,
      },
    );
    expect((await u.waitClose()).code).toBe(1007);
  }
});

test('fuzz - afterwards: no pollution, every service healthy, the gateway serves as before', async () => {
  const s = await authed(fuzzer);
  // A polluted Object.prototype would fill in what these frames lack: `op`, `type`, `id` are
  // read by destructuring (inherited values count), the DTOs' fields by class-validator.
  const probes: Array<[string, string | null, string]> = [
    ['{"type":"req","id":"probe-op"}', 'probe-op', 'op'],
    ['{"id":"probe-type","op":"ping"}', 'probe-type', 'type'],
    ['{"type":"req","op":"ping"}', null, 'id'],
    ['{"type":"req","id":"probe-name","op":"room.create","data":{}}', 'probe-name', 'data.name'],
    ['{"type":"req","id":"probe-room","op":"room.join","data":{}}', 'probe-room', 'data.roomId'],
  ];
  for (const [text, id, field] of probes) {
    const { replies } = await s.exchange([{ text, id }]);
    const fields = (replies[0]?.error?.details ?? []).map((d: any) => d.field);
    expect({ text, id: replies[0]?.id, code: replies[0]?.error?.code, hasField: fields.includes(field), reply: replies[0] }).toEqual({
      text,
      id,
      code: 'BAD_REQUEST',
      hasField: true,
      reply: replies[0],
    });
  }
  const { replies } = await s.exchange([{ text: '{"type":"req","id":"probe-obj","op":"rooms.list"}', id: 'probe-obj' }]);
  expect(Object.keys(replies[0].data)).toEqual(['rooms']);
  s.ws.close();
  const r = await http(gateway, 'POST', '/api/auth/login', {});
  const fields = (r.json?.error?.details ?? []).map((d: any) => d.field).sort();
  expect({ status: r.status, fields }).toEqual({ status: 400, fields: ['password', 'username'] });
  for (const [name, url] of Object.entries(stack.urls)) {
    const ready = await fetch(`${url}/health/ready`);
    expect({ name, status: ready.status }).toEqual({ name, status: 200 });
  }
  // a new user registers, logs in and posts
  const fresh = await createAccount(gateway, `fn${Date.now().toString(36)}`);
  const f = await authed(fresh);
  await call(f, 'room.join', { roomId: ctx.roomId });
  const ack = await call(f, 'message.send', { roomId: ctx.roomId, clientMsgId: 'after', body: 'after the fuzz' });
  expect(ack.duplicate).toBe(false);
  f.ws.close();
});
