import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * The web client's own WebSocket URL for `connect-src`: CSP Level 3 lets 'self' cover ws:/wss:
 * of the page's host, but older browsers (Safari before 15.4) do not, and the page would then
 * not connect at all. The scheme follows the page's (TLS at a proxy in front: X-Forwarded-Proto
 * is not trusted here, so both are listed when the request arrived as plain http).
 */
function ownWebSocket(req: IncomingMessage): string {
  const host = req.headers.host;
  // A Host header that is not a plain host[:port] adds nothing (and must not inject a directive).
  if (!host || !/^[A-Za-z0-9.:[\]-]{1,300}$/.test(host)) return "'self'";
  return `ws://${host} wss://${host}`;
}

/**
 * Security headers on every response (the web client's files and the API), by helmet:
 *
 * - Content-Security-Policy: scripts, styles, fonts, images and connections from the gateway's
 *   own origin only (images also `data:`), so no inline script, inline event-handler attribute,
 *   `eval`, inline `<style>` or `style="…"` attribute runs or applies: an HTML injection in a
 *   message (should the sanitiser ever miss one) cannot run script. The page has none (its
 *   script is /bundle/app.js, its styles /style.css; styles the code sets through the DOM's
 *   `element.style` are allowed by CSP). `object-src 'none'`, `base-uri 'none'`,
 *   `form-action 'self'`, and `frame-ancestors 'none'` (no other site may frame the page:
 *   clickjacking). No `upgrade-insecure-requests`: a gateway reached over plain http (a LAN, a
 *   test) would otherwise ask the browser for its own files over https and show nothing.
 * - X-Frame-Options DENY (frame-ancestors for old browsers), X-Content-Type-Options nosniff,
 *   Referrer-Policy no-referrer (a link clicked in a message does not tell the linked site
 *   which chat it came from), Cross-Origin-Opener-Policy and -Resource-Policy same-origin,
 *   Strict-Transport-Security (browsers heed it over https only), and helmet's other defaults.
 */
export function securityHeaders() {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        styleSrcAttr: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'", (req: IncomingMessage, _res: ServerResponse) => ownWebSocket(req)],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}
