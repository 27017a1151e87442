import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { ChatError, decodeModerationEvent, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, type Delivered } from '@chat/messaging';
import { PINO, SUBJECTS } from '@chat/platform';
import { accessChangeOf, applyAccessChange, type AccessChange, type ServerBan } from './access-changes';

export type AccessListener = (change: AccessChange) => void;

/**
 * Who is banned from the server, known to every gateway: each follows the moderation stream's
 * access subjects (`ns.mod.access.*`: bans, unbans, kicks; an ordered consumer from the start,
 * like the rooms service's deleted users) and is caught up before it serves anything. While a
 * user is banned their login, token refresh and every access token (WebSocket `auth`, Bearer
 * routes) are refused SERVER_BANNED; an unban lifts it. Listeners (the enforcer that closes
 * connections) get each change as it is applied, in stream order.
 */
@Injectable()
export class ServerBans implements OnModuleInit, OnApplicationShutdown {
  private readonly bans = new Map<string, ServerBan>();
  private readonly listeners: AccessListener[] = [];
  private stopFollow?: () => Promise<void>;

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  /** Reads every stored access event, then keeps following; start-up waits until caught up (no connection is served before). */
  async onModuleInit(): Promise<void> {
    const f = await this.js.follow(this.s.streams.moderation.name, this.s.moderation.allAccess, (m) => this.onEvent(m));
    this.stopFollow = f.stop;
    await f.caughtUp;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stopFollow?.();
  }

  listen(listener: AccessListener): void {
    this.listeners.push(listener);
  }

  banOf(userId: string): ServerBan | undefined {
    return this.bans.get(userId);
  }

  /** Throws SERVER_BANNED while `userId` is banned from the server. */
  refuse(userId: string): void {
    const ban = this.bans.get(userId);
    if (ban) throw serverBanned(ban);
  }

  /** Applies one change (the follower, and tests). */
  apply(change: AccessChange): void {
    applyAccessChange(this.bans, change);
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.logger.error({ err: String(err), userId: change.userId, kind: change.kind }, 'an access listener failed');
      }
    }
  }

  private onEvent(m: Delivered): void {
    const decoded = decodeModerationEvent(m.data);
    const change = decoded.ok ? accessChangeOf(decoded.event) : null;
    if (!change) {
      this.logger.warn({ subject: m.subject, seq: m.seq }, 'unreadable access event skipped');
      return;
    }
    this.apply(change);
  }
}

export const serverBanned = (ban: ServerBan): ChatError =>
  new ChatError(
    'SERVER_BANNED',
    ban.reason.trim() ? `you are banned from this server: ${ban.reason.trim()}` : 'you are banned from this server',
  );
