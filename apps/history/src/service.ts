import type { ServiceDefinition } from '@chat/platform';
import type { HistoryConfig } from './config';
import { HistoryModule } from './history.module';

export const historyService = (config: HistoryConfig): ServiceDefinition<HistoryConfig> => ({
  name: 'history',
  config,
  rpc: true,
  module: (platform) => HistoryModule.register(platform),
});
