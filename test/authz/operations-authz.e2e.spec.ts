// "Every operation refuses a user without the right, whatever ids are forged (a test per
// operation)" (issue 11). One test per op of the operation table (WsOpNames), its refusals from
// cases.ts: not a member, a member without the role, banned, muted, invited only, ids of another
// user's message, room or conversation. Each attempt must get its documented typed refusal, and
// afterwards nothing has changed: the state every party can see is compared before and after.
// Every op (open ones too) also refuses caller fields smuggled into its data (`userId`,
// `username`, `actorId`, `actorName` where the op does not take them): the gateway sets who is
// asking, never the client.
import { randomBytes } from 'node:crypto';
import { eventually, randomName } from '@chat/testing';
import { validateInput, wsOperation, WsOpNames, type WsOp } from '@chat/contracts';
import { printLogsIfFailed, startTestStack, type TestStack } from '../e2e/fixture';
import { createAccount, DocClient, DocClients, expectOk, http, wsUrlOf, type Account } from '../e2e/doc-client';
import { validSamples } from '../fuzz/frames';
import { cases, type Who, type World } from './cases';

jest.setTimeout(120_000);

const PEOPLE: Who[] = ['owner', 'admin', 'member', 'victim', 'outsider', 'banned', 'muted', 'invitee'];
const adminName = randomName('adm').slice(0, 30);

let stack: TestStack;
let url: string;
const clients = new DocClients();
const conn = {} as Record<Who | 'serverAdmin', DocClient>;
const accounts = {} as Record<Who | 'serverAdmin', Account>;
let w: World;

const call = async (who: Who | 'serverAdmin', op: string, data?: unknown) => expectOk(`${who} ${op}`, await conn[who].request(op, data));

beforeAll(async () => {
  // one server administrator, to read moderation state (reports, bans, roles, the audit log)
  stack = await startTestStack({ env: { SERVER_ADMINS: adminName } });
  url = wsUrlOf(stack.urls.gateway);
  const tag = randomBytes(3).toString('hex');
  for (const who of PEOPLE) accounts[who] = await createAccount(stack.urls.gateway, `${who.slice(0, 6)}${tag}`);
  accounts.serverAdmin = await createAccount(stack.urls.gateway, adminName);
  for (const who of [...PEOPLE, 'serverAdmin'] as const) conn[who] = await clients.authed(accounts[who], url);

  const publicRoom = `pub-${tag}`;
  const privateRoom = `priv-${tag}`;
  const adminsOnlyRoom = `ann-${tag}`;
  await call('owner', 'room.create', { roomId: publicRoom, name: 'public', visibility: 'public' });
  await call('owner', 'room.create', { roomId: privateRoom, name: 'private', visibility: 'private' });
  await call('owner', 'room.create', { roomId: adminsOnlyRoom, name: 'announcements', visibility: 'public', postPolicy: 'admins' });
  for (const who of ['admin', 'member', 'victim', 'muted', 'banned'] as const) await call(who, 'room.join', { roomId: publicRoom });
  await call('member', 'room.join', { roomId: adminsOnlyRoom });
  await call('owner', 'room.setRole', { roomId: publicRoom, userId: accounts.admin.userId, role: 'admin' });
  await call('owner', 'room.ban', { roomId: publicRoom, userId: accounts.banned.userId, reason: 'test' });
  await call('owner', 'mod.mute', { userId: accounts.muted.userId, roomId: publicRoom, seconds: 3600, reason: 'test' });
  await call('owner', 'room.invite', { roomId: privateRoom, username: accounts.victim.username });
  await call('victim', 'invitation.accept', { roomId: privateRoom });
  await call('owner', 'room.invite', { roomId: privateRoom, username: accounts.invitee.username });
  await call('victim', 'user.block', { userId: accounts.outsider.userId });
  const publicMessage = (await call('victim', 'message.send', { roomId: publicRoom, clientMsgId: 'p', body: 'public secret text' }))
    .messageId;
  const privateMessage = (await call('victim', 'message.send', { roomId: privateRoom, clientMsgId: 'q', body: 'private secret text' }))
    .messageId;
  const dm = await call('victim', 'dm.send', { username: accounts.owner.username, clientMsgId: 'd', body: 'conversation secret text' });
  await call('owner', 'reaction.add', { roomId: publicRoom, messageId: publicMessage, emoji: '👍' });
  const { reportId } = await call('member', 'report.create', { roomId: publicRoom, messageId: publicMessage, reason: 'test' });
  // the victim's token, re-signed: same header and payload, another signature
  const [head, payload] = accounts.victim.token.split('.');
  const forgedToken = `${head}.${payload}.${randomBytes(32).toString('base64url')}`;
  w = {
    publicRoom,
    privateRoom,
    adminsOnlyRoom,
    conversation: dm.roomId,
    publicMessage,
    privateMessage,
    conversationMessage: dm.messageId,
    reportId,
    userId: Object.fromEntries(PEOPLE.map((p) => [p, accounts[p].userId])) as Record<Who, string>,
    username: Object.fromEntries(PEOPLE.map((p) => [p, accounts[p].username])) as Record<Who, string>,
    victimToken: accounts.victim.token,
    forgedToken,
  };
  // the setup is projected (history, search) before the first snapshot
  await eventually(async () => {
    const r = await conn.outsider.request('message.search', { query: 'conversation' });
    const v = await conn.victim.request('message.search', { query: 'secret' });
    return r.ok && v.ok && v.data.hits.length === 3;
  }, 30_000);
}, 180_000);

afterEach(() => printLogsIfFailed(stack, ['gateway', 'rooms', 'history', 'moderation'], 25));
afterAll(async () => {
  clients.closeAll();
  await stack?.teardown();
});

/** Drops what moves by itself (times of presence, unread counts stay: nothing is posted). */
function stable(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v) =>
    ['lastSeen', 'expiresAt', 'time'].includes(key) && typeof v === 'string' ? '(time)' : v,
  );
}

/**
 * Everything an attempt could have changed, as the people it concerns see it: the rooms, their
 * members, bans, settings and history (texts, edits, deletions, reactions), invitations, blocks,
 * conversations, read markers, each person's rooms and moderation state, and the server-wide
 * moderation state (roles, bans, mutes, reports, filters, the audit log) as an administrator sees it.
 */
async function snapshot(): Promise<Record<string, unknown>> {
  const asks: Array<[string, Promise<unknown>]> = [];
  // each person's requests go out together (their connections answer concurrently)
  const ask = (key: string, who: Who | 'serverAdmin', op: string, data?: unknown) =>
    asks.push([key, conn[who].request(op, data).then((r) => (r.ok ? r.data : { refused: r.error?.code }))]);
  for (const room of [w.publicRoom, w.privateRoom, w.adminsOnlyRoom, w.conversation]) {
    ask(`details ${room}`, 'owner', 'room.details', { roomId: room });
    ask(`members ${room}`, 'owner', 'room.members', { roomId: room, limit: 200 });
    ask(`history ${room}`, 'owner', 'history.page', { roomId: room });
    ask(`mutes ${room}`, 'serverAdmin', 'mod.mutes', { roomId: room });
    ask(`filters ${room}`, 'serverAdmin', 'mod.filters.get', { roomId: room });
  }
  ask('bans', 'owner', 'room.bans', { roomId: w.publicRoom });
  for (const who of PEOPLE) {
    ask(`${who} rooms`, who, 'room.mine');
    ask(`${who} invitations`, who, 'invitation.list');
    ask(`${who} blocks`, who, 'user.blocks');
    ask(`${who} conversations`, who, 'dm.list');
    ask(`${who} read`, who, 'read.state');
    ask(`${who} moderation`, who, 'mod.me');
  }
  ask('roles', 'serverAdmin', 'mod.roles');
  ask('serverBans', 'serverAdmin', 'mod.bans');
  ask('serverMutes', 'serverAdmin', 'mod.mutes', {});
  ask('serverFilters', 'serverAdmin', 'mod.filters.get', {});
  ask('reports', 'serverAdmin', 'mod.reports', { state: 'open' });
  ask('claimed', 'serverAdmin', 'mod.reports', { state: 'claimed' });
  ask('audit', 'serverAdmin', 'mod.audit', { limit: 200 });
  ask('directory', 'outsider', 'room.directory', { limit: 200 });
  const s: Record<string, unknown> = {};
  for (const [key, value] of asks) s[key] = await value;
  for (const who of PEOPLE) s[`${who} connected`] = conn[who].isOpen;
  return stable(s) as Record<string, unknown>;
}

/** The caller fields a client may not send in this op's data: those its DTO does not declare. */
function forgeableCallerFields(op: WsOp): string[] {
  const dto = wsOperation(op).dto;
  const fields = ['userId', 'username', 'actorId', 'actorName'];
  if (dto === null) return fields;
  return fields.filter((f) => {
    const r = validateInput(dto as new () => object, { [f]: 'x' });
    return !r.ok && (r.error.details ?? []).some((d) => d.field === f && d.problems.some((p) => p.includes('should not exist')));
  });
}

test('authz - every operation of the table has a case', () => {
  expect(WsOpNames.filter((op) => !(op in cases))).toEqual([]);
  // and a case refuses something, or says why the op is open to every user
  expect(WsOpNames.filter((op) => cases[op].attempts(w).length === 0 && !cases[op].open)).toEqual([]);
});

test('authz - the snapshot sees what the attempts aim at', async () => {
  const s = await snapshot();
  const json = (key: string) => JSON.stringify(s[key]);
  for (const room of [w.publicRoom, w.privateRoom, w.conversation]) expect(json(`history ${room}`)).toContain('secret text');
  expect(json('bans')).toContain(w.userId.banned);
  expect(json(`mutes ${w.publicRoom}`)).toContain(w.userId.muted);
  expect(json('reports')).toContain(w.reportId);
  expect(json('victim blocks')).toContain(w.userId.outsider);
  expect(json('invitee invitations')).toContain(w.privateRoom);
  expect(json(`members ${w.publicRoom}`)).toContain(w.userId.admin);
  expect(Object.values(s).filter((v) => JSON.stringify(v).includes('refused')).length).toBeLessThan(3);
});

test.each(WsOpNames.map((op) => [op]))('authz - %s refuses users without the right, and nothing changes', async (op) => {
  const c = cases[op as WsOp];
  expect({ op, hasCase: c !== undefined }).toEqual({ op, hasCase: true });
  const before = await snapshot();
  const got: unknown[] = [];
  const want: unknown[] = [];
  for (const a of c.attempts(w)) {
    let cl = conn[a.who];
    if (a.fresh) cl = await DocClient.open(url);
    const r = await cl.request(op, a.data);
    const codes = Array.isArray(a.code) ? a.code : [a.code];
    const code = r.ok ? '(accepted)' : r.error?.code;
    got.push({ who: a.who, why: a.why, code: codes.includes(code as never) ? codes : code });
    want.push({ who: a.who, why: a.why, code: codes });
    if (a.fresh) {
      // a refused auth leaves the connection unauthenticated
      const after = await cl.request('rooms.list');
      got.push({ who: a.who, why: `${a.why}: then`, code: after.error?.code });
      want.push({ who: a.who, why: `${a.why}: then`, code: 'UNAUTHENTICATED' });
      cl.close();
    }
  }
  // caller fields smuggled into the data: refused whoever sends them
  const sample =
    validSamples({
      token: accounts.outsider.token,
      roomId: w.publicRoom,
      spareRoomId: w.adminsOnlyRoom,
      messageId: w.publicMessage,
      userId: w.userId.outsider,
      otherUserId: w.userId.victim,
      otherUsername: w.username.victim,
    })[op as WsOp] ?? {};
  for (const field of forgeableCallerFields(op as WsOp)) {
    const value = field.endsWith('Id') ? w.userId.victim : w.username.victim;
    const r = await conn.outsider.request(op, { ...sample, [field]: value });
    got.push({ field, code: r.ok ? '(accepted)' : r.error?.code });
    want.push({ field, code: 'BAD_REQUEST' });
  }
  expect(got).toEqual(want);
  expect(await snapshot()).toEqual(before);
});

test('authz - what is hidden stays out of lists and searches', async () => {
  const listed = (await call('outsider', 'rooms.list')).rooms.map((r: { roomId: string }) => r.roomId);
  const dir = (await call('outsider', 'room.directory', { limit: 200 })).rooms.map((r: { roomId: string }) => r.roomId);
  const hits = (await call('outsider', 'message.search', { query: 'secret' })).hits;
  const bySender = (await call('outsider', 'message.search', { query: 'secret', senderId: w.userId.victim })).hits;
  const inviteeHits = (await call('invitee', 'message.search', { query: 'private' })).hits;
  expect({ listed: listed.includes(w.privateRoom), dir: dir.includes(w.privateRoom), hits, bySender, inviteeHits }).toEqual({
    listed: false,
    dir: false,
    hits: [],
    bySender: [],
    inviteeHits: [],
  });
  // HTTP: the filters of a room are refused to a member without the role, as over the WebSocket
  const r = await http(stack.urls.gateway, 'GET', `/api/moderation/filters?roomId=${w.publicRoom}`, undefined, {
    token: accounts.member.token,
  });
  expect({ status: r.status, code: r.json?.error?.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
});
