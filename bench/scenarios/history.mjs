// Scenario "history": one room with M messages (default 10 million), per target that keeps
// history: the newest page, the page before it (the cursor the newest page returned) and the
// deepest page (the oldest messages, through the target's own query for them), each timed end
// to end through the target's client (one call in flight, several repetitions: p50/p99).
// The room is filled by the target's seedHistory (bulk, outside the measured time: for the
// stack COPY into the history table); a target without seedHistory gets the messages sent
// through its client. Targets that keep no history get a row "n/a: keeps no history".
import { f0, latencyOf, now } from '../lib.mjs';
import { Skip } from '../suite/loadgen.mjs';
import { ms, statusRow } from '../suite/report.mjs';

/** Body i (from 1): `h<i>` first, so a page's bodies tell where it is, padded to about 64 characters. */
export const historyBody = (i) => `h${i} ` + 'history message of the benchmark, padded to a typical length'.slice(0, 60 - String(i).length);
const indexOf = (body) => Number(/^h(\d+) /.exec(body ?? '')?.[1] ?? NaN);

/** Sends n bodies through the client, `window` sends in flight when the protocol acknowledges them. */
async function seedBySending(client, room, n, progress, window = 64) {
  let next = 1;
  const t0 = now();
  const worker = async () => {
    while (next <= n) {
      const i = next++;
      const p = client.send(room, historyBody(i));
      if (p && typeof p.then === 'function') await p;
      else if (i % window === 0) await new Promise((r) => setImmediate(r));
      if (i % 10_000 === 0) progress(`seeding by sending: ${f0(i)} / ${f0(n)} (${f0(i / ((now() - t0) / 1000))}/s)`);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return { method: 'sent through the client', seconds: (now() - t0) / 1000 };
}

/** `reps` sequential calls of fn after 3 unmeasured ones; latency and the last result. */
async function timed(fn, reps, budgetMs) {
  for (let i = 0; i < 3; i++) await fn();
  const samples = [];
  let last = null;
  const t0 = now();
  for (let i = 0; i < reps; i++) {
    const t = now();
    last = await fn();
    samples.push(now() - t);
    if (now() - t0 > budgetMs && samples.length >= 3) break;
  }
  return { ...latencyOf(samples), last };
}

export default {
  name: 'history',
  description: 'newest, next older and deepest page of a room with M messages, through each target’s history query',
  defaultTargets: ['stack', 'ws', 'ws-coalesced', 'socketio', 'ejabberd'],
  options: {
    messages: { type: 'string', help: 'messages in the room (default 10,000,000; --quick 100,000)' },
    'page-calls': { type: 'string', help: 'timed calls per page kind (default 200; --quick 20)' },
    'page-size': { type: 'string', help: 'messages per page (default 50)' },
    'budget-seconds': { type: 'string', help: 'a page kind stops after this many seconds, with at least 3 calls (default 20)' },
  },

  async run({ targets, opts, ctx, progress }) {
    const q = ctx.quick;
    const o = {
      messages: ctx.int('messages', q ? 100_000 : 10_000_000, 100),
      pageCalls: ctx.int('page-calls', q ? 20 : 200, 1),
      pageSize: ctx.int('page-size', 50, 1),
      budgetSeconds: ctx.int('budget-seconds', 20, 1),
    };
    const head = [
      'target',
      'messages',
      'seeded in',
      'newest p50 ms',
      'newest p99 ms',
      'older p50 ms',
      'older p99 ms',
      'deepest p50 ms',
      'deepest p99 ms',
      'checks',
    ];
    const rows = [];
    const json = { parameters: o, targets: {} };
    const keeping = targets.filter((t) => t.unavailable || t.keepsHistory);
    progress.plan(keeping.length);

    for (const t of targets) {
      if (ctx.interrupted()) break;
      if (!t.unavailable && !t.keepsHistory) {
        rows.push(statusRow(head, { name: t.name, text: 'n/a: keeps no history' }));
        json.targets[t.name] = { ok: false, na: 'keeps no history' };
        continue;
      }
      const res = await ctx.withTarget(t, async (inst) => {
        progress('provisioning');
        const [owner] = await inst.users(1, 'h');
        const room = await inst.room(owner, 'history');
        let client = await inst.connect(owner, { onMessage: () => undefined });
        try {
          await client.join(room);
          if (typeof client.history !== 'function') throw new Skip('its client has no history query');
          progress(`seeding ${f0(o.messages)} messages`);
          const t0 = now();
          const seed = inst.seedHistory
            ? { method: 'seedHistory', load: await inst.seedHistory(room, o.messages, historyBody, progress) }
            : await seedBySending(client, room, o.messages, progress);
          seed.seconds = (now() - t0) / 1000;
          // A target may store fewer than asked (ejabberd on Mnesia caps its seed: its archive
          // slows down with every message of a room); pages are then checked against what it holds.
          const held = Number.isInteger(seed.load?.seeded) ? seed.load.seeded : o.messages;
          seed.held = held;
          if (held !== o.messages)
            ctx.warn(`${t.name}: ${f0(held)} of ${f0(o.messages)} messages seeded${seed.load?.note ? ` (${seed.load.note})` : ''}`);
          ctx.log(`${t.name}: ${f0(o.messages)} messages seeded in ${seed.seconds.toFixed(1)} s (${seed.method})`);
          // A bulk seed of millions takes minutes, in which a target may drop an idle connection
          // (the stack's did once): the pages are read on a fresh one.
          if (inst.seedHistory) {
            await client.close();
            client = await inst.connect(owner, { onMessage: () => undefined });
            await client.join(room);
          }
          const budget = o.budgetSeconds * 1000;
          const checks = [];
          progress('newest page');
          const newest = await timed(() => client.history(room, { before: null, limit: o.pageSize }), o.pageCalls, budget);
          const nb = newest.last.bodies;
          if (indexOf(nb[0]) !== held || nb.length !== o.pageSize)
            checks.push(`newest page starts at ${indexOf(nb[0])}, ${nb.length} messages`);
          let older = null;
          if (newest.last.next !== null && newest.last.next !== undefined) {
            progress('next older page');
            older = await timed(() => client.history(room, { before: newest.last.next, limit: o.pageSize }), o.pageCalls, budget);
            const ob = older.last.bodies;
            if (indexOf(ob[0]) !== held - o.pageSize) checks.push(`older page starts at ${indexOf(ob[0])}`);
          } else checks.push('newest page has no cursor to older messages');
          let deepest = null;
          if (typeof client.oldest === 'function') {
            progress('deepest page');
            deepest = await timed(() => client.oldest(room, { limit: o.pageSize }), o.pageCalls, budget);
            const idx = deepest.last.bodies.map(indexOf);
            if (!idx.includes(1) || idx.length !== o.pageSize)
              checks.push(`deepest page holds ${idx.length} messages, ${idx.includes(1) ? '' : 'not '}the first`);
          } else checks.push('no oldest-page query');
          const strip = (x) => x && { ...x, last: undefined };
          return { seed, newest: strip(newest), older: strip(older), deepest: strip(deepest), checks };
        } finally {
          await client.close();
        }
      });
      json.targets[t.name] = res;
      if (!res.ok) {
        rows.push(statusRow(head, res));
        continue;
      }
      const v = res.value;
      rows.push([
        t.name,
        f0(v.seed.held),
        `${v.seed.seconds.toFixed(0)} s`,
        ms(v.newest.p50),
        ms(v.newest.p99),
        ms(v.older?.p50),
        ms(v.older?.p99),
        ms(v.deepest?.p50),
        ms(v.deepest?.p99),
        v.checks.length ? v.checks.join('; ') : 'ok',
      ]);
    }
    return {
      table: { head, rows },
      notes: [
        `${o.pageSize} messages a page, one call in flight, up to ${o.pageCalls} timed calls per kind (3 untimed first); "older" is the page before the newest page's cursor, "deepest" the oldest ${o.pageSize} messages through the target's own query for them; checks: the pages hold the expected messages.`,
      ],
      json,
    };
  },
};
