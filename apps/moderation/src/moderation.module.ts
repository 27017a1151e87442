import { Module, type DynamicModule } from '@nestjs/common';
import { CONFIG } from '@chat/platform';
import type { ModerationConfig } from './config';
import { ModerationController } from './moderation.controller';
import { RuleRegistry, moderationRules } from './rules/registry';

@Module({})
export class ModerationModule {
  static register(platform: DynamicModule): DynamicModule {
    return {
      module: ModerationModule,
      imports: [platform],
      controllers: [ModerationController],
      providers: [{ provide: RuleRegistry, inject: [CONFIG], useFactory: (config: ModerationConfig) => moderationRules(config) }],
    };
  }
}
