// Pieces shared by the XMPP targets (ejabberd.mjs, prosody.mjs): the suite's Skip (taken from
// bench/suite/loadgen.mjs when present), account and room name sanitising, the client wrapper
// that maps room JIDs back to the suite's room handles, and process stopping.
import { connectXmpp } from './xmpp-client.mjs';

class LocalSkip extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'Skip';
  }
}

/** The runner's Skip class when bench/suite/loadgen.mjs exists, else a stand-in of the same name. */
export async function skipClass() {
  try {
    return (await import('../suite/loadgen.mjs')).Skip ?? LocalSkip;
  } catch {
    return LocalSkip;
  }
}

/** A localpart both servers accept unchanged (nodeprep lowercases; keep to [a-z0-9_-]). */
export const localpart = (s) =>
  String(s)
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '_');

/**
 * The suite's client over one XMPP session: rooms are handles { name, jid }; `rooms` maps a room
 * JID to its handle so onMessage gets the handle the scenario created.
 */
export async function suiteClient({ url, domain, user, rooms, onMessage }) {
  const x = await connectXmpp({
    url,
    domain,
    user: user.name,
    password: user.password,
    onMessage: onMessage ? (roomJid, body, bytes) => onMessage(rooms.get(roomJid) ?? roomJid, body, bytes) : undefined,
  });
  return {
    jid: x.jid,
    join: (room) => x.join(room.jid),
    send: (room, body) => x.send(room.jid, body),
    history: (room, opts) => x.history(room.jid, opts ?? {}),
    oldest: (room, opts) => x.oldest(room.jid, opts ?? {}),
    close: () => x.close(),
  };
}

/** SIGTERM (or `graceful()` first when given), SIGKILL after `ms`; resolves once `child` exited. */
export async function stopChild(child, { graceful = null, ms = 10_000 } = {}) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    if (graceful) await graceful();
    else child.kill('SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  const t = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(t);
}
