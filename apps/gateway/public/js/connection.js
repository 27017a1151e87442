import { ChatError } from './api.js';

// The WebSocket side of the protocol (docs/protocol.md): JSON frames, requests answered by a
// reply with the same id, events pushed at any time. The connection authenticates right after
// opening and, when the socket drops, reconnects with exponential backoff (with jitter, so that
// many tabs do not come back in lock-step after a gateway restart) and authenticates again.

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const REQUEST_TIMEOUT_MS = 15_000;
/** An idle socket is probed this often; a probe without reply within PING_TIMEOUT_MS drops it. */
const PING_EVERY_MS = 25_000;
const PING_TIMEOUT_MS = 10_000;
/** Close codes after which reconnecting with the same token is pointless. */
const TOKEN_EXPIRED_CLOSE = 4403;
/** Auth replies that mean the token is no good (as opposed to a backend being down). */
const AUTH_LOST_CODES = new Set(['TOKEN_EXPIRED', 'UNAUTHENTICATED', 'AUTH_FAILED', 'BAD_REQUEST', 'FORBIDDEN']);

export function wsUrl(loc = window.location) {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}

export class ChatConnection {
  /**
   * @param {object} o
   * @param {string} o.url
   * @param {() => string} o.token            current access token
   * @param {(state: string, info?: object) => void} o.onState  'connecting' | 'online' | 'reconnecting' | 'offline'
   * @param {(event: string, data: any, position: number) => void} o.onEvent
   * @param {(authReply: any) => void} o.onReady  after every successful (re)authentication
   * @param {(error: ChatError) => void} o.onAuthLost  the token was refused or expired; no more reconnects
   */
  constructor(o) {
    this.o = o;
    this.ws = null;
    this.ready = false;
    this.stopped = true;
    this.attempt = 0;
    this.nextId = 0;
    this.pending = new Map();
    this.retryTimer = undefined;
    this.pingTimer = undefined;
    this.retryAt = 0;
    this.lastFrameAt = 0;
    this.wake = () => {
      if (!this.stopped && !this.ws && document.visibilityState !== 'hidden') this.reconnectNow();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.wake);
    document.addEventListener('visibilitychange', this.wake);
    this.open();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.wake);
    document.removeEventListener('visibilitychange', this.wake);
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.detach(new ChatError('UNAVAILABLE', 'disconnected'));
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, 'bye');
    this.o.onState('offline');
  }

  /** Skips the rest of the backoff wait. */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  /** Sends a request; resolves with the reply data, rejects with a ChatError (UNAVAILABLE when not connected). */
  request(op, data, { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    if (!this.ready && op !== 'auth')
      return Promise.reject(new ChatError('UNAVAILABLE', 'not connected; will retry when the connection is back'));
    return this.rawRequest(op, data, timeoutMs);
  }

  rawRequest(op, data, timeoutMs) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new ChatError('UNAVAILABLE', 'not connected'));
    const id = `r${(++this.nextId).toString(36)}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ChatError('UNAVAILABLE', `no answer to ${op} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify(data === undefined ? { type: 'req', id, op } : { type: 'req', id, op, data }));
    });
  }

  open() {
    clearTimeout(this.retryTimer);
    this.o.onState(this.attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.o.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.authenticate(ws);
    ws.onmessage = (e) => {
      if (this.ws === ws) this.onFrame(e.data);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.detach(new ChatError('UNAVAILABLE', `connection closed (${e.code})`));
      if (this.stopped) return;
      if (e.code === TOKEN_EXPIRED_CLOSE)
        return this.authLost(new ChatError('TOKEN_EXPIRED', 'your session has expired; please log in again'));
      this.scheduleReconnect();
    };
    // An error is always followed by close, which does the work.
    ws.onerror = () => undefined;
  }

  async authenticate(ws) {
    let reply;
    try {
      reply = await this.rawRequest('auth', { token: this.o.token() }, REQUEST_TIMEOUT_MS);
    } catch (err) {
      if (this.ws !== ws) return;
      if (AUTH_LOST_CODES.has(err.code)) {
        this.detach(err);
        ws.close(1000, 'auth refused');
        this.authLost(err);
      } else {
        // The gateway could not check the token right now (a backend down): try again later.
        ws.close(4000, 'auth unavailable');
      }
      return;
    }
    if (this.ws !== ws) return;
    this.ready = true;
    this.attempt = 0;
    this.lastFrameAt = Date.now();
    this.schedulePing();
    this.o.onState('online');
    this.o.onReady(reply);
  }

  authLost(err) {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.o.onState('offline');
    this.o.onAuthLost(err);
  }

  /** Forgets the current socket: pending requests fail with `why` (callers retry what is safe to retry). */
  detach(why) {
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    clearTimeout(this.pingTimer);
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
    }
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(why);
    }
  }

  scheduleReconnect() {
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.o.onState('reconnecting', { attempt: this.attempt, retryAt: this.retryAt });
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  /** Keep-alive from this side: a socket that went silent (sleeping laptop, dead NAT entry) is replaced. */
  schedulePing() {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(async () => {
      const ws = this.ws;
      if (!ws || !this.ready) return;
      if (Date.now() - this.lastFrameAt < PING_EVERY_MS) return this.schedulePing();
      try {
        await this.rawRequest('ping', {}, PING_TIMEOUT_MS);
        this.schedulePing();
      } catch {
        if (this.ws === ws) ws.close(4000, 'keep-alive timeout');
      }
    }, PING_EVERY_MS);
  }

  onFrame(text) {
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame?.type === 'evt') {
      try {
        this.o.onEvent(frame.event, frame.data, frame.position);
      } catch (err) {
        console.error('event handler failed', frame.event, err);
      }
      return;
    }
    if (frame?.type !== 'res') return;
    const p = frame.id == null ? undefined : this.pending.get(frame.id);
    if (!p) {
      if (!frame.ok) console.warn('server error without a request', frame.error);
      return;
    }
    this.pending.delete(frame.id);
    clearTimeout(p.timer);
    if (frame.ok) p.resolve(frame.data);
    else p.reject(ChatError.from(frame.error));
  }
}
