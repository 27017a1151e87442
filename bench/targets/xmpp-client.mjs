// A minimal XMPP-over-WebSocket client (RFC 7395) for the benchmark suite's XMPP targets
// (ejabberd.mjs, prosody.mjs): stream <open/>, SASL PLAIN, resource binding, MUC join with
// self-presence (XEP-0045, no room history on join), groupchat messages, and MAM queries
// (XEP-0313 with RSM, XEP-0059). No XML library: RFC 7395 puts exactly one top-level element in
// each WebSocket text frame, so a frame is classified by its first bytes and the few attributes
// and the <body/> the suite needs are cut out with small regular expressions. That keeps the
// load generator's cost per delivery close to what it pays for the JSON targets (one toString,
// one startsWith, three short regex matches on the opening tag and one on the body).
import WebSocket from 'ws';

const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const MUC = 'http://jabber.org/protocol/muc';
const MAM = 'urn:xmpp:mam:2';
const RSM = 'http://jabber.org/protocol/rsm';

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
/** Escapes text or an attribute value (both quote kinds, since servers answer with either). */
export const xmlEscape = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);

const UNESC = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** Undoes the five predefined entities and numeric references; free when there is no '&'. */
export function xmlUnescape(s) {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : UNESC[e],
  );
}

/** The opening tag of a frame's top-level element, up to and including its '>'. */
export const openingTag = (frame) => frame.slice(0, frame.indexOf('>') + 1);

const attrRes = new Map();
/** The (unescaped) value of attribute `name` in `tag` (an opening tag), or null. Either quote. */
export function attr(tag, name) {
  let re = attrRes.get(name);
  if (!re) attrRes.set(name, (re = new RegExp(`\\s${name}=(?:'([^']*)'|"([^"]*)")`)));
  const m = re.exec(tag);
  return m ? xmlUnescape(m[1] ?? m[2]) : null;
}

/** The text of the first <body> in `xml`, or null (bodies in the suite are flat text). */
export function bodyOf(xml) {
  const m = /<body(?:\s[^>]*)?>([^<]*)<\/body>/.exec(xml);
  return m ? xmlUnescape(m[1]) : null;
}

/** Text of the first element `name` in `xml` (no attributes expected), or null. */
export function textOf(xml, name) {
  const m = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(xml);
  return m ? xmlUnescape(m[1]) : null;
}

/** Splits a full JID into its bare part and resource. */
export function splitJid(jid) {
  const i = jid.indexOf('/');
  return i < 0 ? [jid, ''] : [jid.slice(0, i), jid.slice(i + 1)];
}

// Stanza builders (pure, unit-tested).
export const openStream = (domain) => `<open xmlns='${FRAMING}' to='${xmlEscape(domain)}' version='1.0'/>`;
export const closeStream = () => `<close xmlns='${FRAMING}'/>`;
export const saslPlain = (user, password) =>
  `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${user}\0${password}`).toString('base64')}</auth>`;
export const bindIq = (id, resource) =>
  `<iq xmlns='jabber:client' type='set' id='${id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${xmlEscape(resource)}</resource></bind></iq>`;
export const mucJoin = (roomJid, nick) =>
  `<presence xmlns='jabber:client' to='${xmlEscape(roomJid)}/${xmlEscape(nick)}'><x xmlns='${MUC}'><history maxstanzas='0'/></x></presence>`;
export const groupchat = (roomJid, id, body) =>
  `<message xmlns='jabber:client' to='${xmlEscape(roomJid)}' type='groupchat' id='${id}'><body>${xmlEscape(body)}</body></message>`;
/**
 * A MAM query on a room. `before`: null for the newest page (RSM <before/> empty), a string for
 * the page before that archive id, undefined for the oldest page (no <before/>, no <after/>: the
 * archive from its start).
 */
export function mamQuery(roomJid, iqId, queryId, { before, limit }) {
  const cursor = before === undefined ? '' : before === null ? '<before/>' : `<before>${xmlEscape(before)}</before>`;
  return (
    `<iq xmlns='jabber:client' type='set' to='${xmlEscape(roomJid)}' id='${iqId}'><query xmlns='${MAM}' queryid='${queryId}'>` +
    `<set xmlns='${RSM}'><max>${limit}</max>${cursor}</set></query></iq>`
  );
}

/**
 * Reads a MAM <fin/> (the IQ result ending a query): { complete, first, last }. `complete` is
 * true when the page reaches the end of the archive in the paging direction.
 */
export function parseFin(iq) {
  const fin = /<fin\b[^>]*>/.exec(iq);
  return {
    complete: fin ? /\scomplete=(['"])true\1/.test(fin[0]) : false,
    first: textOf(iq, 'first'),
    last: textOf(iq, 'last'),
  };
}

/**
 * Classifies one frame. Returns { kind, tag, frame } where kind is one of open, features,
 * success, failure, close, message, presence, iq, other.
 */
export function classify(frame) {
  const c = frame.charCodeAt(1);
  // '<m', '<p', '<i' are the hot cases; check the full names only to tell them from the rest.
  if (c === 109 && frame.startsWith('<message')) return 'message';
  if (c === 112 && frame.startsWith('<presence')) return 'presence';
  if (c === 105 && frame.startsWith('<iq')) return 'iq';
  if (frame.startsWith('<open')) return 'open';
  if (frame.startsWith('<stream:features') || frame.startsWith('<features')) return 'features';
  if (frame.startsWith('<success')) return 'success';
  if (frame.startsWith('<failure')) return 'failure';
  if (frame.startsWith('<close')) return 'close';
  if (frame.startsWith('<stream:error') || frame.startsWith('<error')) return 'error';
  return 'other';
}

let seq = 0;

/**
 * Opens and authenticates an XMPP session over WebSocket. Resolves to a client with the suite's
 * interface (join, send, history, oldest, close) once the resource is bound.
 *   url       ws://host:port/path
 *   domain    the XMPP host (JID domain)
 *   user, password
 *   onMessage(roomJid, body, rawBytes) for every groupchat message with a body (own ones too)
 *   timeoutMs for the handshake and for each request; joinTimeoutMs for a MUC join (a join
 *   storm on a big room can take far longer than a request on a server whose join cost grows
 *   with the occupants: prosody)
 */
export async function connectXmpp({ url, domain, user, password, onMessage = () => {}, timeoutMs = 30_000, joinTimeoutMs = 120_000 }) {
  const ws = new WebSocket(url, 'xmpp', { perMessageDeflate: false });
  const nick = user;
  let waiter = null; // handshake: one pending { test, resolve, reject }
  const iqs = new Map(); // iq id -> { resolve, reject, timer }
  const sends = new Map(); // message id -> [resolve, reject] (waiting for the MUC reflection)
  const joins = new Map(); // room jid -> { resolve, reject }
  const mam = new Map(); // queryid -> bodies[]
  let closed = false;
  let failure = null;

  const fail = (err) => {
    if (failure) return;
    failure = err;
    waiter?.reject(err);
    for (const p of iqs.values()) p.reject(err);
    for (const p of joins.values()) p.reject(err);
    for (const p of sends.values()) p[1](err);
    iqs.clear();
    joins.clear();
    sends.clear();
  };

  ws.on('message', (data) => {
    const frame = data.toString();
    const kind = classify(frame);
    if (kind === 'message') {
      const tag = openingTag(frame);
      if (frame.includes(`'${MAM}'`) || frame.includes(`"${MAM}"`)) {
        // A MAM result: <message><result queryid=..><forwarded><delay/><message><body>..
        const r = /<result\b[^>]*>/.exec(frame);
        const list = r && mam.get(attr(r[0], 'queryid'));
        if (list) list.push(bodyOf(frame));
        return;
      }
      if (attr(tag, 'type') !== 'groupchat') return;
      const body = bodyOf(frame);
      if (body === null) return; // subject changes, chat states
      const [room, from] = splitJid(attr(tag, 'from') ?? '');
      if (from === nick && sends.size) {
        const id = attr(tag, 'id');
        const done = sends.get(id);
        if (done) {
          sends.delete(id);
          done[0]();
        }
      }
      onMessage(room, body, data.length);
      return;
    }
    if (waiter) {
      if (kind === 'failure' || kind === 'error') return fail(new Error(`xmpp ${user}: ${frame.slice(0, 300)}`));
      if (waiter.test(kind, frame)) {
        const w = waiter;
        waiter = null;
        w.resolve(frame);
      }
      return;
    }
    if (kind === 'iq') {
      const tag = openingTag(frame);
      const p = iqs.get(attr(tag, 'id'));
      if (p) {
        iqs.delete(attr(tag, 'id'));
        clearTimeout(p.timer);
        if (attr(tag, 'type') === 'error') p.reject(new Error(`xmpp ${user}: iq error ${frame.slice(0, 300)}`));
        else p.resolve(frame);
      } else if (attr(tag, 'type') === 'get' || attr(tag, 'type') === 'set') {
        // Answer server requests (ping, disco) so the server does not time the session out.
        const to = attr(tag, 'from');
        ws.send(`<iq xmlns='jabber:client' type='result' id='${xmlEscape(attr(tag, 'id') ?? '')}'${to ? ` to='${xmlEscape(to)}'` : ''}/>`);
      }
      return;
    }
    if (kind === 'presence') {
      const tag = openingTag(frame);
      const [room, from] = splitJid(attr(tag, 'from') ?? '');
      const j = joins.get(room);
      if (!j) return;
      if (attr(tag, 'type') === 'error') {
        joins.delete(room);
        j.reject(new Error(`xmpp ${user}: join ${room} refused: ${frame.slice(0, 300)}`));
      } else if (from === nick && /<status\s+code=(['"])110\1/.test(frame)) {
        // Self-presence (status 110) comes after the presences of the other occupants: joined.
        joins.delete(room);
        j.resolve(frame);
      }
      return;
    }
    if (kind === 'close' || kind === 'error') fail(new Error(`xmpp ${user}: stream closed: ${frame.slice(0, 300)}`));
  });
  ws.on('close', () => {
    closed = true;
    fail(new Error(`xmpp ${user}: connection closed`));
  });
  ws.on('error', (err) => fail(err));

  const expect = (test, what) =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      const timer = setTimeout(() => reject(new Error(`xmpp ${user}: timeout waiting for ${what}`)), timeoutMs);
      waiter = {
        test,
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  const iq = (id, xml) =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      const timer = setTimeout(() => {
        iqs.delete(id);
        reject(new Error(`xmpp ${user}: timeout on iq ${id}`));
      }, timeoutMs);
      iqs.set(id, { resolve, reject, timer });
      ws.send(xml);
    });

  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_, res) => reject(new Error(`xmpp ${user}: HTTP ${res.statusCode}`)));
  });
  // Stream open, features (mechanisms), SASL PLAIN, stream restart, features (bind), bind.
  let features = expect((k) => k === 'features', 'stream features');
  ws.send(openStream(domain));
  await features;
  const success = expect((k) => k === 'success', 'SASL success');
  ws.send(saslPlain(user, password));
  await success;
  features = expect((k) => k === 'features', 'stream features after SASL');
  ws.send(openStream(domain));
  await features;
  const resource = `b${++seq}`;
  const bound = expect((k, f) => k === 'iq' && attr(openingTag(f), 'id') === 'bind', 'resource binding');
  ws.send(bindIq('bind', resource));
  const jid = textOf(await bound, 'jid');

  let n = 0;
  const nextId = () => `${resource}-${(++n).toString(36)}`;
  const mamPage = async (roomJid, cursor, limit) => {
    const id = nextId();
    const bodies = [];
    mam.set(id, bodies);
    try {
      const fin = parseFin(await iq(id, mamQuery(roomJid, id, id, { before: cursor, limit })));
      return { bodies, fin };
    } finally {
      mam.delete(id);
    }
  };

  return {
    jid,
    nick,
    ws,
    /** Joins the MUC room `roomJid`; resolves on the own presence (status 110), i.e. once the
     *  room will route its messages here. No history is asked for. */
    join(roomJid) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`xmpp ${user}: timeout joining ${roomJid}`)), joinTimeoutMs);
        joins.set(roomJid, {
          resolve: () => (clearTimeout(timer), resolve()),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        ws.send(mucJoin(roomJid, nick));
      });
    },
    /** Sends a groupchat message; resolves when the room reflects it back to this session (the
     *  room has accepted, archived and broadcast it). */
    send(roomJid, body) {
      if (failure) return Promise.reject(failure);
      const id = nextId();
      const p = new Promise((resolve, reject) => sends.set(id, [resolve, reject]));
      ws.send(groupchat(roomJid, id, body));
      return p;
    },
    /** One MAM page, newest first: the newest `limit` messages when `before` is null, else the
     *  `limit` messages before archive id `before`. next: the cursor for the page before, null
     *  when the archive's start is reached. */
    async history(roomJid, { before = null, limit = 50 } = {}) {
      const { bodies, fin } = await mamPage(roomJid, before, limit);
      bodies.reverse();
      return { bodies, next: fin.complete || !bodies.length ? null : fin.first };
    },
    /** The deepest page: the oldest `limit` messages (RSM without a cursor pages from the
     *  archive's start), newest first like history(). */
    async oldest(roomJid, { limit = 50 } = {}) {
      const { bodies } = await mamPage(roomJid, undefined, limit);
      bodies.reverse();
      return { bodies, next: null };
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        ws.send(closeStream());
      } catch {}
      ws.close();
    },
  };
}
