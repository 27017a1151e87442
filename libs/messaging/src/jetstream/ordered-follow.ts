import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { toDelivered, type Delivered, type Log } from './common';

export interface Following {
  /** Resolves once the replay has reached the end of the stream as it was at the start. */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Replays a stream (filtered to one subject pattern) from the start with an ordered consumer
 * and then keeps following it. `caughtUp` resolves once the replay has reached the end of the
 * stream as it was when we started. Used to build in-memory state such as room membership.
 * With `since`, the replay starts at the first message stored at or after that time instead
 * (state that only needs the recent past).
 */
export async function follow(
  js: JetStreamClient,
  log: Log,
  stream: string,
  filterSubject: string,
  handler: (m: Delivered) => void,
  since?: Date,
): Promise<Following> {
  const consumer = await js.consumers.get(
    stream,
    since
      ? { filter_subjects: filterSubject, deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() }
      : { filter_subjects: filterSubject, deliver_policy: DeliverPolicy.All },
  );
  const info = await consumer.info(true);
  let resolveCaughtUp!: () => void;
  const caughtUp = new Promise<void>((r) => (resolveCaughtUp = r));
  if (info.num_pending === 0) resolveCaughtUp();
  const messages = await consumer.consume();
  const done = (async () => {
    for await (const m of messages) {
      handler(toDelivered(m));
      if (m.info.pending === 0) resolveCaughtUp();
    }
  })().catch((err) => log('error', 'ordered consumer stopped', { stream, error: String(err) }));
  return {
    caughtUp,
    stop: async () => {
      await messages.close();
      await done;
    },
  };
}
