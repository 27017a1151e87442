import { IsInt, IsNumber, IsString, Max, MaxLength, Min } from 'class-validator';
import { BaseConfig } from '@chat/platform';

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
}
