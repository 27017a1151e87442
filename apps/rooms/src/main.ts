import { runMain } from '@chat/platform';
import { RoomsConfig } from './config';
import { roomsService } from './service';

runMain('rooms', RoomsConfig, (config) => roomsService(config));
