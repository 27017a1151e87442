export * from './infra';
export * from './docs';
