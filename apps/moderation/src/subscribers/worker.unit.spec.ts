import { randomUUID } from 'node:crypto';
import type { MessageEvent } from '@chat/contracts';
import type { ModerationSubscriber, SubscriberContext, Verdict } from './subscriber';
import { delivered, posted } from './testing/events';
import { VerdictRefused, VerdictSink, type VerdictCause } from './verdicts';
import { SubscriberWorker, type WorkerObserver } from './worker';

/** Records what it is asked to carry out; fails the kinds named in `failing` (retryably) or `refusing` (for good). */
class RecordingSink extends VerdictSink {
  readonly executed: Array<{ kind: string; rule: string }> = [];
  readonly msgIds: string[] = [];
  failing = new Set<string>();
  refusing = new Set<string>();
  async execute(v: Verdict, rule: string, cause: VerdictCause): Promise<void> {
    if (this.failing.has(v.kind)) throw new Error('rooms did not answer');
    if (this.refusing.has(v.kind)) throw new VerdictRefused('no such message');
    this.executed.push({ kind: v.kind, rule });
    this.msgIds.push(cause.msgId);
  }
}

function counting(): WorkerObserver & { counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const inc = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  return {
    counts,
    outcome: (_s, o) => inc(`outcome:${o}`),
    failure: (_s, k) => inc(`failure:${k}`),
    verdict: (_s, v, r) => inc(`verdict:${v}:${r}`),
    handled: () => undefined,
  };
}

const userId = randomUUID();
const warn: Verdict = { kind: 'warn', userId, username: 'ann', reason: 'be nice' };
const strike: Verdict = { kind: 'strike', userId, username: 'ann', roomId: 'general', detail: 'rude' };
const redact: Verdict = { kind: 'redact', roomId: 'general', messageId: randomUUID(), userId, username: 'ann', reason: 'spam' };

function setUp(handle: ModerationSubscriber<'messages'>['handle'], opts: { timeoutMs?: number; maxDeliveries?: number } = {}) {
  const sink = new RecordingSink();
  const observer = counting();
  const logs: Array<{ level: string; msg: string }> = [];
  let calls = 0;
  const sub: ModerationSubscriber<'messages'> = {
    name: 'test-rule',
    source: 'messages',
    handle: (e: MessageEvent, c: SubscriberContext) => {
      calls++;
      return handle(e, c);
    },
  };
  const worker = new SubscriberWorker(sub, {
    timeoutMs: opts.timeoutMs ?? 1000,
    maxDeliveries: opts.maxDeliveries ?? 3,
    sink,
    observer,
    context: (d) => ({
      position: d.seq,
      deliveryCount: d.deliveryCount ?? 1,
      now: () => new Date(),
      accountRegisteredAt: async () => null,
    }),
    log: (level, msg) => logs.push({ level, msg }),
  });
  return { worker, sink, observer, logs, calls: () => calls };
}

const event = () => posted({ senderId: userId, body: 'hello' });

describe('moderation subscriber worker', () => {
  it('carries out the verdicts in order, named after the subscriber', async () => {
    const { worker, sink, observer } = setUp(() => [redact, strike]);
    await expect(worker.deliver(delivered(event(), 1))).resolves.toBe('handled');
    expect(sink.executed).toEqual([
      { kind: 'redact', rule: 'test-rule' },
      { kind: 'strike', rule: 'test-rule' },
    ]);
    expect(observer.counts).toEqual({ 'outcome:handled': 1, 'verdict:redact:executed': 1, 'verdict:strike:executed': 1 });
  });

  it("each verdict's msgId comes from the event's source stream, sequence and the verdict's index: the same on a redelivery", async () => {
    const { worker, sink } = setUp(() => [redact, strike]);
    const e = event();
    await worker.deliver(delivered(e, 41));
    await worker.deliver(delivered(e, 41, 2));
    expect(sink.msgIds).toEqual([
      'verdict:test-rule:messages:41:0',
      'verdict:test-rule:messages:41:1',
      'verdict:test-rule:messages:41:0',
      'verdict:test-rule:messages:41:1',
    ]);
  });

  it('hands the context of the delivery (position, delivery count)', async () => {
    const seen: SubscriberContext[] = [];
    const { worker } = setUp((_e, c) => (seen.push(c), []));
    await worker.deliver(delivered(event(), 42, 2));
    expect(seen[0]).toMatchObject({ position: 42, deliveryCount: 2 });
  });

  it('rejects when the subscriber throws (the event is nak-ed and retried), terminates on the last delivery', async () => {
    const { worker, observer, logs } = setUp(() => {
      throw new Error('boom');
    });
    const e = event();
    await expect(worker.deliver(delivered(e, 7, 1))).rejects.toThrow('boom');
    await expect(worker.deliver(delivered(e, 7, 2))).rejects.toThrow('boom');
    await expect(worker.deliver(delivered(e, 7, 3))).resolves.toBe('terminated');
    expect(observer.counts).toEqual({ 'failure:error': 3, 'outcome:terminated': 1 });
    expect(logs.filter((l) => l.level === 'error')).toEqual([
      { level: 'error', msg: 'moderation subscriber gave up on an event after its last delivery' },
    ]);
  });

  it('a rejected promise is a failure like a throw', async () => {
    const { worker } = setUp(async () => Promise.reject(new Error('async boom')));
    await expect(worker.deliver(delivered(event(), 1))).rejects.toThrow('async boom');
  });

  it('times out a subscriber that does not answer, and drops its late verdicts', async () => {
    let release: (v: Verdict[]) => void = () => undefined;
    const { worker, sink, observer } = setUp(() => new Promise<Verdict[]>((r) => (release = r)), { timeoutMs: 20 });
    await expect(worker.deliver(delivered(event(), 1))).rejects.toThrow('did not answer within 20 ms');
    release([warn]);
    await new Promise((r) => setImmediate(r));
    expect(sink.executed).toEqual([]);
    expect(observer.counts['failure:timeout']).toBe(1);
  });

  it('a subscriber may set its own timeout', async () => {
    const sink = new RecordingSink();
    const worker = new SubscriberWorker(
      { name: 'slow-but-allowed', source: 'messages', timeoutMs: 1000, handle: () => new Promise((r) => setTimeout(() => r([warn]), 30)) },
      {
        timeoutMs: 10,
        maxDeliveries: 3,
        sink,
        observer: counting(),
        context: () => ({ position: 1, deliveryCount: 1, now: () => new Date(), accountRegisteredAt: async () => null }),
        log: () => undefined,
      },
    );
    await expect(worker.deliver(delivered(event(), 1))).resolves.toBe('handled');
    expect(sink.executed).toEqual([{ kind: 'warn', rule: 'slow-but-allowed' }]);
  });

  it('retries only the verdicts not yet carried out, without asking the subscriber again', async () => {
    const { worker, sink, observer, calls } = setUp(() => [strike, redact, warn]);
    sink.failing.add('redact');
    const e = event();
    await expect(worker.deliver(delivered(e, 5, 1))).rejects.toThrow('redact verdict failed');
    expect(sink.executed.map((x) => x.kind)).toEqual(['strike']);
    sink.failing.clear();
    await expect(worker.deliver(delivered(e, 5, 2))).resolves.toBe('handled');
    expect(sink.executed.map((x) => x.kind)).toEqual(['strike', 'redact', 'warn']);
    expect(calls()).toBe(1);
    expect(observer.counts['failure:verdict']).toBe(1);
  });

  it('skips a verdict refused for good (e.g. the message is gone) and goes on', async () => {
    const { worker, sink, observer } = setUp(() => [redact, warn]);
    sink.refusing.add('redact');
    await expect(worker.deliver(delivered(event(), 1))).resolves.toBe('handled');
    expect(sink.executed.map((x) => x.kind)).toEqual(['warn']);
    expect(observer.counts['verdict:redact:refused']).toBe(1);
  });

  it('skips an invalid verdict (a bug retrying would not fix) and carries out the valid ones', async () => {
    const { worker, sink, observer } = setUp(() => [{ ...warn, userId: 'not-a-uuid' }, { ...strike }, { ...warn, reason: '' }]);
    await expect(worker.deliver(delivered(event(), 1))).resolves.toBe('handled');
    expect(sink.executed.map((x) => x.kind)).toEqual(['strike']);
    expect(observer.counts['verdict:warn:invalid']).toBe(2);
  });

  it('an answer that is not a list is a subscriber error', async () => {
    const { worker } = setUp(() => undefined as unknown as Verdict[]);
    await expect(worker.deliver(delivered(event(), 1))).rejects.toThrow('not a list of verdicts');
  });

  it('skips what it cannot read without asking the subscriber: malformed, not JSON, a room event on the messages source', async () => {
    const { worker, observer, calls } = setUp(() => [warn]);
    await expect(worker.deliver(delivered({ type: 'MessagePosted', payload: {} }, 1))).resolves.toBe('skipped');
    await expect(
      worker.deliver({ subject: 'x', seq: 2, data: undefined, raw: new Uint8Array([1, 2]), redelivered: false, pending: 0 }),
    ).resolves.toBe('skipped');
    const joined = {
      ...event(),
      type: 'MemberJoined',
      version: 1,
      payload: { roomId: 'general', userId, username: 'ann', role: 'member' },
    };
    await expect(worker.deliver(delivered(joined, 3))).resolves.toBe('skipped');
    expect(calls()).toBe(0);
    expect(observer.counts).toEqual({ 'outcome:skipped': 3 });
  });
});
