import { Controller, Get, Header, HttpCode, Injectable, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';

type Check = () => boolean | Promise<boolean>;

/** Readiness checks registered by the parts of a service (NATS, database, consumers). */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, Check>();
  register(name: string, check: Check) {
    this.checks.set(name, check);
  }
  async evaluate(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const checks: Record<string, boolean> = {};
    for (const [name, check] of this.checks) {
      try {
        checks[name] = await check();
      } catch {
        checks[name] = false;
      }
    }
    return { ready: Object.values(checks).every(Boolean), checks };
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
