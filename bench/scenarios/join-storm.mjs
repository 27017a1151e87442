// Scenario "join-storm": many clients connecting, authenticating and joining at once, as after a
// server restart or at the start of an event (issue 12, scenario 5).
//
// Per target: --clients users (2,000; --quick 200) provisioned first, then two layouts one after
// the other, each with every client connecting afresh:
//   one room       every client joins the same room
//   rooms of K     the clients spread over rooms of --room-size (10) members
// Rooms are created before the clock starts. Then every client connects, authenticates and
// joins its room as fast as it can, --concurrency (200) clients at a time (each starts as soon as
// one before it is joined or failed). Once all are done, the first client of every room sends one
// message; a client is live when it has that message. Figures: when all were joined, when all were
// live (the probe reached every other member), p50/p99 per client of connect (handshake +
// authentication) and connect→joined, and the failures by kind.
import { latencyOf, now, sleep } from '../lib.mjs';
import { errorKinds, groupMeter, kindsText, pool, quietCheck } from '../suite/loadgen.mjs';
import { cpuCell, f0, ms, statusRow } from '../suite/report.mjs';

const PROBE_TIMEOUT_MS = 30_000;

const s2 = (msv) => (msv === null || msv === undefined ? '-' : (msv / 1000).toFixed(2));

/** The storm's layouts: one room of everyone, then rooms of `roomSize` (the last may be smaller). */
export function layouts(clients, roomSize) {
  const out = [{ label: 'one room', rooms: 1, roomOf: () => 0 }];
  if (roomSize < clients) {
    const rooms = Math.ceil(clients / roomSize);
    out.push({ label: `rooms of ${roomSize}`, rooms, roomOf: (i) => Math.floor(i / roomSize) });
  }
  return out;
}

export default {
  name: 'join-storm',
  description: 'clients connecting, authenticating and joining at once: time until all are live, errors',
  defaultTargets: ['stack', 'socketio', 'ejabberd'],
  options: {
    clients: { type: 'string', help: 'join-storm: clients (default 2000; --quick 200)' },
    'room-size': { type: 'string', help: 'join-storm: members per room in the second layout (default 10)' },
    concurrency: { type: 'string', help: 'connections (and joins) being opened at once (default 200)' },
  },

  async run({ targets, opts, ctx, progress }) {
    const quick = opts.quick;
    const P = {
      clients: ctx.int('clients', quick ? 200 : 2000, 2),
      roomSize: ctx.int('room-size', 10, 2),
      concurrency: ctx.int('concurrency', 200, 1),
    };
    const head = [
      'target',
      'layout',
      'live / clients',
      'failed (by kind)',
      'all joined after s',
      'all live after s',
      'connect p50/p99 ms',
      'connect→joined p50/p99 ms',
      'CPU % of a core (target · loadgen)',
    ];
    const rows = [];
    const json = { params: P, targets: {} };
    progress.plan(targets.length);

    for (const target of targets) {
      const res = await ctx.withTarget(target, async (inst) => {
        const out = [];
        progress(`provisioning ${f0(P.clients)} users`);
        const users = await inst.users(P.clients, `js${Date.now().toString(36)}_`);
        for (const [li, layout] of layouts(P.clients, P.roomSize).entries()) {
          if (ctx.interrupted()) break;
          progress(`${layout.label}: creating ${f0(layout.rooms)} room(s)`);
          const rooms = [];
          for (let r = 0; r < layout.rooms; r++) {
            const owner = users.findIndex((_, i) => layout.roomOf(i) === r);
            rooms.push(await inst.room(users[owner], `storm-${li}-${r}`));
          }
          const probeOf = (r) => `probe:${li}:${r}`;
          const got = new Float64Array(P.clients); // receipt time of the probe, 0 = not yet
          let received = 0;
          const clients = new Array(P.clients).fill(null);
          const per = [];
          const errors = [];
          progress(`${layout.label}: ${f0(P.clients)} clients connecting and joining`);
          const meter = groupMeter(inst.processes);
          const t0 = now();
          await pool(users, P.concurrency, async (u, i) => {
            const r = layout.roomOf(i);
            const start = now();
            let c;
            try {
              c = await inst.connect(u, {
                onMessage: (_room, body) => {
                  if (body === probeOf(r) && !got[i]) {
                    got[i] = now();
                    received++;
                  }
                },
              });
            } catch (err) {
              errors.push(`connect: ${String(err?.message ?? err).replace(/^connect: /, '')}`);
              return;
            }
            clients[i] = c;
            const connected = now();
            try {
              await c.join(rooms[r]);
            } catch (err) {
              errors.push(`join: ${String(err?.message ?? err).replace(/^join: /, '')}`);
              return;
            }
            per.push({ i, connectMs: connected - start, joinedMs: now() - start });
          });
          const allJoinedMs = now() - t0;

          // The probe: the first joined client of each room sends once; everyone else in the room
          // who joined must get it.
          progress(`${layout.label}: probe`);
          const joined = new Set(per.map((p) => p.i));
          const senders = new Map(); // room -> client index
          for (const { i } of per) if (!senders.has(layout.roomOf(i))) senders.set(layout.roomOf(i), i);
          const expected = per.length - senders.size;
          const sendErrors = [];
          for (const [r, i] of senders) {
            got[i] = -1; // the sender's own copy does not count
            try {
              const p = clients[i].send(rooms[r], probeOf(r));
              if (p?.catch) p.catch((err) => sendErrors.push(`probe send: ${err?.message ?? err}`));
            } catch (err) {
              sendErrors.push(`probe send: ${err?.message ?? err}`);
            }
          }
          const deadline = now() + PROBE_TIMEOUT_MS;
          const receivedByOthers = () => received - [...senders.values()].filter((i) => got[i] > 0).length;
          while (receivedByOthers() < expected && now() < deadline && !ctx.interrupted()) await sleep(10);
          let lastLive = 0;
          for (const i of joined) if (got[i] > lastLive) lastLive = got[i];
          const live = receivedByOthers() + senders.size;
          const m = meter();
          const notLive = per.length - live;
          const kinds = errorKinds([...errors, ...sendErrors]);
          const connect = latencyOf(per.map((p) => p.connectMs));
          const joinedLat = latencyOf(per.map((p) => p.joinedMs));
          const allLive = live === P.clients && !sendErrors.length;
          const entry = {
            layout: layout.label,
            rooms: layout.rooms,
            clients: P.clients,
            joined: per.length,
            live,
            notLiveAfterJoin: notLive,
            errors: kinds,
            allJoinedMs,
            allLiveMs: allLive ? lastLive - t0 : null,
            lastLiveMs: lastLive ? lastLive - t0 : null,
            connectMs: connect,
            joinedMs: joinedLat,
            meter: m,
          };
          out.push(entry);
          rows.push([
            target.name,
            layout.label,
            `${f0(live)} / ${f0(P.clients)}`,
            kinds.length || notLive
              ? [
                  kinds.length ? kindsText(kinds) : null,
                  notLive ? `${f0(notLive)} joined but no probe within ${PROBE_TIMEOUT_MS / 1000} s` : null,
                ]
                  .filter(Boolean)
                  .join('; ')
              : '0',
            s2(allJoinedMs),
            allLive ? s2(entry.allLiveMs) : `not all (last at ${s2(entry.lastLiveMs)})`,
            `${ms(connect.p50)} / ${ms(connect.p99)}`,
            `${ms(joinedLat.p50)} / ${ms(joinedLat.p99)}`,
            `${cpuCell(m)} · loadgen ${m.loadgen}`,
          ]);
          if (quietCheck(m)) ctx.warn(`${target.name} ${layout.label}: ${quietCheck(m)}`);
          for (const c of clients) c?.close();
          await sleep(1000); // let the target see the closes before the next layout
        }
        return out;
      });
      json.targets[target.name] = res;
      if (!res.ok) rows.push(statusRow(head, res));
    }

    return {
      tables: [
        {
          title: `${f0(P.clients)} clients, ${P.concurrency} at a time: connect + authenticate + join, then one message per room`,
          head,
          rows,
        },
      ],
      notes: [
        "all joined: from the first connect to the last join reply; all live: to the last member receiving the message its room's first client sent after every join was done",
        'connect = handshake + authentication; connect→joined = from the start of the connect to the join reply, per client',
        'every client runs in this process on the same machine (the load generator competes with the target for CPU)',
      ],
      json,
    };
  },
};
