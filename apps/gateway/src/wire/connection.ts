import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { WsCloseCodes, WsLimits, type ErrorBody } from '@chat/contracts';
import { errorFrame, replyFrame } from './frames';

export interface ConnectionSettings {
  maxBufferedBytes: number;
  onSlowConsumer: (conn: WireConnection) => void;
  onFrameOut: () => void;
  onBadFrame: () => void;
}

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
 * One client socket: the only holder of the `ws` object. Every write goes through `send`, which
 * enforces the bounded send buffer: a client that does not read fast enough is closed with 4408
 * instead of growing the gateway's memory without limit. It also counts bad frames in a row
 * (4400 at the limit). Who the client is belongs to the session layer above.
 */
export class WireConnection {
  /** Unique within the gateway; sent to the presence service. */
  readonly connId = randomBytes(9).toString('base64url');
  /** Set when the socket has closed (the 'close' event); frames are no longer read. */
  closed = false;
  /** Answered the last keep-alive ping. */
  alive = true;
  /** Bad frames received in a row; any good frame resets it. */
  private badFrames = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly settings: ConnectionSettings,
  ) {}

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes held in the gateway for this socket, not yet taken by the OS (what the 4408 limit counts). */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** Sends a serialised frame; false when it was not written (closed or slow consumer). */
  send(frame: Buffer): boolean {
    const ws = this.ws;
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > this.settings.maxBufferedBytes) {
      this.settings.onSlowConsumer(this);
      this.close(WsCloseCodes.slowConsumer, 'slow consumer: send buffer full');
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

  /** Answers a frame that failed the frame checks; too many in a row close the connection (4400). */
  badFrame(id: string | null, error: ErrorBody): void {
    this.settings.onBadFrame();
    this.replyError(id, error);
    if (++this.badFrames >= WsLimits.maxConsecutiveBadFrames) this.close(WsCloseCodes.tooManyBadFrames, 'too many bad frames');
  }

  /** A frame passed the checks: the bad-frame count starts again. */
  goodFrame(): void {
    this.badFrames = 0;
  }

  private write(text: string): void {
    if (this.send(Buffer.from(text))) this.settings.onFrameOut();
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }

  /** Keep-alive: false when the previous ping went unanswered (the socket is then cut). */
  ping(): boolean {
    if (!this.alive) return false;
    this.alive = false;
    this.ws.ping();
    return true;
  }

  /** Drops the TCP connection without a closing handshake. */
  terminate(): void {
    this.ws.terminate();
  }
}
