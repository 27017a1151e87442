import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Delivered } from '@chat/messaging';
import { MetricsRegistry, SUBJECTS } from '@chat/platform';
import { HistoryStore } from '../db/history.store';
import { project } from './mapping';
import { toStreamEvent } from './projector';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Answers "has every event of this room up to its last stored message been projected?", which
 * the newest history page waits for (read-your-writes).
 *
 * The checkpoint cannot answer it: it is the highest position committed, and batches commit
 * out of order (two replicas sharing the consumer, a nak'd batch coming back after the next
 * one committed, a crashed replica's batch redelivered after the ack wait), so positions below
 * it can still be missing. A contiguous low watermark is kept by JetStream instead: the
 * consumer's ack floor. The projector acks a batch only after its transaction committed, so
 * every event at or below the ack floor is in the tables. Above the floor, the room's own
 * events are listed from the stream (usually just its last message) and looked up by position
 * in the tables, so a batch stuck elsewhere holds up only the rooms that have events in it.
 */
@Injectable()
export class ProjectionProgress {
  /** Room events above the ack floor listed one by one; with more, the page waits for the floor to move. */
  static readonly maxListed = 32;
  /** First and longest pause between two looks while waiting, in ms. */
  static readonly pollMs = { first: 5, max: 200 };

  /** Highest ack floor seen. Kept when the consumer is re-created: rows, once committed, stay. */
  private floor = 0;
  private floorRequest: Promise<number> | null = null;
  private readonly outcomes: Counter<'outcome'>;

  constructor(
    private readonly store: HistoryStore,
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
    metrics: MetricsRegistry,
  ) {
    this.outcomes = new Counter({
      name: 'history_page_catch_up_total',
      help: 'Newest-page reads by how the projection stood: ready at once, ready after waiting, or still behind when the wait ended',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    for (const outcome of ['ready', 'waited', 'timed_out']) this.outcomes.inc({ outcome }, 0);
  }

  /**
   * Resolves true once every event stored on the room's message subject (as of the call) has
   * its message row or dead letter, false when that has not happened within `waitMs`. Each look
   * costs one indexed query for the positions still missing; JetStream is asked only to list
   * the room's positions (once, unless the room has more than `maxListed` above the floor).
   */
  async caughtUp(roomId: string, waitMs: number): Promise<boolean> {
    const stream = this.s.streams.chat.name;
    const subject = this.s.chat.roomMessages(roomId);
    const last = await this.js.lastOnSubject(stream, subject);
    if (!last || last.seq <= this.floor) return this.done('ready');
    const deadline = Date.now() + waitMs;
    // Positions of the room still to be found in the tables; null: not listed yet, or (when
    // `tooMany`) more than maxListed of them, and then only the ack floor is watched.
    let missing: number[] | null = null;
    let tooMany = false;
    for (let pause = ProjectionProgress.pollMs.first, looks = 0; ; pause = Math.min(pause * 2, ProjectionProgress.pollMs.max), looks++) {
      if (missing === null) {
        const floor = await this.ackFloor();
        if (last.seq <= floor) return this.done(looks ? 'waited' : 'ready');
        if (!tooMany) missing = await this.expectedAbove(stream, subject, floor, last);
        tooMany = missing === null;
      }
      if (missing !== null) {
        missing = await this.store.unprojected(missing);
        if (!missing.length) return this.done(looks ? 'waited' : 'ready');
      }
      if (Date.now() + pause > deadline) return this.done('timed_out');
      await sleep(pause);
    }
  }

  private done(outcome: 'ready' | 'waited' | 'timed_out'): boolean {
    this.outcomes.inc({ outcome });
    return outcome !== 'timed_out';
  }

  /**
   * The consumer's ack floor; concurrent callers share one request. When it cannot be read (no
   * consumer yet, NATS trouble) the highest floor seen so far stands.
   */
  private ackFloor(): Promise<number> {
    this.floorRequest ??= (async () => {
      try {
        const floor = await this.js.ackFloor(this.s.streams.chat.name, this.s.consumers.historyProjector);
        this.floor = Math.max(this.floor, floor ?? 0);
        return this.floor;
      } finally {
        this.floorRequest = null;
      }
    })();
    return this.floorRequest;
  }

  /**
   * Positions of the room's events in (floor, last] that leave a row or dead letter (events the
   * projection ignores leave none, so nothing is waited for them); null when there are more
   * than `maxListed`.
   */
  private async expectedAbove(stream: string, subject: string, floor: number, last: Delivered): Promise<number[] | null> {
    const positions: number[] = [];
    const add = (e: Delivered) => {
      if (project(toStreamEvent(e), (roomId) => this.s.chat.roomMessages(roomId)).kind !== 'ignored') positions.push(e.seq);
    };
    for (let from = floor + 1; ;) {
      // The last message is at hand already; what was appended after it is not waited for.
      const e = from >= last.seq ? last : await this.js.nextOnSubject(stream, subject, from);
      // null or past the last one: the room's newer events were removed from the stream meanwhile.
      if (!e || e.seq > last.seq) return positions;
      add(e);
      if (e.seq === last.seq) return positions;
      if (positions.length > ProjectionProgress.maxListed) return null;
      from = e.seq + 1;
    }
  }
}
