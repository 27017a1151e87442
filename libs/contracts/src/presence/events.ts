import type { Event } from '../envelope';

/** What others see of a user. */
export const PresenceStatuses = ['online', 'away', 'busy', 'offline'] as const;
export type PresenceStatus = (typeof PresenceStatuses)[number];
/**
 * What a user may choose for themselves (kept per user, on every device): `invisible` is
 * "appear offline" (others see `offline`, the user stays connected and sees everything).
 * `offline` itself is only ever derived (no connection left).
 */
export const ChosenStatuses = ['online', 'away', 'busy', 'invisible'] as const;
export type ChosenStatus = (typeof ChosenStatuses)[number];

/**
 * The status others see changed (stored in NS_PRESENCE, last one per user). v2 adds the custom
 * status `text` (null: none, and always null while the shown status is offline); v1 events read
 * back with `text: null`. An invisible user's event says `offline`: the stream holds only what
 * others may see; the choice itself lives in the presence KV bucket.
 */
export type PresenceChanged = Event<
  'PresenceChanged',
  { userId: string; username: string; status: PresenceStatus; text: string | null; lastSeen: string },
  2
>;
export type PresenceEvent = PresenceChanged;

/**
 * A user's own choice, the value of `kv.presence` under their user id (written by the presence
 * service on `presence.set`, CAS on the revision; watched by every presence replica).
 */
export interface PresenceChoice {
  userId: string;
  username: string;
  status: ChosenStatus;
  /** Custom status text, 1-100 characters, or null. */
  text: string | null;
  /** ISO time of the choice. */
  updatedAt: string;
}

/**
 * Gateway -> presence (core NATS, not stored). Connection events give immediate updates;
 * heartbeats carry the gateway's full set of connections, so the presence service can rebuild
 * its state after a restart, repair a lost signal, and notice a gateway that died (no
 * heartbeat within the timeout). `idle`: the connection's user has not been active (no
 * `presence.active` and no user action) for the gateway's PRESENCE_IDLE_MS: automatic away.
 */
export type GatewaySignal =
  | { kind: 'opened'; gatewayId: string; connId: string; userId: string; username: string; at: string }
  | { kind: 'closed'; gatewayId: string; connId: string; userId: string; at: string }
  | { kind: 'activity'; gatewayId: string; connId: string; userId: string; idle: boolean; at: string };

export interface GatewayHeartbeat {
  gatewayId: string;
  at: string;
  /** Heartbeat interval the gateway promises; the gateway is presumed dead after 3 missed beats. */
  intervalMs: number;
  /**
   * One beat's connection list is sent in `parts` messages (each well under NATS's 1 MiB
   * max_payload; a gateway with 10,000 connections needs about 1.1 MB): this is part `part`
   * (0-based) of beat number `beat` (counts up per gateway process). Any part proves the gateway
   * alive; the list is reconciled only once every part of one beat has arrived.
   */
  beat: number;
  part: number;
  parts: number;
  connections: Array<{ connId: string; userId: string; username: string; idle: boolean }>;
}

/**
 * Presence fan-out -> gateways, on `live.roomPresence(roomId)` of each room of the user (core
 * NATS): a stored PresenceChanged at its presence-stream `position`. The same change reaches a
 * gateway once per shared room; the gateway sends it to each connection once.
 */
export interface RoomPresenceSignal {
  position: number;
  presence: { userId: string; username: string; status: PresenceStatus; text: string | null; lastSeen: string };
}

/** Gateway -> gateways, on `live.roomTyping(roomId)` (core NATS, never stored). */
export interface RoomTypingSignal {
  roomId: string;
  userId: string;
  username: string;
  typing: boolean;
  /** The connection that typed, so its user's other connections can be told apart if needed. */
  connId: string;
}
