import type {
  ChosenStatus,
  GatewayHeartbeat,
  GatewaySignal,
  OwnPresenceView,
  PresenceChoice,
  PresenceStatus,
  PresenceView,
} from '@chat/contracts';

/** How present a status is (the start-up grace holds back drops in this order). */
const RANK: Record<PresenceStatus, number> = { offline: 0, away: 1, busy: 2, online: 3 };

/** A gateway is presumed dead after this many heartbeat intervals without a heartbeat. */
export const MISSED_HEARTBEATS = 3;

/** What others see of a user: status and custom text (null while offline). */
export interface Shown {
  status: PresenceStatus;
  text: string | null;
}

/**
 * The status others see, from the user's choice and their live connections (the rules of
 * docs/protocol.md "Presence"): no connection -> offline; invisible -> offline; busy and away as
 * chosen; online -> online while any connection is active, away when all are idle (automatic
 * away). No choice counts as online without text. The text shows unless the status is offline.
 */
export function deriveShown(choice: Pick<PresenceChoice, 'status' | 'text'> | undefined, connections: number, active: number): Shown {
  const chosen: ChosenStatus = choice?.status ?? 'online';
  if (connections === 0 || chosen === 'invisible') return { status: 'offline', text: null };
  const status: PresenceStatus = chosen === 'online' ? (active > 0 ? 'online' : 'away') : chosen;
  return { status, text: choice?.text ?? null };
}

/** A user whose derived view differs from the last one stored: append it. */
export interface PresenceChange {
  userId: string;
  username: string;
  status: PresenceStatus;
  text: string | null;
  previous: PresenceStatus;
  /** ISO time of the change (the `lastSeen` of the event). */
  at: string;
  /**
   * What caused the change, identical on every replica that saw the same input, so that the
   * event's msgId (user + view + cause) lets JetStream keep one event out of all replicas.
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
   * heard from every gateway yet, so the status it derives from connections can only be too
   * low: it holds back drops the user's choice does not explain, and when the grace ends it
   * settles every user (including those the stream says are present but no gateway holds).
   * The grace also lasts while a gateway that sent heartbeat parts has not completed a beat
   * since the grace began (a replica that started in the middle of a beat waits for the next
   * whole one), but never longer than that gateway's timeout.
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
  idle: boolean;
}

/** The parts of one beat received so far. */
interface Assembly {
  beat: number;
  parts: number;
  /** Each part's list, by part number (undefined: not received yet). */
  received: Array<GatewayHeartbeat['connections'] | undefined>;
  count: number;
  /** The `at` of part 0 (the same on every replica that completes the beat): the cause of the beat's changes. */
  at: string;
}

interface Gateway {
  connections: Map<string, Connection>;
  /** Monotonic time of the last heartbeat part (or of the signal that made the gateway known). */
  lastBeatAt: number;
  /** The gateway's own `at` of that heartbeat/signal: the same on every replica. */
  beatRef: string;
  timeoutMs: number;
  /** The beat whose parts are arriving; undefined between beats. */
  assembling?: Assembly;
  /** Monotonic time the last complete beat was reconciled (-Infinity: never). */
  reconciledAt: number;
  /** Has sent heartbeats (a gateway known only from signals does not hold the start-up grace). */
  beating: boolean;
}

/** A user's view as the PRESENCE stream holds it (or as this replica just appended it). */
interface Published extends Shown {
  username: string;
  lastSeen: string;
  /** Id of what produced this view (cause or stored event id), for deterministic follow-ups. */
  ref: string;
}

const connKey = (gatewayId: string, connId: string) => `${gatewayId}\n${connId}`;
const same = (a: Shown, b: Shown) => a.status === b.status && a.text === b.text;

/**
 * The presence of every user, derived from what the gateways report and the users' choices.
 * Deterministic and free of I/O: the caller passes the clock, the inputs and what the stream
 * stored, and appends the returned changes. Each replica holds the full state (every replica
 * hears every gateway and watches every choice).
 *
 * Two views per user: `stored` is what the PRESENCE stream last holds (followed by every
 * replica), `published` is that or, while this replica has changes of the user not yet settled
 * (appended, found stored, failed or decided again), the last of them. A replica compares what
 * it derives with `published`. Once its own changes are settled, a replica that missed an input
 * and sees another replica's event adopts the stored view instead of keeping its own stale one,
 * and its next heartbeat (each is the gateway's full truth) re-derives and corrects. While they
 * are not, a stored event (most often the echo of one of its own earlier changes) must not
 * replace the newer view they were decided against: that would make it decide the same change a
 * second time, with another cause.
 */
export class PresenceState {
  private readonly gateways = new Map<string, Gateway>();
  /** userId -> that user's connections, across gateways. */
  private readonly byUser = new Map<string, Map<string, Connection>>();
  /** userId -> the user's choice (KV ns_presence). */
  private readonly choices = new Map<string, { choice: PresenceChoice; revision: number }>();
  /** userId -> the view last stored in the stream. */
  private readonly stored = new Map<string, Published & { seq: number }>();
  /** userId -> the view last decided by this replica (not settled yet) or else the view stored. */
  private readonly published = new Map<string, Published>();
  /**
   * userId -> this replica's changes not settled yet, in the order decided (the order the caller
   * appends them in), and the stream sequence the first of them must follow: that of the stored
   * view it was decided against, or of the change before it once that was stored.
   */
  private readonly pending = new Map<string, { changes: PresenceChange[]; basisSeq: number }>();
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

  /**
   * A PresenceChanged the stream stored (start-up replay, then live): it becomes the user's
   * stored view, and the published one unless this replica has changes of the user not settled
   * yet (those were decided against a newer view than this, or are refused by the stream and
   * decided again). Nothing is appended in answer: a replica that disagrees may be the one that
   * missed an input, and the next heartbeat settles it.
   */
  observe(view: PresenceView, eventId: string, seq: number): void {
    const prev = this.stored.get(view.userId);
    if (prev && prev.seq >= seq) return;
    const p: Published = { username: view.username, status: view.status, text: view.text, lastSeen: view.lastSeen, ref: eventId };
    this.stored.set(view.userId, { ...p, seq });
    if (!this.pending.has(view.userId)) this.published.set(view.userId, p);
  }

  /**
   * The stream sequence the append of `change` expects to be the user's last: that of the view
   * it was decided against (0: none). Undefined when the change is not the next one to append
   * (it was decided against a view since given up, see `recheck` and `appendFailed`): drop it.
   */
  expectedSeq(change: PresenceChange): number | undefined {
    const p = this.pending.get(change.userId);
    return p?.changes[0] === change ? p.basisSeq : undefined;
  }

  /**
   * This replica's append of `change` was stored, or found already stored (a duplicate), at
   * `seq`: the next change follows it. What the stream holds there reaches `stored` through the
   * follower (a duplicate is the other replica's event, its `lastSeen` included). Once the user
   * has no change pending, the stored view becomes the published one if the follower has
   * brought this sequence or a newer one; otherwise `observe` does when it does.
   */
  appendStored(change: PresenceChange, seq: number): void {
    const p = this.pending.get(change.userId);
    if (p?.changes[0] !== change) return;
    p.changes.shift();
    p.basisSeq = seq;
    if (p.changes.length > 0) return;
    this.pending.delete(change.userId);
    const s = this.stored.get(change.userId);
    if (s && s.seq >= seq) this.published.set(change.userId, s);
  }

  /**
   * Another replica stored a change this one had not seen when it decided (its append expected an
   * older sequence): this replica's unsettled changes of the user are dropped (each was decided
   * against the refused one or a later one), the published view goes back to what was stored,
   * and what this replica derives is decided again against it. Replicas that conflict over the
   * same stored change decide alike, and `causeId` is built from that change's sequence, so
   * their answers share a msgId and are stored once.
   */
  recheck(userId: string, now: Now): PresenceChange[] {
    this.backToStored(userId);
    const s = this.stored.get(userId);
    return this.changes(new Set([userId]), now, `recheck:${s?.seq ?? 0}`);
  }

  /**
   * This replica's append of a change failed for good: its unsettled changes of the user are
   * dropped and what the stream holds is the truth again.
   */
  appendFailed(userId: string): void {
    this.backToStored(userId);
  }

  private backToStored(userId: string) {
    this.pending.delete(userId);
    const s = this.stored.get(userId);
    if (s) this.published.set(userId, s);
    else this.published.delete(userId);
  }

  /**
   * A user's choice as the KV bucket holds it (watch: replay, then live; `null`: deleted). Older
   * revisions than the one held are ignored, so the watch and `presence.set`'s own write may
   * both apply it.
   */
  applyChoice(userId: string, choice: PresenceChoice | null, revision: number, now: Now): PresenceChange[] {
    const held = this.choices.get(userId);
    if (held && held.revision >= revision) return [];
    if (choice) this.choices.set(userId, { choice, revision });
    else this.choices.delete(userId);
    return this.changes(new Set([userId]), now, `choice:${revision}`);
  }

  applySignal(signal: GatewaySignal, now: Now): PresenceChange[] {
    const causeId = `${signal.gatewayId}:${signal.connId}:${signal.kind}:${signal.at}`;
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
          idle: false,
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
      case 'activity': {
        // Activity of a connection we never saw opened waits for the next heartbeat, which
        // carries the connection with its username.
        const conn = this.byUser.get(signal.userId)?.get(connKey(signal.gatewayId, signal.connId));
        if (!conn) return [];
        conn.idle = signal.idle;
        affected.add(conn.userId);
        break;
      }
      default: {
        const _exhaustive: never = signal;
        return _exhaustive;
      }
    }
    return this.changes(affected, now, causeId);
  }

  /**
   * One part of a heartbeat. Any part proves the gateway alive (its timeout starts again, from
   * the interval it promises). The beat's list, all its parts together, replaces the gateway's
   * connections once every part of that beat has arrived: this rebuilds state and heals missed
   * signals. Parts of one beat arrive together and in order (core NATS keeps one publisher's
   * order), so a part of another beat (the next one, or the first of a restarted gateway
   * process, whose beats count from 0 again) discards an incomplete beat: a beat with a lost
   * part reconciles nothing, the next complete one does.
   */
  applyHeartbeat(hb: GatewayHeartbeat, now: Now): PresenceChange[] {
    const gw = this.gateway(hb.gatewayId, now, hb.at);
    gw.lastBeatAt = now.mono;
    gw.beatRef = hb.at;
    gw.timeoutMs = MISSED_HEARTBEATS * hb.intervalMs;
    gw.beating = true;
    let a = gw.assembling;
    if (!a || a.beat !== hb.beat || a.parts !== hb.parts) {
      a = {
        beat: hb.beat,
        parts: hb.parts,
        received: new Array<GatewayHeartbeat['connections'] | undefined>(hb.parts),
        count: 0,
        at: hb.at,
      };
      gw.assembling = a;
    }
    if (a.received[hb.part] === undefined) a.count++;
    a.received[hb.part] = hb.connections;
    if (hb.part === 0) a.at = hb.at;
    if (a.count < a.parts) return [];
    gw.assembling = undefined;
    gw.reconciledAt = now.mono;
    return this.reconcile(hb.gatewayId, gw, a, now);
  }

  /** A complete beat's list replaces the gateway's connections. */
  private reconcile(gatewayId: string, gw: Gateway, beat: Assembly, now: Now): PresenceChange[] {
    const affected = new Set<string>();
    for (const conn of gw.connections.values()) {
      this.unindex(conn);
      affected.add(conn.userId);
    }
    gw.connections.clear();
    for (const part of beat.received) {
      for (const c of part ?? []) {
        const conn: Connection = { gatewayId, connId: c.connId, userId: c.userId, username: c.username, idle: c.idle };
        const dup = gw.connections.get(c.connId);
        if (dup) this.unindex(dup);
        gw.connections.set(c.connId, conn);
        this.index(conn);
        affected.add(c.userId);
      }
    }
    return this.changes(affected, now, `${gatewayId}:hb:${beat.at}`);
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
    for (const userId of this.published.keys()) {
      const v = this.viewOf(userId);
      if (v && v.status !== 'offline') out.push(v);
    }
    return out;
  }

  presentCount(): number {
    let n = 0;
    for (const p of this.published.values()) if (p.status !== 'offline') n++;
    return n;
  }

  /** A user's view as last published; null when this replica never saw the user. */
  viewOf(userId: string): PresenceView | null {
    const p = this.published.get(userId);
    return p ? { userId, username: p.username, status: p.status, text: p.text, lastSeen: p.lastSeen } : null;
  }

  /** A user's status as last published (offline when never seen). */
  statusOf(userId: string): PresenceStatus {
    return this.published.get(userId)?.status ?? 'offline';
  }

  /** What the connections and choice held now give, published or not. */
  derivedOf(userId: string): Shown {
    let connections = 0;
    let active = 0;
    for (const c of this.byUser.get(userId)?.values() ?? []) {
      connections++;
      if (!c.idle) active++;
    }
    return deriveShown(this.choices.get(userId)?.choice, connections, active);
  }

  /** The user's own choice (online without text when never chosen) and what others see now. */
  ownView(userId: string, now: Now): OwnPresenceView {
    const choice = this.choices.get(userId)?.choice;
    return {
      status: choice?.status ?? 'online',
      text: choice?.text ?? null,
      shown: this.derivedOf(userId).status,
      updatedAt: choice?.updatedAt ?? new Date(now.wall).toISOString(),
    };
  }

  /** The revision of the user's choice this replica holds (0: none). */
  choiceRevision(userId: string): number {
    return this.choices.get(userId)?.revision ?? 0;
  }

  gatewayCount(): number {
    return this.gateways.size;
  }

  /**
   * The grace is over once graceMs have passed and every gateway that sends heartbeats has
   * completed a beat since the grace began, or its timeout has passed since then (one that
   * keeps losing parts does not hold the grace for ever).
   */
  private graceOver(now: Now): boolean {
    if (this.settled) return true;
    const elapsed = now.mono - this.graceFrom;
    if (elapsed < this.opts.graceMs) return false;
    for (const gw of this.gateways.values()) {
      if (gw.beating && gw.reconciledAt < this.graceFrom && elapsed < gw.timeoutMs) return false;
    }
    return true;
  }

  private gateway(gatewayId: string, now: Now, at: string): Gateway {
    let gw = this.gateways.get(gatewayId);
    if (!gw) {
      gw = {
        connections: new Map(),
        lastBeatAt: now.mono,
        beatRef: at,
        timeoutMs: this.opts.defaultGatewayTimeoutMs,
        reconciledAt: -Infinity,
        beating: false,
      };
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
      const shown = this.derivedOf(userId);
      const prev = this.published.get(userId);
      const previous: Shown = prev ?? { status: 'offline', text: null };
      if (same(shown, previous)) continue;
      // Before the grace ends a lower status may only mean a gateway not heard from yet, unless
      // the choice alone gives it (invisible, busy, away).
      if (!graceOver && RANK[shown.status] < RANK[previous.status]) {
        const possible = deriveShown(this.choices.get(userId)?.choice, 1, 1);
        if (RANK[possible.status] > RANK[shown.status]) continue;
      }
      const username =
        this.byUser.get(userId)?.values().next().value?.username ?? this.choices.get(userId)?.choice.username ?? prev?.username ?? '';
      this.published.set(userId, { username, ...shown, lastSeen: at, ref: causeId });
      const change: PresenceChange = { userId, username, status: shown.status, text: shown.text, previous: previous.status, at, causeId };
      out.push(change);
      // With nothing pending, the published view was the stored one: the change follows its sequence.
      const p = this.pending.get(userId);
      if (p) p.changes.push(change);
      else this.pending.set(userId, { changes: [change], basisSeq: this.stored.get(userId)?.seq ?? 0 });
    }
    return out;
  }
}
