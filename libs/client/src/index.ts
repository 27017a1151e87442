import { WebSocket, type RawData } from 'ws';
import type {
  ErrorBody,
  ErrorCode,
  UserView,
  WsEventFrame,
  WsEventName,
  WsEvents,
  WsOp,
  WsOps,
  WsReplyFrame,
  WsServerFrame,
} from '@chat/contracts';

/**
 * Typed client of the chat gateway (docs/protocol.md) for Node: HTTP register/login and the
 * WebSocket protocol. Used by tests, the benchmark and the end-to-end suite.
 */

/** A failed request: the gateway's error reply, or a local failure (timeout, closed socket: UNAVAILABLE). */
export class ChatClientError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorBody['details'],
    /** HTTP status for register/login failures. */
    readonly status?: number,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ChatClientError';
  }

  static from(error: ErrorBody, status?: number): ChatClientError {
    return new ChatClientError(error.code, error.message, error.details, status);
  }
}

export interface LoginResult {
  accessToken: string;
  tokenType: 'Bearer';
  expiresAt: string;
  user: UserView;
}

export interface ConnectOptions {
  /** Time allowed for the WebSocket handshake. @default 10000 */
  connectTimeoutMs?: number;
  /** Default time a request waits for its reply. @default 15000 */
  requestTimeoutMs?: number;
  /**
   * Events (and frames in `received`) kept for `waitFor`/`events()` to find what arrived before
   * they were called; 0 keeps none (benchmarks). @default 10000
   */
  eventHistory?: number;
}

export type EventHandler<E extends WsEventName> = (data: WsEvents[E], position: number) => void;

interface Pending {
  resolve: (data: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** `http://host:port` -> `ws://host:port/ws` (and https -> wss). */
export function wsUrlOf(baseUrl: string): string {
  const u = new URL(baseUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = '/ws';
  return u.toString();
}

async function postJson<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ChatClientError('INTERNAL', `non-JSON response (HTTP ${res.status}): ${text.slice(0, 200)}`, undefined, res.status);
  }
  if (!res.ok) {
    const err = (json as { error?: ErrorBody }).error;
    throw err ? ChatClientError.from(err, res.status) : new ChatClientError('INTERNAL', `HTTP ${res.status}`, undefined, res.status);
  }
  return json as T;
}

/** POST /api/auth/register. Rejects with ChatClientError (e.g. USERNAME_TAKEN, BAD_REQUEST). */
export function register(baseUrl: string, username: string, password: string): Promise<{ user: UserView }> {
  return postJson(new URL('/api/auth/register', baseUrl).toString(), { username, password });
}

/** POST /api/auth/login. Rejects with ChatClientError (AUTH_FAILED for a wrong name or password). */
export function login(baseUrl: string, username: string, password: string): Promise<LoginResult> {
  return postJson(new URL('/api/auth/login', baseUrl).toString(), { username, password });
}

/** Appends, trimming to the last `max` items only once the array holds twice that (amortised O(1)). */
function keepLast<T>(arr: T[], item: T, max: number) {
  arr.push(item);
  if (arr.length >= 2 * max) arr.splice(0, arr.length - max);
}

export class ChatClient {
  /** Frames received, in order (replies and events; the last `eventHistory` or more), for tests. */
  readonly received: WsServerFrame[] = [];
  /** Resolves with the close code and reason once the socket is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  user: UserView | null = null;

  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly handlers = new Map<WsEventName, Set<EventHandler<WsEventName>>>();
  private readonly history: WsEventFrame[] = [];
  private readonly eventWaiters = new Set<(f: WsEventFrame) => void>();
  /** Replies that matched no pending request (raw frames, id null). */
  private readonly unmatched: WsReplyFrame[] = [];
  private readonly replyWaiters: Array<(r: WsReplyFrame) => void> = [];
  private readonly requestTimeoutMs: number;
  private readonly historyMax: number;

  private constructor(
    readonly ws: WebSocket,
    opts: ConnectOptions,
  ) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.historyMax = opts.eventHistory ?? 10_000;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        const why = new ChatClientError('UNAVAILABLE', `connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(why);
        }
        this.pending.clear();
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('error', () => undefined); // 'close' follows and rejects what is pending
  }

  /** Opens a WebSocket to the gateway (e.g. ws://127.0.0.1:3000/ws); not yet authenticated. */
  static connect(wsUrl: string, opts: ConnectOptions = {}): Promise<ChatClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false, handshakeTimeout: opts.connectTimeoutMs ?? 10_000 });
      // Listening from the start: the server may push nothing before auth, but the socket is ours.
      const client = new ChatClient(ws, opts);
      ws.once('open', () => resolve(client));
      ws.once('error', (err) => reject(new ChatClientError('UNAVAILABLE', `cannot connect to ${wsUrl}: ${err.message}`)));
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a request and resolves with the reply's data; rejects with ChatClientError on an error reply. */
  request<O extends WsOp>(op: O, data?: WsOps[O]['req'], opts: { timeoutMs?: number } = {}): Promise<WsOps[O]['res']> {
    const id = `r${(++this.nextId).toString(36)}`;
    return new Promise((resolve, reject) => {
      if (!this.isOpen) return reject(new ChatClientError('UNAVAILABLE', 'connection is not open'));
      const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ChatClientError('UNAVAILABLE', `no reply to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (d: unknown) => void, reject, timer });
      this.ws.send(JSON.stringify(data === undefined ? { type: 'req', id, op } : { type: 'req', id, op, data }));
    });
  }

  /** Authenticates the connection with an access token from `login`. */
  async auth(token: string): Promise<WsOps['auth']['res']> {
    const res = await this.request('auth', { token });
    this.user = res.user;
    return res;
  }

  /** Calls `handler` for every later event of that name; returns a function that removes it. */
  on<E extends WsEventName>(event: E, handler: EventHandler<E>): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as EventHandler<WsEventName>);
    return () => set.delete(handler as EventHandler<WsEventName>);
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

  /** Sends anything as-is (text, or binary for a Buffer) — for tests of bad input. */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data, { binary: typeof data !== 'string' });
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

  /** Closes the connection and waits until it is closed. */
  async close(code = 1000, reason = ''): Promise<void> {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    await this.closed;
  }

  private onMessage(data: RawData, isBinary: boolean) {
    if (isBinary) return;
    let frame: WsServerFrame;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return;
    }
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
    else this.unmatched.push(frame);
  }

  private onEvent(frame: WsEventFrame) {
    if (this.historyMax > 0) keepLast(this.history, frame, this.historyMax);
    const set = this.handlers.get(frame.event);
    if (set) for (const h of set) h(frame.data, frame.position);
    if (this.eventWaiters.size) for (const w of [...this.eventWaiters]) w(frame);
  }
}
