// A client process of the connections benchmark (bench/connections.mjs): holds many idle
// WebSocket connections for it, so that the sockets' client side is not in the measured
// process and one process's open-file limit does not cap the count. Driven over the IPC
// channel, one JSON command at a time, each answered with { id, ... }:
//
//   open    { url, items: [{ token|null, label }], concurrency, timeoutMs }
//           opens one connection per item (authenticating with `token` if given: an `auth`
//           request, then waits for its reply); answers the count opened, failures by reason,
//           and the time taken. `label` (the user id) names the connection's user.
//   watch   { userIds }      from now on record every presence.changed frame about these users
//   watched {}               the recorded frames: [receiverLabel, userId, status, position, epochMs]
//   request { label, op, data, timeoutMs }  sends a request on the first open connection of `label`
//   stats   {}               open connections, closes not asked for (by code), frames received
//   close   {}               closes every connection (and waits for them to be gone)
//
// Frames are looked at only as far as needed: a `presence.changed` event is parsed only while
// watched users are set; every other frame is counted and dropped.
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';

const conns = []; // { ws, label, open }
let watching = null; // Set of user ids, or null
let watched = [];
const stats = { framesIn: 0, bytesIn: 0, unexpectedCloses: {}, errors: {} };
let closing = false;
let reqSeq = 0;
const pending = new Map(); // request id -> resolve

const epochMs = () => performance.timeOrigin + performance.now();
const bump = (obj, key) => void (obj[key] = (obj[key] ?? 0) + 1);

function onFrame(c, data) {
  stats.framesIn++;
  stats.bytesIn += data.length;
  // Replies to our own requests (auth, request): small and rare, parsed.
  if (data.includes('"type":"res"')) {
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return;
    }
    const done = pending.get(f.id);
    if (done) {
      pending.delete(f.id);
      done(f);
    }
    return;
  }
  if (watching && data.includes('"presence.changed"')) {
    const t = epochMs();
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return;
    }
    if (f.event === 'presence.changed' && watching.has(f.data?.userId))
      watched.push([c.label, f.data.userId, f.data.status, f.position, t]);
  }
}

function request(c, op, data, timeoutMs) {
  const id = `b${++reqSeq}`;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      resolve({ ok: false, error: { code: 'TIMEOUT', message: `no reply to ${op} within ${timeoutMs} ms` } });
    }, timeoutMs);
    pending.set(id, (f) => {
      clearTimeout(timer);
      resolve(f);
    });
    try {
      c.ws.send(JSON.stringify({ type: 'req', id, op, data }));
    } catch (err) {
      clearTimeout(timer);
      pending.delete(id);
      resolve({ ok: false, error: { code: 'SEND_FAILED', message: String(err?.message ?? err) } });
    }
  });
}

/** Opens one connection; resolves with null on success or the reason it failed. */
function openOne(url, item, timeoutMs) {
  return new Promise((resolve) => {
    const c = { ws: null, label: item.label, open: false };
    let settled = false;
    const finish = (reason) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (reason) {
        try {
          c.ws.terminate();
        } catch {}
      } else {
        c.open = true;
        conns.push(c);
      }
      resolve(reason);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    let ws;
    try {
      ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    } catch (err) {
      return finish(`error: ${err.code ?? err.message}`);
    }
    c.ws = ws;
    ws.on('message', (data) => onFrame(c, data));
    ws.on('error', (err) => {
      bump(stats.errors, err.code ?? err.message);
      finish(`error: ${err.code ?? err.message}`);
    });
    ws.on('unexpected-response', (_req, res) => finish(`http ${res.statusCode}`));
    ws.on('close', (code) => {
      if (!settled) return finish(`closed ${code}`);
      if (c.open && !closing) bump(stats.unexpectedCloses, String(code));
      c.open = false;
    });
    ws.on('open', async () => {
      if (!item.token) return finish(null);
      const r = await request(c, 'auth', { token: item.token }, timeoutMs);
      finish(r.ok ? null : `auth ${r.error?.code ?? 'failed'}`);
    });
  });
}

async function open({ url, items, concurrency = 100, timeoutMs = 30_000 }) {
  closing = false;
  const t0 = performance.now();
  const failures = {};
  let opened = 0;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      const reason = await openOne(url, item, timeoutMs);
      if (reason) bump(failures, reason);
      else opened++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return { opened, failed: items.length - opened, failures, ms: performance.now() - t0 };
}

async function closeAll() {
  closing = true;
  const gone = conns.map(
    (c) =>
      new Promise((resolve) => {
        if (c.ws.readyState === WebSocket.CLOSED) return resolve();
        c.ws.once('close', resolve);
        // A normal close first; sockets that do not finish it are cut after a while.
        try {
          c.ws.close(1000);
        } catch {}
        setTimeout(() => {
          try {
            c.ws.terminate();
          } catch {}
          resolve();
        }, 5000).unref();
      }),
  );
  await Promise.all(gone);
  conns.length = 0;
  return { closed: gone.length };
}

const handlers = {
  open,
  close: closeAll,
  watch: ({ userIds }) => {
    watching = new Set(userIds);
    watched = [];
    return { watching: watching.size };
  },
  watched: () => ({ frames: watched }),
  request: async ({ label, op, data, timeoutMs = 30_000 }) => {
    const c = conns.find((x) => x.label === label && x.open);
    if (!c) return { reply: { ok: false, error: { code: 'NO_CONNECTION', message: `no open connection of ${label}` } } };
    return { reply: await request(c, op, data, timeoutMs) };
  },
  stats: () => ({ open: conns.filter((c) => c.open).length, ...stats }),
};

process.on('message', async (msg) => {
  let res;
  try {
    res = await handlers[msg.cmd](msg);
  } catch (err) {
    res = { error: String(err?.stack ?? err) };
  }
  process.send({ id: msg.id, ...res });
});
// Never outlive the benchmark that started it.
process.on('disconnect', () => process.exit(0));
