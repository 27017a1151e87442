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
   * (one small record per message). At least 1 h, far above JetStream's 2 min duplicate window.
   * @default 24
   */
  @IsInt()
  @Min(1)
  @Max(24 * 366)
  MESSAGE_ID_TTL_HOURS = 24;
}
