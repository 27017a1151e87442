import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { encodeJson } from '../codec';
import { Spans } from '../spans';
import { ApiErrorCode, isApiError } from './common';

export interface AppendOptions {
  /** `Nats-Msg-Id`: the stream drops a second append with the same id within its duplicate window. */
  msgId: string;
  /** Optimistic concurrency: append only if the subject's last sequence is this (0 = subject empty). */
  expectLastSubjectSequence?: number;
  headers?: Record<string, string>;
}

export interface AppendResult {
  /** Stream sequence of the stored message (of the original one when `duplicate`). */
  seq: number;
  duplicate: boolean;
}

/**
 * Why the stream refused an append. `wrong-last-sequence`: the subject moved on since the
 * caller read it (reload and decide again); `rejected`: any other refusal by the server
 * (message too large, stream sealed...), see `code`.
 */
export type AppendRefusalReason = 'wrong-last-sequence' | 'rejected';

/** The stream answered and did not store the event: a known outcome, nothing was appended. */
export class AppendRefused extends Error {
  override readonly name = 'AppendRefused';
  readonly outcome = 'refused';
  constructor(
    readonly subject: string,
    readonly reason: AppendRefusalReason,
    /** The JetStream API error code of the refusal. */
    readonly code: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The append got no answer from the stream (timeout, connection lost or closed, no
 * responders): the event may or may not be stored. Publishing it again with the same `msgId`
 * within the duplicate window settles it. `message` is the underlying error's.
 */
export class AppendOutcomeUnknown extends Error {
  override readonly name = 'AppendOutcomeUnknown';
  readonly outcome = 'unknown';
  constructor(
    readonly subject: string,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

export type AppendFailure = AppendRefused | AppendOutcomeUnknown;

/**
 * Sorts a failed publish into the two outcomes callers act on. Only an error answer from the
 * stream (a JetStream API error) proves nothing was stored; anything else is unknown, the safe
 * side: the caller re-publishes with the same msgId or tells the client to retry.
 */
export function classifyAppendFailure(subject: string, err: unknown): AppendFailure {
  if (err instanceof AppendRefused || err instanceof AppendOutcomeUnknown) return err;
  if (isApiError(err)) {
    return err.code === ApiErrorCode.wrongLastSequence
      ? new AppendRefused(subject, 'wrong-last-sequence', err.code, `wrong last sequence on ${subject}`, { cause: err })
      : new AppendRefused(subject, 'rejected', err.code, err.message, { cause: err });
  }
  return new AppendOutcomeUnknown(subject, err);
}

/**
 * Appends one event as JSON and waits for JetStream to store it. Rejects only with
 * `AppendRefused` or `AppendOutcomeUnknown`.
 */
export async function append(js: JetStreamClient, subject: string, payload: unknown, opts: AppendOptions): Promise<AppendResult> {
  let hdrs: MsgHdrs | undefined;
  if (opts.headers || Spans.on) {
    hdrs = natsHeaders();
    for (const [k, v] of Object.entries(opts.headers ?? {})) hdrs.set(k, v);
    // Kept with the message and on its republish: the gateway's `live.fromAppend` span.
    Spans.stamp(hdrs);
  }
  const t0 = Spans.start();
  try {
    const ack = await js.publish(subject, encodeJson(payload), {
      msgID: opts.msgId,
      expect: opts.expectLastSubjectSequence === undefined ? undefined : { lastSubjectSequence: opts.expectLastSubjectSequence },
      headers: hdrs,
    });
    Spans.end('js.append', t0);
    return { seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    throw classifyAppendFailure(subject, err);
  }
}
