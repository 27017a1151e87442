import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { decodeModerationEvent, type ModerationEvent, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, type AppendResult, type Delivered } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';

/** One event of the moderation stream with where it is stored. */
export interface StoredModerationEvent {
  event: ModerationEvent;
  /** Stream sequence: the audit log's order and the reports queue's cursor. */
  position: number;
  subject: string;
}

export type ModerationListener = (stored: StoredModerationEvent) => void;

/**
 * The moderation stream (NS_MODERATION, `ns.mod.>`) as this replica knows it: the one ordered
 * follower of the whole stream, from its first message, then live. Every part of the service
 * that keeps state (filters, roles, sanctions, reports, the audit index) registers a listener
 * in its constructor and folds what it is given; nothing else reads the stream. Listeners run
 * synchronously in stream order; a listener that throws is logged and the others still get
 * the event. Undecodable messages are logged and skipped (counted in `skipped`).
 *
 * Commands append through `append` and then `waitFor(position)`: the answer a client gets is
 * given after this replica's own fold has the event, so a read that follows a write on the same
 * replica sees it; other replicas follow within milliseconds.
 */
@Injectable()
export class ModerationLog implements OnApplicationShutdown {
  private readonly log = new Logger(ModerationLog.name);
  private readonly listeners: ModerationListener[] = [];
  private readonly waiters: Array<{ position: number; resolve: () => void }> = [];
  private stopFollow?: () => Promise<void>;
  private started?: Promise<void>;
  private caughtUp = false;
  /** Highest position applied. */
  position = 0;
  skipped = 0;

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {}

  /** Register before `start` (constructors, onModuleInit): a listener added later misses the replay. */
  onEvent(listener: ModerationListener): void {
    this.listeners.push(listener);
  }

  /** Replays the stream, then follows it; resolves once caught up. Idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      const f = await this.js.follow(this.s.streams.moderation.name, this.s.moderation.all, (m) => this.apply(m));
      this.stopFollow = f.stop;
      await f.caughtUp;
      this.caughtUp = true;
      this.log.log(`moderation stream replayed up to ${this.position}`);
    })();
    return this.started;
  }

  isCaughtUp(): boolean {
    return this.caughtUp;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stopFollow?.();
  }

  /**
   * Appends one event. `msgId` makes a retried (or another replica's identical) append store
   * it once; `expectLastSubjectSequence` refuses it (AppendRefused `wrong-last-sequence`) if
   * the subject moved on since the caller decided.
   */
  append(subject: string, event: ModerationEvent, msgId: string, expectLastSubjectSequence?: number): Promise<AppendResult> {
    return this.js.append(subject, event, { msgId, expectLastSubjectSequence });
  }

  /** Appends, then waits until this replica's fold has applied the event. */
  async appendAndApply(subject: string, event: ModerationEvent, msgId: string, expectLastSubjectSequence?: number): Promise<AppendResult> {
    const r = await this.append(subject, event, msgId, expectLastSubjectSequence);
    await this.waitFor(r.seq);
    return r;
  }

  /** Resolves once the fold has applied `position` (at once if it already has). */
  waitFor(position: number, timeoutMs = 5000): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.findIndex((w) => w.resolve === done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`moderation stream position ${position} not applied within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ position, resolve: done });
    });
  }

  private apply(m: Delivered): void {
    const decoded = decodeModerationEvent(m.data);
    if (decoded.ok) {
      const stored: StoredModerationEvent = { event: decoded.event, position: m.seq, subject: m.subject };
      for (const listener of this.listeners) {
        try {
          listener(stored);
        } catch (err) {
          this.log.error({ msg: 'a moderation listener failed on an event', err, position: m.seq, type: decoded.event.type });
        }
      }
    } else {
      this.skipped++;
      this.log.warn({ msg: 'undecodable moderation event skipped', position: m.seq, subject: m.subject, reason: decoded });
    }
    this.position = Math.max(this.position, m.seq);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].position <= this.position) this.waiters.splice(i, 1)[0].resolve();
    }
  }
}
