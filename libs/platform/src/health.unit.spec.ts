import { HealthRegistry } from './health';

describe('health - readiness checks', () => {
  it('a check that never answers, or throws, is false after the timeout; the others are still reported', async () => {
    const health = new HealthRegistry();
    health.timeoutMs = 50;
    health.register('nats', () => true);
    health.register('kv', () => new Promise<boolean>(() => undefined)); // a request to a server that is down
    health.register('db', async () => {
      throw new Error('connection refused');
    });
    await expect(health.evaluate()).resolves.toEqual({ ready: false, checks: { nats: true, kv: false, db: false } });
  });

  it('ready when every check answers true in time', async () => {
    const health = new HealthRegistry();
    health.register('nats', () => true);
    health.register('kv', async () => true);
    await expect(health.evaluate()).resolves.toEqual({ ready: true, checks: { nats: true, kv: true } });
  });
});
