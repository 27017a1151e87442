// Passwords, tokens and message bodies never appear in any service's log (issue 11): real flows
// (register, login, a failed login, refresh, a password change, WebSocket auth with a good and a
// forged token, messages sent, edited, searched, refused, private messages, logout) run with
// every service at LOG_LEVEL=trace, then every log file the stack wrote is read and searched
// for each secret and for its tell-tale parts (a JWT's signature, a refresh token's secret).
import fs from 'node:fs';
import path from 'node:path';
import { eventually } from '@chat/testing';
import { printLogsIfFailed, startTestStack, type TestStack } from '../e2e/fixture';
import { DocClient, DocClients, expectOk, http, wsUrlOf } from '../e2e/doc-client';

jest.setTimeout(180_000);

let stack: TestStack;
const clients = new DocClients();

beforeAll(async () => {
  stack = await startTestStack({ env: { LOG_LEVEL: 'trace' } });
}, 120_000);
afterEach(() => printLogsIfFailed(stack, ['gateway', 'rooms', 'history', 'moderation', 'presence'], 20));
afterAll(async () => {
  clients.closeAll();
  await stack?.teardown();
});

/** A value that occurs nowhere else: found in a log, it can only have come from the flow. */
const unique = (label: string) => `${label}${Math.random().toString(36).slice(2, 10)}Zq`;

test('logs - passwords, access and refresh tokens and message bodies appear in no service log', async () => {
  const base = stack.urls.gateway;
  const secrets: Record<string, string> = {};
  const secret = (name: string, value: string) => ((secrets[name] = value), value);

  // accounts: register, a failed login, login, refresh, a password change, login again
  const alice = { username: unique('alice'), password: secret('alice password', unique('PwAlice-')) };
  const bob = { username: unique('bob'), password: secret('bob password', unique('PwBob-')) };
  for (const u of [alice, bob]) expect((await http(base, 'POST', '/api/auth/register', u)).status).toBe(201);
  const wrong = await http(base, 'POST', '/api/auth/login', {
    username: alice.username,
    password: secret('wrong password', unique('PwWrong-')),
  });
  expect(wrong.status).toBe(401);
  const notJson = await http(base, 'POST', '/api/auth/login', undefined, { raw: `password=${secret('form password', unique('PwForm-'))}` });
  expect(notJson.status).toBe(400);
  const tooShort = await http(base, 'POST', '/api/auth/register', {
    username: unique('carol'),
    password: secret('short password', 'Pw7sX'),
  });
  expect(tooShort.status).toBe(400);
  const login = await http(base, 'POST', '/api/auth/login', { username: alice.username, password: alice.password });
  expect(login.status).toBe(200);
  secret('alice access token', login.json.accessToken);
  secret('alice refresh token', login.json.refreshToken);
  const refreshed = await http(base, 'POST', '/api/auth/refresh', { refreshToken: login.json.refreshToken });
  expect(refreshed.status).toBe(200);
  secret('alice refreshed access token', refreshed.json.accessToken);
  secret('alice refreshed refresh token', refreshed.json.refreshToken);
  // the replaced refresh token presented again: the session is revoked (and that is logged)
  expect((await http(base, 'POST', '/api/auth/refresh', { refreshToken: login.json.refreshToken })).status).toBe(401);
  const again = await http(base, 'POST', '/api/auth/login', { username: alice.username, password: alice.password });
  const newPassword = secret('alice new password', unique('PwNew-'));
  expect(
    (await http(base, 'POST', '/api/account/password', { currentPassword: alice.password, newPassword }, { token: again.json.accessToken }))
      .status,
  ).toBe(204);
  const aliceLogin = await http(base, 'POST', '/api/auth/login', { username: alice.username, password: newPassword });
  const bobLogin = await http(base, 'POST', '/api/auth/login', { username: bob.username, password: bob.password });
  for (const [who, r] of [
    ['alice', aliceLogin],
    ['bob', bobLogin],
  ] as const) {
    expect(r.status).toBe(200);
    secret(`${who} final access token`, r.json.accessToken);
    secret(`${who} final refresh token`, r.json.refreshToken);
  }

  // WebSocket: a forged token, then the real ones
  const forged = await DocClient.open(wsUrlOf(base));
  const forgedToken = secret('forged token', `${aliceLogin.json.accessToken.split('.').slice(0, 2).join('.')}.${unique('ForgedSig')}`);
  expect((await forged.request('auth', { token: forgedToken })).ok).toBe(false);
  forged.close();
  const a = await clients.authed(
    { userId: '', username: alice.username, password: newPassword, token: aliceLogin.json.accessToken },
    wsUrlOf(base),
  );
  const b = await clients.authed(
    { userId: '', username: bob.username, password: bob.password, token: bobLogin.json.accessToken },
    wsUrlOf(base),
  );

  // messages: sent, edited, searched, refused; private messages
  const roomId = unique('logs-').toLowerCase();
  expectOk('create', await a.request('room.create', { roomId, name: 'logs', visibility: 'public' }));
  expectOk('join', await b.request('room.join', { roomId }));
  const word = secret('searched word', unique('Findme'));
  const sent = [];
  for (let i = 0; i < 3; i++) {
    const body = secret(`message ${i}`, `${unique('BodyText-')} ${word}`);
    sent.push(expectOk('send', await a.request('message.send', { roomId, clientMsgId: `m${i}`, body })));
  }
  const edited = secret('edited body', unique('EditedText-'));
  expectOk('edit', await a.request('message.edit', { roomId, messageId: sent[0].messageId, body: edited }));
  expectOk('react', await b.request('reaction.add', { roomId, messageId: sent[1].messageId, emoji: '👍' }));
  const reply = secret('reply body', unique('ReplyText-'));
  expectOk('reply', await b.request('message.send', { roomId, clientMsgId: 'r1', body: reply, replyTo: sent[1].messageId }));
  // refused: too long, not a member, in a room that does not exist
  expect(
    (await a.request('message.send', { roomId, clientMsgId: 'long', body: secret('too long body', unique('LongText-')).repeat(400) })).ok,
  ).toBe(false);
  expect(
    (await b.request('message.send', { roomId: 'no-such-room', clientMsgId: 'x', body: secret('refused body', unique('Refused-')) })).ok,
  ).toBe(false);
  const dm = secret('private message', unique('DmText-'));
  expectOk('dm', await a.request('dm.send', { username: bob.username, clientMsgId: 'd1', body: dm }));
  const dmReply = secret('private reply', unique('DmReply-'));
  expectOk('dm reply', await b.request('dm.send', { username: alice.username, clientMsgId: 'd2', body: dmReply }));
  expectOk('filter test', await a.request('mod.filters.test', { roomId, body: secret('filter test body', unique('FilterText-')) }));
  // every message is projected and found (so the history service has handled them all): the
  // word is in three messages, one of them edited away
  await eventually(async () => {
    const r = await a.request('message.search', { query: word });
    return r.ok && r.data.hits?.length === 2;
  }, 30_000);
  await eventually(async () => {
    const r = await a.request('history.page', { roomId });
    return r.ok && r.data.messages.some((m: { body: string }) => m.body === edited);
  }, 30_000);
  expectOk('dm list', await b.request('dm.list'));

  // logout (the refresh token in the body)
  expect(
    (await http(base, 'POST', '/api/auth/logout', { refreshToken: bobLogin.json.refreshToken }, { token: bobLogin.json.accessToken }))
      .status,
  ).toBe(204);
  await b.waitClose();
  clients.closeAll();

  // Every log line of every service, searched for each secret and its tell-tale parts: a JWT's
  // signature, a refresh token's secret (after its session id).
  const needles: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(secrets)) {
    needles.push([name, value]);
    const parts = value.split('.');
    if (parts.length === 3) needles.push([`${name} (signature)`, parts[2]]);
    if (name.includes('refresh token')) needles.push([`${name} (secret)`, parts[parts.length - 1]]);
  }
  const files = fs.readdirSync(stack.logDir).filter((f) => f.endsWith('.log'));
  expect(files.sort()).toEqual(['gateway.log', 'history.log', 'moderation.log', 'presence.log', 'rooms.log']);
  const found: string[] = [];
  let lines = 0;
  let verbose = 0;
  for (const f of files) {
    const text = fs.readFileSync(path.join(stack.logDir, f), 'utf8');
    lines += text.split('\n').length;
    verbose += (text.match(/"level":(10|20),/g) ?? []).length;
    for (const [name, needle] of needles) if (text.includes(needle)) found.push(`${name} in ${f}`);
  }
  // the logs are there and at the verbose levels (debug/trace records written), so an absence means something
  expect(lines).toBeGreaterThan(50);
  expect(verbose).toBeGreaterThan(0);
  expect(found).toEqual([]);
});
