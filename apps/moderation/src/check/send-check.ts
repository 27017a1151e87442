import { Inject, Injectable, Logger } from '@nestjs/common';
import { ChatError, type ModerationCheckRequest, type ModerationRejectCode, type ModerationVerdict } from '@chat/contracts';
import { CONFIG } from '@chat/platform';
import { randomUUID } from 'node:crypto';
import type { ModerationConfig } from '../config';
import { FilterConfigs } from '../filters/filter-configs';
import { PermissionsPort, ReportsPort, SanctionsPort, StrikesPort } from '../ports';
import type { ChainResult } from '../rules/chain';
import { FloodTracker } from './flood';
import { TokenBuckets } from './rate';

const reject = (code: ModerationRejectCode, rule: string, reason: string, retryAfterMs: number | null = null): ModerationVerdict => ({
  verdict: 'reject',
  code,
  rule,
  reason,
  retryAfterMs,
});

/**
 * The filter chain's answer as a verdict, with no side effect (`mod.filters.test`): a hold is
 * answered with an empty `reportId`, since no report is filed.
 */
export function testVerdict(r: ChainResult): ModerationVerdict {
  if (r.action === 'allow') return { verdict: 'allow', body: r.body };
  if (r.action === 'block') return reject('CONTENT_BLOCKED', r.rule, r.reason);
  return { verdict: 'hold', rule: r.rule, reason: r.reason, reportId: '' };
}

/** What the check reads of the clock (ms); replaced in tests. */
export abstract class CheckClock {
  abstract now(): number;
}
export const systemClock: CheckClock = { now: () => Date.now() };

/**
 * The send path's question (`moderation.check`, asked by rooms before every append of a new
 * or edited text), answered in this order, the first refusal being the answer:
 *  1. a server ban: SERVER_BANNED;
 *  2. an active mute (in the room or server-wide): MUTED, retry when it ends;
 *  3. a held message a moderator is approving (`heldReportId` of an open held report for
 *     exactly this sender, room and body) is allowed as it is: nothing else is asked (a sender
 *     banned or muted since it was held is refused as above);
 *  4. the sender's token bucket (MOD_SEND_RATE_PER_S, MOD_SEND_BURST; the room's owners and
 *     admins and server moderators and administrators are exempt): RATE_LIMITED with the wait;
 *  5. flood (posts only; server staff exempt): the same text in MOD_FLOOD_ROOMS distinct rooms
 *     within MOD_FLOOD_WINDOW_S: RATE_LIMITED with the wait, and a `flood` strike;
 *  6. the room's filter chain (filters/filter-configs.ts): a block is CONTENT_BLOCKED, and a
 *     `filtered` strike when the server's configuration (with BLOCKED_WORDS) refuses the text:
 *     a room's own filters refuse without a strike, since strikes escalate to server-wide
 *     sanctions and any user may own a room; a hold files a `held` report and answers `hold` (an edit cannot be
 *     held: it is refused CONTENT_BLOCKED instead); else the text is allowed, masked where the
 *     filters say.
 * A strike that cannot be recorded is logged and the verdict stands; a held report that cannot
 * be filed is UNAVAILABLE (the message is neither posted nor lost silently: the client retries).
 */
@Injectable()
export class SendCheck {
  private readonly log = new Logger(SendCheck.name);
  private readonly buckets: TokenBuckets;
  private readonly floods: FloodTracker;

  constructor(
    private readonly filters: FilterConfigs,
    private readonly permissions: PermissionsPort,
    private readonly sanctions: SanctionsPort,
    private readonly strikes: StrikesPort,
    private readonly reports: ReportsPort,
    @Inject(CONFIG) config: Pick<ModerationConfig, 'MOD_SEND_RATE_PER_S' | 'MOD_SEND_BURST' | 'MOD_FLOOD_ROOMS' | 'MOD_FLOOD_WINDOW_S'>,
    private readonly clock: CheckClock,
  ) {
    this.buckets = new TokenBuckets(config.MOD_SEND_RATE_PER_S, config.MOD_SEND_BURST);
    this.floods = new FloodTracker(config.MOD_FLOOD_ROOMS, config.MOD_FLOOD_WINDOW_S * 1000);
  }

  async check(req: ModerationCheckRequest): Promise<ModerationVerdict> {
    const { roomId, senderId, senderName, body } = req;
    if (this.sanctions.isServerBanned(senderId)) return reject('SERVER_BANNED', 'server-ban', 'you are banned from this server');
    const now = this.clock.now();
    const mute = this.sanctions.activeMute(senderId, roomId);
    if (mute) {
      const where = mute.roomId === null ? 'on this server' : 'in this room';
      return reject('MUTED', 'mute', `you are muted ${where} until ${mute.until}`, Math.max(1, Date.parse(mute.until) - now));
    }
    if (req.heldReportId && this.reports.isApprovable(req.heldReportId, { roomId, senderId, body })) return { verdict: 'allow', body };
    const serverStaff = this.permissions.serverRole(senderId, senderName) !== null;
    if (!serverStaff && req.senderRole === 'member') {
      const taken = this.buckets.take(senderId, now);
      if (!taken.ok) return reject('RATE_LIMITED', 'rate', 'you are sending messages too fast', taken.retryAfterMs);
    }
    if (!serverStaff && req.kind === 'post') {
      const flood = this.floods.note(senderId, roomId, body, now);
      if (flood.flood) {
        await this.strike(req, 'flood', 'flood', `the same text in ${flood.rooms} rooms`);
        return reject('RATE_LIMITED', 'flood', 'the same text was sent to too many rooms at once', flood.retryAfterMs);
      }
    }
    const r = await this.filters.chainFor(roomId).run(body);
    switch (r.action) {
      case 'allow':
        return { verdict: 'allow', body: r.body };
      case 'block': {
        // Refused by the room's own filters: a strike only if the server's alone refuse it too.
        const server = r.scope === 'server' ? r : await this.filters.serverChain().run(body);
        if (server.action === 'block') await this.strike(req, 'filtered', server.rule, server.reason);
        return reject('CONTENT_BLOCKED', r.rule, r.reason);
      }
      case 'hold':
        if (req.kind === 'edit') return reject('CONTENT_BLOCKED', r.rule, `${r.reason}; an edit cannot wait for review`);
        return { verdict: 'hold', rule: r.rule, reason: r.reason, reportId: await this.fileHeld(req, r) };
    }
  }

  private async fileHeld(req: ModerationCheckRequest, r: ChainResult & { action: 'hold' }): Promise<string> {
    try {
      return await this.reports.fileHeld({
        roomId: req.roomId,
        senderId: req.senderId,
        senderName: req.senderName,
        // The approval posts it with this id (idempotent); a send without one gets one here.
        clientMsgId: req.clientMsgId ?? randomUUID(),
        body: r.body,
        reason: r.reason,
        rule: r.rule,
      });
    } catch (err) {
      this.log.error({ msg: 'held report not filed', err, roomId: req.roomId, senderId: req.senderId });
      throw new ChatError('UNAVAILABLE', 'the message could not be held for review; try again');
    }
  }

  private async strike(req: ModerationCheckRequest, kind: 'filtered' | 'flood', rule: string, detail: string): Promise<void> {
    try {
      await this.strikes.record({ userId: req.senderId, username: req.senderName, kind, detail, roomId: req.roomId, rule });
    } catch (err) {
      this.log.error({ msg: 'strike not recorded', err, kind, senderId: req.senderId });
    }
  }
}
