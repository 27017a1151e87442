// `./chat start`, the e2e tests and the benchmark launch the services through scripts/stack.cjs.
// If that launcher dies without cleaning up (SIGKILL, a crashed CI job), its services must not
// live on as orphans holding ports and NATS subscriptions: each one stops when the launcher's
// IPC channel closes.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { deleteNamespace, eventually, randomName, testDatabaseUrl, testNatsUrl } from '@chat/testing';
import { freePort } from './fixture';

const { SERVICES } = require('../../scripts/stack.cjs') as typeof import('../../scripts/stack.cjs');

jest.setTimeout(60_000);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('launcher', () => {
  const namespace = randomName('e');
  const schema = randomName('e');
  let launcher: ChildProcess | undefined;
  let pids: number[] = [];

  afterAll(async () => {
    launcher?.kill('SIGKILL');
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await deleteNamespace(namespace);
    const pg = new Client({ connectionString: await testDatabaseUrl() });
    await pg.connect();
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
  });

  it('services stop by themselves when the launcher is SIGKILLed', async () => {
    const ports: Record<string, number> = {};
    for (const s of SERVICES) ports[s] = await freePort();
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-launcher-'));
    const opts = {
      env: {
        NATS_URL: await testNatsUrl(),
        DATABASE_URL: await testDatabaseUrl(),
        DATABASE_SCHEMA: schema,
        NATS_NAMESPACE: namespace,
        JWT_SECRET: randomBytes(36).toString('base64url'),
      },
      ports,
      output: logDir,
    };
    const script = `
      const { startStack } = require(${JSON.stringify(path.resolve(__dirname, '../../scripts/stack.cjs'))});
      startStack(${JSON.stringify(opts)}).then((s) => {
        console.log(JSON.stringify([...s.procs.values()].map((p) => p.child.pid)));
        setInterval(() => {}, 1000);
      }, (e) => { console.error(e); process.exit(1); });`;
    launcher = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    launcher.stdout!.on('data', (d) => (out += d));
    pids = await eventually(() => (out.includes('\n') ? (JSON.parse(out) as number[]) : null), 40_000);
    expect(pids).toHaveLength(SERVICES.length);
    expect(pids.every(alive)).toBe(true);
    const gateway = `http://127.0.0.1:${ports.gateway}/health/live`;
    expect((await fetch(gateway)).status).toBe(200);

    launcher.kill('SIGKILL');
    await eventually(() => pids.every((pid) => !alive(pid)), 15_000);
    await expect(fetch(gateway)).rejects.toThrow();
    fs.rmSync(logDir, { recursive: true, force: true });
  });
});
