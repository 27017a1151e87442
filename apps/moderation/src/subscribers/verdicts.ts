import { Inject, Injectable } from '@nestjs/common';
import { Limits, isRoomId, isUserId, makeEvent, type EventMeta, type MessageRedacted, type Subjects } from '@chat/contracts';
import { RpcClient } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';
import { randomUUID } from 'node:crypto';
import { ModerationLog } from '../log/moderation-log';
import { ReportsPort, SanctionsPort, StrikesPort, type Cause } from '../ports';
import type { Verdict } from './subscriber';

/** The actor of everything a subscriber's verdict causes. */
export const SUBSCRIBER_ACTOR = { kind: 'service', id: 'moderation' } as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Why a verdict cannot be executed (pure), or null when it can: the ids must be real ids, the
 * reason 1-300 characters, a mute 1 s to 30 days. A subscriber returning such a verdict has a
 * bug that a retry would not fix: the runner logs it, counts it and skips that verdict.
 */
export function verdictProblem(v: Verdict): string | null {
  const reasonOk = (r: unknown) => typeof r === 'string' && r.length > 0 && r.length <= Limits.reasonMaxChars;
  const user = (id: unknown, name: unknown) => isUserId(id) && typeof name === 'string' && name.length > 0;
  switch (v.kind) {
    case 'redact':
      if (!isRoomId(v.roomId) || !UUID.test(v.messageId)) return 'redact needs a room id and a message id';
      if (!user(v.userId, v.username)) return "redact needs the author's userId and username";
      return reasonOk(v.reason) ? null : `reason must be 1-${Limits.reasonMaxChars} characters`;
    case 'warn':
      if (!user(v.userId, v.username)) return 'warn needs userId and username';
      return reasonOk(v.reason) ? null : `reason must be 1-${Limits.reasonMaxChars} characters`;
    case 'mute':
      if (!user(v.userId, v.username)) return 'mute needs userId and username';
      if (v.roomId !== null && !isRoomId(v.roomId)) return 'mute roomId must be a room id or null';
      if (!Number.isInteger(v.seconds) || v.seconds < 1 || v.seconds > Limits.muteSecondsMax)
        return `mute seconds must be an integer from 1 to ${Limits.muteSecondsMax}`;
      return reasonOk(v.reason) ? null : `reason must be 1-${Limits.reasonMaxChars} characters`;
    case 'report':
      if (!user(v.targetUserId, v.targetUsername)) return 'report needs targetUserId and targetUsername';
      if (v.roomId !== null && !isRoomId(v.roomId)) return 'report roomId must be a room id or null';
      if (v.messageId !== null && !UUID.test(v.messageId)) return 'report messageId must be a message id or null';
      return reasonOk(v.reason) ? null : `reason must be 1-${Limits.reasonMaxChars} characters`;
    case 'strike':
      if (!user(v.userId, v.username)) return 'strike needs userId and username';
      if (v.roomId !== null && !isRoomId(v.roomId)) return 'strike roomId must be a room id or null';
      return typeof v.detail === 'string' ? null : 'strike needs a detail';
    default:
      return `unknown verdict kind ${JSON.stringify((v as { kind?: unknown }).kind)}`;
  }
}

/** A verdict failed for good (the rooms service refused it as malformed or forbidden): the runner logs it and goes on. */
export class VerdictRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerdictRefused';
  }
}

/**
 * What caused a verdict: the stored source event (its id and correlation), and the msgId of
 * what the verdict appends, derived from where the event is stored and the verdict's place in
 * the subscriber's answer (verdictMsgId): the same on every replica the event is delivered to.
 */
export type VerdictCause = Pick<EventMeta, 'id' | 'correlationId'> & { msgId: string };

/**
 * The msgId of the `index`-th verdict of subscriber `rule` on the event stored at `seq` of its
 * source's stream: a redelivery of the event (to this replica or another) asking the same
 * verdict stores nothing twice.
 */
export const verdictMsgId = (rule: string, source: string, seq: number, index: number): string =>
  `verdict:${rule}:${source}:${seq}:${index}`;

/** What carries out a verdict: the service's ports, the rooms RPC and the moderation stream. */
export abstract class VerdictSink {
  /**
   * Carries out one verdict of `rule`, caused by the stored event `cause`. Resolves once it is
   * done; rejects with VerdictRefused when it can never be done, with anything else when a
   * retry may succeed (a service did not answer). Carried out again with the same cause, it
   * stores nothing more (within the moderation stream's duplicate window).
   */
  abstract execute(v: Verdict, rule: string, cause: VerdictCause): Promise<void>;
}

/**
 * Verdicts through the ports (SanctionsPort, StrikesPort, ReportsPort, implemented by
 * sanctions/ and reports/), and redact as the rooms service's `rooms.moderatorDelete` followed
 * by a MessageRedacted on `ns.mod.redact.<roomId>`. The MessageRedacted's msgId is the
 * message's, so a redelivered verdict (on this replica or another) stores it once; the other
 * verdicts are stored under the cause's msgId (the ports' `cause`), with the same effect.
 */
@Injectable()
export class VerdictExecutor extends VerdictSink {
  /** Messages this replica had deleted whose MessageRedacted is not stored yet (bounded). */
  private readonly deletedHere = new Set<string>();

  constructor(
    private readonly sanctions: SanctionsPort,
    private readonly strikes: StrikesPort,
    private readonly reports: ReportsPort,
    private readonly rpc: RpcClient,
    private readonly log: ModerationLog,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {
    super();
  }

  async execute(v: Verdict, rule: string, cause: VerdictCause): Promise<void> {
    const by: Cause = { msgId: cause.msgId, correlationId: cause.correlationId, causationId: cause.id };
    switch (v.kind) {
      case 'redact':
        return this.redact(v, rule, cause);
      case 'warn':
        return this.sanctions.warnByRule({ userId: v.userId, username: v.username, reason: v.reason, rule }, by);
      case 'mute':
        return this.sanctions.muteByRule(
          { userId: v.userId, username: v.username, roomId: v.roomId, seconds: v.seconds, reason: v.reason, rule },
          by,
        );
      case 'report':
        await this.reports.fileByRule(
          {
            roomId: v.roomId,
            messageId: v.messageId,
            targetUserId: v.targetUserId,
            targetUsername: v.targetUsername,
            excerpt: v.excerpt,
            reason: v.reason,
            rule,
          },
          by,
        );
        return;
      case 'strike':
        return this.strikes.record({ userId: v.userId, username: v.username, kind: 'rule', detail: v.detail, roomId: v.roomId, rule }, by);
    }
  }

  private async redact(
    v: Extract<Verdict, { kind: 'redact' }>,
    rule: string,
    cause: Pick<EventMeta, 'id' | 'correlationId'>,
  ): Promise<void> {
    // A retry after the delete went through but the MessageRedacted did not: only the append is left.
    if (!this.deletedHere.has(v.messageId)) {
      const r = await this.rpc.call(
        'rooms.moderatorDelete',
        { roomId: v.roomId, messageId: v.messageId, reason: v.reason, rule },
        { correlationId: cause.correlationId },
      );
      if (!r.ok) {
        // BAD_REQUEST, FORBIDDEN: nothing a retry would change.
        if (r.error.code === 'BAD_REQUEST' || r.error.code === 'FORBIDDEN') {
          throw new VerdictRefused(`rooms.moderatorDelete refused: ${r.error.code} ${r.error.message}`);
        }
        // UNAVAILABLE, INTERNAL: may succeed later. NOT_FOUND too: a subscriber sees a message as
        // soon as it is stored, history may not have projected it yet (rooms asks history); a
        // message that is really gone (deleted meanwhile) is given up after the last delivery.
        throw new Error(`rooms.moderatorDelete: ${r.error.code} ${r.error.message}`);
      }
      if (this.deletedHere.size >= 1000) this.deletedHere.delete(this.deletedHere.values().next().value as string);
      this.deletedHere.add(v.messageId);
    }
    const event = makeEvent<MessageRedacted>(
      { now: () => new Date(), newId: randomUUID, actor: SUBSCRIBER_ACTOR, correlationId: cause.correlationId, causationId: cause.id },
      'MessageRedacted',
      1,
      { roomId: v.roomId, messageId: v.messageId, userId: v.userId, username: v.username, reason: v.reason, rule },
    );
    await this.log.append(this.s.moderation.redactions(v.roomId), event, `redact:${v.messageId}`);
    this.deletedHere.delete(v.messageId);
  }
}
