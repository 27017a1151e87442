// The yardstick of the benchmarks: the least a WebSocket server can do. Runs as its own process,
// like the gateway, and reports its port on stdout as one JSON line. No parsing beyond what
// routing needs, no validation, no authentication, no backpressure policy.
//
// Two modes:
//  - broadcast (default; bench/connections.mjs): every text frame received from any client is
//    written, as the same bytes, to every connected client (the sender included).
//  - rooms (BARE_ROOMS=1; the suite's ws and ws-coalesced targets): a client sends
//    {"join":"<room>"} and gets {"joined":"<room>"} back; a frame {"room":"<room>","body":…} is
//    written, as the same bytes, to every client that joined <room> (the sender too if it did).
//
// BARE_CORK=1 adds the gateway's write coalescing (apps/gateway/src/wire/connection.ts
// corkForThisTurn): the first write to a socket in an event-loop turn corks it, and every socket
// corked in that turn is uncorked together from setImmediate, so the frames of one turn leave
// as one writev per socket. Without it (the naive server) every frame is its own write.
import { WebSocketServer } from 'ws';

const ROOMS = process.env.BARE_ROOMS === '1';
const CORK = process.env.BARE_CORK === '1';

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: Number(process.env.PORT || 0),
  perMessageDeflate: false,
  maxPayload: 1024 * 1024,
});
const TEXT = { binary: false };

const corked = [];
let uncorkScheduled = false;
function uncorkAll() {
  uncorkScheduled = false;
  for (const sock of corked.splice(0)) sock.uncork();
}
function corkForThisTurn(ws) {
  const sock = ws._socket;
  if (!sock || typeof sock.cork !== 'function' || sock.writableCorked > 0) return;
  sock.cork();
  corked.push(sock);
  if (!uncorkScheduled) {
    uncorkScheduled = true;
    setImmediate(uncorkAll);
  }
}
const write = CORK
  ? (c, data) => {
      corkForThisTurn(c);
      c.send(data, TEXT);
    }
  : (c, data) => c.send(data, TEXT);

/** room -> clients that joined it */
const rooms = new Map();

wss.on('connection', (ws) => {
  const joined = new Set();
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    if (!ROOMS) {
      for (const c of wss.clients) if (c.readyState === 1) write(c, data);
      return;
    }
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof f.room === 'string') {
      const members = rooms.get(f.room);
      if (members) for (const c of members) if (c.readyState === 1) write(c, data);
    } else if (typeof f.join === 'string') {
      let members = rooms.get(f.join);
      if (!members) rooms.set(f.join, (members = new Set()));
      members.add(ws);
      joined.add(f.join);
      write(ws, JSON.stringify({ joined: f.join }));
    }
  });
  ws.on('close', () => {
    for (const r of joined) rooms.get(r)?.delete(ws);
  });
  ws.on('error', () => undefined);
});
wss.on('listening', () => process.stdout.write(`${JSON.stringify({ port: wss.address().port })}\n`));

const stop = () => {
  for (const c of wss.clients) c.terminate();
  wss.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Never outlive the benchmark that started it.
process.on('disconnect', stop);
