// The benchmark suite's runner: `node bench/run.mjs [scenario ...] [--targets a,b] [--quick] [--out F]`
// (npm run bench builds first). Without a scenario it runs the default set (DEFAULT_SET below, with
// smaller sizes so that it takes a few minutes); `--list` shows the scenarios and targets found,
// `--help` every option. Prints one table per scenario and writes all results as JSON to
// bench/results/suite-<date>.json (or --out).
//
// ─── Scenario interface ─────────────────────────────────────────────────────────────────────────
// bench/scenarios/<name>.mjs has a default export:
//
//   export default {
//     name: 'fanout',                       // the command-line name (= the file name)
//     description: 'one line for --list and the report',
//     defaultTargets: ['stack', 'ws', ...], // run when --targets is not given (names of bench/targets/*.mjs)
//     options: {                            // node:util parseArgs options, all type 'string' or 'boolean',
//       sizes: { type: 'string', help: 'receivers per room, comma-separated (default 200,2000; --quick 50)' },
//     },                                    // + `help` (shown by --help). Options are one flat namespace
//                                           // shared by all scenarios: the same name means the same thing.
//                                           // Give no parseArgs `default`; apply defaults (and --quick ones)
//                                           // in run(), so that "not given" stays visible.
//     async run({ targets, opts, ctx, progress }) {
//       ...
//       return {
//         table: { head: [...], rows: [[...], ...] },        // the scenario's table (or `tables`:
//         tables: [{ title, head, rows }],                   //   several, each with a title)
//         notes: ['how to read it', ...],                    // printed under the table(s)
//         json: { ... },                                     // anything; lands in the suite JSON
//       };
//     },
//   };
//
// run() receives:
//   targets   the target modules to run, in order: each a bench/targets/<name>.mjs default export
//             (see the target interface in docs/benchmarks.md / the brief), or, when the file is
//             missing or fails to load, `{ name, unavailable: 'target not available' | 'cannot load: …' }`.
//             Pass them to ctx.withTarget, which handles both.
//   opts      { quick: boolean, <each of the scenario's options>: the string/boolean given or
//             undefined }. Values from DEFAULT_SET apply when the scenario runs as part of the
//             default set, the option is not on the command line and --quick is not given.
//   ctx       {
//     log(msg)             a log line above the progress line
//     quick                = opts.quick
//     tmpDir               a fresh directory for this scenario (removed after the run)
//     machine              lib.mjs machineInfo()
//     interrupted()        true after SIGINT/SIGTERM: stop driving and return what you have
//     int(name, def, min)  opts[name] as an integer (`1,000,000` and `1_000_000` accepted), def when absent
//     list(name, def)      opts[name] as a list of integers (`200,2000`; `2_000` for thousands), def when absent
//     warn(msg)            a warning printed with the scenario's table and kept in the JSON
//     async withTarget(target, fn)
//                          starts the target (target.start(tctx), tctx = { log, cleanups, tmpDir,
//                          quick }), calls fn(instance), then stops it (instance.stop(), then the
//                          clean-ups the target pushed, last first) however fn ends. Only one
//                          target runs at a time. Returns
//                            { name, ok: true, version, value }   fn's return value
//                            { name, ok: false, skipped: reason } target unavailable, or Skip thrown
//                                                                 by start() or fn
//                            { name, ok: false, failed: message } any other error (logged; the
//                                                                 suite goes on)
//                          Use report.mjs statusRow(head, res) for the row of a target that did not run.
//   }
//   progress(phase)  sets the phase shown on the progress line ("saturation 200 receivers", …).
//                    progress.plan(m) announces how many withTarget calls the scenario will make
//                    (default targets.length), for the line's "target j/m"; progress.pass() counts
//                    one planned run that is left out (e.g. a target that was skipped before).
//
// A scenario never starts a target by itself: withTarget is what keeps "one at a time" and the
// clean-up on errors and signals.
//
// ─── Target interface ───────────────────────────────────────────────────────────────────────────
// bench/targets/<name>.mjs (helpers beside them end in -server, -client, -config, -lib, -common, -smoke) has a
// default export:
//
//   { name, kind: 'stack' | 'baseline' | 'peer', keepsHistory, durable,
//     async start(ctx) -> instance }        ctx = { log, cleanups (push async fns), tmpDir, quick };
//                                           throws Skip(reason) when it cannot run on this machine
//   instance = {
//     version                               shown in the report ('ws 8.23.0, Node v20.20.2')
//     fanoutGroup                           the process group that writes to the client sockets
//     processes() -> { group: [pid] }       CPU/RSS/syscall accounting groups
//     wsUrl                                 informational
//     async users(n, prefix) -> [user]      n accounts, provisioned outside any measured window
//     async room(owner, name) -> room       a group room owned by `owner` that others may join
//     async connect(user, { onMessage }) -> client
//                                           an authenticated connection; onMessage(room, body,
//                                           rawBytes?) for every group message of a joined room,
//                                           `room` being the handle given to join()
//     async seedHistory(room, n, bodyOf, progress)   optional (keepsHistory): n messages, bodyOf(i)
//                                           for i = 1 (oldest) … n, bulk, outside measured time
//     async stop()
//   }
//   client = {
//     async join(room)                      resolves once the room's messages will be delivered
//     send(room, body) -> Promise | undefined   resolved on the server's acceptance where the
//                                           protocol acknowledges sends, else undefined
//     async history(room, { before = null, limit = 50 }) -> { bodies, next }   optional: newest
//                                           first; `next` is the cursor of the page before, or null
//     async oldest(room, { limit = 50 }) -> { bodies, next }   optional: the oldest `limit` messages
//     close()
//   }
// Bodies are strings the scenario builds (loadgen.mjs makeBody); targets pass them unchanged.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { killOwnChildren, lifecycle, machineInfo } from '../lib.mjs';
import { formatProgress, logLine, progress as showProgress, progressDone, Skip } from './loadgen.mjs';
import { printScenario, writeSuiteResult } from './report.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SCENARIO_DIR = path.join(here, '..', 'scenarios');
export const TARGET_DIR = path.join(here, '..', 'targets');

/**
 * `npm run bench` without a scenario: every scenario at sizes that keep the whole set to a few
 * minutes (the full sizes are each scenario's own defaults: `npm run bench -- fanout`, …).
 * A scenario listed here whose file is missing is reported as not available.
 */
export const DEFAULT_SET = [
  ['fanout', { sizes: '200', seconds: '5', warmup: '1' }],
  ['ingest', { rooms: '200' }],
  ['connections', { count: '2000' }],
  ['join-storm', {}],
  ['history', { messages: '1000000' }],
];

const GLOBAL_OPTIONS = {
  targets: { type: 'string', help: "comma-separated targets, instead of each scenario's default set" },
  quick: { type: 'boolean', help: 'small sizes and short windows (a smoke test, not a measurement)' },
  out: { type: 'string', help: 'JSON result file (default bench/results/suite-<date>.json)' },
  profile: {
    type: 'string',
    help: 'write V8 CPU profiles (.cpuprofile) of every Node process the targets start (services, servers) to DIR',
  },
  list: { type: 'boolean', help: 'list the scenarios and targets found, and exit' },
  help: { type: 'boolean', help: 'this help' },
};

/** Names of the .mjs files of a directory (without the extension), sorted. Files ending in -server/-client and helpers are not modules of the suite, see isModuleFile. */
function moduleNames(dir, isModule) {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.mjs'))
      .map((f) => f.slice(0, -4))
      .filter(isModule)
      .sort();
  } catch {
    return [];
  }
}

/** Loads a scenario module; null when its file is missing. */
export async function loadScenario(name) {
  const file = path.join(SCENARIO_DIR, `${name}.mjs`);
  if (!fs.existsSync(file)) return null;
  const mod = (await import(pathToFileURL(file).href)).default;
  if (!mod || typeof mod.run !== 'function') throw new Error(`${file}: no default export with run()`);
  return { name, options: {}, defaultTargets: [], description: '', ...mod };
}

/** Loads a target module; `{ name, unavailable }` when its file is missing or does not load. */
export async function loadTarget(name) {
  const file = path.join(TARGET_DIR, `${name}.mjs`);
  if (!fs.existsSync(file)) return { name, unavailable: 'target not available' };
  try {
    const mod = (await import(pathToFileURL(file).href)).default;
    if (!mod || typeof mod.start !== 'function') return { name, unavailable: `cannot load: ${file} has no default export with start()` };
    return { ...mod, name: mod.name ?? name };
  } catch (err) {
    return { name, unavailable: `cannot load: ${err?.message ?? err}` };
  }
}

/** A target file is a target unless it is a helper (servers, clients, configs the targets use). */
// xmpp-common (shared by the two XMPP targets) and xmpp-smoke (a stand-alone smoke script) are helpers too.
const isTargetFile = (n) => !/-(server|client|config|lib|common|smoke)$/.test(n);

/** The integer of an option value: `1,000,000`, `1_000_000` and `1e6` are accepted. */
export function parseIntOption(name, v, min = 0) {
  const n = Number(String(v).replace(/[,_]/g, ''));
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min} (got ${v})`);
  return n;
}

function helpText(scenarios) {
  const lines = ['usage: node bench/run.mjs [scenario ...] [--targets a,b] [--quick] [--out F] [options]', '', 'suite options:'];
  for (const [k, o] of Object.entries(GLOBAL_OPTIONS)) lines.push(`  --${k.padEnd(18)} ${o.help ?? ''}`);
  for (const s of scenarios) {
    lines.push('', `${s.name}: ${s.description} (default targets: ${s.defaultTargets.join(', ')})`);
    for (const [k, o] of Object.entries(s.options ?? {})) lines.push(`  --${k.padEnd(18)} ${o.help ?? ''}`);
  }
  lines.push(
    '',
    `default set (no scenario named): ${DEFAULT_SET.map(
      ([n, o]) =>
        n +
        Object.entries(o)
          .map(([k, v]) => ` --${k} ${v}`)
          .join(''),
    ).join('; ')}`,
  );
  return lines.join('\n');
}

export async function main(argv = process.argv.slice(2)) {
  const scenarioNames = moduleNames(SCENARIO_DIR, () => true);
  const targetNames = moduleNames(TARGET_DIR, isTargetFile);
  const all = [];
  for (const n of scenarioNames) all.push(await loadScenario(n));

  // One flat namespace of options: the suite's and every scenario's (parseArgs takes only its keys).
  const options = {};
  for (const [k, o] of Object.entries(GLOBAL_OPTIONS)) options[k] = { type: o.type };
  for (const s of all) for (const [k, o] of Object.entries(s.options ?? {})) options[k] ??= { type: o.type ?? 'string' };
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });

  if (values.help) {
    console.log(helpText(all));
    return;
  }
  if (values.list) {
    console.log('scenarios:');
    for (const s of all) console.log(`  ${s.name.padEnd(12)} ${s.description} (default targets: ${s.defaultTargets.join(', ')})`);
    console.log(`targets: ${targetNames.join(', ')}`);
    return;
  }

  if (values.profile) {
    // Profiles are written when a process exits normally (SIGTERM is handled by every service);
    // --cpu-prof is not allowed in NODE_OPTIONS, hence a preloaded module. Every target passes
    // this process's environment on to what it starts.
    process.env.BENCH_PROFILE_DIR = path.resolve(values.profile);
    fs.mkdirSync(process.env.BENCH_PROFILE_DIR, { recursive: true });
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(here, '..', 'cpu-profile.cjs')}`.trim();
  }

  const plan = positionals.length ? positionals.map((n) => [n, {}]) : DEFAULT_SET;
  for (const [n] of plan)
    if (!scenarioNames.includes(n) && positionals.length) throw new Error(`unknown scenario "${n}" (${scenarioNames.join(', ')})`);
  const targetList = values.targets
    ? values.targets
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : null;

  const started = new Date();
  const machine = machineInfo();
  const command = `node bench/run.mjs ${argv.join(' ')}`.trim();
  const { cleanups, interrupted, run } = lifecycle({ finally_: async () => killOwnChildren() });
  const result = { date: started.toISOString(), command, machine, scenarios: {} };
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-bench-suite-'));
  cleanups.push(async () => fs.rmSync(tmpRoot, { recursive: true, force: true }));

  await run(async () => {
    logLine(
      `[bench] ${machine.cpus} x ${machine.cpuModel}, ${machine.ramGiB} GiB, ${machine.os}, Node ${machine.node}, load average ${machine.loadavgAtStart.join(' ')}`,
    );
    const t0 = Date.now();
    const printed = [];
    for (let si = 0; si < plan.length && !interrupted(); si++) {
      const [name, setDefaults] = plan[si];
      const scenario = all.find((s) => s.name === name);
      if (!scenario) {
        result.scenarios[name] = { skipped: 'scenario not available' };
        printed.push(() => printScenario(name, { skipped: 'scenario not available' }));
        continue;
      }
      const opts = { quick: Boolean(values.quick) };
      // The default set's sizes give way to --quick (a smoke test of the whole set stays small).
      for (const k of Object.keys(scenario.options ?? {})) opts[k] = values[k] ?? (opts.quick ? undefined : setDefaults[k]);
      const names = targetList ?? scenario.defaultTargets;
      const targets = [];
      for (const n of names) targets.push(await loadTarget(n));

      // Progress line state of this scenario.
      const p = { scenario: name, si: si + 1, sn: plan.length, target: null, ti: 0, tn: targets.length, phase: 'starting' };
      let phaseT0 = Date.now();
      const draw = () =>
        showProgress(formatProgress({ ...p, phaseMs: Date.now() - phaseT0, totalMs: Date.now() - t0 }), {
          key: formatProgress(p),
          major: `${p.si}/${p.ti}`,
        });
      const timer = setInterval(draw, 1000);
      timer.unref();
      const progress = (phase) => {
        p.phase = phase;
        phaseT0 = Date.now();
        draw();
      };
      progress.plan = (m) => void (p.tn = m);
      progress.pass = () => void p.ti++;

      const warnings = [];
      const versions = {};
      const tmpDir = fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
      const log = (m) => logLine(`[bench] ${name}: ${m}`);
      const ctx = {
        log,
        quick: opts.quick,
        tmpDir,
        machine,
        interrupted,
        int: (k, def, min = 0) => (opts[k] === undefined ? def : parseIntOption(k, opts[k], min)),
        list: (k, def) =>
          opts[k] === undefined
            ? def
            : String(opts[k])
                .split(',')
                .filter(Boolean)
                .map((v) => parseIntOption(k, v, 1)),
        warn: (m) => {
          warnings.push(m);
          log(`WARNING: ${m}`);
        },
        async withTarget(target, fn) {
          p.ti++;
          p.target = target.name;
          progress('starting target');
          if (target.unavailable) return { name: target.name, ok: false, skipped: target.unavailable };
          const tcleanups = [];
          const runCleanups = async () => {
            while (tcleanups.length)
              await tcleanups
                .pop()()
                .catch(() => undefined);
          };
          cleanups.push(runCleanups); // also on a signal
          const tctx = {
            log: (m) => logLine(`[bench] ${target.name}: ${m}`),
            cleanups: tcleanups,
            tmpDir: fs.mkdtempSync(path.join(tmpDir, `${target.name}-`)),
            quick: opts.quick,
          };
          let instance = null;
          try {
            instance = await target.start(tctx);
            if (instance?.version) versions[target.name] = instance.version;
            const value = await fn(instance);
            return { name: target.name, ok: true, version: instance?.version ?? null, value };
          } catch (err) {
            if (err instanceof Skip || err?.name === 'Skip') {
              log(`${target.name} skipped: ${err.message}`);
              return { name: target.name, ok: false, skipped: err.message, version: instance?.version ?? null };
            }
            if (interrupted()) return { name: target.name, ok: false, failed: 'interrupted' };
            log(`${target.name} failed: ${err?.stack ?? err}`);
            return { name: target.name, ok: false, failed: err?.message ?? String(err), version: instance?.version ?? null };
          } finally {
            progress('stopping target');
            if (instance) await instance.stop().catch((e) => log(`${target.name}: stop failed: ${e?.message ?? e}`));
            await runCleanups();
            const i = cleanups.indexOf(runCleanups);
            if (i >= 0) cleanups.splice(i, 1);
            p.target = null;
          }
        },
      };

      let out;
      const sT0 = Date.now();
      try {
        out = await scenario.run({ targets, opts, ctx, progress });
      } catch (err) {
        if (!interrupted()) log(`failed: ${err?.stack ?? err}`);
        out = { failed: err?.message ?? String(err) };
      } finally {
        clearInterval(timer);
      }
      const entry = {
        description: scenario.description,
        options: opts,
        targets: names,
        versions,
        seconds: (Date.now() - sT0) / 1000,
        warnings,
        ...out,
      };
      result.scenarios[name] = entry;
      progressDone();
      printScenario(name, entry);
      printed.push(() => printScenario(name, entry));
    }
    progressDone();
    if (plan.length > 1) {
      // Every table again, together, at the end (the log above them is long).
      console.log(`\n==== Benchmark suite — ${started.toISOString()} — ${command}`);
      console.log(`machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.ramGiB} GiB RAM, ${machine.os}, Node ${machine.node}`);
      for (const f of printed) f();
    }
    result.seconds = (Date.now() - t0) / 1000;
    const file = writeSuiteResult({ out: values.out, started, result });
    console.log(`\nresult written to ${file}`);
  });
}
