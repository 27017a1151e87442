import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Delivered } from '@chat/messaging';
import { CONFIG, MetricsRegistry, SUBJECTS } from '@chat/platform';
import type { HistoryConfig } from '../config';
import { MembershipQueries } from '../membership';
import { MessageQueries } from '../messages';
import type { StreamEvent } from '../store/events';
import { route } from '../store/plan';
import { toStreamEvent } from './projector';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What a wait is for: which of a subject's events it needs (`relevant`), and which of those
 * positions the tables do not reflect yet (`missing`, one indexed query).
 */
interface Witness {
  relevant(e: StreamEvent): boolean;
  missing(positions: number[]): Promise<number[]>;
}

type Outcome = 'ready' | 'waited' | 'timed_out';

/**
 * Answers "has every event of this room up to its last stored message been projected?", which
 * the newest history page waits for (read-your-writes), and "has every event about this user in
 * this room's …meta subject been projected?", which every page's authorisation waits for (a
 * join or leave the caller was just acknowledged is decided on, never an older state).
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
  private readonly authOutcomes: Counter<'outcome'>;

  constructor(
    private readonly messages: MessageQueries,
    private readonly membership: MembershipQueries,
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) private readonly config: HistoryConfig,
    metrics: MetricsRegistry,
  ) {
    this.outcomes = new Counter({
      name: 'history_page_catch_up_total',
      help: 'Newest-page reads by how the projection stood: ready at once, ready after waiting, or still behind when the wait ended',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    this.authOutcomes = new Counter({
      name: 'history_membership_catch_up_total',
      help: "history.page authorisations by how the membership projection stood for the caller's room events: ready at once, ready after waiting, or still behind when the wait ended",
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    for (const outcome of ['ready', 'waited', 'timed_out']) {
      this.outcomes.inc({ outcome }, 0);
      this.authOutcomes.inc({ outcome }, 0);
    }
  }

  /**
   * Resolves true once every event stored on the room's message subject (as of the call) has
   * its message row or dead letter, false when that has not happened within `waitMs`. Each look
   * costs one indexed query for the positions still missing; JetStream is asked only to list
   * the room's positions (once, unless the room has more than `maxListed` above the floor).
   */
  async caughtUp(roomId: string, waitMs: number): Promise<boolean> {
    // Every event on a message subject leaves a message row or a dead letter.
    const witness: Witness = { relevant: () => true, missing: (positions) => this.messages.unprojected(positions) };
    return this.done(this.outcomes, await this.waitFor(this.s.chat.roomMessages(roomId), waitMs, witness));
  }

  /**
   * Resolves true once the membership read model reflects every event about `userId` stored on
   * the room's …meta subject as of the call (their joins, leaves, kicks, bans, role changes, a
   * creation or conversation naming them) and every room-level event (creation, settings,
   * deletion: they decide NOT_FOUND against FORBIDDEN), false when that has not happened within
   * `waitMs`. A caller acknowledged a join or a leave finds it applied: the event is on the
   * subject before the acknowledgement. Other users' events do not hold the caller up. The
   * caller's row and the room's row each record the newest position applied to them, so two
   * primary-key lookups tell which of those events are still missing.
   */
  async membershipCaughtUp(roomId: string, userId: string, waitMs: number): Promise<boolean> {
    // What each listed position is: a room-level event, one about the caller, or both (a
    // creation or conversation naming them).
    const roomLevel = new Set<number>();
    const aboutCaller = new Set<number>();
    const witness: Witness = {
      relevant: (e) => {
        const out = route(e, this.s.chat);
        if (out.kind !== 'membership') return false;
        if (out.change.room) roomLevel.add(e.position);
        if (out.change.members.some((m) => m.userId === userId)) aboutCaller.add(e.position);
        return roomLevel.has(e.position) || aboutCaller.has(e.position);
      },
      missing: async (positions) => {
        const [standing, room] = await Promise.all([this.membership.standing(roomId, userId), this.membership.room(roomId)]);
        const member = standing?.position ?? 0;
        const roomAt = room?.position ?? 0;
        return positions.filter((p) => (roomLevel.has(p) && p > roomAt) || (aboutCaller.has(p) && p > member));
      },
    };
    return this.done(this.authOutcomes, await this.waitFor(this.s.chat.roomMeta(roomId), waitMs, witness));
  }

  /**
   * Resolves true once the projection has acknowledged everything stored on the chat stream as
   * of the call, false when that has not happened within `waitMs`. For lists that span many
   * rooms (the caller's conversations), where waiting per subject would cost a look per room:
   * the ack floor moves with the whole projection, so this costs one stream read and a few
   * consumer-info polls.
   */
  async streamCaughtUp(waitMs: number): Promise<boolean> {
    const last = await this.js.lastSeq(this.s.streams.chat.name);
    if (last <= this.floor) return true;
    const deadline = Date.now() + waitMs;
    for (let pause = ProjectionProgress.pollMs.first; ; pause = Math.min(pause * 2, ProjectionProgress.pollMs.max)) {
      if (last <= (await this.ackFloor())) return true;
      if (Date.now() + pause > deadline) return false;
      await sleep(pause);
    }
  }

  private async waitFor(subject: string, waitMs: number, witness: Witness): Promise<Outcome> {
    const stream = this.s.streams.chat.name;
    const last = await this.js.lastOnSubject(stream, subject);
    if (!last || last.seq <= this.floor) return 'ready';
    const deadline = Date.now() + waitMs;
    // Positions of the subject still to be found in the tables; null: not listed yet, or (when
    // `tooMany`) more than maxListed of them, and then only the ack floor is watched.
    let missing: number[] | null = null;
    let tooMany = false;
    for (let pause = ProjectionProgress.pollMs.first, looks = 0; ; pause = Math.min(pause * 2, ProjectionProgress.pollMs.max), looks++) {
      if (missing === null) {
        const floor = await this.ackFloor();
        if (last.seq <= floor) return looks ? 'waited' : 'ready';
        if (!tooMany) missing = await this.expectedAbove(stream, subject, floor, last, witness);
        tooMany = missing === null;
      }
      if (missing !== null) {
        missing = missing.length ? await witness.missing(missing) : missing;
        if (!missing.length) return looks ? 'waited' : 'ready';
      }
      if (Date.now() + pause > deadline) return 'timed_out';
      await sleep(pause);
    }
  }

  private done(counter: Counter<'outcome'>, outcome: Outcome): boolean {
    counter.inc({ outcome });
    return outcome !== 'timed_out';
  }

  /**
   * The consumer's ack floor; concurrent callers share one request. When it cannot be read (no
   * consumer yet, NATS trouble) the highest floor seen so far stands.
   */
  private ackFloor(): Promise<number> {
    this.floorRequest ??= (async () => {
      try {
        const floor = await this.js.ackFloor(this.s.streams.chat.name, this.s.consumers.historyProjectorOf(this.config.DATABASE_SCHEMA));
        this.floor = Math.max(this.floor, floor ?? 0);
        return this.floor;
      } finally {
        this.floorRequest = null;
      }
    })();
    return this.floorRequest;
  }

  /**
   * Positions of the subject's events in (floor, last] that the witness needs; null when there
   * are more than `maxListed` events to list (relevant or not: each costs a round trip).
   */
  private async expectedAbove(stream: string, subject: string, floor: number, last: Delivered, witness: Witness): Promise<number[] | null> {
    const positions: number[] = [];
    let listed = 0;
    const add = (e: Delivered) => {
      if (witness.relevant(toStreamEvent(e))) positions.push(e.seq);
    };
    for (let from = floor + 1; ;) {
      // The last message is at hand already; what was appended after it is not waited for.
      const e = from >= last.seq ? last : await this.js.nextOnSubject(stream, subject, from);
      // null or past the last one: the room's newer events were removed from the stream meanwhile.
      if (!e || e.seq > last.seq) return positions;
      add(e);
      if (e.seq === last.seq) return positions;
      if (++listed > ProjectionProgress.maxListed) return null;
      from = e.seq + 1;
    }
  }
}
