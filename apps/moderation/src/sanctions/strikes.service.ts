import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ChatError,
  decodeModerationEvent,
  makeEvent,
  type StrikeKind,
  type StrikeRecorded,
  type Subjects,
  type UserView,
} from '@chat/contracts';
import { JetStreamAdapter } from '@chat/messaging';
import { CONFIG, SUBJECTS } from '@chat/platform';
import type { ModerationConfig } from '../config';
import { ModerationLog } from '../log/moderation-log';
import { StrikesPort, type Cause } from '../ports';
import { ReportsService } from '../reports/reports.service';
import { eventContext, store } from './commands';
import { SanctionsService } from './sanctions.service';
import { escalate, strikesWithin, validateStrikePolicy, type StrikePolicy } from './strikes';

/** Attempts at storing a strike when another replica stored something for the same user meanwhile. */
const STRIKE_ATTEMPTS = 5;

export const strikePolicyOf = (c: ModerationConfig): StrikePolicy =>
  validateStrikePolicy({
    windowMs: c.MOD_STRIKE_WINDOW_HOURS * 3_600_000,
    warnAt: c.MOD_STRIKES_WARN,
    muteAt: c.MOD_STRIKES_MUTE,
    banAt: c.MOD_STRIKES_BAN,
    muteSeconds: c.MOD_STRIKE_MUTE_MINUTES * 60,
  });

/**
 * Records strikes and escalates. A StrikeRecorded carries the user's count within the window
 * (this one included), decided from this replica's fold and appended with the user subject's
 * last position expected: if another replica stored something for the user meanwhile, the
 * append is refused and the count decided again, so two replicas never store the same count.
 * Then, by the thresholds (see `escalate`): a warning, a timed server mute, or a server ban
 * for review with an `escalation` report (server staff are counted, never escalated against).
 * The escalation's events carry msgIds derived from
 * the strike's id, so a retry stores each once.
 *
 * With a cause (a subscriber's verdict), the strike is stored under the cause's msgId and its
 * id derived from it: carried out again (a redelivery, on this replica or another), the append
 * is a duplicate, and the escalation is decided again from the strike as stored (its count),
 * so what it triggers (msgIds from the same strike id) is stored once too, also when the
 * first attempt stopped between the strike and its escalation.
 */
@Injectable()
export class StrikesService extends StrikesPort {
  private readonly logger = new Logger(StrikesService.name);
  readonly policy: StrikePolicy;

  constructor(
    private readonly log: ModerationLog,
    private readonly js: JetStreamAdapter,
    private readonly sanctions: SanctionsService,
    private readonly reports: ReportsService,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) config: ModerationConfig,
  ) {
    super();
    this.policy = strikePolicyOf(config);
  }

  /** The user's strikes within the window now. */
  count(userId: string): number {
    return strikesWithin(this.sanctions.strikes, userId, Date.now(), this.policy.windowMs);
  }

  async record(
    s: {
      userId: string;
      username: string;
      kind: StrikeKind;
      detail: string;
      roomId: string | null;
      rule: string | null;
    },
    cause?: Cause,
  ): Promise<void> {
    const subject = this.s.moderation.user(s.userId);
    for (let attempt = 1; ; attempt++) {
      const ctx = cause ? eventContext(null, cause.correlationId, cause.msgId, cause.causationId) : eventContext(null);
      const event = makeEvent<StrikeRecorded>(ctx, 'StrikeRecorded', 1, {
        strikeId: '',
        userId: s.userId,
        username: s.username,
        kind: s.kind,
        detail: s.detail,
        roomId: s.roomId,
        count: this.count(s.userId) + 1,
        rule: s.rule,
      });
      event.payload.strikeId = event.id;
      let stored = event;
      try {
        // Through `store`: a refusal becomes CONFLICT, an unknown outcome UNAVAILABLE.
        const r = await store(this.log, subject, event, cause?.msgId ?? event.id, this.sanctions.lastSeq.get(subject) ?? 0);
        if (r.duplicate) stored = await this.storedStrike(subject, r.seq);
      } catch (err) {
        if (!(err instanceof ChatError && err.code === 'CONFLICT') || attempt >= STRIKE_ATTEMPTS) throw err;
        // Another replica stored something for this user: catch up with it, then count again.
        const last = await this.js.lastOnSubject(this.s.streams.moderation.name, subject);
        if (last) await this.log.waitFor(last.seq);
        continue;
      }
      await this.escalate({ userId: s.userId, username: s.username }, stored);
      return;
    }
  }

  /** The StrikeRecorded stored at `seq` (a duplicate's original). */
  private async storedStrike(subject: string, seq: number): Promise<StrikeRecorded> {
    const m = await this.js.nextOnSubject(this.s.streams.moderation.name, subject, seq);
    const decoded = m && m.seq === seq ? decodeModerationEvent(m.data) : null;
    if (!decoded?.ok || decoded.event.type !== 'StrikeRecorded')
      throw new ChatError('UNAVAILABLE', `the strike stored at position ${seq} could not be read back; try again`);
    return decoded.event;
  }

  private async escalate(user: UserView, strike: StrikeRecorded): Promise<void> {
    const { count, strikeId } = strike.payload;
    if (this.sanctions.isStaff(user)) return;
    const step = escalate(count, this.policy, {
      banned: this.sanctions.isServerBanned(user.userId),
      serverMuted: this.sanctions.isServerMuted(user.userId),
    });
    const hours = this.policy.windowMs / 3_600_000;
    const why = `${count} strikes within ${hours} h`;
    switch (step) {
      case null:
        return;
      case 'warn':
        await this.sanctions.storeWarning(
          null,
          user,
          `${why}; more will mute you`,
          'strikes',
          strike.correlationId,
          `strike-warn:${strikeId}`,
        );
        return;
      case 'mute':
        await this.sanctions.storeMute(
          null,
          user,
          null,
          this.policy.muteSeconds,
          why,
          'strikes',
          strike.correlationId,
          `strike-mute:${strikeId}`,
        );
        return;
      case 'ban':
        await this.sanctions.storeBan(
          null,
          user,
          `${why}; waiting for a moderator's review`,
          true,
          'strikes',
          strike.correlationId,
          `strike-ban:${strikeId}`,
        );
        await this.reports.fileEscalation(user, why, strike.correlationId, `strike-report:${strikeId}`);
        this.logger.log({ msg: 'user banned for review by strikes', userId: user.userId, count });
        return;
    }
  }
}
