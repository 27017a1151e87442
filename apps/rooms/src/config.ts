import { IsString, MaxLength, MinLength } from 'class-validator';
import { BaseConfig } from '@chat/platform';

export class RoomsConfig extends BaseConfig {
  override HTTP_PORT = 3001;
  /** Display name of the public room every deployment has (id `general`). @default General */
  @IsString() @MinLength(1) @MaxLength(80)
  DEFAULT_ROOM_NAME = 'General';
}
