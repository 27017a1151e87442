// `npm start`: NATS and Postgres (started locally if absent), then the five services as
// separate processes; the web client is served by the gateway. Ctrl-C stops everything.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import infra from './infra.cjs';
const { ensureNats, ensurePostgres, root } = infra;
import stackLib from './stack.cjs';
const { DEFAULT_PORTS, startStack } = stackLib;

const log = (m) => console.log(`[start] ${m}`);

function jwtSecret() {
  if (process.env.JWT_SECRET) return process.env.JWT_SECRET;
  // A secret kept under .data so that tokens stay valid across restarts of a local stack.
  const file = path.join(root, '.data', 'jwt-secret');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(48).toString('base64url'), { mode: 0o600 });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

const natsUrl = await ensureNats(log);
const databaseUrl = await ensurePostgres(log);
const ports = { ...DEFAULT_PORTS, gateway: Number(process.env.GATEWAY_PORT || DEFAULT_PORTS.gateway) };
log(`NATS ${natsUrl}, Postgres ${databaseUrl.replace(/\/\/[^@]*@/, '//')}`);
const stack = await startStack({
  env: {
    NATS_URL: natsUrl,
    DATABASE_URL: databaseUrl,
    JWT_SECRET: jwtSecret(),
    NATS_NAMESPACE: process.env.NATS_NAMESPACE || 'chat',
  },
  ports,
  output: process.env.LOG_DIR || 'inherit',
});
log(`ready: open ${stack.urls.gateway.replace('127.0.0.1', 'localhost')}/ in a browser`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  log('stopping');
  await stack.stopAll();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const [name, p] of stack.procs) {
  p.child.on('exit', (code, signal) => {
    if (!stopping) log(`${name} exited (${code ?? signal}); the rest keeps running`);
  });
}
