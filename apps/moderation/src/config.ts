import { IsString, MaxLength } from 'class-validator';
import { BaseConfig } from '@chat/platform';

export class ModerationConfig extends BaseConfig {
  override HTTP_PORT = 3004;
  /**
   * Comma-separated words and phrases that reject a message. Latin-script entries match
   * whole words; matching sees through case, width (full-width Latin), Unicode compatibility
   * forms (NFKC), invisible characters, look-alikes and separators between single letters
   * (see docs/protocol.md, message.send); phrases in Chinese and other scripts without spaces
   * match anywhere in the text. @default "" (nothing blocked)
   */
  @IsString()
  @MaxLength(100_000)
  BLOCKED_WORDS = '';
}
