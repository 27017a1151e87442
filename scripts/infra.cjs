// Makes sure NATS (with JetStream) and PostgreSQL are reachable, starting local ones when they
// are not: a `nats-server` from PATH with its JetStream data under .data/nats, and for Postgres
// the server binaries from PATH / Debian's layout (initdb + pg_ctl, data under .data/pg).
// Anything missing is reported with the exact package to install.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dataDir = path.join(root, '.data');

function reachable(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (v) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function waitFor(check, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000}s`);
}

function which(cmd, extraDirs = []) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...extraDirs]) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

function hostPort(url, defPort) {
  const u = new URL(url.split(',')[0].trim());
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defPort) };
}

/** Returns the NATS URL to use; starts nats-server -js when nothing listens there. */
async function ensureNats(log = console.log) {
  const url = process.env.NATS_URL || 'nats://127.0.0.1:4222';
  const { host, port } = hostPort(url, 4222);
  if (await reachable(host, port)) return url;
  if (process.env.NATS_URL) throw new Error(`NATS_URL=${url} is not reachable`);
  const bin = which('nats-server', ['/usr/sbin', '/usr/local/sbin']);
  if (!bin) throw new Error('NATS is not running on 127.0.0.1:4222 and no nats-server is on PATH: install it (Debian/Ubuntu: apt-get install nats-server; or a release from nats.io) or set NATS_URL');
  fs.mkdirSync(path.join(dataDir, 'nats'), { recursive: true });
  log(`starting ${bin} -js on ${port} (data in .data/nats)`);
  const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(dataDir, 'nats'), '-l', path.join(dataDir, 'nats.log')], { detached: true, stdio: 'ignore' });
  child.unref();
  await waitFor(() => reachable(host, port), 'nats-server');
  return url;
}

/** Returns the Postgres URL of the `chat` database; starts a local cluster when none listens. */
async function ensurePostgres(log = console.log, database = 'chat') {
  const given = process.env.DATABASE_URL;
  const url = given || `postgres://postgres@127.0.0.1:5432/${database}`;
  const { host, port } = hostPort(url, 5432);
  if (!(await reachable(host, port))) {
    if (given) throw new Error(`DATABASE_URL=${given} is not reachable`);
    await startLocalPostgres(port, log);
  }
  if (!given) await createDatabaseIfMissing(url, database);
  return url;
}

async function startLocalPostgres(port, log) {
  const pgBinDirs = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin`) : [];
  const initdb = which('initdb', pgBinDirs);
  const pgCtl = which('pg_ctl', pgBinDirs);
  if (!initdb || !pgCtl) {
    throw new Error('PostgreSQL is not running on 127.0.0.1:5432 and no server binaries were found: install PostgreSQL 15+ (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL');
  }
  const pgData = path.join(dataDir, 'pg');
  // initdb refuses to run as root; run it as the postgres user when we are root.
  const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (!fs.existsSync(path.join(pgData, 'PG_VERSION'))) {
    fs.mkdirSync(pgData, { recursive: true });
    if (asUser.length) execFileSync('chown', ['-R', 'postgres', dataDir]);
    log(`initialising a local PostgreSQL cluster in .data/pg`);
    execFileSync(asUser[0] ?? initdb, [...asUser.slice(1), ...(asUser.length ? [initdb] : []), '-D', pgData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], { stdio: 'inherit' });
  }
  log(`starting PostgreSQL on ${port}`);
  execFileSync(asUser[0] ?? pgCtl, [...asUser.slice(1), ...(asUser.length ? [pgCtl] : []), '-D', pgData, '-l', path.join(dataDir, 'pg.log'), '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1`, 'start'], { stdio: 'inherit' });
  await waitFor(() => reachable('127.0.0.1', port), 'PostgreSQL');
}

async function createDatabaseIfMissing(url, database) {
  const pg = require('pg');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (r.rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

module.exports = { root, reachable, ensureNats, ensurePostgres };
