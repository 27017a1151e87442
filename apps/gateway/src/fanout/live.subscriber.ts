import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Msg, Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Subjects, WsEventName, WsEvents } from '@chat/contracts';
import { JetStreamAdapter, decodeJson, type CoreNats } from '@chat/messaging';
import { NATS, PINO, SUBJECTS } from '@chat/platform';
import { GatewayMetrics } from '../metrics';
import type { Session } from '../sessions/session';
import type { SessionRooms } from '../sessions/session-rooms';
import { Sessions } from '../sessions/sessions';
import { eventFrame } from '../wire/frames';
import { RoomIndex } from './room-index';
import { positionOf, toMemberChange, toMessageView, toPresenceView } from './live-events';

const SEQ_HEADER = 'Nats-Sequence';
/** Most stored messages a new room subscription reads back to close its gap. */
const MAX_BACKFILL = 1000;

/**
 * Fan-out of live events to local connections. JetStream republishes every stored CHAT and
 * PRESENCE message to `ns.live.…` with its stream sequence; this gateway subscribes (core NATS)
 * to the message subject of each room that has a local member connected, and to all
 * membership changes and presence changes. Each event is serialised once and the same bytes
 * are written to every recipient.
 */
@Injectable()
export class LiveFanout implements SessionRooms, OnModuleInit, OnModuleDestroy {
  readonly index = new RoomIndex<Session>();
  private readonly roomSubs = new Map<string, Subscription>();
  /**
   * Rooms whose new subscription is reading back stored messages; live ones wait in `held`.
   * Tagged with the subscription: a room can be left and joined again while an older backfill
   * is still finishing, and that one must not release the newer one's messages.
   */
  private readonly backfilling = new Map<string, { sub: Subscription; held: Msg[] }>();
  /** Position of the last message delivered per subscribed room (drops repeats). */
  private readonly lastDelivered = new Map<string, number>();
  private readonly globalSubs: Subscription[] = [];
  private readonly deliveredMessages;

  constructor(
    @Inject(NATS) private readonly nc: CoreNats,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
    private readonly js: JetStreamAdapter,
    sessions: Sessions,
  ) {
    this.deliveredMessages = metrics.delivered.labels('message.posted');
    sessions.listen({ closed: (session) => this.unregister(session) });
  }

  async onModuleInit() {
    this.globalSubs.push(
      this.nc.subscribe(this.s.live.allRoomMeta, { callback: (err, m) => this.guard(err, m, () => this.onRoomMeta(m)) }),
      this.nc.subscribe(this.s.live.allPresence, { callback: (err, m) => this.guard(err, m, () => this.onPresence(m)) }),
    );
    await this.nc.flush();
  }

  onModuleDestroy() {
    for (const sub of [...this.globalSubs, ...this.roomSubs.values()]) sub.unsubscribe();
    this.globalSubs.length = 0;
    this.roomSubs.clear();
  }

  /**
   * Adds a connection that is authenticating, before its user's room list is fetched, so
   * membership changes arriving meanwhile are applied and kept (see RoomIndex). It gets no
   * events until it is authenticated (`send` skips it).
   */
  async register(session: Session, userId: string): Promise<void> {
    const { opened } = this.index.addConnection(session, userId);
    opened.forEach((r) => this.subscribeRoom(r));
    if (opened.length) await this.nc.flush();
  }

  /**
   * Merges the user's room list fetched after `register`. Resolves once the server knows of
   * any new room subscription, so every message stored after that reaches the connection.
   */
  async applyRoomList(session: Session, roomIds: string[]): Promise<void> {
    const { opened, closed } = this.index.applyRoomList(session, roomIds);
    closed.forEach((r) => this.unsubscribeRoom(r));
    opened.forEach((r) => this.subscribeRoom(r));
    if (opened.length) await this.nc.flush();
  }

  unregister(session: Session): void {
    this.index.removeConnection(session).forEach((r) => this.unsubscribeRoom(r));
  }

  /**
   * The user joined a room (here or elsewhere): their connections start receiving it. With the
   * join's position, messages stored after it are delivered even if they were stored before
   * this gateway's new subscription to the room reached the server.
   */
  async joined(userId: string, roomId: string, position?: number): Promise<void> {
    if (this.joinLocal(userId, roomId, position)) await this.nc.flush();
  }

  /** true when the room got its first local connection (and a new subscription). */
  private joinLocal(userId: string, roomId: string, position?: number): boolean {
    if (!this.index.join(userId, roomId).opened) return false;
    this.subscribeRoom(roomId, position);
    return true;
  }

  left(userId: string, roomId: string): void {
    if (this.index.leave(userId, roomId).closed) this.unsubscribeRoom(roomId);
  }

  isMember(userId: string, roomId: string): boolean {
    return this.index.isMember(userId, roomId);
  }

  private subscribeRoom(roomId: string, fromPosition?: number) {
    if (this.roomSubs.has(roomId)) return;
    const sub = this.nc.subscribe(this.s.live.roomMessages(roomId), {
      callback: (err, m) => this.guard(err, m, () => this.onRoomMessage(roomId, m)),
    });
    this.roomSubs.set(roomId, sub);
    if (fromPosition !== undefined) void this.backfill(roomId, sub, fromPosition);
  }

  /**
   * Closes the gap of a new subscription: a message stored after the join but before the
   * server registered our subscription would never arrive live. Once the subscription is
   * registered (flush), every later message arrives live, so reading the stored messages after
   * the join position up to then, and holding live ones until done, delivers each exactly once
   * and in order.
   */
  private async backfill(roomId: string, sub: Subscription, fromPosition: number): Promise<void> {
    const entry = { sub, held: [] as Msg[] };
    this.backfilling.set(roomId, entry);
    this.lastDelivered.set(roomId, Math.max(this.lastDelivered.get(roomId) ?? 0, fromPosition));
    const current = () => this.roomSubs.get(roomId) === sub;
    try {
      await this.nc.flush();
      const stream = this.s.streams.chat.name;
      const subject = this.s.chat.roomMessages(roomId);
      for (let n = 0, seq = fromPosition + 1; n < MAX_BACKFILL && current(); n++) {
        const m = await this.js.nextOnSubject(stream, subject, seq);
        // The room may have been left (and joined again) while this read was in flight.
        if (!m || !current()) break;
        this.deliverMessage(roomId, m.seq, m.data);
        seq = m.seq + 1;
      }
    } catch (err) {
      this.logger.warn({ roomId, err: String(err) }, 'backfill of a new room subscription failed; live delivery goes on');
    } finally {
      if (this.backfilling.get(roomId) === entry) {
        this.backfilling.delete(roomId);
        for (const m of entry.held) this.guard(null, m, () => this.onRoomMessage(roomId, m));
      }
    }
  }

  private unsubscribeRoom(roomId: string) {
    this.roomSubs.get(roomId)?.unsubscribe();
    this.roomSubs.delete(roomId);
    this.lastDelivered.delete(roomId);
    this.backfilling.delete(roomId);
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

  private drop(m: Msg, why: string) {
    this.metrics.droppedLive.labels(m.subject.split('.').slice(1, 3).join('.')).inc();
    this.logger.warn({ subject: m.subject, why }, 'dropped malformed live message');
  }

  private onRoomMessage(roomId: string, m: Msg) {
    const backfill = this.backfilling.get(roomId);
    if (backfill) return void backfill.held.push(m);
    const position = positionOf(m.headers?.get(SEQ_HEADER));
    if (position === null) return this.drop(m, 'no Nats-Sequence header');
    if (!this.deliverMessage(roomId, position, decodeJson(m.data))) this.drop(m, 'not a MessagePosted event of this room');
  }

  /** false when the data is not a MessagePosted of this room; repeats are skipped silently. */
  private deliverMessage(roomId: string, position: number, data: unknown): boolean {
    const view = toMessageView(data, position);
    if (!view || view.roomId !== roomId) return false;
    if (position <= (this.lastDelivered.get(roomId) ?? 0)) return true;
    this.lastDelivered.set(roomId, position);
    this.deliveredMessages.inc(this.send(this.index.connectionsIn(roomId), 'message.posted', position, view));
    return true;
  }

  private onRoomMeta(m: Msg) {
    const position = positionOf(m.headers?.get(SEQ_HEADER));
    if (position === null) return this.drop(m, 'no Nats-Sequence header');
    const change = toMemberChange(decodeJson(m.data));
    if (change === 'ignore') return;
    if (change === 'malformed' || change.data.roomId !== this.s.chat.roomIdOf(m.subject)) return this.drop(m, 'not a room event');
    const { roomId, userId } = change.data;
    if (change.event === 'member.joined') {
      // A join from another device or gateway: this user's local connections follow the room too.
      this.joinLocal(userId, roomId, position);
      this.sendCounted(this.index.connectionsIn(roomId), change.event, position, change.data);
    } else {
      // The leaving user's connections still get the event, then stop following the room.
      this.sendCounted(this.index.connectionsIn(roomId), change.event, position, change.data);
      this.left(userId, roomId);
    }
  }

  private onPresence(m: Msg) {
    const position = positionOf(m.headers?.get(SEQ_HEADER));
    if (position === null) return this.drop(m, 'no Nats-Sequence header');
    const view = toPresenceView(decodeJson(m.data));
    if (!view) return this.drop(m, 'not a PresenceChanged event');
    this.sendCounted(this.index.connections(), 'presence.changed', position, view);
  }

  private sendCounted<E extends WsEventName>(to: Iterable<Session>, event: E, position: number, data: WsEvents[E]) {
    this.metrics.delivered.labels(event).inc(this.send(to, event, position, data));
  }

  private send<E extends WsEventName>(to: Iterable<Session>, event: E, position: number, data: WsEvents[E]): number {
    let frame: Buffer | undefined;
    let n = 0;
    for (const session of to) {
      // A connection still authenticating is registered (to keep membership changes) but gets
      // events only from its auth reply on.
      if (!session.authenticated) continue;
      frame ??= eventFrame(event, position, data);
      if (session.deliver(frame)) n++;
    }
    if (n) this.metrics.framesOut.inc(n);
    return n;
  }
}
