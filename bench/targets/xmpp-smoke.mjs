// Smoke check of an XMPP target (not part of the suite): node bench/targets/xmpp-smoke.mjs
// [ejabberd|prosody] [users=50] [messages=1000] [seed=2000]. Starts the target, provisions users,
// one room, everyone joins, one sender sends `messages` groupchat messages with at most 50 in
// flight, checks every member got every message, reads the newest and the oldest MAM page, seeds
// a second room and reads its pages, stops the target and lists leftover processes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { now } from '../lib.mjs';

const [name = 'ejabberd', nUsers = '50', nMsgs = '1000', nSeed = '2000'] = process.argv.slice(2);
const target = (await import(`./${name}.mjs`)).default;
const cleanups = [];
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xmpp-smoke-'));
const log = (m) => console.log(`[smoke] ${m}`);
const t = (t0) => `${Math.round(now() - t0)} ms`;
try {
  let t0 = now();
  const inst = await target.start({ log, cleanups, tmpDir, quick: true });
  log(`started ${inst.version} in ${t(t0)}; processes ${JSON.stringify(inst.processes())}`);
  t0 = now();
  const users = await inst.users(Number(nUsers), 'smoke');
  log(`${users.length} users in ${t(t0)}`);
  const room = await inst.room(users[0], 'fan');
  const counts = new Map();
  const lat = [];
  t0 = now();
  const clients = await Promise.all(
    users.map((u) =>
      inst.connect(u, {
        onMessage: (r, body) => {
          if (r !== room) throw new Error(`message for ${r?.jid ?? r}`);
          counts.set(u.name, (counts.get(u.name) ?? 0) + 1);
          lat.push(now() - Number(body.split(':')[3]));
        },
      }),
    ),
  );
  log(`${clients.length} connected in ${t(t0)}`);
  t0 = now();
  await Promise.all(clients.map((c) => c.join(room)));
  log(`joined in ${t(t0)}`);
  const M = Number(nMsgs);
  t0 = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < M) {
        const i = next++;
        await clients[0].send(room, `smoke:${users[0].name}:${i}:${now().toFixed(3)}:`.padEnd(64, 'x'));
      }
    }),
  );
  const sendMs = now() - t0;
  const deadline = Date.now() + 20_000;
  while ([...counts.values()].reduce((a, b) => a + b, 0) < M * users.length && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  lat.sort((a, b) => a - b);
  log(
    `${M} messages acked in ${Math.round(sendMs)} ms; deliveries ${total}/${M * users.length} ` +
      `(${Math.round(total / ((now() - t0) / 1000))}/s) p50 ${lat[lat.length >> 1]?.toFixed(1)} ms p99 ${lat[Math.floor(lat.length * 0.99)]?.toFixed(1)} ms`,
  );
  t0 = now();
  const newest = await clients[1].history(room, { limit: 50 });
  const older = await clients[1].history(room, { before: newest.next, limit: 50 });
  const oldest = await clients[1].oldest(room, { limit: 50 });
  const seqOf = (b) => Number(b.split(':')[2]);
  log(
    `MAM in ${t(t0)}: newest ${newest.bodies.length} [${seqOf(newest.bodies[0])}..${seqOf(newest.bodies.at(-1))}] ` +
      `next page [${seqOf(older.bodies[0])}..${seqOf(older.bodies.at(-1))}] oldest [${seqOf(oldest.bodies[0])}..${seqOf(oldest.bodies.at(-1))}]`,
  );
  const ok =
    total === M * users.length &&
    seqOf(newest.bodies[0]) === M - 1 &&
    seqOf(newest.bodies.at(-1)) === M - 50 &&
    seqOf(older.bodies[0]) === M - 51 &&
    seqOf(oldest.bodies.at(-1)) === 0 &&
    seqOf(oldest.bodies[0]) === 49;
  log(ok ? 'fan-out and MAM pages right' : 'MISMATCH');
  if (inst.seedHistory && Number(nSeed)) {
    const deep = await inst.room(users[0], 'deep');
    t0 = now();
    const res = await inst.seedHistory(deep, Number(nSeed), (i) => `seed:x:${i}:0:`.padEnd(64, 'y'));
    log(`seeded ${JSON.stringify(res)} in ${t(t0)}`);
    const c = clients[2];
    for (let k = 0; k < 3; k++) {
      t0 = now();
      const nw = await c.history(deep, { limit: 50 });
      const t1 = now() - t0;
      t0 = now();
      const od = await c.oldest(deep, { limit: 50 });
      log(
        `deep room: newest page ${Math.round(t1)} ms [${seqOf(nw.bodies[0])}..${seqOf(nw.bodies.at(-1))}], ` +
          `oldest page ${t(t0)} [${seqOf(od.bodies[0])}..${seqOf(od.bodies.at(-1))}]`,
      );
    }
  }
  for (const c of clients) c.close();
} finally {
  for (const f of cleanups.reverse()) await f();
  fs.rmSync(tmpDir, { recursive: true, force: true });
  const left = execFileSync('sh', ['-c', 'ps -eo pid,args | grep -E "ejbench_|prosody" | grep -v grep || true']).toString();
  log(`left over: ${left.trim() || 'none'}`);
}
