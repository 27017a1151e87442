import { runMain } from '@chat/platform';
import { ModerationConfig } from './config';
import { moderationService } from './service';

runMain('moderation', ModerationConfig, (config) => moderationService(config));
