import { runMain } from '@chat/platform';
import { GatewayConfig } from './config';
import { gatewayService } from './service';

runMain('gateway', GatewayConfig, (config) => gatewayService(config));
