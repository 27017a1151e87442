import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { ChatError, type SessionRecord, type SessionRevocation, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, encodeJson, type CoreNats, type KvBucket } from '@chat/messaging';
import { CONFIG, NATS, PINO, SUBJECTS } from '@chat/platform';
import type { GatewayConfig } from '../config';
import { isSessionId, parseSessionRecord, userIdOfSession } from './session-records';

const unavailable = () => new ChatError('UNAVAILABLE', 'the session store is not reachable; try again');

/**
 * The sessions KV bucket (`kv.sessions`, key = session id = `<userId>.<random>`) and the
 * revocation signal. A revocation deletes the records first (so no refresh or new `auth` of the
 * session works any more on any gateway), then publishes `SessionRevocation` on
 * `live.sessions(userId)` so that every gateway closes the session's open connections at once.
 * Records expire with the bucket's max age (the longer of the two refresh lifetimes after their
 * last write) besides the `expiresAt` the account service checks.
 */
@Injectable()
export class SessionStore implements OnModuleInit {
  private kv!: KvBucket;

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(NATS) private readonly nc: CoreNats,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  async onModuleInit() {
    // Records outlive their longest possible refresh lifetime by nothing: the bucket forgets them then.
    const longestS = Math.max(this.config.REFRESH_TOKEN_TTL_S, this.config.REFRESH_TOKEN_SESSION_TTL_S);
    this.kv = await this.js.kv(this.s.kv.sessions, { history: 1, ttl: longestS * 1000 });
  }

  /** The record and its revision; null when there is none (deleted, expired from the bucket, unreadable). */
  async get(sessionId: string): Promise<{ record: SessionRecord; revision: number } | null> {
    if (!isSessionId(sessionId)) return null;
    let entry;
    try {
      entry = await this.kv.get(sessionId);
    } catch {
      throw unavailable();
    }
    if (!entry || entry.operation !== 'PUT') return null;
    const record = parseSessionRecord(entry.value);
    if (!record || record.sessionId !== sessionId) {
      this.logger.error({ sessionId }, 'unreadable session record');
      return null;
    }
    return { record, revision: entry.revision };
  }

  async create(record: SessionRecord): Promise<void> {
    try {
      await this.kv.create(record.sessionId, encodeJson(record));
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'session create failed');
      throw unavailable();
    }
  }

  /** Compare-and-set: false when the record changed (or was deleted) since `revision`. */
  async update(record: SessionRecord, revision: number): Promise<boolean> {
    try {
      await this.kv.update(record.sessionId, encodeJson(record), revision);
      return true;
    } catch {
      return false;
    }
  }

  /** Every session id of the user that has a record (expired ones included). */
  async idsOf(userId: string): Promise<string[]> {
    const ids: string[] = [];
    try {
      for await (const key of await this.kv.keys(`${userId}.*`)) ids.push(key);
    } catch {
      throw unavailable();
    }
    return ids;
  }

  /** The user's sessions, records read one by one (the list is small). */
  async listOf(userId: string): Promise<SessionRecord[]> {
    const found = await Promise.all((await this.idsOf(userId)).map((id) => this.get(id)));
    return found.flatMap((f) => (f && f.record.userId === userId ? [f.record] : []));
  }

  /**
   * Ends sessions of `userId`: the given ids, or every one ('all') but `exceptSessionId`. Their
   * records go, then every gateway is told to close their connections.
   */
  async revoke(
    userId: string,
    sessionIds: string[] | 'all',
    reason: SessionRevocation['reason'],
    exceptSessionId: string | null = null,
  ): Promise<void> {
    const ids = sessionIds === 'all' ? await this.idsOf(userId) : sessionIds;
    const doomed = ids.filter((id) => id !== exceptSessionId && isSessionId(id) && userIdOfSession(id) === userId);
    try {
      await Promise.all(doomed.map((id) => this.kv.delete(id)));
    } catch {
      throw unavailable();
    }
    const revocation: SessionRevocation = { userId, sessionIds, exceptSessionId, reason };
    try {
      this.nc.publish(this.s.live.sessions(userId), encodeJson(revocation));
    } catch (err) {
      // The records are gone: the connections stop at their next auth or token expiry anyway.
      this.logger.warn({ err: String(err), userId }, 'session revocation publish failed');
    }
  }
}
