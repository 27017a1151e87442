import { runMain } from '@chat/platform';
import { PresenceConfig } from './config';
import { presenceService } from './service';

runMain('presence', PresenceConfig, (config) => presenceService(config));
