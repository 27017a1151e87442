import { Module, type DynamicModule } from '@nestjs/common';
import { PresenceFanout } from './fanout/presence-fanout';
import { PresenceController } from './presence.controller';
import { PresenceService } from './presence.service';

@Module({})
export class PresenceModule {
  static register(platform: DynamicModule): DynamicModule {
    return { module: PresenceModule, imports: [platform], controllers: [PresenceController], providers: [PresenceService, PresenceFanout] };
  }
}
