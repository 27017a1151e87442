import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from 'pino';
import { PINO } from '@chat/platform';
import { toHttpError } from './errors';

/**
 * Catch-all filter: every HTTP error leaves as `{ error: { code, message, details? } }`. It also
 * sees errors of plain express middleware (body-parser: malformed JSON, body too large), since
 * Nest routes those through its global filters too.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(@Inject(PINO) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const status = exception instanceof HttpException ? exception.getStatus() : (exception as { status?: number })?.status;
    const cause = exception instanceof HttpException ? exception.cause : undefined;
    const { status: code, body } = toHttpError(exception, status, cause);
    if (code >= 500) this.logger.error({ err: exception }, 'http request failed');
    if (res.headersSent) return;
    res.status(code).json({ error: body });
  }
}
