import type { EntityManager } from 'typeorm';
import type { ChatEvent } from '@chat/contracts';
import type { DeadLetter, DroppedMessage, Rejected, RoomSubjects, StreamEvent } from './events';

/**
 * One read model of the history service (messages, membership; later search, statistics, read
 * markers): a folder that owns its tables (entities here, migrations in db/migrations), the pure
 * mapping of its event types to row changes, and the SQL that applies them. The projector asks
 * every read model listed in read-models.ts for its part of each batch plan and applies all
 * parts, the dead letters and the checkpoint in one transaction.
 */
export interface ReadModel<Change extends { position: number }, Part> {
  /** Event types this read model projects; each type of the chat stream belongs to exactly one read model. */
  readonly eventTypes: readonly ChatEvent['type'][];
  /** TypeORM entities of its tables. */
  readonly entities: readonly (new () => object)[];
  /**
   * Maps one event of its types, already decoded and checked whole by the chat stream's decoder
   * (`decodeChatEvent`), to the row change it makes, or rejects it for a rule of its own (it
   * becomes a dead letter). Pure: same event, same answer, so re-projecting a batch is harmless.
   */
  decode(e: StreamEvent, event: ChatEvent, subjects: RoomSubjects): Change | Rejected;
  /**
   * Its part of a batch plan from the batch's changes (in position order, each position once,
   * redeliveries included). Pure. The part must be safe to apply again and in any order with
   * other batches' parts (batches may commit out of order).
   */
  plan(changes: Change[]): Part;
  /**
   * Writes its part inside the batch transaction. Returns changes it turned into dead letters
   * while writing (e.g. a message id already taken by another event), so none is lost silently.
   */
  apply(em: EntityManager, part: Part, ctx: ApplyContext): Promise<DeadLetter[]>;
}

export interface ApplyContext {
  /** The quoted schema, for raw SQL. */
  schema: string;
  /** The batch being applied (for dead letters that quote an event verbatim). */
  events: StreamEvent[];
  /** Where read models report the MessagePosted events they newly dropped (refused, or gone with their room). */
  dropped: DroppedMessage[];
  /**
   * Whether stored messages are judged again after late room events (false while backfilling
   * the membership logs of a deployment that projected before them: its stored messages were
   * checked by rooms when appended, and judging every one again would scan whole rooms).
   */
  recheck: boolean;
  /**
   * Where read models report positions of changes newly projected that do not hold at their
   * position and are ignored ("the stream decides": an edit by someone other than the author,
   * any change to a deleted message). Not errors and not dead letters; counted in a metric.
   */
  ignored: number[];
  /** When a post is already past its room's retention period (posting/: dropped as `expired`). */
  retention: Retention;
}

/** The deployment's default retention period (RETENTION_DEFAULT_DAYS; 0 keeps forever) and the time the batch is applied. */
export interface Retention {
  defaultDays: number;
  now: Date;
}

export type AnyReadModel = ReadModel<any, any>;
export type PartOf<M> = M extends ReadModel<infer _C, infer P> ? P : never;
