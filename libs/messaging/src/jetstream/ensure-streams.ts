import type { JetStreamManager } from '@nats-io/jetstream';
import type { StreamSpec } from '../streams';
import { ApiErrorCode, isApiError, type Log } from './common';

/**
 * Creates each stream, or updates it to the declared config; safe to run from every replica
 * at once. When two replicas start together both may see "not found" and both add: the loser
 * gets "already in use" or, on NATS 2.9, "subjects overlap with an existing stream" (the
 * winner's stream now owns the subjects). Either way the loser looks again and takes the
 * update path, so a race never fails a start-up while a real conflict (another stream really
 * owning these subjects) still does after the retries.
 */
export async function ensureStreams(jsm: JetStreamManager, specs: StreamSpec[], log: Log): Promise<void> {
  for (const spec of specs) {
    try {
      await ensureStream(jsm, spec, log);
    } catch (err) {
      // More copies than the deployment has JetStream servers: the server's own words
      // ("replicas > 1 not supported in non-clustered mode", "insufficient resources") do not
      // name the setting, so the error does.
      if ((spec.num_replicas ?? 1) > 1 && isApiError(err) && /replicas|insufficient resources/i.test(err.message))
        throw new Error(
          `stream ${spec.name}: ${spec.num_replicas} replicas (NATS_REPLICAS) need a JetStream cluster of at least that many servers: ${err.message}`,
          { cause: err },
        );
      throw err;
    }
  }
}

async function ensureStream(jsm: JetStreamManager, spec: StreamSpec, log: Log): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await jsm.streams.info(spec.name);
      await jsm.streams.update(spec.name, { ...info.config, ...spec });
      break;
    } catch (err) {
      if (!isApiError(err, ApiErrorCode.streamNotFound)) throw err;
    }
    try {
      await jsm.streams.add(spec);
      break;
    } catch (addErr) {
      const raced = isApiError(addErr) && /already in use|overlap/i.test(addErr.message);
      if (!raced || attempt >= 3) throw addErr;
      log('debug', 'stream created concurrently; looking again', { stream: spec.name, attempt });
    }
  }
}
