import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { ChatError } from '@chat/contracts';
import { CONFIG, HealthRegistry } from '@chat/platform';
import { randomUUID } from 'node:crypto';
import { AccountEventsConsumer } from './accounts/account-events';
import { DeletedUsers } from './accounts/deleted-users';
import type { RoomsConfig } from './config';
import { Conversations } from './direct/conversations';
import { MessageCommandHandler } from './messages/message-commands';
import { MessageIdRecorder } from './messages/message-id-recorder';
import { MessageLookup } from './messages/message-lookup';
import { PostMessageHandler } from './messages/post-message';
import { SlowModeClock } from './messages/slow-mode';
import { UserNotifier } from './notify/user-notifier';
import { RoomCommandHandler } from './room/room.commands';
import { defaultRoomCommand } from './room/room.decide';
import { RoomStore } from './room/room.store';
import { PresenceAudienceController } from './presence/presence-audience.controller';
import { RoomsController } from './rooms.controller';
import { UserDirectory } from './users/user-directory';

/** Replays the rooms, then makes sure the default room exists (a no-op on every later start). */
@Injectable()
class RoomsStartup implements OnApplicationBootstrap {
  constructor(
    private readonly store: RoomStore,
    private readonly commands: RoomCommandHandler,
    private readonly deletedUsers: DeletedUsers,
    private readonly slowMode: SlowModeClock,
    private readonly health: HealthRegistry,
    @Inject(CONFIG) private readonly config: RoomsConfig,
  ) {}

  async onApplicationBootstrap() {
    this.health.register('rooms-replayed', () => this.store.isCaughtUp());
    await Promise.all([this.store.start(), this.deletedUsers.start(), this.slowMode.start()]);
    try {
      await this.commands.execute(defaultRoomCommand(this.config.DEFAULT_ROOM_NAME), { kind: 'system', id: 'rooms' }, randomUUID());
    } catch (err) {
      // Another replica (or an earlier start) created it.
      if (!(err instanceof ChatError && err.code === 'CONFLICT')) throw err;
    }
  }
}

@Module({})
export class RoomsModule {
  static register(platform: DynamicModule): DynamicModule {
    return {
      module: RoomsModule,
      imports: [platform],
      controllers: [RoomsController, PresenceAudienceController],
      providers: [
        RoomStore,
        RoomCommandHandler,
        PostMessageHandler,
        MessageCommandHandler,
        MessageLookup,
        UserDirectory,
        Conversations,
        RoomsStartup,
        UserNotifier,
        MessageIdRecorder,
        AccountEventsConsumer,
        DeletedUsers,
        SlowModeClock,
      ],
    };
  }
}
