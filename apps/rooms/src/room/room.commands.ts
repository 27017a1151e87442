import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatError, directRoomId, type Actor, type EventContext, type Subjects } from '@chat/contracts';
import { AppendRefused, JetStreamAdapter } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';
import { decide, type DecideLookups, type RoomCommand } from './room.decide';
import { RoomStore } from './room.store';
import type { Room } from './room';

/**
 * Decisions of one command lost to another replica's append before it answers CONFLICT. Each
 * loss means someone else's change to the room went in, so a command retrying this often is
 * in a room written to from everywhere at once; the budget keeps the answer within the
 * caller's RPC timeout (5 s by default).
 */
const MAX_ATTEMPTS = 25;
const RETRY_BUDGET_MS = 3000;

/**
 * Runs a room command: decide against this replica's state, append with the room subject's
 * expected last sequence, and on a conflict catch up and decide again. Two replicas racing for
 * the last seat of a room therefore cannot both succeed: the loser re-decides on the new state.
 * A command with several events appends them one after the other, each expecting the position
 * of the one before: a write by someone else in between refuses the rest, and the command is
 * decided again on the new state (its decision then only appends what is still missing).
 * A command that decides nothing (it asks for what already holds) appends nothing and answers
 * with the room's current position.
 */
@Injectable()
export class RoomCommandHandler {
  constructor(
    private readonly store: RoomStore,
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {}

  /** Commands waiting for the room, one chain per room with work in flight. */
  private readonly queues = new Map<string, Promise<unknown>>();

  /**
   * Commands on one room run one after the other on this replica: racing them here would only
   * make all but one lose the append and decide again. Replicas still race each other, which
   * the expected sequence settles.
   */
  execute(cmd: RoomCommand, actor: Actor, correlationId: string): Promise<{ room: Room | null; position: number }> {
    const roomId = cmd.roomId;
    const run = (this.queues.get(roomId) ?? Promise.resolve()).then(() => this.run(cmd, actor, correlationId));
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(roomId, tail);
    void tail.then(() => {
      if (this.queues.get(roomId) === tail) this.queues.delete(roomId);
    });
    return run;
  }

  private async run(cmd: RoomCommand, actor: Actor, correlationId: string): Promise<{ room: Room | null; position: number }> {
    const started = Date.now();
    const ctx: EventContext = { now: () => new Date(), newId: randomUUID, actor, correlationId };
    for (let attempt = 1; ; attempt++) {
      const room = this.store.get(cmd.roomId);
      const decidedAt = this.store.versionOf(cmd.roomId);
      let events;
      try {
        events = decide(room, cmd, ctx, this.lookups);
      } catch (err) {
        // A refusal may come from a stale copy (a join or creation on another replica that we
        // have not seen yet): catch up once and decide again before refusing.
        if (err instanceof ChatError && attempt === 1 && (await this.catchUp(cmd.roomId, decidedAt))) continue;
        throw err;
      }
      const subject = this.s.chat.roomMeta(cmd.roomId);
      // The subject's version, not the room's: read in the same tick as `room`, so they agree.
      let expected = decidedAt;
      try {
        let position = expected;
        for (const event of events) {
          const r = await this.js.append(subject, event, { msgId: event.id, expectLastSubjectSequence: expected });
          this.store.apply(cmd.roomId, event, r.seq);
          expected = position = r.seq;
        }
        return { room: this.store.get(cmd.roomId), position };
      } catch (err) {
        if (err instanceof AppendRefused && err.reason === 'wrong-last-sequence') {
          if (attempt >= MAX_ATTEMPTS || Date.now() - started > RETRY_BUDGET_MS)
            throw new ChatError('CONFLICT', `room "${cmd.roomId}" is busy; try again`);
          // A little random delay, so two replicas that keep colliding fall out of step.
          await sleep(Math.random() * 5 * attempt);
          await this.catchUp(cmd.roomId, decidedAt);
          continue;
        }
        // A refusal by the server is a known outcome: nothing was stored (INTERNAL says so).
        // Anything else (timeout, connection lost) leaves it open whether the event was stored.
        if (err instanceof AppendRefused) throw err;
        throw new ChatError('UNAVAILABLE', `the change may or may not have been applied (${(err as Error).message}); retry`);
      }
    }
  }

  /** Read from the conversations this replica holds (a block is its pair's conversation state). */
  private readonly lookups: DecideLookups = {
    isBlocked: (blockerId, blockedId) =>
      blockerId !== blockedId && (this.store.get(directRoomId(blockerId, blockedId))?.direct?.blocks.has(blockerId) ?? false),
  };

  /**
   * Applies what the stream has beyond this replica's copy; true if the room moved past
   * `seen` (the version a decision was made on), whether by this catch-up or by the follower
   * while the stream was being asked.
   */
  private async catchUp(roomId: string, seen: number): Promise<boolean> {
    const latest = await this.store.latestVersion(roomId);
    if (latest > this.store.versionOf(roomId)) await this.store.waitForVersion(roomId, latest);
    return this.store.versionOf(roomId) > seen;
  }
}
