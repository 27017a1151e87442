import net from 'node:net';
import { Pool } from 'pg';
import { makeEvent, type EventContext, type MessagePosted, type Subjects } from '@chat/contracts';
import type { JetStreamAdapter } from '@chat/messaging';
import { loadConfig, startService, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { HistoryConfig } from '../config';
import { historyService } from '../service';
import { historyTestEnv } from '../testing/test-env';

/**
 * A TCP proxy in front of Postgres that the test can take down (every connection cut, new ones
 * refused) and bring back on the same port: a Postgres outage for one service only, without
 * stopping the server other tests share.
 */
class Outage {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(
    private readonly host: string,
    private readonly target: number,
  ) {}

  async up(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target, this.host);
      for (const sock of [client, upstream]) {
        this.sockets.add(sock);
        sock.on('close', () => this.sockets.delete(sock));
        sock.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const sock of this.sockets) sock.destroy();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  }
}

describe('history projection - a Postgres outage pauses the projection; it catches up afterwards, nothing dead-lettered', () => {
  const namespace = randomName();
  const schema = randomName('ho');
  let svc: RunningService;
  let pool: Pool;
  let s: Subjects;
  let js: JetStreamAdapter;
  let outage: Outage;
  const reader = randomUUID();
  const ctx = (): EventContext => ({
    now: () => new Date(),
    newId: randomUUID,
    actor: { kind: 'user', id: reader },
    correlationId: randomUUID(),
  });

  async function post(body: string): Promise<{ messageId: string; position: number }> {
    const ev = makeEvent<MessagePosted>(ctx(), 'MessagePosted', 2, {
      messageId: randomUUID(),
      roomId: 'outage',
      senderId: reader,
      senderName: 'rd',
      clientMsgId: body,
      body,
      replyTo: null,
      mentions: [],
    });
    const { seq } = await js.append(s.chat.roomMessages('outage'), ev, { msgId: ev.id });
    return { messageId: ev.payload.messageId, position: seq };
  }
  const count = async (table: string) => Number((await pool.query(`SELECT count(*) AS n FROM "${schema}".${table}`)).rows[0].n);
  const checkpoint = async () =>
    Number((await pool.query(`SELECT max(position) AS p FROM "${schema}".projection_checkpoints`)).rows[0].p ?? 0);
  const ready = async () => (await (await fetch(`${svc.url}/health/ready`)).json()) as { checks: Record<string, boolean> };
  const metric = async (name: string) => {
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };

  beforeAll(async () => {
    const url = new URL(await testDatabaseUrl());
    pool = new Pool({ connectionString: url.toString(), max: 2 });
    outage = new Outage(url.hostname, Number(url.port || 5432));
    await outage.up();
    url.host = `127.0.0.1:${outage.port}`;
    const env = await historyTestEnv(namespace, schema, {
      DATABASE_URL: url.toString(),
      // Short limits, so the outage is noticed within the test's time.
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
      DATABASE_LOCK_TIMEOUT_MS: '1000',
    });
    svc = await startService(historyService(loadConfig(HistoryConfig, env)));
    s = svc.deps.subjects;
    js = svc.deps.js;
  });
  afterAll(async () => {
    await outage?.up().catch(() => undefined);
    await svc?.close();
    await outage?.down();
    await deleteNamespace(namespace);
    await pool?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool?.end();
  });

  it('events appended during the outage are all projected once it ends, none dead-lettered, none projected twice', async () => {
    const created = makeEvent(ctx(), 'RoomCreated', 1, {
      roomId: 'outage',
      name: 'outage',
      topic: '',
      visibility: 'public',
      postPolicy: 'members',
      memberLimit: 10,
      ownerId: null,
      ownerName: null,
    });
    await js.append(s.chat.roomMeta('outage'), created, { msgId: created.id });
    const joined = makeEvent(ctx(), 'MemberJoined', 1, { roomId: 'outage', userId: reader, username: 'rd', role: 'member' });
    await js.append(s.chat.roomMeta('outage'), joined, { msgId: joined.id });
    const before = await post('before');
    await eventually(async () => (await checkpoint()) >= before.position);
    const projectedBefore = await metric('history_projected_events_total');

    await outage.down();
    const during: Array<{ messageId: string; position: number }> = [];
    for (let i = 0; i < 30; i++) during.push(await post(`during ${i}`));
    // Paused: readiness says why, reads answer UNAVAILABLE, the checkpoint stays.
    await eventually(async () => (await ready()).checks.database === false, 15_000);
    const r = await svc.deps.rpc.call('history.page', { roomId: 'outage', userId: reader });
    expect(!r.ok && r.error.code).toBe('UNAVAILABLE');
    await new Promise((res) => setTimeout(res, 2000)); // several failed batches and retries
    expect(await checkpoint()).toBe(before.position);

    await outage.up();
    const lastPosition = during[during.length - 1].position;
    await eventually(async () => (await checkpoint()) >= lastPosition, 30_000);
    await eventually(async () => (await ready()).checks.database === true, 15_000);
    const page = await eventually(async () => {
      const res = await svc.deps.rpc.call('history.page', { roomId: 'outage', userId: reader, limit: 100 });
      return res.ok ? res.data : null;
    }, 15_000);
    expect(page.messages.map((m) => m.messageId)).toEqual(
      [...during]
        .reverse()
        .map((m) => m.messageId)
        .concat(before.messageId),
    );
    expect(await count('dead_letters')).toBe(0);
    expect(await count('messages')).toBe(31);
    expect(await metric('history_projected_events_total')).toBe(projectedBefore + 30);
  });
});
