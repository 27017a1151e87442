import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { deleteNamespace, freePort, randomName, testDatabaseUrl, testNatsUrl } from '@chat/testing';

// The launcher is plain CommonJS so that `npm start`, the benchmark and these tests share it.
const { startStack, SERVICES } = require('../../scripts/stack.cjs') as typeof import('../../scripts/stack.cjs');

export interface TestStack {
  urls: Record<string, string>;
  namespace: string;
  schema: string;
  logDir: string;
  stop(name: string, signal?: NodeJS.Signals): Promise<void>;
  start(name: string): Promise<void>;
  startExtra(name: string, service: string, port: number, env?: Record<string, string>): Promise<void>;
  /** Stops every process and removes the namespace's streams and the database schema. */
  teardown(): Promise<void>;
}

export { freePort } from '@chat/testing';

/**
 * Limits made for people, lifted for every e2e stack: the tests send far faster than a person and
 * every test user is a brand-new account. Each limit's own rules are proven by its service's
 * integration tests; a spec that wants one sets it for that service in its serviceEnv.
 */
export const TEST_LIMITS_ENV: Record<string, string> = {
  // The tests send far faster than a person (hundreds of requests at once, sends in tight
  // loops): the gateway's per-connection request rate limit (50/s, bursts of 200) is lifted.
  // Its own rules are proven by the gateway's integration tests.
  WS_RATE_PER_S: '1000000',
  WS_RATE_BURST: '1000000',
  // Every test user is registered from 127.0.0.1: the gateway's registrations per address
  // (10 an hour) are lifted; proven by the gateway's integration and attack tests.
  REGISTER_MAX_PER_ADDRESS: '1000000',
  // Every test user is a brand-new account sending in tight loops: the moderation
  // subscribers run but at thresholds no test reaches (a new-account-flood mute would
  // refuse later sends MUTED). Their rules are proven by the moderation integration tests.
  MOD_NEW_ACCOUNT_MESSAGES: '10000',
  MOD_LINK_SPAM_LINKS: '1000',
  MOD_LINK_SPAM_ROOMS: '1000',
  // Likewise moderation's per-user send rate (1/s, bursts of 10) and flood detection (the same
  // text in 3 rooms within 30 s); proven by the moderation integration tests. A spec that
  // wants them sets them for the moderation service in its serviceEnv.
  MOD_SEND_RATE_PER_S: '0',
  MOD_FLOOD_ROOMS: '1000',
};

/**
 * Starts all five services as separate processes from their built `dist/main.js` on free
 * ports, in a fresh NATS namespace and database schema, so e2e files can run side by side.
 * `env` is added to every service's environment (extra ones too), `serviceEnv` to one service's.
 * `natsUrl` / `databaseUrl` point the stack at other servers than the shared test ones (a fault
 * test's private nats-server or Postgres, which it may stop without disturbing other files).
 */
export async function startTestStack(
  opts: {
    env?: Record<string, string>;
    serviceEnv?: Record<string, Record<string, string>>;
    natsUrl?: string;
    databaseUrl?: string;
  } = {},
): Promise<TestStack> {
  const namespace = randomName('e');
  const schema = randomName('e');
  const natsUrl = opts.natsUrl ?? (await testNatsUrl());
  const databaseUrl = opts.databaseUrl ?? (await testDatabaseUrl());
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-e2e-'));
  const ports: Record<string, number> = {};
  for (const s of SERVICES) ports[s] = await freePort();
  const stack = await startStack({
    env: {
      NATS_URL: natsUrl,
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      NATS_NAMESPACE: namespace,
      JWT_SECRET: randomBytes(36).toString('base64url'),
      LOG_LEVEL: 'info',
      // Fast heartbeats so that a dead gateway is noticed quickly in tests, and a start-up
      // grace to match (drops seen by a fresh presence service wait for the grace to end).
      PRESENCE_HEARTBEAT_MS: '500',
      PRESENCE_STARTUP_GRACE_MS: '1000',
      ...TEST_LIMITS_ENV,
      ...opts.env,
    },
    ports,
    serviceEnv: opts.serviceEnv ?? {},
    output: logDir,
    // A service is ready within seconds on a quiet machine; CI runs two test files, browsers
    // and their stacks on two cores, where a start once took longer than the launcher's minute.
    readyTimeoutMs: 180_000,
  });
  return {
    urls: stack.urls,
    namespace,
    schema,
    logDir,
    stop: (name, signal) => stack.stop(name, signal),
    start: (name) => stack.start(name),
    startExtra: (name, service, port, env) => stack.startExtra(name, service, port, env),
    teardown: async () => {
      await stack.stopAll();
      await deleteNamespace(namespace, natsUrl).catch(() => undefined);
      const pg = new Client({ connectionString: databaseUrl });
      await pg.connect();
      await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pg.end();
    },
  };
}

/** The tail of a service's log, for failure messages. */
export function logTail(stack: TestStack, service: string, lines = 40): string {
  try {
    return fs
      .readFileSync(path.join(stack.logDir, `${service}.log`), 'utf8')
      .trim()
      .split('\n')
      .slice(-lines)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * For `afterEach`: when the test just run had a failing assertion, writes the end of these
 * services' logs to stderr.
 */
export function printLogsIfFailed(stack: TestStack | undefined, services: string[], lines = 40): void {
  const state = expect.getState();
  if (!stack || state.assertionCalls === state.numPassingAsserts) return;
  for (const s of services) process.stderr.write(`--- ${s} log ---\n${logTail(stack, s, lines)}\n`);
}
