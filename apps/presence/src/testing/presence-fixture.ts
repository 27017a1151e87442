import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { GatewayHeartbeat, GatewaySignal, PresenceChanged, RoomPresenceSignal, Subjects } from '@chat/contracts';
import { decodeJson, encodeJson } from '@chat/messaging';
import { loadConfig, type RunningService } from '@chat/platform';
import { randomName, testNatsUrl } from '@chat/testing';
import { PresenceConfig } from '../config';

/** The test plays a gateway: it publishes on the real subjects, as gateways do. */
export function fakeGateway(nc: NatsConnection, s: Subjects, gatewayId = randomName('gw')) {
  const signal = (sig: GatewaySignal) => nc.publish(s.presence.gatewayConnections(gatewayId), encodeJson(sig));
  const now = () => new Date().toISOString();
  let beats = 0;
  return {
    gatewayId,
    open: (connId: string, userId: string, username: string) => signal({ kind: 'opened', gatewayId, connId, userId, username, at: now() }),
    activity: (connId: string, userId: string, idle: boolean) => signal({ kind: 'activity', gatewayId, connId, userId, idle, at: now() }),
    close: (connId: string, userId: string) => signal({ kind: 'closed', gatewayId, connId, userId, at: now() }),
    /**
     * One beat: the list in parts of at most `perPart` entries (all of them in one part by
     * default); `lose` names parts left unsent, as if lost on the way.
     */
    heartbeat: (intervalMs: number, connections: GatewayHeartbeat['connections'], perPart = Infinity, lose: number[] = []) => {
      const at = now();
      const beat = beats++;
      const chunks: Array<GatewayHeartbeat['connections']> = [];
      for (let i = 0; i < connections.length; i += perPart) chunks.push(connections.slice(i, i + perPart));
      if (chunks.length === 0) chunks.push([]);
      chunks.forEach((chunk, part) => {
        if (lose.includes(part)) return;
        const hb: GatewayHeartbeat = { gatewayId, at, intervalMs, beat, part, parts: chunks.length, connections: chunk };
        nc.publish(s.presence.gatewayHeartbeat(gatewayId), encodeJson(hb));
      });
    },
  };
}

/** Every PresenceChanged the stream republishes (its live subject), in arrival order. */
export function recordLive(nc: NatsConnection, s: Subjects) {
  const events: PresenceChanged[] = [];
  const sub: Subscription = nc.subscribe(s.live.allPresence, {
    callback: (_err, m) => void events.push(decodeJson(m.data) as PresenceChanged),
  });
  const of = (userId: string) => events.filter((e) => e.payload.userId === userId);
  return {
    events,
    of,
    last: (userId: string) => of(userId).at(-1)?.payload.status,
    lastPayload: (userId: string) => of(userId).at(-1)?.payload,
    stop: () => sub.unsubscribe(),
  };
}

/** Every RoomPresenceSignal the fan-out publishes, with the room it was published to. */
export function recordRoomPresence(nc: NatsConnection, s: Subjects) {
  const signals: Array<{ roomId: string; signal: RoomPresenceSignal }> = [];
  const prefix = s.live.roomPresence('x').replace(/x\.presence$/, '');
  const sub = nc.subscribe(`${prefix}*.presence`, {
    callback: (_err, m) =>
      void signals.push({ roomId: m.subject.slice(prefix.length, -'.presence'.length), signal: decodeJson(m.data) as RoomPresenceSignal }),
  });
  return {
    signals,
    to: (roomId: string) => signals.filter((x) => x.roomId === roomId).map((x) => x.signal),
    about: (userId: string) => signals.filter((x) => x.signal.presence.userId === userId),
    stop: () => sub.unsubscribe(),
  };
}

export interface FakeMember {
  userId: string;
  username: string;
}

/**
 * The rooms service's place on the real NATS subjects, played by the test (apps do not import
 * each other; the real rooms.presenceAudience has its own int test in apps/rooms, and the real
 * pair runs together in the e2e tests): rooms as member lists, answering rooms.presenceAudience,
 * rooms.details (the caller's role, null for a non-member) and rooms.members as the rooms
 * service does: a room whose id starts with `pub-` is public (anyone sees it and its members),
 * any other is private (NOT_FOUND for someone not in it).
 */
const isPublic = (roomId: string) => roomId.startsWith('pub-');

export function fakeRooms(nc: NatsConnection, s: Subjects, rooms: Map<string, FakeMember[]>): Subscription[] {
  const joinedAt = '2024-01-01T00:00:00.000Z';
  const reply = (m: { respond(data: Uint8Array): boolean }, body: unknown): void => void m.respond(encodeJson(body));
  return [
    nc.subscribe(s.rpc('rooms.presenceAudience'), {
      queue: 'rooms',
      callback: (_err, m) => {
        const req = decodeJson(m.data) as { userId: string; maxMembers: number; contactsOffset?: number; contactsLimit?: number };
        const roomIds = [...rooms]
          .filter(([, ms]) => ms.length <= req.maxMembers && ms.some((x) => x.userId === req.userId))
          .map(([id]) => id);
        if (req.contactsLimit === undefined) return reply(m, { ok: true, data: { roomIds: roomIds.sort() } });
        const contactIds = [...new Set(roomIds.flatMap((id) => rooms.get(id)!.map((x) => x.userId)))].sort();
        const offset = req.contactsOffset ?? 0;
        reply(m, {
          ok: true,
          data: {
            roomIds: roomIds.sort(),
            contactIds: contactIds.slice(offset, offset + req.contactsLimit),
            contactTotal: contactIds.length,
          },
        });
      },
    }),
    nc.subscribe(s.rpc('rooms.details'), {
      queue: 'rooms',
      callback: (_err, m) => {
        const req = decodeJson(m.data) as { userId: string; roomId: string };
        const members = rooms.get(req.roomId);
        const member = members?.some((x) => x.userId === req.userId) ?? false;
        if (!members || !(member || isPublic(req.roomId))) {
          return reply(m, { ok: false, error: { code: 'NOT_FOUND', message: `room "${req.roomId}" does not exist` } });
        }
        reply(m, { ok: true, data: { roomId: req.roomId, myRole: member ? 'member' : null, memberCount: members.length } });
      },
    }),
    nc.subscribe(s.rpc('rooms.members'), {
      queue: 'rooms',
      callback: (_err, m) => {
        const req = decodeJson(m.data) as { actorId: string; roomId: string; offset?: number; limit?: number };
        const members = rooms.get(req.roomId);
        if (!members || !(members.some((x) => x.userId === req.actorId) || isPublic(req.roomId))) {
          return reply(m, { ok: false, error: { code: 'NOT_FOUND', message: `room "${req.roomId}" does not exist` } });
        }
        const offset = req.offset ?? 0;
        const items = members.slice(offset, offset + (req.limit ?? 50));
        const nextOffset = offset + items.length < members.length ? offset + items.length : null;
        reply(m, {
          ok: true,
          data: { roomId: req.roomId, members: items.map((x) => ({ ...x, role: 'member', joinedAt })), total: members.length, nextOffset },
        });
      },
    }),
  ];
}

export async function presenceConfig(namespace: string, extra: Record<string, string> = {}) {
  return loadConfig(PresenceConfig, {
    NATS_URL: await testNatsUrl(),
    NATS_NAMESPACE: namespace,
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PRESENCE_EXPIRY_CHECK_MS: '100',
    PRESENCE_STARTUP_GRACE_MS: '0',
    SERVER_ADMINS: 'root',
    ...extra,
  });
}

export async function metric(svc: RunningService, line: string): Promise<number> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(' ')[1]) : 0;
}

/** presence.list as a server administrator (`root` in presenceConfig). */
export async function listed(svc: RunningService) {
  const r = await svc.deps.rpc.call('presence.list', { userId: '00000000-0000-4000-8000-0000000000ff', username: 'root' });
  if (!r.ok) throw new Error(r.error.message);
  return r.data.users;
}
