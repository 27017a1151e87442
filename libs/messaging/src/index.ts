export * from './codec';
export * from './connection';
export * from './jetstream';
export * from './streams';
export * from './rpc-client';
