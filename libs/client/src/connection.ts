import type {
  ModerationNewsName,
  ResumeResult,
  UserView,
  WsEventFrame,
  WsEventName,
  WsEvents,
  WsOp,
  WsOps,
  WsReplyFrame,
  WsServerFrame,
} from '@chat/contracts';
import {
  AUTH_LOST_CLOSE_CODES,
  CloseCodes,
  AUTH_LOST_CODES,
  BACK_OFF_CLOSE_CODES,
  DEFAULT_RECONNECT,
  NO_RETRY_CLOSE_CODES,
  backoffDelay,
  type ReconnectPolicy,
} from './backoff';
import { ChatClientError } from './errors';
import { SocketState, type WebSocketConstructor, type WebSocketLike } from './socket';

/**
 * Typed client of the gateway's WebSocket protocol (docs/protocol.md), for browsers and Node:
 * requests matched to replies by id, events, and reconnection with back-off.
 */

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateChange {
  state: ConnectionState;
  /** Reconnect attempts since the connection was last open (0 while connecting the first time). */
  attempt: number;
  /** `reconnecting` while waiting: when the next attempt starts (`Date.now()` time) and the wait. */
  retryAt?: number;
  delayMs?: number;
  /** The close code and reason that caused this state, when a socket closed. */
  code?: number;
  reason?: string;
  /** `closed` because the token was refused or expired (also reported by `authLost`). */
  error?: ChatClientError;
}

export type AuthReply = WsOps['auth']['res'];

/**
 * The login is over: the token was refused or expired (close 4403, or a failed `auth` when
 * (re)connecting or renewing), the session was revoked (4410), the account disabled (4411) or
 * the user banned from the server (4412, or `auth` refused SERVER_BANNED: every login is refused
 * until a moderator lifts the ban; show that rather than a login form). Log in again.
 */
export interface AuthLost {
  error: ChatClientError;
  /** The close code when the gateway closed the connection (4403, 4410, 4411, 4412). */
  code?: number;
}

/**
 * The client cannot bring its state up to date by resuming: fetch it afresh (room list,
 * history, read state). `reason` is the gateway's (ResumeResult) or `no_position`: the client
 * reconnected before it saw any chat event (and was not given a position with `notePosition`).
 * `latest`: the newest stored position (the client resumes from it next time), null when unknown.
 */
export interface ReloadNeeded {
  reason: Extract<ResumeResult, { status: 'reload' }>['reason'] | 'no_position';
  latest: number | null;
}

/** The moderation news events (position 0); a new one that is not listed does not compile. */
const MODERATION_NEWS: Record<ModerationNewsName, true> = {
  'moderation.warned': true,
  'moderation.muted': true,
  'moderation.unmuted': true,
  'moderation.role': true,
  'moderation.report': true,
};

/** Events whose positions are not chat-stream positions (the resume position ignores them). */
const NOT_CHAT: ReadonlySet<string> = new Set<WsEventName>([
  'presence.changed',
  'presence.mine',
  'typing',
  'read.marker',
  'server.shutdown',
  ...(Object.keys(MODERATION_NEWS) as ModerationNewsName[]),
]);

/** Events of the client itself (gateway events are named by `WsEventName`). */
export interface ClientEvents {
  state: StateChange;
  /** The client authenticated a (re)opened connection with its token: resynchronise what may have been missed. */
  ready: AuthReply;
  authLost: AuthLost;
  /** A reconnect resumed: every event missed since `from` arrived before this (and before `ready`). */
  resumed: Extract<ResumeResult, { status: 'resumed' }>;
  /** A reconnect could not resume: reload the state (then carry on, live events keep coming). */
  reloadNeeded: ReloadNeeded;
}

export type ChatEventName = WsEventName | keyof ClientEvents;
export type EventHandler<E extends ChatEventName> = E extends WsEventName
  ? (data: WsEvents[E], position: number) => void
  : E extends keyof ClientEvents
    ? (data: ClientEvents[E]) => void
    : never;

export interface ChatClientOptions {
  /** The gateway's WebSocket URL, e.g. `ws://127.0.0.1:3000/ws` (see `wsUrlOf`). */
  url: string;
  /**
   * The WebSocket implementation: the global `WebSocket` by default (browsers); Node 20 has none,
   * so Node callers pass `WebSocket` from the `ws` package.
   */
  WebSocket?: WebSocketConstructor;
  /**
   * Access token sent with `auth` every time a connection opens (the state becomes `open` after
   * its reply). Without it the caller sends `auth` itself; the token of the last successful
   * `auth()` is then used on reconnects.
   */
  token?: string | (() => string | null | undefined | Promise<string | null | undefined>);
  /**
   * Resume (docs/protocol.md "Resuming"): on every reconnect, `auth` carries the highest chat
   * position seen (`position`), and the gateway sends what was missed first; `resumed` or
   * `reloadNeeded` tells how it went. @default true
   */
  resume?: boolean;
  /** A position to resume from on the first connection too (e.g. kept from an earlier run). */
  resumeFrom?: number;
  /**
   * A resume starts this many positions below the highest seen: an event of another room can
   * reach a client after a higher one (an invitation relayed for the user, a room's read-back
   * after a join), and could otherwise be missed if the connection dropped in between. The
   * events of the overlap the client already had are dropped, not shown twice. @default 100
   */
  resumeOverlap?: number;
  /**
   * With a token function: the connection re-authenticates in band with a fresh token this long
   * before the current one expires (the gateway closes 4403 at expiry). @default 60000
   */
  renewBeforeMs?: number;
  /** Reconnect after an unexpected close (`false`: never). @default DEFAULT_RECONNECT */
  reconnect?: boolean | Partial<ReconnectPolicy>;
  /** Time allowed for a connection to open. @default 10000 */
  connectTimeoutMs?: number;
  /** Default time a request waits for its reply (then UNAVAILABLE). @default 15000 */
  requestTimeoutMs?: number;
  /**
   * After this long without a frame from the gateway, send a `ping`; no reply within
   * min(this, 10 s) drops the connection (and reconnects). 0 turns it off. @default 0
   */
  keepAliveMs?: number;
  /**
   * Events (and frames in `received`) kept for `waitFor`/`events()` to find what arrived before
   * they were called; 0 keeps none (benchmarks, browsers). @default 10000
   */
  eventHistory?: number;
}

interface Pending {
  resolve: (data: unknown) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

type AnyHandler = (data: unknown, position?: number) => void;
const noop = () => undefined;

/** Appends, trimming to the last `max` items only once the array holds twice that (amortised O(1)). */
function keepLast<T>(arr: T[], item: T, max: number) {
  arr.push(item);
  if (arr.length >= 2 * max) arr.splice(0, arr.length - max);
}

export class ChatClient {
  /** Frames received, in order (replies and events; the last `eventHistory` or more), for tests. */
  readonly received: WsServerFrame[] = [];
  /** The user of the last successful `auth`. */
  user: UserView | null = null;

  private readonly url: string;
  private readonly WS: WebSocketConstructor;
  private token: ChatClientOptions['token'];
  private readonly policy: ReconnectPolicy | null;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly keepAliveMs: number;
  private readonly historyMax: number;
  private readonly resume: boolean;
  private readonly renewBeforeMs: number;
  /** The highest chat-stream position seen (null: none yet). */
  private lastPosition: number | null;
  private readonly resumeOverlap: number;
  /** Chat positions received within `resumeOverlap` below the highest (the events a resume may send again). */
  private readonly receivedPositions = new Set<number>();
  /** The highest chat-stream position received on the current socket (null: none yet). */
  private socketPosition: number | null = null;
  private renewTimer: ReturnType<typeof setTimeout> | undefined;
  /** A `server.shutdown` asked to reconnect after a random wait up to this: the next retry's delay. */
  private shutdownWaitMs: number | null = null;

  private socket: WebSocketLike | null = null;
  private current: ConnectionState = 'closed';
  private stopped = true;
  private attempt = 0;
  /** The client's own `auth` on a fresh connection is in flight. */
  private authenticating = false;
  /** The token of the last `auth` sent. */
  private lastToken: string | null = null;
  /** A connection of this client was authenticated before: the next one is a reconnect. */
  private everAuthenticated = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private keepAliveTimer: ReturnType<typeof setTimeout> | undefined;
  private lastFrameAt = 0;
  private closedPromise!: Promise<{ code: number; reason: string }>;
  private resolveClosed: (v: { code: number; reason: string }) => void = noop;
  private closedSettled = false;

  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly handlers = new Map<string, Set<AnyHandler>>();
  private readonly history: WsEventFrame[] = [];
  private readonly eventWaiters = new Set<(f: WsEventFrame) => void>();
  /** Replies that matched no pending request (raw frames, id null). */
  private readonly unmatched: WsReplyFrame[] = [];
  private readonly replyWaiters: Array<(r: WsReplyFrame) => void> = [];

  constructor(opts: ChatClientOptions) {
    const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS)
      throw new TypeError('no WebSocket implementation: pass one as the `WebSocket` option (in Node: `WebSocket` from the ws package)');
    this.WS = WS;
    this.url = opts.url;
    this.token = opts.token;
    this.policy = opts.reconnect === false ? null : { ...DEFAULT_RECONNECT, ...(opts.reconnect === true ? {} : opts.reconnect) };
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.keepAliveMs = opts.keepAliveMs ?? 0;
    this.historyMax = opts.eventHistory ?? 10_000;
    this.resume = opts.resume ?? true;
    this.renewBeforeMs = opts.renewBeforeMs ?? 60_000;
    this.lastPosition = opts.resumeFrom ?? null;
    this.resumeOverlap = Math.max(0, opts.resumeOverlap ?? 100);
    this.resetClosed();
  }

  /**
   * Opens a connection and resolves once it is `open` (authenticated, when a `token` is given).
   * Rejects with ChatClientError when that first attempt fails (and the client stays closed).
   */
  static connect(url: string, opts: Omit<ChatClientOptions, 'url'> = {}): Promise<ChatClient> {
    const client = new ChatClient({ ...opts, url });
    return new Promise((resolve, reject) => {
      const off = client.on('state', (s) => {
        if (s.state === 'open') {
          off();
          resolve(client);
        } else if (s.state === 'closed' || (s.state === 'reconnecting' && s.retryAt !== undefined)) {
          off();
          void client.close();
          reject(
            s.error ??
              new ChatClientError(
                'UNAVAILABLE',
                `cannot connect to ${url}${s.code ? ` (close ${s.code}${s.reason ? ` ${s.reason}` : ''})` : ''}`,
              ),
          );
        }
      });
      client.open();
    });
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** The socket is open (requests can be sent; `auth` may still be due). */
  get isOpen(): boolean {
    return this.socket?.readyState === SocketState.OPEN;
  }

  /** State `open`: connected and, with a token, authenticated. */
  get ready(): boolean {
    return this.current === 'open';
  }

  /** The highest chat-stream position seen (the next reconnect resumes from it); null before any. */
  get position(): number | null {
    return this.lastPosition;
  }

  /**
   * Tells the client a position the app's state is up to date with (e.g. the newest message
   * position of the history it loaded), so that a reconnect before any event can resume.
   */
  notePosition(position: number): void {
    if (Number.isSafeInteger(position) && position >= 0 && position > (this.lastPosition ?? -1)) this.lastPosition = position;
  }

  /** Resolves with the close code and reason once the client is closed for good (not on a drop it reconnects after). */
  get closed(): Promise<{ code: number; reason: string }> {
    return this.closedPromise;
  }

  /** Starts connecting (and reconnecting, per the policy) until `close()`. No-op while already started. */
  open(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    if (this.closedSettled) this.resetClosed();
    this.startSocket();
  }

  /** Skips the rest of the back-off wait. */
  reconnectNow(): void {
    if (this.stopped || this.socket) return;
    this.startSocket();
  }

  /** Sends a request and resolves with the reply's data; rejects with ChatClientError on an error reply. */
  request<O extends WsOp>(op: O, data: WsOps[O]['req'], opts: { timeoutMs?: number } = {}): Promise<WsOps[O]['res']> {
    if (!this.isOpen) return Promise.reject(new ChatClientError('UNAVAILABLE', 'connection is not open'));
    if (this.authenticating && op !== 'auth' && op !== 'ping')
      return Promise.reject(new ChatClientError('UNAVAILABLE', 'connection is not authenticated yet'));
    return this.send(op, data, opts.timeoutMs ?? this.requestTimeoutMs);
  }

  /** Authenticates the connection (also to renew the token on an open connection); the token is kept for reconnects. */
  async auth(token: string): Promise<AuthReply> {
    const res = await this.request('auth', { token });
    if (typeof this.token !== 'function') this.token = token;
    this.lastToken = token;
    this.user = res.user;
    this.everAuthenticated = true;
    this.scheduleRenewal(res.expiresAt);
    return res;
  }

  /**
   * Calls `handler` for every later gateway event of that name (with its data and position), or
   * client event (`state`, `ready`, `authLost`); returns a function that removes it.
   */
  on<E extends ChatEventName>(event: E, handler: EventHandler<E>): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as AnyHandler);
    return () => set.delete(handler as AnyHandler);
  }

  /**
   * Resolves with the first event of that name matching `predicate`, looking first at the
   * events already received (the last `eventHistory` of them), then at new ones. An event can
   * arrive before the reply of the request that caused it, so this does not miss it.
   */
  async waitFor<E extends WsEventName>(
    event: E,
    predicate: (data: WsEvents[E], position: number) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<WsEvents[E]> {
    return (await this.waitForFrame(event, predicate, timeoutMs)).data;
  }

  /** Like waitFor, resolving with the whole event frame (with its position). */
  waitForFrame<E extends WsEventName>(
    event: E,
    predicate: (data: WsEvents[E], position: number) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<WsEventFrame<E>> {
    const matches = (f: WsEventFrame): f is WsEventFrame<E> => f.event === event && predicate(f.data as WsEvents[E], f.position);
    const seen = this.history.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (f: WsEventFrame) => {
        if (!matches(f)) return;
        clearTimeout(timer);
        this.eventWaiters.delete(waiter);
        resolve(f);
      };
      const timer = setTimeout(() => {
        this.eventWaiters.delete(waiter);
        reject(new ChatClientError('UNAVAILABLE', `no ${event} event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.eventWaiters.add(waiter);
    });
  }

  /** Events received so far (the retained history), optionally of one name. */
  events<E extends WsEventName>(event?: E): WsEventFrame<E>[] {
    return (event ? this.history.filter((f) => f.event === event) : this.history) as WsEventFrame<E>[];
  }

  /** Sends anything as-is (text, or a binary frame for bytes) — for tests of bad input. */
  sendRaw(data: string | Uint8Array): void {
    if (!this.socket || !this.isOpen) throw new ChatClientError('UNAVAILABLE', 'connection is not open');
    this.socket.send(data);
  }

  /** Next reply that did not belong to a `request` (e.g. the answer to `sendRaw`, or an error with id null). */
  nextReply(timeoutMs = 10_000): Promise<WsReplyFrame> {
    const queued = this.unmatched.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = (r: WsReplyFrame) => {
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => {
        const i = this.replyWaiters.indexOf(waiter);
        if (i >= 0) this.replyWaiters.splice(i, 1);
        reject(new ChatClientError('UNAVAILABLE', `no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.replyWaiters.push(waiter);
    });
  }

  /** Closes the connection for good (no reconnect) and waits until the socket is closed. */
  async close(code = 1000, reason = ''): Promise<void> {
    const ws = this.socket;
    if (this.stopped && !ws) return;
    this.stopped = true;
    this.detach(new ChatClientError('UNAVAILABLE', 'connection closed by the client'));
    const gone = new Promise<void>((resolve) => {
      if (!ws || ws.readyState === SocketState.CLOSED) return resolve();
      ws.onclose = () => resolve();
      try {
        ws.close(code, reason);
      } catch {
        ws.close(); // browsers only accept 1000 and 3000-4999
      }
    });
    this.finish(code, reason);
    await gone;
  }

  // ------------------------------------------------------------------ connection lifecycle

  private resetClosed() {
    this.closedSettled = false;
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  private startSocket() {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.setState({ state: this.attempt === 0 ? 'connecting' : 'reconnecting', attempt: this.attempt });
    let ws: WebSocketLike;
    try {
      ws = new this.WS(this.url);
    } catch (err) {
      this.afterClose(1006, `cannot connect: ${(err as Error).message}`);
      return;
    }
    this.socket = ws;
    this.connectTimer = setTimeout(() => this.drop(ws, 1006, `not connected within ${this.connectTimeoutMs} ms`), this.connectTimeoutMs);
    ws.onopen = () => {
      if (this.socket === ws) this.onSocketOpen(ws);
    };
    ws.onmessage = (e) => {
      if (this.socket === ws) this.onMessage(e.data);
    };
    ws.onclose = (e) => {
      if (this.socket !== ws) return;
      this.detach(new ChatClientError('UNAVAILABLE', `connection closed (${e.code}${e.reason ? ` ${e.reason}` : ''})`));
      this.afterClose(e.code, e.reason);
    };
    // An error is always followed by a close, which does the work.
    ws.onerror = noop;
  }

  private onSocketOpen(ws: WebSocketLike) {
    clearTimeout(this.connectTimer);
    this.lastFrameAt = Date.now();
    let token: string | null | undefined | Promise<string | null | undefined>;
    try {
      token = typeof this.token === 'function' ? this.token() : this.token;
    } catch (err) {
      return this.tokenFailed(ws, err);
    }
    if (token instanceof Promise) {
      this.authenticating = true;
      token.then(
        (t) => this.socket === ws && this.authenticateSocket(ws, t),
        (err: unknown) => this.socket === ws && this.tokenFailed(ws, err),
      );
    } else this.authenticateSocket(ws, token);
  }

  /** The token function failed: a refused session ends the login, anything else is retried. */
  private tokenFailed(ws: WebSocketLike, err: unknown) {
    this.authenticating = false;
    if (err instanceof ChatClientError && AUTH_LOST_CODES.has(err.code)) return this.authRefused(ws, err);
    this.drop(ws, 1006, `no token: ${(err as Error)?.message ?? String(err)}`);
  }

  private authRefused(ws: WebSocketLike, err: ChatClientError) {
    this.stopped = true;
    this.detach(err);
    try {
      ws.close(1000, 'auth refused');
    } catch {
      // already closing
    }
    this.loseAuth(err);
  }

  private authenticateSocket(ws: WebSocketLike, token: string | null | undefined) {
    if (!token) {
      this.authenticating = false;
      return this.becomeOpen();
    }
    this.authenticating = true;
    this.socketPosition = null;
    // Resume from the highest position seen, less the overlap (events of other rooms below it
    // may still have been on their way); a reconnect without one cannot (the app reloads).
    const resumeFrom = this.resume && this.lastPosition !== null ? Math.max(0, this.lastPosition - this.resumeOverlap) : null;
    const reconnect = this.everAuthenticated;
    this.lastToken = token;
    this.send('auth', resumeFrom === null ? { token } : { token, resumeFrom }, this.requestTimeoutMs).then(
      (reply) => {
        if (this.socket !== ws) return;
        this.authenticating = false;
        this.user = reply.user;
        this.everAuthenticated = true;
        this.becomeOpen();
        this.scheduleRenewal(reply.expiresAt);
        if (reply.resume) this.onResume(reply.resume);
        else if (reconnect && this.resume) this.emit('reloadNeeded', { reason: 'no_position', latest: null } satisfies ReloadNeeded);
        this.emit('ready', reply);
      },
      (err: ChatClientError) => {
        if (this.socket !== ws) return;
        this.authenticating = false;
        if (AUTH_LOST_CODES.has(err.code)) this.authRefused(ws, err);
        // The connection limit (closed 4429 next) backs off; otherwise the gateway could not
        // check the token right now (a backend down): try again later.
        else if (err.code === 'RATE_LIMITED') this.drop(ws, 4429, `auth refused: ${err.message}`);
        else this.drop(ws, 1006, `auth failed: ${err.message}`);
      },
    );
  }

  /** Keeps a received chat position while it is within the overlap of the highest. */
  private remember(position: number) {
    const set = this.receivedPositions;
    set.add(position);
    if (set.size <= 4 * this.resumeOverlap + 64) return;
    const floor = Math.max(position, this.lastPosition ?? 0) - this.resumeOverlap;
    for (const p of set) if (p <= floor) set.delete(p);
  }

  private onResume(r: ResumeResult) {
    if (r.status === 'resumed') {
      // Everything up to `upTo` of the user's was sent: later reconnects start from there.
      this.notePosition(r.upTo);
      this.emit('resumed', r);
    } else {
      // The app reloads its state as of now; live events follow from `latest` on (some may have
      // come already, before the reply). Lowered when the old position was not this server's.
      this.lastPosition = Math.max(r.latest, this.socketPosition ?? 0);
      this.emit('reloadNeeded', { reason: r.reason, latest: r.latest } satisfies ReloadNeeded);
    }
  }

  /**
   * With a token function: re-authenticate in band before the token expires (at
   * `renewBeforeMs` before, or half its remaining life when that is shorter).
   */
  private scheduleRenewal(expiresAt: string) {
    clearTimeout(this.renewTimer);
    if (typeof this.token !== 'function') return;
    const left = Date.parse(expiresAt) - Date.now();
    if (!(left > 0)) return;
    this.renewTimer = setTimeout(() => void this.renew(expiresAt), Math.max(left - this.renewBeforeMs, left / 2));
  }

  private async renew(expiresAt: string) {
    const ws = this.socket;
    if (!ws || typeof this.token !== 'function' || this.authenticating) return;
    try {
      const token = await this.token();
      if (this.socket !== ws || !token) return;
      const reply = await this.send('auth', { token }, this.requestTimeoutMs);
      if (this.socket !== ws) return;
      this.lastToken = token;
      this.user = reply.user;
      this.scheduleRenewal(reply.expiresAt);
    } catch (err) {
      if (this.socket !== ws) return;
      if (err instanceof ChatClientError && AUTH_LOST_CODES.has(err.code)) return this.authRefused(ws, err);
      // Try again while the token lasts (the gateway closes 4403 when it does not).
      this.scheduleRenewal(expiresAt);
    }
  }

  private becomeOpen() {
    this.attempt = 0;
    this.setState({ state: 'open', attempt: 0 });
    this.scheduleKeepAlive();
  }

  /** Gives up on a socket (connect timeout, keep-alive, auth unavailable) as if it had closed with `code`. */
  private drop(ws: WebSocketLike, code: number, reason: string) {
    if (this.socket !== ws) return;
    this.detach(new ChatClientError('UNAVAILABLE', `connection lost (${reason})`));
    try {
      ws.close();
    } catch {
      // already closing
    }
    this.afterClose(code, reason);
  }

  /** The socket is gone (already detached): reconnect, or close for good. */
  private afterClose(code: number, reason: string) {
    if (this.stopped) return;
    const lost = AUTH_LOST_CLOSE_CODES.get(code);
    const loseAuth = () => {
      this.stopped = true;
      this.loseAuth(new ChatClientError(lost!, reason || 'the login is over; log in again'), code, reason);
    };
    if (code === CloseCodes.tokenExpired && typeof this.token === 'function') {
      // The token ran out (e.g. renewal timers did not run while the device slept): a token
      // function that has a new one reconnects with it; the same one again means log in.
      const decide = (next: string | null | undefined) => {
        if (this.stopped || this.socket) return;
        if (next && next !== this.lastToken) this.retry(code, reason, true);
        else loseAuth();
      };
      let next: string | null | undefined | Promise<string | null | undefined>;
      try {
        next = this.token();
      } catch {
        next = null;
      }
      if (next instanceof Promise) next.then(decide, () => decide(null));
      else decide(next);
      return;
    }
    if (lost) return loseAuth();
    this.retry(code, reason);
  }

  /** Reconnects after the back-off wait, or closes for good when the policy (or the close code, unless `anyCode`) says so. */
  private retry(code: number, reason: string, anyCode = false) {
    if (!this.policy || (NO_RETRY_CLOSE_CODES.has(code) && !anyCode) || this.attempt >= this.policy.maxAttempts) {
      this.stopped = true;
      return this.finish(code, reason);
    }
    // After `server.shutdown`: the random wait it asked for (clients do not all come back at
    // once); after "too much from you" (4429, 4430): the longest wait; else the back-off.
    const delayMs =
      this.shutdownWaitMs ?? (BACK_OFF_CLOSE_CODES.has(code) ? backoffDelay(64, this.policy) : backoffDelay(this.attempt, this.policy));
    this.shutdownWaitMs = null;
    this.attempt++;
    const retryAt = Date.now() + delayMs;
    this.retryTimer = setTimeout(() => this.startSocket(), delayMs);
    this.setState({ state: 'reconnecting', attempt: this.attempt, retryAt, delayMs, code, reason });
  }

  private loseAuth(error: ChatClientError, code?: number, reason = '') {
    this.finish(code ?? 1000, reason || error.reason, error);
    this.emit('authLost', code === undefined ? { error } : { error, code });
  }

  private finish(code: number, reason: string, error?: ChatClientError) {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.current !== 'closed')
      this.setState(
        error ? { state: 'closed', attempt: this.attempt, code, reason, error } : { state: 'closed', attempt: this.attempt, code, reason },
      );
    this.closedSettled = true;
    this.resolveClosed({ code, reason });
  }

  /** Forgets the current socket; requests in flight fail with `why`. */
  private detach(why: ChatClientError) {
    const ws = this.socket;
    this.socket = null;
    this.authenticating = false;
    clearTimeout(this.connectTimer);
    clearTimeout(this.keepAliveTimer);
    clearTimeout(this.renewTimer);
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.onerror = noop; // `ws` throws an 'error' nobody listens to
    }
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(why);
    }
  }

  private setState(change: StateChange) {
    this.current = change.state;
    this.emit('state', change);
  }

  /** A connection that went silent (sleeping laptop, dead NAT entry) is replaced. */
  private scheduleKeepAlive() {
    if (this.keepAliveMs <= 0) return;
    clearTimeout(this.keepAliveTimer);
    const ws = this.socket;
    this.keepAliveTimer = setTimeout(() => {
      if (!ws || this.socket !== ws) return;
      if (Date.now() - this.lastFrameAt < this.keepAliveMs) return this.scheduleKeepAlive();
      this.send('ping', {}, Math.min(this.keepAliveMs, 10_000)).then(
        () => this.scheduleKeepAlive(),
        () => this.drop(ws, 1006, 'keep-alive ping unanswered'),
      );
    }, this.keepAliveMs);
  }

  // ------------------------------------------------------------------ frames

  private send<O extends WsOp>(op: O, data: WsOps[O]['req'], timeoutMs: number): Promise<WsOps[O]['res']> {
    const ws = this.socket;
    if (!ws || ws.readyState !== SocketState.OPEN) return Promise.reject(new ChatClientError('UNAVAILABLE', 'connection is not open'));
    const id = `r${(++this.nextId).toString(36)}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ChatClientError('UNAVAILABLE', `no reply to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (d: unknown) => void, reject, timer });
      ws.send(JSON.stringify({ type: 'req', id, op, data }));
    });
  }

  private onMessage(data: unknown) {
    this.lastFrameAt = Date.now();
    if (typeof data !== 'string') return; // binary frames are not part of the protocol
    let frame: WsServerFrame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame !== 'object') return;
    if (this.historyMax > 0) keepLast(this.received, frame, this.historyMax);
    if (frame.type === 'evt') return this.onEvent(frame);
    if (frame.type !== 'res') return;
    const pending = frame.id === null ? undefined : this.pending.get(frame.id);
    if (pending) {
      this.pending.delete(frame.id!);
      clearTimeout(pending.timer);
      if (frame.ok) pending.resolve(frame.data);
      else pending.reject(ChatClientError.from(frame.error));
      return;
    }
    const waiter = this.replyWaiters.shift();
    if (waiter) waiter(frame);
    else keepLast(this.unmatched, frame, 1000);
  }

  private onEvent(frame: WsEventFrame) {
    if (!NOT_CHAT.has(frame.event)) {
      // A resume overlaps what came before (resumeOverlap): what this client already had is not shown again.
      if (this.receivedPositions.has(frame.position)) return;
      this.remember(frame.position);
      this.notePosition(frame.position);
      if (frame.position > (this.socketPosition ?? -1)) this.socketPosition = frame.position;
    } else if (frame.event === 'server.shutdown') {
      const { reconnectWithinMs } = frame.data as WsEvents['server.shutdown'];
      this.shutdownWaitMs = Math.round(Math.random() * Math.max(0, Number(reconnectWithinMs) || 0));
    }
    if (this.historyMax > 0) keepLast(this.history, frame, this.historyMax);
    this.emit(frame.event, frame.data, frame.position);
    if (this.eventWaiters.size) for (const w of [...this.eventWaiters]) w(frame);
  }

  private emit(name: string, data: unknown, position?: number) {
    const set = this.handlers.get(name);
    if (!set) return;
    for (const h of [...set]) {
      try {
        if (position === undefined) h(data);
        else h(data, position);
      } catch (err) {
        console.error(`chat client: a ${name} handler failed`, err);
      }
    }
  }
}
