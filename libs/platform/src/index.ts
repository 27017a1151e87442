// The public surface of @chat/platform: named, and only what the services and their tests use.
export { startService, runMain, type ServiceDefinition, type RunningService } from './bootstrap';
export { BaseConfig, ConfigError, isServerAdmin, loadConfig } from './config';
export { httpStatusOf } from './errors.filter';
export { HealthRegistry, MetricsRegistry } from './health';
export { createLogger } from './logger';
export { RpcCallContext } from './rpc-server';
export { CONFIG, NATS, PINO, SUBJECTS } from './tokens';
