export * from './config';
export * from './logger';
export * from './health';
export * from './tokens';
export * from './platform.module';
export * from './bootstrap';
export * from './errors.filter';
export * from './rpc-server';
