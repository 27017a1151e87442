import { decodeAccountEvent, decodeChatEvent, decodeModerationEvent, isMessageEvent, type Decoded, type EventMeta } from '@chat/contracts';
import type { Delivered } from '@chat/messaging';
import type { AnySubscriber, SourceEvents, SubscriberContext, SubscriberSource, Verdict, VerdictKind } from './subscriber';
import { VerdictRefused, verdictMsgId, verdictProblem, type VerdictSink } from './verdicts';

/**
 * What became of one delivered event: `handled` (verdicts, if any, carried out; acked),
 * `skipped` (not an event of the source this version can read; acked), `terminated` (failed
 * on its last allowed delivery: logged, counted and acked, never tried again). A retryable
 * failure is not an outcome: `deliver` rejects and the consumer naks the event with a backoff.
 */
export type DeliveryOutcome = 'handled' | 'skipped' | 'terminated';

/** Why an attempt failed, as counted: the subscriber threw, took too long, or a verdict could not be carried out (yet). */
export type FailureKind = 'error' | 'timeout' | 'verdict';

export interface WorkerObserver {
  outcome(subscriber: string, outcome: DeliveryOutcome): void;
  failure(subscriber: string, kind: FailureKind): void;
  verdict(subscriber: string, kind: VerdictKind, result: 'executed' | 'invalid' | 'refused'): void;
  /** How long `handle` took, in seconds (also for a failed attempt; a timed-out one counts the timeout). */
  handled(subscriber: string, seconds: number): void;
}

export type WorkerLog = (level: 'info' | 'warn' | 'error', msg: string, extra: Record<string, unknown>) => void;

export interface WorkerOptions {
  /** Longest one `handle` may take, unless the subscriber sets its own `timeoutMs`. */
  timeoutMs: number;
  /** Deliveries of one event before it is given up. */
  maxDeliveries: number;
  sink: VerdictSink;
  /** The context of one delivery (position, delivery count, clock, account ages). */
  context: (d: Delivered) => SubscriberContext;
  observer: WorkerObserver;
  log: WorkerLog;
}

/** Decodes a stored event of a subscriber's source with the contracts' decoders. */
export function decodeFor<S extends SubscriberSource>(source: S, stored: unknown): Decoded<SourceEvents[S]> {
  switch (source) {
    case 'messages': {
      const d = decodeChatEvent(stored);
      if (d.ok && !isMessageEvent(d.event)) {
        return { ok: false, kind: 'unknown-type', type: d.event.type, reason: 'a room event, not a message event' } as Decoded<
          SourceEvents[S]
        >;
      }
      return d as Decoded<SourceEvents[S]>;
    }
    case 'accounts':
      return decodeAccountEvent(stored) as Decoded<SourceEvents[S]>;
    case 'moderation':
      return decodeModerationEvent(stored) as Decoded<SourceEvents[S]>;
  }
  throw new Error(`unknown subscriber source ${String(source)}`);
}

export class SubscriberTimeout extends Error {
  constructor(name: string, ms: number) {
    super(`subscriber ${name} did not answer within ${ms} ms`);
    this.name = 'SubscriberTimeout';
  }
}

/** A verdict could not be carried out now (a service did not answer): the event is retried. */
export class VerdictFailed extends Error {
  constructor(kind: VerdictKind, cause: unknown) {
    super(`${kind} verdict failed: ${String(cause)}`);
    this.name = 'VerdictFailed';
  }
}

/** Attempts of this many events are remembered for a retry on this replica (the oldest are dropped first). */
const UNFINISHED_MAX = 1000;

/**
 * Runs one subscriber on the events its consumer delivers, one at a time. `handle` races a
 * timeout (the late answer, if any, is dropped); its verdicts are checked and carried out in
 * order. A failure rejects, so the consumer naks the event and it comes back later (the
 * consumer's backoff); on its last allowed delivery it is terminated instead.
 *
 * A retry on this replica does not ask the subscriber again when it already answered: the
 * verdicts and which of them were carried out are kept, so only the rest is done (a strike
 * is not recorded twice because a later redact failed). A retry on another replica asks again;
 * each verdict is carried out under a msgId derived from the event's source stream, its
 * sequence and the verdict's index (verdictMsgId), so what the first replica stored is not
 * stored again (a subscriber answering the same event the same way, as an idempotent one does).
 */
export class SubscriberWorker {
  private readonly unfinished = new Map<number, { verdicts: Verdict[]; done: Set<number> }>();

  constructor(
    readonly subscriber: AnySubscriber,
    private readonly opts: WorkerOptions,
  ) {}

  async deliver(d: Delivered): Promise<DeliveryOutcome> {
    const name = this.subscriber.name;
    const decoded = decodeFor(this.subscriber.source, d.raw ?? d.data);
    if (!decoded.ok) {
      this.opts.observer.outcome(name, 'skipped');
      this.opts.log('warn', 'moderation subscriber skipped an event it cannot read', { subscriber: name, seq: d.seq, subject: d.subject });
      return 'skipped';
    }
    const attempt = d.deliveryCount ?? 1;
    try {
      await this.attempt(d, decoded.event);
    } catch (err) {
      const kind: FailureKind = err instanceof SubscriberTimeout ? 'timeout' : err instanceof VerdictFailed ? 'verdict' : 'error';
      this.opts.observer.failure(name, kind);
      const extra = { subscriber: name, seq: d.seq, subject: d.subject, attempt, failure: kind, error: String(err) };
      if (attempt >= this.opts.maxDeliveries) {
        this.unfinished.delete(d.seq);
        this.opts.observer.outcome(name, 'terminated');
        this.opts.log('error', 'moderation subscriber gave up on an event after its last delivery', extra);
        return 'terminated';
      }
      this.opts.log('warn', 'moderation subscriber failed on an event; it will be redelivered', extra);
      throw err;
    }
    this.opts.observer.outcome(name, 'handled');
    return 'handled';
  }

  private async attempt(d: Delivered, event: SourceEvents[SubscriberSource]): Promise<void> {
    let state = this.unfinished.get(d.seq);
    if (!state) {
      const verdicts = await this.ask(d, event);
      if (!verdicts.length) return;
      state = { verdicts, done: new Set() };
      this.remember(d.seq, state);
    }
    await this.carryOut(d, state, event);
    this.unfinished.delete(d.seq);
  }

  /** Calls `handle` against the timeout; resolves its verdicts (a non-array answer is a subscriber error). */
  private async ask(d: Delivered, event: SourceEvents[SubscriberSource]): Promise<Verdict[]> {
    const sub = this.subscriber;
    const ms = sub.timeoutMs ?? this.opts.timeoutMs;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const answer = Promise.resolve().then(() =>
      (sub.handle as (e: unknown, c: SubscriberContext) => Verdict[] | Promise<Verdict[]>)(event, this.opts.context(d)),
    );
    // A late answer (or failure) after the timeout goes nowhere; it must not become an unhandled rejection.
    answer.catch(() => undefined);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SubscriberTimeout(sub.name, ms)), ms);
    });
    try {
      const verdicts = await Promise.race([answer, timeout]);
      if (!Array.isArray(verdicts)) throw new Error(`subscriber ${sub.name} answered ${typeof verdicts}, not a list of verdicts`);
      return verdicts;
    } finally {
      clearTimeout(timer);
      this.opts.observer.handled(sub.name, (performance.now() - started) / 1000);
    }
  }

  private async carryOut(d: Delivered, state: { verdicts: Verdict[]; done: Set<number> }, event: EventMeta): Promise<void> {
    const name = this.subscriber.name;
    for (const [i, v] of state.verdicts.entries()) {
      if (state.done.has(i)) continue;
      const problem = verdictProblem(v);
      if (problem) {
        this.opts.observer.verdict(name, v?.kind, 'invalid');
        this.opts.log('error', 'moderation subscriber returned an invalid verdict; skipped', { subscriber: name, seq: d.seq, problem });
      } else {
        try {
          const msgId = verdictMsgId(name, this.subscriber.source, d.seq, i);
          await this.opts.sink.execute(v, name, { id: event.id, correlationId: event.correlationId, msgId });
          this.opts.observer.verdict(name, v.kind, 'executed');
        } catch (err) {
          if (!(err instanceof VerdictRefused)) throw new VerdictFailed(v.kind, err);
          this.opts.observer.verdict(name, v.kind, 'refused');
          this.opts.log('warn', 'a moderation verdict was refused; skipped', {
            subscriber: name,
            seq: d.seq,
            verdict: v.kind,
            error: err.message,
          });
        }
      }
      state.done.add(i);
    }
  }

  private remember(seq: number, state: { verdicts: Verdict[]; done: Set<number> }) {
    if (this.unfinished.size >= UNFINISHED_MAX) this.unfinished.delete(this.unfinished.keys().next().value as number);
    this.unfinished.set(seq, state);
  }
}
