import { Worker } from 'node:worker_threads';

/**
 * Runs the configured regular expressions in a worker thread, with a time limit, while the send
 * path waits for the answer synchronously (Atomics.wait on a shared buffer: the chain stays a
 * plain synchronous function, and the wait costs tens of microseconds).
 *
 * Why: JavaScript's regular expressions backtrack, and the set-time check (safe-regex2) only
 * refuses nested quantifiers. Patterns it accepts can still take seconds on a crafted message:
 * `\w*\w*x` on 4,000 letters takes about 30 s, `a.*b.*c` on "abab…" several seconds. In the
 * service's own thread that would stall every message of every room; any room owner may set
 * patterns. Here such a message takes at most PATTERN_TIME_LIMIT_MS: the worker is then
 * terminated (V8 interrupts a running expression) and a new one started, and the caller is told
 * `timeout` (the chain holds the message for a moderator, naming the cause).
 *
 * Pattern sets are defined once (`define`, when a chain is compiled) and run by id; the worker
 * keeps them compiled. Sets no longer used are forgotten when their rule is garbage-collected.
 */
export const PATTERN_TIME_LIMIT_MS = 250;
/** How long a new worker may take to start, or to pick a text up (it is idle then: only a machine too busy to schedule it waits). */
const START_LIMIT_MS = 10_000;

/** What the worker found: the first `block` pattern, else the first `hold` one, and every `mask` match span (of the text it was given). */
export type SandboxResult =
  { kind: 'block' | 'hold'; index: number } | { kind: 'masks'; spans: Array<[number, number]> } | { kind: 'timeout' };

export interface SandboxPattern {
  readonly source: string;
  readonly action: 'mask' | 'block' | 'hold';
}

// Shared buffer layout (Int32): [0] state (0 sent, 2 working, 1 done; 1 also "started" right
// after the worker starts), [1] kind (0 masks, 1 block, 2 hold),
// [2] pattern index, [3] span count, then [start, end] pairs.
const MAX_SPANS = 8192;
const BUFFER_INTS = 4 + MAX_SPANS * 2;

// The worker's source, plain JavaScript (it is evaluated, not loaded from the build).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const out = new Int32Array(workerData.buffer);
const sets = new Map();
Atomics.store(out, 0, 1); // started: the thread that made it waits for this
Atomics.notify(out, 0);
parentPort.on('message', (m) => {
  if (m.type === 'define') {
    const compiled = [];
    for (const p of m.patterns) {
      try { compiled.push({ re: new RegExp(p.source, 'giu'), action: p.action }); } catch { compiled.push(null); }
    }
    sets.set(m.id, compiled);
    return;
  }
  if (m.type === 'forget') { sets.delete(m.id); return; }
  Atomics.store(out, 0, 2); // picked up: the time limit counts from here
  Atomics.notify(out, 0);
  const set = sets.get(m.id) || [];
  const text = m.text;
  let kind = 0, index = -1, spans = 0;
  for (let i = 0; i < set.length; i++) {
    const p = set[i];
    if (!p) continue;
    p.re.lastIndex = 0;
    if (!p.re.test(text)) continue;
    if (p.action === 'block') { kind = 1; index = i; break; }
    if (p.action === 'hold') { if (kind !== 2) { kind = 2; index = i; } continue; }
    p.re.lastIndex = 0;
    for (const match of text.matchAll(p.re)) {
      if (!match[0].length || spans >= ${MAX_SPANS}) continue;
      out[4 + spans * 2] = match.index;
      out[5 + spans * 2] = match.index + match[0].length;
      spans++;
    }
  }
  out[1] = kind; out[2] = index; out[3] = spans;
  Atomics.store(out, 0, 1);
  Atomics.notify(out, 0);
});
`;

class Sandbox {
  private worker: Worker | null = null;
  private out: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private readonly sets = new Map<number, readonly SandboxPattern[]>();
  private nextId = 1;
  private readonly forgotten = new FinalizationRegistry<number>((id) => this.forget(id));
  /** Messages that hit the time limit since start (for logs and tests). */
  timeouts = 0;
  /** The limit per message (all patterns of the set together). */
  timeLimitMs = PATTERN_TIME_LIMIT_MS;

  /** Registers a pattern set; `owner` is what uses it (when it is collected the set is forgotten). */
  define(owner: object, patterns: readonly SandboxPattern[]): number {
    const id = this.nextId++;
    this.sets.set(id, patterns);
    this.forgotten.register(owner, id);
    this.worker?.postMessage({ type: 'define', id, patterns });
    return id;
  }

  run(id: number, text: string): SandboxResult {
    const worker = this.ensure();
    if (!worker) return { kind: 'timeout' };
    const out = this.out;
    Atomics.store(out, 0, 0);
    worker.postMessage({ type: 'run', id, text });
    // Two waits: until the worker picks the text up (at once, unless the machine is too busy to
    // schedule it: that is not the patterns' fault), then until it is done, within the limit.
    Atomics.wait(out, 0, 0, START_LIMIT_MS);
    if (Atomics.load(out, 0) === 2) Atomics.wait(out, 0, 2, this.timeLimitMs);
    if (Atomics.load(out, 0) !== 1) {
      this.timeouts++;
      this.restart();
      return { kind: 'timeout' };
    }
    const kind = out[1];
    if (kind === 1 || kind === 2) return { kind: kind === 1 ? 'block' : 'hold', index: out[2] };
    const spans: Array<[number, number]> = [];
    for (let i = 0; i < out[3]; i++) spans.push([out[4 + i * 2], out[5 + i * 2]]);
    return { kind: 'masks', spans };
  }

  private forget(id: number): void {
    this.sets.delete(id);
    this.worker?.postMessage({ type: 'forget', id });
  }

  private ensure(): Worker | null {
    if (this.worker) return this.worker;
    const buffer = new SharedArrayBuffer(BUFFER_INTS * 4);
    this.out = new Int32Array(buffer);
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { buffer } });
    // Wait until it runs: its start-up (tens of ms) must not count against the first message's limit.
    if (Atomics.wait(this.out, 0, 0, START_LIMIT_MS) === 'timed-out' && Atomics.load(this.out, 0) === 0) {
      void worker.terminate();
      return null;
    }
    // Never keeps the process alive; a worker that dies is replaced on the next run.
    worker.unref();
    worker.on('error', () => this.dropped(worker));
    worker.on('exit', () => this.dropped(worker));
    for (const [id, patterns] of this.sets) worker.postMessage({ type: 'define', id, patterns });
    this.worker = worker;
    return worker;
  }

  private dropped(worker: Worker): void {
    if (this.worker === worker) this.worker = null;
  }

  /** The worker is stuck in an expression: end it (V8 interrupts the expression) and start afresh. */
  private restart(): void {
    const stuck = this.worker;
    this.worker = null;
    void stuck?.terminate();
  }
}

/** One per process: every chain's patterns run in the same worker. */
export const patternSandbox = new Sandbox();
