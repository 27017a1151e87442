// Starts the five services as separate processes (as in production) from their built
// `dist/main.js`, waits until each reports ready, and stops them again. Used by `npm start`,
// the end-to-end tests and the benchmark.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { root } = require('./infra.cjs');

const SERVICES = ['moderation', 'rooms', 'history', 'presence', 'gateway'];
const DEFAULT_PORTS = { gateway: 3000, rooms: 3001, presence: 3002, history: 3003, moderation: 3004 };

async function ready(url) {
  try {
    const r = await fetch(`${url}/health/ready`);
    return r.status === 200;
  } catch {
    return false;
  }
}

/**
 * @param {object} o
 * @param {Record<string,string>} o.env      environment shared by all services (NATS_URL, DATABASE_URL, JWT_SECRET, ...)
 * @param {Record<string,number>} [o.ports]  HTTP port per service
 * @param {Record<string,Record<string,string>>} [o.serviceEnv] extra environment per service
 * @param {'inherit'|'pipe'|string} [o.output] 'inherit' (stdout), or a directory for one log file per service
 */
async function startStack({ env, ports = DEFAULT_PORTS, serviceEnv = {}, output = 'inherit', readyTimeoutMs = 60_000 }) {
  const procs = new Map();
  const urls = Object.fromEntries(SERVICES.map((s) => [s, `http://127.0.0.1:${ports[s]}`]));

  // `name` is the instance name (a service, or an extra instance such as 'gateway2').
  const spawnOne = (name, service = name, extraEnv = {}) => {
    const main = path.join(root, 'apps', service, 'dist', 'main.js');
    if (!fs.existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
    // The 'ipc' channel is how a service notices that this launcher died (see runMain).
    let stdio = ['inherit', 'inherit', 'inherit', 'ipc'];
    let logFd;
    if (output !== 'inherit') {
      fs.mkdirSync(output, { recursive: true });
      logFd = fs.openSync(path.join(output, `${name}.log`), 'a');
      stdio = ['ignore', logFd, logFd, 'ipc'];
    }
    const child = spawn(process.execPath, [main], {
      cwd: root,
      env: { ...process.env, ...env, ...serviceEnv[service], HTTP_PORT: String(ports[name]), ...extraEnv },
      stdio,
    });
    if (logFd !== undefined) fs.closeSync(logFd);
    // The channel alone must not keep the launcher running.
    child.channel?.unref();
    const entry = { name, service, extraEnv, child, exited: null };
    child.once('exit', (code, signal) => (entry.exited = { code, signal }));
    procs.set(name, entry);
    return entry;
  };

  const waitReady = async (name) => {
    const deadline = Date.now() + readyTimeoutMs;
    const entry = procs.get(name);
    while (Date.now() < deadline) {
      if (entry.exited) throw new Error(`${name} exited during start-up (${JSON.stringify(entry.exited)}); see its log`);
      if (await ready(urls[name])) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${name} was not ready within ${readyTimeoutMs / 1000}s`);
  };

  const stopOne = async (name, signal = 'SIGTERM') => {
    const entry = procs.get(name);
    if (!entry || entry.exited) return;
    const done = new Promise((r) => entry.child.once('exit', r));
    entry.child.kill(signal);
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  };

  const stack = {
    urls,
    procs,
    /** Stops one service (SIGTERM, or e.g. SIGKILL to simulate a crash). */
    stop: stopOne,
    async start(name) {
      const prev = procs.get(name);
      spawnOne(name, prev?.service ?? name, prev?.extraEnv ?? {});
      await waitReady(name);
    },
    /** Starts one more instance of a service (e.g. a second gateway) on its own port. */
    async startExtra(name, service, port, extraEnv = {}) {
      ports = { ...ports, [name]: port };
      urls[name] = `http://127.0.0.1:${port}`;
      spawnOne(name, service, extraEnv);
      await waitReady(name);
    },
    async restart(name, signal = 'SIGTERM') {
      await stopOne(name, signal);
      await stack.start(name);
    },
    async stopAll() {
      await Promise.all([...procs.keys()].reverse().map((n) => stopOne(n)));
    },
  };

  try {
    // Services do not depend on each other to start (streams are ensured by each), but the
    // gateway is started last so that it is ready only when everything behind it is.
    for (const name of SERVICES.slice(0, -1)) spawnOne(name);
    await Promise.all(SERVICES.slice(0, -1).map(waitReady));
    spawnOne('gateway');
    await waitReady('gateway');
  } catch (err) {
    await stack.stopAll();
    throw err;
  }
  return stack;
}

module.exports = { SERVICES, DEFAULT_PORTS, startStack };
