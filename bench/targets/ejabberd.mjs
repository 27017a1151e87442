// Target: ejabberd (the Debian package, 23.01) with one MUC service and MAM on, driven over XMPP
// on WebSocket (RFC 7395) by bench/targets/xmpp-client.mjs.
//
// The suite runs its own ejabberd node from a temp dir as the current user: `erl` with the
// package's code path, its own config (ejabberdConfig below), its own Mnesia spool, log, node
// name ejbench_<random>@127.0.0.1 and cookie (epmd on 4369 is shared with the system's other
// Erlang nodes; the system's ejabberd service is never touched). The only listener is
// ejabberd_http on a free loopback port with /ws. A small control shim (ejbench.erl, compiled
// with erlc into the temp dir and started with `-s ejbench start`) listens on a second loopback
// port for one-line commands: bulk registration, room creation and MAM seeding without the cost
// of one Erlang VM start per ejabberdctl call.
//
// Storage is Mnesia: Debian's ejabberd has no SQL driver unless erlang-p1-pgsql (or -sqlite3,
// or a psqlODBC driver) is installed, and neither is on this machine. Mnesia keeps a room's whole
// archive under one key of a disc_only (dets) bag: each insert and each MAM query walks the
// room's records, so seeding costs grow with the square of the depth (5,000 messages 3.5 s,
// 10,000 about 25 s, 15,000 about 70 s on this machine) and the table is limited to 2 GB.
// seedHistory therefore seeds at most MNESIA_MAM_CAP messages and says so.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { freePort, pgQuery, sleep } from '../lib.mjs';
import { xmlEscape } from './xmpp-client.mjs';
import { localpart, skipClass, stopChild, suiteClient } from './xmpp-common.mjs';

const require = createRequire(import.meta.url);

const here = path.dirname(fileURLToPath(import.meta.url));
const ERL = '/usr/bin/erl';
const ERLC = '/usr/bin/erlc';
const ERL_LIBS = '/usr/lib/x86_64-linux-gnu';
const DOMAIN = 'bench.local';
const MUC_HOST = `conference.${DOMAIN}`;
const PASSWORD = 'bench-pass';
/** Postgres for the SQL backend: a database ejb_<random> is created there and dropped after. */
const PG_ADMIN_URL = process.env.BENCH_EJABBERD_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_SCHEMA = '/usr/share/ejabberd/sql/pg.sql';

/**
 * Where ejabberd's Postgres driver (p1_pgsql, Debian package erlang-p1-pgsql) is: null when
 * absent, { extra: null } when installed in the Erlang root, { extra: dir } when found in
 * BENCH_EJABBERD_ERL_LIBS (a directory holding p1_pgsql-<vsn>/, e.g. an unpacked .deb's
 * usr/lib/erlang/lib).
 */
export function pgsqlLib() {
  const has = (d) => fs.existsSync(d) && fs.readdirSync(d).some((e) => e.startsWith('p1_pgsql-'));
  if (!fs.existsSync(PG_SCHEMA)) return null;
  if (has('/usr/lib/erlang/lib') || has(ERL_LIBS)) return { extra: null };
  const extra = process.env.BENCH_EJABBERD_ERL_LIBS;
  return extra && has(extra) ? { extra } : null;
}
/** Occupants above which a room stops broadcasting participants' presence (see the config). */
export const MAX_USERS_PRESENCE = Number(process.env.BENCH_EJABBERD_MAX_USERS_PRESENCE ?? 50);
/** Deepest archive seedHistory builds on the Mnesia backend (see the header). */
export const MNESIA_MAM_CAP = Number(process.env.BENCH_EJABBERD_MAM_CAP ?? 10_000);

/**
 * The ejabberd.yml of a run. Every limit that would throttle a benchmark is lifted (see
 * docs/benchmarks.md, "Target: ejabberd"): no shaper, a deep c2s queue, MUC rooms without an
 * occupant cap or a rate limit, no history replay on join; MAM archives every groupchat message.
 */
export function ejabberdConfig({ wsPort, sql = null }) {
  const db = sql ? 'sql' : 'mnesia';
  const sqlPart = sql
    ? `sql_type: pgsql
sql_server: "${sql.host}"
sql_port: ${sql.port}
sql_database: "${sql.database}"
sql_username: "${sql.user}"
sql_password: "${sql.password ?? ''}"
sql_pool_size: ${sql.poolSize ?? 10}
new_sql_schema: false
auth_method: sql
`
    : `auth_method: internal
`;
  return `# Written by bench/targets/ejabberd.mjs for one benchmark run.
hosts: ["${DOMAIN}"]
loglevel: warning
hide_sensitive_log_data: true
${sqlPart}auth_password_format: plain
default_db: ${db}
# c2s: no traffic shaper (the packaged config limits clients to 1,000 B/s) and a deep outgoing
# queue (default 10,000 stanzas; a receiver of a 2,000-member room must not be cut off).
shaper: {}
shaper_rules:
  c2s_shaper: none
max_fsm_queue: 1000000
s2s_access: none
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  muc_create:
    allow: local
listen:
  -
    port: ${wsPort}
    ip: "127.0.0.1"
    module: ejabberd_http
    # The default accept backlog is 5: a burst of connections overflows it and the kernel drops
    # SYNs, which clients see as 1 s / 3 s connect stalls (SYN retransmits).
    backlog: 4096
    request_handlers:
      /ws: ejabberd_http_ws
websocket_ping_interval: 600
websocket_timeout: 3600
modules:
  mod_mam:
    default: always
    db_type: ${db}
  mod_muc:
    host: "${MUC_HOST}"
    db_type: ${db}
    access: all
    access_create: muc_create
    access_persistent: all
    access_mam: all
    history_size: 0
    max_users: 1000000
    max_user_conferences: 1000000
    max_users_admin_threshold: 1000000
    min_message_interval: 0
    min_presence_interval: 0
    # Presence storm: a room over this many occupants is "overcrowded" and stops broadcasting the
    # presence of ordinary participants (default 1,000), else every join costs one presence per
    # occupant and a 2,000-client join storm sends millions of them.
    max_users_presence: ${MAX_USERS_PRESENCE}
    default_room_options:
      persistent: true
      public: true
      mam: true
      max_users: 1000000
  mod_muc_admin: {}
`;
}

/** A line-per-command connection to the ejbench shim; commands run one at a time. */
function controlChannel(port) {
  const sock = net.connect(port, '127.0.0.1');
  let buf = '';
  const queue = [];
  let failure = null;
  const ready = new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      queue.shift()?.(line);
    }
  });
  sock.on('error', (e) => (failure = e));
  sock.on('close', () => {
    failure ??= new Error('ejbench control connection closed');
    for (const r of queue.splice(0)) r(`error ${failure.message}`);
  });
  return {
    ready,
    async call(...words) {
      await ready;
      if (failure) throw failure;
      const line = await new Promise((resolve) => {
        queue.push(resolve);
        sock.write(`${words.join(' ')}\n`);
      });
      if (!line.startsWith('ok')) throw new Error(`ejbench ${words[0]}: ${line.slice(0, 500)}`);
      return line.slice(3);
    },
    close: () => sock.destroy(),
  };
}

/** Polls `ping` until ejabberd's c2s, MUC and MAM are up (or the node exits). Returns the version. */
async function waitReady(ctlPort, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('ejabberd exited during start');
    const ch = controlChannel(ctlPort);
    try {
      await ch.ready;
      const v = await ch.call('ping', DOMAIN).catch(() => null);
      if (v !== null) return { ch, version: v };
      ch.close();
    } catch {
      ch.close();
    }
    await sleep(250);
  }
  throw new Error(`ejabberd not ready after ${timeoutMs} ms`);
}

/**
 * Fills a room's archive with n rows by COPY into ejabberd's `archive` table, shaped like the rows
 * mod_mam_sql writes for a live groupchat message (username = the room's JID, timestamp = the
 * MAM id in microseconds, xml = the stanza); timestamps lie a day before now. Above 200,000 rows
 * the indexes are dropped during the COPY and built again after it.
 */
async function seedSql(url, room, n, bodyOf, progress) {
  const pg = require('pg');
  const { from: copyFrom } = require('pg-copy-streams');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const indexes = [
    'CREATE INDEX i_username_timestamp ON archive USING btree (username, timestamp)',
    'CREATE INDEX i_username_peer ON archive USING btree (username, peer)',
    'CREATE INDEX i_username_bare_peer ON archive USING btree (username, bare_peer)',
    'CREATE INDEX i_timestamp ON archive USING btree (timestamp)',
  ];
  const rebuild = n > 200_000;
  try {
    if (rebuild) for (const ix of indexes) await c.query(`DROP INDEX IF EXISTS ${ix.split(' ')[2]}`);
    const sender = `seeder@${DOMAIN}`;
    const peer = `${sender}/seed`;
    const copyEsc = (v) => v.replace(/[\\\t\n\r]/g, (ch) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[ch]);
    let t = BigInt(Date.now() - 86_400_000) * 1000n;
    const stream = c.query(copyFrom('COPY archive (username, timestamp, peer, bare_peer, xml, txt, kind, nick) FROM STDIN'));
    const done = new Promise((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
    });
    const batch = 5000;
    for (let i = 0; i < n; i += batch) {
      let chunk = '';
      for (let k = i; k < Math.min(n, i + batch); k++) {
        const body = bodyOf(k + 1); // messages are numbered from 1, as the history scenario reads them
        const id = String(t++);
        const xml = `<message xml:lang='en' to='${room.jid}' from='${sender}/seed' type='groupchat' id='${id}' xmlns='jabber:client'><body>${xmlEscape(body)}</body></message>`;
        chunk += `${room.jid}\t${id}\t${peer}\t${sender}\t${copyEsc(xml)}\t${copyEsc(body)}\tgroupchat\tseeder\n`;
      }
      if (!stream.write(chunk)) await new Promise((r) => stream.once('drain', r));
      if ((i / batch) % 20 === 0) progress?.(Math.min(n, i + batch), n);
    }
    stream.end();
    await done;
    progress?.(n, n);
    if (rebuild) for (const ix of indexes) await c.query(ix);
    await c.query('ANALYZE archive');
    return { seeded: n, requested: n, note: null };
  } finally {
    await c.end();
  }
}

export default {
  name: 'ejabberd',
  kind: 'peer',
  keepsHistory: true,
  durable: true,
  async start(ctx) {
    const Skip = await skipClass();
    for (const f of [ERL, ERLC]) if (!fs.existsSync(f)) throw new Skip(`Erlang not installed (${f} missing)`);
    if (!fs.existsSync(ERL_LIBS) || !fs.readdirSync(ERL_LIBS).some((d) => d.startsWith('ejabberd-')))
      throw new Skip(`ejabberd not installed (no ${ERL_LIBS}/ejabberd-*)`);
    const dir = fs.mkdtempSync(path.join(ctx.tmpDir, 'ejabberd-'));
    for (const d of ['spool', 'log', 'ebin']) fs.mkdirSync(path.join(dir, d));
    try {
      execFileSync(ERLC, ['-o', path.join(dir, 'ebin'), path.join(here, 'ejbench.erl')], { stdio: 'pipe' });
    } catch (e) {
      throw new Skip(`cannot compile the ejabberd control shim: ${String(e.stderr || e.message).slice(0, 300)}`);
    }
    const [wsPort, ctlPort] = [await freePort(), await freePort()];
    const rand = crypto.randomBytes(4).toString('hex');
    // SQL (Postgres) when the driver is there and Postgres answers, else Mnesia.
    const pgLib = pgsqlLib();
    let sql = null;
    let dropDb = null;
    if (pgLib && process.env.BENCH_EJABBERD_DB !== 'mnesia') {
      const database = `ejb_${rand}`;
      try {
        await pgQuery(PG_ADMIN_URL, `CREATE DATABASE ${database}`);
        dropDb = () => pgQuery(PG_ADMIN_URL, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        ctx.cleanups.push(async () => {
          const f = dropDb;
          dropDb = null;
          await f?.();
        });
        const url = new URL(PG_ADMIN_URL);
        url.pathname = `/${database}`;
        await pgQuery(url.href, fs.readFileSync(PG_SCHEMA, 'utf8'));
        sql = {
          host: url.hostname,
          port: Number(url.port || 5432),
          database,
          user: decodeURIComponent(url.username || 'postgres'),
          password: decodeURIComponent(url.password),
          url: url.href,
        };
      } catch (e) {
        ctx.log?.(`ejabberd: Postgres at ${PG_ADMIN_URL} not usable (${e.message}); using Mnesia`);
        sql = null;
      }
    }
    const configPath = path.join(dir, 'ejabberd.yml');
    fs.writeFileSync(configPath, ejabberdConfig({ wsPort, sql }));
    const node = `ejbench_${rand}@127.0.0.1`;
    const logPath = path.join(dir, 'log', 'ejabberd.log');
    const out = fs.openSync(path.join(dir, 'log', 'stdout.log'), 'a');
    // `erl` execs erlexec, which execs beam.smp: child.pid ends up being the VM itself.
    const child = spawn(
      ERL,
      [
        '-name',
        node,
        '-setcookie',
        crypto.randomBytes(12).toString('hex'),
        '-noinput',
        '+K',
        'true',
        '+P',
        '2000000',
        '-mnesia',
        'dir',
        `"${path.join(dir, 'spool')}"`,
        '-pa',
        path.join(dir, 'ebin'),
        '-ejbench_port',
        String(ctlPort),
        '-s',
        'ejabberd',
        '-s',
        'ejbench',
        'start',
      ],
      {
        cwd: dir,
        stdio: ['ignore', out, out],
        env: {
          ...process.env,
          EJABBERD_CONFIG_PATH: configPath,
          EJABBERD_LOG_PATH: logPath,
          ERL_LIBS: pgLib && pgLib.extra ? `${ERL_LIBS}:${pgLib.extra}` : ERL_LIBS,
          ERL_MAX_PORTS: '262144',
          ERL_CRASH_DUMP_BYTES: '0',
          HOME: dir,
        },
      },
    );
    fs.closeSync(out);
    let ch = null;
    const stop = async () => {
      await stopChild(child, {
        graceful: ch ? () => ch.call('stop').finally(() => ch.close()) : null,
      });
      fs.rmSync(dir, { recursive: true, force: true });
      const f = dropDb;
      dropDb = null;
      await f?.();
    };
    ctx.cleanups.push(stop);
    let version;
    try {
      ({ ch, version } = await waitReady(ctlPort, child, 60_000));
    } catch (e) {
      const tail = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').slice(-600) : '');
      const why = `${e.message}: ${tail(path.join(dir, 'log', 'stdout.log'))}${tail(logPath)}`;
      await stop();
      throw new Skip(why.replace(/\s+/g, ' ').trim());
    }
    const backend = sql ? `Postgres ${sql.database}` : 'Mnesia';
    ctx.log?.(`ejabberd ${version} node ${node} ws://127.0.0.1:${wsPort}/ws (${backend}, pid ${child.pid})`);

    const url = `ws://127.0.0.1:${wsPort}/ws`;
    const rooms = new Map(); // room JID -> handle
    let roomSeq = 0;
    // The Postgres backends serving ejabberd's pool (asked again after provisioning).
    let pgPids = [];
    const refreshPgPids = async () => {
      if (sql)
        pgPids = (await pgQuery(sql.url, 'SELECT pid FROM pg_stat_activity WHERE datname = $1', [sql.database])).rows.map((r) => r.pid);
    };
    await refreshPgPids();
    return {
      version: `ejabberd ${version.replace(/-\d+$/, '')} (Debian ${version}, ${sql ? 'PostgreSQL' : 'Mnesia'})`,
      fanoutGroup: 'ejabberd',
      wsUrl: url,
      historyNote: sql ? null : `Mnesia MAM: seeded depth capped at ${MNESIA_MAM_CAP.toLocaleString('en-US')}`,
      processes: () => ({ ejabberd: child.exitCode === null ? [child.pid] : [], ...(sql ? { postgres: pgPids } : {}) }),
      async users(n, prefix) {
        const p = localpart(prefix);
        await ch.call('register', p, 0, n, PASSWORD, DOMAIN);
        await refreshPgPids();
        return Array.from({ length: n }, (_, i) => ({ name: `${p}${i}`, password: PASSWORD }));
      },
      async room(owner, name) {
        const room = `${localpart(name)}-${(++roomSeq).toString(36)}`;
        await ch.call('room', room, MUC_HOST, DOMAIN, `${owner.name}@${DOMAIN}`);
        const handle = { name: room, jid: `${room}@${MUC_HOST}` };
        rooms.set(handle.jid, handle);
        return handle;
      },
      connect: (user, { onMessage } = {}) => suiteClient({ url, domain: DOMAIN, user, rooms, onMessage }),
      /** Writes min(n, MNESIA_MAM_CAP) archive records straight into Mnesia (the records
       *  mod_mam_mnesia writes for live messages), in chunks of 2,000 so progress moves; ids and
       *  timestamps lie before the start of the run. Returns { seeded, requested, note }. */
      async seedHistory(room, n, bodyOf, progress) {
        if (sql) return seedSql(sql.url, room, n, bodyOf, progress);
        const total = Math.min(n, MNESIA_MAM_CAP);
        const chunk = 2000;
        const file = path.join(dir, 'seed.txt');
        let t0 = (Date.now() - 86_400_000) * 1000;
        for (let i = 0; i < total; i += chunk) {
          const m = Math.min(chunk, total - i);
          const lines = [];
          for (let k = 0; k < m; k++) lines.push(bodyOf(i + k + 1).replace(/\n/g, ' '));
          fs.writeFileSync(file, `${lines.join('\n')}\n`);
          await ch.call('seed', room.name, MUC_HOST, file, t0, `seeder@${DOMAIN}/seed`, 'seeder');
          t0 += m;
          progress?.(i + m, total);
        }
        fs.rmSync(file, { force: true });
        const note =
          total < n
            ? `ejabberd Mnesia MAM: seeded ${total.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} (quadratic inserts per room, 2 GB table limit)`
            : null;
        return { seeded: total, requested: n, note };
      },
      stop,
    };
  },
};
