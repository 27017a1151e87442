/**
 * Typed client of the chat gateway (docs/protocol.md) for browsers and Node: HTTP register and
 * login (`fetch`), and the WebSocket protocol with reconnection. The WebSocket implementation is
 * injected (`WebSocket` option): the global one in browsers, the `ws` package's in Node. Used by
 * the web client (bundled by scripts/build-web.mjs), the tests and the benchmark.
 */
export { ChatClient } from './connection';
export type {
  AuthLost,
  AuthReply,
  ChatClientOptions,
  ChatEventName,
  ClientEvents,
  ConnectionState,
  EventHandler,
  StateChange,
} from './connection';
export { ChatClientError } from './errors';
export { login, register, wsUrlOf } from './http';
export type { LoginResult } from './http';
export { AUTH_LOST_CODES, DEFAULT_RECONNECT, NO_RETRY_CLOSE_CODES, backoffDelay } from './backoff';
export type { ReconnectPolicy } from './backoff';
export { SocketState } from './socket';
export type { SocketCloseEvent, SocketMessageEvent, WebSocketConstructor, WebSocketLike } from './socket';
