import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { createSubjects } from '@chat/contracts';
import { connectNats } from '@chat/messaging';
import { startService, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { HEARTBEAT_INTERVAL_MAX_MS } from './presence/presence.input';
import { presenceService } from './service';
import { fakeGateway, fakeRooms, metric, presenceConfig } from './testing/presence-fixture';

jest.setTimeout(300_000);

/**
 * presence.list (server administrators: the online list of the whole server, issue 8) answers
 * every present user in one reply, with no bound or paging. With the issue's own scale (10,000
 * users online) the reply is larger than NATS's message size limit (1 MiB by default), so the
 * administrators' online list fails every time exactly when the server is busy.
 */
describe('presence service - presence.list with 10,000 users online', () => {
  const s = createSubjects(randomName());
  let svc: RunningService;
  let nc: NatsConnection;
  let roomSubs: Subscription[] = [];
  const ONLINE = 10_000;

  beforeAll(async () => {
    svc = await startService(presenceService(await presenceConfig(s.namespace)));
    nc = await connectNats({ servers: await testNatsUrl(), name: 'list-size-test' });
    // The fan-out asks the rooms service for each change: nobody shares a small room here.
    roomSubs = fakeRooms(nc, s, new Map());
    await nc.flush();
  });
  afterAll(async () => {
    for (const sub of roomSubs) sub.unsubscribe();
    await svc?.close();
    await nc?.drain();
    await deleteNamespace(s.namespace);
  });

  it('the administrator gets the list (all of it, or a bounded page), not a failure', async () => {
    // One beat announcing the longest interval allowed: the gateway stays alive for the whole
    // test (3 missed beats), however long a loaded machine takes to get through 10,000 arrivals
    // (with 5 s, all went offline again before the list was asked for, once in CI).
    const gw = fakeGateway(nc, s);
    const conns = Array.from({ length: ONLINE }, (_, i) => ({ connId: `c${i}`, userId: randomUUID(), username: `user${i}`, idle: false }));
    gw.heartbeat(HEARTBEAT_INTERVAL_MAX_MS, conns, 2000);
    await eventually(async () => (await metric(svc, 'presence_online_users')) === ONLINE, 90_000, 250);

    // `root` is the administrator of presenceConfig. Asked again while the answer is a timeout
    // (a loaded machine), never accepted while it is any other failure.
    const r = await eventually(
      async () => {
        const r = await svc.deps.rpc.call('presence.list', { userId: randomUUID(), username: 'root' }, { timeoutMs: 30_000 });
        return r.ok || r.error.code !== 'UNAVAILABLE' ? r : null;
      },
      90_000,
      250,
    );
    expect(r.ok ? { ok: true, some: r.data.users.length > 0 } : { ok: false, code: r.error.code }).toEqual({ ok: true, some: true });
  });
});
