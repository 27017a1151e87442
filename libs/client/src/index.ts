/**
 * Typed client of the chat gateway (docs/protocol.md) for browsers and Node: HTTP register,
 * login, refresh tokens, logout and account calls (`fetch`), and the WebSocket protocol with
 * reconnection, resume (missed events replayed on reconnect) and in-band token renewal. The WebSocket implementation is
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
  ReloadNeeded,
  StateChange,
} from './connection';
export { ChatClientError } from './errors';
export {
  changePassword,
  deleteAccount,
  getFilters,
  login,
  logout,
  logoutAll,
  refresh,
  register,
  revokeSession,
  sessions,
  setFilters,
  tokenProvider,
  wsUrlOf,
} from './http';
export type { LoginResult, SessionView, TokenProviderOptions } from './http';
export {
  AUTH_LOST_CLOSE_CODES,
  AUTH_LOST_CODES,
  BACK_OFF_CLOSE_CODES,
  DEFAULT_RECONNECT,
  NO_RETRY_CLOSE_CODES,
  backoffDelay,
} from './backoff';
export type { ReconnectPolicy } from './backoff';
export { SocketState } from './socket';
export type { SocketCloseEvent, SocketMessageEvent, WebSocketConstructor, WebSocketLike } from './socket';
