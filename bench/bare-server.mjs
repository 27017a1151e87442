// The baseline of the fan-out benchmark: the least a WebSocket broadcast server can do. Every
// text frame received from any client is written, as the same bytes, to every connected client
// (the sender included, as the gateway does for a sender that is a room member). No parsing, no
// validation, no backpressure policy. Runs as its own process, like the gateway, and reports its
// port on stdout as one JSON line.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: Number(process.env.PORT || 0),
  perMessageDeflate: false,
  maxPayload: 1024 * 1024,
});
const TEXT = { binary: false };

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    for (const c of wss.clients) if (c.readyState === 1) c.send(data, TEXT);
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
