// The raw WebSocket/HTTP client and the shape checks that the clients written from
// docs/protocol.md alone share (protocol-doc, protocol-rooms and protocol-history.e2e.spec.ts):
// written from the document, not from the server's code or the contracts, so that those tests
// check the document. Uses only `ws` and `fetch`.
import WebSocket from 'ws';
import { eventually } from '@chat/testing';

export interface WsError {
  code: string;
  message: string;
  details?: { field: string; problems: string[] }[];
}
export interface Res {
  type: 'res';
  id: string | null;
  ok: boolean;
  data?: any;
  error?: WsError;
}
export interface Evt {
  type: 'evt';
  event: string;
  position: number;
  data: any;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// "Times are ISO-8601 strings in UTC with milliseconds"
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// expiresAt "has whole seconds" (the example shows `.000Z`)
export const ISO_WHOLE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.000)?Z$/;
export const ROOM_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

// Fields in replies/events that the document does not name (reported, not failed).
export const undocumented = new Set<string>();

export type FieldType =
  | 'string'
  | 'integer'
  | 'boolean'
  | 'object'
  | 'array'
  | 'uuid'
  | 'time'
  | 'null'
  | 'integerOrNull'
  | 'userOrNull'
  | 'timeOrNull'
  | 'objectOrNull'
  | 'stringOrNull'
  | readonly unknown[];

export function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Checks that each named field exists with the documented type; `where` names the shape. */
export function expectFields(where: string, obj: any, spec: Record<string, FieldType>): void {
  expect({ where, type: typeOf(obj) }).toEqual({ where, type: 'object' });
  for (const [field, t] of Object.entries(spec)) {
    const v = obj[field];
    const got = { where, field, present: field in obj, ok: true as boolean, value: v };
    let ok: boolean;
    if (Array.isArray(t)) ok = t.includes(v);
    else if (t === 'uuid') ok = typeof v === 'string' && UUID.test(v);
    else if (t === 'time') ok = typeof v === 'string' && ISO_MS.test(v);
    else if (t === 'integerOrNull') ok = v === null || Number.isInteger(v);
    else if (t === 'timeOrNull') ok = v === null || (typeof v === 'string' && ISO_MS.test(v));
    else if (t === 'objectOrNull') ok = v === null || typeOf(v) === 'object';
    else if (t === 'stringOrNull') ok = v === null || typeof v === 'string';
    else if (t === 'userOrNull')
      ok = v === null || (typeOf(v) === 'object' && typeof v.userId === 'string' && UUID.test(v.userId) && typeof v.username === 'string');
    else ok = typeOf(v) === t;
    got.ok = ok;
    expect(got).toEqual({ where, field, present: true, ok: true, value: v });
  }
  for (const k of Object.keys(obj)) if (!(k in spec)) undocumented.add(`${where}.${k}`);
}

/** The room settings (RoomSettings): in RoomSummary, RoomDetails and the `room.updated` event. */
export const roomSettingsFields = {
  name: 'string',
  topic: 'string',
  visibility: ['public', 'private'],
  postPolicy: ['members', 'admins'],
  memberLimit: 'integer',
  slowModeSeconds: 'integer',
} as const;

/** The fields of a RoomSummary (Shapes), which RoomDetails has too. */
export const roomSummaryFields = {
  roomId: 'string',
  ...roomSettingsFields,
  memberCount: 'integer',
  myRole: ['owner', 'admin', 'member', null],
} as const;

export function expectRoomSummary(where: string, r: any): void {
  expectFields(where, r, roomSummaryFields);
  expect(r.roomId).toMatch(ROOM_ID);
}

export function expectUserView(where: string, u: any): void {
  expectFields(where, u, { userId: 'uuid', username: 'string' });
}

/**
 * `MessageView`: the fields of the Shapes table, each with its documented type, and the nested
 * `replyTo`, `mentions`, `deleted` and `reactions` shapes.
 */
export function expectMessageView(where: string, m: any): void {
  expectFields(where, m, {
    messageId: 'uuid',
    roomId: 'string',
    senderId: 'uuid',
    senderName: 'string',
    clientMsgId: 'string',
    body: 'string',
    replyTo: 'objectOrNull',
    mentions: 'array',
    html: 'string',
    time: 'time',
    position: 'integer',
    editedAt: 'timeOrNull',
    deleted: 'objectOrNull',
    reactions: 'array',
  });
  if (m.replyTo !== null && m.replyTo !== undefined)
    expectFields(`${where}.replyTo`, m.replyTo, {
      messageId: 'uuid',
      position: 'integer',
      senderId: 'uuid',
      senderName: 'string',
      excerpt: 'string',
    });
  (m.mentions ?? []).forEach((u: any, i: number) => expectUserView(`${where}.mentions[${i}]`, u));
  if (m.deleted !== null && m.deleted !== undefined) {
    expectFields(`${where}.deleted`, m.deleted, { by: 'object', reason: ['author', 'moderator'], time: 'time' });
    expectUserView(`${where}.deleted.by`, m.deleted.by);
  }
  (m.reactions ?? []).forEach((r: any, i: number) => {
    expectFields(`${where}.reactions[${i}]`, r, { emoji: 'string', count: 'integer', userIds: 'array' });
    for (const u of r.userIds ?? [])
      expect({ where: `${where}.reactions[${i}].userIds[]`, ok: typeof u === 'string' && UUID.test(u) }).toEqual({
        where: `${where}.reactions[${i}].userIds[]`,
        ok: true,
      });
  });
}

/** `MessageView` as live `message.posted` carries it: `editedAt` and `deleted` null, `reactions` empty. */
export function expectPostedMessageView(where: string, m: any): void {
  expectMessageView(where, m);
  expect({ where, editedAt: m.editedAt, deleted: m.deleted, reactions: m.reactions }).toEqual({
    where,
    editedAt: null,
    deleted: null,
    reactions: [],
  });
}

/** PresenceView `{ userId, username, status, text, lastSeen }`; an offline user shows no text. */
export function expectPresenceView(where: string, p: any): void {
  expectFields(where, p, {
    userId: 'uuid',
    username: 'string',
    status: ['online', 'away', 'busy', 'offline'],
    text: 'stringOrNull',
    lastSeen: 'time',
  });
  if (p.status === 'offline') expect({ where, offlineText: p.text }).toEqual({ where, offlineText: null });
}

export function expectPostAck(where: string, a: any): void {
  expectFields(where, a, {
    messageId: 'uuid',
    roomId: 'string',
    clientMsgId: 'string',
    time: 'time',
    position: 'integer',
    duplicate: 'boolean',
  });
}

export function expectMembershipAck(where: string, a: any): void {
  expectFields(where, a, { room: 'object', position: 'integer' });
  expectRoomSummary(`${where}.room`, a.room);
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

export class DocClient {
  private counter = 0;
  private readonly pending = new Map<string, (r: Res) => void>();
  readonly events: Evt[] = [];
  /** Replies whose id is null (the id could not be read). */
  readonly nullReplies: Res[] = [];
  /** Anything that is not a reply to a pending request nor an event. */
  readonly strays: unknown[] = [];
  closeInfo: { code: number; reason: string; at: number } | null = null;
  readonly openedAt = Date.now();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw, isBinary) => this.onFrame(raw as Buffer, isBinary));
    ws.on('close', (code, reason) => (this.closeInfo = { code, reason: reason.toString(), at: Date.now() }));
    ws.on('error', () => undefined);
  }

  static open(url: string): Promise<DocClient> {
    return new Promise((resolve, reject) => {
      // No compression is negotiated per the document; do not offer it either.
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const c = new DocClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  private onFrame(raw: Buffer, isBinary: boolean): void {
    let msg: any;
    try {
      msg = JSON.parse(raw.toString('utf8'));
    } catch {
      this.strays.push({ unparsable: raw.toString('utf8'), isBinary });
      return;
    }
    if (msg?.type === 'evt') {
      this.events.push(msg);
    } else if (msg?.type === 'res') {
      if (msg.id === null) {
        this.nullReplies.push(msg);
        return;
      }
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        p(msg);
      } else {
        this.strays.push(msg);
      }
    } else {
      this.strays.push(msg);
    }
  }

  nextId(): string {
    return String(++this.counter);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && !this.closeInfo;
  }

  /** Sends a request and resolves with its reply (matched by id only). */
  request(op: string, data?: unknown, opts: { id?: string; timeoutMs?: number; extra?: Record<string, unknown> } = {}): Promise<Res> {
    const id = opts.id ?? this.nextId();
    const frame: Record<string, unknown> = { type: 'req', id, op, ...(opts.extra ?? {}) };
    if (data !== undefined) frame.data = data;
    return this.sendFrame(JSON.stringify(frame), { id, timeoutMs: opts.timeoutMs });
  }

  async call(op: string, data?: unknown): Promise<any> {
    const r = await this.request(op, data);
    if (!r.ok) throw new Error(`${op} ${JSON.stringify(data)} failed: ${JSON.stringify(r.error)}`);
    return r.data;
  }

  /**
   * Sends a raw frame and resolves with the reply: the one carrying `id` if given, or the next
   * reply with `id: null` (whichever comes first, so a wrong id shows in the assertion).
   */
  sendFrame(payload: string | Buffer, opts: { id?: string; binary?: boolean; timeoutMs?: number } = {}): Promise<Res> {
    const before = this.nullReplies.length;
    return new Promise<Res>((resolve, reject) => {
      let done = false;
      const finish = (r: Res) => {
        if (done) return;
        done = true;
        clearInterval(poll);
        clearTimeout(timer);
        if (opts.id !== undefined) this.pending.delete(opts.id);
        resolve(r);
      };
      if (opts.id !== undefined) this.pending.set(opts.id, finish);
      const poll = setInterval(() => {
        if (this.nullReplies.length > before) finish(this.nullReplies[before]);
        else if (this.closeInfo) {
          done = true;
          clearInterval(poll);
          clearTimeout(timer);
          reject(new Error(`connection closed (${this.closeInfo.code}) before a reply to ${opts.id ?? '(no id)'}`));
        }
      }, 5);
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        clearInterval(poll);
        reject(new Error(`no reply to ${opts.id ?? '(no id)'} within ${opts.timeoutMs ?? 15_000} ms`));
      }, opts.timeoutMs ?? 15_000);
      this.ws.send(payload, { binary: !!opts.binary });
    });
  }

  mark(): number {
    return this.events.length;
  }

  waitEvent(pred: (e: Evt) => boolean, from = 0, timeoutMs = 10_000): Promise<Evt> {
    return eventually(() => this.events.slice(from).find(pred), timeoutMs);
  }

  eventsWhere(pred: (e: Evt) => boolean): Evt[] {
    return this.events.filter(pred);
  }

  waitClose(timeoutMs = 10_000): Promise<{ code: number; reason: string; at: number }> {
    return eventually(() => this.closeInfo, timeoutMs);
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------

export interface HttpRes {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export interface HttpOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** The body as these exact bytes instead of `body` as JSON. */
  raw?: string;
  /** Of a request with a body; default application/json, null: no Content-Type header. */
  contentType?: string | null;
  headers?: Record<string, string>;
}

export async function http(base: string, method: string, path: string, body?: unknown, opts: HttpOptions = {}): Promise<HttpRes> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let payload: string | undefined;
  if (opts.raw !== undefined) payload = opts.raw;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined && opts.contentType !== null) headers['content-type'] = opts.contentType ?? 'application/json';
  const r = await fetch(base + path, { method, headers, body: payload });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** "the same message, `room "<id>" does not exist`" */
export const missingRoomMessage = (roomId: string) => `room "${roomId}" does not exist`;

/** The reply is a success; returns its `data`. */
export function expectOk(where: string, r: Res): any {
  expect({ where, ok: r.ok, error: r.error }).toEqual({ where, ok: true, error: undefined });
  return r.data;
}

/** The reply is an error `code` with a string message; with `field`, its `details` name that field. */
export function expectErr(where: string, r: Res, code: string, field?: string): void {
  expect({ where, ok: r.ok, code: r.error?.code, messageType: typeof r.error?.message }).toEqual({
    where,
    ok: false,
    code,
    messageType: 'string',
  });
  if (field !== undefined) {
    const fields = (r.error?.details ?? []).map((d) => d.field);
    expect({ where, fields }).toEqual({ where, fields: expect.arrayContaining([field]) });
  }
}

/** A hidden room answers exactly as a missing one: NOT_FOUND, `room "<id>" does not exist`. */
export function expectHidden(where: string, r: Res, roomId: string): void {
  expect({ where, ok: r.ok, code: r.error?.code, message: r.error?.message }).toEqual({
    where,
    ok: false,
    code: 'NOT_FOUND',
    message: missingRoomMessage(roomId),
  });
}

// ---------------------------------------------------------------------------------------------
// Accounts and connections
// ---------------------------------------------------------------------------------------------

export interface Account {
  userId: string;
  username: string;
  password: string;
  token: string;
}

/** The `/ws` endpoint of the gateway at the HTTP address `base`. */
export const wsUrlOf = (base: string) => `${base.replace(/^http/, 'ws')}/ws`;

/** Registers `username` (password `pw-<username>-123`) on the gateway at `base` and logs in. */
export async function createAccount(base: string, username: string): Promise<Account> {
  const password = `pw-${username}-123`;
  const r = await http(base, 'POST', '/api/auth/register', { username, password });
  expect({ username, status: r.status }).toEqual({ username, status: 201 });
  const l = await http(base, 'POST', '/api/auth/login', { username, password });
  expect(l.status).toBe(200);
  return { userId: r.json.user.userId, username: r.json.user.username, password, token: l.json.accessToken };
}

/** The connections a test file opens, so that they are all closed at its end. */
export class DocClients {
  private readonly opened: DocClient[] = [];

  /** A new connection to `url`, authenticated as `account` (the auth reply checked). */
  async authed(account: Account, url: string): Promise<DocClient> {
    const cl = await DocClient.open(url);
    this.opened.push(cl);
    expectOk('auth', await cl.request('auth', { token: account.token }));
    return cl;
  }

  closeAll(): void {
    for (const cl of this.opened) cl.close();
  }
}

/** Lists the reply and event fields the document does not name (reported, not failed). */
export function reportUndocumented(): void {
  if (undocumented.size) console.log(`fields not named in protocol.md:\n  ${[...undocumented].sort().join('\n  ')}`);
}

// ---------------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------------

/** Chat events at `position` (presence positions are another sequence: left out). */
export const chatEventsAt = (cl: DocClient, position: number): Evt[] =>
  cl.events.filter((ev) => ev.event !== 'presence.changed' && ev.position === position);

/**
 * The event `name` at `position` reaches every client of `to` exactly once, and none of
 * `notTo` (checked after the others got it and a grace period). Returns one copy.
 */
export async function delivered(where: string, name: string, position: number, to: DocClient[], notTo: DocClient[] = []): Promise<Evt> {
  const got: Evt[] = [];
  for (const cl of to) {
    let ev: Evt | undefined;
    try {
      ev = await cl.waitEvent((x) => x.event === name && x.position === position, 0, 8000);
    } catch {
      ev = undefined;
    }
    // when missing, show what this receiver got at that position instead
    const instead = ev ? undefined : chatEventsAt(cl, position).map((x) => x.event);
    expect({ where, event: name, position, receiver: to.indexOf(cl), received: !!ev, instead }).toEqual({
      where,
      event: name,
      position,
      receiver: to.indexOf(cl),
      received: true,
    });
    got.push(ev!);
  }
  await sleep(400);
  for (const cl of to) {
    const n = cl.events.filter((x) => x.event === name && x.position === position).length;
    expect({ where, event: name, receiver: to.indexOf(cl), copies: n }).toEqual({
      where,
      event: name,
      receiver: to.indexOf(cl),
      copies: 1,
    });
  }
  for (const cl of notTo) {
    // one stream event can be reported under two names (member.invited / invitation.received)
    const stray = chatEventsAt(cl, position)
      .filter((x) => x.event === name)
      .map((x) => x.event);
    expect({ where, event: name, nonReceiver: notTo.indexOf(cl), got: stray }).toEqual({
      where,
      event: name,
      nonReceiver: notTo.indexOf(cl),
      got: [],
    });
  }
  for (const ev of got) expect({ where, position: ev.position, type: ev.type }).toEqual({ where, position, type: 'evt' });
  return got[0];
}

/** Nothing of the chat stream at `position` reached these clients (after a grace period). */
export async function notDelivered(where: string, position: number, notTo: DocClient[]): Promise<void> {
  await sleep(600);
  for (const cl of notTo) {
    const stray = chatEventsAt(cl, position).map((x) => x.event);
    expect({ where, nonReceiver: notTo.indexOf(cl), got: stray }).toEqual({ where, nonReceiver: notTo.indexOf(cl), got: [] });
  }
}
