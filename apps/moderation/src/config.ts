import {
  IsInt,
  IsNumber,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { BaseConfig } from '@chat/platform';

/** The escalation thresholds must rise (warn < mute < ban): checked on MOD_STRIKES_BAN, so a bad set stops start-up. */
@ValidatorConstraint({ name: 'risingStrikeThresholds' })
class RisingStrikeThresholds implements ValidatorConstraintInterface {
  validate(ban: number, args: ValidationArguments): boolean {
    const c = args.object as ModerationConfig;
    return c.MOD_STRIKES_WARN < c.MOD_STRIKES_MUTE && c.MOD_STRIKES_MUTE < ban;
  }
  defaultMessage(): string {
    return 'strike thresholds must rise: MOD_STRIKES_WARN < MOD_STRIKES_MUTE < MOD_STRIKES_BAN';
  }
}

export class ModerationConfig extends BaseConfig {
  override HTTP_PORT = 3004;
  /**
   * Comma-separated words and phrases that reject a message. Latin-script entries match
   * whole words; matching sees through case, width (full-width Latin), Unicode compatibility
   * forms (NFKC), invisible characters, look-alikes and separators between single letters
   * (see docs/protocol.md, message.send); phrases in Chinese and other scripts without spaces
   * match anywhere in the text. They join the server's filter words (`mod.filters.set`) as
   * `block` entries. @default "" (nothing blocked)
   */
  @IsString()
  @MaxLength(100_000)
  BLOCKED_WORDS = '';

  // ---- Strikes and their escalation (sanctions/strikes.ts). Must rise: warn < mute < ban. ----

  /** Hours a strike counts towards the escalation thresholds (1-8760). @default 24 */
  @IsInt()
  @Min(1)
  @Max(8760)
  MOD_STRIKE_WINDOW_HOURS = 24;
  /** Strikes within the window from which each further strike warns the user (1-1000). @default 3 */
  @IsInt()
  @Min(1)
  @Max(1000)
  MOD_STRIKES_WARN = 3;
  /** Strikes within the window that mute the user server-wide for MOD_STRIKE_MUTE_MINUTES (2-1000). @default 5 */
  @IsInt()
  @Min(2)
  @Max(1000)
  MOD_STRIKES_MUTE = 5;
  /** Minutes of the automatic server-wide mute (1-43200). @default 60 */
  @IsInt()
  @Min(1)
  @Max(43_200)
  MOD_STRIKE_MUTE_MINUTES = 60;
  /** Strikes within the window that ban the user from the server for a moderator's review (3-1000). @default 8 */
  @IsInt()
  @Min(3)
  @Max(1000)
  @Validate(RisingStrikeThresholds)
  MOD_STRIKES_BAN = 8;
  /**
   * Per-user send rate: messages (posts and edits) a second a user may send once their burst is
   * used up (a token bucket per user, kept by each moderation replica). Room owners and admins
   * and server moderators and administrators are exempt. 0 turns the limit off. @default 1
   */
  @IsNumber()
  @Min(0)
  @Max(1000)
  MOD_SEND_RATE_PER_S = 1;
  /** Messages a user may send at once before MOD_SEND_RATE_PER_S applies (the bucket's size). @default 10 */
  @IsInt()
  @Min(1)
  @Max(10_000)
  MOD_SEND_BURST = 10;
  /**
   * Flood: the same text (compared as the word filters fold it: case, width, look-alikes and
   * punctuation do not count) posted by one user in this many distinct rooms within
   * MOD_FLOOD_WINDOW_S is refused (RATE_LIMITED) and earns a `flood` strike. @default 3
   */
  @IsInt()
  @Min(2)
  @Max(1000)
  MOD_FLOOD_ROOMS = 3;
  /** The window of flood detection, in seconds. @default 30 */
  @IsInt()
  @Min(1)
  @Max(86_400)
  MOD_FLOOD_WINDOW_S = 30;
  // Subscribers (apps/moderation/src/subscribers, docs/extending-moderation.md).

  /**
   * Longest one moderation subscriber may take over one event, in ms (100-600000); past it the
   * event is redelivered later with a backoff (a subscriber may set its own `timeoutMs`).
   * @default 5000
   */
  @IsInt()
  @Min(100)
  @Max(600_000)
  MOD_SUBSCRIBER_TIMEOUT_MS = 5000;

  /**
   * Deliveries of one event to a subscriber (1-100) before it is given up: logged and counted
   * (`moderation_subscriber_events_total{outcome="terminated"}`), never tried again. @default 5
   */
  @IsInt()
  @Min(1)
  @Max(100)
  MOD_SUBSCRIBER_MAX_DELIVERIES = 5;

  /** Comma-separated names of registered subscribers not to run (their consumers stay where they are). @default "" (all run) */
  @IsString()
  @Matches(/^[a-z0-9, -]*$/)
  MOD_SUBSCRIBERS_DISABLED = '';

  /** link-spam: links one user may post within MOD_LINK_SPAM_WINDOW_S (2-1000); the message reaching it is redacted. @default 5 */
  @IsInt()
  @Min(2)
  @Max(1000)
  MOD_LINK_SPAM_LINKS = 5;

  /** link-spam: distinct rooms the same link may be posted to by one user within the window (2-1000) before it is redacted. @default 3 */
  @IsInt()
  @Min(2)
  @Max(1000)
  MOD_LINK_SPAM_ROOMS = 3;

  /** link-spam: the window both limits count in, in seconds (1-86400). @default 60 */
  @IsInt()
  @Min(1)
  @Max(86_400)
  MOD_LINK_SPAM_WINDOW_S = 60;

  /** new-account-flood: accounts younger than this many hours are watched (1-8760). @default 24 */
  @IsInt()
  @Min(1)
  @Max(8760)
  MOD_NEW_ACCOUNT_HOURS = 24;

  /** new-account-flood: messages a new account may post within MOD_NEW_ACCOUNT_WINDOW_S (1-10000); one more mutes it. @default 10 */
  @IsInt()
  @Min(1)
  @Max(10_000)
  MOD_NEW_ACCOUNT_MESSAGES = 10;

  /** new-account-flood: the window messages are counted in, in seconds (1-86400). @default 60 */
  @IsInt()
  @Min(1)
  @Max(86_400)
  MOD_NEW_ACCOUNT_WINDOW_S = 60;

  /** new-account-flood: length of the server-wide mute, in seconds (1-2592000). @default 3600 */
  @IsInt()
  @Min(1)
  @Max(2_592_000)
  MOD_NEW_ACCOUNT_MUTE_S = 3600;
}
