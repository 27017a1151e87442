import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeChatEvent, isRoomEvent, usersToNotify, type Subjects } from '@chat/contracts';

/**
 * Test-only: stands in for the rooms service's user notifier (which the gateway may not
 * import) in the gateway's integration tests. It forwards each republished room event to the
 * users it is about, with the republish headers, as the real one does from its durable
 * consumer (without the durability, which the rooms service's own test covers).
 */
export function startFakeNotifier(nc: NatsConnection, s: Subjects): Subscription {
  return nc.subscribe(s.live.allRoomMeta, {
    callback: (_err, m) => {
      const decoded = decodeChatEvent(m.data);
      if (!decoded.ok || !isRoomEvent(decoded.event)) return;
      for (const userId of usersToNotify(decoded.event)) nc.publish(s.live.user(userId), m.data, { headers: m.headers });
    },
  });
}
