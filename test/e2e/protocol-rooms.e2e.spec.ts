// An independent client written ONLY from docs/protocol.md (and docs/rooms.md), using `ws` and
// `fetch`, that drives every room and conversation operation and event as documented. The
// assertions are what the documents SAY: when one fails, either the server or the document is
// wrong.
import { createHash } from 'node:crypto';
import { eventually } from '@chat/testing';
import { freePort, printLogsIfFailed, startTestStack, TestStack } from './fixture';
import {
  Account,
  DocClient,
  DocClients,
  ISO_MS,
  UUID,
  chatEventsAt,
  createAccount,
  delivered,
  expectErr,
  expectFields,
  expectHidden,
  expectMembershipAck,
  expectMessageView,
  expectOk,
  expectPostAck,
  expectRoomSummary,
  notDelivered,
  roomSettingsFields,
  roomSummaryFields,
  reportUndocumented,
  sleep,
  wsUrlOf,
} from './doc-client';

jest.setTimeout(120_000);

// ---------------------------------------------------------------------------------------------
// Helpers for this file
// ---------------------------------------------------------------------------------------------

const DM_ID = /^dm-[0-9a-f]{40}$/;

/** `sha256(min + "\u0000" + max)`, first 40 hex digits, after `dm-`. */
function directRoomId(a: string, b: string): string {
  const [lo, hi] = a < b ? [a, b] : [b, a];
  return `dm-${createHash('sha256').update(`${lo}\u0000${hi}`).digest('hex').slice(0, 40)}`;
}

function expectUser(where: string, u: any, who: { userId: string; username: string }): void {
  expectFields(where, u, { userId: 'uuid', username: 'string' });
  expect({ where, userId: u?.userId, username: u?.username }).toEqual({ where, userId: who.userId, username: who.username });
}

function expectCommandAck(where: string, a: any, roomId: string): void {
  expectFields(where, a, { roomId: 'string', position: 'integer' });
  expect({ where, roomId: a.roomId }).toEqual({ where, roomId });
}

function expectRoomDetails(where: string, d: any): void {
  expectFields(where, d, {
    ...roomSummaryFields,
    createdAt: 'time',
    isDefault: 'boolean',
    createdBy: 'userOrNull',
    owner: 'userOrNull',
    retentionDays: 'integerOrNull',
  });
}

function expectMemberView(where: string, m: any): void {
  expectFields(where, m, { userId: 'uuid', username: 'string', role: ['owner', 'admin', 'member'], joinedAt: 'time' });
}

function expectPage(where: string, p: any, listField: 'rooms' | 'members'): void {
  expectFields(where, p, {
    ...(listField === 'members' ? { roomId: 'string' } : {}),
    [listField]: 'array',
    total: 'integer',
    nextOffset: 'integerOrNull',
  });
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

describe('protocol.md: rooms and conversations, followed to the letter', () => {
  let stack: TestStack;
  let base: string;
  let ws1: string;
  let ws2: string;
  const clients = new DocClients();
  let uniq = 0;
  const rid = (p: string) => `${p}-${++uniq}`;

  let A: Account, B: Account, C: Account, D: Account, E: Account, F: Account, G: Account;
  // Alice has two connections, one per gateway; the others are spread over both gateways.
  let a1: DocClient, a2: DocClient, b: DocClient, c: DocClient, d: DocClient, e: DocClient, f: DocClient, g: DocClient;

  const account = (username: string) => createAccount(base, username);
  const authed = (a: Account, url: string) => clients.authed(a, url);

  const create = async (cl: DocClient, data: Record<string, unknown>) =>
    expectOk(`room.create ${JSON.stringify(data)}`, await cl.request('room.create', data));
  const join = async (cl: DocClient, roomId: string) => expectOk(`room.join ${roomId}`, await cl.request('room.join', { roomId }));

  beforeAll(async () => {
    stack = await startTestStack();
    await stack.startExtra('gateway2', 'gateway', await freePort(), { GATEWAY_ID: 'gw2' });
    base = stack.urls.gateway;
    ws1 = wsUrlOf(base);
    ws2 = wsUrlOf(stack.urls.gateway2);
    [A, B, C, D, E, F, G] = await Promise.all(['Alice', 'Bob', 'Carol', 'Dave', 'Eve', 'Frank', 'Gina'].map((n) => account(n)));
    a1 = await authed(A, ws1);
    a2 = await authed(A, ws2);
    b = await authed(B, ws2);
    c = await authed(C, ws1);
    d = await authed(D, ws2);
    e = await authed(E, ws1);
    f = await authed(F, ws2);
    g = await authed(G, ws1);
  });

  afterAll(async () => {
    clients.closeAll();
    reportUndocumented();
    await stack?.teardown();
  });

  afterEach(() => printLogsIfFailed(stack, ['gateway', 'gateway2', 'rooms'], 15));

  // -------------------------------------------------------------------------------------------
  describe('room.create', () => {
    it('defaults: generated r-<12 hex> id, topic "", public, postPolicy members, memberLimit 50; member.joined owner to the creator on every gateway', async () => {
      const ack = await create(a1, { name: 'Defaults Room' });
      expectMembershipAck('room.create', ack);
      expect(ack.room).toEqual({
        roomId: expect.stringMatching(/^r-[0-9a-f]{12}$/),
        name: 'Defaults Room',
        topic: '',
        visibility: 'public',
        postPolicy: 'members',
        memberLimit: 50,
        slowModeSeconds: 0,
        memberCount: 1,
        myRole: 'owner',
      });
      const ev = await delivered('room.create', 'member.joined', ack.position, [a1, a2], [b, c]);
      expectFields('member.joined', ev.data, {
        roomId: 'string',
        userId: 'uuid',
        username: 'string',
        role: ['owner', 'admin', 'member'],
        time: 'time',
      });
      expect(ev.data).toEqual({ roomId: ack.room.roomId, userId: A.userId, username: 'Alice', role: 'owner', time: expect.any(String) });
      // rooms.md: the creator is the only member
      const mem = expectOk('room.members', await a1.request('room.members', { roomId: ack.room.roomId }));
      expect(mem.members.map((m: any) => [m.userId, m.role])).toEqual([[A.userId, 'owner']]);
    });

    it('all fields given; names and topics counted in code points; NFKC-normalised after the check', async () => {
      const roomId = rid('full');
      const name = '😀'.repeat(80);
      const topic = 't'.repeat(300);
      const ack = await create(a1, { roomId, name, topic, visibility: 'private', postPolicy: 'admins', memberLimit: 2 });
      expect(ack.room).toEqual({
        roomId,
        name,
        topic,
        visibility: 'private',
        postPolicy: 'admins',
        memberLimit: 2,
        slowModeSeconds: 0,
        memberCount: 1,
        myRole: 'owner',
      });
      const big = await create(a1, { roomId: rid('big'), name: 'ﬁne Ｒoom', memberLimit: 100000 });
      expect({ name: big.room.name, memberLimit: big.room.memberLimit }).toEqual({ name: 'fine Room', memberLimit: 100000 });
    });

    it('errors: CONFLICT for an existing id, BAD_REQUEST for dm- ids and every documented limit', async () => {
      const roomId = rid('dup');
      await create(a1, { roomId, name: 'Dup' });
      expectErr('existing id', await b.request('room.create', { roomId, name: 'Again' }), 'CONFLICT');
      expectErr('dm- id', await a1.request('room.create', { roomId: 'dm-abc', name: 'X' }), 'BAD_REQUEST', 'data.roomId');
      const bad: [string, Record<string, unknown>, string][] = [
        ['no name', {}, 'data.name'],
        ['empty name', { name: '' }, 'data.name'],
        ['name of 81', { name: 'n'.repeat(81) }, 'data.name'],
        ['name of 81 emoji', { name: '😀'.repeat(81) }, 'data.name'],
        ['leading whitespace', { name: ' x' }, 'data.name'],
        ['trailing whitespace', { name: 'x ' }, 'data.name'],
        ['line break', { name: 'a\nb' }, 'data.name'],
        ['control character', { name: 'a\u0007b' }, 'data.name'],
        ['format character', { name: 'a\u200bb' }, 'data.name'],
        ['topic of 301', { name: 'x', topic: 't'.repeat(301) }, 'data.topic'],
        ['visibility', { name: 'x', visibility: 'secret' }, 'data.visibility'],
        ['postPolicy', { name: 'x', postPolicy: 'owner' }, 'data.postPolicy'],
        ['memberLimit 1', { name: 'x', memberLimit: 1 }, 'data.memberLimit'],
        ['memberLimit 100001', { name: 'x', memberLimit: 100001 }, 'data.memberLimit'],
        ['memberLimit 2.5', { name: 'x', memberLimit: 2.5 }, 'data.memberLimit'],
        ['roomId with a space', { roomId: 'Bad Room', name: 'x' }, 'data.roomId'],
        ['roomId upper case', { roomId: 'Abc', name: 'x' }, 'data.roomId'],
        ['roomId starting with _', { roomId: '_abc', name: 'x' }, 'data.roomId'],
        ['roomId of 65', { roomId: 'a'.repeat(65), name: 'x' }, 'data.roomId'],
        ['unknown field', { name: 'x', colour: 'red' }, 'data.colour'],
      ];
      for (const [where, data, field] of bad)
        expectErr(`room.create ${where}`, await a1.request('room.create', data), 'BAD_REQUEST', field);
      // the longest valid id is accepted
      await create(a1, { roomId: `z${'9'.repeat(63)}`, name: 'Long id' });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('room.details, the default room, room.mine', () => {
    it('room.details of a new room: createdAt, createdBy, owner, isDefault', async () => {
      const roomId = rid('det');
      await create(a1, { roomId, name: 'Details', topic: 'about' });
      const before = Date.now();
      for (const [who, cl, role] of [
        ['owner', a1, 'owner'],
        ['outsider', e, null],
      ] as const) {
        const det = expectOk(`room.details ${who}`, await cl.request('room.details', { roomId }));
        expectRoomDetails('RoomDetails', det);
        expect(det).toMatchObject({
          roomId,
          name: 'Details',
          topic: 'about',
          visibility: 'public',
          postPolicy: 'members',
          memberLimit: 50,
          slowModeSeconds: 0,
          memberCount: 1,
          myRole: role,
          isDefault: false,
        });
        expectUser('createdBy', det.createdBy, A);
        expectUser('owner', det.owner, A);
        expect(Date.parse(det.createdAt)).toBeLessThanOrEqual(before + 1000);
      }
      expectHidden('missing room', await e.request('room.details', { roomId: 'no-such-room' }), 'no-such-room');
      expectErr('bad id', await e.request('room.details', { roomId: 'Bad Room' }), 'BAD_REQUEST', 'data.roomId');
      expectErr('unknown field', await e.request('room.details', { roomId, x: 1 }), 'BAD_REQUEST', 'data.x');
    });

    it('general: public, named "General", limit 100000, no owner, no creator, isDefault; nobody may manage or delete it', async () => {
      const det = expectOk('general', await g.request('room.details', { roomId: 'general' }));
      expectRoomDetails('RoomDetails(general)', det);
      expect(det).toMatchObject({
        roomId: 'general',
        name: 'General',
        visibility: 'public',
        memberLimit: 100000,
        slowModeSeconds: 0,
        isDefault: true,
        createdBy: null,
        owner: null,
        myRole: null,
      });
      const j = await join(g, 'general');
      expect(j.room).toMatchObject({ roomId: 'general', myRole: 'member', memberLimit: 100000 });
      expectErr('room.delete general (member)', await g.request('room.delete', { roomId: 'general' }), 'FORBIDDEN');
      expectErr('room.delete general (non-member)', await f.request('room.delete', { roomId: 'general' }), 'FORBIDDEN');
      expectErr('room.update general', await g.request('room.update', { roomId: 'general', topic: 'mine' }), 'FORBIDDEN');
      expectErr('room.invite general', await g.request('room.invite', { roomId: 'general', username: 'Frank' }), 'FORBIDDEN');
      expectErr('room.bans general', await g.request('room.bans', { roomId: 'general' }), 'FORBIDDEN');
      // anyone may leave it, and it never gets an owner by a join into the emptied room
      const left = expectOk('leave general', await g.request('room.leave', { roomId: 'general' }));
      expectCommandAck('room.leave', left, 'general');
      const rj = await join(g, 'general');
      expect(rj.room.myRole).toBe('member');
      const ev = await delivered('join general', 'member.joined', rj.position, [g]);
      expect(ev.data.role).toBe('member');
      expectOk('leave general again', await g.request('room.leave', { roomId: 'general' }));
      const det2 = expectOk('general', await g.request('room.details', { roomId: 'general' }));
      expect(det2.owner).toBeNull();
    });

    it('room.mine: the group rooms (public and private) of the caller, by name, with myRole; no data allowed', async () => {
      const p1 = rid('mine');
      const p2 = rid('mine');
      await create(g, { roomId: p1, name: 'b mine' });
      await create(g, { roomId: p2, name: 'A mine', visibility: 'private' });
      expectOk('join general', await g.request('room.join', { roomId: 'general' }));
      const mine = expectOk('room.mine', await g.request('room.mine'));
      expectFields('room.mine', mine, { rooms: 'array' });
      mine.rooms.forEach((r: any, i: number) => expectRoomSummary(`room.mine[${i}]`, r));
      expect(mine.rooms.map((r: any) => [r.roomId, r.myRole])).toEqual([
        [p2, 'owner'],
        [p1, 'owner'],
        ['general', 'member'],
      ]);
      const listed = expectOk('rooms.list', await g.request('rooms.list'));
      expect(listed.rooms.map((r: any) => r.roomId)).toEqual(expect.arrayContaining([p1, p2, 'general']));
      expect(expectOk('rooms.list other', await f.request('rooms.list')).rooms.map((r: any) => r.roomId)).not.toContain(p2);
      const other = expectOk('room.mine other', await f.request('room.mine', null));
      expect(other.rooms.map((r: any) => r.roomId)).not.toContain(p2);
      expectErr('room.mine with data', await g.request('room.mine', { x: 1 }), 'BAD_REQUEST', 'data.x');
      expectOk('leave general', await g.request('room.leave', { roomId: 'general' }));
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('room.directory', () => {
    it('search (case-insensitive, NFKC), paging (total, nextOffset), myRole; private rooms never listed', async () => {
      const ids: string[] = [];
      for (const n of ['Qzx Dir 3', 'qzx dir 1', 'QZX Dir 5', 'Qzx Dir 2', 'Qzx Dir 4']) {
        const id = rid('dir');
        ids.push(id);
        await create(a1, { roomId: id, name: n });
      }
      await create(a1, { roomId: rid('dir'), name: 'Qzx Dir secret', visibility: 'private' });
      const want = ['qzx dir 1', 'Qzx Dir 2', 'Qzx Dir 3', 'Qzx Dir 4', 'QZX Dir 5'];
      const all = expectOk('directory', await b.request('room.directory', { query: 'QZX DIR' }));
      expectPage('DirectoryPage', all, 'rooms');
      all.rooms.forEach((r: any, i: number) => expectRoomSummary(`directory[${i}]`, r));
      expect({ names: all.rooms.map((r: any) => r.name), total: all.total, nextOffset: all.nextOffset }).toEqual({
        names: want,
        total: 5,
        nextOffset: null,
      });
      expect(all.rooms.every((r: any) => r.myRole === null && r.visibility === 'public' && r.memberCount === 1)).toBe(true);
      const mineView = expectOk('directory as owner', await a1.request('room.directory', { query: 'qzx dir' }));
      expect(mineView.rooms.map((r: any) => r.myRole)).toEqual(['owner', 'owner', 'owner', 'owner', 'owner']);
      // full-width query, NFKC on both sides
      const fw = expectOk('full-width', await b.request('room.directory', { query: 'ｑｚｘ' }));
      expect(fw.total).toBe(5);
      const p1 = expectOk('page 1', await b.request('room.directory', { query: 'qzx dir', limit: 2 }));
      expect({ names: p1.rooms.map((r: any) => r.name), total: p1.total, nextOffset: p1.nextOffset }).toEqual({
        names: want.slice(0, 2),
        total: 5,
        nextOffset: 2,
      });
      const p2 = expectOk('page 2', await b.request('room.directory', { query: 'qzx dir', limit: 2, offset: p1.nextOffset }));
      expect({ names: p2.rooms.map((r: any) => r.name), nextOffset: p2.nextOffset }).toEqual({ names: want.slice(2, 4), nextOffset: 4 });
      const p3 = expectOk('page 3', await b.request('room.directory', { query: 'qzx dir', limit: 2, offset: p2.nextOffset }));
      expect({ names: p3.rooms.map((r: any) => r.name), nextOffset: p3.nextOffset }).toEqual({ names: want.slice(4), nextOffset: null });
      const past = expectOk('past the end', await b.request('room.directory', { query: 'qzx dir', offset: 1000000 }));
      expect({ rooms: past.rooms, total: past.total, nextOffset: past.nextOffset }).toEqual({ rooms: [], total: 5, nextOffset: null });
      // no query: every public room (general included), default limit 50
      const every = expectOk('no query', await b.request('room.directory'));
      expect(every.rooms.length).toBeLessThanOrEqual(50);
      expect(every.total).toBeGreaterThanOrEqual(6);
      expect(every.rooms.some((r: any) => r.visibility === 'private' || DM_ID.test(r.roomId))).toBe(false);
      expectOk('query of 80', await b.request('room.directory', { query: 'q'.repeat(80), limit: 200 }));
      const bad: [string, Record<string, unknown>, string][] = [
        ['query of 81', { query: 'q'.repeat(81) }, 'data.query'],
        ['limit 0', { limit: 0 }, 'data.limit'],
        ['limit 201', { limit: 201 }, 'data.limit'],
        ['limit "5"', { limit: '5' }, 'data.limit'],
        ['offset -1', { offset: -1 }, 'data.offset'],
        ['offset 1000001', { offset: 1000001 }, 'data.offset'],
        ['unknown', { q: 'x' }, 'data.q'],
      ];
      for (const [where, data, field] of bad)
        expectErr(`room.directory ${where}`, await b.request('room.directory', data), 'BAD_REQUEST', field);
    });
  });

  describe('room.directory order', () => {
    it('by name with localeCompare (a < A < Ä < b < B), identical names by roomId', async () => {
      const made: [string, string][] = [
        ['zz-dirsort', 'Qzy same'],
        ['qzy-b-upper', 'Qzy B'],
        ['qzy-a-uml', 'Qzy Ä'],
        ['qzy-a-lower', 'Qzy a'],
        ['aa-dirsort', 'Qzy same'],
        ['qzy-b-lower', 'Qzy b'],
        ['qzy-a-upper', 'Qzy A'],
      ];
      for (const [roomId, name] of made) await create(b, { roomId, name });
      const dir = expectOk('directory', await c.request('room.directory', { query: 'qzy ' }));
      expect(dir.rooms.map((r: any) => r.roomId)).toEqual([
        'qzy-a-lower',
        'qzy-a-upper',
        'qzy-a-uml',
        'qzy-b-lower',
        'qzy-b-upper',
        'aa-dirsort',
        'zz-dirsort',
      ]);
      const mine = expectOk('room.mine', await b.request('room.mine'));
      const order = mine.rooms.map((r: any) => r.roomId).filter((id: string) => made.some(([m]) => m === id));
      expect(order).toEqual(['qzy-a-lower', 'qzy-a-upper', 'qzy-a-uml', 'qzy-b-lower', 'qzy-b-upper', 'aa-dirsort', 'zz-dirsort']);
      const empty = expectOk('query ""', await c.request('room.directory', { query: '' }));
      expect(empty.total).toBeGreaterThanOrEqual(8);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('room.members', () => {
    it('owner, then admins, then members, each by joinedAt; paging; anyone for a public room', async () => {
      const roomId = rid('mem');
      await create(a1, { roomId, name: 'Members' });
      await join(b, roomId);
      await join(c, roomId);
      await join(d, roomId);
      expectCommandAck(
        'setRole',
        expectOk('setRole', await a1.request('room.setRole', { roomId, userId: D.userId, role: 'admin' })),
        roomId,
      );
      const all = expectOk('room.members', await e.request('room.members', { roomId }));
      expectPage('MembersPage', all, 'members');
      expect(all.roomId).toBe(roomId);
      all.members.forEach((m: any, i: number) => expectMemberView(`members[${i}]`, m));
      expect(all.members.map((m: any) => [m.username, m.role])).toEqual([
        ['Alice', 'owner'],
        ['Dave', 'admin'],
        ['Bob', 'member'],
        ['Carol', 'member'],
      ]);
      expect({ total: all.total, nextOffset: all.nextOffset }).toEqual({ total: 4, nextOffset: null });
      expect(Date.parse(all.members[2].joinedAt)).toBeLessThanOrEqual(Date.parse(all.members[3].joinedAt));
      const p1 = expectOk('page 1', await b.request('room.members', { roomId, limit: 3 }));
      expect({ n: p1.members.map((m: any) => m.username), total: p1.total, nextOffset: p1.nextOffset }).toEqual({
        n: ['Alice', 'Dave', 'Bob'],
        total: 4,
        nextOffset: 3,
      });
      const p2 = expectOk('page 2', await b.request('room.members', { roomId, limit: 3, offset: 3 }));
      expect({ n: p2.members.map((m: any) => m.username), nextOffset: p2.nextOffset }).toEqual({ n: ['Carol'], nextOffset: null });
      expectHidden('missing', await b.request('room.members', { roomId: 'nope-members' }), 'nope-members');
      for (const [where, data, field] of [
        ['limit 0', { roomId, limit: 0 }, 'data.limit'],
        ['limit 201', { roomId, limit: 201 }, 'data.limit'],
        ['offset -1', { roomId, offset: -1 }, 'data.offset'],
        ['offset 1000001', { roomId, offset: 1000001 }, 'data.offset'],
        ['no roomId', {}, 'data.roomId'],
      ] as [string, Record<string, unknown>, string][])
        expectErr(`room.members ${where}`, await b.request('room.members', data), 'BAD_REQUEST', field);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('room.join and room.leave', () => {
    it('join: MembershipAck; member.joined to every member on both gateways and the joiner, not to others; ALREADY_MEMBER', async () => {
      const roomId = rid('join');
      await create(a1, { roomId, name: 'Join' });
      const j = await join(b, roomId);
      expectMembershipAck('room.join', j);
      expect(j.room).toEqual({
        roomId,
        name: 'Join',
        topic: '',
        visibility: 'public',
        postPolicy: 'members',
        memberLimit: 50,
        slowModeSeconds: 0,
        memberCount: 2,
        myRole: 'member',
      });
      const ev = await delivered('room.join', 'member.joined', j.position, [a1, a2, b], [c, e]);
      expect(ev.data).toEqual({ roomId, userId: B.userId, username: 'Bob', role: 'member', time: expect.stringMatching(ISO_MS) });
      expectErr('join again', await b.request('room.join', { roomId }), 'ALREADY_MEMBER');
      // the joiner's connections receive the room's messages after the join
      const m = expectOk('send', await a1.request('message.send', { roomId, clientMsgId: 'j1', body: 'welcome' }));
      const posted = await delivered('message.posted', 'message.posted', m.position, [a1, a2, b], [c]);
      expectMessageView('message.posted', posted.data);
      expectHidden('join missing', await b.request('room.join', { roomId: 'no-join-here' }), 'no-join-here');
    });

    it('leave: { roomId, position }; member.left (newOwner null) to members and the leaver; then nothing more; NOT_MEMBER', async () => {
      const roomId = rid('leave');
      await create(a1, { roomId, name: 'Leave' });
      await join(b, roomId);
      await join(c, roomId);
      const l = expectOk('leave', await c.request('room.leave', { roomId }));
      expect(Object.keys(l).sort()).toEqual(['position', 'roomId']);
      expectCommandAck('room.leave', l, roomId);
      const ev = await delivered('room.leave', 'member.left', l.position, [a1, a2, b, c], [d]);
      expectFields('member.left', ev.data, { roomId: 'string', userId: 'uuid', username: 'string', time: 'time', newOwner: 'null' });
      expect(ev.data).toEqual({ roomId, userId: C.userId, username: 'Carol', time: expect.any(String), newOwner: null });
      const m = expectOk('send', await a1.request('message.send', { roomId, clientMsgId: 'l1', body: 'gone?' }));
      await delivered('after leave', 'message.posted', m.position, [a1, b], [c]);
      expectErr('leave again', await c.request('room.leave', { roomId }), 'NOT_MEMBER');
      expectErr('send after leave', await c.request('message.send', { roomId, clientMsgId: 'l2', body: 'x' }), 'NOT_MEMBER');
      expectErr('history after leave', await c.request('history.page', { roomId }), 'FORBIDDEN');
    });

    it('the owner leaving: ownership to the longest-standing admin, else member; the last member leaves a public room ownerless; the next joiner owns it', async () => {
      const roomId = rid('succ');
      await create(a1, { roomId, name: 'Succession' });
      await join(b, roomId);
      await join(c, roomId);
      await join(d, roomId);
      expectOk('setRole', await a1.request('room.setRole', { roomId, userId: D.userId, role: 'admin' }));
      // admin Dave (joined last) beats the older member Bob
      const l1 = expectOk('owner leaves', await a1.request('room.leave', { roomId }));
      const ev1 = await delivered('owner leaves', 'member.left', l1.position, [a1, a2, b, c, d], [e]);
      expectUser('member.left.newOwner', ev1.data.newOwner, D);
      const mem = expectOk('members', await b.request('room.members', { roomId }));
      expect(mem.members.map((m: any) => [m.username, m.role])).toEqual([
        ['Dave', 'owner'],
        ['Bob', 'member'],
        ['Carol', 'member'],
      ]);
      // no admin: the longest-standing member (Bob joined before Carol)
      const l2 = expectOk('owner leaves 2', await d.request('room.leave', { roomId }));
      const ev2 = await delivered('owner leaves 2', 'member.left', l2.position, [b, c, d], [a1]);
      expectUser('member.left.newOwner 2', ev2.data.newOwner, B);
      const l3 = expectOk('member leaves', await c.request('room.leave', { roomId }));
      const ev3 = await delivered('member leaves', 'member.left', l3.position, [b, c]);
      expect(ev3.data.newOwner).toBeNull();
      // the last member (the owner) leaves: newOwner null "also when nobody is left"
      const l4 = expectOk('last leaves', await b.request('room.leave', { roomId }));
      const ev4 = await delivered('last leaves', 'member.left', l4.position, [b]);
      expect({ event: ev4.event, newOwner: ev4.data.newOwner }).toEqual({ event: 'member.left', newOwner: null });
      const det = expectOk('details', await e.request('room.details', { roomId }));
      expect({ owner: det.owner, memberCount: det.memberCount, visibility: det.visibility }).toEqual({
        owner: null,
        memberCount: 0,
        visibility: 'public',
      });
      const dir = expectOk('directory', await e.request('room.directory', { query: 'Succession' }));
      expect(dir.rooms.map((r: any) => r.roomId)).toContain(roomId);
      const j = await join(e, roomId);
      expect(j.room.myRole).toBe('owner');
      const jev = await delivered('first joiner', 'member.joined', j.position, [e]);
      expect(jev.data.role).toBe('owner');
      const det2 = expectOk('details', await e.request('room.details', { roomId }));
      expectUser('owner after join', det2.owner, E);
    });

    it('an invitation accepted in an emptied, ownerless public room makes the invitee its owner', async () => {
      const roomId = rid('ownerless');
      await create(a1, { roomId, name: 'Ownerless' });
      const inv = expectOk('invite', await a1.request('room.invite', { roomId, username: 'Eve' }));
      await delivered('invite', 'invitation.received', inv.position, [e]);
      const l = expectOk('leave', await a1.request('room.leave', { roomId }));
      const lev = await delivered('owner leaves alone', 'member.left', l.position, [a1, a2], [e]);
      expect(lev.data.newOwner).toBeNull();
      const acc = expectOk('accept', await e.request('invitation.accept', { roomId }));
      expect(acc.room).toMatchObject({ roomId, myRole: 'owner', memberCount: 1 });
      const ev = await delivered('accept into ownerless', 'member.joined', acc.position, [e], [a1]);
      expect(ev.data.role).toBe('owner');
    });

    it('the last member leaving a private room deletes it: room.deleted (reason "empty", by the leaver) at the reply position', async () => {
      const roomId = rid('lastpriv');
      await create(a1, { roomId, name: 'Last private', visibility: 'private' });
      const inv = expectOk('invite', await a1.request('room.invite', { roomId, username: 'Gina' }));
      await delivered('invite', 'invitation.received', inv.position, [g]);
      const l = expectOk('leave', await a1.request('room.leave', { roomId }));
      expectCommandAck('leave', l, roomId);
      // the leave is the room.deleted event; the invitee is not told
      const ev = await delivered('private emptied', 'room.deleted', l.position, [a1, a2], [g]);
      expect(chatEventsAt(a1, l.position).map((x) => x.event)).toEqual(['room.deleted']);
      expect(expectOk('list', await g.request('invitation.list')).invitations.map((i: any) => i.roomId)).not.toContain(roomId);
      expectHidden('invitee accepts', await g.request('invitation.accept', { roomId }), roomId);
      expectFields('room.deleted', ev.data, { roomId: 'string', by: 'object', reason: ['owner', 'empty'], time: 'time' });
      expect(ev.data).toMatchObject({ roomId, reason: 'empty' });
      expectUser('room.deleted.by', ev.data.by, A);
      expectHidden('details after', await a1.request('room.details', { roomId }), roomId);
      expectHidden('join after', await a1.request('room.join', { roomId }), roomId);
      expectErr('create with the id again', await a1.request('room.create', { roomId, name: 'again' }), 'CONFLICT');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('private rooms, room.invite and invitations', () => {
    it('a private room is hidden from an outsider on every op, exactly like a missing room', async () => {
      const roomId = rid('hidden');
      await create(a1, { roomId, name: 'Hidden', visibility: 'private' });
      const missing = rid('missing');
      const ops: [string, (id: string) => Record<string, unknown>][] = [
        ['room.details', (id) => ({ roomId: id })],
        ['room.members', (id) => ({ roomId: id })],
        ['history.page', (id) => ({ roomId: id })],
        ['message.send', (id) => ({ roomId: id, clientMsgId: 'h1', body: 'x' })],
        ['room.join', (id) => ({ roomId: id })],
        ['room.leave', (id) => ({ roomId: id })],
        ['invitation.accept', (id) => ({ roomId: id })],
        ['invitation.decline', (id) => ({ roomId: id })],
        ['room.invite', (id) => ({ roomId: id, username: 'Eve' })],
        ['room.invite', (id) => ({ roomId: id, username: 'nobody-at-all' })],
        ['room.kick', (id) => ({ roomId: id, userId: A.userId })],
        ['room.ban', (id) => ({ roomId: id, userId: A.userId })],
        ['room.unban', (id) => ({ roomId: id, userId: A.userId })],
        ['room.bans', (id) => ({ roomId: id })],
        ['room.update', (id) => ({ roomId: id, topic: 'x' })],
        ['room.setRole', (id) => ({ roomId: id, userId: A.userId, role: 'admin' })],
        ['room.transfer', (id) => ({ roomId: id, userId: E.userId })],
        ['room.delete', (id) => ({ roomId: id })],
      ];
      for (const [op, data] of ops) {
        const hid = await e.request(op, data(roomId));
        const mis = await e.request(op, data(missing));
        expectHidden(`${op} private`, hid, roomId);
        expectHidden(`${op} missing`, mis, missing);
      }
      const list = expectOk('rooms.list', await e.request('rooms.list'));
      expect(list.rooms.map((r: any) => r.roomId)).not.toContain(roomId);
      const dir = expectOk('directory', await e.request('room.directory', { query: 'Hidden' }));
      expect(dir.rooms.map((r: any) => r.roomId)).not.toContain(roomId);
    });

    it('room.invite: reply, member.invited to members (not the invitee), invitation.received to the invitee; invitee sees details only; renewal', async () => {
      const roomId = rid('inv');
      await create(a1, { roomId, name: 'Invite Me', visibility: 'private' });
      await join(b, 'general'); // unrelated membership, so Bob has a connection with rooms
      // by username, matched after NFKC and case folding
      const inv = expectOk('invite', await a1.request('room.invite', { roomId, username: 'ＣＡＲＯＬ' }));
      expectFields('room.invite reply', inv, { roomId: 'string', position: 'integer', userId: 'uuid' });
      expect(inv).toEqual({ roomId, position: expect.any(Number), userId: C.userId });
      const mi = await delivered('member.invited', 'member.invited', inv.position, [a1, a2], [c, b]);
      expectFields('member.invited', mi.data, { roomId: 'string', userId: 'uuid', username: 'string', time: 'time', by: 'object' });
      expect(mi.data).toMatchObject({ roomId, userId: C.userId, username: 'Carol' });
      expectUser('member.invited.by', mi.data.by, A);
      const ir = await delivered('invitation.received', 'invitation.received', inv.position, [c], [a1, a2, b]);
      expectFields('invitation.received', ir.data, { roomId: 'string', roomName: 'string', invitedBy: 'object', time: 'time' });
      expect(ir.data).toMatchObject({ roomId, roomName: 'Invite Me' });
      expectUser('invitation.received.invitedBy', ir.data.invitedBy, A);
      // invitation.list
      const il = expectOk('invitation.list', await c.request('invitation.list'));
      expectFields('invitation.list', il, { invitations: 'array' });
      const mineInv = il.invitations.find((i: any) => i.roomId === roomId);
      expectFields('InvitationView', mineInv, { roomId: 'string', roomName: 'string', invitedBy: 'object', time: 'time' });
      expect(mineInv).toEqual(ir.data);
      expectErr('invitation.list with data', await c.request('invitation.list', { roomId }), 'BAD_REQUEST', 'data.roomId');
      // the invitee: details yes (myRole null), members/history/send no
      const det = expectOk('invitee details', await c.request('room.details', { roomId }));
      expectRoomDetails('RoomDetails (invitee)', det);
      expect(det).toMatchObject({ roomId, name: 'Invite Me', visibility: 'private', myRole: null, memberCount: 1 });
      expectHidden('invitee members', await c.request('room.members', { roomId }), roomId);
      expectHidden('invitee history', await c.request('history.page', { roomId }), roomId);
      expectHidden('invitee send', await c.request('message.send', { roomId, clientMsgId: 'x1', body: 'x' }), roomId);
      expectHidden('invitee leave', await c.request('room.leave', { roomId }), roomId);
      expectErr('invitee invites', await c.request('room.invite', { roomId, username: 'Eve' }), 'FORBIDDEN');
      expectErr('invitee kicks', await c.request('room.kick', { roomId, userId: A.userId }), 'FORBIDDEN');
      expectErr('invitee updates', await c.request('room.update', { roomId, topic: 'x' }), 'FORBIDDEN');
      // renewal: a new invitation.received at a new position
      const again = expectOk('renew', await a2.request('room.invite', { roomId, username: 'carol' }));
      expect(again.position).toBeGreaterThan(inv.position);
      await delivered('renewed member.invited', 'member.invited', again.position, [a1, a2], [c]);
      const ir2 = await delivered('renewed invitation', 'invitation.received', again.position, [c]);
      expect(Date.parse(ir2.data.time)).toBeGreaterThanOrEqual(Date.parse(ir.data.time));
      const il2 = expectOk('invitation.list', await c.request('invitation.list'));
      expect(il2.invitations.filter((i: any) => i.roomId === roomId)).toEqual([ir2.data]);
      // a second invitation elsewhere comes first (newest first)
      const other = rid('inv2');
      await create(b, { roomId: other, name: 'Second invite', visibility: 'private' });
      const inv3 = expectOk('invite 2', await b.request('room.invite', { roomId: other, username: 'Carol' }));
      await delivered('invitation 2', 'invitation.received', inv3.position, [c]);
      const il3 = expectOk('invitation.list', await c.request('invitation.list'));
      expect(il3.invitations.map((i: any) => i.roomId).slice(0, 2)).toEqual([other, roomId]);
      // accept
      const acc = expectOk('accept', await c.request('invitation.accept', { roomId }));
      expectMembershipAck('invitation.accept', acc);
      expect(acc.room).toEqual({
        roomId,
        name: 'Invite Me',
        topic: '',
        visibility: 'private',
        postPolicy: 'members',
        memberLimit: 50,
        slowModeSeconds: 0,
        memberCount: 2,
        myRole: 'member',
      });
      const mj = await delivered('accept', 'member.joined', acc.position, [a1, a2, c], [b]);
      expect(mj.data).toEqual({ roomId, userId: C.userId, username: 'Carol', role: 'member', time: expect.any(String) });
      const il4 = expectOk('invitation.list', await c.request('invitation.list'));
      expect(il4.invitations.map((i: any) => i.roomId)).toEqual([other]);
      expectErr('accept again', await c.request('invitation.accept', { roomId }), 'ALREADY_MEMBER');
      expectErr('invite a member', await a1.request('room.invite', { roomId, username: 'Carol' }), 'ALREADY_MEMBER');
      expectErr('plain member invites', await c.request('room.invite', { roomId, username: 'Eve' }), 'FORBIDDEN');
      expectErr('unknown username', await a1.request('room.invite', { roomId, username: 'no-such-user-xyz' }), 'NOT_FOUND');
      // room.join of a private room with an invitation accepts it
      const inv4 = expectOk('invite dave', await a1.request('room.invite', { roomId, username: 'Dave' }));
      await delivered('invitation dave', 'invitation.received', inv4.position, [d]);
      const dj = await join(d, roomId);
      expect(dj.room.myRole).toBe('member');
      await delivered('join=accept', 'member.joined', dj.position, [a1, c, d]);
      expect(expectOk('list', await d.request('invitation.list')).invitations.map((i: any) => i.roomId)).not.toContain(roomId);
      // validation
      for (const [where, data, field] of [
        ['empty username', { roomId, username: '' }, 'data.username'],
        ['username of 129', { roomId, username: 'u'.repeat(129) }, 'data.username'],
        ['no username', { roomId }, 'data.username'],
        ['unknown', { roomId, username: 'Eve', note: 'hi' }, 'data.note'],
      ] as [string, Record<string, unknown>, string][])
        expectErr(`room.invite ${where}`, await a1.request('room.invite', data), 'BAD_REQUEST', field);
    });

    it('invitation.decline: CommandAck; invitation.declined to members and the decliner; then NOT_FOUND; an outsider of a public room may not invite', async () => {
      const roomId = rid('decl');
      await create(a1, { roomId, name: 'Decline', visibility: 'private' });
      expectHidden('not invited', await b.request('room.join', { roomId }), roomId);
      const inv = expectOk('invite', await a1.request('room.invite', { roomId, username: 'Eve' }));
      await delivered('invite', 'invitation.received', inv.position, [e]);
      const dec = expectOk('decline', await e.request('invitation.decline', { roomId }));
      expectCommandAck('invitation.decline', dec, roomId);
      const ev = await delivered('declined', 'invitation.declined', dec.position, [a1, a2, e], [b, c]);
      expectFields('invitation.declined', ev.data, { roomId: 'string', userId: 'uuid', username: 'string', time: 'time' });
      expect(ev.data).toEqual({ roomId, userId: E.userId, username: 'Eve', time: expect.any(String) });
      expect(expectOk('list', await e.request('invitation.list')).invitations.map((i: any) => i.roomId)).not.toContain(roomId);
      expectHidden('decline again', await e.request('invitation.decline', { roomId }), roomId);
      expectHidden('accept after decline', await e.request('invitation.accept', { roomId }), roomId);
      expectHidden('details after decline', await e.request('room.details', { roomId }), roomId);
      // public room: no invitation -> NOT_FOUND; an outsider inviting -> FORBIDDEN; an invitation is accepted like a join
      const pub = rid('pubinv');
      await create(a1, { roomId: pub, name: 'Public invite' });
      expectErr('accept without invitation', await e.request('invitation.accept', { roomId: pub }), 'NOT_FOUND');
      expectErr('decline without invitation', await e.request('invitation.decline', { roomId: pub }), 'NOT_FOUND');
      expectErr('outsider invites to a public room', await e.request('room.invite', { roomId: pub, username: 'Frank' }), 'FORBIDDEN');
      const pinv = expectOk('invite to public', await a1.request('room.invite', { roomId: pub, username: 'Frank' }));
      await delivered('public invitation', 'invitation.received', pinv.position, [f]);
      const pacc = expectOk('accept public', await f.request('invitation.accept', { roomId: pub }));
      expect(pacc.room).toMatchObject({ roomId: pub, myRole: 'member', memberCount: 2 });
      await delivered('public accept', 'member.joined', pacc.position, [a1, f]);
    });
  });

  describe('admins and invitations over time', () => {
    it('an admin invites; the invitation keeps the room name of its time; a demoted admin loses the rights', async () => {
      const roomId = rid('adm');
      await create(a1, { roomId, name: 'Old name', visibility: 'private' });
      const inv0 = expectOk('invite bob', await a1.request('room.invite', { roomId, username: 'Bob' }));
      await delivered('invite bob', 'invitation.received', inv0.position, [b]);
      await join(b, roomId);
      expectOk('b admin', await a1.request('room.setRole', { roomId, userId: B.userId, role: 'admin' }));
      const inv = expectOk('admin invites', await b.request('room.invite', { roomId, username: 'Dave' }));
      const mi = await delivered('admin invites', 'member.invited', inv.position, [a1, a2, b], [d]);
      expectUser('member.invited.by', mi.data.by, B);
      const ir = await delivered('admin invites', 'invitation.received', inv.position, [d], [a1, b]);
      expectUser('invitedBy', ir.data.invitedBy, B);
      expectOk('rename', await a1.request('room.update', { roomId, name: 'New name' }));
      const il = expectOk('invitation.list', await d.request('invitation.list'));
      expect(il.invitations.find((i: any) => i.roomId === roomId)).toMatchObject({ roomId, roomName: 'Old name' });
      expect(expectOk('invitee details', await d.request('room.details', { roomId })).name).toBe('New name');
      const dm = expectOk('demote', await a1.request('room.setRole', { roomId, userId: B.userId, role: 'member' }));
      await delivered('demote', 'member.role', dm.position, [b]);
      expectErr('demoted updates', await b.request('room.update', { roomId, topic: 'x' }), 'FORBIDDEN');
      expectErr('demoted invites', await b.request('room.invite', { roomId, username: 'Eve' }), 'FORBIDDEN');
      expectErr('demoted reads bans', await b.request('room.bans', { roomId }), 'FORBIDDEN');
      expectErr('kick an invitee (not a member)', await a1.request('room.kick', { roomId, userId: D.userId }), 'NOT_MEMBER');
      expectErr('setRole of an invitee', await a1.request('room.setRole', { roomId, userId: D.userId, role: 'admin' }), 'NOT_MEMBER');
      expectErr('transfer to an invitee', await a1.request('room.transfer', { roomId, userId: D.userId }), 'NOT_MEMBER');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('room.kick', () => {
    it('roles and targets; member.kicked to members and the kicked; nothing more for them; NOT_MEMBER; rejoin', async () => {
      const roomId = rid('kick');
      await create(a1, { roomId, name: 'Kick' });
      for (const cl of [b, c, d, e]) await join(cl, roomId);
      expectOk('b admin', await a1.request('room.setRole', { roomId, userId: B.userId, role: 'admin' }));
      expectOk('e admin', await a1.request('room.setRole', { roomId, userId: E.userId, role: 'admin' }));
      expectErr('member kicks', await c.request('room.kick', { roomId, userId: D.userId }), 'FORBIDDEN');
      expectErr('outsider kicks (public)', await f.request('room.kick', { roomId, userId: D.userId }), 'FORBIDDEN');
      expectErr('admin kicks owner', await b.request('room.kick', { roomId, userId: A.userId }), 'FORBIDDEN');
      expectErr('admin kicks admin', await b.request('room.kick', { roomId, userId: E.userId }), 'FORBIDDEN');
      expectErr('admin kicks self', await b.request('room.kick', { roomId, userId: B.userId }), 'FORBIDDEN');
      expectErr('owner kicks self', await a1.request('room.kick', { roomId, userId: A.userId }), 'FORBIDDEN');
      expectErr('kick non-member', await a1.request('room.kick', { roomId, userId: F.userId }), 'NOT_MEMBER');
      // admin kicks a member, with a reason
      const k = expectOk('kick', await b.request('room.kick', { roomId, userId: D.userId, reason: 'off topic' }));
      expectCommandAck('room.kick', k, roomId);
      const ev = await delivered('kick', 'member.kicked', k.position, [a1, a2, b, c, d, e], [f, g]);
      expectFields('member.kicked', ev.data, {
        roomId: 'string',
        userId: 'uuid',
        username: 'string',
        time: 'time',
        by: 'object',
        reason: 'string',
      });
      expect(ev.data).toMatchObject({ roomId, userId: D.userId, username: 'Dave', reason: 'off topic' });
      expectUser('member.kicked.by', ev.data.by, B);
      const m = expectOk('send after kick', await a1.request('message.send', { roomId, clientMsgId: 'k1', body: 'after the kick' }));
      await delivered('after kick', 'message.posted', m.position, [a1, b, c], [d]);
      expectErr('kicked sends', await d.request('message.send', { roomId, clientMsgId: 'k2', body: 'x' }), 'NOT_MEMBER');
      // the owner kicks an admin, no reason: ""
      const k2 = expectOk('owner kicks admin', await a1.request('room.kick', { roomId, userId: E.userId }));
      const ev2 = await delivered('kick admin', 'member.kicked', k2.position, [a1, b, c, e]);
      expect(ev2.data.reason).toBe('');
      // the kicked may come back
      const rj = await join(d, roomId);
      expect(rj.room.myRole).toBe('member');
      expectOk('reason of 300', await a1.request('room.kick', { roomId, userId: D.userId, reason: 'r'.repeat(300) }));
      for (const [where, data, field] of [
        ['reason of 301', { roomId, userId: C.userId, reason: 'r'.repeat(301) }, 'data.reason'],
        ['userId not a UUID', { roomId, userId: 'carol' }, 'data.userId'],
        ['no userId', { roomId }, 'data.userId'],
      ] as [string, Record<string, unknown>, string][])
        expectErr(`room.kick ${where}`, await a1.request('room.kick', data), 'BAD_REQUEST', field);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('room.ban, room.unban, room.bans', () => {
    it('ban members and non-members; BANNED on join/invite/ban; bans list; unban not told; NOT_FOUND', async () => {
      const roomId = rid('ban');
      await create(a1, { roomId, name: 'Ban' });
      for (const cl of [b, c, d]) await join(cl, roomId);
      expectOk('b admin', await a1.request('room.setRole', { roomId, userId: B.userId, role: 'admin' }));
      expectErr('member bans', await c.request('room.ban', { roomId, userId: D.userId }), 'FORBIDDEN');
      expectErr('admin bans owner', await b.request('room.ban', { roomId, userId: A.userId }), 'FORBIDDEN');
      expectErr('ban unknown user', await a1.request('room.ban', { roomId, userId: '00000000-0000-4000-8000-000000000000' }), 'NOT_FOUND');
      // "Errors, in this order": NOT_FOUND (no user has this id) before FORBIDDEN
      expectErr(
        'member bans an unknown user',
        await c.request('room.ban', { roomId, userId: '00000000-0000-4000-8000-000000000000' }),
        'NOT_FOUND',
      );
      // ban a member, with a reason
      const bn = expectOk('ban', await b.request('room.ban', { roomId, userId: D.userId, reason: 'spam' }));
      expectCommandAck('room.ban', bn, roomId);
      const ev = await delivered('ban member', 'member.banned', bn.position, [a1, a2, b, c, d], [e, f]);
      expectFields('member.banned', ev.data, {
        roomId: 'string',
        userId: 'uuid',
        username: 'string',
        time: 'time',
        by: 'object',
        reason: 'string',
      });
      expect(ev.data).toMatchObject({ roomId, userId: D.userId, username: 'Dave', reason: 'spam' });
      expectUser('member.banned.by', ev.data.by, B);
      const m = expectOk('send', await a1.request('message.send', { roomId, clientMsgId: 'b1', body: 'after ban' }));
      await delivered('after ban', 'message.posted', m.position, [a1, c], [d]);
      expectErr('banned joins', await d.request('room.join', { roomId }), 'BANNED');
      expectErr('ban again', await a1.request('room.ban', { roomId, userId: D.userId }), 'BANNED');
      expectErr('invite banned', await a1.request('room.invite', { roomId, username: 'Dave' }), 'BANNED');
      // ban a non-member: their connections get member.banned too
      const bn2 = expectOk('ban outsider', await a1.request('room.ban', { roomId, userId: F.userId }));
      const ev2 = await delivered('ban outsider', 'member.banned', bn2.position, [a1, b, c], [d, e]);
      expect(ev2.data).toMatchObject({ roomId, userId: F.userId, username: 'Frank', reason: '' });
      // ban cancels a pending invitation
      const inv = expectOk('invite eve', await a1.request('room.invite', { roomId, username: 'Eve' }));
      await delivered('invite eve', 'invitation.received', inv.position, [e]);
      const bn3 = expectOk('ban invitee', await a1.request('room.ban', { roomId, userId: E.userId, reason: 'no' }));
      await delivered('ban invitee', 'member.banned', bn3.position, [a1]);
      expect(expectOk('list', await e.request('invitation.list')).invitations.map((i: any) => i.roomId)).not.toContain(roomId);
      expectErr('accept cancelled', await e.request('invitation.accept', { roomId }), 'NOT_FOUND');
      // room.bans: in the order made
      const bans = expectOk('room.bans', await b.request('room.bans', { roomId }));
      expectFields('room.bans', bans, { roomId: 'string', bans: 'array' });
      expect(bans.roomId).toBe(roomId);
      bans.bans.forEach((x: any, i: number) =>
        expectFields(`BanView[${i}]`, x, { userId: 'uuid', username: 'string', by: 'object', reason: 'string', time: 'time' }),
      );
      expect(bans.bans.map((x: any) => [x.username, x.by.username, x.reason])).toEqual([
        ['Dave', 'Bob', 'spam'],
        ['Frank', 'Alice', ''],
        ['Eve', 'Alice', 'no'],
      ]);
      expectErr('member reads bans', await c.request('room.bans', { roomId }), 'FORBIDDEN');
      expectErr('outsider reads bans', await g.request('room.bans', { roomId }), 'FORBIDDEN');
      // unban: members told, the unbanned user not
      expectErr('member unbans', await c.request('room.unban', { roomId, userId: D.userId }), 'FORBIDDEN');
      const ub = expectOk('unban', await b.request('room.unban', { roomId, userId: D.userId }));
      expectCommandAck('room.unban', ub, roomId);
      const uev = await delivered('unban', 'member.unbanned', ub.position, [a1, a2, b, c], [d, f]);
      expectFields('member.unbanned', uev.data, { roomId: 'string', userId: 'uuid', username: 'string', time: 'time', by: 'object' });
      expect(uev.data).toMatchObject({ roomId, userId: D.userId, username: 'Dave' });
      expectUser('member.unbanned.by', uev.data.by, B);
      expectErr('unban not banned', await a1.request('room.unban', { roomId, userId: D.userId }), 'NOT_FOUND');
      await join(d, roomId);
      expect(expectOk('bans', await a1.request('room.bans', { roomId })).bans.map((x: any) => x.username)).toEqual(['Frank', 'Eve']);
      expectErr(
        'ban reason 301',
        await a1.request('room.ban', { roomId, userId: G.userId, reason: 'r'.repeat(301) }),
        'BAD_REQUEST',
        'data.reason',
      );
      expectErr('unban bad uuid', await a1.request('room.unban', { roomId, userId: 'x' }), 'BAD_REQUEST', 'data.userId');
    });
  });

  describe('member.banned reaches the banned user (member or not)', () => {
    for (const [label, who] of [
      ['a non-member on gateway 1', 'g'],
      ['a non-member on gateway 2', 'f'],
      ['an invitee (not a member)', 'invitee'],
      ['a member', 'member'],
    ] as const) {
      it(`member.banned to ${label}`, async () => {
        const roomId = rid('banto');
        await create(a1, { roomId, name: 'Ban delivery' });
        await join(b, roomId);
        let target: DocClient;
        let user: Account;
        if (who === 'g') [target, user] = [g, G];
        else if (who === 'f') [target, user] = [f, F];
        else if (who === 'invitee') {
          [target, user] = [c, C];
          const inv = expectOk('invite', await a1.request('room.invite', { roomId, username: 'Carol' }));
          await delivered('invite', 'invitation.received', inv.position, [c]);
        } else {
          [target, user] = [d, D];
          await join(d, roomId);
        }
        const bn = expectOk('ban', await a1.request('room.ban', { roomId, userId: user.userId }));
        const ev = await delivered(`ban ${label}`, 'member.banned', bn.position, [a1, a2, b, target], [e]);
        expect(ev.data).toMatchObject({ roomId, userId: user.userId, username: user.username, reason: '' });
      });
    }
  });

  // -------------------------------------------------------------------------------------------
  describe('room.update', () => {
    it('MembershipAck with the new settings; room.updated (every setting) to members; rules and limits', async () => {
      const roomId = rid('upd');
      await create(a1, { roomId, name: 'Update' });
      await join(b, roomId);
      await join(c, roomId);
      expectOk('b admin', await a1.request('room.setRole', { roomId, userId: B.userId, role: 'admin' }));
      expectErr('member updates', await c.request('room.update', { roomId, topic: 'x' }), 'FORBIDDEN');
      expectErr('outsider updates', await e.request('room.update', { roomId, topic: 'x' }), 'FORBIDDEN');
      const u = expectOk('update', await b.request('room.update', { roomId, topic: 'ｔopic', name: 'Updated' }));
      expectMembershipAck('room.update', u);
      expect(u.room).toEqual({
        roomId,
        name: 'Updated',
        topic: 'topic',
        visibility: 'public',
        postPolicy: 'members',
        memberLimit: 50,
        slowModeSeconds: 0,
        memberCount: 3,
        myRole: 'admin',
      });
      const ev = await delivered('update', 'room.updated', u.position, [a1, a2, b, c], [e]);
      expectFields('room.updated', ev.data, {
        roomId: 'string',
        ...roomSettingsFields,
        by: 'object',
        time: 'time',
      });
      expect(ev.data).toMatchObject({
        roomId,
        name: 'Updated',
        topic: 'topic',
        visibility: 'public',
        postPolicy: 'members',
        memberLimit: 50,
        slowModeSeconds: 0,
      });
      expectUser('room.updated.by', ev.data.by, B);
      // a request that changes nothing appends nothing and tells nobody; the reply carries the current position
      const same = expectOk('no change', await a1.request('room.update', { roomId }));
      expect(same.position).toBe(u.position);
      expect({ ...same.room, myRole: null }).toEqual({ ...u.room, myRole: null });
      // postPolicy admins: plain members refused, admins post
      const pa = expectOk('admins only', await a1.request('room.update', { roomId, postPolicy: 'admins' }));
      await delivered('admins', 'room.updated', pa.position, [c]);
      expectErr('member posts', await c.request('message.send', { roomId, clientMsgId: 'u1', body: 'x' }), 'FORBIDDEN');
      expectOk('admin posts', await b.request('message.send', { roomId, clientMsgId: 'u2', body: 'announcement' }));
      // memberLimit below the count keeps everyone, admits nobody
      const lim = expectOk('limit 2', await a1.request('room.update', { roomId, memberLimit: 2, postPolicy: 'members' }));
      expect(lim.room).toMatchObject({ memberLimit: 2, memberCount: 3 });
      expectErr('join when over the limit', await d.request('room.join', { roomId }), 'ROOM_FULL');
      expectErr('invite when over the limit', await a1.request('room.invite', { roomId, username: 'Dave' }), 'ROOM_FULL');
      expectOk('member still posts', await c.request('message.send', { roomId, clientMsgId: 'u3', body: 'still here' }));
      // private: hidden from non-members at once, out of the directory; pending invitations stay valid
      expectOk('limit back to 50', await a1.request('room.update', { roomId, memberLimit: 50 }));
      const pinv = expectOk('invite gina', await a1.request('room.invite', { roomId, username: 'Gina' }));
      await delivered('invite gina', 'invitation.received', pinv.position, [g]);
      const pv = expectOk('private', await a1.request('room.update', { roomId, visibility: 'private', memberLimit: 50 }));
      expect(pv.room.visibility).toBe('private');
      expectHidden('details when private', await e.request('room.details', { roomId }), roomId);
      expect(expectOk('invitee details', await g.request('room.details', { roomId }))).toMatchObject({
        roomId,
        visibility: 'private',
        myRole: null,
      });
      const gacc = expectOk('invitee accepts', await g.request('invitation.accept', { roomId }));
      expect(gacc.room).toMatchObject({ roomId, myRole: 'member', visibility: 'private' });
      const dir = expectOk('directory', await e.request('room.directory', { query: 'Updated' }));
      expect(dir.rooms.map((r: any) => r.roomId)).not.toContain(roomId);
      expectHidden('outsider update now', await e.request('room.update', { roomId, topic: 'x' }), roomId);
      const pb = expectOk('public again', await a1.request('room.update', { roomId, visibility: 'public' }));
      expect(pb.room.visibility).toBe('public');
      const dir2 = expectOk('directory', await e.request('room.directory', { query: 'Updated' }));
      expect(dir2.rooms.map((r: any) => r.roomId)).toContain(roomId);
      for (const [where, data, field] of [
        ['empty name', { roomId, name: '' }, 'data.name'],
        ['name of 81', { roomId, name: 'n'.repeat(81) }, 'data.name'],
        ['name with a line break', { roomId, name: 'a\nb' }, 'data.name'],
        ['topic of 301', { roomId, topic: 't'.repeat(301) }, 'data.topic'],
        ['memberLimit 1', { roomId, memberLimit: 1 }, 'data.memberLimit'],
        ['memberLimit 100001', { roomId, memberLimit: 100001 }, 'data.memberLimit'],
        ['slowModeSeconds -1', { roomId, slowModeSeconds: -1 }, 'data.slowModeSeconds'],
        ['slowModeSeconds 21601', { roomId, slowModeSeconds: 21601 }, 'data.slowModeSeconds'],
        ['visibility', { roomId, visibility: 'hidden' }, 'data.visibility'],
        ['postPolicy', { roomId, postPolicy: 'nobody' }, 'data.postPolicy'],
        ['unknown', { roomId, owner: 'x' }, 'data.owner'],
      ] as [string, Record<string, unknown>, string][])
        expectErr(`room.update ${where}`, await a1.request('room.update', data), 'BAD_REQUEST', field);
    });

    it('slowModeSeconds: room.updated carries it; a plain member posting again sooner is RATE_LIMITED with retryAfterMs; admins exempt; 0 is off', async () => {
      const roomId = rid('slow');
      await create(a1, { roomId, name: 'Slow' });
      await join(c, roomId);
      const u = expectOk('slow 30', await a1.request('room.update', { roomId, slowModeSeconds: 30 }));
      expect(u.room).toMatchObject({ slowModeSeconds: 30 });
      const ev = await delivered('slow', 'room.updated', u.position, [c]);
      expect(ev.data).toMatchObject({ roomId, slowModeSeconds: 30 });
      const first = expectOk('c sends', await c.request('message.send', { roomId, clientMsgId: 'sm1', body: 'one' }));
      const refused = await c.request('message.send', { roomId, clientMsgId: 'sm2', body: 'two' });
      expectErr('c sends again', refused, 'RATE_LIMITED');
      expect(refused.error!.message).toMatch(/^slow mode: one message per 30 s in "[^"]+"; wait \d+ s; retryAfterMs=\d+$/);
      const again = expectOk('c resends sm1', await c.request('message.send', { roomId, clientMsgId: 'sm1', body: 'one' }));
      expect(again).toMatchObject({ messageId: first.messageId, duplicate: true });
      for (const id of ['so1', 'so2']) expectOk(`owner ${id}`, await a1.request('message.send', { roomId, clientMsgId: id, body: id }));
      expectOk('off', await a1.request('room.update', { roomId, slowModeSeconds: 0 }));
      expectOk('c sends when off', await c.request('message.send', { roomId, clientMsgId: 'sm3', body: 'three' }));
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('room.setRole, room.transfer, room.delete', () => {
    it('setRole: owner only; member.role to members; setting a role again is recorded; FORBIDDEN/NOT_MEMBER/BAD_REQUEST', async () => {
      const roomId = rid('role');
      await create(a1, { roomId, name: 'Role' });
      await join(b, roomId);
      await join(c, roomId);
      const r = expectOk('setRole', await a1.request('room.setRole', { roomId, userId: B.userId, role: 'admin' }));
      expectCommandAck('room.setRole', r, roomId);
      const ev = await delivered('setRole', 'member.role', r.position, [a1, a2, b, c], [d]);
      expectFields('member.role', ev.data, {
        roomId: 'string',
        userId: 'uuid',
        username: 'string',
        time: 'time',
        role: ['admin', 'member'],
        by: 'object',
      });
      expect(ev.data).toMatchObject({ roomId, userId: B.userId, username: 'Bob', role: 'admin' });
      expectUser('member.role.by', ev.data.by, A);
      const r2 = expectOk('again', await a1.request('room.setRole', { roomId, userId: B.userId, role: 'admin' }));
      await delivered('setRole again', 'member.role', r2.position, [a1, b, c]);
      expectErr('admin sets role', await b.request('room.setRole', { roomId, userId: C.userId, role: 'admin' }), 'FORBIDDEN');
      expectErr('member sets role', await c.request('room.setRole', { roomId, userId: C.userId, role: 'admin' }), 'FORBIDDEN');
      expectErr('role of the owner', await a1.request('room.setRole', { roomId, userId: A.userId, role: 'member' }), 'FORBIDDEN');
      expectErr('non-member target', await a1.request('room.setRole', { roomId, userId: D.userId, role: 'admin' }), 'NOT_MEMBER');
      expectErr('role owner', await a1.request('room.setRole', { roomId, userId: B.userId, role: 'owner' }), 'BAD_REQUEST', 'data.role');
      const back = expectOk('back to member', await a1.request('room.setRole', { roomId, userId: B.userId, role: 'member' }));
      const ev3 = await delivered('demote', 'member.role', back.position, [b]);
      expect(ev3.data.role).toBe('member');
    });

    it('transfer: room.owner (new owner, previous, by) to members; old owner becomes admin; FORBIDDEN/NOT_MEMBER/BAD_REQUEST', async () => {
      const roomId = rid('xfer');
      await create(a1, { roomId, name: 'Transfer' });
      await join(b, roomId);
      await join(c, roomId);
      expectErr('member transfers', await b.request('room.transfer', { roomId, userId: B.userId }), 'FORBIDDEN');
      expectErr('to self', await a1.request('room.transfer', { roomId, userId: A.userId }), 'BAD_REQUEST');
      expectErr('to non-member', await a1.request('room.transfer', { roomId, userId: D.userId }), 'NOT_MEMBER');
      const t = expectOk('transfer', await a1.request('room.transfer', { roomId, userId: B.userId }));
      expectCommandAck('room.transfer', t, roomId);
      const ev = await delivered('transfer', 'room.owner', t.position, [a1, a2, b, c], [d]);
      expectFields('room.owner', ev.data, {
        roomId: 'string',
        userId: 'uuid',
        username: 'string',
        time: 'time',
        previous: 'object',
        by: 'object',
      });
      expect(ev.data).toMatchObject({ roomId, userId: B.userId, username: 'Bob' });
      expectUser('room.owner.previous', ev.data.previous, A);
      expectUser('room.owner.by', ev.data.by, A);
      const mem = expectOk('members', await c.request('room.members', { roomId }));
      expect(mem.members.map((m: any) => [m.username, m.role])).toEqual([
        ['Bob', 'owner'],
        ['Alice', 'admin'],
        ['Carol', 'member'],
      ]);
      expectUser('details.owner', expectOk('details', await c.request('room.details', { roomId })).owner, B);
      expectErr('old owner (admin) transfers', await a1.request('room.transfer', { roomId, userId: C.userId }), 'FORBIDDEN');
      expectErr('old owner (admin) sets roles', await a1.request('room.setRole', { roomId, userId: C.userId, role: 'admin' }), 'FORBIDDEN');
      expectErr('old owner (admin) deletes', await a1.request('room.delete', { roomId }), 'FORBIDDEN');
    });

    it('delete: owner only; room.deleted (reason "owner") to members; then NOT_FOUND everywhere, invitations end silently, id never reused', async () => {
      const roomId = rid('del');
      await create(a1, { roomId, name: 'Delete' });
      await join(b, roomId);
      await join(c, roomId);
      expectOk('b admin', await a1.request('room.setRole', { roomId, userId: B.userId, role: 'admin' }));
      const inv = expectOk('invite', await a1.request('room.invite', { roomId, username: 'Gina' }));
      await delivered('invite', 'invitation.received', inv.position, [g]);
      expectErr('admin deletes', await b.request('room.delete', { roomId }), 'FORBIDDEN');
      expectErr('member deletes', await c.request('room.delete', { roomId }), 'FORBIDDEN');
      expectErr('outsider deletes (public)', await e.request('room.delete', { roomId }), 'FORBIDDEN');
      const del = expectOk('delete', await a1.request('room.delete', { roomId }));
      expectCommandAck('room.delete', del, roomId);
      const ev = await delivered('delete', 'room.deleted', del.position, [a1, a2, b, c], [g, e]);
      expect(ev.data).toMatchObject({ roomId, reason: 'owner' });
      expectUser('room.deleted.by', ev.data.by, A);
      expectHidden('details after delete', await b.request('room.details', { roomId }), roomId);
      expectHidden('history after delete', await b.request('history.page', { roomId }), roomId);
      expectHidden('send after delete', await b.request('message.send', { roomId, clientMsgId: 'd1', body: 'x' }), roomId);
      expectHidden('join after delete', await e.request('room.join', { roomId }), roomId);
      expectHidden('invitee accepts after delete', await g.request('invitation.accept', { roomId }), roomId);
      expect(expectOk('list', await g.request('invitation.list')).invitations.map((i: any) => i.roomId)).not.toContain(roomId);
      expectErr('id reused', await e.request('room.create', { roomId, name: 'Again' }), 'CONFLICT');
      expect(expectOk('mine', await b.request('room.mine')).rooms.map((r: any) => r.roomId)).not.toContain(roomId);
    });

    it('ROOM_FULL for join, invite and accepting an invitation', async () => {
      const roomId = rid('full');
      await create(a1, { roomId, name: 'Full', memberLimit: 3 });
      const inv = expectOk('invite', await a1.request('room.invite', { roomId, username: 'Dave' }));
      await delivered('invite', 'invitation.received', inv.position, [d]);
      await join(b, roomId);
      await join(c, roomId);
      expectErr('join full', await e.request('room.join', { roomId }), 'ROOM_FULL');
      expectErr('invite when full', await a1.request('room.invite', { roomId, username: 'Eve' }), 'ROOM_FULL');
      expectErr('accept when full', await d.request('invitation.accept', { roomId }), 'ROOM_FULL');
      // room.join checks, in the documented order: NOT_FOUND, BANNED, ALREADY_MEMBER, ROOM_FULL
      expectErr('member joins a full room', await c.request('room.join', { roomId }), 'ALREADY_MEMBER');
      expectOk('ban eve', await a1.request('room.ban', { roomId, userId: E.userId }));
      expectErr('banned joins a full room', await e.request('room.join', { roomId }), 'BANNED');
      expect(expectOk('details', await e.request('room.details', { roomId }))).toMatchObject({ memberLimit: 3, memberCount: 3 });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('private conversations', () => {
    let dmId: string;
    let first: any;

    it('dm.send: conversation.opened to both users on every gateway, then message.posted to both; the id is dm-<sha256>', async () => {
      const ack = expectOk('dm.send', await a1.request('dm.send', { username: 'FRANK', clientMsgId: 'd-1', body: 'hi Frank' }));
      expectPostAck('dm.send', ack);
      first = ack;
      dmId = ack.roomId;
      expect(dmId).toMatch(DM_ID);
      expect(dmId).toBe(directRoomId(A.userId, F.userId));
      expect({ clientMsgId: ack.clientMsgId, duplicate: ack.duplicate }).toEqual({ clientMsgId: 'd-1', duplicate: false });
      // conversation.opened: both users, not anyone else
      const opened = await eventually(() => a1.events.find((x) => x.event === 'conversation.opened' && x.data.roomId === dmId), 8000);
      expect(opened.position).toBeLessThan(ack.position);
      const oa = await delivered('opened', 'conversation.opened', opened.position, [a1, a2, f], [b, c, g]);
      expectFields('conversation.opened', oa.data, { roomId: 'string', peer: 'object', time: 'time' });
      expectUser('conversation.opened.peer (Alice)', a2.events.find((x) => x.position === opened.position)!.data.peer, F);
      expectUser('conversation.opened.peer (Frank)', f.events.find((x) => x.position === opened.position)!.data.peer, A);
      const mp = await delivered('dm posted', 'message.posted', ack.position, [a1, a2, f], [b, c, g]);
      expectMessageView('message.posted', mp.data);
      expect(mp.data).toEqual({
        messageId: ack.messageId,
        roomId: dmId,
        senderId: A.userId,
        senderName: 'Alice',
        clientMsgId: 'd-1',
        body: 'hi Frank',
        // MessageView (Shapes): not a reply, no mentions; as posted: never edited, not deleted, no reactions
        replyTo: null,
        mentions: [],
        html: '<p>hi Frank</p>',
        time: ack.time,
        position: ack.position,
        editedAt: null,
        deleted: null,
        reactions: [],
      });
      // on each connection, opened before the message
      for (const cl of [a1, a2, f]) {
        const i1 = cl.events.findIndex((x) => x.position === opened.position);
        const i2 = cl.events.findIndex((x) => x.position === ack.position);
        expect(i1).toBeLessThan(i2);
      }
    });

    it('later messages: dm.send or message.send (NFC-stored); shared idempotency; history.page; details and members for participants', async () => {
      const r1 = expectOk(
        'reply by message.send',
        await f.request('message.send', { roomId: dmId, clientMsgId: 'f-1', body: 'Cafe\u0301' }),
      );
      expectPostAck('message.send (dm)', r1);
      const p1 = await delivered('reply', 'message.posted', r1.position, [a1, a2, f], [b]);
      expect(p1.data.body).toBe('Caf\u00e9');
      const r2 = expectOk('dm.send again', await a1.request('dm.send', { username: 'frank', clientMsgId: 'd-2', body: 'second' }));
      expect(r2.roomId).toBe(dmId);
      await delivered('second', 'message.posted', r2.position, [a1, f]);
      // no second conversation.opened
      expect(f.events.filter((x) => x.event === 'conversation.opened' && x.data.roomId === dmId).length).toBe(1);
      // idempotency across dm.send and message.send
      const dup = expectOk('dup via message.send', await a1.request('message.send', { roomId: dmId, clientMsgId: 'd-2', body: 'changed' }));
      expect(dup).toEqual({ ...r2, duplicate: true });
      const dup2 = expectOk('dup via dm.send', await a1.request('dm.send', { username: 'Frank', clientMsgId: 'd-1', body: 'changed' }));
      expect(dup2).toEqual({ ...first, duplicate: true });
      await sleep(500);
      expect(f.events.filter((x) => x.event === 'message.posted' && x.data.clientMsgId === 'd-2').length).toBe(1);
      // history
      const h = expectOk('history', await f.request('history.page', { roomId: dmId }));
      expectFields('HistoryPage', h, {
        roomId: 'string',
        messages: 'array',
        nextBefore: 'integerOrNull',
        nextAfter: 'integerOrNull',
        anchor: 'integerOrNull',
      });
      h.messages.forEach((m: any, i: number) => expectMessageView(`history[${i}]`, m));
      expect({ roomId: h.roomId, bodies: h.messages.map((m: any) => m.body), nextBefore: h.nextBefore }).toEqual({
        roomId: dmId,
        bodies: ['second', 'Caf\u00e9', 'hi Frank'],
        nextBefore: null,
      });
      const h1 = expectOk('history page 1', await a1.request('history.page', { roomId: dmId, limit: 2 }));
      expect({ n: h1.messages.length, nextBefore: h1.nextBefore }).toEqual({ n: 2, nextBefore: r1.position });
      const h2 = expectOk('history page 2', await a1.request('history.page', { roomId: dmId, before: h1.nextBefore }));
      expect({ ids: h2.messages.map((m: any) => m.messageId), nextBefore: h2.nextBefore }).toEqual({
        ids: [first.messageId],
        nextBefore: null,
      });
      // details and members
      const det = expectOk('details', await f.request('room.details', { roomId: dmId }));
      expectRoomDetails('RoomDetails (conversation)', det);
      expect(det).toMatchObject({ roomId: dmId, visibility: 'private', memberLimit: 2, owner: null, createdBy: null, isDefault: false });
      expect([`Alice, Frank`, `Frank, Alice`]).toContain(det.name);
      const mem = expectOk('members', await a1.request('room.members', { roomId: dmId }));
      expect(mem.members.map((m: any) => [m.userId, m.role]).sort()).toEqual(
        [
          [A.userId, 'member'],
          [F.userId, 'member'],
        ].sort(),
      );
      expect({ total: mem.total, nextOffset: mem.nextOffset }).toEqual({ total: 2, nextOffset: null });
    });

    it('private: NOT_FOUND for others whatever the op; participants cannot join/leave/invite/manage it; never listed with rooms', async () => {
      for (const [op, data] of [
        ['room.details', { roomId: dmId }],
        ['room.members', { roomId: dmId }],
        ['history.page', { roomId: dmId }],
        ['message.send', { roomId: dmId, clientMsgId: 'x-1', body: 'x' }],
        ['room.join', { roomId: dmId }],
      ] as [string, Record<string, unknown>][])
        expectHidden(`outsider ${op}`, await b.request(op, data), dmId);
      for (const [op, data] of [
        ['room.join', { roomId: dmId }],
        ['room.leave', { roomId: dmId }],
        ['room.invite', { roomId: dmId, username: 'Bob' }],
        ['invitation.accept', { roomId: dmId }],
        ['invitation.decline', { roomId: dmId }],
        ['room.bans', { roomId: dmId }],
        ['room.kick', { roomId: dmId, userId: F.userId }],
        ['room.ban', { roomId: dmId, userId: F.userId }],
        ['room.unban', { roomId: dmId, userId: F.userId }],
        ['room.update', { roomId: dmId, topic: 'x' }],
        ['room.setRole', { roomId: dmId, userId: F.userId, role: 'admin' }],
        ['room.transfer', { roomId: dmId, userId: F.userId }],
        ['room.delete', { roomId: dmId }],
      ] as [string, Record<string, unknown>][])
        expectHidden(`participant ${op}`, await a1.request(op, data), dmId);
      for (const op of ['rooms.list', 'room.mine', 'room.directory']) {
        const r = expectOk(op, await a1.request(op));
        expect({ op, dms: r.rooms.filter((x: any) => x.roomId.startsWith('dm-')) }).toEqual({ op, dms: [] });
      }
      // a conversation never opened
      const never = directRoomId(B.userId, C.userId);
      expectHidden(
        'message.send to an unopened conversation',
        await b.request('message.send', { roomId: never, clientMsgId: 'n-1', body: 'x' }),
        never,
      );
    });

    it('a user offline when a conversation opens finds it in dm.list and history.page on their next connection', async () => {
      const H = await account('Hana');
      const ack = expectOk(
        'dm to offline',
        await a1.request('dm.send', { username: 'hana', clientMsgId: 'off-1', body: 'are you there?' }),
      );
      await delivered('dm offline', 'message.posted', ack.position, [a1, a2]);
      const h = await authed(H, ws2);
      const l = await eventually(async () => {
        const r = expectOk('dm.list', await h.request('dm.list'));
        return r.conversations.length ? r : undefined;
      }, 8000);
      expect(l.conversations.map((cv: any) => [cv.roomId, cv.peer.userId, cv.lastMessage?.messageId])).toEqual([
        [ack.roomId, A.userId, ack.messageId],
      ]);
      const hist = expectOk('history', await h.request('history.page', { roomId: ack.roomId }));
      expect(hist.messages.map((m: any) => m.messageId)).toEqual([ack.messageId]);
      // nothing is replayed on connect
      await sleep(300);
      expect(h.events.filter((x) => x.event !== 'presence.changed')).toEqual([]);
    });

    it('dm.list: conversations with a message, newest first, with peer and lastMessage', async () => {
      const gack = expectOk('dm to gina', await f.request('dm.send', { username: 'Gina', clientMsgId: 'g-1', body: 'hello Gina' }));
      await delivered('dm gina', 'message.posted', gack.position, [f, g], [a1]);
      const list = await eventually(async () => {
        const l = expectOk('dm.list', await f.request('dm.list'));
        return l.conversations.length === 2 && l.conversations[0].lastMessage?.messageId === gack.messageId ? l : undefined;
      }, 8000).catch(() => undefined);
      const l = list ?? expectOk('dm.list', await f.request('dm.list'));
      expectFields('dm.list', l, { conversations: 'array' });
      l.conversations.forEach((cv: any, i: number) => {
        expectFields(`ConversationView[${i}]`, cv, { roomId: 'string', peer: 'object', lastMessage: 'object' });
        expectMessageView(`ConversationView[${i}].lastMessage`, cv.lastMessage);
      });
      expect(l.conversations.map((cv: any) => [cv.roomId, cv.peer.username, cv.lastMessage.body])).toEqual([
        [gack.roomId, 'Gina', 'hello Gina'],
        [dmId, 'Alice', 'second'],
      ]);
      expectUser('peer', l.conversations[1].peer, A);
      expectErr('dm.list with data', await f.request('dm.list', { x: 1 }), 'BAD_REQUEST', 'data.x');
    });

    it('dm.send errors: unknown user NOT_FOUND, oneself BAD_REQUEST, and every field limit', async () => {
      expectErr('unknown user', await a1.request('dm.send', { username: 'nobody-here', clientMsgId: 'e-1', body: 'x' }), 'NOT_FOUND');
      expectErr('to oneself', await a1.request('dm.send', { username: 'alice', clientMsgId: 'e-2', body: 'x' }), 'BAD_REQUEST');
      expectOk('body of 4000 emoji', await a1.request('dm.send', { username: 'Frank', clientMsgId: 'e-3', body: '😀'.repeat(4000) }));
      expectOk('clientMsgId of 64', await a1.request('dm.send', { username: 'Frank', clientMsgId: 'A'.repeat(64), body: 'x' }));
      for (const [where, data, field] of [
        ['empty username', { username: '', clientMsgId: 'e-4', body: 'x' }, 'data.username'],
        ['username of 129', { username: 'u'.repeat(129), clientMsgId: 'e-4', body: 'x' }, 'data.username'],
        ['empty body', { username: 'Frank', clientMsgId: 'e-4', body: '' }, 'data.body'],
        ['body of 4001', { username: 'Frank', clientMsgId: 'e-4', body: 'b'.repeat(4001) }, 'data.body'],
        ['clientMsgId with a space', { username: 'Frank', clientMsgId: 'e 4', body: 'x' }, 'data.clientMsgId'],
        ['clientMsgId of 65', { username: 'Frank', clientMsgId: 'c'.repeat(65), body: 'x' }, 'data.clientMsgId'],
        ['empty clientMsgId', { username: 'Frank', clientMsgId: '', body: 'x' }, 'data.clientMsgId'],
        ['unknown field', { username: 'Frank', clientMsgId: 'e-4', body: 'x', roomId: dmId }, 'data.roomId'],
      ] as [string, Record<string, unknown>, string][])
        expectErr(`dm.send ${where}`, await a1.request('dm.send', data), 'BAD_REQUEST', field);
      for (const [where, data, field] of [
        ['empty body', { roomId: dmId, clientMsgId: 'e-5', body: '' }, 'data.body'],
        ['body of 4001', { roomId: dmId, clientMsgId: 'e-5', body: 'b'.repeat(4001) }, 'data.body'],
        ['bad clientMsgId', { roomId: dmId, clientMsgId: 'é', body: 'x' }, 'data.clientMsgId'],
        ['bad roomId', { roomId: 'DM-X', clientMsgId: 'e-5', body: 'x' }, 'data.roomId'],
      ] as [string, Record<string, unknown>, string][])
        expectErr(`message.send ${where}`, await a1.request('message.send', data), 'BAD_REQUEST', field);
      expectOk('before 2^53-1', await a1.request('history.page', { roomId: dmId, before: 9007199254740991, limit: 100 }));
      for (const [where, data, field] of [
        ['limit 0', { roomId: dmId, limit: 0 }, 'data.limit'],
        ['limit 101', { roomId: dmId, limit: 101 }, 'data.limit'],
        ['limit "5"', { roomId: dmId, limit: '5' }, 'data.limit'],
        ['before 0', { roomId: dmId, before: 0 }, 'data.before'],
        ['before 1.5', { roomId: dmId, before: 1.5 }, 'data.before'],
        ['before 2^53', { roomId: dmId, before: 9007199254740992 }, 'data.before'],
      ] as [string, Record<string, unknown>, string][])
        expectErr(`history.page ${where}`, await a1.request('history.page', data), 'BAD_REQUEST', field);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('blocking', () => {
    it('user.block: CommandAck with the conversation id; user.blocked to the blocker only; BLOCKED both ways; invite refused; silent', async () => {
      const dmId = directRoomId(A.userId, F.userId);
      const bl = expectOk('block', await f.request('user.block', { userId: A.userId }));
      expectCommandAck('user.block', bl, dmId);
      const ev = await delivered('blocked', 'user.blocked', bl.position, [f], [a1, a2, b]);
      expectFields('user.blocked', ev.data, { roomId: 'string', userId: 'uuid', time: 'time' });
      expect(ev.data).toEqual({ roomId: dmId, userId: A.userId, time: expect.any(String) });
      const blocks = expectOk('user.blocks', await f.request('user.blocks'));
      expectFields('user.blocks', blocks, { blocks: 'array' });
      blocks.blocks.forEach((x: any, i: number) =>
        expectFields(`BlockView[${i}]`, x, { userId: 'uuid', username: 'string', time: 'time' }),
      );
      expect(blocks.blocks.map((x: any) => [x.userId, x.username])).toEqual([[A.userId, 'Alice']]);
      expect(expectOk('blocks of the blocked', await a1.request('user.blocks')).blocks).toEqual([]);
      expectErr('blocked dm.send', await a1.request('dm.send', { username: 'Frank', clientMsgId: 'bk-1', body: 'x' }), 'BLOCKED');
      expectErr('blocked message.send', await a1.request('message.send', { roomId: dmId, clientMsgId: 'bk-2', body: 'x' }), 'BLOCKED');
      expectErr('blocker dm.send', await f.request('dm.send', { username: 'Alice', clientMsgId: 'bk-3', body: 'x' }), 'BLOCKED');
      expectErr('blocker message.send', await f.request('message.send', { roomId: dmId, clientMsgId: 'bk-4', body: 'x' }), 'BLOCKED');
      // a retry of an accepted clientMsgId is answered as a duplicate before the block is checked
      const dup = expectOk('retry while blocked', await a1.request('message.send', { roomId: dmId, clientMsgId: 'd-1', body: 'x' }));
      expect({ duplicate: dup.duplicate, roomId: dup.roomId }).toEqual({ duplicate: true, roomId: dmId });
      // the blocked user cannot invite the blocker
      const roomId = rid('blk');
      await create(a1, { roomId, name: 'Block invite', visibility: 'private' });
      expectErr('blocked invites blocker', await a1.request('room.invite', { roomId, username: 'Frank' }), 'BLOCKED');
      // the blocker may still invite the blocked (only one direction is refused)
      const room2 = rid('blk');
      await create(f, { roomId: room2, name: 'Blocker invites' });
      const inv = expectOk('blocker invites blocked', await f.request('room.invite', { roomId: room2, username: 'Alice' }));
      // the invitee's every connection, on both gateways
      const ir = await delivered('invitation to Alice', 'invitation.received', inv.position, [a1, a2], [b]);
      expect(ir.data).toMatchObject({ roomId: room2, roomName: 'Blocker invites' });
      expectUser('invitedBy', ir.data.invitedBy, F);
      // blocking again: no event, position of the conversation's latest event
      const again = expectOk('block again', await f.request('user.block', { userId: A.userId }));
      expect(again).toEqual({ roomId: dmId, position: bl.position });
      await notDelivered('no event for a repeated block', again.position, []);
      expect(f.events.filter((x) => x.event === 'user.blocked').length).toBe(1);
      // history still readable
      expectOk('history while blocked', await a1.request('history.page', { roomId: dmId }));
      // unblock
      const ub = expectOk('unblock', await f.request('user.unblock', { userId: A.userId }));
      expectCommandAck('user.unblock', ub, dmId);
      const uev = await delivered('unblocked', 'user.unblocked', ub.position, [f], [a1, a2]);
      expectFields('user.unblocked', uev.data, { roomId: 'string', userId: 'uuid', time: 'time' });
      expect(uev.data).toEqual({ roomId: dmId, userId: A.userId, time: expect.any(String) });
      expect(expectOk('blocks', await f.request('user.blocks')).blocks).toEqual([]);
      const ok = expectOk('dm after unblock', await a1.request('dm.send', { username: 'Frank', clientMsgId: 'bk-5', body: 'back' }));
      await delivered('dm after unblock', 'message.posted', ok.position, [a1, f]);
      const n = f.events.length;
      expectOk('unblock again', await f.request('user.unblock', { userId: A.userId }));
      await sleep(500);
      expect(f.events.slice(n).filter((x) => x.event === 'user.unblocked')).toEqual([]);
    });

    it('blocking someone never written to opens the conversation for the blocker only, not listed; a block by the other side stays; errors', async () => {
      const dmId = directRoomId(B.userId, G.userId);
      const bl = expectOk('block', await g.request('user.block', { userId: B.userId }));
      expectCommandAck('user.block', bl, dmId);
      const opened = await eventually(() => g.events.find((x) => x.event === 'conversation.opened' && x.data.roomId === dmId), 8000);
      expectUser('opened.peer', opened.data.peer, B);
      await delivered('blocked', 'user.blocked', bl.position, [g], [b]);
      await notDelivered('no conversation.opened for the blocked', opened.position, [b]);
      expect(expectOk('dm.list', await g.request('dm.list')).conversations.map((x: any) => x.roomId)).not.toContain(dmId);
      // both block; one unblock leaves the other block in force
      expectOk('b blocks g', await b.request('user.block', { userId: G.userId }));
      expectOk('g unblocks b', await g.request('user.unblock', { userId: B.userId }));
      expectErr('still blocked by Bob', await g.request('dm.send', { username: 'Bob', clientMsgId: 'x-1', body: 'x' }), 'BLOCKED');
      expectOk('b unblocks', await b.request('user.unblock', { userId: G.userId }));
      // user.blocks oldest first
      expectOk('g blocks c', await g.request('user.block', { userId: C.userId }));
      expectOk('g blocks d', await g.request('user.block', { userId: D.userId }));
      expect(expectOk('blocks', await g.request('user.blocks')).blocks.map((x: any) => x.username)).toEqual(['Carol', 'Dave']);
      expectErr('block oneself', await g.request('user.block', { userId: G.userId }), 'BAD_REQUEST');
      expectErr('unblock oneself', await g.request('user.unblock', { userId: G.userId }), 'BAD_REQUEST');
      expectErr('block unknown', await g.request('user.block', { userId: '00000000-0000-4000-8000-000000000001' }), 'NOT_FOUND');
      expectErr('unblock unknown', await g.request('user.unblock', { userId: '00000000-0000-4000-8000-000000000001' }), 'NOT_FOUND');
      expectErr('block bad uuid', await g.request('user.block', { userId: 'bob' }), 'BAD_REQUEST', 'data.userId');
      expectErr('user.blocks with data', await g.request('user.blocks', { userId: B.userId }), 'BAD_REQUEST', 'data.userId');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('messages and history in a group room', () => {
    it('message.send to a room: members get message.posted on both gateways; history.page newest first; NOT_MEMBER, FORBIDDEN for outsiders of a public room', async () => {
      const roomId = rid('msg');
      await create(a1, { roomId, name: 'Messages' });
      await join(b, roomId);
      const acks: any[] = [];
      for (let i = 1; i <= 3; i++)
        acks.push(expectOk('send', await b.request('message.send', { roomId, clientMsgId: `m-${i}`, body: `m ${i}` })));
      for (const ack of acks) await delivered('posted', 'message.posted', ack.position, [a1, a2, b], [c]);
      expectErr('outsider sends', await c.request('message.send', { roomId, clientMsgId: 'o-1', body: 'x' }), 'NOT_MEMBER');
      expectErr('outsider reads', await c.request('history.page', { roomId }), 'FORBIDDEN');
      const h = expectOk('history', await a1.request('history.page', { roomId, limit: 2 }));
      expect({ p: h.messages.map((m: any) => m.position), nextBefore: h.nextBefore }).toEqual({
        p: [acks[2].position, acks[1].position],
        nextBefore: acks[1].position,
      });
      const h2 = expectOk('history 2', await a1.request('history.page', { roomId, limit: 2, before: h.nextBefore }));
      expect({ p: h2.messages.map((m: any) => m.position), nextBefore: h2.nextBefore }).toEqual({
        p: [acks[0].position],
        nextBefore: null,
      });
      // the checks run in order: a retry of an accepted clientMsgId is a duplicate first, even after leaving
      expectOk('leave', await b.request('room.leave', { roomId }));
      const dup = expectOk('retry after leaving', await b.request('message.send', { roomId, clientMsgId: 'm-1', body: 'again' }));
      expect(dup).toEqual({ ...acks[0], duplicate: true });
      expectErr('new message after leaving', await b.request('message.send', { roomId, clientMsgId: 'm-9', body: 'x' }), 'NOT_MEMBER');
    });
  });
});
