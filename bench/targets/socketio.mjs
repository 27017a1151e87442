// Target "socket.io": a Socket.IO 4 chat server (bench/targets/socketio-server.mjs) in its own
// Node process, driven with socket.io-client from the load generator. A peer that keeps no history
// and stores nothing: rooms are Socket.IO rooms (socket.join), a send is broadcast with
// io.to(room).emit and acknowledged through Socket.IO's ack callback once it is handed to the
// room's sockets. WebSocket transport only on both sides, no per-message deflate, no reconnection.
//
// Accounts are tokens the server hands out from POST /users (in memory); a connection presents
// its token in the handshake's `auth` and is refused ("unauthorized") without a valid one.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPortServer } from '../lib.mjs';
import { Skip } from '../suite/loadgen.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

// Replies slower than this fail the join / send (the scenarios count them as errors) instead of
// waiting forever: Socket.IO buffers emits of a socket that is not connected.
const ACK_TIMEOUT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 30_000;

function versionOf(pkg) {
  try {
    return require(`${pkg}/package.json`).version;
  } catch {
    return null;
  }
}

/** Starts the server process (--expose-gc for collectGarbage); resolves with { child, port, stop } once it reported its port. */
function startServer(ctx, env) {
  return startPortServer({
    script: path.join(here, 'socketio-server.mjs'),
    name: 'socket.io server',
    nodeArgs: ['--expose-gc'],
    env: { ...process.env, ...env },
    cleanups: ctx.cleanups,
  });
}

export default {
  name: 'socketio', // --targets socketio (the file's name, which the runner loads by)
  kind: 'peer',
  keepsHistory: false,
  durable: false,

  async start(ctx) {
    const serverVersion = versionOf('socket.io');
    const clientVersion = versionOf('socket.io-client');
    if (!serverVersion || !clientVersion)
      throw new Skip('socket.io / socket.io-client are not installed (npm install --save-dev socket.io@4 socket.io-client@4)');
    const { io } = await import('socket.io-client');
    const { child, port, stop } = await startServer(ctx, {});
    const base = `http://127.0.0.1:${port}`;
    ctx.log?.(`socket.io ${serverVersion} server on port ${port} (pid ${child.pid})`);

    return {
      version: `socket.io ${serverVersion} (Node ${process.version}; client socket.io-client ${clientVersion})`,
      fanoutGroup: 'socket.io',
      processes: () => ({ 'socket.io': child.exitCode === null && child.signalCode === null ? [child.pid] : [] }),
      wsUrl: `${base.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`,

      async users(n, prefix = 'u') {
        const out = [];
        for (let i = 0; i < n; i += 1000) {
          const names = Array.from({ length: Math.min(1000, n - i) }, (_, k) => `${prefix}${i + k}`);
          const res = await fetch(`${base}/users`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ names }),
          });
          if (!res.ok) throw new Error(`socket.io server POST /users: HTTP ${res.status}`);
          out.push(...(await res.json()).users);
        }
        return out;
      },

      /**
       * Optional hook (not in every target): a full GC in the server process, so that the
       * connections scenario's RSS readings do not include the set-up's garbage.
       */
      async collectGarbage() {
        const res = await fetch(`${base}/gc`, { method: 'POST' });
        if (!res.ok) throw new Error(`socket.io server POST /gc: HTTP ${res.status}`);
        return res.json();
      },

      // Socket.IO rooms exist while someone is in them; a room is its name.
      async room(_owner, name) {
        return name;
      },

      connect(user, { onMessage }) {
        return new Promise((resolve, reject) => {
          const socket = io(base, {
            transports: ['websocket'],
            auth: { token: user.token },
            forceNew: true, // one engine.io connection per client (else clients share a Manager)
            reconnection: false,
            timeout: CONNECT_TIMEOUT_MS,
          });
          // rawBytes of a delivery: the engine.io packet's text ("4" + the Socket.IO packet), i.e.
          // the WebSocket frame's payload. The engine emits "packet" just before the Socket.IO
          // layer decodes it and calls the "message" handler, in the same turn.
          let lastBytes = 0;
          socket.io.on('open', () =>
            socket.io.engine.on('packet', (p) => {
              if (p.type === 'message') lastBytes = (typeof p.data === 'string' ? p.data.length : p.data.byteLength) + 1;
            }),
          );
          socket.on('message', (room, body) => onMessage(room, body, lastBytes));
          const fail = (err) => {
            socket.off('connect', ok);
            socket.disconnect();
            reject(new Error(`connect: ${err?.message ?? err}`));
          };
          const ok = () => {
            socket.off('connect_error', fail);
            resolve({
              async join(room) {
                const r = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('join', room);
                if (!r?.ok) throw new Error(`join: ${r?.error ?? 'refused'}`);
              },
              send(room, body) {
                return socket
                  .timeout(ACK_TIMEOUT_MS)
                  .emitWithAck('send', room, body)
                  .then((r) => {
                    if (!r?.ok) throw new Error(`send: ${r?.error ?? 'refused'}`);
                  });
              },
              get connected() {
                return socket.connected;
              },
              close() {
                socket.disconnect();
              },
            });
          };
          socket.once('connect', ok);
          socket.once('connect_error', fail);
        });
      },

      async stop() {
        await stop();
      },
    };
  },
};
