import { ChatError, type ErrorBody } from '@chat/contracts';
import { httpStatusOf } from '@chat/platform';

/** Largest HTTP request body the gateway reads. */
export const MAX_HTTP_BODY_BYTES = 16 * 1024;
/**
 * Largest body of `PUT /api/moderation/filters`: a whole filter configuration (10,000 words
 * and more) does not fit the 64 KiB WebSocket frame nor the general limit.
 */
export const MAX_FILTERS_BODY_BYTES = 1024 * 1024;

/**
 * Maps anything thrown while serving an HTTP request to a status and a typed error body.
 * `status` is what Nest/express attached (HttpException, body-parser's http-errors); `cause` is
 * the original error, whose `type` tells body-parser's failures apart. Pure, unit-tested.
 */
export function toHttpError(err: unknown, status: number | undefined, cause?: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ChatError) return { status: httpStatusOf[err.code], body: err.toBody() };
  const type = (cause as { type?: unknown } | undefined)?.type ?? (err as { type?: unknown } | undefined)?.type;
  // body-parser says which limit was exceeded (routes may have their own).
  const limit = (cause as { limit?: unknown } | undefined)?.limit ?? (err as { limit?: unknown } | undefined)?.limit;
  switch (true) {
    case status === 413 || type === 'entity.too.large': {
      const bytes = typeof limit === 'number' ? limit : MAX_HTTP_BODY_BYTES;
      return { status: 413, body: { code: 'FRAME_TOO_LARGE', message: `request body is larger than ${bytes} bytes` } };
    }
    case type === 'entity.parse.failed' || (status === 400 && cause instanceof SyntaxError):
      return { status: 400, body: { code: 'BAD_REQUEST', message: 'request body is not valid JSON' } };
    case status === 415 || type === 'encoding.unsupported' || type === 'charset.unsupported':
      return {
        status: 415,
        body: { code: 'BAD_REQUEST', message: 'request body must be JSON (Content-Type: application/json; charset utf-8)' },
      };
    case status === 404:
      return { status: 404, body: { code: 'NOT_FOUND', message: 'no such endpoint' } };
    case status === 405:
      return { status: 405, body: { code: 'BAD_REQUEST', message: 'method not allowed' } };
    case status === 401:
      return { status: 401, body: { code: 'UNAUTHENTICATED', message: 'authentication required' } };
    case status === 403:
      return { status: 403, body: { code: 'FORBIDDEN', message: 'forbidden' } };
    case status === 429:
      return { status: 429, body: { code: 'RATE_LIMITED', message: 'too many requests' } };
    case status !== undefined && status >= 400 && status < 500:
      return { status, body: { code: 'BAD_REQUEST', message: 'bad request' } };
    default:
      return { status: 500, body: { code: 'INTERNAL', message: 'internal error; nothing was changed' } };
  }
}
