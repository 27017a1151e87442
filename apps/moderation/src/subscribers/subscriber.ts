import type { AccountEvent, MessageEvent, ModerationEvent } from '@chat/contracts';

/**
 * The extension point of the moderation service (docs/extending-moderation.md): a rule that
 * watches a stream and answers each event with verdicts. It is not in the send path: it runs
 * on its own durable consumer after the event is stored, so a slow or failing subscriber only
 * delays itself.
 */

/** Which stored events a subscriber receives, each from its own stream (and subject filter). */
export interface SourceEvents {
  /** Every room's message events (`ns.chat.room.*.msg`): MessagePosted, MessageEdited, MessageDeleted, reactions. */
  messages: MessageEvent;
  /** Every account's events (`ns.account.*`): UserRegistered, UserDeleted, ... */
  accounts: AccountEvent;
  /** The moderation stream itself (`ns.mod.>`): mutes, strikes, reports, ... (beware of feeding on your own verdicts). */
  moderation: ModerationEvent;
}
export type SubscriberSource = keyof SourceEvents;

/** Remove a message: the rooms service deletes it (reason `moderator`) and a MessageRedacted is stored. */
export interface RedactVerdict {
  kind: 'redact';
  roomId: string;
  messageId: string;
  /** The message's author (for the MessageRedacted event and the audit log). */
  userId: string;
  username: string;
  reason: string;
}
/** A warning shown to the user (UserWarned). */
export interface WarnVerdict {
  kind: 'warn';
  userId: string;
  username: string;
  reason: string;
}
/** A timed mute, in `roomId` or server-wide (`roomId` null). */
export interface MuteVerdict {
  kind: 'mute';
  userId: string;
  username: string;
  roomId: string | null;
  seconds: number;
  reason: string;
}
/** A report of kind `rule` in the moderators' queue. */
export interface ReportVerdict {
  kind: 'report';
  roomId: string | null;
  messageId: string | null;
  targetUserId: string;
  targetUsername: string;
  /** The start of the text concerned, shown to moderators (null: none). */
  excerpt: string | null;
  reason: string;
}
/** A strike of kind `rule`: counts towards the escalation (warn, mute, ban for review). */
export interface StrikeVerdict {
  kind: 'strike';
  userId: string;
  username: string;
  roomId: string | null;
  /** What happened, for moderators (e.g. "5 links in 30 s"). */
  detail: string;
}
export type Verdict = RedactVerdict | WarnVerdict | MuteVerdict | ReportVerdict | StrikeVerdict;
export type VerdictKind = Verdict['kind'];

/** What a subscriber gets besides the event. */
export interface SubscriberContext {
  /** Where the event is stored in its stream (the stream sequence). */
  readonly position: number;
  /** How many times this event has been delivered to the subscriber (1 the first time). */
  readonly deliveryCount: number;
  /** The service's clock (tests pass their own). */
  now(): Date;
  /**
   * When the account registered (its UserRegistered event), or null when no such account is
   * stored. Read from the accounts stream once per user, then remembered.
   */
  accountRegisteredAt(userId: string): Promise<Date | null>;
}

/**
 * A moderation rule that runs beside the send path. `handle` is called once per stored event
 * of `source`, in stream order, one event at a time; return the verdicts (an empty list for
 * most events). Delivery is at least once: after a crash, a timeout or an error the same event
 * comes again (`ctx.deliveryCount` > 1), so keep state idempotent (e.g. remember message ids).
 * Throwing or taking longer than `timeoutMs` gets the event redelivered later with a backoff;
 * after MOD_SUBSCRIBER_MAX_DELIVERIES attempts it is given up (logged and counted).
 */
export interface ModerationSubscriber<S extends SubscriberSource = SubscriberSource> {
  /**
   * Unique, stable name: the durable consumer is `mod-sub-<name>` (its checkpoint) and
   * verdicts carry it as their `rule`. Renaming starts a new consumer at the end of the stream.
   * Lower-case letters, digits and dashes.
   */
  readonly name: string;
  readonly source: S;
  /** Longest one `handle` may take in ms. @default MOD_SUBSCRIBER_TIMEOUT_MS */
  readonly timeoutMs?: number;
  handle(event: SourceEvents[S], ctx: SubscriberContext): Promise<Verdict[]> | Verdict[];
}

/** A subscriber of any source (what the registration list holds). */
export type AnySubscriber = { [S in SubscriberSource]: ModerationSubscriber<S> }[SubscriberSource];

/** Names become consumer names (one subject token) and metric labels. */
export const SUBSCRIBER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,47}$/;
