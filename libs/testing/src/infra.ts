import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { execFileSync } from 'node:child_process';

/**
 * Where tests find NATS and Postgres, in this order:
 *  1. NATS_URL / DATABASE_URL when set;
 *  2. the local services (127.0.0.1:4222, postgres://postgres@127.0.0.1:5432/test);
 *  3. containers started with testcontainers, where a Docker engine is present.
 * Tests never mock either; each test isolates itself with a random namespace / schema.
 */
const LOCAL_NATS = 'nats://127.0.0.1:4222';
const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/test';

function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

let natsUrl: Promise<string> | undefined;
let pgUrl: Promise<string> | undefined;

export function testNatsUrl(): Promise<string> {
  natsUrl ??= (async () => {
    if (process.env.NATS_URL) return process.env.NATS_URL;
    if (await reachable('127.0.0.1', 4222)) return LOCAL_NATS;
    if (dockerAvailable()) {
      const { GenericContainer, Wait } = await import('testcontainers');
      const c = await new GenericContainer('nats:2.9-alpine')
        .withCommand(['-js'])
        .withExposedPorts(4222)
        .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
        .start();
      return `nats://${c.getHost()}:${c.getMappedPort(4222)}`;
    }
    throw new Error('no NATS: set NATS_URL, run nats-server -js on 127.0.0.1:4222, or provide a Docker engine');
  })();
  return natsUrl;
}

export function testDatabaseUrl(): Promise<string> {
  pgUrl ??= (async () => {
    if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
    if (await reachable('127.0.0.1', 5432)) return LOCAL_PG;
    if (dockerAvailable()) {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const c = await new PostgreSqlContainer('postgres:15-alpine').start();
      return c.getConnectionUri();
    }
    throw new Error('no Postgres: set DATABASE_URL, run PostgreSQL on 127.0.0.1:5432, or provide a Docker engine');
  })();
  return pgUrl;
}

/** A fresh namespace (NATS subjects/streams) or schema name per test file. */
export function randomName(prefix = 't'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

/** Polls until `fn` returns a truthy value (or throws after `timeoutMs`). Tests wait on conditions, not sleeps. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Deletes every stream and KV bucket of a namespace (tests call it in afterAll, so the shared
 * local NATS does not fill up with test streams).
 */
export async function deleteNamespace(namespace: string, natsUrl?: string): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const { createSubjects } = await import('@chat/contracts');
  const s = createSubjects(namespace);
  const nc = await connect({ servers: natsUrl ?? (await testNatsUrl()) });
  try {
    const jsm = await jetstreamManager(nc);
    const names = [...Object.values(s.streams).map((x) => x.name), ...Object.values(s.kv).map((b) => `KV_${b}`)];
    for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.drain();
  }
}

/** A loopback TCP port free at the time of asking (for a process a test starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
