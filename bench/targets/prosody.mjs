// Target: Prosody (the Debian package, 0.12.3) with a MUC component and mod_muc_mam, driven over
// XMPP on WebSocket (RFC 7395, mod_websocket) by bench/targets/xmpp-client.mjs.
//
// The suite runs its own prosody in the foreground from a temp dir as the current user with its
// own config (prosodyConfig below), data directory and pid file; the only listener is Prosody's
// HTTP server on a free loopback port (/xmpp-websocket); c2s, s2s and component ports are off.
// The system's prosody service is never touched.
//
// Storage is "internal" (files): lua-dbi is not installed, so mod_storage_sql cannot load.
// Accounts are written as the files mod_auth_internal_plain reads (data/<host>/accounts/<user>.dat),
// which is as fast as the disk. Rooms are created by their owner joining them (muc_room_locking
// off: an instant, persistent, public room). The internal archive store keeps a room's archive
// in one list file that each MAM query reads whole, so seedHistory sends at most
// INTERNAL_MAM_CAP messages through a real session and says so.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, sleep } from '../lib.mjs';
import { connectXmpp } from './xmpp-client.mjs';
import { localpart, skipClass, stopChild, suiteClient } from './xmpp-common.mjs';

const PROSODY = '/usr/bin/prosody';
const DOMAIN = 'bench.local';
const MUC_HOST = `conference.${DOMAIN}`;
const PASSWORD = 'bench-pass';
/** Deepest archive seedHistory builds on the internal store (see the header). */
export const INTERNAL_MAM_CAP = Number(process.env.BENCH_PROSODY_MAM_CAP ?? 10_000);

/** Prosody's data-path encoding of a host or node name (datamanager.encode). */
export const encodeNode = (s) => s.replace(/[^a-zA-Z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/**
 * The prosody.cfg.lua of a run. Nothing that throttles is loaded (no mod_limits, no rate limits);
 * MUC rooms are instant (no locking), persistent, public, archived; no history on join.
 */
export function prosodyConfig({ httpPort, dataDir, pidFile, logFile }) {
  return `-- Written by bench/targets/prosody.mjs for one benchmark run.
daemonize = false
run_as_root = true
pidfile = "${pidFile}"
data_path = "${dataDir}"
log = { { levels = { min = "warn" }, to = "file", filename = "${logFile}" } }
network_backend = "epoll"
-- Accept queue for connection bursts (the join storm); the default is 128.
network_settings = { tcp_backlog = 4096 }
c2s_ports = {}
c2s_direct_tls_ports = {}
s2s_ports = {}
s2s_direct_tls_ports = {}
component_ports = {}
legacy_ssl_ports = {}
https_ports = {}
http_ports = { ${httpPort} }
http_interfaces = { "127.0.0.1" }
https_interfaces = {}
consider_websocket_secure = true
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
modules_enabled = { "saslauth", "disco", "ping", "websocket" }
modules_disabled = { "s2s", "offline", "tls" }
archive_expires_after = "never"

VirtualHost "${DOMAIN}"

Component "${MUC_HOST}" "muc"
  modules_enabled = { "muc_mam" }
  muc_room_locking = false
  muc_room_default_persistent = true
  muc_room_default_public = true
  muc_log_by_default = true
  muc_log_all_rooms = true
  muc_room_default_history_length = 0
  max_history_messages = 0
  muc_tombstones = false
  -- Rooms kept in memory (default 100; the ingest scenario has 1,000).
  muc_room_cache_size = 100000
  -- Presence storm: only moderators' presence is broadcast to the room (self-presence and the
  -- occupant's own join still work), else every join costs one presence per occupant.
  muc_room_default_presence_broadcast = { moderator = true }
  restrict_room_creation = false
  max_archive_query_results = 1000
`;
}

export default {
  name: 'prosody',
  kind: 'peer',
  keepsHistory: true,
  durable: true,
  async start(ctx) {
    const Skip = await skipClass();
    if (!fs.existsSync(PROSODY)) throw new Skip(`prosody not installed (${PROSODY} missing)`);
    const dir = fs.mkdtempSync(path.join(ctx.tmpDir, 'prosody-'));
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    const httpPort = await freePort();
    const logFile = path.join(dir, 'prosody.log');
    const configPath = path.join(dir, 'prosody.cfg.lua');
    fs.writeFileSync(configPath, prosodyConfig({ httpPort, dataDir, pidFile: path.join(dir, 'prosody.pid'), logFile }));
    const out = fs.openSync(path.join(dir, 'stdout.log'), 'a');
    const child = spawn(PROSODY, ['--config', configPath, '-F'], { cwd: dir, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const stop = async () => {
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    };
    ctx.cleanups.push(stop);
    const url = `ws://127.0.0.1:${httpPort}/xmpp-websocket`;
    // Ready when the WebSocket endpoint answers an HTTP request.
    const deadline = Date.now() + 30_000;
    let up = false;
    while (!up && Date.now() < deadline) {
      if (child.exitCode !== null) break;
      up = await fetch(`http://127.0.0.1:${httpPort}/xmpp-websocket`).then(
        () => true,
        () => false,
      );
      if (!up) await sleep(200);
    }
    if (!up) {
      const tail = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').slice(-600) : '');
      const why = `prosody did not start: ${tail(path.join(dir, 'stdout.log'))} ${tail(logFile)}`;
      await stop();
      throw new Skip(why.replace(/\s+/g, ' ').trim());
    }
    const version = (() => {
      try {
        return fs.readFileSync('/usr/lib/prosody/prosody.version', 'utf8').trim();
      } catch {
        return '0.12';
      }
    })();
    ctx.log?.(`prosody ${version} ${url} (internal storage, pid ${child.pid})`);

    const accounts = path.join(dataDir, encodeNode(DOMAIN), 'accounts');
    fs.mkdirSync(accounts, { recursive: true });
    const rooms = new Map();
    let roomSeq = 0;
    return {
      version: `prosody ${version} (internal storage)`,
      fanoutGroup: 'prosody',
      wsUrl: url,
      historyNote: `internal MAM store: seeded depth capped at ${INTERNAL_MAM_CAP.toLocaleString('en-US')}`,
      processes: () => ({ prosody: child.exitCode === null ? [child.pid] : [] }),
      async users(n, prefix) {
        const p = localpart(prefix);
        const body = `return {\n\t["password"] = ${JSON.stringify(PASSWORD)};\n};\n`;
        const out = [];
        for (let i = 0; i < n; i++) {
          const name = `${p}${i}`;
          fs.writeFileSync(path.join(accounts, `${encodeNode(name)}.dat`), body);
          out.push({ name, password: PASSWORD });
        }
        return out;
      },
      async room(owner, name) {
        const room = `${localpart(name)}-${(++roomSeq).toString(36)}`;
        const jid = `${room}@${MUC_HOST}`;
        // The owner's join creates the room (unlocked, persistent); leaving keeps it.
        const c = await connectXmpp({ url, domain: DOMAIN, user: owner.name, password: owner.password });
        try {
          await c.join(jid);
        } finally {
          c.close();
        }
        const handle = { name: room, jid };
        rooms.set(jid, handle);
        return handle;
      },
      connect: (user, { onMessage } = {}) => suiteClient({ url, domain: DOMAIN, user, rooms, onMessage }),
      /** Sends min(n, INTERNAL_MAM_CAP) messages through one session, 100 in flight. */
      async seedHistory(room, n, bodyOf, progress) {
        const total = Math.min(n, INTERNAL_MAM_CAP);
        const [seeder] = await this.users(1, 'seeder');
        const c = await suiteClient({ url, domain: DOMAIN, user: seeder, rooms });
        try {
          await c.join(room);
          let next = 0;
          let done = 0;
          await Promise.all(
            Array.from({ length: 100 }, async () => {
              while (next < total) {
                await c.send(room, bodyOf(++next));
                if (++done % 1000 === 0) progress?.(done, total);
              }
            }),
          );
        } finally {
          c.close();
        }
        const note =
          total < n
            ? `prosody internal MAM: seeded ${total.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} over XMPP (no SQL driver; each query reads the room's whole archive file)`
            : null;
        return { seeded: total, requested: n, note };
      },
      stop,
    };
  },
};
