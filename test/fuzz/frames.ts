// The fast-check generators of the fuzz test (gateway-fuzz.e2e.spec.ts): WebSocket frames and
// HTTP bodies, random and mutated from valid ones, as the exact text that goes on the wire.
// Values JSON.stringify cannot write (numbers beyond double range, -0, 2^53+1 digits, lone
// surrogate escapes) are written as a placeholder string and spliced in raw (`rawJson`).
import fc from 'fast-check';
import { ErrorCodes, WsOpNames, type WsOp } from '@chat/contracts';

/** What valid requests of the fuzzing user refer to: real ids, so mutations reach the services. */
export interface FuzzContext {
  token: string;
  roomId: string;
  /** A room the user owns that mutated room.delete/leave/transfer frames may destroy. */
  spareRoomId: string;
  messageId: string;
  userId: string;
  otherUserId: string;
  otherUsername: string;
}

const uuid = '8c7f0a4e-2f35-4b8e-9d4e-6a1f0c2b3d4e';

/**
 * One valid `data` per op (null: the op takes none). A Record over every op: a new op without a
 * sample does not compile, so the fuzz covers it from the day it is added.
 */
export function validSamples(c: FuzzContext): Record<WsOp, Record<string, unknown> | null> {
  const room = { roomId: c.roomId };
  const msg = { roomId: c.roomId, messageId: c.messageId };
  return {
    auth: { token: c.token },
    ping: null,
    'rooms.list': null,
    'room.create': { name: 'fuzz room', topic: 't', visibility: 'private', postPolicy: 'members', memberLimit: 10, slowModeSeconds: 0 },
    'room.join': room,
    'room.leave': { roomId: c.spareRoomId },
    'room.directory': { query: 'fuzz', offset: 0, limit: 10 },
    'room.mine': null,
    'room.details': room,
    'room.members': { roomId: c.roomId, offset: 0, limit: 10 },
    'room.invite': { roomId: c.roomId, username: c.otherUsername },
    'invitation.accept': room,
    'invitation.decline': room,
    'invitation.list': null,
    'room.kick': { roomId: c.roomId, userId: c.otherUserId, reason: 'r' },
    'room.ban': { roomId: c.roomId, userId: c.otherUserId, reason: 'r' },
    'room.unban': { roomId: c.roomId, userId: c.otherUserId },
    'room.bans': room,
    'room.update': { roomId: c.roomId, name: 'renamed', topic: 'x' },
    'room.setRole': { roomId: c.roomId, userId: c.otherUserId, role: 'admin' },
    'room.transfer': { roomId: c.spareRoomId, userId: c.otherUserId },
    'room.delete': { roomId: c.spareRoomId },
    'message.send': { roomId: c.roomId, clientMsgId: 'fuzz-1', body: 'fuzz body', replyTo: c.messageId },
    'dm.send': { username: c.otherUsername, clientMsgId: 'fuzz-dm-1', body: 'hello' },
    'dm.list': null,
    'user.block': { userId: c.otherUserId },
    'user.unblock': { userId: c.otherUserId },
    'user.blocks': null,
    'message.edit': { ...msg, body: 'edited' },
    'message.delete': msg,
    'reaction.add': { ...msg, emoji: '👍' },
    'reaction.remove': { ...msg, emoji: '👍' },
    'room.setRetention': { roomId: c.roomId, days: 30 },
    'history.page': { roomId: c.roomId, before: 100, limit: 20 },
    'message.search': { query: 'fuzz', roomId: c.roomId, senderId: c.userId, order: 'newest', offset: 0, limit: 10 },
    'read.mark': { roomId: c.roomId, position: 1 },
    'read.state': null,
    'room.stats': { roomId: c.roomId, from: '2024-01-01', to: '2024-01-31', offset: 0, limit: 10 },
    'admin.retentionRuns': null,
    'presence.list': { offset: 0, limit: 10 },
    'presence.set': { status: 'busy', text: 'fuzzing' },
    'presence.room': { roomId: c.roomId, offset: 0, limit: 10 },
    'presence.contacts': { offset: 0, limit: 10 },
    'presence.active': null,
    typing: { roomId: c.roomId, typing: true },
    'report.create': { ...msg, reason: 'spam' },
    'mod.me': null,
    'mod.filters.get': room,
    'mod.filters.set': {
      roomId: c.roomId,
      config: { words: [{ term: 'x', action: 'mask' }], allow: [], patterns: [], links: { default: null, domains: [] }, spam: {} },
    },
    'mod.filters.test': { roomId: c.roomId, body: 'test' },
    'mod.roles': null,
    'mod.role.set': { userId: c.otherUserId, role: 'moderator' },
    'mod.mute': { userId: c.otherUserId, roomId: c.roomId, seconds: 60, reason: 'r' },
    'mod.unmute': { userId: c.otherUserId, roomId: c.roomId },
    'mod.mutes': room,
    'mod.warn': { userId: c.otherUserId, reason: 'r' },
    'mod.kick': { userId: c.otherUserId, reason: 'r' },
    'mod.ban': { userId: c.otherUserId, reason: 'r' },
    'mod.unban': { userId: c.otherUserId },
    'mod.bans': null,
    'mod.reports': { state: 'open', limit: 10 },
    'mod.report.claim': { reportId: uuid },
    'mod.report.resolve': { reportId: uuid, note: 'n', action: 'warned' },
    'mod.report.dismiss': { reportId: uuid },
    'mod.audit': { roomId: c.roomId, limit: 10 },
  };
}

// ---------------------------------------------------------------------------------------------
// Raw values
// ---------------------------------------------------------------------------------------------

const RAW = '\u0001RAW:';
/** A value written into the JSON text exactly as `text` (a number JSON.stringify cannot make). */
const raw = (text: string) => `${RAW}${text}\u0001`;
/** JSON.stringify, then the placeholders replaced by their raw text. */
export function rawJson(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0001RAW:(.*?)\\u0001"/g, (_, text: string) => text);
}

const hugeNumbers = fc.constantFrom(
  raw('1e400'),
  raw('-1e400'),
  raw('1e-400'),
  raw('-0'),
  raw('123456789012345678901234567890123456789'),
  raw('9007199254740993'),
  raw('0.' + '1'.repeat(400)),
  raw('1' + '0'.repeat(5000)),
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 63,
  1.5,
  -1,
);

const oddStrings = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfffy',
    '\u202e',
    '\ufeff',
    '../../etc/passwd',
    '"; DROP TABLE messages; --',
    "' OR 1=1 --",
    '%00',
    '{{7*7}}',
    '<script>alert(1)</script>',
    '__proto__',
    'constructor',
    'prototype',
    'hasOwnProperty',
    'toString',
    'valueOf',
    'NaN',
    'Infinity',
    'null',
    'true',
    '8c7f0a4e-2f35-4b8e-9d4e-6a1f0c2b3d4e',
    '00000000-0000-0000-0000-000000000000',
    'general',
    'a'.repeat(65),
    '💩'.repeat(70),
  ),
  fc.integer({ min: 1, max: 70_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 1, max: 20_000 }).map((n) => 'é'.repeat(n)),
);

/** Keys a fuzzed object may carry: the prototype-pollution keys, the envelope's, the DTOs'. */
export const pollutionKeys = ['__proto__', 'constructor', 'prototype'];
const fieldNames = [
  'op',
  'type',
  'id',
  'data',
  'token',
  'roomId',
  'userId',
  'username',
  'password',
  'name',
  'body',
  'messageId',
  'role',
  'actorId',
  'actorName',
  'isAdmin',
  'fuzzPolluted',
];
/** What a pollution payload sets: if it ever reached Object.prototype, the probes see these. */
export const pollutionPayload = (): Record<string, unknown> => ({
  op: 'ping',
  type: 'req',
  id: 'polluted',
  data: {},
  username: 'polluted',
  password: 'polluted-password',
  name: 'polluted',
  roomId: 'polluted',
  userId: uuid,
  isAdmin: true,
  fuzzPolluted: true,
});

/** An object with an own enumerable property named `key`, even `__proto__` (JSON.stringify writes it). */
function withOwn(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

/** `{"__proto__": {...}}`, `{"constructor": {"prototype": {...}}}`, `{"prototype": {...}}`. */
const pollutionObject = fc.constantFrom(...pollutionKeys).map((key) => {
  const inner = key === 'constructor' ? { prototype: pollutionPayload() } : pollutionPayload();
  return withOwn({}, key, inner);
});

/** Arrays or objects nested `depth` deep, as raw JSON text (any depth, even beyond the stack). */
const deepNesting = fc
  .tuple(fc.constantFrom(7, 8, 9, 10, 50, 1000, 20_000), fc.boolean())
  .map(([depth, arrays]) => raw(arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)));

/** Any odd value: wrong types, huge numbers, odd strings, pollution, deep nesting. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: hugeNumbers },
  { weight: 3, arbitrary: oddStrings },
  { weight: 2, arbitrary: pollutionObject },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], [[[]]], 0) },
);

// ---------------------------------------------------------------------------------------------
// Mutations of a valid object
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

/** One mutation of an object (a copy): a field replaced, removed, added, or pollution keys added. */
const mutation: fc.Arbitrary<(o: Obj) => Obj> = fc.oneof(
  fc.tuple(fc.nat(), oddValue).map(([i, v]) => (o: Obj) => {
    const keys = Object.keys(o);
    return keys.length ? withOwn({ ...o }, keys[i % keys.length], v) : withOwn({ ...o }, 'x', v);
  }),
  fc.nat().map((i) => (o: Obj) => {
    const keys = Object.keys(o);
    const copy = { ...o };
    if (keys.length) delete copy[keys[i % keys.length]];
    return copy;
  }),
  fc.tuple(fc.constantFrom(...fieldNames, ...pollutionKeys), oddValue).map(
    ([k, v]) =>
      (o: Obj) =>
        withOwn({ ...o }, k, v),
  ),
  fc
    .constantFrom(...pollutionKeys)
    .map((k) => (o: Obj) => withOwn({ ...o }, k, k === 'constructor' ? { prototype: pollutionPayload() } : pollutionPayload())),
  fc.tuple(fc.nat(), fc.constantFrom(...pollutionKeys)).map(([i, k]) => (o: Obj) => {
    // pollution one level down, inside an existing object field when there is one
    const key = Object.keys(o).find((x, n) => n >= i % Math.max(1, Object.keys(o).length) && o[x] && typeof o[x] === 'object');
    return key ? { ...o, [key]: withOwn({ ...(o[key] as Obj) }, k, pollutionPayload()) } : withOwn({ ...o }, k, pollutionPayload());
  }),
);

/** 1-3 mutations applied in turn. */
export const mutate = (o: Obj) => fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => ms.reduce((acc, m) => m(acc), o));

// ---------------------------------------------------------------------------------------------
// WebSocket frames
// ---------------------------------------------------------------------------------------------

/** A frame to send: its text, and the request id the reply should carry (null: none or unreadable). */
export interface FuzzFrame {
  text: string;
  id: string | null;
}

let seq = 0;
const nextId = () => `f${(++seq).toString(36)}`;

function frameOf(frame: Obj): FuzzFrame {
  const id = frame.id;
  const idOk = typeof id === 'string' && [...id].length >= 1 && [...id].length <= 64;
  return { text: rawJson(frame), id: idOk ? id : null };
}

/**
 * Frames for an authenticated connection. `ops` are the ops whose valid samples are mutated
 * (auth is left out on authenticated connections: a mutated token could end the session and
 * with it the coverage of every later frame).
 */
export function frameArb(c: FuzzContext, ops: readonly WsOp[] = WsOpNames.filter((o) => o !== 'auth')): fc.Arbitrary<FuzzFrame> {
  const samples = validSamples(c);
  const validFrame = fc.constantFrom(...ops).map((op) => {
    const data = samples[op];
    return { type: 'req', id: nextId(), op, ...(data ? { data } : {}) } as Obj;
  });
  // A valid frame with its data mutated.
  const mutatedData = validFrame.chain((f) => mutate((f.data as Obj | undefined) ?? {}).map((data) => ({ ...f, data })));
  // A valid frame with its envelope mutated (id, type, op; pollution keys at the top).
  const mutatedEnvelope = validFrame.chain((f) => mutate(f).map((m) => ({ ...m })));
  // An unknown or odd op.
  const oddOp = fc.oneof(
    oddStrings,
    fc.constantFrom('room.Join', 'ROOM.JOIN', 'room.join ', '__proto__', 'constructor', 'toString', 'hasOwnProperty'),
  );
  const unknownOp = oddOp.map((op) => ({ type: 'req', id: nextId(), op, data: {} }) as Obj);
  // data of the wrong type altogether.
  const wrongData = fc.tuple(fc.constantFrom(...ops), oddValue).map(([op, data]) => ({ type: 'req', id: nextId(), op, data }) as Obj);
  const framed = fc.oneof(
    { weight: 6, arbitrary: mutatedData },
    { weight: 2, arbitrary: mutatedEnvelope },
    { weight: 1, arbitrary: validFrame },
    { weight: 1, arbitrary: unknownOp },
    { weight: 2, arbitrary: wrongData },
  );
  // Text that is not a request object at all.
  const notAFrame = fc
    .oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constantFrom('', ' ', '{', '[', '{"type":"req"', 'null', '"req"', '{"id":"x","type":"req","op":"ping"}garbage', '\u0000'),
      validFrame.chain((f) => fc.nat().map((cut) => JSON.stringify(f).slice(0, cut % JSON.stringify(f).length))),
    )
    .map((text) => ({ text, id: null }) as FuzzFrame);
  return fc.oneof({ weight: 12, arbitrary: framed.map(frameOf) }, { weight: 1, arbitrary: notAFrame });
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

/**
 * What is wrong with a reply (null: nothing): a `res` frame with `ok: true` and data for a
 * frame whose id it carries, or `ok: false` with a typed error (a code of the ErrorCode union
 * other than INTERNAL, a string message, details of `{ field, problems }`), its id null or the
 * id of a frame sent.
 */
export function replyProblem(reply: any, sentIds: ReadonlySet<string>): string | null {
  if (reply === null || typeof reply !== 'object' || reply.type !== 'res') return 'not a res frame';
  if (reply.ok === true) {
    if (typeof reply.id !== 'string' || !sentIds.has(reply.id)) return 'success for an id not sent';
    if (reply.data === null || typeof reply.data !== 'object') return 'success without a data object';
    if ('error' in reply) return 'success with an error';
    return null;
  }
  if (reply.ok !== false) return 'ok is not a boolean';
  if (reply.id !== null && !(typeof reply.id === 'string' && sentIds.has(reply.id))) return 'error for an id not sent';
  const e = reply.error;
  if (!e || typeof e !== 'object') return 'error without an error body';
  if (!(ErrorCodes as readonly string[]).includes(e.code)) return `untyped error code ${JSON.stringify(e.code)}`;
  if (e.code === 'INTERNAL') return 'INTERNAL error (an unexpected failure)';
  if (typeof e.message !== 'string') return 'error message is not a string';
  if (e.details !== undefined) {
    if (!Array.isArray(e.details)) return 'details is not an array';
    for (const d of e.details)
      if (typeof d?.field !== 'string' || !Array.isArray(d?.problems) || d.problems.some((p: unknown) => typeof p !== 'string'))
        return 'details entry is not { field, problems }';
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// HTTP bodies
// ---------------------------------------------------------------------------------------------

export interface HttpTarget {
  method: 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Send the fuzzing HTTP user's Bearer token. */
  bearer: boolean;
  /** A valid body (mutations start from it). */
  sample: Obj;
}

/**
 * The gateway's HTTP endpoints that read a body (apps/gateway/src/accounts, moderation). The
 * samples that would change the fuzzing user's own account (password, deletion, logout) carry
 * a wrong password or token, so a mutation that keeps them valid is still refused.
 */
export function httpTargets(c: { username: string; refreshToken: string }): HttpTarget[] {
  return [
    { method: 'POST', path: '/api/auth/register', bearer: false, sample: { username: 'fuzzer', password: 'long enough password' } },
    {
      method: 'POST',
      path: '/api/auth/login',
      bearer: false,
      sample: { username: c.username, password: 'not the password', remember: true },
    },
    { method: 'POST', path: '/api/auth/refresh', bearer: false, sample: { refreshToken: c.refreshToken.slice(0, -4) + 'AAAA' } },
    { method: 'POST', path: '/api/auth/logout', bearer: true, sample: { refreshToken: 'x'.repeat(40) } },
    {
      method: 'POST',
      path: '/api/account/password',
      bearer: true,
      sample: { currentPassword: 'not the password', newPassword: 'another long one' },
    },
    { method: 'DELETE', path: '/api/account', bearer: true, sample: { password: 'not the password' } },
    { method: 'POST', path: '/api/admin/users/disable', bearer: true, sample: { username: c.username, reason: 'r' } },
    { method: 'POST', path: '/api/admin/users/enable', bearer: true, sample: { username: c.username } },
    {
      method: 'PUT',
      path: '/api/moderation/filters',
      bearer: true,
      sample: { config: { words: [], allow: [], patterns: [], links: { default: null, domains: [] }, spam: {} } },
    },
  ];
}

export interface FuzzHttpRequest {
  target: HttpTarget;
  /** The body bytes. */
  body: Buffer;
  contentType: string | null;
}

/** HTTP bodies: mutated samples, random JSON, not JSON, invalid UTF-8, odd content types. */
export function httpArb(targets: HttpTarget[]): fc.Arbitrary<FuzzHttpRequest> {
  const target = fc.constantFrom(...targets);
  const mutated = target.chain((t) => mutate(t.sample).map((body) => ({ t, text: rawJson(body) })));
  const randomJson = fc.tuple(target, oddValue).map(([t, v]) => ({ t, text: rawJson(v) }));
  const notJson = fc.tuple(target, fc.string({ unit: 'binary', maxLength: 100 })).map(([t, text]) => ({ t, text }));
  const asText = fc.oneof({ weight: 6, arbitrary: mutated }, { weight: 3, arbitrary: randomJson }, { weight: 1, arbitrary: notJson });
  const invalidUtf8 = fc.tuple(target, fc.uint8Array({ minLength: 1, maxLength: 40 })).map(([t, bytes]) => ({
    target: t,
    // 0xff never occurs in UTF-8; 0xc3 0x28 is a broken two-byte sequence
    body: Buffer.concat([Buffer.from('{"username":"'), Buffer.from(bytes), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('"}')]),
    contentType: 'application/json',
  }));
  const contentType = fc.oneof(
    { weight: 12, arbitrary: fc.constant('application/json') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        null,
        'text/plain',
        'application/json; charset=latin1',
        'application/x-www-form-urlencoded',
        'application/json; charset=utf-16',
      ),
    },
  );
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc.tuple(asText, contentType).map(([{ t, text }, ct]) => ({ target: t, body: Buffer.from(text), contentType: ct })),
    },
    { weight: 1, arbitrary: invalidUtf8 },
  );
}

/** What is wrong with an HTTP answer (null: nothing): `{ error: { code, message } }` typed for 4xx (any 5xx is wrong), JSON or nothing on success. */
export function httpProblem(status: number, text: string): string | null {
  if (status >= 500) return `status ${status}`;
  if (status === 204) return text === '' ? null : 'body on 204';
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    return `status ${status} with a body that is not JSON`;
  }
  if (status >= 200 && status < 300) return json && typeof json === 'object' ? null : 'success without a JSON object';
  if (status < 400) return `status ${status}`;
  const e = json?.error;
  if (!e || !(ErrorCodes as readonly string[]).includes(e.code) || typeof e.message !== 'string') return 'untyped error body';
  return null;
}
