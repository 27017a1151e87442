import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ChatError, Rpc, type CallerRpc, type MarkReadRpc, type ReadStateView, type Subjects } from '@chat/contracts';
import { encodeJson } from '@chat/messaging';
import { NATS, PINO, SUBJECTS } from '@chat/platform';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/errors';
import { ProjectionProgress } from '../projection/progress';
import { RoomAccess } from '../projection/room-access';
import { MarkersUnavailable, ReadMarkers } from './read-markers';
import { ReadQueries, lastReadOf } from './reads.store';

/** How long a read waits for the projection (as history.page does). */
const CATCH_UP_WAIT_MS = 2000;

/**
 * NATS adapter for read markers (read.mark) and unread counts (read.state). Markers live in
 * KV; counts are computed from the tables' positions when asked.
 */
@Controller()
export class ReadsController {
  constructor(
    private readonly reads: ReadQueries,
    private readonly markers: ReadMarkers,
    private readonly access: RoomAccess,
    private readonly progress: ProjectionProgress,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  /**
   * Authorised as history.page (and after the same bounded waits: the caller's room events, and
   * the room's messages, so a position the client just saw live is not clamped below itself).
   * The position is clamped to the room's newest message; the marker moves only forward; when it
   * moved, every connection of the caller hears `{ roomId, lastRead, time }` on
   * live.readMarkers(userId) (core NATS: a gateway that misses it still has read.state).
   */
  @MessagePattern(Rpc.historyMarkRead)
  async markRead(@Payload() req: MarkReadRpc): Promise<ReadStateView> {
    try {
      const messagesWait = this.progress.caughtUp(req.roomId, CATCH_UP_WAIT_MS);
      messagesWait.catch(() => undefined); // awaited below unless the caller is refused
      await this.access.authorise(req.roomId, req.userId);
      if (!(await messagesWait)) throw new ChatError('UNAVAILABLE', 'history is still catching up with this room; retry');

      const joined = await this.reads.joinedPosition(req.userId, req.roomId);
      const target = Math.min(req.position, await this.reads.newestPosition(req.roomId));
      const marker = await this.markers.get(req.userId, req.roomId);
      if (target > lastReadOf(marker?.lastRead, joined)) {
        const move = await this.markers.advance(req.userId, req.roomId, target, new Date());
        if (move.moved) {
          const event = { roomId: req.roomId, lastRead: move.lastRead, time: move.time };
          this.nc.publish(this.s.live.readMarkers(req.userId), encodeJson(event));
        }
      }
      const lastRead = lastReadOf((await this.markers.get(req.userId, req.roomId))?.lastRead, joined);
      const [state] = await this.reads.states(req.userId, [{ roomId: req.roomId, lastRead }]);
      return state;
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /**
   * Every room and conversation of the caller's, with counts from positions. Waits (bounded)
   * for the projection to reach what the stream held at the call, then answers as it stands.
   */
  @MessagePattern(Rpc.historyReadState)
  async readState(@Payload() req: CallerRpc): Promise<{ rooms: ReadStateView[] }> {
    try {
      if (!(await this.progress.streamCaughtUp(CATCH_UP_WAIT_MS)))
        this.logger.debug({ userId: req.userId }, 'read.state: projection still behind the stream after the wait; serving as it stands');
      const rooms = await this.reads.userRooms(req.userId);
      const markers = await this.markers.many(
        req.userId,
        rooms.map((r) => r.roomId),
      );
      const states = await this.reads.states(
        req.userId,
        rooms.map((r) => ({ roomId: r.roomId, lastRead: lastReadOf(markers.get(r.roomId), r.joinedPosition) })),
      );
      return { rooms: states };
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private unavailable(err: unknown): unknown {
    if (!isDatabaseUnavailable(err) && !(err instanceof MarkersUnavailable)) return err;
    this.logger.warn({ error: String(err) }, 'history database or read markers unavailable');
    return new ChatError('UNAVAILABLE', 'history is temporarily unavailable; retry');
  }
}
