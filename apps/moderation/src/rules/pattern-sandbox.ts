import { Worker } from 'node:worker_threads';

/**
 * Runs the configured regular expressions in a worker thread, with a time limit, and answers
 * with a promise: the service's event loop goes on serving other messages while a pattern set
 * runs, however long it takes.
 *
 * Why: JavaScript's regular expressions backtrack, and the set-time check (patternProblem)
 * refuses only the exponential shapes it can see. Patterns it accepts can still take seconds on
 * a crafted message: `\w*\w*x` on 4,000 letters takes about 30 s, `a.*b.*c` on "abab…" several
 * seconds. In the service's own thread that would stall every message of every room. Here such
 * a message takes at most PATTERN_TIME_LIMIT_MS of the worker: the worker is then terminated
 * (V8 interrupts a running expression) and a new one started, and the caller is told `timeout`
 * (the chain holds the message for a moderator, naming the cause).
 *
 * Texts are run one at a time, in the order they came (a queue): the worker's answer for a text
 * depends only on the text and the patterns, so results are deterministic but for the time
 * limit. The limit counts from when the worker picks the text up (it tells so), not from when it
 * was queued, so a message waiting behind another one, or for a machine too busy to schedule the
 * worker, is not held for it. A text the worker does not pick up within START_LIMIT_MS (the
 * worker did not start) is answered `timeout` too.
 *
 * Pattern sets are defined once (`define`, when a chain is compiled) and run by id; the worker
 * keeps them compiled. Sets no longer used are forgotten when their rule is garbage-collected.
 */
export const PATTERN_TIME_LIMIT_MS = 250;
/** How long a new worker may take to start and pick a text up (it is idle then: only a machine too busy to schedule it waits). */
const START_LIMIT_MS = 10_000;
/** Mask spans kept per message (a message is at most a few thousand characters). */
const MAX_SPANS = 8192;

/** What the worker found: the first `block` pattern, else the first `hold` one, and every `mask` match span (of the text it was given). */
export type SandboxResult =
  { kind: 'block' | 'hold'; index: number } | { kind: 'masks'; spans: Array<[number, number]> } | { kind: 'timeout' };

export interface SandboxPattern {
  readonly source: string;
  readonly action: 'mask' | 'block' | 'hold';
}

type WorkerAnswer = { type: 'started' } | { type: 'done'; result: SandboxResult };

// The worker's source, plain JavaScript (it is evaluated, not loaded from the build).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const sets = new Map();
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
  parentPort.postMessage({ type: 'started' }); // the time limit counts from here
  const set = sets.get(m.id) || [];
  const text = m.text;
  let result = null;
  const spans = [];
  for (let i = 0; i < set.length; i++) {
    const p = set[i];
    if (!p) continue;
    p.re.lastIndex = 0;
    if (!p.re.test(text)) continue;
    if (p.action === 'block') { result = { kind: 'block', index: i }; break; }
    if (p.action === 'hold') { if (!result) result = { kind: 'hold', index: i }; continue; }
    p.re.lastIndex = 0;
    for (const match of text.matchAll(p.re)) {
      if (match[0].length && spans.length < ${MAX_SPANS}) spans.push([match.index, match.index + match[0].length]);
    }
  }
  parentPort.postMessage({ type: 'done', result: result || { kind: 'masks', spans } });
});
`;

interface Job {
  readonly id: number;
  readonly text: string;
  readonly resolve: (r: SandboxResult) => void;
}

class Sandbox {
  private worker: Worker | null = null;
  private readonly sets = new Map<number, readonly SandboxPattern[]>();
  private nextId = 1;
  private readonly forgotten = new FinalizationRegistry<number>((id) => this.forget(id));
  private readonly queue: Job[] = [];
  private current: { job: Job; timer: NodeJS.Timeout } | null = null;
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

  /** Runs set `id` on `text` when the worker is free. */
  run(id: number, text: string): Promise<SandboxResult> {
    return new Promise((resolve) => {
      this.queue.push({ id, text, resolve });
      this.next();
    });
  }

  /** Hands the next queued text to the worker, if it is free. */
  private next(): void {
    if (this.current || !this.queue.length) return;
    const job = this.queue.shift() as Job;
    const worker = this.ensure();
    this.current = { job, timer: setTimeout(() => this.timedOut(worker), START_LIMIT_MS) };
    worker.postMessage({ type: 'run', id: job.id, text: job.text });
  }

  private onAnswer(worker: Worker, m: WorkerAnswer): void {
    const current = this.current;
    if (worker !== this.worker || !current) return;
    clearTimeout(current.timer);
    if (m.type === 'started') {
      current.timer = setTimeout(() => this.timedOut(worker), this.timeLimitMs);
      return;
    }
    this.current = null;
    current.job.resolve(m.result);
    this.next();
  }

  /** The worker is stuck in an expression (or never started): end it (V8 interrupts the expression), answer `timeout`, go on with a new one. */
  private timedOut(worker: Worker): void {
    const current = this.current;
    if (worker !== this.worker || !current) return;
    this.timeouts++;
    this.current = null;
    this.worker = null;
    void worker.terminate();
    current.job.resolve({ kind: 'timeout' });
    this.next();
  }

  private forget(id: number): void {
    this.sets.delete(id);
    this.worker?.postMessage({ type: 'forget', id });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    // Never keeps the process alive; a worker that dies is replaced by the next run.
    worker.unref();
    worker.on('message', (m: WorkerAnswer) => this.onAnswer(worker, m));
    worker.on('error', () => this.dropped(worker));
    worker.on('exit', () => this.dropped(worker));
    for (const [id, patterns] of this.sets) worker.postMessage({ type: 'define', id, patterns });
    this.worker = worker;
    return worker;
  }

  /** The worker died on its own: the text it had is answered `timeout` (held for a moderator) and the queue goes on with a new one. */
  private dropped(worker: Worker): void {
    if (this.worker !== worker) return;
    if (this.current) this.timedOut(worker);
    else this.worker = null;
  }
}

/** One per process: every chain's patterns run in the same worker. */
export const patternSandbox = new Sandbox();
