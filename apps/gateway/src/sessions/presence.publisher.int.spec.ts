import type { NatsConnection } from '@nats-io/transport-node';
import { createSubjects, type GatewayHeartbeat, type Subjects } from '@chat/contracts';
import { connectNats, decodeJson } from '@chat/messaging';
import { eventually, randomName, testNatsUrl } from '@chat/testing';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config';
import { PresencePublisher } from './presence.publisher';
import type { Sessions } from './sessions';

type Entry = GatewayHeartbeat['connections'][number];

/**
 * The real publisher on the real NATS, with a part limit of 2 entries so that a few fake
 * sessions need several parts per beat (what 10,000 connections need with the default 2,000).
 * The presence side of parts (assembly, liveness) is proven in apps/presence's int test.
 */
describe('presence publisher - heartbeat parts on NATS', () => {
  let nc: NatsConnection;
  let listener: NatsConnection;
  let s: Subjects;

  beforeAll(async () => {
    s = createSubjects(randomName());
    const servers = await testNatsUrl();
    nc = await connectNats({ servers, name: 'publisher-test' });
    listener = await connectNats({ servers, name: 'presence-stand-in' });
  });

  afterAll(async () => {
    await nc.drain();
    await listener.drain();
  });

  it('presence - every beat arrives as all its parts, which together list every authenticated connection', async () => {
    const conns: Entry[] = Array.from({ length: 5 }, (_, i) => ({
      connId: `c${i}`,
      userId: randomUUID(),
      username: `u${i}`,
      idle: i === 1,
    }));
    const sessions = {
      listen: () => undefined,
      all: () =>
        conns
          .map((c) => ({ connId: c.connId, user: { userId: c.userId, username: c.username }, authenticated: true, idle: c.idle }))
          .values(),
    } as unknown as Sessions;
    const gatewayId = randomName('gw');
    const config = { GATEWAY_ID: gatewayId, PRESENCE_HEARTBEAT_MS: 100 } as GatewayConfig;
    const received: GatewayHeartbeat[] = [];
    const sub = listener.subscribe(s.presence.gatewayHeartbeat(gatewayId), {
      callback: (_e, m) => void received.push(decodeJson(m.data) as GatewayHeartbeat),
    });
    await listener.flush();
    const publisher = new PresencePublisher(nc, s, config, { warn: () => undefined } as unknown as Logger, sessions, { maxEntries: 2 });
    /** Complete beats, assembled as the presence service does: by beat number, every part present. */
    const complete = () => {
      const byBeat = new Map<number, GatewayHeartbeat[]>();
      for (const hb of received) byBeat.set(hb.beat, [...(byBeat.get(hb.beat) ?? []), hb]);
      return [...byBeat.values()]
        .filter((parts) => parts.length === parts[0].parts && new Set(parts.map((p) => p.part)).size === parts[0].parts)
        .map((parts) => parts.sort((a, b) => a.part - b.part).flatMap((p) => p.connections));
    };
    try {
      publisher.onModuleInit();
      const beats = await eventually(() => (complete().length >= 2 ? complete() : null));
      for (const list of beats) expect(list).toEqual(conns);
      expect(received.every((hb) => hb.parts === 3 && hb.connections.length <= 2 && hb.intervalMs === 100)).toBe(true);
      // A connection that went away is missing from the next complete beat.
      const gone = conns.pop()!;
      const next = await eventually(() => complete().find((list) => !list.some((c) => c.connId === gone.connId)));
      expect(next).toEqual(conns);
      expect(received.at(-1)?.parts).toBe(2);
    } finally {
      publisher.onModuleDestroy();
      sub.unsubscribe();
    }
  });
});
