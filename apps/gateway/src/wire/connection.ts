import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { ErrorBody, SettableStatus, UserView } from '@chat/contracts';
import { errorFrame, replyFrame } from './frames';

export interface ConnectionSettings {
  maxBufferedBytes: number;
  onSlowConsumer: (conn: Connection) => void;
  onFrameOut: () => void;
}

export type ConnectionState = 'open' | 'authenticating' | 'authenticated' | 'closed';

// Reused for every send: text frame from a Buffer, so the UTF-8 encoding happens once per
// event instead of once per recipient.
const TEXT = { binary: false } as const;

/**
 * Write coalescing. Every frame `ws` sends is a write of its header and payload, i.e. one
 * writev system call per frame per socket, which is most of the cost of fan-out. The first
 * write to a socket in an event-loop turn corks it, and all sockets corked in that turn are
 * uncorked together once the turn's I/O callbacks have run (setImmediate): a burst of events
 * (NATS delivers many per read) leaves as one writev per socket. Nothing waits longer than the
 * current turn. `ws` has no public cork API, so this reaches its socket (`_socket`), and does
 * nothing if that is ever missing.
 */
const corked: Socket[] = [];
let uncorkScheduled = false;
function uncorkAll() {
  uncorkScheduled = false;
  for (const sock of corked.splice(0)) sock.uncork();
}
function corkForThisTurn(ws: WebSocket) {
  const sock = (ws as unknown as { _socket?: Socket })._socket;
  if (!sock || typeof sock.cork !== 'function' || sock.writableCorked > 0) return;
  sock.cork();
  corked.push(sock);
  if (!uncorkScheduled) {
    uncorkScheduled = true;
    setImmediate(uncorkAll);
  }
}

/**
 * One client socket and its protocol state. Writes go through one place that enforces the
 * bounded send buffer: a client that does not read fast enough is closed with 4408 instead of
 * growing the gateway's memory without limit.
 */
export class Connection {
  /** Unique within the gateway; sent to the presence service. */
  readonly connId = randomBytes(9).toString('base64url');
  state: ConnectionState = 'open';
  user: UserView | null = null;
  status: SettableStatus = 'online';
  expiresAtMs = 0;
  /** Bad frames received in a row; any good frame resets it. */
  badFrames = 0;
  /** Requests being processed. */
  inflight = 0;
  /** Tail of this connection's message.send queue when WS_ORDERED_SENDS is on. */
  sendChain: Promise<void> = Promise.resolve();
  /** Answered the last keep-alive ping. */
  alive = true;
  authTimer?: NodeJS.Timeout;
  expiryTimer?: NodeJS.Timeout;

  constructor(
    readonly ws: WebSocket,
    private readonly settings: ConnectionSettings,
  ) {}

  get closed(): boolean {
    return this.state === 'closed';
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a pre-serialised event frame; false when it was not written (closed or slow consumer). */
  sendEvent(frame: Buffer): boolean {
    const ws = this.ws;
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > this.settings.maxBufferedBytes) {
      this.settings.onSlowConsumer(this);
      this.close(4408, 'slow consumer: send buffer full');
      return false;
    }
    corkForThisTurn(ws);
    ws.send(frame, TEXT);
    return true;
  }

  reply(id: string, data: unknown): void {
    this.write(replyFrame(id, data));
  }

  replyError(id: string | null, error: ErrorBody): void {
    this.write(errorFrame(id, error));
  }

  private write(text: string): void {
    if (this.sendEvent(Buffer.from(text))) this.settings.onFrameOut();
  }

  close(code: number, reason: string): void {
    this.clearTimers();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }

  clearTimers(): void {
    clearTimeout(this.authTimer);
    clearTimeout(this.expiryTimer);
  }
}
