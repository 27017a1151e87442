import { ChatError } from '@chat/contracts';
import type { NextFunction, Request, Response } from 'express';

/**
 * The browser Origin check. A browser sends `Origin` with every WebSocket upgrade and with every
 * cross-site (and same-origin non-GET) request, and a page cannot forge it. Without the check a
 * page of any other site could open the gateway's WebSocket or call its API from its visitors'
 * browsers: with a token it holds, or to register accounts and burn login limits from their
 * addresses, or to read whatever a socket without token answers. Clients that are not browsers
 * (the Node client, bots, curl) send no Origin and are not affected; they could send any
 * header anyway, so the check is about browsers only.
 *
 * Allowed: no Origin at all; an Origin whose host (and port) is the request's own `Host`
 * (the gateway serves the web client itself, so that is the normal case, behind TLS too); and
 * any origin listed in ALLOWED_ORIGINS (exact `scheme://host[:port]`, e.g. a web client served
 * from another domain). `*` in the list allows every origin (development only).
 */
export class OriginPolicy {
  private readonly listed: ReadonlySet<string>;
  private readonly any: boolean;

  constructor(allowedOrigins: string) {
    const entries = allowedOrigins
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    this.any = entries.includes('*');
    this.listed = new Set(entries.filter((o) => o !== '*').map(normaliseOrigin));
  }

  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.any) return true;
    const normal = normaliseOrigin(origin);
    if (this.listed.has(normal)) return true;
    // "null" (sandboxed frames, file: pages) and anything that is not a URL never match Host.
    const own = hostOf(normal);
    return own !== null && host !== undefined && own === host.toLowerCase();
  }
}

/** Lower-cased, without a trailing slash (browsers send `https://a.example`, operators may write `https://A.example/`). */
function normaliseOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

/** `host[:port]` of an http(s) origin as the browser wrote it (a default port is not written), else null. */
function hostOf(origin: string): string | null {
  const m = /^https?:\/\/([^/?#@\s]+)$/.exec(origin);
  return m ? m[1] : null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Express middleware for the API: a state-changing request (not GET/HEAD/OPTIONS) from a browser
 * page of a foreign origin is refused 403 FORBIDDEN before its body is read.
 */
export function requireAllowedOrigin(policy: OriginPolicy) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (SAFE_METHODS.has(req.method) || policy.allows(req.headers.origin, req.headers.host)) return next();
    next(new ChatError('FORBIDDEN', 'requests from this origin are not allowed (ALLOWED_ORIGINS)'));
  };
}
