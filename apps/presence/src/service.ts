import type { ServiceDefinition } from '@chat/platform';
import type { PresenceConfig } from './config';
import { PresenceModule } from './presence.module';

export const presenceService = (config: PresenceConfig): ServiceDefinition<PresenceConfig> => ({
  name: 'presence',
  config,
  rpc: true,
  module: (platform) => PresenceModule.register(platform),
});
