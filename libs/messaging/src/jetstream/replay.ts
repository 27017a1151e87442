import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { toDelivered, type Delivered } from './common';

export interface ReplaySpec {
  stream: string;
  filterSubject: string;
  /** First stream sequence handed to the handler. */
  fromSeq: number;
  /** Most messages per handler call. @default 4096 */
  batch?: number;
  /**
   * Last sequence to hand over: the replay ends once it has been handled (or when the stream
   * has nothing more, e.g. it was removed meanwhile). undefined: follow the stream until `stop`.
   */
  untilSeq?: number;
  /** How long one pull waits for messages when there are none, in ms (at least 1000). @default 2000 */
  pullMs?: number;
}

export interface Replaying {
  /** Resolves when the replay ended (reached `untilSeq`, or stopped); rejects when a handler or the stream failed. */
  done: Promise<void>;
  /** Ends the replay after the batch now in the handler. */
  stop(): Promise<void>;
}

/**
 * Hands a stream's messages to an async handler in big batches, in stream order, from a given
 * sequence, with an ordered consumer (no server-side state left behind; it re-creates itself
 * on a gap). The next batch is fetched while the handler works on the current one, and never
 * more than that, so memory stays at two batches however long the stream is. For rebuilding a
 * projection: the handler sees each message once, in order, unless it throws (then `done`
 * rejects and nothing more is handed over).
 */
export async function replay(js: JetStreamClient, spec: ReplaySpec, handler: (batch: Delivered[]) => Promise<void>): Promise<Replaying> {
  const batch = spec.batch ?? 4096;
  const until = spec.untilSeq ?? Infinity;
  let running = spec.fromSeq <= until;
  const consumer = await js.consumers.get(spec.stream, {
    filter_subjects: spec.filterSubject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, spec.fromSeq),
  });
  const pull = (): Promise<Delivered[]> => {
    const p = pullOnce();
    p.catch(() => undefined); // awaited later; not an unhandled rejection if the handler fails first
    return p;
  };
  const pullOnce = async (): Promise<Delivered[]> => {
    const out: Delivered[] = [];
    // The pull is read to its end (never broken off): the ordered consumer would see the rest of
    // it as a gap. What lies past `until` is dropped here.
    for await (const m of await consumer.fetch({ max_messages: batch, expires: Math.max(1000, spec.pullMs ?? 2000) }))
      if (m.seq <= until) out.push(toDelivered(m));
    return out;
  };
  const done = (async () => {
    if (!running) return;
    let next = pull();
    while (running) {
      const msgs = await next;
      const last = msgs.length ? msgs[msgs.length - 1].seq : 0;
      const finished = last >= until || (msgs.length === 0 && spec.untilSeq !== undefined);
      if (!finished && running) next = pull();
      if (msgs.length) await handler(msgs);
      if (finished) break;
    }
    await next.catch(() => undefined);
  })();
  return {
    done,
    stop: async () => {
      running = false;
      await done.catch(() => undefined);
    },
  };
}
