import type { ErrorBody, ErrorCode } from '@chat/contracts';

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

  /** The message without the `CODE: ` prefix (what the server or the client said). */
  get reason(): string {
    return this.message.slice(this.code.length + 2);
  }

  static from(error: ErrorBody | undefined, status?: number): ChatClientError {
    if (!error || typeof error.code !== 'string') return new ChatClientError('INTERNAL', 'malformed error reply', undefined, status);
    return new ChatClientError(error.code, error.message, error.details, status);
  }
}
