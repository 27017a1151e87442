// Scenario "ingest": many small rooms, every member connected and sending — how many messages per
// second one target accepts while latency stays bounded (issue 12, scenario 2; goal ≥ 10,000/s for
// the stack on one gateway).
//
// Per target: --rooms rooms (1,000; --quick 100) of --members members (5), one user and one
// connection per member, all in this process. Users, rooms, connections and joins are set up
// before anything is measured. Then an open-loop paced stream over all members (round robin, so
// every room gets messages from each of its members) is stepped up through --rates (msgs/s); each
// step has --warmup s unmeasured and --seconds s measured, then a drain. Stepping stops at the
// first step where the p99 of send→ack or send→delivery exceeds --bound-ms (1,000 ms), acks or
// deliveries fell behind the sends (below 90 %), or a send failed, was skipped (a member with
// --max-outstanding unacknowledged sends) or a delivery was lost.
// Figure: the highest acknowledged sends/s of a step that passed ("sustained"), with p50/p99 of
// send→ack and send→delivery (every member of the room but the sender) per step and the CPU of
// every process group of the target.
import { inBatches, now, sleep } from '../lib.mjs';
import { errorKinds, kindsText, paced, pool, Load } from '../suite/loadgen.mjs';
import { cpuCell, f0, ms, statusRow } from '../suite/report.mjs';

const GOAL = 10_000;

/** The sender index of a body `tag:sender:seq:…` (makeBody), or -1. Cheaper than parseBody. */
function senderOf(body) {
  const a = body.indexOf(':');
  if (a < 0) return -1;
  const b = body.indexOf(':', a + 1);
  return b < 0 ? -1 : Number(body.slice(a + 1, b));
}

/**
 * Retries the entries of `results` that are `{ error }` with fn(index), 10 at a time, up to
 * `times` rounds, replacing them in place; returns how many retries were made.
 */
async function retryFailed(results, fn, times = 2) {
  let retries = 0;
  for (let round = 0; round < times; round++) {
    const failed = results.map((r, i) => (r?.error ? i : -1)).filter((i) => i >= 0);
    if (!failed.length) break;
    retries += failed.length;
    await sleep(500);
    const again = await pool(failed, 10, (i) => fn(i));
    failed.forEach((i, k) => (results[i] = again[k]));
  }
  return retries;
}

export default {
  name: 'ingest',
  description: 'rooms of a few members, all sending: accepted messages/s until latency or errors rise',
  defaultTargets: ['stack', 'socketio', 'ejabberd'],
  options: {
    rooms: { type: 'string', help: 'ingest: rooms (default 1000; --quick 100)' },
    members: { type: 'string', help: 'ingest: members per room, each connected and sending (default 5)' },
    rates: { type: 'string', help: 'ingest: offered msgs/s, stepped up in order (default 250,500,1000,2000,4000,8000,12000,16000)' },
    seconds: { type: 'string', help: 'measured seconds per step / window (default 5; --quick 3)' },
    warmup: { type: 'string', help: 'unmeasured seconds before each measured window (default 1)' },
    'bound-ms': { type: 'string', help: 'ingest: stop stepping when p99 send→ack or send→delivery exceeds this (default 1000)' },
    'max-outstanding': { type: 'string', help: 'ingest: unacknowledged sends per member before a send is skipped (default 16)' },
    concurrency: { type: 'string', help: 'connections (and joins) being opened at once (default 200)' },
    'body-chars': { type: 'string', help: 'message body length (default 64)' },
  },

  async run({ targets, opts, ctx, progress }) {
    const quick = opts.quick;
    const P = {
      rooms: ctx.int('rooms', quick ? 100 : 1000, 1),
      members: ctx.int('members', 5, 2),
      rates: ctx.list('rates', [250, 500, 1000, 2000, 4000, 8000, 12000, 16000]),
      seconds: ctx.int('seconds', quick ? 3 : 5, 1),
      warmup: ctx.int('warmup', 1, 0),
      boundMs: ctx.int('bound-ms', 1000, 1),
      maxOutstanding: ctx.int('max-outstanding', 16, 1),
      concurrency: ctx.int('concurrency', 200, 1),
      bodyChars: ctx.int('body-chars', 64, 1),
    };
    const nClients = P.rooms * P.members;
    const head = [
      'target',
      'offered msg/s',
      'sent msg/s',
      'accepted msg/s',
      'deliveries/s',
      'ack p50/p99 ms',
      'delivery p50/p99 ms',
      'failed/skipped/lost',
      'CPU % of a core (target · loadgen · other)',
      'step',
    ];
    const rows = [];
    const summaryHead = [
      'target',
      'version',
      'sustained accepted msg/s',
      'at offered',
      'ack p99 ms',
      'delivery p99 ms',
      'stopped because',
      'most accepted msg/s (any step)',
      `goal ≥ ${f0(GOAL)}/s`,
    ];
    const summary = [];
    const json = { params: P, targets: {} };
    progress.plan(targets.length);

    for (const target of targets) {
      const res = await ctx.withTarget(target, async (inst) => {
        const t = { setup: {}, steps: [] };
        // Users, rooms, connections, joins: outside every measured window.
        progress(`provisioning ${f0(nClients)} users`);
        let t0 = now();
        const users = await inst.users(nClients, `ing${Date.now().toString(36)}_`);
        t.setup.usersS = (now() - t0) / 1000;
        progress(`creating ${f0(P.rooms)} rooms`);
        t0 = now();
        const rooms = await inBatches(
          Array.from({ length: P.rooms }, (_, r) => r),
          16,
          (r) => inst.room(users[r * P.members], `ingest-${r}`),
        );
        t.setup.roomsS = (now() - t0) / 1000;

        let load = null;
        let warmGot = 0; // warm-up messages received by the other members of their room
        progress(`connecting ${f0(nClients)} clients`);
        t0 = now();
        const connectOne = (u, i) =>
          inst.connect(u, {
            onMessage: (_room, body) => {
              if (typeof body !== 'string') return;
              if (body.startsWith('warm:')) {
                if (i % P.members !== 0 && body === `warm:${Math.floor(i / P.members)}`) warmGot++;
                return;
              }
              // Each member's own copy is not a delivery to count (the driver expects members - 1).
              if (load && senderOf(body) !== i) load.onBody(body);
            },
          });
        const clients = await pool(users, P.concurrency, connectOne);
        // Set-up is not what this scenario measures (join-storm does): a connection that failed
        // in the rush is tried again, a few at a time, up to twice; the count is reported.
        t.setup.connectRetries = await retryFailed(clients, (i) => connectOne(users[i], i));
        const connectErrors = clients.filter((c) => c?.error).map((c) => c.error);
        t.setup.connectS = (now() - t0) / 1000;
        const closeAll = () => clients.forEach((c) => !c?.error && c?.close?.());
        try {
          if (connectErrors.length)
            throw new Error(`${connectErrors.length} of ${nClients} connections failed: ${kindsText(errorKinds(connectErrors))}`);
          progress(`joining ${f0(P.rooms)} rooms`);
          t0 = now();
          const joinOne = (i) => clients[i].join(rooms[Math.floor(i / P.members)]);
          const joins = await pool(clients, P.concurrency, (_c, i) => joinOne(i));
          t.setup.joinRetries = await retryFailed(joins, joinOne);
          const joinErrors = joins.filter((j) => j?.error).map((j) => j.error);
          if (joinErrors.length) throw new Error(`${joinErrors.length} of ${nClients} joins failed: ${kindsText(errorKinds(joinErrors))}`);
          t.setup.joinS = (now() - t0) / 1000;
          ctx.log(
            `${target.name}: ${f0(nClients)} users ${t.setup.usersS.toFixed(1)} s, rooms ${t.setup.roomsS.toFixed(1)} s, connect ${t.setup.connectS.toFixed(1)} s, join ${t.setup.joinS.toFixed(1)} s (retried: ${t.setup.connectRetries} connects, ${t.setup.joinRetries} joins)`,
          );

          // Warm-up, outside the measured steps: the first member of every room sends one message
          // and every other member must get it. It checks the whole path before any figure is
          // taken, pays first-message costs, and tells whether the protocol acknowledges sends.
          progress('warm-up: one message per room');
          t0 = now();
          const warm = await pool(rooms, P.concurrency, (room, r) => clients[r * P.members].send(room, `warm:${r}`) ?? 'no ack');
          const hasAcks = warm.some((w) => w !== 'no ack' && !w?.error);
          const warmErrors = warm.filter((w) => w?.error).map((w) => w.error);
          if (warmErrors.length)
            throw new Error(`warm-up: ${warmErrors.length} of ${P.rooms} sends failed: ${kindsText(errorKinds(warmErrors))}`);
          const warmExpected = P.rooms * (P.members - 1);
          while (warmGot < warmExpected && now() - t0 < 60_000 && !ctx.interrupted()) await sleep(20);
          if (warmGot < warmExpected)
            throw new Error(`warm-up: ${f0(warmExpected - warmGot)} of ${f0(warmExpected)} deliveries missing after 60 s`);
          t.setup.warmS = (now() - t0) / 1000;
          t.setup.hasAcks = hasAcks;
          ctx.log(`${target.name}: warm-up (one message per room, all delivered) ${t.setup.warmS.toFixed(1)} s`);

          load = new Load({
            bodyChars: P.bodyChars,
            senders: clients.map((c, i) => {
              const room = rooms[Math.floor(i / P.members)];
              return { send: (body) => c.send(room, body), expect: P.members - 1 };
            }),
          });
          let best = null;
          let stopped = `every step passed (highest offered ${f0(P.rates[P.rates.length - 1])}/s)`;
          // The steps: --rates in order; when the very first one fails, halving steps below it
          // (down to --rates[0] / 8) so that a slow target still gets a figure.
          const queue = [...P.rates];
          let down = 0;
          while (queue.length) {
            const rate = queue.shift();
            if (ctx.interrupted()) break;
            progress(`${f0(rate)} msg/s offered`);
            const r = await paced(load, {
              rate,
              maxOutstanding: P.maxOutstanding,
              complete: 'ack',
              warmupS: P.warmup,
              seconds: P.seconds,
              processes: inst.processes,
              interrupted: ctx.interrupted,
            });
            // Without an acknowledgement in the protocol a send counts as accepted once written;
            // the delivery latency is then the only bound that says anything.
            const acks = hasAcks;
            const why = [];
            if (acks && !r.ackLatencyMs) why.push('no send acknowledged in the window');
            if (acks && r.ackLatencyMs?.p99 > P.boundMs) why.push(`ack p99 ${ms(r.ackLatencyMs.p99)} ms > ${P.boundMs}`);
            if (r.latencyMs.p99 !== null && r.latencyMs.p99 > P.boundMs) why.push(`delivery p99 ${ms(r.latencyMs.p99)} ms > ${P.boundMs}`);
            if (r.latencyMs.p99 === null) why.push('no deliveries');
            if (r.failedSends) why.push(`${f0(r.failedSends)} failed sends (${r.lastError})`);
            if (r.skippedSends) why.push(`${f0(r.skippedSends)} skipped sends`);
            if (r.lostDeliveries) why.push(`${f0(r.lostDeliveries)} deliveries lost`);
            // Acks or deliveries falling behind the sends within the window: a backlog that grows,
            // whatever the percentiles of this short window say.
            if (acks && r.ackedMsgsPerSec < 0.9 * r.sentMsgsPerSec)
              why.push(`accepted ${f0(r.ackedMsgsPerSec)}/s < 90 % of ${f0(r.sentMsgsPerSec)}/s sent`);
            if (r.deliveriesPerSec < 0.9 * r.sentMsgsPerSec * (P.members - 1))
              why.push(`delivered ${f0(r.deliveriesPerSec)}/s < 90 % of ${f0(r.sentMsgsPerSec * (P.members - 1))}/s due`);
            // A load generator that could not offer the rate is not the target's limit.
            const short = r.sentMsgsPerSec + r.skippedSends / r.seconds < 0.9 * rate;
            const pass = why.length === 0;
            if (short && pass) why.push(`load generator offered only ${f0(r.sentMsgsPerSec)}/s`);
            if (r.quiet) ctx.warn(`${target.name} ${f0(rate)} msg/s: ${r.quiet}`);
            t.steps.push({ rate, pass, why, ...r });
            rows.push([
              target.name,
              f0(rate),
              f0(r.sentMsgsPerSec),
              f0(r.ackedMsgsPerSec) + (acks ? '' : ' (written)'),
              f0(r.deliveriesPerSec),
              acks && r.ackLatencyMs ? `${ms(r.ackLatencyMs.p50)} / ${ms(r.ackLatencyMs.p99)}` : '-',
              `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)}`,
              `${f0(r.failedSends)}/${f0(r.skippedSends)}/${f0(r.lostDeliveries)}`,
              `${cpuCell(r.meter)} · loadgen ${r.meter?.loadgen ?? '-'} · other ${r.meter?.other ?? '-'}`,
              pass ? (short ? 'pass (rate not offered)' : 'pass') : 'fail',
            ]);
            if (pass && (!best || r.ackedMsgsPerSec > best.ackedMsgsPerSec)) best = { rate, ...r };
            if (!pass) {
              if (!best && down < 3 && rate > 1) {
                down++;
                queue.length = 0;
                queue.push(Math.max(1, Math.floor(rate / 2)));
                stopped = `${f0(rate)}/s: ${why.join(', ')}`;
                continue;
              }
              stopped = `${f0(rate)}/s: ${why.join(', ')}`;
              break;
            }
            if (down) break; // the higher rate failed before: this is the sustained one
            if (short) {
              stopped = `load generator limit at ${f0(rate)}/s offered (sent ${f0(r.sentMsgsPerSec)}/s; loadgen CPU ${r.meter?.loadgen}%)`;
              break;
            }
          }
          t.best = best;
          t.stopped = stopped;
          return t;
        } finally {
          closeAll();
          await sleep(500);
        }
      });
      json.targets[target.name] = res;
      if (!res.ok) {
        rows.push(statusRow(head, res));
        summary.push(statusRow(summaryHead, res));
        continue;
      }
      const b = res.value.best;
      const met = !!b && b.ackedMsgsPerSec >= GOAL;
      summary.push([
        target.name,
        res.version ?? '-',
        b ? f0(b.ackedMsgsPerSec) : '0',
        b ? f0(b.rate) : '-',
        b?.ackLatencyMs ? ms(b.ackLatencyMs.p99) : '-',
        b ? ms(b.latencyMs.p99) : '-',
        res.value.stopped,
        f0(Math.max(0, ...res.value.steps.map((x) => x.ackedMsgsPerSec))),
        // The goal is the stack's; a peer is shown against it in brackets.
        target.kind === 'stack' ? (met ? 'MET' : 'not met') : met ? '(would meet)' : '(would not)',
      ]);
    }

    return {
      tables: [
        {
          title: `Steps: ${f0(P.rooms)} rooms × ${P.members} members (${f0(nClients)} connections), ${P.warmup} s warm-up + ${P.seconds} s per step`,
          head,
          rows,
        },
        {
          title: `Sustained: the highest accepted msg/s of a step with p99 ≤ ${f0(P.boundMs)} ms and no failed, skipped or lost message`,
          head: summaryHead,
          rows: summary,
        },
      ],
      notes: [
        'accepted = sends the server acknowledged (stack: message.send reply; socket.io: ack callback); "(written)" where the protocol has no acknowledgement',
        `delivery = send → receipt by each other member of the room (${P.members - 1} per message); the sender's own copy is not counted`,
        'the load generator (every client) runs in this process on the same machine: its CPU column says when it, not the target, is the limit',
        `the goal (≥ ${f0(GOAL)}/s) is the stack's; peers are shown against it for comparison`,
      ],
      json,
    };
  },
};
