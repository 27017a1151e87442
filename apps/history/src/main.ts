import { runMain } from '@chat/platform';
import { HistoryConfig } from './config';
import { historyService } from './service';

runMain('history', HistoryConfig, (config) => historyService(config));
