import { Injectable, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { CONFIG, HealthRegistry } from '@chat/platform';
import { ModerationLog } from './log/moderation-log';
import type { ModerationConfig } from './config';
import { ModerationController } from './moderation.controller';
import { RuleRegistry, moderationRules } from './rules/registry';
import { subscriberProviders } from './subscribers/providers';

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
      controllers: [ModerationController],
      providers: [
        ModerationLog,
        ModerationStartup,
        { provide: RuleRegistry, inject: [CONFIG], useFactory: (config: ModerationConfig) => moderationRules(config) },
        ...subscriberProviders,
      ],
    };
  }
}
