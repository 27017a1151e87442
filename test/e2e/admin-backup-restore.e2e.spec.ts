import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect as connectNats, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { WebSocket } from 'ws';
import { ChatClient, ChatClientError, login, register, wsUrlOf } from '@chat/client';
import type { HistoryPage, MessageView } from '@chat/contracts';
import { deleteNamespace, eventually, randomName, testDatabaseUrl, testNatsUrl } from '@chat/testing';
import { collectLag } from '../../apps/admin/src/lag';
import { printLogsIfFailed, startTestStack, type TestStack } from './fixture';

jest.setTimeout(240_000);

const run = promisify(execFile);
const ADMIN = path.resolve(__dirname, '../../apps/admin/dist/main.js');

/** Runs the built admin tool against `namespace`; resolves its exit code and output (never rejects). */
async function admin(namespace: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [ADMIN, ...args], {
      env: { ...process.env, NATS_URL: await testNatsUrl(), NATS_NAMESPACE: namespace },
      timeout: 120_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const PASSWORDS: Record<string, string> = { amy: 'amy has a long password', ben: 'ben has a long password' };

async function connect(url: string, name: string): Promise<{ client: ChatClient; userId: string }> {
  const r = await login(url, name, PASSWORDS[name]);
  const client = await ChatClient.connect(wsUrlOf(url), { WebSocket, reconnect: false });
  await client.auth(r.accessToken);
  return { client, userId: r.user.userId };
}

/** Every message of the room, newest first, page by page (as a client scrolls back). */
async function wholeHistory(client: ChatClient, roomId: string): Promise<{ pages: HistoryPage[]; messages: MessageView[] }> {
  const pages: HistoryPage[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await client.request('history.page', { roomId, limit: 50, ...(before === undefined ? {} : { before }) });
    pages.push(page);
    if (page.nextBefore === null) break;
    before = page.nextBefore;
  }
  return { pages, messages: pages.flatMap((p) => p.messages) };
}

/**
 * Operations: a namespace with real traffic (rooms, messages, edits, reactions, a deletion,
 * read markers, sessions) is backed up by `admin backup` while it runs, restored by
 * `admin restore` into a fresh namespace, and a whole new stack started there with a fresh,
 * empty Postgres schema answers the same history, page by page, to the same accounts. Then the
 * account commands on the original deployment: disable-user and enable-user as the gateways see
 * them (login refused, then allowed), create-admin as moderation sees it (the administration role).
 */
describe('admin tool on a running deployment - a restore answers the same history; account commands reach the services', () => {
  let a: TestStack;
  let b: TestStack | undefined;
  const restoredNs = randomName('r');
  const restoredSchema = randomName('r');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-backup-'));
  const clients: ChatClient[] = [];
  const R = 'garden';
  const phases: string[] = [];
  let t0 = Date.now();
  const phase = (name: string) => {
    phases.push(`${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    t0 = Date.now();
  };

  let nc: NatsConnection;
  /** The lag command's figures (in process: the CLI runs the same function, and starts slowly on a loaded machine). */
  const lagOf = async (namespace: string) => collectLag(await jetstreamManager(nc), namespace);

  beforeAll(async () => {
    t0 = Date.now();
    nc = await connectNats({ servers: await testNatsUrl() });
    a = await startTestStack();
  });

  afterAll(async () => {
    process.stdout.write(`admin backup/restore phases:\n  ${phases.join('\n  ')}\n`);
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await nc?.close();
    await a?.teardown();
    await b?.teardown();
    await deleteNamespace(restoredNs, await testNatsUrl()).catch(() => undefined);
    const pg = new Client({ connectionString: await testDatabaseUrl() });
    await pg.connect();
    await pg.query(`DROP SCHEMA IF EXISTS "${restoredSchema}" CASCADE`);
    await pg.end();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    printLogsIfFailed(a, ['gateway', 'rooms', 'history']);
    printLogsIfFailed(b, ['gateway', 'rooms', 'history']);
  });

  it('backs up, refuses a non-empty target, restores at the same positions, and history there is the same', async () => {
    for (const name of ['amy', 'ben']) await register(a.urls.gateway, name, PASSWORDS[name]);
    const amy = await connect(a.urls.gateway, 'amy');
    const ben = await connect(a.urls.gateway, 'ben');
    clients.push(amy.client, ben.client);
    await amy.client.request('room.create', { roomId: R, name: 'Garden' });
    await ben.client.request('room.join', { roomId: R });
    for (const u of [amy, ben]) await u.client.request('room.join', { roomId: 'general' }).catch(() => undefined);

    phase('stack and accounts');
    const sent: string[] = [];
    for (let i = 0; i < 160; i += 10) {
      const acks = await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          (k % 3 === 0 ? ben : amy).client.request('message.send', {
            roomId: (i + k) % 5 === 0 ? 'general' : R,
            clientMsgId: `m-${i + k}`,
            body: `message ${i + k} 🌱 ünïcode`,
          }),
        ),
      );
      sent.push(...acks.map((a) => a.messageId));
    }
    // Edits, reactions and a deletion: events that change stored messages.
    for (let i = 1; i < 60; i += 7)
      if (i % 5 !== 0 && (i % 10) % 3 !== 0)
        await amy.client.request('message.edit', { roomId: R, messageId: sent[i], body: `edited ${i}` });
    for (let i = 2; i < 80; i += 9)
      if (i % 5 !== 0) await ben.client.request('reaction.add', { roomId: R, messageId: sent[i], emoji: '👍' });
    await amy.client.request('message.delete', { roomId: R, messageId: sent[4] });
    // Read markers (a KV bucket whose older revisions are removed: gaps in its positions).
    for (const position of [10, 20, 30, 40]) await ben.client.request('read.mark', { roomId: R, position });

    // History has projected every event of the CHAT stream (the edits, reactions and deletion too).
    await eventually(
      async () => {
        const lag = await lagOf(a.namespace);
        const stream = lag.streams.find((x) => x.stream === `${a.namespace.toUpperCase()}_CHAT`);
        const projector = lag.consumers.find((c) => c.consumer === `history-projector-${a.schema}`);
        return stream && projector && projector.ackFloor >= stream.lastSeq && projector.ackPending === 0;
      },
      60_000,
      500,
    );
    phase('traffic and projection');
    const before = await wholeHistory(ben.client, R);
    expect(before.messages.length).toBe(128);
    const generalBefore = await wholeHistory(ben.client, 'general');
    const readsBefore = await ben.client.request('read.state', {});

    // Backed up while the deployment runs.
    phase('history read');
    const backedUp = await admin(a.namespace, ['backup', '--to', dir]);
    expect(backedUp).toEqual(expect.objectContaining({ code: 0 }));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.namespace).toBe(a.namespace);
    const chat = manifest.streams.find((s: { name: string }) => s.name === `${a.namespace.toUpperCase()}_CHAT`);
    expect(chat.messages).toBe(chat.state.messages);
    expect(manifest.streams.map((s: { name: string }) => s.name)).toEqual(
      expect.arrayContaining([`KV_${a.namespace}_accounts`, `KV_${a.namespace}_reads`, `${a.namespace.toUpperCase()}_MODERATION`]),
    );

    // Into a namespace that is in use: refused, nothing changed.
    const refused = await admin(a.namespace, ['restore', '--from', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^admin: CONFLICT: the namespace ".*" is not empty/);

    phase('backup and refusal');
    const restored = await admin(restoredNs, ['restore', '--from', dir]);
    expect(restored).toEqual(expect.objectContaining({ code: 0 }));
    // Same positions as the original, stream by stream.
    const lagA = await lagOf(a.namespace);
    const lagB = await lagOf(restoredNs);
    const positions = (lag: { streams: Array<{ stream: string; messages: number; lastSeq: number }> }, ns: string) =>
      Object.fromEntries(lag.streams.map((s) => [s.stream.replace(ns.toUpperCase(), 'NS').replace(ns, 'ns'), [s.messages, s.lastSeq]]));
    const restoredPositions = positions(lagB, restoredNs);
    for (const s of manifest.streams)
      expect([s.name, restoredPositions[s.name.replace(a.namespace.toUpperCase(), 'NS').replace(a.namespace, 'ns')]]).toEqual([
        s.name,
        [s.state.messages, s.state.lastSeq],
      ]);
    expect(Object.keys(restoredPositions).sort()).toEqual(Object.keys(positions(lagA, a.namespace)).sort());

    // A whole stack on the restored namespace, with a fresh empty history schema.
    phase('restore and lag');
    b = await startTestStack({ env: { NATS_NAMESPACE: restoredNs, DATABASE_SCHEMA: restoredSchema } });
    const ben2 = await connect(b.urls.gateway, 'ben');
    clients.push(ben2.client);
    expect(ben2.userId).toBe(ben.userId);
    phase('restored stack');
    const after = await eventually(
      async () => {
        const h = await wholeHistory(ben2.client, R).catch((err) => {
          if (err instanceof ChatClientError && err.code === 'UNAVAILABLE') return null;
          throw err;
        });
        return h && h.messages.length === before.messages.length ? h : null;
      },
      90_000,
      500,
    );
    expect(after.pages).toEqual(before.pages);
    expect(await wholeHistory(ben2.client, 'general')).toEqual(generalBefore);
    expect(await ben2.client.request('read.state', {})).toEqual(readsBefore);

    // The restored deployment goes on from there: a new message lands after the old ones.
    phase('restored history');
    const next = await ben2.client.request('message.send', { roomId: R, clientMsgId: 'after-restore', body: 'after the restore' });
    expect(next.position).toBeGreaterThan(chat.state.lastSeq);
  });

  it('disable-user closes the account on every gateway until enable-user; create-admin gives the administration role', async () => {
    const refusedLogin = () =>
      login(a.urls.gateway, 'amy', PASSWORDS.amy).then(
        () => null,
        (err: unknown) => (err as ChatClientError).code,
      );
    expect(await admin(a.namespace, ['disable-user', 'amy', '--reason', 'operator test'])).toEqual(expect.objectContaining({ code: 0 }));
    expect(await eventually(refusedLogin, 30_000, 200)).toBe('SERVER_BANNED');
    const again = await admin(a.namespace, ['disable-user', 'amy']);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/^admin: CONFLICT: /)]);
    expect(await admin(a.namespace, ['enable-user', 'amy'])).toEqual(expect.objectContaining({ code: 0 }));
    await eventually(async () => (await refusedLogin()) === null, 30_000, 200);

    expect(await admin(a.namespace, ['create-admin', 'ben'])).toEqual(expect.objectContaining({ code: 0 }));
    const ben = await connect(a.urls.gateway, 'ben');
    clients.push(ben.client);
    const roles = await eventually(
      async () => {
        const r = await ben.client.request('mod.roles', {}).catch(() => null);
        return r && r.roles.some((x) => x.userId === ben.userId && x.role === 'admin') ? r : null;
      },
      30_000,
      200,
    );
    expect(roles.roles).toContainEqual(expect.objectContaining({ userId: ben.userId, role: 'admin' }));
    const unknown = await admin(a.namespace, ['create-admin', 'nobody']);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringMatching(/^admin: NOT_FOUND: /)]);
  });
});
