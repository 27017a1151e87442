// The Socket.IO 4 peer of the benchmark suite (bench/targets/socketio.mjs starts it): a chat
// server written the way a Node chat server is usually written with Socket.IO, in its own process.
//
//   - WebSocket transport only (no long-polling, no upgrade dance), no per-message deflate.
//   - Accounts: POST /users {"names": [...]} creates them in memory and answers a random token
//     each ({"users": [{ "name", "token" }]}); nothing is stored on disk. This stands in for a
//     login endpoint and is called outside the measured windows.
//   - Auth: the handshake's `auth.token` must be a token handed out above, checked by a
//     namespace middleware before the connection is accepted (else connect_error "unauthorized").
//   - Rooms: `join` (room, ack) does socket.join(room) and acks { ok: true }. Any room name is
//     accepted (a public room); rooms exist while someone is in them (Socket.IO's adapter).
//   - `send` (room, body, ack): a sender must have joined the room; the message is broadcast to
//     the room with io.to(room).emit('message', room, body, from) (the sender included, as the
//     stack delivers to every member) and then acked { ok: true }. No history, no persistence,
//     no validation beyond a body-length cap.
//   - POST /gc: a full garbage collection (started with --expose-gc) for memory readings.
//
// Reports its port on stdout as one JSON line, like bench/bare-server.mjs. Stops on SIGTERM /
// SIGINT and when the benchmark that started it goes away (IPC channel closed).
import http from 'node:http';
import crypto from 'node:crypto';
import { Server } from 'socket.io';

const MAX_BODY_CHARS = 16 * 1024;
const users = new Map(); // token -> name

const httpServer = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/users') {
    let buf = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (buf += d));
    req.on('end', () => {
      let names;
      try {
        names = JSON.parse(buf).names;
        if (!Array.isArray(names)) throw new Error('names must be an array');
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: String(err.message) }));
      }
      const out = names.map((name) => {
        const token = crypto.randomBytes(18).toString('base64url');
        users.set(token, String(name));
        return { name: String(name), token };
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ users: out }));
    });
    return;
  }
  // A full GC on request (the process runs with --expose-gc), so that the connections scenario
  // reads memory without the garbage of the set-up (token creation, handshakes) in it.
  if (req.method === 'POST' && req.url === '/gc') {
    globalThis.gc?.();
    globalThis.gc?.();
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ gc: typeof globalThis.gc === 'function', ...process.memoryUsage() }));
  }
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ users: users.size, sockets: io.engine.clientsCount }));
  }
  res.writeHead(404).end();
});

const io = new Server(httpServer, {
  transports: ['websocket'],
  perMessageDeflate: false,
  // Socket.IO's default buffer cap (1 MB) stays; messages are small.
  serveClient: false,
});

io.use((socket, next) => {
  const name = users.get(socket.handshake.auth?.token);
  if (!name) return next(new Error('unauthorized'));
  socket.data.name = name;
  next();
});

io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    if (typeof ack !== 'function') return;
    if (typeof room !== 'string' || !room) return ack({ ok: false, error: 'bad room' });
    socket.join(room);
    ack({ ok: true });
  });
  socket.on('send', (room, body, ack) => {
    if (typeof ack !== 'function') return;
    if (!socket.rooms.has(room)) return ack({ ok: false, error: 'not a member' });
    if (typeof body !== 'string' || body.length > MAX_BODY_CHARS) return ack({ ok: false, error: 'bad body' });
    io.to(room).emit('message', room, body, socket.data.name);
    ack({ ok: true });
  });
});

httpServer.listen(Number(process.env.PORT || 0), '127.0.0.1', () =>
  process.stdout.write(`${JSON.stringify({ port: httpServer.address().port })}\n`),
);

const stop = () => {
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Never outlive the benchmark that started it.
process.on('disconnect', stop);
