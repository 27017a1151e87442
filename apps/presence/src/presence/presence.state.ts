import type { GatewayHeartbeat, GatewaySignal, PresenceStatus, PresenceView, SettableStatus } from '@chat/contracts';

/** How present a status is: a user's status is that of their most present connection. */
const RANK: Record<PresenceStatus, number> = { offline: 0, away: 1, busy: 2, online: 3 };

/** A gateway is presumed dead after this many heartbeat intervals without a heartbeat. */
export const MISSED_HEARTBEATS = 3;

/** A user whose derived status differs from the last one published: publish it. */
export interface PresenceChange {
  userId: string;
  username: string;
  status: PresenceStatus;
  previous: PresenceStatus;
  /** ISO time of the change (the `lastSeen` of the event). */
  at: string;
  /**
   * What caused the change, identical on every replica that saw the same input, so that the
   * event's msgId (user + status + cause) lets JetStream keep one event out of all replicas.
   */
  causeId: string;
}

/**
 * A moment as the caller's two clocks see it. All timing (heartbeat timeouts, grace) counts on
 * the monotonic clock, so that a step of the wall clock (NTP) neither keeps a dead gateway alive
 * nor expires the live ones; the wall clock only dates the changes shown to users.
 */
export interface Now {
  /** Monotonic ms (performance.now()). */
  mono: number;
  /** Wall-clock ms (Date.now()), for `at` / `lastSeen`. */
  wall: number;
}

export interface PresenceOptions {
  /** Monotonic time (ms) at which this replica started. */
  startedAt: number;
  /**
   * Start-up grace, normally one heartbeat timeout. Until it ends this replica may not have
   * heard from every gateway yet, so the status it derives can only be too low: it publishes
   * only changes that raise a user's status, and when the grace ends it settles every user
   * (including those the stream says are present but no gateway holds any more).
   */
  graceMs: number;
  /** Timeout of a gateway known only from signals (no heartbeat yet, so no interval known). */
  defaultGatewayTimeoutMs: number;
}

interface Connection {
  gatewayId: string;
  connId: string;
  userId: string;
  username: string;
  status: SettableStatus;
}

interface Gateway {
  connections: Map<string, Connection>;
  /** Monotonic time of the last heartbeat (or of the signal that made the gateway known). */
  lastBeatAt: number;
  /** The gateway's own `at` of that heartbeat/signal: the same on every replica. */
  beatRef: string;
  timeoutMs: number;
}

interface Published {
  username: string;
  status: PresenceStatus;
  lastSeen: string;
  /** Id of what produced this status (cause or stored event id), for deterministic follow-ups. */
  ref: string;
}

const connKey = (gatewayId: string, connId: string) => `${gatewayId}\n${connId}`;

/**
 * The presence of every user, derived from what the gateways report. Deterministic and free of
 * I/O: the caller passes the clock and publishes the returned changes. Each replica of the
 * service holds the full state (every replica hears every gateway).
 */
export class PresenceState {
  private readonly gateways = new Map<string, Gateway>();
  /** userId -> that user's connections, across gateways. */
  private readonly byUser = new Map<string, Map<string, Connection>>();
  /** userId -> status last published (or loaded from the stream at start-up). */
  private readonly published = new Map<string, Published>();
  private settled = false;
  /** Monotonic start of the current grace: start-up, or the last reconnect to NATS. */
  private graceFrom: number;
  /** False while this replica's NATS connection is down (see `disconnected`). */
  private connected = true;

  constructor(private readonly opts: PresenceOptions) {
    this.graceFrom = opts.startedAt;
  }

  /**
   * This replica lost NATS: it hears no heartbeats, which says nothing about the gateways, so
   * nothing expires until `reconnected` (otherwise every user would go offline and back online
   * after an outage longer than a timeout).
   */
  disconnected(): void {
    this.connected = false;
  }

  /**
   * Back on NATS: every known gateway counts as just heard from (a gateway that died meanwhile
   * expires one timeout later), and the start-up grace starts again, since until every gateway
   * has beaten again the derived statuses can only be too low. When it ends every user is settled.
   */
  reconnected(now: Now): void {
    this.connected = true;
    for (const gw of this.gateways.values()) gw.lastBeatAt = now.mono;
    this.graceFrom = now.mono;
    this.settled = false;
  }

  /** Loads a user's last stored status (start-up replay); ignored if the user is already known. */
  seed(view: PresenceView, eventId: string): void {
    if (this.published.has(view.userId)) return;
    this.published.set(view.userId, { username: view.username, status: view.status, lastSeen: view.lastSeen, ref: eventId });
  }

  applySignal(signal: GatewaySignal, now: Now): PresenceChange[] {
    const causeId = `${signal.gatewayId}:${signal.connId}:${signal.kind}:${signal.at}`;
    const key = connKey(signal.gatewayId, signal.connId);
    const affected = new Set<string>();
    switch (signal.kind) {
      case 'opened': {
        const gw = this.gateway(signal.gatewayId, now, signal.at);
        const old = gw.connections.get(signal.connId);
        if (old) {
          this.unindex(old);
          affected.add(old.userId);
        }
        const conn: Connection = {
          gatewayId: signal.gatewayId,
          connId: signal.connId,
          userId: signal.userId,
          username: signal.username,
          status: 'online',
        };
        gw.connections.set(signal.connId, conn);
        this.index(conn);
        affected.add(conn.userId);
        break;
      }
      case 'closed': {
        const gw = this.gateways.get(signal.gatewayId);
        const conn = gw?.connections.get(signal.connId);
        if (!gw || !conn) return []; // never known, or already dropped by a heartbeat/expiry
        gw.connections.delete(signal.connId);
        this.unindex(conn);
        affected.add(conn.userId);
        break;
      }
      case 'status': {
        // A status for a connection we never saw opened waits for the next heartbeat, which
        // carries the connection with its username.
        const conn = this.byUser.get(signal.userId)?.get(key);
        if (!conn) return [];
        conn.status = signal.status;
        affected.add(conn.userId);
        break;
      }
    }
    return this.changes(affected, now, causeId);
  }

  /** The heartbeat's list replaces the gateway's connections: rebuilds state and heals missed signals. */
  applyHeartbeat(hb: GatewayHeartbeat, now: Now): PresenceChange[] {
    const affected = new Set<string>();
    const gw = this.gateway(hb.gatewayId, now, hb.at);
    for (const conn of gw.connections.values()) {
      this.unindex(conn);
      affected.add(conn.userId);
    }
    gw.connections.clear();
    for (const c of hb.connections) {
      const conn: Connection = { gatewayId: hb.gatewayId, connId: c.connId, userId: c.userId, username: c.username, status: c.status };
      const dup = gw.connections.get(c.connId);
      if (dup) this.unindex(dup);
      gw.connections.set(c.connId, conn);
      this.index(conn);
      affected.add(c.userId);
    }
    gw.lastBeatAt = now.mono;
    gw.beatRef = hb.at;
    gw.timeoutMs = MISSED_HEARTBEATS * hb.intervalMs;
    return this.changes(affected, now, `${hb.gatewayId}:hb:${hb.at}`);
  }

  /** Drops every gateway silent for longer than its timeout, with all its connections (not while disconnected). */
  expire(now: Now): PresenceChange[] {
    const out: PresenceChange[] = [];
    if (!this.connected) return out;
    for (const [gatewayId, gw] of this.gateways) {
      if (now.mono - gw.lastBeatAt <= gw.timeoutMs) continue;
      this.gateways.delete(gatewayId);
      const affected = new Set<string>();
      for (const conn of gw.connections.values()) {
        this.unindex(conn);
        affected.add(conn.userId);
      }
      out.push(...this.changes(affected, now, `${gatewayId}:expired:${gw.beatRef}`));
    }
    return out;
  }

  /** Run periodically: expiry, and once the grace is over, settling every user (nothing while disconnected). */
  tick(now: Now): PresenceChange[] {
    const out = this.expire(now);
    if (this.connected && !this.settled && this.graceOver(now)) {
      this.settled = true;
      const everyone = new Set([...this.published.keys(), ...this.byUser.keys()]);
      for (const userId of everyone) {
        const ref = this.published.get(userId)?.ref ?? 'none';
        out.push(...this.changes(new Set([userId]), now, `settle:${ref}`));
      }
    }
    return out;
  }

  /** Users currently not offline, as last published. */
  present(): PresenceView[] {
    const out: PresenceView[] = [];
    for (const [userId, p] of this.published) {
      if (p.status !== 'offline') out.push({ userId, username: p.username, status: p.status, lastSeen: p.lastSeen });
    }
    return out;
  }

  presentCount(): number {
    let n = 0;
    for (const p of this.published.values()) if (p.status !== 'offline') n++;
    return n;
  }

  /** A user's status as last published (offline when never seen). */
  statusOf(userId: string): PresenceStatus {
    return this.published.get(userId)?.status ?? 'offline';
  }

  /** The status the connections currently held give, published or not. */
  derivedStatusOf(userId: string): PresenceStatus {
    let best: PresenceStatus = 'offline';
    for (const c of this.byUser.get(userId)?.values() ?? []) if (RANK[c.status] > RANK[best]) best = c.status;
    return best;
  }

  gatewayCount(): number {
    return this.gateways.size;
  }

  private graceOver(now: Now): boolean {
    return now.mono - this.graceFrom >= this.opts.graceMs;
  }

  private gateway(gatewayId: string, now: Now, at: string): Gateway {
    let gw = this.gateways.get(gatewayId);
    if (!gw) {
      gw = { connections: new Map(), lastBeatAt: now.mono, beatRef: at, timeoutMs: this.opts.defaultGatewayTimeoutMs };
      this.gateways.set(gatewayId, gw);
    }
    return gw;
  }

  private index(conn: Connection) {
    let m = this.byUser.get(conn.userId);
    if (!m) this.byUser.set(conn.userId, (m = new Map()));
    m.set(connKey(conn.gatewayId, conn.connId), conn);
  }

  private unindex(conn: Connection) {
    const m = this.byUser.get(conn.userId);
    if (!m) return;
    m.delete(connKey(conn.gatewayId, conn.connId));
    if (m.size === 0) this.byUser.delete(conn.userId);
  }

  private changes(users: Set<string>, now: Now, causeId: string): PresenceChange[] {
    const out: PresenceChange[] = [];
    const graceOver = this.graceOver(now);
    const at = new Date(now.wall).toISOString();
    for (const userId of users) {
      const status = this.derivedStatusOf(userId);
      const prev = this.published.get(userId);
      const previous = prev?.status ?? 'offline';
      if (status === previous) continue;
      // Before the grace ends a lower status may only mean a gateway not heard from yet.
      if (!graceOver && RANK[status] < RANK[previous]) continue;
      const conns = this.byUser.get(userId);
      const username = conns?.values().next().value?.username ?? prev?.username ?? '';
      this.published.set(userId, { username, status, lastSeen: at, ref: causeId });
      out.push({ userId, username, status, previous, at, causeId });
    }
    return out;
  }
}
