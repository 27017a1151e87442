import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Msg, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { isDirectRoomId, type PresenceView, type Subjects, type WsEventName, type WsEvents } from '@chat/contracts';
import { JetStreamAdapter, Spans, decodeJson, type CoreNats } from '@chat/messaging';
import { NATS, PINO, SUBJECTS } from '@chat/platform';
import { GatewayMetrics } from '../metrics';
import type { Session } from '../sessions/session';
import type { SessionRooms } from '../sessions/session-rooms';
import { Sessions } from '../sessions/sessions';
import { eventFrame } from '../wire/frames';
import { isChatEvent } from './resume';
import { RoomIndex } from './room-index';
import {
  positionOf,
  readRoomEvent,
  roomOf,
  toModerationNews,
  toOwnPresence,
  toReadMarker,
  toRoomPresence,
  toTypingEvent,
  type RoomEventEffect,
  type WsFrame,
} from './live-events';

const SEQ_HEADER = 'Nats-Sequence';
/** Most stored events a new room subscription reads back to close its gap. */
const MAX_BACKFILL = 1000;
const NO_PERSONAL: ReadonlyMap<string, WsFrame> = new Map();
/**
 * Presence positions remembered with the connections they reached: one change arrives once per
 * room the user shares with the connections here, the copies right after one another (one
 * presence replica publishes them in a row), so a short memory keeps each connection to one:
 * at most this many changes, none older than PRESENCE_MEMORY_MS.
 */
const PRESENCE_MEMORY = 4096;
const PRESENCE_MEMORY_MS = 10_000;

/** A room followed here: one core subscription to both its subjects, so membership and messages keep their stream order. */
interface RoomFollow {
  roomId: string;
  sub: Subscription;
  /** Position of the last event handled (drops repeats: backfill overlapping live, or a late copy). */
  lastHandled: number;
  /** While stored events are read back to close the subscription's gap, live ones wait here. */
  held: Msg[] | null;
  /**
   * Users removed from the room (left, kicked, banned) at a position this gateway saw, with no
   * later join: a post of theirs after that is in the stream but is not a message (the stream
   * decides), and is not delivered. Small: only removals seen while the room is followed here.
   */
  removed: Set<string>;
  /** In a conversation: who blocks the other, as far as this gateway saw; while any does, posts are not messages. */
  blockers: Set<string>;
  /**
   * Conversations only: blocks stored before this subscription are not in `blockers` until they
   * are read (on the first typing or presence signal, the only things they hold back that the
   * stream does not decide). `heldSignals` holds the signals arriving meanwhile, each with the
   * number of live block changes seen before it; `touched` the blockers whose state a live event
   * set meanwhile (newer than anything read), `liveBlockChanges` how many such events came.
   */
  storedBlocks?: 'reading' | 'read';
  heldSignals?: Array<{ m: Msg; liveBlockChanges: number }>;
  touchedBlockers?: Set<string>;
  liveBlockChanges?: number;
}

/**
 * Fan-out of live events to local connections, by interest: this gateway subscribes (core
 * NATS) to `ns.live.chat.room.<id>.*` of each room with a local member connected (JetStream
 * republishes every stored CHAT event there with its stream sequence on `.meta`/`.msg`; the
 * presence fan-out publishes members' status changes on `.presence`, gateways publish typing on
 * `.typing`), and, with ONE subscription per user connected here, to `ns.live.user.<id>.*`,
 * routed by the last token: `.rooms` (the rooms service's notifier forwards the room events
 * about that user: a join elsewhere, an invitation, a new conversation, a removal), `.reads`
 * (the history service publishes there when the user's read marker moves, on any device) and
 * `.presence` (their own presence choice) and `.moderation` (the moderation service's news for
 * them: warnings, mutes, role changes, reports for moderators). So its traffic grows with its own users, not with
 * the whole deployment, and a local user costs one subscription. Each event is
 * serialised once per distinct frame and the same bytes are written to every recipient.
 */
@Injectable()
export class LiveFanout implements SessionRooms, OnModuleDestroy {
  readonly index = new RoomIndex<Session>();
  private readonly follows = new Map<string, RoomFollow>();
  /** One subscription per user connected here (not per connection): `live.userAll`, their room events, read markers and own presence. */
  private readonly userSubs = new Map<string, Subscription>();
  /** presence position -> when it first arrived and the connections it reached (bounded, oldest forgotten first). */
  private readonly presenceSent = new Map<number, { atMs: number; to: Set<Session> }>();
  private readonly presencePrune: NodeJS.Timeout;
  /** Resume (resumer.ts): chat event frames for sessions replaying stored events wait here, with their positions. */
  private readonly holding = new Map<Session, Array<{ position: number; frame: Buffer }>>();
  private readonly received;
  private readonly deliveredMessages;

  constructor(
    @Inject(NATS) private readonly nc: CoreNats,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
    private readonly js: JetStreamAdapter,
    sessions: Sessions,
  ) {
    this.received = {
      room: metrics.liveReceived.labels('room'),
      user: metrics.liveReceived.labels('user'),
      presence: metrics.liveReceived.labels('presence'),
      typing: metrics.liveReceived.labels('typing'),
      reads: metrics.liveReceived.labels('reads'),
      moderation: metrics.liveReceived.labels('moderation'),
    };
    this.deliveredMessages = metrics.delivered.labels('message.posted');
    sessions.listen({ closed: (session) => this.unregister(session) });
    // The memory is otherwise pruned only when the next change arrives: after a burst (a
    // deployment's users arriving at once) a quiet gateway would keep up to PRESENCE_MEMORY
    // sets of connections for nothing.
    this.presencePrune = setInterval(() => this.forgetPresenceBefore(Date.now() - PRESENCE_MEMORY_MS), PRESENCE_MEMORY_MS);
    this.presencePrune.unref();
    void this.closeGapsOnReconnect().catch((err: unknown) => this.logger.warn({ err: String(err) }, 'NATS status watch ended'));
  }

  /**
   * Core subscriptions lose what the server sent while the connection was down: after a NATS
   * restart, or the gateway's server in a cluster dying, events stored just before (their
   * republished copies were on the way) or meanwhile through other servers never arrive live,
   * while the clients' WebSockets stay open, so no resume would bring them. On every reconnect,
   * each followed room that has handled an event reads the stream back from the one after it,
   * like a new subscription does (live events wait meanwhile; repeats are skipped). A room with
   * no event handled yet has no known position to read from and is left as is.
   */
  private async closeGapsOnReconnect(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type !== 'reconnect') continue;
      let rooms = 0;
      for (const follow of this.follows.values()) {
        if (follow.held || follow.lastHandled <= 0) continue;
        follow.held = [];
        void this.backfill(follow, follow.lastHandled + 1);
        rooms++;
      }
      this.logger.info({ rooms }, 'NATS reconnected; reading back what followed rooms may have missed');
    }
  }

  /** Forgets the presence positions first seen before `cutoffMs` (insertion order is arrival order). */
  private forgetPresenceBefore(cutoffMs: number): void {
    for (const [p, e] of this.presenceSent) {
      if (e.atMs >= cutoffMs) break;
      this.presenceSent.delete(p);
    }
  }

  onModuleDestroy() {
    clearInterval(this.presencePrune);
    for (const f of this.follows.values()) f.sub.unsubscribe();
    for (const sub of this.userSubs.values()) sub.unsubscribe();
    this.userSubs.clear();
    this.follows.clear();
    this.presenceSent.clear();
  }

  /**
   * Adds a connection that is authenticating, before its user's room list is fetched, so
   * membership changes arriving meanwhile (on the rooms followed here, or on the user's own
   * subject, subscribed here first) are applied and kept (see RoomIndex). It gets no events
   * until it is authenticated (`send` skips it).
   */
  async register(session: Session, userId: string): Promise<void> {
    const { opened, newUser } = this.index.addConnection(session, userId);
    if (newUser) this.subscribeUser(userId);
    opened.forEach((r) => this.followRoom(r));
    if (newUser || opened.length) await this.nc.flush();
  }

  /**
   * Merges the user's room list fetched after `register`. Resolves once the server knows of
   * any new room subscription, so every event stored after that reaches the connection.
   */
  async applyRoomList(session: Session, roomIds: string[]): Promise<void> {
    const { opened, closed } = this.index.applyRoomList(session, roomIds);
    closed.forEach((r) => this.unfollowRoom(r));
    opened.forEach((r) => this.followRoom(r));
    if (opened.length) await this.nc.flush();
  }

  unregister(session: Session): void {
    this.holding.delete(session);
    const userId = this.index.userOf(session);
    const { closed, userGone } = this.index.removeConnection(session);
    closed.forEach((r) => this.unfollowRoom(r));
    if (userGone && userId !== undefined) {
      this.userSubs.get(userId)?.unsubscribe();
      this.userSubs.delete(userId);
    }
  }

  isFollowing(session: Session, roomId: string): boolean {
    const userId = this.index.userOf(session);
    return userId !== undefined && this.index.followingSince(userId, roomId) !== undefined;
  }

  /** Resume: from now on the session's chat event frames are kept (it is not authenticated yet) until `release`. */
  hold(session: Session): void {
    this.holding.set(session, []);
  }

  /** Ends holding: the frames held after position `upTo` (the replay covers the rest), in arrival order. */
  release(session: Session, upTo: number): Buffer[] {
    const held = this.holding.get(session) ?? [];
    this.holding.delete(session);
    return held.filter((h) => h.position > upTo).map((h) => h.frame);
  }

  /** A chat event frame for a session not authenticated yet: kept if it is resuming, else not sent (live delivery starts at its auth). */
  private holdFor(session: Session, position: number, event: WsEventName, frame: () => Buffer): void {
    const held = this.holding.get(session);
    if (held && isChatEvent(event)) held.push({ position, frame: frame() });
  }

  async joined(userId: string, roomId: string, since?: number): Promise<void> {
    if (this.startFollowing(userId, roomId, since ?? 0)) await this.nc.flush();
  }

  left(userId: string, roomId: string): void {
    this.stopFollowing(userId, roomId, this.follows.get(roomId)?.lastHandled ?? 0);
  }

  /** true when the room got its first local connection (and a new subscription, reading back from `since`). */
  private startFollowing(userId: string, roomId: string, since: number): boolean {
    if (!this.index.join(userId, roomId, since).opened) return false;
    this.followRoom(roomId, since > 0 ? since : undefined);
    return true;
  }

  private stopFollowing(userId: string, roomId: string, seenUpTo: number): void {
    if (this.index.leave(userId, roomId, seenUpTo).closed) this.unfollowRoom(roomId);
  }

  private subscribeUser(userId: string) {
    const sub = this.nc.subscribe(this.s.live.userAll(userId), {
      callback: (err, m) => this.guard(err, m, () => this.onUserSubject(userId, sub, m)),
    });
    this.userSubs.set(userId, sub);
  }

  /**
   * One message on the user's subscription, by the last token of its subject. A late message
   * of a subscription already ended (the user left this gateway) changes nothing; an unknown
   * kind is dropped like a malformed message (under `live.user`, the family's name).
   */
  private onUserSubject(userId: string, sub: Subscription, m: Msg) {
    const kind = this.s.live.userSubjectKind(m.subject);
    if (kind === 'reads') return this.onReadMarker(userId, sub, m);
    if (kind === 'presence') return this.onOwnPresence(userId, sub, m);
    if (kind === 'rooms') return this.onUserEvent(userId, sub, m);
    if (kind === 'moderation') return this.onModerationNews(userId, sub, m);
    this.received.user.inc();
    if (this.userSubs.get(userId) === sub) this.drop(m, `unknown kind of user subject: ${kind}`);
  }

  private followRoom(roomId: string, since?: number) {
    if (this.follows.has(roomId)) return;
    const follow: RoomFollow = {
      roomId,
      sub: this.nc.subscribe(this.s.live.roomAll(roomId), {
        callback: (err, m) => this.guard(err, m, () => this.onRoomEvent(follow, m)),
      }),
      lastHandled: since === undefined ? 0 : since - 1,
      held: since === undefined ? null : [],
      removed: new Set(),
      blockers: new Set(),
    };
    this.follows.set(roomId, follow);
    if (since !== undefined) void this.backfill(follow, since);
  }

  private unfollowRoom(roomId: string) {
    this.follows.get(roomId)?.sub.unsubscribe();
    this.follows.delete(roomId);
  }

  /**
   * Closes the gap of a new subscription: an event stored at or after `since` but before the
   * server registered our subscription would never arrive live. Once the subscription is
   * registered (flush), every later event arrives live, so reading the stored events of both
   * room subjects from `since` on (one wildcard read, in stream order) up to then, and holding
   * live ones until done, handles each exactly once and in order, membership included.
   */
  private async backfill(follow: RoomFollow, since: number): Promise<void> {
    const current = () => this.follows.get(follow.roomId) === follow;
    try {
      await this.nc.flush();
      const stream = this.s.streams.chat.name;
      const subject = this.s.chat.roomAll(follow.roomId);
      for (let n = 0, seq = since; n < MAX_BACKFILL && current(); n++) {
        const m = await this.readWithRetries(() => this.js.nextOnSubject(stream, subject, seq));
        // The room may have been left (and followed again) while this read was in flight.
        if (!m || !current()) break;
        if (!this.handleRoomEvent(follow, m.seq, m.data))
          this.logger.warn({ roomId: follow.roomId, seq: m.seq }, 'skipped a malformed stored event');
        seq = m.seq + 1;
      }
    } catch (err) {
      this.logger.warn({ roomId: follow.roomId, err: String(err) }, 'backfill of a new room subscription failed; live delivery goes on');
    } finally {
      const held = follow.held ?? [];
      follow.held = null;
      for (const m of held) if (current()) this.guard(null, m, () => this.onLiveRoomEvent(follow, m));
    }
  }

  /**
   * A stream read, tried up to 5 times: right after a reconnect the stream's leader may still
   * be moving (in a cluster), and the first reads time out or find no responder.
   */
  private async readWithRetries<T>(read: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await read();
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  /** A failure in one live message must never break the subscription. */
  private guard(err: Error | null, m: Msg, fn: () => void): void {
    if (err) {
      this.logger.warn({ err: String(err) }, 'live subscription error');
      return;
    }
    try {
      fn();
    } catch (err) {
      this.logger.error({ err: String(err), subject: m.subject }, 'live message handling failed');
    }
  }

  /** `label`: the metric's subject label (default: the subject's first two tokens after the namespace, e.g. `live.chat`). */
  private drop(m: Msg, why: string, label = m.subject.split('.').slice(1, 3).join('.')) {
    this.metrics.droppedLive.labels(label).inc();
    this.logger.warn({ subject: m.subject, why }, 'dropped malformed live message');
  }

  private onRoomEvent(follow: RoomFollow, m: Msg) {
    // A late message of a subscription already ended (the room was left meanwhile) changes nothing.
    const current = this.follows.get(follow.roomId) === follow;
    // Ephemeral signals ride on the room's subscription; they are not stream events (no
    // position to order by, nothing to read back), so they go out at once.
    const kind = this.s.live.roomSubjectKind(m.subject);
    if (kind === 'presence') {
      this.received.presence.inc();
      return current ? this.onRoomPresence(follow, m) : undefined;
    }
    if (kind === 'typing') {
      this.received.typing.inc();
      return current ? this.onRoomTyping(follow, m) : undefined;
    }
    this.received.room.inc();
    if (!current) return;
    if (follow.held) return void follow.held.push(m);
    this.onLiveRoomEvent(follow, m);
  }

  private onLiveRoomEvent(follow: RoomFollow, m: Msg) {
    const position = positionOf(m.headers?.get(SEQ_HEADER));
    if (position === null) return this.drop(m, 'no Nats-Sequence header');
    // From the append's publish to here: JetStream's store and republish, NATS, and this event
    // loop's backlog (from the store only where the server stamps republished messages, 2.10+).
    Spans.sinceSent('live.fromAppend', m.headers);
    Spans.sinceStoredHeader('live.fromStore', m.headers);
    const started = Spans.start();
    if (!this.handleRoomEvent(follow, position, decodeJson(m.data))) this.drop(m, 'not an event of this room');
    Spans.end('live.deliver', started);
  }

  /**
   * One event of a followed room, at its position, live or read back. Repeats are skipped;
   * false when the data is not an event of this room.
   */
  private handleRoomEvent(follow: RoomFollow, position: number, data: unknown): boolean {
    if (position <= follow.lastHandled) return true;
    const e = readRoomEvent(data, position);
    if (e === 'ignore') {
      follow.lastHandled = position;
      return true;
    }
    if (e === 'malformed' || roomOf(e) !== follow.roomId) return false;
    follow.lastHandled = position;
    if (e.kind === 'room') return (this.applyRoomEffect(follow, position, e.effect), true);
    if (e.kind === 'change') {
      // Like a post: a change stored after its author's removal, or in a blocked conversation, is void.
      if (follow.removed.has(e.senderId) || follow.blockers.size > 0) return true;
      this.deliverToRoom(follow.roomId, position, e.frame, NO_PERSONAL);
      return true;
    }
    const { message } = e;
    // The stream decides: a post stored after its sender's removal, or in a conversation after
    // a block, is not a message.
    if (follow.removed.has(message.senderId) || follow.blockers.size > 0) {
      this.metrics.postsNotDelivered.inc();
      return true;
    }
    this.deliverToRoom(follow.roomId, position, { event: 'message.posted', data: message }, NO_PERSONAL);
    return true;
  }

  /** Joins first (a joining user gets their own join), then the event, then removals (the removed get it, and nothing after). */
  private applyRoomEffect(follow: RoomFollow, position: number, effect: RoomEventEffect) {
    const { roomId } = follow;
    if (effect.block) {
      if (effect.block.blocked) follow.blockers.add(effect.block.blockerId);
      else follow.blockers.delete(effect.block.blockerId);
      follow.touchedBlockers?.add(effect.block.blockerId);
      if (follow.liveBlockChanges !== undefined) follow.liveBlockChanges++;
    }
    for (const userId of effect.follow) {
      follow.removed.delete(userId);
      // The room is followed here, so this opens no new subscription.
      this.index.join(userId, roomId, position);
    }
    this.deliverToRoom(roomId, position, effect.room, effect.personal);
    if (effect.unfollow === 'everyone') {
      this.index.leaveEveryone(roomId, position);
      this.unfollowRoom(roomId);
      return;
    }
    for (const userId of effect.unfollow) {
      follow.removed.add(userId);
      this.stopFollowing(userId, roomId, position);
    }
  }

  /**
   * An event about this user, forwarded by the notifier. Their connections that follow the
   * room get it (or got it) from the room's own subject; otherwise it is shown here once per
   * position, and a join makes their connections follow the room right after it.
   */
  private onUserEvent(userId: string, sub: Subscription, m: Msg) {
    this.received.user.inc();
    if (this.userSubs.get(userId) !== sub) return;
    const position = positionOf(m.headers?.get(SEQ_HEADER));
    if (position === null) return this.drop(m, 'no Nats-Sequence header');
    const e = readRoomEvent(decodeJson(m.data), position);
    if (e === 'ignore') return;
    if (e === 'malformed' || e.kind !== 'room') return this.drop(m, 'not a room event');
    const { effect } = e;
    const { roomId } = effect;
    const frame = effect.personal.get(userId);
    if (!this.index.takeUserEvent(userId, roomId, position)) return;
    // No frame for this user (a conversation opened by the other side's block) can still mean
    // following the room: their next message must reach this user live.
    if (frame) this.sendCounted(this.index.connectionsOf(userId), frame, position);
    if (this.index.followingSince(userId, roomId) === undefined && effect.follow.includes(userId)) {
      // Shown here already: the room delivers from the next position on.
      if (this.startFollowing(userId, roomId, position + 1)) void this.nc.flush().catch(() => undefined);
    }
  }

  /**
   * The user's read marker moved (history publishes after committing it): every authenticated
   * connection of theirs gets `read.marker`. Markers live outside the chat stream, so the
   * frame's position is `lastRead` itself, which only grows per user and room; a late copy
   * of an older marker is passed on as is and clients keep the highest `lastRead`.
   */
  private onReadMarker(userId: string, sub: Subscription, m: Msg) {
    this.received.reads.inc();
    if (this.userSubs.get(userId) !== sub) return;
    const marker = toReadMarker(decodeJson(m.data));
    // The label the read-marker subject had when it was a subject of its own (ns.live.reads.<id>).
    if (!marker) return this.drop(m, 'not a read marker', 'live.reads');
    this.sendCounted(this.index.connectionsOf(userId), { event: 'read.marker', data: marker }, marker.lastRead);
  }

  /**
   * A member's status changed (presence fan-out): to the room's authenticated connections, each
   * once per change however many rooms it shares with that member.
   */
  private onRoomPresence(follow: RoomFollow, m: Msg) {
    const change = toRoomPresence(decodeJson(m.data));
    if (!change) return this.drop(m, 'not a room presence signal');
    // Defence in depth (rooms.presenceAudience already leaves blocked conversations out): never
    // through a conversation while either side blocks the other, like typing.
    if (this.heldForBlocks(follow, m)) return;
    if (follow.blockers.size > 0) return;
    const { position, view } = change;
    let sent = this.presenceSent.get(position);
    if (!sent) {
      const now = Date.now();
      // Oldest first (insertion order): forget what is too old or too much.
      for (const [p, e] of this.presenceSent) {
        if (this.presenceSent.size < PRESENCE_MEMORY && now - e.atMs < PRESENCE_MEMORY_MS) break;
        this.presenceSent.delete(p);
      }
      sent = { atMs: now, to: new Set() };
      this.presenceSent.set(position, sent);
    }
    this.sendOnce(this.index.connectionsIn(follow.roomId).keys(), sent.to, view, position);
  }

  private sendOnce(to: Iterable<Session>, sent: Set<Session>, view: PresenceView, position: number) {
    let frame: Buffer | undefined;
    let n = 0;
    for (const session of to) {
      if (!session.authenticated || sent.has(session)) continue;
      sent.add(session);
      frame ??= eventFrame('presence.changed', position, view);
      if (session.deliver(frame)) n++;
    }
    this.count('presence.changed', n);
  }

  /**
   * Someone typing in the room (any gateway): to the room's connections except the typist's own
   * user's, and not while the conversation is blocked (a blocked side must not see it).
   */
  private onRoomTyping(follow: RoomFollow, m: Msg) {
    const typing = toTypingEvent(decodeJson(m.data));
    if (!typing || typing.roomId !== follow.roomId) return this.drop(m, 'not a typing signal of this room');
    if (this.heldForBlocks(follow, m)) return;
    if (follow.blockers.size > 0) return;
    const to: Session[] = [];
    for (const session of this.index.connectionsIn(follow.roomId).keys())
      if (this.index.userOf(session) !== typing.userId) to.push(session);
    this.sendCounted(to, { event: 'typing', data: typing }, 0);
  }

  /** A conversation's signal waits (true) while its stored blocks are not read yet (reading them starts). */
  private heldForBlocks(follow: RoomFollow, m: Msg): boolean {
    if (!isDirectRoomId(follow.roomId) || follow.storedBlocks === 'read') return false;
    (follow.heldSignals ??= []).push({ m, liveBlockChanges: follow.liveBlockChanges ?? 0 });
    if (follow.storedBlocks !== 'reading') void this.readStoredBlocks(follow);
    return true;
  }

  /**
   * Reads a conversation's stored blocks (its few meta events: opened, blocks, unblocks) into
   * `blockers`, then lets the typing and presence held meanwhile through. A failed read drops
   * what was held (signals are best effort; the next one tries again) rather than risk showing a
   * blocked side.
   */
  private async readStoredBlocks(follow: RoomFollow): Promise<void> {
    const current = () => this.follows.get(follow.roomId) === follow;
    follow.storedBlocks = 'reading';
    follow.touchedBlockers = new Set();
    follow.liveBlockChanges = 0;
    let read = false;
    try {
      const stored = new Set<string>();
      const stream = this.s.streams.chat.name;
      const subject = this.s.chat.roomMeta(follow.roomId);
      for (let n = 0, seq = 1; n < MAX_BACKFILL && current(); n++) {
        const m = await this.js.nextOnSubject(stream, subject, seq);
        if (!m) break;
        const e = readRoomEvent(m.data, m.seq);
        const block = typeof e === 'object' && e.kind === 'room' ? e.effect.block : undefined;
        if (block?.blocked) stored.add(block.blockerId);
        else if (block) stored.delete(block.blockerId);
        seq = m.seq + 1;
      }
      for (const blockerId of stored) if (!follow.touchedBlockers.has(blockerId)) follow.blockers.add(blockerId);
      read = true;
    } catch (err) {
      this.logger.warn({ roomId: follow.roomId, err: String(err) }, 'reading the blocks of a conversation failed; its typing is dropped');
    } finally {
      follow.storedBlocks = read ? 'read' : undefined;
      follow.touchedBlockers = undefined;
      const changes = follow.liveBlockChanges ?? 0;
      follow.liveBlockChanges = undefined;
      const held = follow.heldSignals ?? [];
      follow.heldSignals = undefined;
      // A signal that came before a live block or unblock was decided under the state before it,
      // which is no longer known here: it is dropped (signals are best effort; the next one
      // comes), never shown under a later state (a typist's start from a blocked time, say).
      if (read)
        for (const { m, liveBlockChanges } of held)
          if (current() && liveBlockChanges === changes)
            this.guard(null, m, () =>
              this.s.live.roomSubjectKind(m.subject) === 'presence' ? this.onRoomPresence(follow, m) : this.onRoomTyping(follow, m),
            );
    }
  }

  /**
   * Moderation news for the user (the moderation service publishes `{ event, data }`: warned,
   * muted, unmuted, role; reports for moderators): checked whole, then to every authenticated
   * connection of theirs with position 0 (not a chat-stream position). Anything else is dropped.
   */
  private onModerationNews(userId: string, sub: Subscription, m: Msg) {
    this.received.moderation.inc();
    if (this.userSubs.get(userId) !== sub) return;
    const news = toModerationNews(decodeJson(m.data));
    if (!news) return this.drop(m, 'not moderation news', 'live.moderation');
    this.sendCounted(this.index.connectionsOf(userId), news, 0);
  }

  /** The user's own presence choice changed (presence publishes): to every connection of theirs. */
  private onOwnPresence(userId: string, sub: Subscription, m: Msg) {
    this.received.presence.inc();
    if (this.userSubs.get(userId) !== sub) return;
    const mine = toOwnPresence(decodeJson(m.data));
    // The label the own-presence subject had when it was a subject of its own (ns.live.presence.mine.<id>).
    if (!mine) return this.drop(m, 'not an own presence view', 'live.presence');
    this.sendCounted(this.index.connectionsOf(userId), { event: 'presence.mine', data: mine }, 0);
  }

  /**
   * To each connection following the room from this position or earlier: its user's personal
   * frame if there is one, else the room's frame (if any). Messages (no personal frames) take
   * the short path: one frame, serialised once, no per-connection lookups.
   */
  private deliverToRoom(roomId: string, position: number, room: WsFrame | null, personal: ReadonlyMap<string, WsFrame>) {
    const conns = this.index.connectionsIn(roomId);
    if (personal.size === 0) {
      if (!room) return;
      let frame: Buffer | undefined;
      const make = () => (frame ??= eventFrame(room.event, position, room.data as WsEvents[WsEventName]));
      let n = 0;
      for (const [session, since] of conns) {
        if (since > position) continue;
        if (!session.authenticated) {
          this.holdFor(session, position, room.event, make);
          continue;
        }
        if (session.deliver(make())) n++;
      }
      return this.count(room.event, n);
    }
    const bytes = new Map<WsFrame, Buffer>();
    const counts = new Map<WsFrame, number>();
    for (const [session, since] of conns) {
      if (since > position) continue;
      const userId = this.index.userOf(session);
      const f = (userId !== undefined ? personal.get(userId) : undefined) ?? room;
      if (!f) continue;
      let frame = bytes.get(f);
      if (!frame) bytes.set(f, (frame = eventFrame(f.event, position, f.data as WsEvents[WsEventName])));
      if (!session.authenticated) {
        this.holdFor(session, position, f.event, () => frame);
        continue;
      }
      if (session.deliver(frame)) counts.set(f, (counts.get(f) ?? 0) + 1);
    }
    for (const [f, n] of counts) this.count(f.event, n);
  }

  private count(event: WsEventName, n: number) {
    if (!n) return;
    (event === 'message.posted' ? this.deliveredMessages : this.metrics.delivered.labels(event)).inc(n);
    this.metrics.framesOut.inc(n);
  }

  private sendCounted(to: Iterable<Session>, f: WsFrame, position: number) {
    let frame: Buffer | undefined;
    const make = () => (frame ??= eventFrame(f.event, position, f.data as WsEvents[WsEventName]));
    let n = 0;
    for (const session of to) {
      // A connection still authenticating is registered (to keep membership changes) but gets
      // events only from its auth reply on.
      if (!session.authenticated) {
        this.holdFor(session, position, f.event, make);
        continue;
      }
      if (session.deliver(make())) n++;
    }
    this.count(f.event, n);
  }
}
