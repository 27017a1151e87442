// An independent client written ONLY from docs/protocol.md, using `ws` and `fetch` (through
// doc-client.ts), that drives every moderation op and event as documented: content filters
// (mod.filters.get/set/test and the HTTP routes), the message.send outcomes they give, server
// roles, mutes, warnings, kicks, bans, reports, the audit log, mod.me and the `html` of a posted
// message. The assertions are what the document SAYS: when one fails, either the server or the
// document is wrong.
import { eventually } from '@chat/testing';
import { printLogsIfFailed, startTestStack, TestStack } from './fixture';
import {
  Account,
  DocClient,
  DocClients,
  Evt,
  Res,
  UUID,
  createAccount,
  expectErr,
  expectFields,
  expectHidden,
  expectOk,
  expectPostAck,
  expectPostedMessageView,
  expectUserView,
  http,
  HttpRes,
  reportUndocumented,
  sleep,
  wsUrlOf,
} from './doc-client';

jest.setTimeout(120_000);

// ---------------------------------------------------------------------------------------------
// Shapes of the moderation section (Shapes, Events)
// ---------------------------------------------------------------------------------------------

const RETRY_AFTER = /retryAfterMs=(\d+)$/;

function expectModAck(where: string, a: any): number {
  expectFields(where, a, { position: 'integer' });
  return a.position;
}

function expectMuteView(where: string, m: any): void {
  expectFields(where, m, {
    muteId: 'string',
    userId: 'uuid',
    username: 'string',
    roomId: 'stringOrNull',
    until: 'time',
    reason: 'string',
    by: 'userOrNull',
    rule: 'stringOrNull',
    time: 'time',
  });
}

function expectReportView(where: string, r: any): void {
  expectFields(where, r, {
    reportId: 'uuid',
    kind: ['message', 'held', 'escalation', 'rule'],
    state: ['open', 'claimed', 'resolved', 'dismissed'],
    roomId: 'stringOrNull',
    messageId: 'stringOrNull',
    target: 'object',
    excerpt: 'stringOrNull',
    reason: 'string',
    rule: 'stringOrNull',
    held: 'objectOrNull',
    by: 'userOrNull',
    time: 'time',
    position: 'integer',
    claimedBy: 'userOrNull',
    closedBy: 'userOrNull',
    closedAt: 'timeOrNull',
    action: 'stringOrNull',
    note: 'stringOrNull',
  });
  expectUserView(`${where}.target`, r.target);
  if (r.held) expectFields(`${where}.held`, r.held, { clientMsgId: 'string', body: 'string' });
}

function expectAuditEntry(where: string, e: any): void {
  expectFields(where, e, {
    position: 'integer',
    time: 'time',
    type: 'string',
    actor: 'userOrNull',
    rule: 'stringOrNull',
    target: 'userOrNull',
    roomId: 'stringOrNull',
    summary: 'string',
  });
}

function expectFilterConfigView(where: string, v: any, scope: 'server' | 'room', roomId: string | null): void {
  expectFields(where, v, {
    scope: ['server', 'room'],
    roomId: 'stringOrNull',
    config: 'object',
    updatedAt: 'timeOrNull',
    updatedBy: 'userOrNull',
    position: 'integer',
  });
  expect({ where, scope: v.scope, roomId: v.roomId }).toEqual({ where, scope, roomId });
  expectFields(`${where}.config`, v.config, { words: 'array', allow: 'array', patterns: 'array', links: 'object', spam: 'object' });
  expectFields(`${where}.config.links`, v.config.links, { default: ['allow', 'hold', 'block', null], domains: 'array' });
  expectFields(`${where}.config.spam`, v.config.spam, {
    repeatedCharsMax: 'integerOrNull',
    capsPercentMax: 'integerOrNull',
    capsMinLetters: 'integerOrNull',
  });
}

const EMPTY_CONFIG = {
  words: [],
  allow: [],
  patterns: [],
  links: { default: null, domains: [] },
  spam: { repeatedCharsMax: null, capsPercentMax: null, capsMinLetters: null },
};

/** A moderation.* event: position 0 (not a chat event). */
function expectModEvent(where: string, ev: Evt): void {
  expect({ where, type: ev.type, position: ev.position }).toEqual({ where, type: 'evt', position: 0 });
}

/** The `details[].field` values of an error reply. */
const detailFields = (r: Res | { error?: any }): string[] => ((r as any).error?.details ?? []).map((d: any) => d.field);

function expectHttpErr(where: string, r: HttpRes, status: number, code: string): void {
  expect({ where, status: r.status, code: r.json?.error?.code, messageType: typeof r.json?.error?.message }).toEqual({
    where,
    status,
    code,
    messageType: 'string',
  });
}

/** Discrepancies seen while the spec runs (doc section: what it says / what happened). */
const findings: string[] = [];
const note = (s: string) => findings.push(s);

// ---------------------------------------------------------------------------------------------

describe('protocol.md moderation, from the document alone', () => {
  let stack: TestStack;
  let base: string;
  let wsUrl: string;
  const clients = new DocClients();
  const users: Record<string, Account> = {};
  const cl: Record<string, DocClient> = {};

  const connect = async (name: string): Promise<DocClient> => {
    const c = await clients.authed(users[name], wsUrl);
    cl[name] = c;
    return c;
  };

  const send = (c: DocClient, roomId: string, clientMsgId: string, body: string) =>
    c.request('message.send', { roomId, clientMsgId, body });

  const ROOM = 'modroom';
  const SECRET = 'modsecret';

  beforeAll(async () => {
    // "The users named in SERVER_ADMINS (every service's setting) are administrators."
    stack = await startTestStack({
      env: { SERVER_ADMINS: 'Ops' },
      // BLOCKED_WORDS: "extra server block words, comma-separated (start-up only)"
      serviceEnv: { moderation: { BLOCKED_WORDS: 'verboten' } },
    });
    base = stack.urls.gateway;
    wsUrl = wsUrlOf(base);
    for (const n of ['Ops', 'Mia', 'Alice', 'Bob', 'Carol', 'Dave', 'Eve', 'Frank', 'Gina']) users[n] = await createAccount(base, n);
    for (const n of Object.keys(users)) await connect(n);
    expectOk('room.create', await cl.Alice.request('room.create', { roomId: ROOM, name: 'Mod Room' }));
    expectOk('room.create secret', await cl.Alice.request('room.create', { roomId: SECRET, name: 'Secret', visibility: 'private' }));
    for (const n of ['Bob', 'Carol', 'Dave', 'Frank', 'Gina', 'Eve'])
      expectOk(`${n} joins`, await cl[n].request('room.join', { roomId: ROOM }));
    for (const n of ['Bob', 'Carol']) expectOk(`${n} joins general`, await cl[n].request('room.join', { roomId: 'general' }));
  });

  afterEach(() => printLogsIfFailed(stack, ['moderation', 'gateway', 'rooms']));

  afterAll(async () => {
    clients.closeAll();
    reportUndocumented();
    if (findings.length) console.log(`observations (doc vs server):\n  ${findings.join('\n  ')}`);
    await stack?.teardown();
  });

  // -------------------------------------------------------------------------------------------
  describe('mod.me and server roles', () => {
    it('mod.me: a plain user has role null, no mutes, 0 strikes; an SERVER_ADMINS user is "admin"; before auth UNAUTHENTICATED', async () => {
      const me = expectOk('mod.me Bob', await cl.Bob.request('mod.me'));
      expectFields('OwnModerationView', me, { role: ['admin', 'moderator', null], mutes: 'array', strikes: 'integer' });
      expect(me).toEqual({ role: null, mutes: [], strikes: 0 });
      const ops = expectOk('mod.me Ops', await cl.Ops.request('mod.me'));
      expect(ops.role).toBe('admin');
      const fresh = await DocClient.open(wsUrl);
      expectErr('mod.me before auth', await fresh.request('mod.me'), 'UNAUTHENTICATED');
      fresh.close();
      // mod.me takes no data: "Unknown fields are rejected"
      expectErr('mod.me with a field', await cl.Bob.request('mod.me', { x: 1 }), 'BAD_REQUEST', 'data.x');
    });

    it('mod.roles: the config administrators (source "config"); FORBIDDEN without a server role', async () => {
      const r = expectOk('mod.roles', await cl.Ops.request('mod.roles'));
      expectFields('mod.roles', r, { roles: 'array' });
      for (const [i, v] of r.roles.entries())
        expectFields(`ServerRoleView[${i}]`, v, {
          userId: 'uuid',
          username: 'string',
          role: ['admin', 'moderator'],
          source: ['config', 'granted'],
        });
      expect(r.roles).toEqual([{ userId: users.Ops.userId, username: 'Ops', role: 'admin', source: 'config' }]);
      expectErr('mod.roles by Bob', await cl.Bob.request('mod.roles'), 'FORBIDDEN');
    });

    it('mod.role.set: an administrator makes Mia a moderator (moderation.role to her), errors in the documented order', async () => {
      expectErr(
        'mod.role.set by a plain user',
        await cl.Bob.request('mod.role.set', { userId: users.Mia.userId, role: 'moderator' }),
        'FORBIDDEN',
      );
      expectErr(
        'mod.role.set of an unknown user',
        await cl.Ops.request('mod.role.set', { userId: '00000000-0000-4000-8000-000000000000', role: 'moderator' }),
        'NOT_FOUND',
      );
      // "NOT_FOUND (no user has this id)" comes before "FORBIDDEN (the caller is not an administrator)"
      expectErr(
        'mod.role.set of an unknown user by a plain user',
        await cl.Bob.request('mod.role.set', { userId: '00000000-0000-4000-8000-000000000000', role: 'moderator' }),
        'NOT_FOUND',
      );
      expectErr(
        'mod.role.set bad role',
        await cl.Ops.request('mod.role.set', { userId: users.Mia.userId, role: 'owner' }),
        'BAD_REQUEST',
        'data.role',
      );
      expectErr(
        'mod.role.set bad userId',
        await cl.Ops.request('mod.role.set', { userId: 'nope', role: 'moderator' }),
        'BAD_REQUEST',
        'data.userId',
      );
      expectErr(
        'mod.role.set of a config admin',
        await cl.Ops.request('mod.role.set', { userId: users.Ops.userId, role: null }),
        'FORBIDDEN',
      );

      const mark = cl.Mia.mark();
      const ack = expectOk('mod.role.set', await cl.Ops.request('mod.role.set', { userId: users.Mia.userId, role: 'moderator' }));
      expectModAck('mod.role.set', ack);
      const ev = await cl.Mia.waitEvent((e) => e.event === 'moderation.role', mark);
      expectModEvent('moderation.role', ev);
      expectFields('moderation.role', ev.data, { role: ['admin', 'moderator', null], by: 'userOrNull', time: 'time' });
      expect({ role: ev.data.role, by: ev.data.by }).toEqual({ role: 'moderator', by: { userId: users.Ops.userId, username: 'Ops' } });

      expectErr(
        'mod.role.set to the same role',
        await cl.Ops.request('mod.role.set', { userId: users.Mia.userId, role: 'moderator' }),
        'CONFLICT',
      );
      expect(expectOk('mod.me Mia', await cl.Mia.request('mod.me')).role).toBe('moderator');
      const roles = expectOk('mod.roles by a moderator', await cl.Mia.request('mod.roles')).roles;
      expect(roles).toEqual([
        { userId: users.Ops.userId, username: 'Ops', role: 'admin', source: 'config' },
        { userId: users.Mia.userId, username: 'Mia', role: 'moderator', source: 'granted' },
      ]);
      // only administrators give roles
      expectErr(
        'mod.role.set by a moderator',
        await cl.Mia.request('mod.role.set', { userId: users.Bob.userId, role: 'moderator' }),
        'FORBIDDEN',
      );
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('content filters', () => {
    const serverConfig = {
      words: [
        { term: 'darn', action: 'mask' },
        { term: 'heck', action: 'block' },
      ],
      allow: [],
      patterns: [],
      links: { default: null, domains: [] },
      spam: { repeatedCharsMax: null, capsPercentMax: null, capsMinLetters: null },
    };
    const roomConfig = {
      words: [
        { term: 'zonk', action: 'block' },
        { term: '坏', action: 'block' },
      ],
      allow: ['坏处'],
      patterns: [
        { name: 'coupon', pattern: 'free\\s*coupon', action: 'hold' },
        { name: 'digits', pattern: '\\d{6}', action: 'mask' },
      ],
      links: {
        default: null,
        domains: [
          { domain: 'bad.example', action: 'block' },
          { domain: 'review.example', action: 'hold' },
        ],
      },
      spam: { repeatedCharsMax: 5, capsPercentMax: 70, capsMinLetters: 10 },
    };

    it('mod.filters.get of a scope never set: the empty configuration, position 0, updatedAt/updatedBy null', async () => {
      const v = expectOk('mod.filters.get server', await cl.Ops.request('mod.filters.get'));
      expectFilterConfigView('server view', v, 'server', null);
      expect({ config: v.config, updatedAt: v.updatedAt, updatedBy: v.updatedBy, position: v.position }).toEqual({
        config: EMPTY_CONFIG,
        updatedAt: null,
        updatedBy: null,
        position: 0,
      });
      // a room's owner reads its room's filters
      const rv = expectOk('mod.filters.get room by owner', await cl.Alice.request('mod.filters.get', { roomId: ROOM }));
      expectFilterConfigView('room view', rv, 'room', ROOM);
      expect(rv.position).toBe(0);
    });

    it('mod.filters.get/set/test permissions: FORBIDDEN for a plain user (server and room), NOT_FOUND for a hidden room', async () => {
      expectErr('get server by Bob', await cl.Bob.request('mod.filters.get'), 'FORBIDDEN');
      expectErr('get server by a room owner', await cl.Alice.request('mod.filters.get'), 'FORBIDDEN');
      expectErr('get room by a plain member', await cl.Bob.request('mod.filters.get', { roomId: ROOM }), 'FORBIDDEN');
      expectErr('set room by a plain member', await cl.Bob.request('mod.filters.set', { roomId: ROOM, config: EMPTY_CONFIG }), 'FORBIDDEN');
      expectErr('set server by a room owner', await cl.Alice.request('mod.filters.set', { config: EMPTY_CONFIG }), 'FORBIDDEN');
      expectErr('test server by Bob', await cl.Bob.request('mod.filters.test', { body: 'hi' }), 'FORBIDDEN');
      expectErr('test room by a plain member', await cl.Bob.request('mod.filters.test', { roomId: ROOM, body: 'hi' }), 'FORBIDDEN');
      const hidden = await cl.Bob.request('mod.filters.get', { roomId: SECRET });
      expectErr('get hidden room', hidden, 'NOT_FOUND');
      expectHidden('get hidden room (message)', hidden, SECRET);
      expectErr('get missing room', await cl.Bob.request('mod.filters.get', { roomId: 'no-such-room' }), 'NOT_FOUND');
      // a server moderator reads any room's filters
      expectOk('get room by a moderator', await cl.Mia.request('mod.filters.get', { roomId: ROOM }));
    });

    it('mod.filters.set: BAD_REQUEST with details naming each bad field; nothing stored', async () => {
      const bad = async (where: string, config: any, fieldTail: string) => {
        const r = await cl.Ops.request('mod.filters.set', { config });
        expectErr(where, r, 'BAD_REQUEST');
        const fields = detailFields(r);
        // The op section's example names `config.patterns.0.pattern`; the frame table says details
        // of op data are `data.<field>`. Either prefix is accepted here; which one came is recorded.
        const hit = fields.find((f) => f === fieldTail || f === `data.${fieldTail}`);
        expect({ where, fields, hit: !!hit }).toEqual({ where, fields, hit: true });
        if (hit === fieldTail) note(`mod.filters.set details: field "${hit}" has no "data." prefix (frame table: always data.<field>)`);
        return r;
      };
      await bad('bad word action', { ...EMPTY_CONFIG, words: [{ term: 'x1', action: 'hold' }] }, 'config.words.0.action');
      await bad('empty term', { ...EMPTY_CONFIG, words: [{ term: '', action: 'mask' }] }, 'config.words.0.term');
      await bad('term without a letter or digit', { ...EMPTY_CONFIG, words: [{ term: '!!!', action: 'mask' }] }, 'config.words.0.term');
      await bad('term of 65 characters', { ...EMPTY_CONFIG, words: [{ term: 'a'.repeat(65), action: 'mask' }] }, 'config.words.0.term');
      await bad(
        'nested quantifier',
        { ...EMPTY_CONFIG, patterns: [{ name: 'p', pattern: '(a+)+', action: 'block' }] },
        'config.patterns.0.pattern',
      );
      await bad(
        'look-behind',
        { ...EMPTY_CONFIG, patterns: [{ name: 'p', pattern: '(?<=a)b', action: 'block' }] },
        'config.patterns.0.pattern',
      );
      await bad(
        'matches the empty text',
        { ...EMPTY_CONFIG, patterns: [{ name: 'p', pattern: 'a*', action: 'block' }] },
        'config.patterns.0.pattern',
      );
      await bad(
        'does not compile',
        { ...EMPTY_CONFIG, patterns: [{ name: 'p', pattern: '(abc', action: 'block' }] },
        'config.patterns.0.pattern',
      );
      await bad(
        'duplicate pattern names',
        {
          ...EMPTY_CONFIG,
          patterns: [
            { name: 'p', pattern: 'abc', action: 'block' },
            { name: 'p', pattern: 'def', action: 'block' },
          ],
        },
        'config.patterns.1.name',
      );
      await bad(
        'upper-case domain',
        { ...EMPTY_CONFIG, links: { default: null, domains: [{ domain: 'Bad.Example', action: 'block' }] } },
        'config.links.domains.0.domain',
      );
      await bad('bad links.default', { ...EMPTY_CONFIG, links: { default: 'mask', domains: [] } }, 'config.links.default');
      await bad(
        'repeatedCharsMax 2',
        { ...EMPTY_CONFIG, spam: { ...EMPTY_CONFIG.spam, repeatedCharsMax: 2 } },
        'config.spam.repeatedCharsMax',
      );
      await bad(
        'capsPercentMax 101',
        { ...EMPTY_CONFIG, spam: { ...EMPTY_CONFIG.spam, capsPercentMax: 101 } },
        'config.spam.capsPercentMax',
      );
      await bad('capsMinLetters 0', { ...EMPTY_CONFIG, spam: { ...EMPTY_CONFIG.spam, capsMinLetters: 0 } }, 'config.spam.capsMinLetters');
      // "every field required (use [] and null)"
      await bad('config {}', {}, 'config.words');
      const { allow: _allow, ...noAllow } = EMPTY_CONFIG;
      await bad('allow missing', noAllow, 'config.allow');
      // unknown fields are rejected
      await bad('unknown field', { ...EMPTY_CONFIG, extra: true }, 'config.extra');
      expectErr(
        'bad roomId',
        await cl.Ops.request('mod.filters.set', { roomId: 'Bad Room', config: EMPTY_CONFIG }),
        'BAD_REQUEST',
        'data.roomId',
      );
      // nothing stored
      expect(expectOk('get after refusals', await cl.Ops.request('mod.filters.get')).position).toBe(0);
    });

    // Found by this spec: an absent `config` once reached the moderation service (INTERNAL).
    it('mod.filters.set / PUT /api/moderation/filters without config: BAD_REQUEST naming config', async () => {
      const code = (r: Res) => ({ code: r.error?.code, fields: detailFields(r) });
      const put = await http(base, 'PUT', '/api/moderation/filters', {}, { token: users.Ops.token });
      const got = {
        wsMissing: code(await cl.Ops.request('mod.filters.set', {})),
        wsMissingRoom: code(await cl.Alice.request('mod.filters.set', { roomId: ROOM })),
        wsNull: code(await cl.Ops.request('mod.filters.set', { config: null })),
        // "The body is validated by the gateway (400 BAD_REQUEST with details naming each bad field ...; nothing is forwarded)"
        httpMissing: { status: put.status, code: put.json?.error?.code, fields: detailFields(put.json) },
      };
      expect(got).toEqual({
        wsMissing: { code: 'BAD_REQUEST', fields: expect.arrayContaining(['data.config']) },
        wsMissingRoom: { code: 'BAD_REQUEST', fields: expect.arrayContaining(['data.config']) },
        wsNull: { code: 'BAD_REQUEST', fields: expect.arrayContaining(['data.config']) },
        httpMissing: { status: 400, code: 'BAD_REQUEST', fields: expect.arrayContaining(['config']) },
      });
    });

    it('mod.filters.set (server, WS): { position, scope, roomId }; get returns it as set with updatedBy', async () => {
      const r = expectOk('set server', await cl.Ops.request('mod.filters.set', { config: serverConfig }));
      expectFields('set server reply', r, { position: 'integer', scope: ['server', 'room'], roomId: 'stringOrNull' });
      expect({ scope: r.scope, roomId: r.roomId }).toEqual({ scope: 'server', roomId: null });
      const v = expectOk('get server', await cl.Mia.request('mod.filters.get'));
      expectFilterConfigView('server view', v, 'server', null);
      expect({ config: v.config, position: v.position, updatedBy: v.updatedBy }).toEqual({
        config: serverConfig,
        position: r.position,
        updatedBy: { userId: users.Ops.userId, username: 'Ops' },
      });
      expect(v.updatedAt).not.toBeNull();
    });

    it('HTTP GET/PUT /api/moderation/filters: the same view; validation with details; 401/403/415', async () => {
      const g = await http(base, 'GET', '/api/moderation/filters', undefined, { token: users.Ops.token });
      expect(g.status).toBe(200);
      const ws = expectOk('get server', await cl.Ops.request('mod.filters.get'));
      expect(g.json).toEqual(ws);
      const gEmpty = await http(base, 'GET', '/api/moderation/filters?roomId=', undefined, { token: users.Ops.token });
      expect({ status: gEmpty.status, scope: gEmpty.json?.scope }).toEqual({ status: 200, scope: 'server' });

      const gRoom = await http(base, 'GET', `/api/moderation/filters?roomId=${ROOM}`, undefined, { token: users.Alice.token });
      expect(gRoom.status).toBe(200);
      expectFilterConfigView('http room view', gRoom.json, 'room', ROOM);

      expectHttpErr(
        'GET by a plain user',
        await http(base, 'GET', '/api/moderation/filters', undefined, { token: users.Bob.token }),
        403,
        'FORBIDDEN',
      );
      expectHttpErr('GET without a token', await http(base, 'GET', '/api/moderation/filters'), 401, 'UNAUTHENTICATED');
      expectHttpErr(
        'GET other parameter',
        await http(base, 'GET', '/api/moderation/filters?foo=1', undefined, { token: users.Ops.token }),
        400,
        'BAD_REQUEST',
      );
      expectHttpErr(
        'GET bad roomId',
        await http(base, 'GET', '/api/moderation/filters?roomId=Not%20A%20Room', undefined, { token: users.Ops.token }),
        400,
        'BAD_REQUEST',
      );
      expectHttpErr(
        'GET hidden room',
        await http(base, 'GET', `/api/moderation/filters?roomId=${SECRET}`, undefined, { token: users.Bob.token }),
        404,
        'NOT_FOUND',
      );

      const badPut = await http(
        base,
        'PUT',
        '/api/moderation/filters',
        { config: { ...serverConfig, words: [...serverConfig.words, { term: 'gosh', action: 'nuke' }] } },
        { token: users.Ops.token },
      );
      expectHttpErr('PUT bad action', badPut, 400, 'BAD_REQUEST');
      expect(detailFields(badPut.json)).toContain('config.words.2.action');
      expectHttpErr(
        'PUT as text',
        await http(base, 'PUT', '/api/moderation/filters', undefined, { token: users.Ops.token, raw: '{}', contentType: 'text/plain' }),
        415,
        'BAD_REQUEST',
      );
      expectHttpErr(
        'PUT by a plain user',
        await http(base, 'PUT', '/api/moderation/filters', { config: EMPTY_CONFIG }, { token: users.Bob.token }),
        403,
        'FORBIDDEN',
      );
      expectHttpErr(
        'PUT without a token',
        await http(base, 'PUT', '/api/moderation/filters', { config: EMPTY_CONFIG }),
        401,
        'UNAUTHENTICATED',
      );

      const withGosh = { ...serverConfig, words: [...serverConfig.words, { term: 'gosh', action: 'mask' }] };
      const put = await http(base, 'PUT', '/api/moderation/filters', { config: withGosh }, { token: users.Ops.token });
      expect({ status: put.status, body: put.json }).toEqual({
        status: 200,
        body: { position: expect.any(Number), scope: 'server', roomId: null },
      });
      expect(put.json.position).toBeGreaterThan(ws.position);
      const after = expectOk('get after PUT', await cl.Ops.request('mod.filters.get'));
      expect({ config: after.config, position: after.position }).toEqual({ config: withGosh, position: put.json.position });
      serverConfig.words = withGosh.words;
    });

    it('mod.filters.set (room) by its owner; mod.filters.test shows every rule at server and room scope', async () => {
      const r = expectOk('set room', await cl.Alice.request('mod.filters.set', { roomId: ROOM, config: roomConfig }));
      expect({ scope: r.scope, roomId: r.roomId }).toEqual({ scope: 'room', roomId: ROOM });
      const v = expectOk('get room', await cl.Alice.request('mod.filters.get', { roomId: ROOM }));
      // "A room's view is the room's own part only"
      expect({ config: v.config, updatedBy: v.updatedBy, position: v.position }).toEqual({
        config: roomConfig,
        updatedBy: { userId: users.Alice.userId, username: 'Alice' },
        position: r.position,
      });

      // the room's owner tests the room's filters; an administrator the server's
      const test = async (body: string, roomId?: string) =>
        roomId
          ? expectOk(`test "${body}" in ${roomId}`, await cl.Alice.request('mod.filters.test', { roomId, body }))
          : expectOk(`test server "${body}"`, await cl.Ops.request('mod.filters.test', { body }));
      const allow = (body: string) => ({ verdict: 'allow', body });
      const reject = (rule: string) => ({
        verdict: 'reject',
        code: 'CONTENT_BLOCKED',
        rule,
        reason: expect.any(String),
        retryAfterMs: null,
      });
      const hold = (rule: string) => ({ verdict: 'hold', rule, reason: expect.any(String), reportId: '' });

      // server scope alone
      expect(await test('oh darn it')).toEqual(allow('oh *** it'));
      expect(await test('what the d.a.r.n')).toEqual(allow('what the ***'));
      expect(await test('DARN')).toEqual(allow('***'));
      expect(await test('darning is fine')).toEqual(allow('darning is fine'));
      expect(await test('oh heck')).toEqual(reject('words'));
      expect(await test('h.e.c.k')).toEqual(reject('words'));
      expect(await test('ｈｅｃｋ')).toEqual(reject('words'));
      expect(await test('check this')).toEqual(allow('check this'));
      expect(await test('zonk')).toEqual(allow('zonk')); // a room word: not in the server's filters
      expect(await test('das ist verboten')).toEqual(reject('words')); // BLOCKED_WORDS
      // room scope: the server's joined with the room's
      expect(await test('oh darn it', ROOM)).toEqual(allow('oh *** it'));
      expect(await test('oh heck', ROOM)).toEqual(reject('words'));
      expect(await test('a zonk here', ROOM)).toEqual(reject('words'));
      expect(await test('这是坏人', ROOM)).toEqual(reject('words')); // CJK: substring
      expect(await test('没有坏处', ROOM)).toEqual(allow('没有坏处')); // allow-list hides the hit
      expect(await test('get a FREE coupon', ROOM)).toEqual(hold('pattern:coupon'));
      expect(await test('get a ｆｒｅｅcoupon', ROOM)).toEqual(hold('pattern:coupon'));
      expect(await test('code 123456 ok', ROOM)).toEqual(allow('code *** ok'));
      expect(await test('see https://bad.example/x', ROOM)).toEqual(reject('links'));
      expect(await test('see sub.bad.example now', ROOM)).toEqual(reject('links'));
      expect(await test('see bad[.]example', ROOM)).toEqual(reject('links'));
      expect(await test('see www.review.example', ROOM)).toEqual(hold('links'));
      expect(await test('see https://good.example', ROOM)).toEqual(allow('see https://good.example'));
      expect(await test('mail me at x@bad.example', ROOM)).toEqual(allow('mail me at x@bad.example')); // e-mail is not a link
      // a later block wins over a hold
      expect(await test('FREE coupon at bad.example', ROOM)).toEqual(reject('links'));
      expect(await test('sooooo', ROOM)).toEqual(allow('sooooo')); // run of 5 = repeatedCharsMax
      expect(await test('soooooo', ROOM)).toEqual(reject('repeated-chars'));
      expect(await test('哈哈哈哈哈哈', ROOM)).toEqual(reject('repeated-chars'));
      expect(await test('THIS IS ALL CAPS TEXT', ROOM)).toEqual(reject('caps'));
      expect(await test('OK FINE', ROOM)).toEqual(allow('OK FINE')); // fewer than capsMinLetters
      expect(await test('Hello There Friends', ROOM)).toEqual(allow('Hello There Friends'));

      expectErr('test empty body', await cl.Alice.request('mod.filters.test', { roomId: ROOM, body: '' }), 'BAD_REQUEST', 'data.body');
      expectErr(
        'test 4001 chars',
        await cl.Alice.request('mod.filters.test', { roomId: ROOM, body: 'a'.repeat(4001) }),
        'BAD_REQUEST',
        'data.body',
      );
      // "without ... striking anyone": the tester still has no strikes
      expect(expectOk('mod.me Alice', await cl.Alice.request('mod.me')).strikes).toBe(0);
    });

    it('message.send: masked body stored; CONTENT_BLOCKED for a block; a strike per refusal', async () => {
      const mark = cl.Alice.mark();
      const ack = expectOk('masked send', await send(cl.Carol, ROOM, 'mask-1', 'oh darn it, code 123456'));
      expectPostAck('masked send', ack);
      const ev = await cl.Alice.waitEvent((e) => e.event === 'message.posted' && e.data.clientMsgId === 'mask-1', mark);
      expectPostedMessageView('message.posted', ev.data);
      expect(ev.data.body).toBe('oh *** it, code ***');
      expect(ev.data.html).toBe('<p>oh *** it, code ***</p>');

      const blocked = await send(cl.Carol, ROOM, 'block-1', 'what the heck');
      expectErr('blocked send', blocked, 'CONTENT_BLOCKED');
      expect(blocked.error!.message).toBe('the message contains a blocked word');
      await sleep(300);
      expect(cl.Alice.eventsWhere((e) => e.event === 'message.posted' && e.data.clientMsgId === 'block-1')).toEqual([]);
      expect(expectOk('mod.me Carol', await cl.Carol.request('mod.me')).strikes).toBe(1);

      // link block, caps, CJK word via message.send (the room's filters: refused, no strike)
      expectErr('caps send', await send(cl.Gina, ROOM, 'caps-1', 'THIS IS ALL CAPS TEXT'), 'CONTENT_BLOCKED');
      expectErr('cjk send', await send(cl.Gina, ROOM, 'cjk-1', '这是坏人'), 'CONTENT_BLOCKED');
      // dm.send: "A first message that moderation refuses opens no conversation"
      const aliceMark = cl.Alice.mark();
      expectErr(
        'dm blocked',
        await cl.Frank.request('dm.send', { username: 'Alice', clientMsgId: 'dm-1', body: 'oh heck' }),
        'CONTENT_BLOCKED',
      );
      await sleep(300);
      expect(cl.Alice.events.slice(aliceMark).filter((e) => e.event === 'conversation.opened')).toEqual([]);
      expect(expectOk('dm.list', await cl.Frank.request('dm.list')).conversations).toEqual([]);
      const dm = expectOk('dm masked', await cl.Frank.request('dm.send', { username: 'Alice', clientMsgId: 'dm-2', body: 'darn it' }));
      const dmEv = await cl.Alice.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === dm.messageId, aliceMark);
      expect(dmEv.data.body).toBe('*** it');
      // the room's filters do not apply in another room
      expectOk('zonk in general', await send(cl.Carol, 'general', 'zonk-gen', 'zonk'));
      // message.edit is checked too; a text that would be held is refused CONTENT_BLOCKED
      const edit = await cl.Carol.request('message.edit', { roomId: ROOM, messageId: ack.messageId, body: 'a FREE coupon' });
      expectErr('edit to a held text', edit, 'CONTENT_BLOCKED');
    });

    let heldReportId = '';
    it('message.send HELD_FOR_REVIEW: a held report reaches moderators; approval posts it as sent', async () => {
      const miaMark = cl.Mia.mark();
      const opsMark = cl.Ops.mark();
      const r = await send(cl.Carol, ROOM, 'held-1', 'get a FREE coupon');
      expectErr('held send', r, 'HELD_FOR_REVIEW');
      const m = /report ([0-9a-f-]{36})/.exec(r.error!.message);
      expect({ message: r.error!.message, namesReport: !!m }).toEqual({ message: r.error!.message, namesReport: true });
      heldReportId = m![1];

      const ev = await cl.Mia.waitEvent((e) => e.event === 'moderation.report' && e.data.reportId === heldReportId, miaMark);
      expectModEvent('moderation.report', ev);
      expectReportView('moderation.report held', ev.data);
      expect(ev.data).toMatchObject({
        kind: 'held',
        state: 'open',
        roomId: ROOM,
        target: { userId: users.Carol.userId, username: 'Carol' },
        rule: 'pattern:coupon',
        held: { clientMsgId: 'held-1', body: 'get a FREE coupon' },
        by: null,
        claimedBy: null,
        closedBy: null,
      });
      await cl.Ops.waitEvent((e) => e.event === 'moderation.report' && e.data.reportId === heldReportId, opsMark);
      // a plain user gets no moderation.report
      await sleep(200);
      expect(cl.Bob.eventsWhere((e) => e.event === 'moderation.report')).toEqual([]);

      // "A resend with the same clientMsgId waits under the same report"
      const again = await send(cl.Carol, ROOM, 'held-1', 'get a FREE coupon');
      expectErr('held resend', again, 'HELD_FOR_REVIEW');
      expect(again.error!.message).toContain(heldReportId);

      const q = expectOk('mod.reports', await cl.Mia.request('mod.reports'));
      expectFields('mod.reports', q, { reports: 'array', nextBefore: 'integerOrNull' });
      expect(q.reports.map((x: any) => x.reportId)).toContain(heldReportId);

      const claimMark = cl.Ops.mark();
      const claim = expectOk('claim', await cl.Mia.request('mod.report.claim', { reportId: heldReportId }));
      expectModAck('claim', claim);
      const claimed = await cl.Ops.waitEvent(
        (e) => e.event === 'moderation.report' && e.data.reportId === heldReportId && e.data.state === 'claimed',
        claimMark,
      );
      expect(claimed.data.claimedBy).toEqual({ userId: users.Mia.userId, username: 'Mia' });
      // "Claiming a report you already claimed answers its position again"
      expect(expectOk('claim again', await cl.Mia.request('mod.report.claim', { reportId: heldReportId })).position).toBe(claim.position);
      expectErr('claim by another', await cl.Ops.request('mod.report.claim', { reportId: heldReportId }), 'CONFLICT');

      const aliceMark = cl.Alice.mark();
      const carolMark = cl.Carol.mark();
      expectModAck('resolve', expectOk('resolve held', await cl.Mia.request('mod.report.resolve', { reportId: heldReportId })));
      const posted = await cl.Alice.waitEvent((e) => e.event === 'message.posted' && e.data.clientMsgId === 'held-1', aliceMark);
      expectPostedMessageView('approved message.posted', posted.data);
      expect({ senderId: posted.data.senderId, body: posted.data.body, roomId: posted.data.roomId }).toEqual({
        senderId: users.Carol.userId,
        body: 'get a FREE coupon',
        roomId: ROOM,
      });
      await cl.Carol.waitEvent((e) => e.event === 'message.posted' && e.data.clientMsgId === 'held-1', carolMark);
      const resolved = await eventually(async () => {
        const rs = expectOk('mod.reports resolved', await cl.Mia.request('mod.reports', { state: 'resolved' })).reports;
        return rs.find((x: any) => x.reportId === heldReportId);
      });
      expectReportView('resolved held report', resolved);
      expect(resolved).toMatchObject({ state: 'resolved', action: 'approved', closedBy: { userId: users.Mia.userId, username: 'Mia' } });
      expect(resolved.closedAt).not.toBeNull();
      expectErr('resolve again', await cl.Mia.request('mod.report.resolve', { reportId: heldReportId }), 'CONFLICT');
      // idempotency: a resend of the approved clientMsgId is the original message
      const dup = await send(cl.Carol, ROOM, 'held-1', 'get a FREE coupon');
      expect({ ok: dup.ok, duplicate: dup.data?.duplicate, messageId: dup.data?.messageId, error: dup.error }).toEqual({
        ok: true,
        duplicate: true,
        messageId: posted.data.messageId,
        error: undefined,
      });
    });

    it('a held link dismissed is dropped, never posted', async () => {
      const r = await send(cl.Carol, ROOM, 'held-2', 'see www.review.example');
      expectErr('held link', r, 'HELD_FOR_REVIEW');
      const reportId = /report ([0-9a-f-]{36})/.exec(r.error!.message)![1];
      const q = await eventually(async () => {
        const rs = expectOk('mod.reports', await cl.Mia.request('mod.reports', { state: 'open' })).reports;
        return rs.find((x: any) => x.reportId === reportId);
      });
      expect(q).toMatchObject({ kind: 'held', rule: 'links', held: { clientMsgId: 'held-2', body: 'see www.review.example' } });
      const mark = cl.Alice.mark();
      expectModAck('dismiss', expectOk('dismiss', await cl.Mia.request('mod.report.dismiss', { reportId, note: 'not needed' })));
      await sleep(800);
      expect(cl.Alice.events.slice(mark).filter((e) => e.event === 'message.posted' && e.data.clientMsgId === 'held-2')).toEqual([]);
      const h = expectOk('history', await cl.Alice.request('history.page', { roomId: ROOM, limit: 100 }));
      expect(h.messages.filter((x: any) => x.clientMsgId === 'held-2')).toEqual([]);
      const d = expectOk('mod.reports dismissed', await cl.Mia.request('mod.reports', { state: 'dismissed' })).reports.find(
        (x: any) => x.reportId === reportId,
      );
      expect(d).toMatchObject({ state: 'dismissed', note: 'not needed' });
      expectErr('dismiss again', await cl.Mia.request('mod.report.dismiss', { reportId }), 'CONFLICT');
    });

    it('strikes: the third blocked message warns (moderation.warned, rule "strikes", by null); mod.me counts them', async () => {
      const mark = cl.Dave.mark();
      // Only the server's filters (and BLOCKED_WORDS) earn strikes; a room's own refuse without one.
      expectErr('room word: no strike', await send(cl.Dave, ROOM, 's0', 'zonk'), 'CONTENT_BLOCKED');
      expectErr('heck', await send(cl.Dave, ROOM, 's1', 'heck'), 'CONTENT_BLOCKED');
      expectErr('verboten', await send(cl.Dave, ROOM, 's2', 'das ist verboten'), 'CONTENT_BLOCKED');
      expectErr('heck again', await send(cl.Dave, ROOM, 's3', 'oh heck no'), 'CONTENT_BLOCKED');
      const ev = await cl.Dave.waitEvent((e) => e.event === 'moderation.warned', mark);
      expectModEvent('moderation.warned', ev);
      expectFields('moderation.warned', ev.data, { reason: 'string', by: 'userOrNull', rule: 'stringOrNull', time: 'time' });
      expect({ by: ev.data.by, rule: ev.data.rule }).toEqual({ by: null, rule: 'strikes' });
      expect(expectOk('mod.me Dave', await cl.Dave.request('mod.me')).strikes).toBe(3);
      // exactly one warning so far (the first two strikes are below MOD_STRIKES_WARN)
      expect(cl.Dave.events.slice(mark).filter((e) => e.event === 'moderation.warned').length).toBe(1);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('formatting', () => {
    it('the html of a posted message: markdown and a mention marked', async () => {
      const mark = cl.Alice.mark();
      const ack = expectOk('send', await send(cl.Carol, ROOM, 'fmt-1', '**bold** and `code` hi @Alice'));
      const ev = await cl.Alice.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === ack.messageId, mark);
      expect(ev.data.mentions).toEqual([{ userId: users.Alice.userId, username: 'Alice' }]);
      expect(ev.data.html).toBe(
        `<p><strong>bold</strong> and <code>code</code> hi <span class="mention" data-user-id="${users.Alice.userId}">@Alice</span></p>`,
      );
      const ack2 = expectOk('send 2', await send(cl.Carol, ROOM, 'fmt-2', '<b>x</b> [t](javascript:alert(1)) :tada:'));
      const ev2 = await cl.Alice.waitEvent((e) => e.event === 'message.posted' && e.data.messageId === ack2.messageId, mark);
      expect(ev2.data.html).toBe('<p>&lt;b&gt;x&lt;/b&gt; [t](javascript:alert(1)) 🎉</p>');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('mutes', () => {
    it('mod.mute in a room by its owner: MuteView, moderation.muted, MUTED with retryAfterMs there only; unmute', async () => {
      const mark = cl.Bob.mark();
      const r = expectOk(
        'mute',
        await cl.Alice.request('mod.mute', { userId: users.Bob.userId, roomId: ROOM, seconds: 60, reason: 'cool off' }),
      );
      expectFields('mod.mute reply', r, { position: 'integer', mute: 'object' });
      expectMuteView('mod.mute mute', r.mute);
      expect(r.mute).toMatchObject({
        userId: users.Bob.userId,
        username: 'Bob',
        roomId: ROOM,
        reason: 'cool off',
        by: { userId: users.Alice.userId, username: 'Alice' },
        rule: null,
      });
      const untilMs = Date.parse(r.mute.until) - Date.parse(r.mute.time);
      expect(Math.abs(untilMs - 60_000)).toBeLessThan(2000);

      const ev = await cl.Bob.waitEvent((e) => e.event === 'moderation.muted', mark);
      expectModEvent('moderation.muted', ev);
      expectMuteView('moderation.muted', ev.data);
      expect(ev.data).toEqual(r.mute);

      const refused = await send(cl.Bob, ROOM, 'muted-1', 'can I talk');
      expectErr('muted send', refused, 'MUTED');
      const n = Number(RETRY_AFTER.exec(refused.error!.message)?.[1] ?? NaN);
      expect({ message: refused.error!.message, ok: n > 0 && n <= 60_000 }).toEqual({ message: refused.error!.message, ok: true });
      expectOk('send in another room', await send(cl.Bob, 'general', 'gen-1', 'I can talk here'));

      const me = expectOk('mod.me Bob', await cl.Bob.request('mod.me'));
      expect(me.mutes).toEqual([r.mute]);
      const rm = expectOk('mod.mutes room by owner', await cl.Alice.request('mod.mutes', { roomId: ROOM }));
      expect(rm.mutes).toEqual([r.mute]);
      expectErr('mod.mutes all by a room owner', await cl.Alice.request('mod.mutes'), 'FORBIDDEN');
      expectErr('mod.mutes room by a plain member', await cl.Frank.request('mod.mutes', { roomId: ROOM }), 'FORBIDDEN');
      expect(expectOk('mod.mutes all by a moderator', await cl.Mia.request('mod.mutes')).mutes.map((x: any) => x.muteId)).toContain(
        r.mute.muteId,
      );

      const um = cl.Bob.mark();
      expectModAck('unmute', expectOk('unmute', await cl.Alice.request('mod.unmute', { userId: users.Bob.userId, roomId: ROOM })));
      const uev = await cl.Bob.waitEvent((e) => e.event === 'moderation.unmuted', um);
      expectModEvent('moderation.unmuted', uev);
      expectFields('moderation.unmuted', uev.data, {
        muteId: 'string',
        roomId: 'stringOrNull',
        reason: ['expired', 'lifted'],
        time: 'time',
      });
      expect({ muteId: uev.data.muteId, roomId: uev.data.roomId, reason: uev.data.reason }).toEqual({
        muteId: r.mute.muteId,
        roomId: ROOM,
        reason: 'lifted',
      });
      expectOk('send after unmute', await send(cl.Bob, ROOM, 'after-unmute', 'thanks'));
      expectErr('unmute with no mute', await cl.Alice.request('mod.unmute', { userId: users.Bob.userId, roomId: ROOM }), 'NOT_FOUND');
    });

    it('mod.mute server-wide by a moderator: MUTED everywhere, edits too; it ends by itself (moderation.unmuted "expired")', async () => {
      const ack = expectOk('Bob posts', await send(cl.Bob, ROOM, 'to-edit', 'an ordinary message'));
      const mark = cl.Bob.mark();
      const r = expectOk('server mute', await cl.Mia.request('mod.mute', { userId: users.Bob.userId, seconds: 3 }));
      expect(r.mute).toMatchObject({ roomId: null, reason: '', by: { userId: users.Mia.userId, username: 'Mia' } });
      await cl.Bob.waitEvent((e) => e.event === 'moderation.muted' && e.data.muteId === r.mute.muteId, mark);
      expectErr('muted in general', await send(cl.Bob, 'general', 'gm-1', 'hello'), 'MUTED');
      expectErr('muted in the room', await send(cl.Bob, ROOM, 'gm-2', 'hello'), 'MUTED');
      expectErr('muted edit', await cl.Bob.request('message.edit', { roomId: ROOM, messageId: ack.messageId, body: 'edited' }), 'MUTED');
      const uev = await cl.Bob.waitEvent((e) => e.event === 'moderation.unmuted' && e.data.muteId === r.mute.muteId, mark, 20_000);
      expect({ roomId: uev.data.roomId, reason: uev.data.reason }).toEqual({ roomId: null, reason: 'expired' });
      expectOk('send after expiry', await send(cl.Bob, 'general', 'gm-3', 'back again'));
      expect(expectOk('mod.me Bob', await cl.Bob.request('mod.me')).mutes).toEqual([]);
    });

    it('mod.mute errors: permissions before the target, in the documented order; bad input', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      expectErr(
        'plain user mutes in a room',
        await cl.Frank.request('mod.mute', { userId: users.Bob.userId, roomId: ROOM, seconds: 60 }),
        'FORBIDDEN',
      );
      expectErr('room owner mutes server-wide', await cl.Alice.request('mod.mute', { userId: users.Bob.userId, seconds: 60 }), 'FORBIDDEN');
      // a room hidden from a caller without a server role: NOT_FOUND first
      expectHidden(
        'plain user mutes in a hidden room',
        await cl.Frank.request('mod.mute', { userId: users.Bob.userId, roomId: SECRET, seconds: 60 }),
        SECRET,
      );
      // the caller's right before the target: an unknown target by a plain user is FORBIDDEN
      expectErr('plain user mutes an unknown user', await cl.Frank.request('mod.mute', { userId: unknown, seconds: 60 }), 'FORBIDDEN');
      expectErr('moderator mutes an unknown user', await cl.Mia.request('mod.mute', { userId: unknown, seconds: 60 }), 'NOT_FOUND');
      expectErr('mute oneself', await cl.Mia.request('mod.mute', { userId: users.Mia.userId, seconds: 60 }), 'FORBIDDEN');
      expectErr('mute an administrator', await cl.Mia.request('mod.mute', { userId: users.Ops.userId, seconds: 60 }), 'FORBIDDEN');
      expectErr(
        'room owner mutes a moderator in her room',
        await cl.Alice.request('mod.mute', { userId: users.Mia.userId, roomId: ROOM, seconds: 60 }),
        'FORBIDDEN',
      );
      expectErr('seconds 0', await cl.Mia.request('mod.mute', { userId: users.Bob.userId, seconds: 0 }), 'BAD_REQUEST', 'data.seconds');
      expectErr(
        'seconds > 30 days',
        await cl.Mia.request('mod.mute', { userId: users.Bob.userId, seconds: 2_592_001 }),
        'BAD_REQUEST',
        'data.seconds',
      );
      expectErr('seconds missing', await cl.Mia.request('mod.mute', { userId: users.Bob.userId }), 'BAD_REQUEST', 'data.seconds');
      expectErr(
        'reason 301',
        await cl.Mia.request('mod.mute', { userId: users.Bob.userId, seconds: 5, reason: 'x'.repeat(301) }),
        'BAD_REQUEST',
        'data.reason',
      );
      expectErr('userId not a UUID', await cl.Mia.request('mod.mute', { userId: 'bob', seconds: 5 }), 'BAD_REQUEST', 'data.userId');
      expectErr(
        'unknown field',
        await cl.Mia.request('mod.mute', { userId: users.Bob.userId, seconds: 5, minutes: 1 }),
        'BAD_REQUEST',
        'data.minutes',
      );
      expectErr('unmute server-wide, none', await cl.Mia.request('mod.unmute', { userId: users.Bob.userId }), 'NOT_FOUND');
    });

    it("a new mute of the same scope replaces the previous one (it may shorten it); unmute needs the scope's permission", async () => {
      const a = expectOk('mute 600 s', await cl.Alice.request('mod.mute', { userId: users.Bob.userId, roomId: ROOM, seconds: 600 })).mute;
      const b = expectOk(
        'mute 300 s',
        await cl.Alice.request('mod.mute', { userId: users.Bob.userId, roomId: ROOM, seconds: 300, reason: 'shorter' }),
      ).mute;
      const mutes = expectOk('mod.mutes', await cl.Alice.request('mod.mutes', { roomId: ROOM })).mutes;
      expect({ count: mutes.length, reason: mutes[0]?.reason, until: mutes[0]?.until }).toEqual({
        count: 1,
        reason: 'shorter',
        until: b.until,
      });
      expect(Date.parse(b.until)).toBeLessThan(Date.parse(a.until));
      const srv = expectOk('server mute', await cl.Mia.request('mod.mute', { userId: users.Bob.userId, seconds: 600 })).mute;
      // mod.me: soonest-ending first
      const me = expectOk('mod.me', await cl.Bob.request('mod.me')).mutes;
      expect(me.map((m: any) => m.muteId)).toEqual([b.muteId, srv.muteId]);
      expectErr('room owner lifts a server-wide mute', await cl.Alice.request('mod.unmute', { userId: users.Bob.userId }), 'FORBIDDEN');
      expectErr(
        'plain member lifts a room mute',
        await cl.Frank.request('mod.unmute', { userId: users.Bob.userId, roomId: ROOM }),
        'FORBIDDEN',
      );
      expectOk('lift server mute', await cl.Mia.request('mod.unmute', { userId: users.Bob.userId }));
      expectOk('lift room mute', await cl.Mia.request('mod.unmute', { userId: users.Bob.userId, roomId: ROOM }));
      expect(expectOk('mod.me after', await cl.Bob.request('mod.me')).mutes).toEqual([]);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('warn, kick, ban', () => {
    it('mod.warn: moderation.warned to the user with by and rule null; reason 1-300; staff only', async () => {
      const mark = cl.Bob.mark();
      expectModAck('warn', expectOk('warn', await cl.Mia.request('mod.warn', { userId: users.Bob.userId, reason: 'be nice' })));
      const ev = await cl.Bob.waitEvent((e) => e.event === 'moderation.warned', mark);
      expectModEvent('moderation.warned', ev);
      expect({ reason: ev.data.reason, by: ev.data.by, rule: ev.data.rule }).toEqual({
        reason: 'be nice',
        by: { userId: users.Mia.userId, username: 'Mia' },
        rule: null,
      });
      expectErr(
        'warn empty reason',
        await cl.Mia.request('mod.warn', { userId: users.Bob.userId, reason: '' }),
        'BAD_REQUEST',
        'data.reason',
      );
      expectErr('warn without reason', await cl.Mia.request('mod.warn', { userId: users.Bob.userId }), 'BAD_REQUEST', 'data.reason');
      expectErr('warn by a plain user', await cl.Frank.request('mod.warn', { userId: users.Bob.userId, reason: 'x' }), 'FORBIDDEN');
      expectErr('warn by a room owner', await cl.Alice.request('mod.warn', { userId: users.Bob.userId, reason: 'x' }), 'FORBIDDEN');
      expectErr(
        'warn an unknown user',
        await cl.Mia.request('mod.warn', { userId: '00000000-0000-4000-8000-000000000000', reason: 'x' }),
        'NOT_FOUND',
      );
      expectErr('warn oneself', await cl.Mia.request('mod.warn', { userId: users.Mia.userId, reason: 'x' }), 'FORBIDDEN');
    });

    it('mod.kick: every connection closed 4413 with the documented reason; the same token connects again', async () => {
      const second = await clients.authed(users.Bob, wsUrl);
      expectModAck('kick', expectOk('kick', await cl.Mia.request('mod.kick', { userId: users.Bob.userId, reason: 'calm down' })));
      for (const c of [cl.Bob, second]) {
        const closed = await c.waitClose();
        expect({ code: closed.code, reason: closed.reason }).toEqual({ code: 4413, reason: 'disconnected by a moderator: calm down' });
      }
      expect(cl.Alice.isOpen).toBe(true);
      await connect('Bob'); // "their tokens stay valid"
      expectOk('Bob posts after the kick', await send(cl.Bob, 'general', 'after-kick', 'I am back'));
      expectErr('kick by a plain user', await cl.Frank.request('mod.kick', { userId: users.Bob.userId }), 'FORBIDDEN');
      expectErr('kick an administrator', await cl.Mia.request('mod.kick', { userId: users.Ops.userId }), 'FORBIDDEN');
      expectErr(
        'kick reason 301',
        await cl.Mia.request('mod.kick', { userId: users.Bob.userId, reason: 'x'.repeat(301) }),
        'BAD_REQUEST',
        'data.reason',
      );
    });

    it('mod.ban: 4412, login/refresh/auth/Bearer refused SERVER_BANNED (wrong password still AUTH_FAILED); mod.bans; unban restores, refresh token kept', async () => {
      // a session with a refresh token from before the ban
      const login = await http(base, 'POST', '/api/auth/login', { username: 'Eve', password: users.Eve.password });
      expect(login.status).toBe(200);
      const refreshToken = login.json.refreshToken;

      expectModAck('ban', expectOk('ban', await cl.Mia.request('mod.ban', { userId: users.Eve.userId, reason: 'spam' })));
      const closed = await cl.Eve.waitClose();
      expect({ code: closed.code, reason: closed.reason }).toEqual({ code: 4412, reason: 'banned from this server: spam' });

      expectHttpErr(
        'login banned',
        await http(base, 'POST', '/api/auth/login', { username: 'Eve', password: users.Eve.password }),
        403,
        'SERVER_BANNED',
      );
      expectHttpErr(
        'login banned, wrong password',
        await http(base, 'POST', '/api/auth/login', { username: 'Eve', password: 'wrong-password' }),
        401,
        'AUTH_FAILED',
      );
      expectHttpErr('refresh banned', await http(base, 'POST', '/api/auth/refresh', { refreshToken }), 403, 'SERVER_BANNED');
      expectHttpErr(
        'Bearer route banned',
        await http(base, 'GET', '/api/account/sessions', undefined, { token: users.Eve.token }),
        403,
        'SERVER_BANNED',
      );
      expectHttpErr(
        'filters route banned',
        await http(base, 'GET', '/api/moderation/filters', undefined, { token: users.Eve.token }),
        403,
        'SERVER_BANNED',
      );
      const again = await DocClient.open(wsUrl);
      expectErr('auth banned', await again.request('auth', { token: users.Eve.token }), 'SERVER_BANNED');
      expect((await again.waitClose()).code).toBe(4412);

      const bans = expectOk('mod.bans', await cl.Mia.request('mod.bans'));
      expectFields('mod.bans', bans, { bans: 'array' });
      const b = bans.bans.find((x: any) => x.userId === users.Eve.userId);
      expectFields('ServerBanView', b, {
        userId: 'uuid',
        username: 'string',
        reason: 'string',
        review: 'boolean',
        by: 'userOrNull',
        rule: 'stringOrNull',
        time: 'time',
      });
      expect(b).toMatchObject({
        username: 'Eve',
        reason: 'spam',
        review: false,
        by: { userId: users.Mia.userId, username: 'Mia' },
        rule: null,
      });
      expectErr('ban again', await cl.Mia.request('mod.ban', { userId: users.Eve.userId }), 'CONFLICT');
      expectErr('mod.bans by a plain user', await cl.Frank.request('mod.bans'), 'FORBIDDEN');
      expectErr('ban an administrator', await cl.Mia.request('mod.ban', { userId: users.Ops.userId }), 'FORBIDDEN');
      expectErr('ban by a plain user', await cl.Frank.request('mod.ban', { userId: users.Bob.userId }), 'FORBIDDEN');

      expectModAck('unban', expectOk('unban', await cl.Mia.request('mod.unban', { userId: users.Eve.userId })));
      // "after an unban the same refresh token works again"
      const refreshed = await eventually(async () => {
        const r = await http(base, 'POST', '/api/auth/refresh', { refreshToken });
        return r.status === 200 ? r : undefined;
      }, 5000);
      expect(refreshed.json.sessionId).toBe(login.json.sessionId);
      const relogin = await http(base, 'POST', '/api/auth/login', { username: 'Eve', password: users.Eve.password });
      expect(relogin.status).toBe(200);
      users.Eve.token = relogin.json.accessToken;
      await connect('Eve');
      expectErr('unban not banned', await cl.Mia.request('mod.unban', { userId: users.Eve.userId }), 'NOT_FOUND');
      expect(
        expectOk('mod.bans after unban', await cl.Mia.request('mod.bans')).bans.filter((x: any) => x.userId === users.Eve.userId),
      ).toEqual([]);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('reports and audit', () => {
    let bobMsg1 = '';
    let bobMsg2 = '';
    let report1 = '';
    let report2 = '';

    it('report.create: { position, reportId }; moderators get moderation.report; same report again while open; errors', async () => {
      bobMsg1 = expectOk('Bob posts 1', await send(cl.Bob, ROOM, 'rep-1', 'you are all fools')).messageId;
      bobMsg2 = expectOk('Bob posts 2', await send(cl.Bob, ROOM, 'rep-2', 'another rude remark')).messageId;
      const mark = cl.Mia.mark();
      const r = expectOk('report', await cl.Frank.request('report.create', { roomId: ROOM, messageId: bobMsg1, reason: 'rude' }));
      expectFields('report.create reply', r, { position: 'integer', reportId: 'uuid' });
      report1 = r.reportId;
      const ev = await cl.Mia.waitEvent((e) => e.event === 'moderation.report' && e.data.reportId === report1, mark);
      expectModEvent('moderation.report', ev);
      expectReportView('message report', ev.data);
      expect(ev.data).toMatchObject({
        kind: 'message',
        state: 'open',
        roomId: ROOM,
        messageId: bobMsg1,
        target: { userId: users.Bob.userId, username: 'Bob' },
        excerpt: 'you are all fools',
        reason: 'rude',
        rule: null,
        held: null,
        by: { userId: users.Frank.userId, username: 'Frank' },
        position: r.position,
      });
      const same = expectOk(
        'report again',
        await cl.Frank.request('report.create', { roomId: ROOM, messageId: bobMsg1, reason: 'still rude' }),
      );
      expect(same.reportId).toBe(report1);
      report2 = expectOk(
        'report 2',
        await cl.Frank.request('report.create', { roomId: ROOM, messageId: bobMsg2, reason: 'rude too' }),
      ).reportId;

      // excerpt: the first 200 code points (posted in general: modroom's repeated-chars rule would refuse it)
      const longBody = '😀🎉'.repeat(125);
      const long = expectOk('long post', await send(cl.Bob, 'general', 'rep-long', longBody)).messageId;
      expectOk('Frank joins general', await cl.Frank.request('room.join', { roomId: 'general' }));
      const lr = expectOk(
        'report long',
        await cl.Frank.request('report.create', { roomId: 'general', messageId: long, reason: 'emoji spam' }),
      );
      const lv = await eventually(async () =>
        expectOk('reports', await cl.Mia.request('mod.reports', { limit: 200 })).reports.find((x: any) => x.reportId === lr.reportId),
      );
      expect(lv.excerpt).toBe('😀🎉'.repeat(100));
      expectOk('dismiss long', await cl.Mia.request('mod.report.dismiss', { reportId: lr.reportId }));
      expectErr(
        'report own message',
        await cl.Bob.request('report.create', { roomId: ROOM, messageId: bobMsg1, reason: 'x' }),
        'FORBIDDEN',
      );
      expectErr(
        'report unknown message',
        await cl.Frank.request('report.create', { roomId: ROOM, messageId: '00000000-0000-4000-8000-000000000000', reason: 'x' }),
        'NOT_FOUND',
      );
      const secretMsg = expectOk('secret post', await send(cl.Alice, SECRET, 'sec-1', 'private words')).messageId;
      expectErr(
        'report in a hidden room',
        await cl.Frank.request('report.create', { roomId: SECRET, messageId: secretMsg, reason: 'x' }),
        'NOT_FOUND',
      );
      const gone = expectOk('to delete', await send(cl.Bob, ROOM, 'rep-del', 'soon deleted')).messageId;
      expectOk('delete', await cl.Bob.request('message.delete', { roomId: ROOM, messageId: gone }));
      expectErr(
        'report a deleted message',
        await cl.Frank.request('report.create', { roomId: ROOM, messageId: gone, reason: 'x' }),
        'NOT_FOUND',
      );
      expectErr(
        'report empty reason',
        await cl.Frank.request('report.create', { roomId: ROOM, messageId: bobMsg1, reason: '' }),
        'BAD_REQUEST',
        'data.reason',
      );
      expectErr(
        'report bad messageId',
        await cl.Frank.request('report.create', { roomId: ROOM, messageId: 'nope', reason: 'x' }),
        'BAD_REQUEST',
        'data.messageId',
      );
      expectErr(
        'report reason 301',
        await cl.Frank.request('report.create', { roomId: ROOM, messageId: bobMsg1, reason: 'x'.repeat(301) }),
        'BAD_REQUEST',
        'data.reason',
      );
    });

    it('mod.reports: staff only; newest filing first; paging by nextBefore; state filter; bad input', async () => {
      expectErr('mod.reports by a plain user', await cl.Frank.request('mod.reports'), 'FORBIDDEN');
      const all = expectOk('mod.reports', await cl.Mia.request('mod.reports'));
      for (const [i, x] of all.reports.entries()) expectReportView(`reports[${i}]`, x);
      const positions = all.reports.map((x: any) => x.position);
      expect(positions).toEqual([...positions].sort((a, b) => b - a));
      expect(all.reports.every((x: any) => x.state === 'open' || x.state === 'claimed')).toBe(true);
      expect(all.reports.slice(0, 2).map((x: any) => x.reportId)).toEqual([report2, report1]);

      const p1 = expectOk('page 1', await cl.Mia.request('mod.reports', { limit: 1 }));
      expect(p1.reports.map((x: any) => x.reportId)).toEqual([report2]);
      expect(p1.nextBefore).toEqual(expect.any(Number));
      const p2 = expectOk('page 2', await cl.Mia.request('mod.reports', { limit: 1, before: p1.nextBefore }));
      expect(p2.reports.map((x: any) => x.reportId)).toEqual([report1]);
      const last = expectOk('whole queue', await cl.Mia.request('mod.reports', { limit: 200 }));
      expect(last.nextBefore).toBeNull();

      expectErr('state bogus', await cl.Mia.request('mod.reports', { state: 'bogus' }), 'BAD_REQUEST', 'data.state');
      expectErr('limit 0', await cl.Mia.request('mod.reports', { limit: 0 }), 'BAD_REQUEST', 'data.limit');
      expectErr('limit 201', await cl.Mia.request('mod.reports', { limit: 201 }), 'BAD_REQUEST', 'data.limit');
      expectErr(
        'claim unknown',
        await cl.Mia.request('mod.report.claim', { reportId: '00000000-0000-4000-8000-000000000000' }),
        'NOT_FOUND',
      );
      expectErr('claim bad id', await cl.Mia.request('mod.report.claim', { reportId: 'x' }), 'BAD_REQUEST', 'data.reportId');
      expectErr('claim by a plain user', await cl.Frank.request('mod.report.claim', { reportId: report1 }), 'FORBIDDEN');
      expectErr(
        'resolve action too long',
        await cl.Mia.request('mod.report.resolve', { reportId: report1, action: 'x'.repeat(81) }),
        'BAD_REQUEST',
        'data.action',
      );
      expectErr(
        'dismiss note too long',
        await cl.Mia.request('mod.report.dismiss', { reportId: report1, note: 'x'.repeat(301) }),
        'BAD_REQUEST',
        'data.note',
      );
    });

    it('resolve a message report (action, note; a report strike for the target); dismiss another; moderation.report for each change', async () => {
      const strikesBefore = expectOk('mod.me Bob', await cl.Bob.request('mod.me')).strikes;
      const mark = cl.Ops.mark();
      expectOk('claim', await cl.Mia.request('mod.report.claim', { reportId: report1 }));
      expectOk('resolve', await cl.Mia.request('mod.report.resolve', { reportId: report1, action: 'warned', note: 'first time' }));
      const ev = await cl.Ops.waitEvent(
        (e) => e.event === 'moderation.report' && e.data.reportId === report1 && e.data.state === 'resolved',
        mark,
      );
      expect(ev.data).toMatchObject({ action: 'warned', note: 'first time', closedBy: { userId: users.Mia.userId, username: 'Mia' } });
      await eventually(
        async () => (expectOk('mod.me Bob', await cl.Bob.request('mod.me')).strikes === strikesBefore + 1 ? true : undefined),
        5000,
      );

      // resolve without claiming first; default action "upheld"? (dismiss here instead)
      expectOk('dismiss', await cl.Ops.request('mod.report.dismiss', { reportId: report2 }));
      const dev = await cl.Mia.waitEvent(
        (e) => e.event === 'moderation.report' && e.data.reportId === report2 && e.data.state === 'dismissed',
        0,
      );
      expect(dev.data.closedBy).toEqual({ userId: users.Ops.userId, username: 'Ops' });
      expectErr('claim a closed report', await cl.Mia.request('mod.report.claim', { reportId: report2 }), 'CONFLICT');
      // a new report of bobMsg1 now that the first is closed: a new report
      const r3 = expectOk(
        'report again after close',
        await cl.Frank.request('report.create', { roomId: ROOM, messageId: bobMsg1, reason: 'again' }),
      );
      expect(r3.reportId).not.toBe(report1);
      expectOk('resolve r3 (default action)', await cl.Ops.request('mod.report.resolve', { reportId: r3.reportId }));
      const r3v = await eventually(async () =>
        expectOk('resolved', await cl.Ops.request('mod.reports', { state: 'resolved', limit: 200 })).reports.find(
          (x: any) => x.reportId === r3.reportId,
        ),
      );
      expect(r3v.action).toBe('upheld');
    });

    it('approving a held message whose sender left the room: that error is the answer and the report stays open', async () => {
      const r = await send(cl.Eve, ROOM, 'eve-held', 'a free coupon for all');
      expectErr('held', r, 'HELD_FOR_REVIEW');
      const reportId = /report ([0-9a-f-]{36})/.exec(r.error!.message)![1];
      expectOk('Eve leaves', await cl.Eve.request('room.leave', { roomId: ROOM }));
      const res = await cl.Ops.request('mod.report.resolve', { reportId });
      expect({ ok: res.ok }).toEqual({ ok: false });
      note(`resolve of a held message whose sender left: ${res.error?.code} (${res.error?.message})`);
      const still = await eventually(async () =>
        expectOk('reports', await cl.Ops.request('mod.reports', { limit: 200 })).reports.find((x: any) => x.reportId === reportId),
      );
      expect(still.state).toBe('open');
      expectOk('dismiss it', await cl.Ops.request('mod.report.dismiss', { reportId }));
    });

    it('escalation: 5 strikes mute server-wide (rule "strikes"), 8 ban for review (4412, escalation report, review: true); dismissing lifts the ban', async () => {
      // Gina has no strike yet (her caps and CJK refusals were the room's filters, which earn
      // none). Three messages to report later, posted before the mute.
      const msgs: string[] = [];
      for (let i = 0; i < 3; i++)
        msgs.push(expectOk(`Gina posts ${i}`, await send(cl.Gina, ROOM, `g-ok-${i}`, `ordinary message number ${i}`)).messageId);
      const mark = cl.Gina.mark();
      for (let i = 0; i < 5; i++) expectErr(`blocked ${i}`, await send(cl.Gina, ROOM, `g-bad-${i}`, `heck ${i}`), 'CONTENT_BLOCKED');
      const muted = await cl.Gina.waitEvent((e) => e.event === 'moderation.muted', mark);
      expectMuteView('automatic mute', muted.data);
      expect(muted.data).toMatchObject({ roomId: null, by: null, rule: 'strikes' });
      const minutes = (Date.parse(muted.data.until) - Date.parse(muted.data.time)) / 60_000;
      expect(Math.round(minutes)).toBe(60);
      const warned = cl.Gina.events.slice(mark).filter((e) => e.event === 'moderation.warned');
      note(`strikes 3..5: ${warned.length} moderation.warned events (doc: a warning at every strike from 3 "up to the mute threshold")`);
      expect(warned.length).toBeGreaterThanOrEqual(2);
      expect(expectOk('mod.me', await cl.Gina.request('mod.me')).strikes).toBe(5);
      expectErr('muted now', await send(cl.Gina, ROOM, 'g-after', 'hello again'), 'MUTED');

      // three upheld reports: strikes 6, 7, 8
      const opsMark = cl.Ops.mark();
      for (const m of msgs) {
        const rid = expectOk('report', await cl.Frank.request('report.create', { roomId: ROOM, messageId: m, reason: 'spam' })).reportId;
        expectOk('resolve', await cl.Ops.request('mod.report.resolve', { reportId: rid }));
      }
      const closed = await cl.Gina.waitClose();
      expect(closed.code).toBe(4412);
      note(`close reason of a ban for review: "${closed.reason}"`);
      const esc = await cl.Ops.waitEvent((e) => e.event === 'moderation.report' && e.data.kind === 'escalation', opsMark);
      expectReportView('escalation report', esc.data);
      expect(esc.data).toMatchObject({ state: 'open', roomId: null, target: { userId: users.Gina.userId, username: 'Gina' }, by: null });
      const ban = expectOk('mod.bans', await cl.Ops.request('mod.bans')).bans.find((x: any) => x.userId === users.Gina.userId);
      expect(ban).toMatchObject({ review: true, by: null });
      expect(typeof ban.rule).toBe('string');
      expectHttpErr(
        'login',
        await http(base, 'POST', '/api/auth/login', { username: 'Gina', password: users.Gina.password }),
        403,
        'SERVER_BANNED',
      );

      expectOk('dismiss escalation', await cl.Ops.request('mod.report.dismiss', { reportId: esc.data.reportId }));
      await eventually(
        async () =>
          (await http(base, 'POST', '/api/auth/login', { username: 'Gina', password: users.Gina.password })).status === 200
            ? true
            : undefined,
        5000,
      );
      expect(expectOk('mod.bans', await cl.Ops.request('mod.bans')).bans.filter((x: any) => x.userId === users.Gina.userId)).toEqual([]);
    });

    it('mod.audit: newest first, paging, filter by user; staff only; bad input', async () => {
      expectErr('audit by a plain user', await cl.Frank.request('mod.audit'), 'FORBIDDEN');
      expectErr('audit by a room owner', await cl.Alice.request('mod.audit'), 'FORBIDDEN');
      const a = expectOk('audit', await cl.Mia.request('mod.audit', { limit: 200 }));
      expectFields('mod.audit', a, { entries: 'array', nextBefore: 'integerOrNull' });
      for (const [i, e] of a.entries.entries()) expectAuditEntry(`entries[${i}]`, e);
      const pos = a.entries.map((e: any) => e.position);
      expect(pos).toEqual([...pos].sort((x, y) => y - x));
      const types = new Set(a.entries.map((e: any) => e.type));
      for (const t of ['UserMuted', 'ReportFiled']) expect({ t, present: types.has(t) }).toEqual({ t, present: true });
      note(`mod.audit types seen: ${[...types].sort().join(', ')}`);

      const p1 = expectOk('audit page 1', await cl.Mia.request('mod.audit', { limit: 3 }));
      expect(p1.entries.length).toBe(3);
      expect(p1.nextBefore).toEqual(expect.any(Number));
      const p2 = expectOk('audit page 2', await cl.Mia.request('mod.audit', { limit: 3, before: p1.nextBefore }));
      expect(p2.entries.every((e: any) => e.position < p1.entries[2].position)).toBe(true);
      expect(p2.entries.map((e: any) => e.position)).toEqual(pos.slice(3, 6));

      const bob = expectOk('audit about Bob', await cl.Mia.request('mod.audit', { userId: users.Bob.userId, limit: 200 }));
      expect(bob.entries.length).toBeGreaterThan(0);
      for (const e of bob.entries)
        expect({ pos: e.position, about: e.target?.userId === users.Bob.userId || e.actor?.userId === users.Bob.userId }).toEqual({
          pos: e.position,
          about: true,
        });
      const room = expectOk('audit in the room', await cl.Mia.request('mod.audit', { roomId: ROOM, limit: 200 }));
      expect(room.entries.length).toBeGreaterThan(0);
      for (const e of room.entries) expect({ pos: e.position, roomId: e.roomId }).toEqual({ pos: e.position, roomId: ROOM });

      expectErr('audit limit 0', await cl.Mia.request('mod.audit', { limit: 0 }), 'BAD_REQUEST', 'data.limit');
      expectErr('audit bad userId', await cl.Mia.request('mod.audit', { userId: 'bob' }), 'BAD_REQUEST', 'data.userId');
      expectErr('audit unknown field', await cl.Mia.request('mod.audit', { type: 'UserMuted' }), 'BAD_REQUEST', 'data.type');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('filter configuration sizes', () => {
    it('PUT over 16 KiB is accepted up to 1 MiB; a WS frame over 64 KiB is FRAME_TOO_LARGE; over 1 MiB is 413; JSON over 1000000 bytes is BAD_REQUEST (config)', async () => {
      const words = (n: number, len: number) =>
        Array.from({ length: n }, (_, i) => ({ term: `w${String(i).padStart(len - 1, '0')}`, action: 'mask' }));
      const mid = { ...EMPTY_CONFIG, words: words(2000, 12) }; // ~60 KB
      const body = JSON.stringify({ roomId: ROOM, config: mid });
      expect(body.length).toBeGreaterThan(16384);
      const ok = await http(base, 'PUT', '/api/moderation/filters', { roomId: ROOM, config: mid }, { token: users.Alice.token });
      expect({ status: ok.status, scope: ok.json?.scope, roomId: ok.json?.roomId }).toEqual({ status: 200, scope: 'room', roomId: ROOM });
      const big = { ...EMPTY_CONFIG, words: words(3000, 12) }; // ~90 KB as a WS frame
      const frame = await cl.Alice.request('mod.filters.set', { roomId: ROOM, config: big });
      expectErr('WS frame > 64 KiB', frame, 'FRAME_TOO_LARGE');
      const tooBig = await http(base, 'PUT', '/api/moderation/filters', undefined, {
        token: users.Alice.token,
        raw: JSON.stringify({ roomId: ROOM, config: { ...EMPTY_CONFIG, words: words(20000, 60) } }),
      });
      expectHttpErr('PUT > 1 MiB', tooBig, 413, 'FRAME_TOO_LARGE');
      // 19800 words of 23 characters: about 1010000 bytes of JSON, under 1 MiB of body
      const over = { ...EMPTY_CONFIG, words: words(19800, 23) };
      const overBody = JSON.stringify({ roomId: ROOM, config: over });
      expect(overBody.length).toBeGreaterThan(1_000_000);
      expect(overBody.length).toBeLessThan(1_048_576);
      const r = await http(base, 'PUT', '/api/moderation/filters', undefined, { token: users.Alice.token, raw: overBody });
      expectHttpErr('config JSON > 1000000 bytes', r, 400, 'BAD_REQUEST');
      expect(detailFields(r.json)).toContain('config');
      // nothing stored: the 2000-word configuration stands
      expect(expectOk('get', await cl.Alice.request('mod.filters.get', { roomId: ROOM })).config.words.length).toBe(2000);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('role removal', () => {
    it("room admins read their room's filters; a granted moderator is not sanctioned by another moderator; a granted admin gives roles", async () => {
      expectOk(
        'Carol made room admin',
        await cl.Alice.request('room.setRole', { roomId: ROOM, userId: users.Carol.userId, role: 'admin' }),
      );
      expectOk('room admin reads the room filters', await cl.Carol.request('mod.filters.get', { roomId: ROOM }));
      expectOk(
        'room admin mutes in the room',
        await cl.Carol.request('mod.mute', { userId: users.Frank.userId, roomId: ROOM, seconds: 5 }),
      );
      expectOk('room admin lists the room mutes', await cl.Carol.request('mod.mutes', { roomId: ROOM }));
      expectOk('lift', await cl.Carol.request('mod.unmute', { userId: users.Frank.userId, roomId: ROOM }));

      expectOk('Bob moderator', await cl.Ops.request('mod.role.set', { userId: users.Bob.userId, role: 'moderator' }));
      expectErr('moderator warns a moderator', await cl.Mia.request('mod.warn', { userId: users.Bob.userId, reason: 'x' }), 'FORBIDDEN');
      expectErr('moderator mutes a moderator', await cl.Mia.request('mod.mute', { userId: users.Bob.userId, seconds: 5 }), 'FORBIDDEN');
      expectOk('admin warns a moderator', await cl.Ops.request('mod.warn', { userId: users.Bob.userId, reason: 'as an admin' }));

      const mark = cl.Dave.mark();
      expectOk('Dave admin', await cl.Ops.request('mod.role.set', { userId: users.Dave.userId, role: 'admin' }));
      const ev = await cl.Dave.waitEvent((e) => e.event === 'moderation.role', mark);
      expect(ev.data.role).toBe('admin');
      const roles = expectOk('mod.roles', await cl.Dave.request('mod.roles')).roles;
      expect(roles.map((r: any) => [r.username, r.role, r.source])).toEqual([
        ['Ops', 'admin', 'config'],
        ['Bob', 'moderator', 'granted'],
        ['Dave', 'admin', 'granted'],
        ['Mia', 'moderator', 'granted'],
      ]);
      expectOk('a granted admin takes a role', await cl.Dave.request('mod.role.set', { userId: users.Bob.userId, role: null }));
      expectErr(
        'a moderator sanctions a granted admin',
        await cl.Mia.request('mod.warn', { userId: users.Dave.userId, reason: 'x' }),
        'FORBIDDEN',
      );
      expectOk('Dave back', await cl.Ops.request('mod.role.set', { userId: users.Dave.userId, role: null }));
    });

    it('mod.role.set role null takes the role away: moderation.role with role null; the moderator loses access', async () => {
      const mark = cl.Mia.mark();
      expectOk('take role', await cl.Ops.request('mod.role.set', { userId: users.Mia.userId }));
      const ev = await cl.Mia.waitEvent((e) => e.event === 'moderation.role', mark);
      expect(ev.data.role).toBeNull();
      expect(expectOk('mod.me', await cl.Mia.request('mod.me')).role).toBeNull();
      expectErr('mod.reports after', await cl.Mia.request('mod.reports'), 'FORBIDDEN');
    });
  });
});
