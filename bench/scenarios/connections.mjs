// Scenario "connections": what an idle authenticated connection costs the process that holds the
// sockets (stack: the gateway; socket.io: its server; ejabberd: the beam; ws: the server), and how
// many one such process holds (issue 12, scenario 3; goal for the stack: 10,000, ≤ 16 KB each).
//
// Per target: --count users (10,000; --quick 1,000) provisioned first. After a settle the RSS of
// the fan-out process group (instance.fanoutGroup) is read with no client connected; then idle
// connections, each authenticated as its own user and doing nothing else, are opened in steps
// (1,000, 2,000, 5,000, 10,000, capped at --count; --concurrency at once) and the RSS is read again
// after each step and a settle. Bytes per connection = (RSS now − RSS at 0) / connections. The
// ramp stops at the first step with a failed connection, or where a connection opened earlier was
// dropped: the most held and the failure kinds are the result.
//
// RSS is read from /proc (VmRSS). A target may offer instance.collectGarbage() (an optional hook
// outside the target contract; socket.io has it) to force a full GC of its fan-out process before
// each reading; other targets are read as they are after the settle, so garbage held at the time
// (the user set-up before the 0 reading makes plenty) makes their per-connection figure noisy,
// possibly too low. Every client lives in this process (one descriptor each), so the count is
// capped at this process's open-file limit less a margin; the target's own limit is read and
// shown, since it is a likely reason for a limit below the count.
import fs from 'node:fs';
import { now, procRss, sleep } from '../lib.mjs';
import { errorKinds, fdLimit, groupMeter, kindsText, pool } from '../suite/loadgen.mjs';
import { bytes, cpuCell, f0, statusRow } from '../suite/report.mjs';

const GOAL_CONNECTIONS = 10_000;
const GOAL_BYTES = 16 * 1024;

/** The soft open-file limit of another process (/proc/<pid>/limits), or null. */
function fdLimitOf(pid) {
  try {
    const m = /^Max open files\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return null;
  }
}

/** Open descriptors of a process, or null (another user's process). */
function openFiles(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** The ramp's steps: the standard ones below `count`, then `count`. */
export function rampSteps(count, standard = [1000, 2000, 5000, 10000]) {
  const steps = standard.filter((n) => n < count);
  steps.push(count);
  return steps;
}

export default {
  name: 'connections',
  description: 'idle authenticated connections: bytes each in the fan-out process, and the most one process holds',
  defaultTargets: ['stack', 'ws', 'socketio', 'ejabberd'],
  options: {
    count: { type: 'string', help: 'connections: the most to open (default 10000; --quick 1000); steps 1000, 2000, 5000, 10000 below it' },
    settle: { type: 'string', help: 'connections: seconds to wait before each memory reading (default 5; --quick 2)' },
    concurrency: { type: 'string', help: 'connections (and joins) being opened at once (default 200)' },
  },

  async run({ targets, opts, ctx, progress }) {
    const quick = opts.quick;
    const P = {
      count: ctx.int('count', quick ? 1000 : 10_000, 1),
      settle: ctx.int('settle', quick ? 2 : 5, 0),
      concurrency: ctx.int('concurrency', 200, 1),
    };
    // This process holds every client socket (one descriptor each) plus its own few; it cannot
    // raise its own limit (Node has no setrlimit), so the count is capped instead and says so.
    const ownLimit = fdLimit();
    if (ownLimit !== null && ownLimit - 300 < P.count) {
      ctx.warn(
        `the load generator's open-file limit is ${ownLimit}: count capped at ${ownLimit - 300} (run under \`ulimit -n <higher>\` for more)`,
      );
      P.count = Math.max(1, ownLimit - 300);
    }
    const steps = rampSteps(P.count);
    const head = [
      'target',
      'connections',
      'opened in s',
      'per s',
      'failed',
      'fan-out RSS',
      'Δ per connection',
      'target RSS',
      'its open files',
      'CPU % while opening',
    ];
    const rows = [];
    const summaryHead = [
      'target',
      'fan-out process',
      'its fd limit',
      'RSS at 0',
      'RSS at most',
      'bytes per connection',
      'GC forced',
      'most held',
      'stopped because',
      `goal (${f0(GOAL_CONNECTIONS)}, ≤ ${GOAL_BYTES / 1024} KB)`,
    ];
    const summary = [];
    const json = { params: { ...P, steps, loadgenFdLimit: ownLimit }, targets: {} };
    progress.plan(targets.length);

    for (const target of targets) {
      const res = await ctx.withTarget(target, async (inst) => {
        const t = { steps: [] };
        const group = inst.fanoutGroup;
        const fanPids = () => inst.processes()[group] ?? [];
        // A target may offer a full GC of its fan-out process (stack, ws, socket.io do); others are read as
        // they are, after the settle.
        const gc = typeof inst.collectGarbage === 'function';
        t.gcForced = gc;
        const fanRss = () => fanPids().reduce((a, p) => a + (procRss(p) ?? 0), 0);
        const settle = async () => {
          await sleep(P.settle * 1000);
          if (!gc) return;
          await inst.collectGarbage();
          await sleep(300); // freed pages go back to the system in the background
        };
        const allRss = () =>
          Object.values(inst.processes())
            .flat()
            .reduce((a, p) => a + (procRss(p) ?? 0), 0);
        const fanFiles = () => fanPids().reduce((a, p) => a + (openFiles(p) ?? 0), 0);
        if (!fanPids().length) throw new Error(`no process in the fan-out group "${group}"`);
        t.fanoutGroup = group;
        t.fdLimit = Math.min(...fanPids().map((p) => fdLimitOf(p) ?? Infinity));
        if (t.fdLimit < P.count + 50)
          ctx.log(`${target.name}: its ${group} process may open ${t.fdLimit} files, below the ${f0(P.count)} asked for`);

        progress(`provisioning ${f0(P.count)} users`);
        const users = await inst.users(P.count, `con${Date.now().toString(36)}_`);
        progress('settling (0 connections)');
        await settle();
        t.rss0 = fanRss();
        t.allRss0 = allRss();
        rows.push([target.name, '0', '-', '-', '-', bytes(t.rss0), '-', bytes(t.allRss0), f0(fanFiles()), '-']);

        const clients = [];
        // Closes not asked for: a connection the target dropped after it was open.
        let dropped = 0;
        let stopped = `held all ${f0(P.count)} asked for`;
        try {
          for (const n of steps) {
            if (ctx.interrupted()) break;
            const from = clients.length;
            progress(`opening connections ${f0(from)} → ${f0(n)}`);
            const meter = groupMeter(inst.processes);
            const t0 = now();
            const opened = await pool(users.slice(from, n), P.concurrency, (u) => inst.connect(u, { onMessage: () => undefined }));
            const secs = (now() - t0) / 1000;
            const m = meter();
            const errors = opened.filter((c) => c?.error).map((c) => c.error);
            for (const c of opened) if (!c?.error) clients.push(c);
            progress(`settling (${f0(clients.length)} connections)`);
            await settle();
            // Targets whose client says whether it is still connected (socket.io) show drops.
            const alive = clients.filter((c) => c.connected !== false).length;
            dropped = clients.length - alive;
            const rss = fanRss();
            const step = {
              asked: n,
              connections: alive,
              openedS: secs,
              failed: errors.length,
              errors: errorKinds(errors),
              dropped,
              fanoutRss: rss,
              perConnection: alive ? (rss - t.rss0) / alive : null,
              targetRss: allRss(),
              openFiles: fanFiles(),
              meter: m,
            };
            t.steps.push(step);
            rows.push([
              target.name,
              f0(alive) + (dropped ? ` (${f0(dropped)} dropped)` : ''),
              secs.toFixed(1),
              f0((n - from - errors.length) / secs),
              errors.length ? `${f0(errors.length)}: ${kindsText(step.errors)}` : '0',
              bytes(rss),
              step.perConnection === null ? '-' : bytes(step.perConnection),
              bytes(step.targetRss),
              f0(step.openFiles),
              `${cpuCell(m)} · loadgen ${m.loadgen}`,
            ]);
            if (errors.length || dropped) {
              stopped = [
                errors.length ? `${f0(errors.length)} failed: ${kindsText(step.errors)}` : null,
                dropped ? `${f0(dropped)} dropped` : null,
              ]
                .filter(Boolean)
                .join('; ');
              break;
            }
          }
        } finally {
          for (const c of clients) c.close();
          await sleep(500);
        }
        const held = t.steps.length ? t.steps[t.steps.length - 1] : null;
        // The figure per connection: at the largest count reached with every connection still open
        // (a failing step's extra memory is partly half-open handshakes).
        const clean = [...t.steps].reverse().find((s) => !s.failed && !s.dropped) ?? held;
        t.most = t.steps.reduce((a, s) => Math.max(a, s.connections), 0);
        t.perConnection = clean?.perConnection ?? null;
        t.rssAtMost = clean?.fanoutRss ?? null;
        t.stopped = stopped;
        return t;
      });
      json.targets[target.name] = res;
      if (!res.ok) {
        rows.push(statusRow(head, res));
        summary.push(statusRow(summaryHead, res));
        continue;
      }
      const v = res.value;
      const met = v.most >= GOAL_CONNECTIONS && v.perConnection !== null && v.perConnection <= GOAL_BYTES;
      summary.push([
        target.name,
        v.fanoutGroup,
        Number.isFinite(v.fdLimit) ? f0(v.fdLimit) : 'unlimited',
        bytes(v.rss0),
        bytes(v.rssAtMost),
        v.perConnection === null ? '-' : `${f0(v.perConnection)} B`,
        v.gcForced ? 'yes' : 'no',
        f0(v.most),
        v.stopped,
        // The goal is the stack's; a peer is shown against it in brackets.
        target.kind === 'stack' ? (met ? 'MET' : 'not met') : met ? '(would meet)' : '(would not)',
      ]);
    }

    return {
      tables: [
        { title: `Ramp (idle authenticated connections, one user each; ${P.settle} s settle before each reading)`, head, rows },
        { title: 'Per connection and most held', head: summaryHead, rows: summary },
      ],
      notes: [
        'RSS is VmRSS of the fan-out process group; where "GC forced" is no it includes whatever garbage the runtime holds at the time of reading (the set-up before the 0 reading makes plenty), so a small or even negative difference is noise; bytes per connection = (RSS − RSS at 0) / connections at the largest clean step',
        'the ramp stops at the first failed or dropped connection, or at --count; "most held" is then the limit on this machine and "stopped because" its reason',
        `the load generator (this process) holds every client socket; its open-file limit is ${ownLimit ?? 'unknown'}`,
      ],
      json,
    };
  },
};
