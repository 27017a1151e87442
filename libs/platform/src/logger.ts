import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/**
 * Fields that hold a secret or a person's words wherever they occur in a log record: passwords,
 * access and refresh tokens, credentials in headers, message bodies (and texts that become
 * one: drafts under test, edits). No code logs them on purpose; this catches a request, a DTO,
 * an event or an error context logged whole. Covered at the top of a record and two levels
 * down (`{ req: { body: { password } } }`); deeper values are not walked, so log ids, not objects.
 */
export const REDACTED_FIELDS = [
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'authorization',
  'cookie',
  'body',
  'JWT_SECRET',
] as const;

export const REDACT_PATHS = REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

/** One JSON line per log record on stdout, with the service name on every line; secrets redacted (REDACTED_FIELDS). */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  });
}

/** Lets Nest (and our code through Nest's Logger) write through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}
  private write(level: 'debug' | 'info' | 'warn' | 'error' | 'trace', message: unknown, rest: unknown[]) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    // Errors' message and stack are not own enumerable properties: spread would drop them.
    if (message instanceof Error) this.pino[level]({ context, err: message }, message.message);
    else if (message && typeof message === 'object') this.pino[level]({ context, ...(message as object) });
    else {
      const trace = typeof rest[0] === 'string' && rest.length > 1 ? rest[0] : undefined;
      this.pino[level]({ context, ...(trace ? { stack: trace } : {}) }, String(message));
    }
  }
  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('trace', message, rest);
  }
}
