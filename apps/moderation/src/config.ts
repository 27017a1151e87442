import { IsString, MaxLength } from 'class-validator';
import { BaseConfig } from '@chat/platform';

export class ModerationConfig extends BaseConfig {
  override HTTP_PORT = 3004;
  /**
   * Comma-separated words and phrases that reject a message. Matching ignores case, width
   * (full-width Latin), and Unicode compatibility forms (NFKC); phrases in Chinese and other
   * scripts without spaces match anywhere in the text. @default "" (nothing blocked)
   */
  @IsString()
  @MaxLength(100_000)
  BLOCKED_WORDS = '';
}
