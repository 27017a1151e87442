import { Injectable, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { HealthRegistry } from '@chat/platform';
import { CheckClock, SendCheck, systemClock } from './check/send-check';
import { FilterConfigs } from './filters/filter-configs';
import { FiltersController } from './filters/filters.controller';
import { ModerationLog } from './log/moderation-log';
import { ModerationController } from './moderation.controller';

/** Replays the moderation stream (every state of the service folds it) before the service reports ready. */
@Injectable()
class ModerationStartup implements OnApplicationBootstrap {
  constructor(
    private readonly log: ModerationLog,
    private readonly health: HealthRegistry,
  ) {}

  async onApplicationBootstrap() {
    this.health.register('moderation-replayed', () => this.log.isCaughtUp());
    await this.log.start();
  }
}

@Module({})
export class ModerationModule {
  static register(platform: DynamicModule): DynamicModule {
    return {
      module: ModerationModule,
      imports: [platform],
      controllers: [ModerationController, FiltersController],
      providers: [
        ModerationLog,
        ModerationStartup,
        // The send-path check and the content filters (check/, filters/, rules/).
        FilterConfigs,
        SendCheck,
        { provide: CheckClock, useValue: systemClock },
      ],
    };
  }
}
