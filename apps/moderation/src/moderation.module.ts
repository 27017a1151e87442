import { Module, type DynamicModule } from '@nestjs/common';
import { ModerationController } from './moderation.controller';

@Module({})
export class ModerationModule {
  static register(platform: DynamicModule): DynamicModule {
    return { module: ModerationModule, imports: [platform], controllers: [ModerationController] };
  }
}
