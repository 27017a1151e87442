// `npm test`: the whole suite. Makes sure NATS and Postgres are up (starting local ones when
// absent), builds (the e2e tests run the built services as separate processes and load the
// bundled web client), type-checks
// the sources and tests, lints module boundaries, then runs unit, integration and e2e tests in one Jest run.
// The last line is "N passed, N failed" for CI.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import infra from './infra.cjs';
const { ensureNats, ensurePostgres, root } = infra;

const log = (m) => console.log(`[test] ${m}`);
const run = (cmd, args, env = process.env) => {
  log(`${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  return r.status ?? 1;
};

const natsUrl = await ensureNats(log);
const databaseUrl = await ensurePostgres(log, 'test');
const env = { ...process.env, NATS_URL: natsUrl, DATABASE_URL: databaseUrl };

if (run('npx', ['prettier', '--check', '--log-level=warn', '.']) !== 0) process.exit(1);
if (run('npx', ['tsc', '-b', 'tsconfig.build.json']) !== 0) process.exit(1);
// The web client: libs/client and apps/gateway/web bundled by esbuild into apps/gateway/public/bundle/.
if (run('node', ['scripts/build-web.mjs']) !== 0) process.exit(1);
if (run('npx', ['tsc', '-p', 'tsconfig.spec.json', '--noEmit']) !== 0) process.exit(1);
if (run('npx', ['tsc', '-p', 'apps/gateway/web/tsconfig.json']) !== 0) process.exit(1);
// Module boundaries (Nx tags): apps never import each other; contracts import nothing else.
// The Nx lint rule reads the project graph from Nx's cache and silently skips itself when
// there is none (a fresh clone), so compute the graph first.
const nxEnv = { ...env, NX_DAEMON: 'false' };
if (run('npx', ['nx', 'show', 'projects'], nxEnv) !== 0) process.exit(1);
if (run('npx', ['eslint', '--max-warnings=0', 'apps', 'libs', 'test'], nxEnv) !== 0) process.exit(1);

const report = path.join(os.tmpdir(), `jest-report-${process.pid}.json`);
const extra = process.argv.slice(2);
// Two cores: run test files two at a time; integration tests isolate themselves by namespace.
// --forceExit: a failing test that leaves a consumer or socket open must fail the run, not hang it.
const status = run('npx', ['jest', '--maxWorkers=2', '--forceExit', '--json', `--outputFile=${report}`, ...extra], env);
let summary = null;
try {
  summary = JSON.parse(fs.readFileSync(report, 'utf8'));
} catch {}
if (summary) {
  console.log(
    `\n${summary.numPassedTests} passed, ${summary.numFailedTests} failed` +
      (summary.numPendingTests ? `, ${summary.numPendingTests} skipped` : ''),
  );
}
process.exit(status);
