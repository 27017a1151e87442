import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { makeEvent, type Subjects, type UserUnmuted } from '@chat/contracts';
import { SUBJECTS } from '@chat/platform';
import { ModerationLog } from '../log/moderation-log';
import { eventContext } from './commands';
import { expiryDue, expiryMsgId, type Mutes } from './mutes';
import { ModerationNews } from './news';
import { SanctionsService } from './sanctions.service';

/** Longest single wait: setTimeout cannot wait 30 days (its limit is ~24.8), and a long wait is re-aimed anyway. */
const MAX_WAIT_MS = 3_600_000;
/** After a failed append (NATS away) the due expiries are tried again this much later. */
const RETRY_MS = 2_000;

/**
 * Ends mutes when their time comes. Every replica keeps one timer aimed at the soonest `until`
 * among the mutes in force (re-aimed whenever the fold's mutes change) and, when it fires,
 * appends UserUnmuted{reason:'expired'} for every mute that is due, with msgId
 * `unmute:<muteId>`: however many replicas fire, JetStream stores it once (a moderator's lift
 * carries the same msgId, so a lift racing the expiry also ends the mute once). The replica
 * whose append was stored (not a duplicate) tells the user. At start-up, after the replay,
 * mutes that passed while no replica ran are ended at once.
 */
@Injectable()
export class MuteExpiry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MuteExpiry.name);
  private timer?: NodeJS.Timeout;
  private aimedAt: number | null = null;
  private running = false;
  private stopped = false;
  /** Expiries being appended by this replica now (not appended twice by two firings). */
  private readonly inflight = new Set<string>();

  constructor(
    private readonly log: ModerationLog,
    private readonly sanctions: SanctionsService,
    private readonly news: ModerationNews,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {
    sanctions.onMutesChanged(() => {
      if (this.running) this.aim();
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.log.start();
    this.running = true;
    void this.fire();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.running = false;
    clearTimeout(this.timer);
  }

  /** Aims the timer at the soonest end among the mutes in force (nothing to do when none is ahead). */
  private aim(retryInMs?: number): void {
    if (this.stopped) return;
    const now = Date.now();
    const { due, nextAt } = expiryDue(this.mutes, now);
    const pending = due.filter((m) => !this.inflight.has(m.muteId));
    const at = retryInMs !== undefined ? now + retryInMs : pending.length > 0 ? now : nextAt;
    if (at === null) {
      clearTimeout(this.timer);
      this.aimedAt = null;
      return;
    }
    if (this.aimedAt !== null && this.aimedAt <= at && this.timer) return;
    clearTimeout(this.timer);
    this.aimedAt = at;
    this.timer = setTimeout(() => void this.fire(), Math.min(Math.max(at - now, 0), MAX_WAIT_MS));
  }

  private get mutes(): Mutes {
    return this.sanctions.mutes;
  }

  private async fire(): Promise<void> {
    this.aimedAt = null;
    this.timer = undefined;
    if (this.stopped) return;
    const { due } = expiryDue(this.mutes, Date.now());
    let failed = false;
    await Promise.all(
      due
        .filter((m) => !this.inflight.has(m.muteId))
        .map(async (m) => {
          this.inflight.add(m.muteId);
          try {
            const event = makeEvent<UserUnmuted>(eventContext(null), 'UserUnmuted', 1, {
              muteId: m.muteId,
              userId: m.userId,
              username: m.username,
              roomId: m.roomId,
              reason: 'expired',
              byUserId: null,
              byUsername: null,
            });
            const r = await this.log.appendAndApply(this.s.moderation.user(m.userId), event, expiryMsgId(m.muteId));
            if (!r.duplicate)
              this.news.send(m.userId, 'moderation.unmuted', { muteId: m.muteId, roomId: m.roomId, reason: 'expired', time: event.time });
          } catch (err) {
            failed = true;
            this.logger.warn({ msg: 'a mute expiry could not be stored; trying again', muteId: m.muteId, err: (err as Error).message });
          } finally {
            this.inflight.delete(m.muteId);
          }
        }),
    );
    this.aim(failed ? RETRY_MS : undefined);
  }
}
