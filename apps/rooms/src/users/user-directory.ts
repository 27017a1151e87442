import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ChatError, decodeAccountEvent, isUserId, usernameKey, type Subjects, type UserView } from '@chat/contracts';
import { JetStreamAdapter, decodeJson, type KvBucket } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';

/** Names never change, so a found user is remembered; bounded so lookups of many users cannot grow it without end. */
const CACHE_MAX = 10_000;

/**
 * Finds users for the room commands that name one: by username (invite, private message) in
 * the accounts KV bucket the gateway's registration writes, and by id (ban, block) from the
 * user's UserRegistered event on the accounts stream. Read-only: only the id and the name of a
 * record are ever read, so nothing else of an account (its password hash) leaves the bucket.
 */
@Injectable()
export class UserDirectory implements OnModuleInit {
  private accounts!: KvBucket;
  private readonly cache = new Map<string, UserView>();

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {}

  async onModuleInit() {
    this.accounts = await this.js.kv(this.s.kv.accounts);
  }

  /**
   * The user registered under this name (compared after NFKC and case folding), or null; null
   * for a deleted account too (its name stays taken, but nobody can invite or message it).
   */
  async byName(username: string): Promise<UserView | null> {
    const entry = await this.accounts.get(usernameKey(username)).catch(unavailable);
    if (!entry || entry.operation !== 'PUT') return null;
    const record = decodeJson(entry.value);
    if ((record as { deleted?: unknown } | null)?.deleted === true) return null;
    const user = userOf(record);
    if (user) this.remember(user);
    return user;
  }

  /** The user with this id, or null when no account has it. */
  async byId(userId: string): Promise<UserView | null> {
    const known = this.cache.get(userId);
    if (known) return known;
    if (!isUserId(userId)) return null;
    // The first event of an account is its UserRegistered (later ones: password, disable, delete).
    const first = await this.js.nextOnSubject(this.s.streams.accounts.name, this.s.accounts.events(userId), 1).catch(unavailable);
    if (!first) return null;
    const decoded = decodeAccountEvent(first.data);
    if (!decoded.ok || decoded.event.type !== 'UserRegistered' || decoded.event.payload.userId !== userId) return null;
    const user = { userId, username: decoded.event.payload.username };
    this.remember(user);
    return user;
  }

  /** As byName, NOT_FOUND when there is no such user. */
  async requireByName(username: string): Promise<UserView> {
    const user = await this.byName(username);
    if (!user) throw new ChatError('NOT_FOUND', `user "${username}" does not exist`);
    return user;
  }

  /** As byId, NOT_FOUND when there is no such user. */
  async requireById(userId: string): Promise<UserView> {
    const user = await this.byId(userId);
    if (!user) throw new ChatError('NOT_FOUND', `user "${userId}" does not exist`);
    return user;
  }

  private remember(user: UserView) {
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(user.userId, user);
  }
}

/** The id and name of an account record; null for anything that is not one. */
export function userOf(record: unknown): UserView | null {
  if (typeof record !== 'object' || record === null) return null;
  const { userId, username } = record as Record<string, unknown>;
  if (!isUserId(userId) || typeof username !== 'string' || username.length === 0) return null;
  return { userId, username };
}

function unavailable(err: unknown): never {
  throw new ChatError('UNAVAILABLE', `the account store did not answer (${(err as Error)?.message ?? String(err)}); try again`);
}
