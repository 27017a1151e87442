import { chatEventTypes, decodeChatEvent } from '@chat/contracts';
import { readModels, type ReadModelName } from '../read-models';
import { isRejected, letterOf, type DeadLetter, type DroppedMessage, type RoomSubjects, type StreamEvent } from './events';
import type { PartOf } from './read-model';

type Models = typeof readModels;
const names = Object.keys(readModels) as ReadModelName[];

/** Which read model projects each event type; two claiming one type is a bug caught at start-up. */
const ownerOf = new Map<string, ReadModelName>();
for (const name of names)
  for (const type of readModels[name].eventTypes) {
    const other = ownerOf.get(type);
    if (other) throw new Error(`event type ${type} is claimed by read models ${other} and ${name}`);
    ownerOf.set(type, name);
  }
// Every event type of the chat stream has a read model: a new type added to the contracts without
// one would otherwise be dead-lettered in production; here it stops the service (and the tests).
for (const type of chatEventTypes) if (!ownerOf.has(type)) throw new Error(`no read model projects event type ${type}`);

/** What one stream event becomes: a change for the read model owning its type, or a dead letter. */
export type Routed =
  | { [K in ReadModelName]: { kind: K; change: Parameters<Models[K]['plan']>[0][number] } }[ReadModelName]
  | { kind: 'dead'; letter: DeadLetter };

/**
 * Decodes one stream event with the chat stream's decoder (`decodeChatEvent`: envelope and payload
 * checked whole, older versions upcast) and routes it by type to the read model that owns the
 * type. Pure. Anything that cannot be projected (not JSON, malformed, an unknown type or version,
 * rejected by its read model) becomes a dead letter instead of an error, so one bad event never
 * stops the projection.
 */
export function route(e: StreamEvent, subjects: RoomSubjects): Routed {
  const dead = (error: string): Routed => ({ kind: 'dead', letter: letterOf(e, error) });
  const decoded = decodeChatEvent(e.data);
  if (!decoded.ok) return dead(decoded.reason);
  const name = ownerOf.get(decoded.event.type)!;
  const change = readModels[name].decode(e, decoded.event, subjects);
  if (isRejected(change)) return dead(change.rejected);
  return { kind: name, change } as Routed;
}

export type Parts = { [K in ReadModelName]: PartOf<Models[K]> };

export interface BatchPlan {
  /** Events above the checkpoint, projected for the first time, by read model (or dead-lettered). */
  fresh: Record<ReadModelName, number> & { deadLetters: number };
  /**
   * Events at or below the checkpoint (redeliveries). They do not count as projected and do not
   * move the checkpoint, but their rows are still part of the plan and written idempotently:
   * JetStream can redeliver an earlier batch after a later one committed (a nak'd batch comes
   * back after newer messages were fetched, ack-wait expiry, several replicas), and skipping by
   * checkpoint alone would then lose those events for good.
   */
  replayed: number;
  /** Each read model's row changes. */
  parts: Parts;
  deadLetters: DeadLetter[];
  /**
   * Changes a read model turned into dead letters while writing (e.g. a message id another
   * stored event already holds), newly dead-lettered by this batch; filled in by the store.
   * They are also in `deadLetters` (and counted there when fresh).
   */
  conflicts: DeadLetter[];
  /**
   * MessagePosted events newly dropped by this batch (filled in by the store): refused by the
   * posting rule at their position, or gone with their deleted room. A redelivery does not list
   * them again.
   */
  dropped: DroppedMessage[];
  /** Positions of message changes newly projected that are ignored (filled in by the store; see ApplyContext.ignored). */
  ignored: number[];
  /**
   * The checkpoint after this batch: the highest position ever projected. A high-water mark
   * only: batches commit out of order (replicas, nak'd or redelivered batches), so an event
   * below it may still be on its way.
   */
  checkpoint: number;
}

/**
 * Plans one batch against the current checkpoint: every event routed to its read model, each
 * read model's part planned from its changes, dead letters, and the new checkpoint. Pure; the
 * store applies the plan in one transaction.
 */
export function planBatch(events: StreamEvent[], checkpoint: number, subjects: RoomSubjects): BatchPlan {
  const fresh = Object.fromEntries([...names.map((n) => [n, 0]), ['deadLetters', 0]]) as BatchPlan['fresh'];
  const changes = Object.fromEntries(names.map((n) => [n, [] as unknown[]])) as Record<ReadModelName, unknown[]>;
  const deadLetters: DeadLetter[] = [];
  let replayed = 0;
  let next = checkpoint;
  const seen = new Set<number>();
  for (const e of [...events].sort((a, b) => a.position - b.position)) {
    if (seen.has(e.position)) continue; // the same delivery twice in one batch
    seen.add(e.position);
    const out = route(e, subjects);
    if (out.kind === 'dead') deadLetters.push(out.letter);
    else changes[out.kind].push(out.change);
    if (e.position <= checkpoint) {
      replayed++;
      continue;
    }
    fresh[out.kind === 'dead' ? 'deadLetters' : out.kind]++;
    next = Math.max(next, e.position);
  }
  const parts = Object.fromEntries(names.map((n) => [n, readModels[n].plan(changes[n] as any)])) as Parts;
  return { fresh, replayed, parts, deadLetters, conflicts: [], dropped: [], ignored: [], checkpoint: next };
}
