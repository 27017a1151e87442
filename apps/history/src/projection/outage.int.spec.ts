import net from 'node:net';
import { eventually, testDatabaseUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { metric, startHistory, type HistoryUnderTest, type Posted } from '../testing/history-fixture';

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
  let h: HistoryUnderTest;
  let outage: Outage;
  const reader = randomUUID();
  const post = (body: string) => h.f.post('outage', reader, body);
  const ready = async () => (await (await fetch(`${h.svc.url}/health/ready`)).json()) as { checks: Record<string, boolean> };

  beforeAll(async () => {
    const url = new URL(await testDatabaseUrl());
    outage = new Outage(url.hostname, Number(url.port || 5432));
    await outage.up();
    url.host = `127.0.0.1:${outage.port}`;
    h = await startHistory('ho', {
      DATABASE_URL: url.toString(),
      // Short limits, so the outage is noticed within the test's time.
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
      DATABASE_LOCK_TIMEOUT_MS: '1000',
    });
  });
  afterAll(async () => {
    await outage?.up().catch(() => undefined);
    await h?.close();
    await outage?.down();
  });

  it('events appended during the outage are all projected once it ends, none dead-lettered, none projected twice', async () => {
    await h.f.createRoom('outage', null);
    await h.f.join('outage', reader);
    const before = await post('before');
    await h.f.projected();
    const projectedBefore = await metric(h.svc, 'history_projected_events_total');

    await outage.down();
    const during: Posted[] = [];
    for (let i = 0; i < 30; i++) during.push(await post(`during ${i}`));
    // Paused: readiness says why, reads answer UNAVAILABLE, the checkpoint stays.
    await eventually(async () => (await ready()).checks.database === false, 15_000);
    const r = await h.svc.deps.rpc.call('history.page', { roomId: 'outage', userId: reader });
    expect(!r.ok && r.error.code).toBe('UNAVAILABLE');
    await new Promise((res) => setTimeout(res, 2000)); // several failed batches and retries
    expect(await h.f.checkpoint()).toBe(before.position);

    await outage.up();
    const lastPosition = during[during.length - 1].position;
    await eventually(async () => (await h.f.checkpoint()) >= lastPosition, 30_000);
    await eventually(async () => (await ready()).checks.database === true, 15_000);
    const page = await eventually(async () => {
      const res = await h.svc.deps.rpc.call('history.page', { roomId: 'outage', userId: reader, limit: 100 });
      return res.ok ? res.data : null;
    }, 15_000);
    expect(page.messages.map((m) => m.messageId)).toEqual(
      [...during]
        .reverse()
        .map((m) => m.messageId)
        .concat(before.messageId),
    );
    expect(await h.f.count('dead_letters')).toBe(0);
    expect(await h.f.count('messages')).toBe(31);
    expect(await metric(h.svc, 'history_projected_events_total')).toBe(projectedBefore + 30);
  });
});
