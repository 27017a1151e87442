import type { Event } from '../envelope';

export const PresenceStatuses = ['online', 'away', 'busy', 'offline'] as const;
export type PresenceStatus = (typeof PresenceStatuses)[number];
/** What a user may set for themselves; `offline` is only ever derived. */
export type SettableStatus = Exclude<PresenceStatus, 'offline'>;

export type PresenceChanged = Event<'PresenceChanged', { userId: string; username: string; status: PresenceStatus; lastSeen: string }>;
export type PresenceEvent = PresenceChanged;

/**
 * Gateway -> presence (core NATS, not stored). Connection events give immediate updates;
 * heartbeats carry the gateway's full set of users, so the presence service can rebuild its
 * state after a restart and notice a gateway that died (no heartbeat within the timeout).
 */
export type GatewaySignal =
  | { kind: 'opened'; gatewayId: string; connId: string; userId: string; username: string; at: string }
  | { kind: 'closed'; gatewayId: string; connId: string; userId: string; at: string }
  | { kind: 'status'; gatewayId: string; connId: string; userId: string; status: SettableStatus; at: string };

export interface GatewayHeartbeat {
  gatewayId: string;
  at: string;
  /** Heartbeat interval the gateway promises; the gateway is presumed dead after 3 missed beats. */
  intervalMs: number;
  connections: Array<{ connId: string; userId: string; username: string; status: SettableStatus }>;
}
