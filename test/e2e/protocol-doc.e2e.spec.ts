// An independent client written ONLY from docs/protocol.md (plus `ws` and `fetch`), driven
// through everything the document promises. When this file fails, either the gateway or the
// document is wrong: the assertions are what the document SAYS.
import { createHmac, randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { eventually } from '@chat/testing';
import { freePort, startTestStack, TestStack } from './fixture';
import {
  DocClient,
  HttpRes,
  ISO_WHOLE,
  Res,
  expectFields,
  expectMembershipAck,
  expectMessageView,
  expectPostAck,
  expectPresenceView,
  expectRoomSummary,
  http,
  undocumented,
} from './doc-client';

jest.setTimeout(120_000);

function expectHttpError(where: string, res: HttpRes, status: number, code: string): void {
  expect({ where, status: res.status, code: res.json?.error?.code, messageType: typeof res.json?.error?.message }).toEqual({
    where,
    status,
    code,
    messageType: 'string',
  });
}

function expectWsError(where: string, r: Res, code: string, id: string | null): void {
  expect({ where, type: r.type, id: r.id, ok: r.ok, code: r.error?.code, messageType: typeof r.error?.message }).toEqual({
    where,
    type: 'res',
    id,
    ok: false,
    code,
    messageType: 'string',
  });
}

function b64url(s: string | Buffer): string {
  return Buffer.from(s).toString('base64url');
}

function decodeJwt(token: string): any {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

function forgeJwt(claims: Record<string, unknown>, secret: string): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** A JSON request frame of exactly `bytes` bytes (UTF-8), padded through an unknown data field. */
function frameOfSize(bytes: number, id: string | null, idFirst = true): string {
  const build = (n: number) => {
    const pad = 'a'.repeat(n);
    return idFirst || id === null
      ? `{"type":"req",${id === null ? '' : `"id":${JSON.stringify(id)},`}"op":"ping","data":{"pad":"${pad}"}}`
      : `{"type":"req","op":"ping","data":{"pad":"${pad}"},"id":${JSON.stringify(id)}}`;
  };
  const overhead = Buffer.byteLength(build(0));
  const s = build(bytes - overhead);
  expect(Buffer.byteLength(s)).toBe(bytes);
  return s;
}

function untilTime(t: number, timeoutMs = 20_000): Promise<boolean> {
  return eventually(() => Date.now() >= t, timeoutMs, 20);
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

interface Account {
  userId: string;
  username: string;
  password: string;
  token: string;
  expiresAt: string;
}

describe('protocol.md, followed to the letter', () => {
  let stack: TestStack;
  let base: string;
  let wsUrl: string;
  const clients: DocClient[] = [];
  const users: Record<string, Account> = {};
  const allChatPositions: { where: string; roomId: string; position: number }[] = [];

  const open = async (url = wsUrl): Promise<DocClient> => {
    const c = await DocClient.open(url);
    clients.push(c);
    return c;
  };
  const register = async (username: string, password: string): Promise<HttpRes> =>
    http(base, 'POST', '/api/auth/register', { username, password });
  const login = async (username: string, password: string, b = base): Promise<HttpRes> =>
    http(b, 'POST', '/api/auth/login', { username, password });

  /** Registers, logs in; returns the account. */
  const account = async (username: string): Promise<Account> => {
    const password = `pw-${username}-123`;
    const r = await register(username, password);
    expect({ username, status: r.status, body: r.json }).toMatchObject({ username, status: 201 });
    const l = await login(username, password);
    expect(l.status).toBe(200);
    const a = {
      userId: r.json.user.userId,
      username: r.json.user.username,
      password,
      token: l.json.accessToken,
      expiresAt: l.json.expiresAt,
    };
    users[username] = a;
    return a;
  };

  /** Opens a connection and authenticates (waiting for the reply as the document says). */
  const authed = async (a: Account, url = wsUrl): Promise<DocClient> => {
    const c = await open(url);
    const r = await c.request('auth', { token: a.token });
    expect({ op: 'auth', ok: r.ok, error: r.error }).toEqual({ op: 'auth', ok: true, error: undefined });
    return c;
  };

  const recordPosition = (where: string, roomId: string, position: number) => allChatPositions.push({ where, roomId, position });

  beforeAll(async () => {
    // "ops" is a server administrator ("Give every service the same list").
    const admins = { SERVER_ADMINS: 'ops' };
    stack = await startTestStack({
      serviceEnv: { gateway: admins, rooms: admins, history: admins, presence: admins, moderation: admins },
    });
    base = stack.urls.gateway;
    wsUrl = `${base.replace(/^http/, 'ws')}/ws`;
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    if (undocumented.size) console.log(`fields not named in protocol.md:\n  ${[...undocumented].sort().join('\n  ')}`);
    await stack?.teardown();
  });

  // -------------------------------------------------------------------------------------------
  describe('HTTP API', () => {
    it('health, metrics, web client and unknown paths', async () => {
      const live = await http(base, 'GET', '/health/live');
      expect({ status: live.status, body: live.json }).toEqual({ status: 200, body: { status: 'ok' } });
      const ready = await http(base, 'GET', '/health/ready');
      expect({ status: ready.status, body: ready.json }).toEqual({ status: 200, body: { status: 'ok', checks: { nats: true, kv: true } } });
      const metrics = await http(base, 'GET', '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type') ?? '').toMatch(/^text\/plain/);
      expect(metrics.text).toMatch(/^# (HELP|TYPE) /m);
      const root = await http(base, 'GET', '/');
      expect(root.status).toBe(200);
      expect(root.headers.get('content-type') ?? '').toMatch(/text\/html/);
      const missing = await http(base, 'GET', '/api/no-such-endpoint');
      expectHttpError('unknown path', missing, 404, 'NOT_FOUND');
    });

    it('register: 201 with the documented body; NFKC form returned, case kept', async () => {
      const r = await register('alice', 'password-1');
      expect(r.status).toBe(201);
      expect(Object.keys(r.json)).toEqual(['user']);
      expectFields('register.user', r.json.user, { userId: 'uuid', username: 'string' });
      expect(r.json.user.username).toBe('alice');

      const full = await register('Ｆｕｌｌ', 'password-1'); // full-width → NFKC "Full"
      expect(full.status).toBe(201);
      expect(full.json.user.username).toBe('Full');

      const cjk = await register('小明', 'password-1');
      expect({ status: cjk.status, name: cjk.json?.user?.username }).toEqual({ status: 201, name: '小明' });

      // Lengths are counted in characters (code points): 32 emoji = 64 UTF-16 units.
      const emoji = await register('😀'.repeat(32), 'password-1');
      expect(emoji.status).toBe(201);
      // Passwords likewise: 8 characters (4 of them astral) is enough.
      const pw8 = await register('pw-eight', '😀😀😀😀abcd');
      expect(pw8.status).toBe(201);
    });

    it('register: duplicate names (after NFKC + case folding) are 409 USERNAME_TAKEN', async () => {
      for (const name of ['alice', 'ALICE', 'Alice', 'ａｌｉｃｅ', 'FULL', 'full']) {
        const r = await register(name, 'another-pw');
        expectHttpError(`duplicate ${name}`, r, 409, 'USERNAME_TAKEN');
        expect(r.json.error.details).toBeUndefined();
      }
      // Two concurrent registrations of the same name: exactly one succeeds.
      const both = await Promise.all([register('racer', 'password-1'), register('RACER', 'password-2')]);
      expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
    });

    it('register: validation errors are 400 BAD_REQUEST with per-field details', async () => {
      const short = await register('shorty', 'short');
      expectHttpError('short password', short, 400, 'BAD_REQUEST');
      expect(short.json.error.details).toEqual([{ field: 'password', problems: expect.arrayContaining([expect.any(String)]) }]);

      const cases: [string, unknown][] = [
        ['33 characters', { username: 'x'.repeat(33), password: 'password-1' }],
        ['33 emoji', { username: '😀'.repeat(33), password: 'password-1' }],
        // 2 characters, but 36 after NFKC (U+FDFA expands to 18 characters)
        ['too long after NFKC', { username: '\uFDFA\uFDFA', password: 'password-1' }],
        ['empty', { username: '', password: 'password-1' }],
        ['leading whitespace', { username: ' bob2', password: 'password-1' }],
        ['trailing whitespace', { username: 'bob2 ', password: 'password-1' }],
        ['control character', { username: 'a\u0007b', password: 'password-1' }],
        ['format character', { username: 'a\u200Db', password: 'password-1' }],
        ['line break', { username: 'a\nb', password: 'password-1' }],
        ['257-char password', { username: 'longpw', password: 'p'.repeat(257) }],
        ['missing password', { username: 'nopw' }],
        ['number username', { username: 42, password: 'password-1' }],
      ];
      for (const [where, body] of cases) {
        const r = await http(base, 'POST', '/api/auth/register', body);
        expectHttpError(where, r, 400, 'BAD_REQUEST');
        expect({ where, details: r.json.error.details }).toEqual({
          where,
          details: expect.arrayContaining([expect.objectContaining({ field: expect.any(String) })]),
        });
      }
      const unknown = await http(base, 'POST', '/api/auth/register', { username: 'extra1', password: 'password-1', extra: true });
      expectHttpError('unknown field', unknown, 400, 'BAD_REQUEST');
      expect(unknown.json.error.details).toEqual([{ field: 'extra', problems: expect.arrayContaining([expect.any(String)]) }]);

      const notJson = await http(base, 'POST', '/api/auth/register', undefined, { raw: '{"username":' });
      expectHttpError('not JSON', notJson, 400, 'BAD_REQUEST');
      const array = await http(base, 'POST', '/api/auth/register', undefined, { raw: '["alice","password-1"]' });
      expectHttpError('not an object', array, 400, 'BAD_REQUEST');
      const textPlain = await http(base, 'POST', '/api/auth/register', undefined, {
        raw: JSON.stringify({ username: 'plain', password: 'password-1' }),
        contentType: 'text/plain',
      });
      expectHttpError('not JSON content type', textPlain, 415, 'BAD_REQUEST');
    });

    it('request bodies: at most 16384 bytes, else 413 FRAME_TOO_LARGE', async () => {
      const bodyOf = (n: number) => {
        const b0 = JSON.stringify({ username: 'bigbody', password: 'password-1', pad: '' });
        return JSON.stringify({ username: 'bigbody', password: 'password-1', pad: 'a'.repeat(n - Buffer.byteLength(b0)) });
      };
      const exact = bodyOf(16384);
      expect(Buffer.byteLength(exact)).toBe(16384);
      const ok = await http(base, 'POST', '/api/auth/register', undefined, { raw: exact });
      // 16384 bytes is allowed: it is parsed and refused only for its unknown field.
      expectHttpError('16384-byte body', ok, 400, 'BAD_REQUEST');
      const over = await http(base, 'POST', '/api/auth/register', undefined, { raw: bodyOf(16385) });
      expectHttpError('16385-byte body', over, 413, 'FRAME_TOO_LARGE');
    });

    it('login: token, expiry and claims as documented; same 401 for bad password and unknown user', async () => {
      for (const name of ['alice', 'Alice', 'ＡＬＩＣＥ']) {
        const l = await login(name, 'password-1');
        expect({ name, status: l.status }).toEqual({ name, status: 200 });
        expectFields('login', l.json, {
          accessToken: 'string',
          tokenType: 'string',
          expiresAt: 'string',
          refreshToken: 'string',
          refreshExpiresAt: 'string',
          sessionId: 'string',
          user: 'object',
        });
        expectFields('login.user', l.json.user, { userId: 'uuid', username: 'string' });
        expect(l.json.tokenType).toBe('Bearer');
        expect(l.json.user.username).toBe('alice');
        expect(l.json.expiresAt).toMatch(ISO_WHOLE);
        const exp = Date.parse(l.json.expiresAt);
        expect(exp % 1000).toBe(0);
        // default lifetime 15 minutes
        expect(Math.abs(exp - Date.now() - 900_000)).toBeLessThan(15_000);
        const claims = decodeJwt(l.json.accessToken);
        expect(JSON.parse(Buffer.from(l.json.accessToken.split('.')[0], 'base64url').toString()).alg).toBe('HS256');
        expect(claims).toMatchObject({
          sub: l.json.user.userId,
          name: 'alice',
          sid: l.json.sessionId,
          iat: expect.any(Number),
          exp: exp / 1000,
        });
        expectFields('login', l.json, { refreshToken: 'string', refreshExpiresAt: 'time', sessionId: 'string' });
        expect(l.json.refreshToken.startsWith(`${l.json.sessionId}.`)).toBe(true);
      }
      const wrong = await login('alice', 'wrong-password');
      expectHttpError('wrong password', wrong, 401, 'AUTH_FAILED');
      const unknown = await login('nobody-here', 'wrong-password');
      expectHttpError('unknown user', unknown, 401, 'AUTH_FAILED');
      expect(unknown.json.error.message).toBe(wrong.json.error.message);

      const bad = await http(base, 'POST', '/api/auth/login', { username: 'x'.repeat(129), password: 'p' });
      expectHttpError('129-char login name', bad, 400, 'BAD_REQUEST');
      const emptyPw = await http(base, 'POST', '/api/auth/login', { username: 'alice', password: '' });
      expectHttpError('empty password', emptyPw, 400, 'BAD_REQUEST');
      const extra = await http(base, 'POST', '/api/auth/login', { username: 'alice', password: 'password-1', rememberMe: true });
      expectHttpError('unknown login field', extra, 400, 'BAD_REQUEST');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('WebSocket: connection and auth', () => {
    beforeAll(async () => {
      // "alice" was registered above with password-1; log her in for the rest.
      const l = await login('alice', 'password-1');
      users.alice = {
        userId: l.json.user.userId,
        username: 'alice',
        password: 'password-1',
        token: l.json.accessToken,
        expiresAt: l.json.expiresAt,
      };
      await account('bob');
      await account('carol');
    });

    it('no compression is negotiated; ping works before auth; other ops are UNAUTHENTICATED', async () => {
      const c = await open();
      expect(c.ws.extensions).toBe('');
      const ping = await c.request('ping');
      expect({ id: ping.id, ok: ping.ok }).toEqual({ id: '1', ok: true });
      expectFields('ping', ping.data, { time: 'time' });
      const valid: [string, unknown][] = [
        ['rooms.list', undefined],
        ['presence.list', undefined],
        ['room.join', { roomId: 'general' }],
        ['room.leave', { roomId: 'general' }],
        ['room.create', { name: 'Early' }],
        ['message.send', { roomId: 'general', clientMsgId: 'early', body: 'x' }],
        ['history.page', { roomId: 'general' }],
        ['presence.set', { status: 'away' }],
      ];
      for (const [op, data] of valid) {
        const id = c.nextId();
        const r = await c.request(op, data, { id });
        expectWsError(`${op} before auth`, r, 'UNAUTHENTICATED', id);
      }
      // even one offered compression, it is not negotiated
      const offered = await new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(wsUrl, { perMessageDeflate: true });
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
      expect(offered.extensions).toBe('');
      offered.close();
    });

    it('before auth, "every other op is answered UNAUTHENTICATED" — also with missing/invalid data', async () => {
      const c = await open();
      const cases: [string, unknown][] = [
        ['room.join', undefined],
        ['message.send', { roomId: 'general' }],
        ['rooms.list', { x: 1 }],
      ];
      for (const [op, data] of cases) {
        const id = c.nextId();
        const r = await c.request(op, data, { id });
        expectWsError(`${op} ${JSON.stringify(data)} before auth`, r, 'UNAUTHENTICATED', id);
      }
      c.close();
    });

    it('auth: documented reply; a failed auth keeps the connection open', async () => {
      const c = await open();
      const garbage = await c.request('auth', { token: 'not-a-token' });
      expectWsError('garbage token', garbage, 'UNAUTHENTICATED', garbage.id);
      const forged = await c.request('auth', {
        token: forgeJwt(
          { sub: users.alice.userId, name: 'alice', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 },
          'not-the-secret',
        ),
      });
      expectWsError('forged token', forged, 'UNAUTHENTICATED', forged.id);
      const empty = await c.request('auth', { token: '' });
      expectWsError('empty token', empty, 'BAD_REQUEST', empty.id);
      const tooLong = await c.request('auth', { token: 'a'.repeat(4097) });
      expectWsError('4097-char token', tooLong, 'BAD_REQUEST', tooLong.id);
      const noToken = await c.request('auth', {});
      expectWsError('no token', noToken, 'BAD_REQUEST', noToken.id);
      expect(c.isOpen).toBe(true);

      const ok = await c.request('auth', { token: users.alice.token });
      expect(ok.ok).toBe(true);
      expectFields('auth', ok.data, { user: 'object', protocol: 'integer', expiresAt: 'string', sessionId: 'string' });
      expectFields('auth.user', ok.data.user, { userId: 'uuid', username: 'string' });
      expect(ok.data).toEqual({
        user: { userId: users.alice.userId, username: 'alice' },
        protocol: 1,
        expiresAt: users.alice.expiresAt,
        sessionId: decodeJwt(users.alice.token).sid,
      });

      // re-auth as the same user with a fresh token: allowed, reply carries the token's expiresAt
      const again = await c.request('auth', { token: users.alice.token });
      expect(again.ok).toBe(true);
      // as another user: FORBIDDEN, and the connection stays alice's
      const other = await c.request('auth', { token: users.bob.token });
      expectWsError('auth as another user', other, 'FORBIDDEN', other.id);
      const list = await c.request('rooms.list');
      expect(list.ok).toBe(true);
      c.close();
    });

    it('auth: a second auth while one is in progress is CONFLICT', async () => {
      const c = await open();
      const [a, b] = await Promise.all([c.request('auth', { token: users.carol.token }), c.request('auth', { token: users.carol.token })]);
      expect([a, b].map((r) => (r.ok ? 'ok' : r.error!.code)).sort()).toEqual(['CONFLICT', 'ok']);
      c.close();
    });

    it('data may be omitted, {} or null for ops without fields; unknown fields are BAD_REQUEST', async () => {
      const c = await authed(users.carol);
      for (const op of ['ping', 'rooms.list', 'presence.contacts', 'presence.active']) {
        for (const data of [undefined, {}, null]) {
          const r = await c.request(op, data);
          expect({ op, data, ok: r.ok, error: r.error }).toEqual({ op, data, ok: true, error: undefined });
        }
        const bad = await c.request(op, { extra: 1 });
        expectWsError(`${op} with unknown field`, bad, 'BAD_REQUEST', bad.id);
        expect(bad.error!.details).toEqual([{ field: 'data.extra', problems: expect.arrayContaining([expect.any(String)]) }]);
      }
      // the top level of a request frame ignores extra properties
      const extraTop = await c.request('ping', undefined, { extra: { trace: 'x', v: 2 } });
      expect(extraTop.ok).toBe(true);
      c.close();
    });

    it('rooms.list after registering: general exists, nobody is a member', async () => {
      const c = await authed(users.carol);
      const r = await c.call('rooms.list');
      expectFields('rooms.list', r, { rooms: 'array' });
      for (const room of r.rooms) expectRoomSummary('RoomSummary', room);
      const general = r.rooms.find((x: any) => x.roomId === 'general');
      expect(general).toEqual({
        roomId: 'general',
        name: 'General',
        topic: '',
        visibility: 'public',
        postPolicy: 'members',
        memberLimit: 100000,
        slowModeSeconds: 0,
        memberCount: 0,
        myRole: null,
      });
      c.close();
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('WebSocket: frame errors', () => {
    let c: DocClient;
    beforeAll(async () => {
      c = await authed(users.carol);
    });

    it('unreadable ids give id null', async () => {
      const cases: [string, string][] = [
        ['not JSON', 'this is not json'],
        ['JSON array', '[1,2,3]'],
        ['JSON number', '42'],
        ['JSON string', '"req"'],
        ['JSON null', 'null'],
        ['no id', '{"type":"req","op":"ping"}'],
        ['numeric id', '{"type":"req","id":7,"op":"ping"}'],
        ['empty id', '{"type":"req","id":"","op":"ping"}'],
        ['65-char id', `{"type":"req","id":"${'i'.repeat(65)}","op":"ping"}`],
      ];
      for (const [where, frame] of cases) {
        const r = await c.sendFrame(frame);
        expectWsError(where, r, 'BAD_REQUEST', null);
      }
      const bin = await c.sendFrame(Buffer.from(JSON.stringify({ type: 'req', id: 'bin-1', op: 'ping' })), { binary: true, id: 'bin-1' });
      expectWsError('binary frame', bin, 'BAD_REQUEST', null);
      expect(c.isOpen).toBe(true);
    });

    it('ids of 1-64 characters (code points) are echoed', async () => {
      const id64 = 'i'.repeat(64);
      const r1 = await c.sendFrame(JSON.stringify({ type: 'req', id: id64, op: 'ping' }), { id: id64 });
      expect({ id: r1.id, ok: r1.ok }).toEqual({ id: id64, ok: true });
      const r3 = await c.sendFrame(JSON.stringify({ type: 'req', id: 'x', op: 'ping' }), { id: 'x' });
      expect({ id: r3.id, ok: r3.ok }).toEqual({ id: 'x', ok: true });
    });

    it('"lengths are counted in characters": a 64-character id of astral characters is echoed', async () => {
      const emoji32 = '🙂'.repeat(32);
      const r1 = await c.sendFrame(JSON.stringify({ type: 'req', id: emoji32, op: 'ping' }), { id: emoji32 });
      expect({ id: r1.id, ok: r1.ok }).toEqual({ id: emoji32, ok: true });
      const emoji64 = '🙂'.repeat(64); // 64 characters (code points), 128 UTF-16 units
      const r2 = await c.sendFrame(JSON.stringify({ type: 'req', id: emoji64, op: 'ping' }), { id: emoji64 });
      expect({ id: r2.id, ok: r2.ok }).toEqual({ id: emoji64, ok: true });
    });

    it('bad type/op/data with a readable id: BAD_REQUEST or UNKNOWN_OP with the id echoed', async () => {
      const cases: [string, Record<string, unknown>, string][] = [
        ['no type', { op: 'ping' }, 'BAD_REQUEST'],
        ['type res', { type: 'res', op: 'ping' }, 'BAD_REQUEST'],
        ['no op', { type: 'req' }, 'BAD_REQUEST'],
        ['numeric op', { type: 'req', op: 5 }, 'BAD_REQUEST'],
        ['unknown op', { type: 'req', op: 'rooms.delete' }, 'UNKNOWN_OP'],
        ['data is a string', { type: 'req', op: 'room.join', data: 'general' }, 'BAD_REQUEST'],
        ['data is an array', { type: 'req', op: 'room.join', data: ['general'] }, 'BAD_REQUEST'],
      ];
      for (const [where, frame, code] of cases) {
        const id = `e-${c.nextId()}`;
        const r = await c.sendFrame(JSON.stringify({ id, ...frame }), { id });
        expectWsError(where, r, code, id);
      }
    });

    it('invalid op data: BAD_REQUEST with details whose field is prefixed with data.', async () => {
      const bad = await c.request('room.join', { roomId: 'Bad Room' });
      expectWsError('Bad Room', bad, 'BAD_REQUEST', bad.id);
      expect(bad.error!.details).toEqual([{ field: 'data.roomId', problems: expect.arrayContaining([expect.any(String)]) }]);
      const missing = await c.request('room.join');
      expectWsError('room.join without data', missing, 'BAD_REQUEST', missing.id);
      expect(missing.error!.details).toEqual([expect.objectContaining({ field: 'data.roomId' })]);
      const unknown = await c.request('room.join', { roomId: 'general', reason: 'x' });
      expectWsError('room.join with unknown field', unknown, 'BAD_REQUEST', unknown.id);
      expect(unknown.error!.details).toEqual([expect.objectContaining({ field: 'data.reason' })]);
      const longId = await c.request('room.join', { roomId: 'a'.repeat(65) });
      expectWsError('65-char room id', longId, 'BAD_REQUEST', longId.id);
      const dash = await c.request('room.join', { roomId: '-abc' });
      expectWsError('room id starting with -', dash, 'BAD_REQUEST', dash.id);
    });

    it('frames over 65536 bytes: FRAME_TOO_LARGE, id echoed only when within the first 512 bytes', async () => {
      const exact = await c.sendFrame(frameOfSize(65536, 'exact'), { id: 'exact' });
      // 65536 bytes is processed (refused only for its unknown `pad` field)
      expectWsError('65536-byte frame', exact, 'BAD_REQUEST', 'exact');
      const over = await c.sendFrame(frameOfSize(65537, 'big-1'), { id: 'big-1' });
      expectWsError('65537-byte frame, id first', over, 'FRAME_TOO_LARGE', 'big-1');
      const late = await c.sendFrame(frameOfSize(70000, 'big-2', false), { id: 'big-2' });
      expectWsError('70000-byte frame, id last', late, 'FRAME_TOO_LARGE', null);
      const noId = await c.sendFrame(frameOfSize(70000, null));
      expectWsError('70000-byte frame, no id', noId, 'FRAME_TOO_LARGE', null);
      // the connection stays
      const ping = await c.request('ping');
      expect(ping.ok).toBe(true);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('rooms, messages, events and positions', () => {
    let alice: DocClient;
    let bob: DocClient;
    let carol: DocClient;

    beforeAll(async () => {
      alice = await authed(users.alice);
      bob = await authed(users.bob);
      carol = await authed(users.carol);
    });

    it('the example session: NOT_MEMBER, join general, member.joined to both, message to both', async () => {
      const early = await alice.request('message.send', { roomId: 'general', clientMsgId: 'm1', body: 'hello?' });
      expectWsError('send before join', early, 'NOT_MEMBER', early.id);

      const aMark = alice.mark();
      const join = await alice.request('room.join', { roomId: 'general' });
      expect(join.ok).toBe(true);
      expectMembershipAck('room.join', join.data);
      expect(join.data.room).toMatchObject({ roomId: 'general', name: 'General', memberCount: 1, myRole: 'member', memberLimit: 100000 });
      recordPosition('join general (alice)', 'general', join.data.position);
      const joined = await alice.waitEvent((e) => e.event === 'member.joined' && e.data.userId === users.alice.userId, aMark);
      expectFields('member.joined', joined.data, {
        roomId: 'string',
        userId: 'uuid',
        username: 'string',
        role: ['owner', 'admin', 'member'],
        time: 'time',
      });
      expect(joined).toMatchObject({
        type: 'evt',
        position: join.data.position,
        data: { roomId: 'general', username: 'alice', role: 'member' },
      });

      const aMark2 = alice.mark();
      const bMark = bob.mark();
      const bjoin = await bob.call('room.join', { roomId: 'general' });
      expect(bjoin.room.memberCount).toBe(2);
      recordPosition('join general (bob)', 'general', bjoin.position);
      expect(bjoin.position).toBeGreaterThan(join.data.position);
      const seenByAlice = await alice.waitEvent((e) => e.event === 'member.joined' && e.data.userId === users.bob.userId, aMark2);
      const seenByBob = await bob.waitEvent((e) => e.event === 'member.joined' && e.data.userId === users.bob.userId, bMark);
      expect(seenByAlice.position).toBe(bjoin.position);
      expect(seenByBob.position).toBe(bjoin.position);

      // Alice sends; both receive message.posted (the sender included).
      const send = await alice.request('message.send', { roomId: 'general', clientMsgId: 'm1', body: 'Hello 世界' });
      expect(send.ok).toBe(true);
      expectPostAck('PostAck', send.data);
      expect(send.data).toMatchObject({ roomId: 'general', clientMsgId: 'm1', duplicate: false });
      recordPosition('send m1', 'general', send.data.position);
      for (const [who, c] of [
        ['alice', alice],
        ['bob', bob],
      ] as const) {
        const ev = await c.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === send.data.messageId);
        expectMessageView(`message.posted to ${who}`, ev.data);
        expect(ev.position).toBe(send.data.position);
        expect(ev.data).toEqual({
          messageId: send.data.messageId,
          roomId: 'general',
          senderId: users.alice.userId,
          senderName: 'alice',
          clientMsgId: 'm1',
          body: 'Hello 世界',
          // MessageView (Shapes): not a reply, no mentions; as posted: never edited, not deleted, no reactions
          replyTo: null,
          mentions: [],
          // the body as HTML (Formatting): plain text is one paragraph
          html: '<p>Hello 世界</p>',
          time: send.data.time,
          position: send.data.position,
          editedAt: null,
          deleted: null,
          reactions: [],
        });
      }
    });

    it('idempotent resend: same clientMsgId → same message, duplicate: true, no second event, retried body ignored', async () => {
      const first = await alice.call('message.send', { roomId: 'general', clientMsgId: 'idem-1', body: 'original' });
      const again = await alice.call('message.send', { roomId: 'general', clientMsgId: 'idem-1', body: 'changed text' });
      expect(again).toEqual({ ...first, duplicate: true });
      // from another connection of the same user, too
      const alice2 = await authed(users.alice);
      const third = await alice2.call('message.send', { roomId: 'general', clientMsgId: 'idem-1', body: 'third' });
      expect(third).toEqual({ ...first, duplicate: true });
      // A later message's event arrives after any event of idem-1 (one room: increasing order).
      const marker = await alice.call('message.send', { roomId: 'general', clientMsgId: 'idem-marker', body: 'marker' });
      for (const c of [alice, bob]) {
        await c.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === marker.messageId);
        const copies = c.eventsWhere(
          (e) => e.event === 'message.posted' && e.data.clientMsgId === 'idem-1' && e.data.senderId === users.alice.userId,
        );
        expect(copies.map((e) => e.data.body)).toEqual(['original']);
      }
      // The same clientMsgId from another sender is another message.
      const bobs = await bob.call('message.send', { roomId: 'general', clientMsgId: 'idem-1', body: 'bob says' });
      expect(bobs.duplicate).toBe(false);
      expect(bobs.messageId).not.toBe(first.messageId);
      // A send refused with NOT_MEMBER did not use up the clientMsgId ("m1" in the example).
      const carolEarly = await carol.request('message.send', { roomId: 'general', clientMsgId: 'c-1', body: 'hi' });
      expectWsError('carol not member', carolEarly, 'NOT_MEMBER', carolEarly.id);
      await carol.call('room.join', { roomId: 'general' });
      const carolLater = await carol.call('message.send', { roomId: 'general', clientMsgId: 'c-1', body: 'hi' });
      expect(carolLater.duplicate).toBe(false);
      alice2.close();
    });

    it('message.send: NFC, lengths in characters, validation', async () => {
      const nfc = await alice.call('message.send', { roomId: 'general', clientMsgId: 'nfc-1', body: 'Cafe\u0301' });
      const ev = await bob.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === nfc.messageId);
      expect(ev.data.body).toBe('Café'.normalize('NFC'));
      expect(ev.data.body).toBe('Caf\u00e9');

      const max = await alice.request('message.send', { roomId: 'general', clientMsgId: 'max-1', body: '😀'.repeat(4000) });
      expect({ where: '4000 emoji', ok: max.ok, error: max.error }).toEqual({ where: '4000 emoji', ok: true, error: undefined });
      const cases: [string, unknown][] = [
        ['4001 characters', { roomId: 'general', clientMsgId: 'max-2', body: 'x'.repeat(4001) }],
        ['empty body', { roomId: 'general', clientMsgId: 'e-1', body: '' }],
        ['clientMsgId with a space', { roomId: 'general', clientMsgId: 'a b', body: 'x' }],
        ['clientMsgId with a dot', { roomId: 'general', clientMsgId: 'a.b', body: 'x' }],
        ['65-char clientMsgId', { roomId: 'general', clientMsgId: 'c'.repeat(65), body: 'x' }],
        ['empty clientMsgId', { roomId: 'general', clientMsgId: '', body: 'x' }],
        ['no clientMsgId', { roomId: 'general', body: 'x' }],
        ['unknown field', { roomId: 'general', clientMsgId: 'u-1', body: 'x', format: 'md' }],
        ['bad roomId', { roomId: 'General', clientMsgId: 'u-2', body: 'x' }],
      ];
      for (const [where, data] of cases) {
        const r = await alice.request('message.send', data);
        expectWsError(where, r, 'BAD_REQUEST', r.id);
        expect({ where, fields: r.error!.details?.map((d) => d.field.startsWith('data.')) }).toEqual({
          where,
          fields: expect.arrayContaining([true]),
        });
      }
      const ok64 = await alice.request('message.send', { roomId: 'general', clientMsgId: `A-z_0${'9'.repeat(59)}`, body: 'x' });
      expect(ok64.ok).toBe(true);
      const nf = await alice.request('message.send', { roomId: 'no-such-room', clientMsgId: 'nf-1', body: 'x' });
      expectWsError('send to missing room', nf, 'NOT_FOUND', nf.id);
    });

    it('room.create: defaults, owner, member.joined for the creator, CONFLICT', async () => {
      const mark = alice.mark();
      const r = await alice.request('room.create', { name: 'Defaults' });
      expect(r.ok).toBe(true);
      expectMembershipAck('room.create', r.data);
      expect(r.data.room.roomId).toMatch(/^r-[0-9a-f]{12}$/);
      expect(r.data.room).toMatchObject({
        name: 'Defaults',
        topic: '',
        visibility: 'public',
        postPolicy: 'members',
        memberLimit: 50,
        memberCount: 1,
        myRole: 'owner',
      });
      recordPosition('create Defaults', r.data.room.roomId, r.data.position);
      const ev = await alice.waitEvent((e) => e.event === 'member.joined' && e.data.roomId === r.data.room.roomId, mark);
      expect(ev.position).toBe(r.data.position);
      expect(ev.data).toMatchObject({ userId: users.alice.userId, username: 'alice', role: 'owner' });

      const full = await alice.call('room.create', {
        roomId: 'team-1',
        name: 'Team',
        topic: 't'.repeat(300),
        visibility: 'public',
        postPolicy: 'members',
        memberLimit: 100000,
      });
      expect(full.room).toMatchObject({ roomId: 'team-1', name: 'Team', topic: 't'.repeat(300), memberLimit: 100000 });
      const dup = await bob.request('room.create', { roomId: 'team-1', name: 'Other' });
      expectWsError('create existing roomId', dup, 'CONFLICT', dup.id);

      const emojiName = await alice.request('room.create', { roomId: 'emoji-80', name: '🎉'.repeat(80) });
      expect({ where: '80-emoji name', ok: emojiName.ok, error: emojiName.error }).toEqual({
        where: '80-emoji name',
        ok: true,
        error: undefined,
      });
      const cases: [string, unknown][] = [
        ['81-char name', { name: 'n'.repeat(81) }],
        ['empty name', { name: '' }],
        ['no name', { roomId: 'no-name' }],
        ['leading space', { name: ' Team' }],
        ['trailing space', { name: 'Team ' }],
        ['control char', { name: 'Te\u0001am' }],
        ['newline', { name: 'Te\nam' }],
        ['301-char topic', { name: 'Topic', topic: 't'.repeat(301) }],
        ['bad visibility', { name: 'V', visibility: 'secret' }],
        ['bad postPolicy', { name: 'P', postPolicy: 'owners' }],
        ['memberLimit 1', { name: 'L', memberLimit: 1 }],
        ['memberLimit 100001', { name: 'L', memberLimit: 100001 }],
        ['memberLimit 2.5', { name: 'L', memberLimit: 2.5 }],
        ['bad roomId', { roomId: 'Team', name: 'T' }],
        ['unknown field', { name: 'T', owner: 'bob' }],
      ];
      for (const [where, data] of cases) {
        const x = await alice.request('room.create', data);
        expectWsError(where, x, 'BAD_REQUEST', x.id);
      }
    });

    it('private rooms are listed only for members and, without an invitation, answer as a missing room', async () => {
      const priv = await alice.call('room.create', { roomId: 'secret', name: 'Secret', visibility: 'private' });
      expect(priv.room).toMatchObject({ visibility: 'private', myRole: 'owner', memberCount: 1 });
      const mine = await alice.call('rooms.list');
      expect(mine.rooms.map((r: any) => r.roomId)).toContain('secret');
      const bobs = await bob.call('rooms.list');
      expect(bobs.rooms.map((r: any) => r.roomId)).not.toContain('secret');
      const j = await bob.request('room.join', { roomId: 'secret' });
      expectWsError('join private', j, 'NOT_FOUND', j.id);
      const missing = await bob.request('room.join', { roomId: 'no-such-secret' });
      expect(j.error?.message.replace('secret', 'X')).toBe(missing.error?.message.replace('no-such-secret', 'X'));
    });

    it('rooms.list: sorted by name, documented fields, myRole per caller', async () => {
      await bob.call('room.create', { roomId: 'zeta', name: 'Zeta' });
      await bob.call('room.create', { roomId: 'alpha', name: 'Alpha' });
      const list = await alice.call('rooms.list');
      for (const r of list.rooms) expectRoomSummary('rooms.list[]', r);
      const names: string[] = list.rooms.map((r: any) => r.name);
      const byCodeUnit = [...names].sort();
      const byLocale = [...names].sort((a, b) => a.localeCompare(b));
      expect({
        names,
        sorted: JSON.stringify(names) === JSON.stringify(byCodeUnit) || JSON.stringify(names) === JSON.stringify(byLocale),
      }).toEqual({ names, sorted: true });
      const zeta = list.rooms.find((r: any) => r.roomId === 'zeta');
      expect(zeta).toMatchObject({ myRole: null, memberCount: 1 });
      const general = list.rooms.find((r: any) => r.roomId === 'general');
      expect(general).toMatchObject({ myRole: 'member', memberCount: 3 });
    });

    it('room.join / room.leave errors', async () => {
      const nf = await alice.request('room.join', { roomId: 'does-not-exist' });
      expectWsError('join missing room', nf, 'NOT_FOUND', nf.id);
      const again = await alice.request('room.join', { roomId: 'general' });
      expectWsError('join twice', again, 'ALREADY_MEMBER', again.id);
      const leaveNf = await alice.request('room.leave', { roomId: 'does-not-exist' });
      expectWsError('leave missing room', leaveNf, 'NOT_FOUND', leaveNf.id);
      const leaveNm = await alice.request('room.leave', { roomId: 'zeta' });
      expectWsError('leave, not a member', leaveNm, 'NOT_MEMBER', leaveNm.id);
      const sendNm = await alice.request('message.send', { roomId: 'zeta', clientMsgId: 'z-1', body: 'x' });
      expectWsError('send, not a member', sendNm, 'NOT_MEMBER', sendNm.id);
      const badLeave = await alice.request('room.leave', { roomId: 'Bad Room' });
      expectWsError('leave bad id', badLeave, 'BAD_REQUEST', badLeave.id);
    });

    it('ROOM_FULL at the member limit', async () => {
      await alice.call('room.create', { roomId: 'pair', name: 'Pair', memberLimit: 2 });
      const b = await bob.call('room.join', { roomId: 'pair' });
      expect(b.room).toMatchObject({ memberCount: 2, memberLimit: 2 });
      const c = await carol.request('room.join', { roomId: 'pair' });
      expectWsError('join full room', c, 'ROOM_FULL', c.id);
    });

    it('postPolicy admins: plain members get FORBIDDEN, the owner may post', async () => {
      await alice.call('room.create', { roomId: 'news', name: 'News', postPolicy: 'admins' });
      await bob.call('room.join', { roomId: 'news' });
      const f = await bob.request('message.send', { roomId: 'news', clientMsgId: 'n-1', body: 'may I?' });
      expectWsError('member posts in admins room', f, 'FORBIDDEN', f.id);
      const ok = await alice.call('message.send', { roomId: 'news', clientMsgId: 'n-1', body: 'news' });
      await bob.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === ok.messageId);
    });

    it('room.leave: member.left to everyone incl. the leaver, then nothing more from the room', async () => {
      await alice.call('room.create', { roomId: 'lounge', name: 'Lounge' });
      await bob.call('room.join', { roomId: 'lounge' });
      const aMark = alice.mark();
      const bMark = bob.mark();
      const left = await bob.request('room.leave', { roomId: 'lounge' });
      expect(left.ok).toBe(true);
      expectFields('room.leave', left.data, { roomId: 'string', position: 'integer' });
      expect(left.data.roomId).toBe('lounge');
      recordPosition('leave lounge', 'lounge', left.data.position);
      for (const [who, c, m] of [
        ['alice', alice, aMark],
        ['bob', bob, bMark],
      ] as const) {
        const ev = await c.waitEvent((e) => e.event === 'member.left' && e.data.roomId === 'lounge', m);
        expectFields(`member.left to ${who}`, ev.data, { roomId: 'string', userId: 'uuid', username: 'string', time: 'time' });
        expect(ev.position).toBe(left.data.position);
        expect(ev.data).toMatchObject({ userId: users.bob.userId, username: 'bob' });
      }
      const x = await alice.call('message.send', { roomId: 'lounge', clientMsgId: 'l-1', body: 'after bob left' });
      await alice.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === x.messageId);
      // Bob rejoins; the next message reaches him, and the one sent while he was out did not
      // (events of one room arrive in position order, so it would have come first).
      await bob.call('room.join', { roomId: 'lounge' });
      const y = await alice.call('message.send', { roomId: 'lounge', clientMsgId: 'l-2', body: 'welcome back' });
      await bob.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === y.messageId);
      expect(bob.eventsWhere((e) => e.event === 'message.posted' && e.data.messageId === x.messageId)).toEqual([]);

      // An owner may leave; the room stays.
      await alice.call('room.leave', { roomId: 'lounge' });
      const list = await alice.call('rooms.list');
      expect(list.rooms.find((r: any) => r.roomId === 'lounge')).toMatchObject({ myRole: null, memberCount: 1 });
    });

    it('membership changes reach all of the user’s connections, also through another gateway', async () => {
      const port = await freePort();
      await stack.startExtra('gateway-b', 'gateway', port);
      const otherWs = `ws://127.0.0.1:${port}/ws`;
      const phone = await authed(users.carol, otherWs);
      const laptop = await authed(users.carol);
      const pMark = phone.mark();
      const j = await laptop.call('room.create', { roomId: 'multi', name: 'Multi' });
      const ev = await phone.waitEvent((e) => e.event === 'member.joined' && e.data.roomId === 'multi', pMark);
      expect(ev.position).toBe(j.position);
      await alice.call('room.join', { roomId: 'multi' });
      const m = await alice.call('message.send', { roomId: 'multi', clientMsgId: 'mu-1', body: 'to all devices' });
      await phone.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === m.messageId);
      await laptop.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === m.messageId);
      // leaving on the phone stops delivery on the laptop
      const lMark = laptop.mark();
      await phone.call('room.leave', { roomId: 'multi' });
      await laptop.waitEvent((e) => e.event === 'member.left' && e.data.roomId === 'multi' && e.data.userId === users.carol.userId, lMark);
      const m2 = await alice.call('message.send', { roomId: 'multi', clientMsgId: 'mu-2', body: 'gone' });
      await alice.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === m2.messageId);
      // a rejoin + new message proves ordering (as above)
      await laptop.call('room.join', { roomId: 'multi' });
      const m3 = await alice.call('message.send', { roomId: 'multi', clientMsgId: 'mu-3', body: 'back' });
      await phone.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === m3.messageId);
      expect(laptop.eventsWhere((e) => e.event === 'message.posted' && e.data.messageId === m2.messageId)).toEqual([]);
      expect(phone.eventsWhere((e) => e.event === 'message.posted' && e.data.messageId === m2.messageId)).toEqual([]);
      phone.close();
      laptop.close();
    });

    it('a connection’s sends are stored in the order sent, even without waiting for replies', async () => {
      await alice.call('room.create', { roomId: 'ordered', name: 'Ordered' });
      await bob.call('room.join', { roomId: 'ordered' });
      const acks = await Promise.all(
        Array.from({ length: 30 }, (_, i) => alice.call('message.send', { roomId: 'ordered', clientMsgId: `o-${i}`, body: `#${i}` })),
      );
      const positions = acks.map((a) => a.position);
      for (let i = 1; i < positions.length; i++) expect(positions[i]).toBeGreaterThan(positions[i - 1]);
      acks.forEach((a) => recordPosition('ordered', 'ordered', a.position));
      await bob.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === acks[29].messageId);
      const seen = bob.eventsWhere((e) => e.event === 'message.posted' && e.data.roomId === 'ordered').map((e) => e.data.body);
      expect(seen).toEqual(acks.map((_, i) => `#${i}`));
    });

    it('positions: unique, shared by all rooms, increasing within a room', async () => {
      // more positions from other rooms, interleaved
      for (let i = 0; i < 3; i++) {
        const a = await alice.call('message.send', { roomId: 'general', clientMsgId: `pos-g-${i}`, body: 'g' });
        recordPosition('pos general', 'general', a.position);
        const b = await alice.call('message.send', { roomId: 'news', clientMsgId: `pos-n-${i}`, body: 'n' });
        recordPosition('pos news', 'news', b.position);
      }
      const ps = allChatPositions.map((p) => p.position);
      expect(new Set(ps).size).toBe(ps.length);
      for (const p of ps) expect(p).toBeGreaterThanOrEqual(1);
      // events of general seen by bob are in increasing position order
      const general = bob.eventsWhere((e) => e.event === 'message.posted' && e.data.roomId === 'general').map((e) => e.position);
      for (let i = 1; i < general.length; i++) expect(general[i]).toBeGreaterThan(general[i - 1]);
      // every event position equals its data.position
      for (const c of [alice, bob, carol])
        for (const e of c.eventsWhere((x) => x.event === 'message.posted')) expect(e.position).toBe(e.data.position);
    });

    it('RATE_LIMITED beyond 256 requests in progress', async () => {
      await alice.call('room.create', { roomId: 'burst', name: 'Burst' });
      const replies = await Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          alice.request('message.send', { roomId: 'burst', clientMsgId: `b-${i}`, body: `burst ${i}` }, { timeoutMs: 60_000 }),
        ),
      );
      const codes = replies.map((r) => (r.ok ? 'ok' : r.error!.code));
      const ok = codes.filter((c) => c === 'ok').length;
      const limited = codes.filter((c) => c === 'RATE_LIMITED').length;
      expect({ ok: ok >= 256, limited: limited > 0, other: codes.filter((c) => c !== 'ok' && c !== 'RATE_LIMITED') }).toEqual({
        ok: true,
        limited: true,
        other: [],
      });
      // and the connection works afterwards
      expect((await alice.request('ping')).ok).toBe(true);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('history.page', () => {
    let alice: DocClient;
    let bob: DocClient;
    const acks: any[] = [];

    beforeAll(async () => {
      alice = await authed(users.alice);
      bob = await authed(users.bob);
      await alice.call('room.create', { roomId: 'hist', name: 'Hist' });
      for (let i = 1; i <= 5; i++)
        acks.push(await alice.call('message.send', { roomId: 'hist', clientMsgId: `h-${i}`, body: `history ${i}` }));
      // an idempotent retry with another body; the stored body stays
      await alice.call('message.send', { roomId: 'hist', clientMsgId: 'h-3', body: 'CHANGED' });
      // history is filled a moment after acceptance: wait until all five are there
      await eventually(async () => (await alice.call('history.page', { roomId: 'hist' })).messages.length === 5);
    });

    it('newest first, default limit, documented fields, nextBefore null at the end', async () => {
      const page = await alice.call('history.page', { roomId: 'hist' });
      expectFields('HistoryPage', page, {
        roomId: 'string',
        messages: 'array',
        nextBefore: [null],
        nextAfter: [null],
        anchor: [null],
      });
      expect(page.roomId).toBe('hist');
      expect(page.nextBefore).toBeNull();
      for (const m of page.messages) expectMessageView('HistoryPage.messages[]', m);
      expect(page.messages.map((m: any) => m.position)).toEqual([...acks].reverse().map((a) => a.position));
      expect(page.messages.map((m: any) => m.body)).toEqual(['history 5', 'history 4', 'history 3', 'history 2', 'history 1']);
      expect(page.messages[0]).toMatchObject({
        messageId: acks[4].messageId,
        senderId: users.alice.userId,
        senderName: 'alice',
        clientMsgId: 'h-5',
        time: acks[4].time,
      });
    });

    it('paging with nextBefore as before', async () => {
      const seen: any[] = [];
      let before: number | undefined;
      const pages: number[] = [];
      for (let guard = 0; guard < 10; guard++) {
        const page = await alice.call(
          'history.page',
          before === undefined ? { roomId: 'hist', limit: 2 } : { roomId: 'hist', limit: 2, before },
        );
        pages.push(page.messages.length);
        if (before !== undefined) for (const m of page.messages) expect(m.position).toBeLessThan(before);
        seen.push(...page.messages);
        expect(page.nextBefore === null || Number.isInteger(page.nextBefore)).toBe(true);
        if (page.nextBefore === null) break;
        before = page.nextBefore;
      }
      expect(pages).toEqual([2, 2, 1]);
      expect(seen.map((m) => m.position)).toEqual([...acks].reverse().map((a) => a.position));

      // a last page that is exactly full: "nextBefore is null when there is nothing older"
      const p4 = await alice.call('history.page', { roomId: 'hist', limit: 4 });
      expect(p4.messages).toHaveLength(4);
      expect(Number.isInteger(p4.nextBefore)).toBe(true);
      const rest = await alice.call('history.page', { roomId: 'hist', limit: 1, before: p4.nextBefore });
      expect(rest.messages.map((m: any) => m.clientMsgId)).toEqual(['h-1']);
      expect({ where: 'limit 1 page holding the oldest message', nextBefore: rest.nextBefore }).toEqual({
        where: 'limit 1 page holding the oldest message',
        nextBefore: null,
      });
      const exact = await alice.call('history.page', { roomId: 'hist', limit: 5 });
      expect({ where: 'limit 5 with 5 messages', n: exact.messages.length, nextBefore: exact.nextBefore }).toEqual({
        where: 'limit 5 with 5 messages',
        n: 5,
        nextBefore: null,
      });

      // before = a message's position excludes that message
      const b = await alice.call('history.page', { roomId: 'hist', before: acks[2].position });
      expect(b.messages.map((m: any) => m.clientMsgId)).toEqual(['h-2', 'h-1']);
      const none = await alice.call('history.page', { roomId: 'hist', before: 1 });
      expect(none).toEqual({ roomId: 'hist', messages: [], nextBefore: null, nextAfter: null, anchor: null });
    });

    it('before and limit are integers: numeric strings are invalid data', async () => {
      for (const [where, data] of [
        ['before "5"', { roomId: 'hist', before: '5' }],
        ['limit "2"', { roomId: 'hist', limit: '2' }],
      ] as const) {
        const r = await alice.request('history.page', data);
        expectWsError(where, r, 'BAD_REQUEST', r.id);
      }
    });

    it('the stored body of a retried message is the original one', async () => {
      const page = await alice.call('history.page', { roomId: 'hist' });
      expect(page.messages.find((m: any) => m.clientMsgId === 'h-3').body).toBe('history 3');
    });

    it('errors: FORBIDDEN for non-members of a public room, NOT_FOUND for missing rooms, BAD_REQUEST for bad limit/before', async () => {
      const f = await bob.request('history.page', { roomId: 'hist' });
      expectWsError('history, not a member', f, 'FORBIDDEN', f.id);
      const nf = await bob.request('history.page', { roomId: 'no-such-room' });
      expectWsError('history of a missing room', nf, 'NOT_FOUND', nf.id);
      const cases: [string, unknown][] = [
        ['limit 0', { roomId: 'hist', limit: 0 }],
        ['limit 101', { roomId: 'hist', limit: 101 }],
        ['limit 1.5', { roomId: 'hist', limit: 1.5 }],
        ['before 0', { roomId: 'hist', before: 0 }],
        ['before -3', { roomId: 'hist', before: -3 }],
        ['no roomId', { limit: 5 }],
        ['unknown field', { roomId: 'hist', since: 3 }],
        ['two cursors', { roomId: 'hist', before: 5, after: 3 }],
      ];
      for (const [where, data] of cases) {
        const r = await alice.request('history.page', data);
        expectWsError(where, r, 'BAD_REQUEST', r.id);
      }
      const limit100 = await alice.request('history.page', { roomId: 'hist', limit: 100 });
      expect(limit100.ok).toBe(true);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('presence', () => {
    let watcher: DocClient; // alice: shares a two-member room with dave, so is his contact
    let outsider: DocClient; // carol: shares no room with dave
    let admin: DocClient; // ops: a server administrator (SERVER_ADMINS)
    let dave: Account;
    const ofDave = (status?: string) => (e: any) =>
      e.event === 'presence.changed' && e.data.userId === dave.userId && (status === undefined || e.data.status === status);
    const expectOwnView = (where: string, v: any) =>
      expectFields(where, v, {
        status: ['online', 'away', 'busy', 'invisible'],
        text: 'stringOrNull',
        shown: ['online', 'away', 'busy', 'offline'],
        updatedAt: 'time',
      });

    beforeAll(async () => {
      dave = await account('dave');
      await account('ops');
      watcher = await authed(users.alice);
      outsider = await authed(users.carol);
      admin = await authed(users.ops);
      await watcher.call('room.create', { roomId: 'dave-and-alice', name: 'Dave and Alice' });
      const m = watcher.mark();
      const d0 = await authed(dave);
      await d0.call('room.join', { roomId: 'dave-and-alice' });
      d0.close();
      await watcher.waitEvent(ofDave('offline'), m, 30_000);
    });

    it('a new connection is online for contacts; presence.contacts for anyone, presence.list for administrators only', async () => {
      const m = watcher.mark();
      const d1 = await authed(dave);
      const ev = await watcher.waitEvent(ofDave(), m);
      expectPresenceView('presence.changed', ev.data);
      expect(Number.isInteger(ev.position)).toBe(true);
      expect(ev.data).toMatchObject({ username: 'dave', status: 'online', text: null });

      const contacts = await watcher.call('presence.contacts');
      expectFields('presence.contacts', contacts, { users: 'array', total: 'integer', mine: 'object' });
      for (const u of contacts.users) expectPresenceView('presence.contacts.users[]', u);
      expectOwnView('presence.contacts.mine', contacts.mine);
      expect(contacts.users.find((u: any) => u.userId === dave.userId)).toMatchObject({ username: 'dave', status: 'online' });
      // the caller is one of their own contacts
      expect(contacts.users.find((u: any) => u.userId === users.alice.userId)).toMatchObject({ username: 'alice', status: 'online' });
      // a user who never chose is online without text
      expect(contacts.mine).toMatchObject({ status: 'online', text: null, shown: 'online' });

      const forbidden = await watcher.request('presence.list');
      expectWsError('presence.list by a non-administrator', forbidden, 'FORBIDDEN', forbidden.id);
      const list = await admin.call('presence.list');
      expectFields('presence.list', list, { users: 'array', total: 'integer' });
      for (const u of list.users) expectPresenceView('presence.list[]', u);
      for (const u of list.users) expect(u.status).not.toBe('offline');
      expect(list.users.find((u: any) => u.userId === dave.userId)).toMatchObject({ username: 'dave', status: 'online' });

      d1.close();
      await watcher.waitEvent(ofDave('offline'), m, 30_000);
      // someone who shares no room (within the fan-out size) with dave is sent nothing of it
      expect(outsider.eventsWhere(ofDave())).toEqual([]);
    });

    it('presence.set: a choice per user (every device); the derived status; invisible; text; offline with no connection', async () => {
      const seen: any[] = [];
      const waitStatus = async (status: string, from: number) => {
        const ev = await watcher.waitEvent(ofDave(status), from, 30_000);
        seen.push(ev);
        return ev;
      };
      let m = watcher.mark();
      const d1 = await authed(dave);
      await waitStatus('online', m);

      m = watcher.mark();
      const d1m = d1.mark();
      const set = await d1.request('presence.set', { status: 'away' });
      expect(set.ok).toBe(true);
      expectOwnView('presence.set', set.data);
      expect(set.data).toMatchObject({ status: 'away', text: null, shown: 'away' });
      await waitStatus('away', m);
      // the user's own connections are among the members of the room: they get it as well
      await d1.waitEvent(ofDave('away'), d1m);

      // the choice belongs to the user: a new connection does not change it
      const d2 = await authed(dave);
      const mine = (await d2.call('presence.contacts')).mine;
      expect(mine).toMatchObject({ status: 'away', text: null, shown: 'away' });

      // set on one device: the other gets presence.mine; text is trimmed
      m = watcher.mark();
      const d1b = d1.mark();
      const busy = await d2.call('presence.set', { status: 'busy', text: '  在开会  ' });
      expect(busy).toMatchObject({ status: 'busy', text: '在开会', shown: 'busy' });
      const busyEv = await waitStatus('busy', m);
      expect(busyEv.data.text).toBe('在开会');
      const mineEv = await d1.waitEvent((e) => e.event === 'presence.mine' && e.data.status === 'busy', d1b);
      expect(mineEv.position).toBe(0);
      expectOwnView('presence.mine', mineEv.data);
      expect(mineEv.data).toMatchObject({ text: '在开会', shown: 'busy' });

      // one of two connections closes: still connected, still busy; then online without text
      m = watcher.mark();
      d2.close();
      await d1.call('presence.set', { status: 'online' });
      const online = await waitStatus('online', m);
      expect(online.data.text).toBeNull();
      expect(watcher.events.slice(m).filter(ofDave('offline'))).toEqual([]);

      // invisible: others see offline (no text); the user still sees their choice
      m = watcher.mark();
      const inv = await d1.call('presence.set', { status: 'invisible', text: 'hidden' });
      expect(inv).toMatchObject({ status: 'invisible', text: 'hidden', shown: 'offline' });
      const invEv = await waitStatus('offline', m);
      expect(invEv.data.text).toBeNull();
      expect((await admin.call('presence.list')).users.find((u: any) => u.userId === dave.userId)).toBeUndefined();

      m = watcher.mark();
      await d1.call('presence.set', { status: 'online' });
      await waitStatus('online', m);
      expect((await admin.call('presence.list')).users.find((u: any) => u.userId === dave.userId)).toMatchObject({ status: 'online' });

      m = watcher.mark();
      d1.close();
      await waitStatus('offline', m);
      expect((await admin.call('presence.list')).users.find((u: any) => u.userId === dave.userId)).toBeUndefined();
      // for one user, later events have higher positions; lastSeen is the time of each change
      for (let i = 1; i < seen.length; i++) {
        expect(seen[i].position).toBeGreaterThan(seen[i - 1].position);
        expect(Date.parse(seen[i].data.lastSeen)).toBeGreaterThanOrEqual(Date.parse(seen[i - 1].data.lastSeen));
      }
      // nothing of it reached someone who is not a contact
      expect(outsider.eventsWhere(ofDave())).toEqual([]);

      const d3 = await authed(dave);
      for (const bad of ['offline', 'Online', '', 'dnd']) {
        const r = await d3.request('presence.set', { status: bad });
        expectWsError(`presence.set ${bad}`, r, 'BAD_REQUEST', r.id);
      }
      for (const text of ['x'.repeat(101), 'two\nlines', 'bell\u0007']) {
        const r = await d3.request('presence.set', { status: 'busy', text });
        expectWsError(`presence.set text ${JSON.stringify(text.slice(0, 12))}`, r, 'BAD_REQUEST', r.id);
      }
      const none = await d3.request('presence.set', {});
      expectWsError('presence.set without status', none, 'BAD_REQUEST', none.id);
      // nothing was changed by the refused ones
      expect((await d3.call('presence.contacts')).mine).toMatchObject({ status: 'online', text: null });
      d3.close();
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('bad-frame limit and socket-level close codes', () => {
    it('50 bad frames in a row close with 4400; an accepted request resets the count', async () => {
      const c = await authed(users.carol);
      for (let i = 0; i < 49; i++) expectWsError('bad', await c.sendFrame('nope'), 'BAD_REQUEST', null);
      expect((await c.request('ping')).ok).toBe(true);
      for (let i = 0; i < 49; i++) {
        const id = c.nextId();
        expectWsError('unknown op', await c.request('no.such.op', undefined, { id }), 'UNKNOWN_OP', id);
      }
      expect((await c.request('ping')).ok).toBe(true);
      expect(c.isOpen).toBe(true);
      // now 50 in a row, of the counted kinds mixed
      const frames: string[] = [];
      for (let i = 0; i < 50; i++) frames.push(i % 2 ? 'nope' : JSON.stringify({ type: 'req', id: `u${i}`, op: 'no.such.op' }));
      for (const f of frames) c.ws.send(f);
      const closed = await c.waitClose();
      expect(closed.code).toBe(4400);
    });

    it('50 UNAUTHENTICATED requests in a row close with 4400', async () => {
      const c = await open();
      for (let i = 0; i < 50; i++) c.ws.send(JSON.stringify({ type: 'req', id: `x${i}`, op: 'rooms.list' }));
      const closed = await c.waitClose();
      expect(closed.code).toBe(4400);
    });

    it('a text frame that is not valid UTF-8 closes with 1007', async () => {
      const c = await authed(users.carol);
      c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      expect((await c.waitClose()).code).toBe(1007);
    });

    it('a frame larger than 1 MiB closes with 1009', async () => {
      const c = await authed(users.carol);
      c.ws.send(frameOfSize(1048576 + 100, 'huge'));
      expect((await c.waitClose()).code).toBe(1009);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('gateway settings: auth timeout, token expiry, slow consumer, shutdown', () => {
    let gwUrl: string;
    let gwWs: string;

    beforeAll(async () => {
      const port = await freePort();
      await stack.startExtra('gateway-s', 'gateway', port, {
        WS_AUTH_TIMEOUT_MS: '1500',
        ACCESS_TOKEN_TTL_S: '30', // the smallest value the gateway accepts (not documented)
        WS_MAX_BUFFERED_BYTES: '65536',
        // The longest keep-alive interval: a client that does not read does not answer pings
        // either, and is dropped (1006) at the second ping after it stopped reading, which would
        // otherwise race the 4408 test below (item 5 of "Connection lifecycle").
        WS_PING_INTERVAL_MS: '60000',
      });
      gwUrl = `http://127.0.0.1:${port}`;
      gwWs = `ws://127.0.0.1:${port}/ws`;
    });

    it('no auth within WS_AUTH_TIMEOUT_MS closes with 4401; a failed auth does not restart the clock', async () => {
      const idle = await open(gwWs);
      const closed = await idle.waitClose(8000);
      expect(closed.code).toBe(4401);
      expect(closed.at - idle.openedAt).toBeLessThan(4000);

      const failing = await open(gwWs);
      await untilTime(failing.openedAt + 900);
      const r = await failing.request('auth', { token: 'garbage' });
      expectWsError('bad token', r, 'UNAUTHENTICATED', r.id);
      expect(failing.isOpen).toBe(true);
      const c2 = await failing.waitClose(8000);
      expect(c2.code).toBe(4401);
      // 1500 ms from opening, not from the failed auth (which would be ≥ 2400 ms)
      expect(c2.at - failing.openedAt).toBeLessThan(2300);

      // an authenticated connection is not closed by the timer
      const good = await authed(users.carol, gwWs);
      await untilTime(good.openedAt + 2500);
      expect((await good.request('ping')).ok).toBe(true);
      good.close();
    });

    it('token expiry: 4403 at expiresAt, TOKEN_EXPIRED afterwards; re-auth on the open connection extends it', async () => {
      const TTL = 30_000; // ACCESS_TOKEN_TTL_S=30 on this gateway
      const l1 = await login('carol', users.carol.password, gwUrl);
      expect(l1.status).toBe(200);
      const loggedInAt = Date.now();
      const e1 = Date.parse(l1.json.expiresAt);
      expect(e1 % 1000).toBe(0);
      expect(Math.abs(e1 - loggedInAt - TTL)).toBeLessThan(2000);
      // A keeps the first token; K re-authenticates with a later one.
      const a = await open(gwWs);
      const k = await open(gwWs);
      for (const c of [a, k]) {
        const r = await c.request('auth', { token: l1.json.accessToken });
        expect(r.ok).toBe(true);
        expect(r.data.expiresAt).toBe(l1.json.expiresAt);
      }
      await untilTime(loggedInAt + 2100);
      const l2 = await login('carol', users.carol.password, gwUrl);
      const e2 = Date.parse(l2.json.expiresAt);
      expect(e2 - e1).toBeGreaterThanOrEqual(2000);
      const re = await k.request('auth', { token: l2.json.accessToken });
      expect(re.ok).toBe(true);
      expect(re.data.expiresAt).toBe(l2.json.expiresAt);

      const closed = await a.waitClose(TTL + 10_000);
      expect(closed.code).toBe(4403);
      expect(closed.at).toBeGreaterThanOrEqual(e1 - 1000);
      // K, re-authenticated, outlives the first token
      await untilTime(e1 + 500);
      expect(k.isOpen).toBe(true);
      expect((await k.request('ping')).ok).toBe(true);

      // the expired token is refused with TOKEN_EXPIRED, on any gateway
      for (const url of [gwWs, wsUrl]) {
        const d = await open(url);
        const r = await d.request('auth', { token: l1.json.accessToken });
        expectWsError('auth with expired token', r, 'TOKEN_EXPIRED', r.id);
        d.close();
      }
      // and K is closed at its new expiresAt
      const kc = await k.waitClose(10_000);
      expect(kc.code).toBe(4403);
      expect(kc.at).toBeGreaterThanOrEqual(e2 - 1000);
    });

    it('a client that does not read is closed with 4408 (WS_MAX_BUFFERED_BYTES)', async () => {
      const frank = await account('frank');
      const sender = await authed(users.alice);
      await sender.call('room.create', { roomId: 'flood', name: 'Flood' });
      const slow = await authed(frank, gwWs);
      await slow.call('room.join', { roomId: 'flood' });
      slow.ws.pause(); // stop reading
      // "more than N bytes waiting to be sent": the OS socket buffers (several MB on loopback)
      // fill first, so post about 14 MB in 900 messages of 4000 four-byte characters. The close
      // comes once the OS buffers are full, and the gateway then waits at most 30 s for the client
      // to read up to it: few large messages keep what is sent after it short. The gateway's
      // closing handshake only ends when the client reads, so nothing else shows the close earlier.
      const body = '😀'.repeat(4000);
      for (let sent = 0; sent < 900; sent += 100) {
        const batch = await Promise.all(
          Array.from({ length: 100 }, (_, j) =>
            sender.request('message.send', { roomId: 'flood', clientMsgId: `f-${sent + j}`, body }, { timeoutMs: 60_000 }),
          ),
        );
        expect(batch.filter((r) => !r.ok).map((r) => r.error)).toEqual([]);
      }
      slow.ws.resume();
      const closed = await slow.waitClose(40_000);
      expect(closed.code).toBe(4408);
      sender.close();
    });

    it('gateway shutdown announces server.shutdown, then closes connections with 1012', async () => {
      const c = await authed(users.carol, gwWs);
      const m = c.mark();
      await stack.stop('gateway-s');
      await c.waitEvent((e) => e.event === 'server.shutdown', m);
      expect((await c.waitClose(15_000)).code).toBe(1012);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('UNAVAILABLE when a backing service is down', () => {
    it('history.page answers UNAVAILABLE while the history service is down, and works again after', async () => {
      const c = await authed(users.alice);
      await stack.stop('history');
      try {
        const r = await c.request('history.page', { roomId: 'general' }, { timeoutMs: 30_000 });
        expectWsError('history down', r, 'UNAVAILABLE', r.id);
        expect(c.isOpen).toBe(true);
      } finally {
        await stack.start('history');
      }
      await eventually(async () => (await c.request('history.page', { roomId: 'general' }, { timeoutMs: 30_000 })).ok, 30_000);
    });
  });
});
