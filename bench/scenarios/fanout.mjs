// Scenario "fanout": N receivers in one room, a few senders (room members too), per target:
//  1. saturation: a closed loop — each sender keeps `--window` messages outstanding (sent, not yet
//     received by every receiver) and sends the next as soon as one completes: the highest rate
//     the target sustains with bounded queues. Reported: deliveries/s (one delivery = one message
//     received by one receiver; the senders' own copies are not counted).
//  2. half load: every target again (started afresh) at one paced rate, half of the slowest
//     target's saturation message rate (or --rate): p50/p99 send-to-receive latency.
// With CPU % per process group, deliveries per CPU-second of the process that writes to the
// sockets and of the whole target, and the quiet-machine check of each measured window.
import { f0, inBatches, now } from '../lib.mjs';
import { closedLoop, Load, paced, targetCpu, targetRss } from '../suite/loadgen.mjs';
import { bytes, cpuCell, ms, statusRow } from '../suite/report.mjs';

const perDelivery = (n, deliveries) => (Number.isFinite(n) && deliveries > 0 ? Number((n / deliveries).toFixed(3)) : null);

/** Connects `size` receivers and `senders` senders of one room; closes what it opened on failure. */
async function setup(inst, { size, senders, progress, onBody }) {
  const users = await inst.users(size + senders, 'f');
  const room = await inst.room(users[size], 'fanout');
  const clients = [];
  const close = async () => {
    await Promise.all(clients.map(async (c) => c.close()));
  };
  try {
    let done = 0;
    const receivers = await inBatches(users.slice(0, size), 8, async (u) => {
      const c = await inst.connect(u, { onMessage: (_room, body) => onBody(body) });
      clients.push(c);
      await c.join(room);
      if (++done % 50 === 0) progress(`${size} receivers: ${done} connected and joined`);
      return c;
    });
    const senderClients = [];
    for (const u of users.slice(size)) {
      // Senders get every message too (they are members), parsed by their client, not counted.
      const c = await inst.connect(u, { onMessage: () => undefined });
      clients.push(c);
      await c.join(room);
      senderClients.push(c);
    }
    return { room, receivers, senderClients, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

async function part(inst, { name, kind, size, rate, o, ctx, progress }) {
  let load = null; // made once the senders are connected; receivers' bodies before that are ignored
  progress(`${size} receivers: connecting`);
  const t0 = now();
  const s = await setup(inst, { size, senders: o.senders, progress, onBody: (body) => load?.onBody(body) });
  const setupSeconds = (now() - t0) / 1000;
  try {
    load = new Load({
      senders: s.senderClients.map((c) => ({ send: (body) => c.send(s.room, body), expect: size })),
      bodyChars: o.bodyChars,
    });
    const label = kind === 'saturation' ? `${size} receivers: saturation` : `${size} receivers: ${f0(rate)} msg/s`;
    progress(`${label} (warm-up ${o.warmup} s)`);
    const common = {
      warmupS: o.warmup,
      seconds: o.seconds,
      processes: inst.processes,
      interrupted: ctx.interrupted,
      onTick: ({ delivered, secs }) => progress(`${label}: ${f0(delivered / secs)} deliveries/s, ${Math.round(secs)}/${o.seconds} s`),
    };
    const r =
      kind === 'saturation'
        ? await closedLoop(load, { ...common, window: o.window })
        : await paced(load, { ...common, rate, maxOutstanding: o.maxOutstanding });
    if (r.quiet) ctx.warn(`${name} ${label}: ${r.quiet}`);
    const fan = r.meter.cpu[inst.fanoutGroup] ?? null;
    const all = targetCpu(r.meter);
    r.setupSeconds = setupSeconds;
    r.efficiency = {
      fanoutGroup: inst.fanoutGroup,
      fanoutCpuPercent: fan,
      deliveriesPerFanoutCpuSecond: fan > 0 ? r.deliveriesPerSec / (fan / 100) : null,
      targetCpuPercent: all,
      deliveriesPerTargetCpuSecond: all > 0 ? r.deliveriesPerSec / (all / 100) : null,
      targetRssBytes: targetRss(r.meter),
      // Socket syscalls per delivery: 1 means one write per frame; below 1, frames were coalesced
      // (written or read several at a time).
      fanoutWritesPerDelivery: perDelivery(r.meter.io[inst.fanoutGroup]?.syscw, r.deliveriesPerSec * r.seconds),
      loadgenReadsPerDelivery: perDelivery(r.meter.loadgenIo?.syscr, r.deliveriesPerSec * r.seconds),
    };
    return r;
  } finally {
    progress('closing clients');
    await s.close();
  }
}

export default {
  name: 'fanout',
  description: 'N receivers in one room: saturation deliveries/s, p50/p99 at half the slowest target’s rate',
  defaultTargets: ['stack', 'ws', 'ws-coalesced', 'socketio', 'ejabberd'],
  options: {
    sizes: { type: 'string', help: 'receivers in the room, comma-separated, one run each (default 200,2000; --quick 50)' },
    senders: { type: 'string', help: 'sending clients, room members too (default 16; --quick 4)' },
    seconds: { type: 'string', help: 'measured seconds per part (default 10; --quick 3)' },
    warmup: { type: 'string', help: 'seconds sent before each measured window (default 2; --quick 1)' },
    window: { type: 'string', help: 'saturation: messages each sender keeps outstanding (default 8, at most 200)' },
    rate: { type: 'string', help: 'half-load rate in msg/s instead of half the slowest target’s saturation rate' },
    'max-outstanding': { type: 'string', help: 'half load: a sender with this many outstanding skips a send (default 200)' },
    'body-chars': { type: 'string', help: 'message body length (default 64)' },
  },

  async run({ targets, opts, ctx, progress }) {
    const q = ctx.quick;
    const o = {
      sizes: ctx.list('sizes', q ? [50] : [200, 2000]),
      senders: ctx.int('senders', q ? 4 : 16, 1),
      seconds: ctx.int('seconds', q ? 3 : 10, 1),
      warmup: ctx.int('warmup', q ? 1 : 2, 0),
      window: ctx.int('window', 8, 1),
      rate: opts.rate === undefined ? null : ctx.int('rate', null, 1),
      maxOutstanding: ctx.int('max-outstanding', 200, 1),
      bodyChars: ctx.int('body-chars', 64, 32),
    };
    // Below the gateway's WS_MAX_INFLIGHT (256): beyond it requests are refused, not queued.
    if (o.window > 200 || o.maxOutstanding > 200)
      throw new Error('--window and --max-outstanding must be at most 200 (the gateway refuses more than 256 requests in flight)');
    progress.plan(o.sizes.length * targets.length * 2);

    const head = [
      'receivers',
      'part',
      'target',
      'offered msg/s',
      'sent msg/s',
      'deliveries/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'lost',
      'failed/skipped',
      'CPU % per group',
    ];
    const effHead = [
      'receivers',
      'part',
      'target',
      'fan-out group',
      'its CPU %',
      'deliveries per its CPU-s',
      'target CPU %',
      'deliveries per target CPU-s',
      'target RSS',
      'write syscalls/delivery',
      'loadgen reads/delivery',
    ];
    const rows = [];
    const effRows = [];
    const json = { parameters: o, sizes: {} };
    const notes = [];

    for (const size of o.sizes) {
      if (ctx.interrupted()) break;
      const sat = [];
      for (const t of targets) {
        if (ctx.interrupted()) break;
        sat.push(await ctx.withTarget(t, (inst) => part(inst, { name: t.name, kind: 'saturation', size, o, ctx, progress })));
      }
      const ok = sat.filter((r) => r.ok);
      const slowest = ok.length ? ok.reduce((a, b) => (b.value.sentMsgsPerSec < a.value.sentMsgsPerSec ? b : a)) : null;
      const rate = o.rate ?? (slowest ? Math.max(1, Math.round(slowest.value.sentMsgsPerSec / 2)) : null);
      const half = [];
      for (const [i, t] of targets.entries()) {
        if (ctx.interrupted()) break;
        if (!sat[i]?.ok || rate === null) {
          half.push(sat[i] ?? { name: t.name, ok: false, failed: 'interrupted' });
          progress.pass();
          continue;
        }
        half.push(await ctx.withTarget(t, (inst) => part(inst, { name: t.name, kind: 'paced', size, rate, o, ctx, progress })));
      }
      json.sizes[size] = {
        halfRate: rate,
        halfRateFrom: o.rate ? '--rate' : (slowest?.name ?? null),
        saturation: Object.fromEntries(sat.map((r) => [r.name, r])),
        half: Object.fromEntries(half.map((r) => [r.name, r])),
      };
      const partRows = (label, results) => {
        for (const res of results) {
          if (!res.ok) {
            rows.push(statusRow(head, res, [f0(size), label]));
            continue;
          }
          const r = res.value;
          rows.push([
            f0(size),
            label,
            res.name,
            r.offeredMsgsPerSec === null ? `window ${r.window}/sender` : f0(r.offeredMsgsPerSec),
            f0(r.sentMsgsPerSec),
            f0(r.deliveriesPerSec),
            ms(r.latencyMs.p50),
            ms(r.latencyMs.p99),
            ms(r.latencyMs.max),
            f0(r.lostDeliveries),
            `${r.failedSends}/${r.skippedSends}`,
            `${cpuCell(r.meter)} | loadgen ${r.meter.loadgen} | other ${r.meter.other}`,
          ]);
          effRows.push([
            f0(size),
            label,
            res.name,
            r.efficiency.fanoutGroup,
            f0(r.efficiency.fanoutCpuPercent),
            f0(r.efficiency.deliveriesPerFanoutCpuSecond),
            f0(r.efficiency.targetCpuPercent),
            f0(r.efficiency.deliveriesPerTargetCpuSecond),
            bytes(r.efficiency.targetRssBytes),
            r.efficiency.fanoutWritesPerDelivery ?? '-',
            r.efficiency.loadgenReadsPerDelivery ?? '-',
          ]);
        }
      };
      partRows('saturation', sat);
      partRows(rate === null ? 'half load' : `half load (${f0(rate)} msg/s${o.rate ? '' : `, ½ of ${slowest.name}`})`, half);
      for (const res of [...sat, ...half])
        if (res.ok && res.value.ackLatencyMs)
          notes.push(
            `${size} receivers, ${res.name}, ${res.value.kind === 'saturation' ? 'saturation' : 'half load'}: send→ack p50 ${ms(res.value.ackLatencyMs.p50)} / p99 ${ms(res.value.ackLatencyMs.p99)} ms`,
          );
      const stackSat = sat.find((r) => r.ok && r.name === 'stack');
      const stackHalf = half.find((r) => r.ok && r.name === 'stack');
      for (const base of ['ws', 'ws-coalesced']) {
        const bs = sat.find((r) => r.ok && r.name === base);
        const bh = half.find((r) => r.ok && r.name === base);
        if (stackSat && bs)
          notes.push(
            `${size} receivers: stack/${base} saturation deliveries/s = ${(stackSat.value.deliveriesPerSec / bs.value.deliveriesPerSec).toFixed(2)}` +
              (stackHalf && bh && bh.value.latencyMs.p99
                ? `; stack/${base} p99 at half load = ${(stackHalf.value.latencyMs.p99 / bh.value.latencyMs.p99).toFixed(2)}`
                : ''),
          );
      }
    }
    notes.push(
      'a delivery is one message received by one receiver (senders are members and get every message too, not counted); saturation is a closed loop (window per sender, a message is outstanding until every receiver has it), half load an open-loop paced stream, each target started afresh for it.',
      'CPU % is of one core per process group (nats and postgres are the shared daemons: anything else using them counts); the load generator (all clients, one Node process) shares the machine with the target.',
    );
    return {
      tables: [
        { title: 'Throughput and latency', head, rows },
        { title: 'Cost', head: effHead, rows: effRows },
      ],
      notes,
      json,
    };
  },
};
