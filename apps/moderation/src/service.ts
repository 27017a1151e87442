import type { ServiceDefinition } from '@chat/platform';
import type { ModerationConfig } from './config';
import { ModerationModule } from './moderation.module';

export const moderationService = (config: ModerationConfig): ServiceDefinition<ModerationConfig> => ({
  name: 'moderation',
  config,
  rpc: true,
  module: (platform) => ModerationModule.register(platform),
});
