/** Injection tokens for what every service gets from the platform module. */
export const CONFIG = Symbol('CONFIG');
export const NATS = Symbol('NATS_CONNECTION');
export const SUBJECTS = Symbol('SUBJECTS');
export const PINO = Symbol('PINO_LOGGER');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
