import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { ResumeResult, Subjects, WsEventName, WsEvents } from '@chat/contracts';
import { JetStreamAdapter } from '@chat/messaging';
import { CONFIG, PINO, SUBJECTS } from '@chat/platform';
import type { GatewayConfig } from '../config';
import { GatewayMetrics } from '../metrics';
import type { Session } from '../sessions/session';
import type { PreparedResume, SessionResume } from '../sessions/session-resume';
import { eventFrame } from '../wire/frames';
import { LiveFanout } from './live.subscriber';
import { ResumeSelection, membershipChange, resumeRefusal, type ResumeFrame } from './resume';

/** Wait between checks of a client's send buffer while a replay is paced, in ms. */
const PACE_MS = 5;
/** Resume reads in progress at once per gateway. */
const MAX_CONCURRENT = 16;
/** Room events of a window read one by one before the rest is read with a consumer. */
const MAX_GETS = 200;
/** Most stored events read per pull. */
const READ_BATCH = 4096;

/** Thrown out of a replay batch to end the read once the frames exceed RESUME_MAX_EVENTS. */
class TooMany extends Error {}
/** Thrown out of a replay batch at a missing position: retention removed stored events after resumeFrom. */
class Gap extends Error {}

/** What a resume read: the frames in position order; held live frames at or below `upTo` are covered by them. */
interface Replay {
  result: ResumeResult;
  frames: ResumeFrame[];
  upTo: number;
}

/**
 * Resume, the reading part (docs/protocol.md "Resuming"): on a connection's first `auth` with
 * `resumeFrom`, reads the CHAT stream after it up to its last position at that moment and
 * selects the user's frames (resume.ts). Live frames for the session are held from before its
 * room subscriptions exist until the replay is sent (LiveFanout.hold), so that everything up
 * to `upTo` comes from the stream and everything after from live delivery: each event once,
 * in order, on whichever gateway the client reconnects to.
 */
@Injectable()
export class Resumer implements SessionResume {
  private reading = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly js: JetStreamAdapter,
    private readonly live: LiveFanout,
    private readonly metrics: GatewayMetrics,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  /** Call before the session's room subscriptions are made: its live frames wait from now on. */
  hold(session: Session): void {
    this.live.hold(session);
  }

  /** The auth failed or the connection closed: nothing held is sent. */
  abandon(session: Session): void {
    this.live.release(session, Infinity);
  }

  /**
   * Reads what the user missed after `resumeFrom`. Call once the session's room subscriptions
   * are live (after the room list is applied): the stream's last position read here is then
   * covered by live delivery from the next one on.
   */
  async prepare(session: Session, userId: string, resumeFrom: number, currentRooms: string[]): Promise<PreparedResume> {
    const replay = await this.limited(() => this.read(userId, resumeFrom, currentRooms));
    const { result } = replay;
    this.metrics.resumes.inc({ result: result.status === 'resumed' ? 'resumed' : result.reason });
    return { result, replay: () => this.replay(session, replay.frames), finish: () => this.finish(session, replay.upTo) };
  }

  /**
   * At most MAX_CONCURRENT reads at once: after a gateway restart every client comes back at
   * about the same time, and each read is a stream consumer; the rest wait their turn.
   */
  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    while (this.reading >= MAX_CONCURRENT) await new Promise<void>((r) => this.waiting.push(r));
    this.reading++;
    try {
      return await fn();
    } finally {
      this.reading--;
      this.waiting.shift()?.();
    }
  }

  private async read(userId: string, resumeFrom: number, currentRooms: string[]): Promise<Replay> {
    const stream = this.s.streams.chat.name;
    const bounds = await this.js.bounds(stream);
    const upTo = bounds.last;
    const refusal = resumeRefusal(resumeFrom, bounds, this.config.RESUME_MAX_GAP);
    if (refusal) return { result: refusal, frames: [], upTo };
    const selection = new ResumeSelection(userId, currentRooms);
    if (upTo === resumeFrom) return { result: { status: 'resumed', from: resumeFrom, upTo, replayed: 0 }, frames: [], upTo };

    // Pass 1: the room events of the window (membership). Usually few: one message-get each
    // (a pull would wait at the end for a batch that never fills); past MAX_GETS, one ordered
    // consumer reads the rest (a second more at its end is cheap next to so many).
    let seq = resumeFrom + 1;
    for (let n = 0; seq <= upTo && n < MAX_GETS; n++) {
      const m = await this.js.nextOnSubject(stream, this.s.chat.allRoomMeta, seq);
      if (!m || m.seq > upTo) {
        seq = upTo + 1;
        break;
      }
      selection.learn({ position: m.seq, data: m.data });
      seq = m.seq + 1;
    }
    if (seq <= upTo) {
      const filterSubject = this.s.chat.allRoomMeta;
      const rest = await this.js.replay(
        { stream, filterSubject, fromSeq: seq, untilSeq: upTo, batch: READ_BATCH, pullMs: 1000 },
        async (batch) => {
          for (const m of batch) selection.learn({ position: m.seq, data: m.data });
        },
      );
      await rest.done;
    }
    for (const roomId of selection.undecided()) selection.settle(roomId, await this.memberBefore(userId, roomId, resumeFrom));
    // Pass 2: every event of the window, in order (one ordered consumer; NATS 2.9 has one filter per consumer).
    // A pull waits until its batch is full (or for pullMs): sized to the window, a short one (the
    // usual resume) is read in one pull that returns at once.
    const frames: ResumeFrame[] = [];
    const max = this.config.RESUME_MAX_EVENTS;
    let skipped = 0;
    let next = resumeFrom + 1;
    const replaying = await this.js.replay(
      {
        stream,
        filterSubject: this.s.chat.all,
        fromSeq: resumeFrom + 1,
        untilSeq: upTo,
        batch: Math.min(upTo - resumeFrom, READ_BATCH),
        pullMs: 1000,
      },
      async (batch) => {
        for (const m of batch) {
          // Nothing else removes stored events: a missing position is a retention purge.
          if (m.seq !== next) throw new Gap();
          next = m.seq + 1;
          const out = selection.select({ position: m.seq, data: m.data });
          if (out === 'malformed') {
            skipped++;
            continue;
          }
          for (const frame of out) frames.push({ position: m.seq, frame });
          if (frames.length > max) throw new TooMany();
        }
      },
    );
    const reload = (reason: 'too_far_behind' | 'purged'): Replay => ({
      result: { status: 'reload', reason, latest: upTo },
      frames: [],
      upTo,
    });
    try {
      await replaying.done;
    } catch (err) {
      if (err instanceof TooMany) return reload('too_far_behind');
      if (err instanceof Gap) return reload('purged');
      throw err;
    }
    if (next !== upTo + 1) return reload('purged');
    if (skipped) this.logger.warn({ skipped, resumeFrom, upTo }, 'resume skipped malformed stored events');
    return { result: { status: 'resumed', from: resumeFrom, upTo, replayed: frames.length }, frames, upTo };
  }

  /**
   * Whether the user was in the room at `position`, from the room's events up to it (the last
   * join or removal of theirs). Every one of them is read, however many: a few one by one (most
   * rooms have few), then the rest with one ordered consumer on the room's meta subject.
   */
  private async memberBefore(userId: string, roomId: string, position: number): Promise<boolean> {
    const stream = this.s.streams.chat.name;
    const subject = this.s.chat.roomMeta(roomId);
    let member = false;
    let seq = 1;
    for (let n = 0; seq <= position && n < MAX_GETS; n++) {
      const m = await this.js.nextOnSubject(stream, subject, seq);
      if (!m || m.seq > position) return member;
      member = membershipChange(userId, { position: m.seq, data: m.data }) ?? member;
      seq = m.seq + 1;
    }
    if (seq > position) return member;
    const rest = await this.js.replay(
      { stream, filterSubject: subject, fromSeq: seq, untilSeq: position, batch: READ_BATCH, pullMs: 1000 },
      async (batch) => {
        for (const m of batch) member = membershipChange(userId, { position: m.seq, data: m.data }) ?? member;
      },
    );
    await rest.done;
    return member;
  }

  /**
   * Sends the replayed frames before the session is authenticated (live ones keep waiting),
   * paced: past half the send buffer limit it waits for the client to read, so that a replay
   * larger than the limit is not cut as a slow consumer. Ends early if the connection closes.
   */
  private async replay(session: Session, frames: ResumeFrame[]): Promise<void> {
    const high = this.config.WS_MAX_BUFFERED_BYTES / 2;
    let n = 0;
    try {
      for (const { position, frame } of frames) {
        while (session.conn.bufferedBytes > high) {
          if (session.closed || !session.conn.isOpen) return;
          await new Promise((r) => setTimeout(r, PACE_MS));
        }
        if (!session.deliver(eventFrame(frame.event, position, frame.data as WsEvents[WsEventName]))) return;
        n++;
      }
    } finally {
      this.metrics.framesOut.inc(n);
      this.metrics.resumedEvents.inc(n);
    }
  }

  /** Right after the session is authenticated: the live frames held meanwhile that came after `upTo`, and holding ends. */
  private finish(session: Session, upTo: number): void {
    for (const frame of this.live.release(session, upTo)) if (session.deliver(frame)) this.metrics.framesOut.inc();
  }
}
