import { IsInt, Max, Min } from 'class-validator';
import { BaseConfig } from '@chat/platform';

export class PresenceConfig extends BaseConfig {
  override HTTP_PORT = 3002;
  /**
   * How often gateways that stopped heartbeating are looked for, in ms. A dead gateway's users
   * go offline at most this long after its timeout (3 of its heartbeat intervals). @default 1000
   */
  @IsInt()
  @Min(10)
  @Max(60_000)
  PRESENCE_EXPIRY_CHECK_MS = 1000;
  /**
   * Start-up grace in ms: a little more than the gateways' heartbeat interval, so that every
   * live gateway has reported its connections. Until it ends a fresh replica only publishes
   * status rises (drops wait until it ends); then users the stream shows present but no gateway
   * holds (e.g. their gateway died while presence was down) go offline. It also lasts until
   * every gateway heard from by heartbeat has sent one complete beat (all its parts), at most
   * that gateway's timeout (3 intervals). @default 6000
   */
  @IsInt()
  @Min(0)
  @Max(600_000)
  PRESENCE_STARTUP_GRACE_MS = 6_000;
  /**
   * Largest room (members) whose members are pushed each other's status changes: the presence
   * fan-out publishes a change to each room of the user up to this size, and `presence.contacts`
   * lists the members of those rooms. Members of bigger rooms (the default room with everyone)
   * read statuses with `presence.room`, a page at a time. @default 1000
   */
  @IsInt()
  @Min(2)
  @Max(100_000)
  PRESENCE_FANOUT_MAX_MEMBERS = 1000;
}
