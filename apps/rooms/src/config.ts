import { IsInt, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { BaseConfig } from '@chat/platform';

export class RoomsConfig extends BaseConfig {
  override HTTP_PORT = 3001;
  /** Display name of the public room every deployment has (id `general`). @default General */
  @IsString()
  @MinLength(1)
  @MaxLength(80)
  DEFAULT_ROOM_NAME = 'General';
  /**
   * How long a sent message's clientMsgId is remembered, in hours: a retry within this time
   * returns the original message; a retry after it posts a new one. Bounds the message-id bucket
   * (one small record per message). At least 1 h, far above the stream's duplicate window.
   * @default 24
   */
  @IsInt()
  @Min(1)
  @Max(24 * 366)
  MESSAGE_ID_TTL_HOURS = 24;
  /**
   * The CHAT stream's duplicate window in ms, set by rooms at every start-up: a retry within it
   * is dropped by JetStream itself, later ones are answered from the message-id records. It
   * also paces the record writer (see message-id-recorder.ts): its ack wait is a quarter of it,
   * and sends are refused (UNAVAILABLE) while it is more than half of it behind. Use the same
   * value on every rooms replica. @default 120000
   */
  @IsInt()
  @Min(2000)
  @Max(3_600_000)
  MESSAGE_DEDUP_WINDOW_MS = 120_000;
}
