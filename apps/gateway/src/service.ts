import type { NestExpressApplication } from '@nestjs/platform-express';
import compression from 'compression';
import express, { type NextFunction, type Request, type Response } from 'express';
import fs from 'node:fs';
import type { ServiceDefinition } from '@chat/platform';
import { authenticate } from './accounts/bearer.guard';
import { SessionCheck } from './accounts/session-check';
import type { GatewayConfig } from './config';
import { GatewayModule } from './gateway.module';
import { MAX_FILTERS_BODY_BYTES, MAX_HTTP_BODY_BYTES } from './http/errors';
import { OriginPolicy, requireAllowedOrigin } from './http/origin';
import { requireJsonBody } from './http/require-json';
import { securityHeaders } from './http/security-headers';

const filtersJson = express.json({ limit: MAX_FILTERS_BODY_BYTES });

export const gatewayService = (config: GatewayConfig): ServiceDefinition<GatewayConfig> => ({
  name: 'gateway',
  config,
  module: (platform) => GatewayModule.register(platform, config),
  configure: (nestApp) => {
    const app = nestApp as NestExpressApplication;
    app.disable('x-powered-by');
    // The client address (req.ip) feeds the login limits; behind proxies it comes from
    // X-Forwarded-For, trusted for exactly this many hops.
    if (config.TRUST_PROXY_HOPS > 0) app.set('trust proxy', config.TRUST_PROXY_HOPS);
    app.use(securityHeaders());
    // Before anything reads a body: a foreign browser page's POST/PUT/DELETE is refused at once.
    app.use('/api', requireAllowedOrigin(new OriginPolicy(config.ALLOWED_ORIGINS)));
    // Registered before Nest's own parsers, which then skip JSON: our limit applies (16 KiB;
    // larger bodies get 413 FRAME_TOO_LARGE through the exception filter).
    app.use('/api', requireJsonBody);
    // A whole filter configuration may be large (up to 1 MiB); parsed here, the general parser
    // below skips it. Exact path and PUT only: nothing else gets the larger limit. The Bearer
    // token is checked first (the route's guard then finds the caller), so a client without a
    // valid token is refused before the gateway reads and parses a body that large.
    const sessions = app.get(SessionCheck);
    app.use('/api/moderation/filters', (req: Request, res: Response, next: NextFunction) => {
      if (req.path !== '/' || req.method !== 'PUT') return next();
      authenticate(req, sessions).then(() => filtersJson(req, res, next), next);
    });
    app.useBodyParser('json', { limit: MAX_HTTP_BODY_BYTES });
    if (fs.existsSync(config.PUBLIC_DIR)) app.use(staticPage(config.PUBLIC_DIR));
  },
});

/**
 * The web client's files. Gzipped when the browser accepts it (the bundle is about a third of its
 * size gzipped), and `Cache-Control: no-cache`: a browser keeps them but asks again each load, and
 * gets a 304 from the ETag unless a deploy changed them, so nobody runs an old bundle against a
 * new server (file names carry no hash; without the header a browser guesses a freshness from
 * Last-Modified and may skip asking for days).
 */
function staticPage(dir: string) {
  const router = express.Router();
  router.use(compression());
  router.use(
    express.static(dir, {
      index: 'index.html',
      fallthrough: true,
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  return router;
}
