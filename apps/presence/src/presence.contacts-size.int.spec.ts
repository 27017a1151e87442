import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { createSubjects } from '@chat/contracts';
import { connectNats, decodeJson, encodeJson } from '@chat/messaging';
import { startService, type RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName, testNatsUrl } from '@chat/testing';
import { randomUUID } from 'node:crypto';
import { HEARTBEAT_INTERVAL_MAX_MS } from './presence/presence.input';
import { presenceService } from './service';
import { fakeGateway, metric, presenceConfig } from './testing/presence-fixture';

jest.setTimeout(300_000);

/**
 * presence.contacts answers every contact in one reply, with no bound. A user whose rooms within
 * the fan-out size (each at most PRESENCE_FANOUT_MAX_MEMBERS = 1000 members: e.g. a moderator of
 * a dozen rooms of 1000) reach some ten thousand people presence has seen gets a reply larger
 * than NATS's message size limit (1 MiB by default): the RPC fails every time, so that user's
 * client can never read its contacts' statuses after connecting.
 */
describe('presence service - presence.contacts for a user with many contacts', () => {
  const s = createSubjects(randomName());
  let svc: RunningService;
  let nc: NatsConnection;
  let sub: Subscription;
  const me = { userId: randomUUID(), username: 'many' };
  const CONTACTS = 12_000;
  const contacts = Array.from({ length: CONTACTS }, (_, i) => ({ userId: randomUUID(), username: `contact${i}` }));

  beforeAll(async () => {
    svc = await startService(presenceService(await presenceConfig(s.namespace)));
    nc = await connectNats({ servers: await testNatsUrl(), name: 'contacts-size-test' });
    // The rooms service's place: 12 rooms of 1000 members with `me` in each; everyone else in no small room.
    const ids = [me, ...contacts].map((u) => u.userId).sort();
    const roomIds = Array.from({ length: 12 }, (_, i) => `big-${i}`);
    sub = nc.subscribe(s.rpc('rooms.presenceAudience'), {
      callback: (_err, m) => {
        const req = decodeJson(m.data) as { userId: string; contactsOffset?: number; contactsLimit?: number };
        const mine = req.userId === me.userId ? ids : [];
        const offset = req.contactsOffset ?? 0;
        const page =
          req.contactsLimit === undefined ? {} : { contactIds: mine.slice(offset, offset + req.contactsLimit), contactTotal: mine.length };
        const data = { roomIds: req.userId === me.userId ? roomIds : [], ...page };
        m.respond(encodeJson({ ok: true, data }));
      },
    });
    await nc.flush();
  });
  afterAll(async () => {
    sub?.unsubscribe();
    await svc?.close();
    await nc?.drain();
    await deleteNamespace(s.namespace);
  });

  it('answers (all of them, or a bounded page), not a failure', async () => {
    // Everyone is connected to one gateway (its heartbeat in parts of 2000, as gateways send it).
    // One beat announcing the longest interval allowed: the gateway stays alive for the whole
    // test (3 missed beats), however long a loaded machine takes to get through 12,001 arrivals.
    const gw = fakeGateway(nc, s);
    const conns = [me, ...contacts].map((u, i) => ({ connId: `c${i}`, userId: u.userId, username: u.username, idle: false }));
    gw.heartbeat(HEARTBEAT_INTERVAL_MAX_MS, conns, 2000);
    // Presence has seen them all once it counts them present, and the fan-out (one
    // rooms.presenceAudience call per arrival) is through them all, so that the call below does
    // not queue behind 12,001 others for the same responder.
    await eventually(async () => (await metric(svc, 'presence_online_users')) === CONTACTS + 1, 90_000, 250);
    await eventually(async () => (await metric(svc, 'presence_fanout_changes_total{result="pushed"}')) >= CONTACTS + 1, 90_000, 250);

    // This checks that it answers (the reply's size), not how fast: asked again while the
    // answer is a timeout (a loaded machine), never accepted while it is any other failure.
    const r = await eventually(
      async () => {
        const r = await svc.deps.rpc.call('presence.contacts', { userId: me.userId, username: me.username }, { timeoutMs: 30_000 });
        return r.ok || r.error.code !== 'UNAVAILABLE' ? r : null;
      },
      90_000,
      250,
    );
    expect(r.ok ? { ok: true, some: r.data.users.length > 0 } : { ok: false, code: r.error.code, message: r.error.message }).toEqual({
      ok: true,
      some: true,
    });
  });
});
