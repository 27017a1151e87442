import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ChatError, decodeAccountEvent, type Subjects, type UserView } from '@chat/contracts';
import { JetStreamAdapter, type Consumption, type Delivered } from '@chat/messaging';
import { HealthRegistry, PINO, SUBJECTS } from '@chat/platform';
import { RoomCommandHandler } from '../room/room.commands';
import type { RoomCommand } from '../room/room.decide';
import { RoomStore } from '../room/room.store';
import { DeletedUsers } from './deleted-users';

/** Refusals that mean "already done" when a deleted user's membership is ended again (redelivery). */
const ALREADY_GONE = new Set(['NOT_MEMBER', 'NOT_FOUND']);

/**
 * What ending a user's place in the rooms takes (pure): a leave of every room and conversation
 * they are a member of, and a decline of every pending invitation. Leaves go through the usual
 * room rules (ownership passes to the longest-standing admin, else member; an emptied private
 * room is deleted).
 */
export function removalCommands(
  user: UserView,
  memberOf: ReadonlyArray<{ roomId: string; kind: 'group' | 'direct' }>,
  invitedTo: readonly string[],
): RoomCommand[] {
  return [
    ...memberOf.map(({ roomId, kind }): RoomCommand => ({ type: kind === 'direct' ? 'LeaveConversation' : 'LeaveRoom', roomId, user })),
    ...invitedTo.map((roomId): RoomCommand => ({ type: 'DeclineInvitation', roomId, user })),
  ];
}

/**
 * Reacts to account events through the durable consumer `rooms-account-events` on the ACCOUNTS
 * stream, shared by every rooms replica. On UserDeleted the user leaves every room and
 * conversation (the events are the usual MemberLeft, so gateways, history and notifications see
 * ordinary leaves) and declines pending invitations; the user's own commands are refused from
 * then on (DeletedUsers). Idempotent: a redelivered UserDeleted finds
 * nothing left to leave. A failed command fails the batch, which is delivered again.
 */
@Injectable()
export class AccountEventsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumption: Consumption | null = null;

  constructor(
    private readonly js: JetStreamAdapter,
    private readonly store: RoomStore,
    private readonly commands: RoomCommandHandler,
    private readonly deletedUsers: DeletedUsers,
    private readonly health: HealthRegistry,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.health.register('account-events', () => this.consumption?.healthy() ?? false);
    this.consumption = await this.js.consumeDurable(
      {
        stream: this.s.streams.accounts.name,
        durable: this.s.consumers.roomsAccountEvents,
        filterSubject: this.s.accounts.all,
        // From the start: an account deleted before this consumer existed still leaves its rooms.
        startAt: 'all',
      },
      (batch) => this.handle(batch),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumption?.stop();
  }

  async handle(batch: Delivered[]): Promise<void> {
    // Decisions need the replayed rooms; until then the batch waits for its redelivery.
    if (!this.store.isCaughtUp()) throw new Error('rooms not replayed yet');
    for (const d of batch) {
      const decoded = decodeAccountEvent(d.raw ?? d.data);
      if (!decoded.ok) {
        this.logger.warn({ position: d.seq, subject: d.subject }, 'unreadable account event skipped');
        continue;
      }
      if (decoded.event.type !== 'UserDeleted') continue;
      const { userId, username } = decoded.event.payload;
      // Refused from now on here (every replica learns it from the stream too): nothing the
      // user's still-open connections send can join or re-join a room after the removal below.
      this.deletedUsers.note(userId);
      await this.removeEverywhere({ userId, username }, decoded.event.correlationId);
    }
  }

  private async removeEverywhere(user: UserView, correlationId: string = randomUUID()): Promise<void> {
    const memberOf = this.store.memberOf(user.userId).map((r) => ({ roomId: r.roomId, kind: r.kind }));
    const invitedTo = this.store.invitedTo(user.userId).map((r) => r.roomId);
    const commands = removalCommands(user, memberOf, invitedTo);
    for (const cmd of commands) {
      try {
        await this.commands.execute(cmd, { kind: 'user', id: user.userId }, correlationId);
      } catch (err) {
        if (err instanceof ChatError && ALREADY_GONE.has(err.code)) continue;
        throw err;
      }
    }
    this.logger.info({ userId: user.userId, left: memberOf.length, declined: invitedTo.length }, 'deleted account removed from its rooms');
  }
}
