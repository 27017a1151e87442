import type { ServiceDefinition } from '@chat/platform';
import type { RoomsConfig } from './config';
import { RoomsModule } from './rooms.module';

export const roomsService = (config: RoomsConfig): ServiceDefinition<RoomsConfig> => ({
  name: 'rooms',
  config,
  rpc: true,
  streams: { chatDuplicateWindowMs: config.MESSAGE_DEDUP_WINDOW_MS },
  module: (platform) => RoomsModule.register(platform),
});
