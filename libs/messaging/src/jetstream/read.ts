import type { JetStreamManager } from '@nats-io/jetstream';
import { decodeJson } from '../codec';
import { ApiErrorCode, isApiError, type Delivered } from './common';

export type SubjectQuery = { last_by_subj: string } | { next_by_subj: string; seq: number };

/**
 * Reads one stored message through the stream's message-get API: the last on a subject, or
 * the first on a subject at or after a sequence. null when there is none.
 */
export async function readOne(jsm: JetStreamManager, stream: string, query: SubjectQuery): Promise<Delivered | null> {
  try {
    const m = await jsm.streams.getMessage(stream, query);
    if (!m) return null;
    return { subject: m.subject, seq: m.seq, data: decodeJson(m.data), raw: m.data, redelivered: false, pending: 0 };
  } catch (err) {
    if (isApiError(err, ApiErrorCode.noMessageFound)) return null;
    throw err;
  }
}
