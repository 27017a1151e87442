// The public surface of @chat/messaging: named, and only what the services and their tests
// use. The raw NATS/JetStream clients stay inside the adapter.
export { decodeJson, encodeJson } from './codec';
export { connectNats, type CoreNats } from './connection';
export { streamSpecs, type StreamOptions } from './streams';
export { JetStreamAdapter } from './jetstream/adapter';
export { AppendOutcomeUnknown, AppendRefused, type AppendResult } from './jetstream/append';
export type { Delivered } from './jetstream/common';
export type { Consumption } from './jetstream/durable-consumer';
export type { KvBucket } from './jetstream/kv';
export type { Replaying, ReplaySpec } from './jetstream/replay';
export { RpcClient } from './rpc-client';
export { SENT_AT_HEADER, Spans, rfc3339Ms, type SpanSink } from './spans';
