import { HealthRegistry, type RunningService } from '@chat/platform';
import { eventually, randomName } from '@chat/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startTestGateway } from '../testing/test-gateway';

jest.setTimeout(90_000);

const NATS_SERVER = '/usr/sbin/nats-server';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A private nats-server with JetStream (this test stops it; the shared one is never touched). */
function startNats(port: number, storeDir: string): ChildProcess {
  return spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
}

async function stopNats(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

/** Whether something listens on the port (the server is up). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => resolve(true)).once('error', () => resolve(false));
    sock.once('close', () => sock.destroy());
    setTimeout(() => sock.end(), 100);
  });
}

/** /health/ready as a load balancer probes it: an answer that takes longer than `abortMs` counts as none. */
async function probe(url: string, abortMs: number): Promise<{ status: number; body: unknown } | 'no answer'> {
  try {
    const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(abortMs) });
    return { status: res.status, body: await res.json() };
  } catch {
    return 'no answer';
  }
}

// /health/ready while NATS is down: every check is bounded (HealthRegistry.timeoutMs), so the probe
// answers 503 at once instead of waiting for the NATS client's request timeout (about 5 s).
describe('gateway - readiness while NATS is down', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-health-nats-'));
  let nats: ChildProcess | undefined;
  let port: number;
  let gw: RunningService | undefined;

  beforeAll(async () => {
    port = await freePort();
    nats = startNats(port, dir);
    await eventually(() => accepts(port), 30_000);
    gw = await startTestGateway(randomName(), { NATS_URL: `nats://127.0.0.1:${port}` });
    gw.app.get(HealthRegistry).timeoutMs = 300;
  });

  afterAll(async () => {
    await stopNats(nats);
    await gw?.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with the failed checks well within the NATS request timeout, and 200 again once NATS is back', async () => {
    expect(await probe(gw!.url, 10_000)).toEqual({ status: 200, body: { status: 'ok', checks: { nats: true, kv: true } } });

    await stopNats(nats);
    // 3 s: ten times the (shortened) check timeout, and less than the 5 s the kv check used to wait.
    const down = await eventually(async () => {
      const r = await probe(gw!.url, 3000);
      return r !== 'no answer' && r.status === 503 ? r : undefined;
    }, 30_000);
    expect(down).toEqual({ status: 503, body: { status: 'unavailable', checks: { nats: false, kv: false } } });
    // Repeated probes while it stays down all answer in time.
    for (let i = 0; i < 3; i++) expect(await probe(gw!.url, 3000)).toEqual(down);

    nats = startNats(port, dir);
    await eventually(async () => {
      const r = await probe(gw!.url, 10_000);
      return r !== 'no answer' && r.status === 200;
    }, 30_000);
  });
});
