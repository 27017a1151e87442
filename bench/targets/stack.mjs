// Target "stack": the whole platform as it runs in production, five built services
// (apps/*/dist, started like scripts/stack.cjs does) on the shared NATS and Postgres, under a
// fresh NATS namespace and Postgres schema (deleted when the target stops), driven through the
// gateway's WebSocket protocol with the typed client (libs/client). The gateway's per-connection
// request rate and the moderation service's per-user limits are lifted, argon2 made cheap
// (lib.mjs BENCH_GATEWAY_ENV, BENCH_MODERATION_ENV): the benchmark's clients are a few new
// accounts sending far faster than people.
//
//   send     message.send (resolves on the gateway's reply: accepted, stored in the stream)
//   history  history.page newest / `before` the cursor; oldest: history.page `around: 1` (the
//            room's first message and the ones after it)
//   seed     history rows bulk-loaded with COPY into the history schema (lib.mjs bulkLoadMessages,
//            as bench/history.mjs does), at positions far above the stream's; the room itself is
//            created through the stream and projected first.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { bulkLoadMessages, gcHook, joinRoom, pidsByName, registeredTokens, sleep, startBenchStack } from '../lib.mjs';
import { Skip } from '../suite/loadgen.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default {
  name: 'stack',
  kind: 'stack',
  keepsHistory: true,
  durable: true,
  async start(ctx) {
    for (const s of ['gateway', 'rooms', 'history', 'presence', 'moderation'])
      if (!fs.existsSync(path.join(root, 'apps', s, 'dist', 'main.js'))) throw new Skip(`apps/${s}/dist is missing: run npm run build`);
    const { ChatClient, wsUrlOf } = require('../../libs/client/dist/index.js');
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const info = {};
    // The gateway can be asked for a full GC (the connections scenario's memory readings).
    const gc = gcHook(ctx.tmpDir);
    const { stack, teardown, runId, databaseUrl, schema } = await startBenchStack({
      name: 'suite-stack',
      cleanups: ctx.cleanups,
      info,
      serviceEnv: { gateway: gc.env },
    });
    const base = stack.urls.gateway;
    const wsUrl = wsUrlOf(base);
    const password = crypto.randomBytes(12).toString('base64url');
    const clients = new Set();
    let roomSeq = 0;

    const open = async (user) => {
      const c = await ChatClient.connect(wsUrl, { WebSocket, eventHistory: 0, requestTimeoutMs: 60_000, reconnect: false });
      await c.auth(user.token);
      clients.add(c);
      return c;
    };

    return {
      version: `chat-platform ${pkg.version} (Node ${process.version}, NATS ${info.natsVersion ?? '?'}, PostgreSQL ${info.postgresVersion ?? '?'})`,
      fanoutGroup: 'gateway',
      processes: () => ({
        ...Object.fromEntries([...stack.procs].map(([n, p]) => [n, [p.child.pid]])),
        // Shared daemons: whatever else uses them on this machine counts too.
        nats: pidsByName('nats-server'),
        postgres: pidsByName('postgres'),
      }),
      wsUrl,
      /** Two full GCs in the gateway (the fan-out process), before a memory reading. */
      async collectGarbage() {
        await gc.collect(stack.procs.get('gateway').child.pid);
      },
      /** Registers and logs in n accounts over HTTP (16 at a time). */
      async users(n, prefix = 'u') {
        const names = Array.from({ length: n }, (_, i) => `${prefix}${runId}_${i}`.slice(0, 32));
        const tokens = await registeredTokens(base, names, password);
        return names.map((username, i) => ({ username, token: tokens[i] }));
      },
      /** room.create by the owner (public, member limit 100,000: the largest allowed). */
      async room(owner, name = 'room') {
        const roomId = `${name.toLowerCase().replace(/[^a-z0-9_-]/g, '-')}-${runId}-${++roomSeq}`.replace(/^[^a-z0-9]+/, 'r').slice(0, 64);
        const c = await open(owner);
        try {
          await c.request('room.create', { roomId, name: `Bench ${roomId}`.slice(0, 64), memberLimit: 100_000 });
        } finally {
          clients.delete(c);
          await c.close().catch(() => undefined);
        }
        return { id: roomId, owner };
      },
      async connect(user, { onMessage = () => undefined } = {}) {
        const c = await open(user);
        const rooms = new Map(); // roomId -> handle
        c.on('message.posted', (m) => {
          const r = rooms.get(m.roomId);
          if (r) onMessage(r, m.body, undefined);
        });
        let n = 0;
        const tag = crypto.randomBytes(3).toString('hex');
        return {
          user,
          async join(room) {
            rooms.set(room.id, room);
            // The owner is a member already (ALREADY_MEMBER counts as joined).
            await joinRoom(c, room.id);
          },
          send(room, body) {
            return c.request('message.send', { roomId: room.id, clientMsgId: `${tag}_${(++n).toString(36)}`, body });
          },
          async history(room, { before = null, limit = 50 } = {}) {
            const page = await c.request('history.page', { roomId: room.id, limit, ...(before === null ? {} : { before }) });
            return { bodies: page.messages.map((m) => m.body), next: page.nextBefore };
          },
          async oldest(room, { limit = 50 } = {}) {
            const page = await c.request('history.page', { roomId: room.id, around: 1, limit });
            return { bodies: page.messages.map((m) => m.body), next: page.nextBefore };
          },
          close() {
            clients.delete(c);
            return c.close().catch(() => undefined);
          },
        };
      },
      /**
       * Waits until the history service has the room (the owner can read its newest page), then
       * bulk-loads n rows with COPY (bench/history.mjs's method).
       */
      async seedHistory(room, n, bodyOf, progress = () => undefined) {
        const c = await open(room.owner);
        try {
          for (let i = 0; ; i++) {
            try {
              await c.request('history.page', { roomId: room.id, limit: 1 });
              break;
            } catch (err) {
              if (i > 300) throw new Error(`room ${room.id} never became readable: ${err.code ?? err.message}`);
              await sleep(100);
            }
          }
        } finally {
          clients.delete(c);
          await c.close().catch(() => undefined);
        }
        const pg = require('pg');
        const db = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-suite-seed' });
        await db.connect();
        try {
          return await bulkLoadMessages(db, schema, room.id, n, {
            bodyOf,
            progressEvery: Math.max(10_000, Math.round(n / 20)),
            onProgress: (i, total, rate) =>
              progress(
                `seeding ${i.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} (${Math.round(rate).toLocaleString('en-US')}/s)`,
              ),
          });
        } finally {
          await db.end();
        }
      },
      async stop() {
        await Promise.all([...clients].map((c) => c.close().catch(() => undefined)));
        clients.clear();
        await teardown();
      },
    };
  },
};
