import { createSubjects } from '@chat/contracts';
import { JetStreamAdapter, connectNats } from '@chat/messaging';
import type { HistoryConfig } from '../config';
import { openDatabase } from '../db/data-source';
import { HistoryStore } from '../store/history.store';
import { toStreamEvent } from './projector';

export interface RebuildOptions {
  /** The history service's settings, DATABASE_SCHEMA being the schema to fill. */
  config: HistoryConfig;
  /** Stream events per batch transaction. @default 4096 */
  batch?: number;
  /** Keep projecting new events after reaching the stream's end as of the start, until `stop`. */
  follow?: boolean;
  /** Progress after each batch (and once at the start). */
  onProgress?: (p: RebuildProgress) => void;
}

export interface RebuildProgress {
  /** First position this run replays (the schema's checkpoint + 1). */
  from: number;
  /** The stream's last position when the run started: where it ends without `follow`. */
  target: number;
  /** Highest position applied so far (the checkpoint). */
  position: number;
  /** Events applied by this run. */
  events: number;
  /** Of those, dead-lettered. */
  deadLetters: number;
  startedAt: number;
}

export interface Rebuild {
  /** Resolves with the last progress once the target is reached (or after `stop`). */
  done: Promise<RebuildProgress>;
  /** Ends after the batch in progress; the checkpoint is kept, so running again resumes. */
  stop(): Promise<void>;
}

/** Why a rebuild does not start; the command prints it and exits 2. */
export class RebuildRefused extends Error {}

/**
 * Replays the CHAT stream into the schema `config.DATABASE_SCHEMA` through the projection's own
 * HistoryStore.applyBatch (the same plan, read models, dead letters and checkpoint as the live
 * projector, so the result is the same tables), in stream order and big batches. The schema is
 * created and migrated when missing; one whose checkpoint is above 0 is resumed after it (the
 * replay is in order, so the checkpoint is contiguous). Refused when the schema's durable
 * consumer exists: history instances project into that schema already.
 *
 * History instances started with DATABASE_SCHEMA set to it afterwards create their durable
 * consumer at the checkpoint + 1 (Projector), so they go on exactly where the rebuild stopped.
 */
export async function startRebuild(opts: RebuildOptions): Promise<Rebuild> {
  const { config } = opts;
  const s = createSubjects(config.NATS_NAMESPACE);
  const nc = await connectNats({ servers: config.NATS_URL, name: `history-rebuild-${config.DATABASE_SCHEMA}` });
  const closers: Array<() => Promise<unknown>> = [() => nc.drain()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const js = new JetStreamAdapter(nc);
    const stream = s.streams.chat.name;
    const durable = s.consumers.historyProjectorOf(config.DATABASE_SCHEMA);
    if ((await js.ackFloor(stream, durable)) !== null)
      throw new RebuildRefused(
        `schema "${config.DATABASE_SCHEMA}" has its projector consumer ${durable} already: history instances project into it. Rebuild into a new schema.`,
      );
    const ds = await openDatabase({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      applicationName: 'history-rebuild',
      timeouts: { statementMs: config.DATABASE_STATEMENT_TIMEOUT_MS, lockMs: config.DATABASE_LOCK_TIMEOUT_MS },
    });
    const store = new HistoryStore(ds, s.consumers.historyProjector, s.chat);
    closers.push(() => ds.destroy());
    const checkpoint = await store.checkpoint();
    const target = await js.lastSeq(stream);
    const progress: RebuildProgress = {
      from: checkpoint + 1,
      target,
      position: checkpoint,
      events: 0,
      deadLetters: 0,
      startedAt: Date.now(),
    };
    opts.onProgress?.({ ...progress });
    const replaying = await js.replay(
      {
        stream,
        filterSubject: s.chat.all,
        fromSeq: checkpoint + 1,
        batch: opts.batch ?? 4096,
        untilSeq: opts.follow ? undefined : target,
      },
      async (msgs) => {
        const plan = await store.applyBatch(msgs.map(toStreamEvent));
        progress.position = plan.checkpoint;
        progress.events += msgs.length;
        progress.deadLetters += plan.fresh.deadLetters;
        opts.onProgress?.({ ...progress });
      },
    );
    const done = replaying.done.then(
      async () => {
        await close();
        return { ...progress };
      },
      async (err) => {
        await close();
        throw err;
      },
    );
    return { done, stop: () => replaying.stop() };
  } catch (err) {
    await close();
    throw err;
  }
}

/** One line of progress: bar, position, events/s, time left (until the target; none while following past it). */
export function progressLine(p: RebuildProgress, now = Date.now(), width = 30): string {
  const total = Math.max(0, p.target - p.from + 1);
  const doneSeqs = Math.min(total, Math.max(0, p.position - p.from + 1));
  const ratio = total === 0 ? 1 : doneSeqs / total;
  const filled = Math.round(ratio * width);
  const seconds = Math.max(0.001, (now - p.startedAt) / 1000);
  const rate = p.events / seconds;
  const left = rate > 0 && doneSeqs < total ? (total - doneSeqs) / (doneSeqs / seconds) : 0;
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const pct = (ratio * 100).toFixed(1).padStart(5);
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  return `[${bar}] ${pct}% ${n(p.position)}/${n(p.target)}  ${n(rate)} events/s  ${duration(left)} left  elapsed ${duration(seconds)}  dead letters ${n(p.deadLetters)}`;
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
