import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Subjects } from '@chat/contracts';
import { JetStreamAdapter, RpcClient } from '@chat/messaging';
import { HealthController, HealthRegistry, MetricsRegistry } from './health';
import { CONFIG, NATS, PINO, SERVICE_NAME, SUBJECTS } from './tokens';
import type { BaseConfig } from './config';

export interface PlatformDeps {
  service: string;
  config: BaseConfig;
  nc: NatsConnection;
  js: JetStreamAdapter;
  subjects: Subjects;
  rpc: RpcClient;
  logger: Logger;
}

/**
 * Global module with what every service shares: config, the NATS connection (one per
 * process, shared by JetStream and RPC), subjects, the RPC client, logging, health and metrics.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(deps: PlatformDeps): DynamicModule {
    const providers = [
      { provide: SERVICE_NAME, useValue: deps.service },
      { provide: CONFIG, useValue: deps.config },
      { provide: NATS, useValue: deps.nc },
      { provide: SUBJECTS, useValue: deps.subjects },
      { provide: PINO, useValue: deps.logger },
      { provide: JetStreamAdapter, useValue: deps.js },
      { provide: RpcClient, useValue: deps.rpc },
      HealthRegistry,
      MetricsRegistry,
    ];
    return {
      module: PlatformModule,
      global: true,
      controllers: [HealthController],
      providers,
      exports: providers.map((p) => ('provide' in p ? p.provide : p)),
    };
  }
}
