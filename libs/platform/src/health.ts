import { Controller, Get, Header, HttpCode, Injectable, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';

type Check = () => boolean | Promise<boolean>;

/**
 * How long one readiness check may take before it counts as failed. A check that asks NATS or
 * the database waits for a reply, and while the server is down that wait lasted the client's
 * whole request timeout (about 5 s): the probe hung instead of answering 503. A load balancer's
 * probe then timed out too, or piled up requests. 2 s is far above a healthy answer (a few ms),
 * also on a machine so loaded that a NATS round trip takes a second (the history service's own
 * database check allows as much).
 */
export const HEALTH_CHECK_TIMEOUT_MS = 2000;

/** Readiness checks registered by the parts of a service (NATS, database, consumers). */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, Check>();
  /** Per check; tests may shorten it. */
  timeoutMs = HEALTH_CHECK_TIMEOUT_MS;

  register(name: string, check: Check) {
    this.checks.set(name, check);
  }

  /**
   * Runs every check at once, each bounded by `timeoutMs`: a check that throws or has not
   * answered by then is false (its late answer is ignored). So the readiness answer never takes
   * much longer than `timeoutMs`, whatever is down.
   */
  async evaluate(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const results = await Promise.all([...this.checks].map(async ([name, check]) => [name, await this.bounded(check)] as const));
    const checks = Object.fromEntries(results);
    return { ready: results.every(([, up]) => up), checks };
  }

  private bounded(check: Check): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.timeoutMs);
    });
    const run = (async () => Boolean(await check()))().catch(() => false);
    return Promise.race([run, timeout]).finally(() => clearTimeout(timer));
  }
}

/** One Prometheus registry per service, with Node's default process metrics. */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();
  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsRegistry,
  ) {}

  /** Liveness: the process answers. Restart the service if this fails. */
  @Get('health/live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  /** Readiness: every dependency is reachable; 503 otherwise (take it out of load balancing). */
  @Get('health/ready')
  async ready(@Res() res: Response) {
    const r = await this.health.evaluate();
    res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'ok' : 'unavailable', checks: r.checks });
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async metricsText() {
    return this.metrics.registry.metrics();
  }
}
