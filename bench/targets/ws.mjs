// Target "ws": a bare `ws` server (bench/bare-server.mjs in its rooms mode), the naive baseline —
// every frame is its own socket write. No accounts, no authentication, no history, no
// acknowledgement of sends: the least a WebSocket chat server can do.
//
// Protocol (see bare-server.mjs): {"join":room} -> {"joined":room}; {"room":r,"body":b} is
// written as the same bytes to every client that joined r. The clients here parse every frame
// as JSON, as a real client would.
import { createRequire } from 'node:module';
import { WebSocket } from 'ws';
import { gcHook, startBareServer } from '../lib.mjs';

const require = createRequire(import.meta.url);
const wsVersion = require('ws/package.json').version;

/** The target for the bare server with `env` (BARE_CORK=1 for the coalescing one). */
export function bareTarget({ name, cork }) {
  return {
    name,
    kind: 'baseline',
    keepsHistory: false,
    durable: false,
    async start(ctx) {
      const gc = gcHook(ctx.tmpDir);
      const { child, port, stop } = await startBareServer({
        env: { ...process.env, ...gc.env, BARE_ROOMS: '1', ...(cork ? { BARE_CORK: '1' } : {}) },
        cleanups: ctx.cleanups,
      });
      const url = `ws://127.0.0.1:${port}`;
      const sockets = new Set();
      let roomSeq = 0;
      return {
        version: `ws ${wsVersion}${cork ? ' (writes corked per event-loop turn)' : ''}, Node ${process.version}`,
        fanoutGroup: 'server',
        processes: () => ({ server: [child.pid] }),
        /** Two full GCs in the server, before a memory reading. */
        async collectGarbage() {
          await gc.collect(child.pid);
        },
        wsUrl: url,
        async users(n, prefix = 'u') {
          return Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}` }));
        },
        async room(owner, roomName) {
          return { id: `${roomName ?? 'room'}-${++roomSeq}` };
        },
        async connect(user, { onMessage = () => undefined } = {}) {
          const ws = new WebSocket(url, { perMessageDeflate: false });
          await new Promise((resolve, reject) => {
            ws.once('open', resolve);
            ws.once('error', reject);
          });
          ws.on('error', () => undefined);
          sockets.add(ws);
          const rooms = new Map(); // id -> handle
          const waiting = new Map(); // id -> resolve of join()
          ws.on('message', (data) => {
            const f = JSON.parse(data.toString());
            if (typeof f.room === 'string') {
              const r = rooms.get(f.room);
              if (r) onMessage(r, f.body, data.length);
            } else if (typeof f.joined === 'string') {
              waiting.get(f.joined)?.();
              waiting.delete(f.joined);
            }
          });
          ws.once('close', () => sockets.delete(ws));
          return {
            user,
            join(room) {
              rooms.set(room.id, room);
              return new Promise((resolve) => {
                waiting.set(room.id, resolve);
                ws.send(JSON.stringify({ join: room.id }));
              });
            },
            send(room, body) {
              ws.send(JSON.stringify({ room: room.id, body }));
              return undefined; // the protocol acknowledges nothing
            },
            close() {
              ws.terminate();
            },
          };
        },
        async stop() {
          for (const ws of sockets) ws.terminate();
          sockets.clear();
          await stop();
        },
      };
    },
  };
}

export default bareTarget({ name: 'ws', cork: false });
