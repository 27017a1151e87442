import { Inject, Injectable } from '@nestjs/common';
import { ChatError, decodeAccountEvent, isUserId, usernameKey, type Subjects, type UserView } from '@chat/contracts';
import { JetStreamAdapter, decodeJson, type KvBucket } from '@chat/messaging';
import { SUBJECTS } from '@chat/platform';

/** Names never change, so a found user is remembered; bounded so lookups of many users cannot grow it without end. */
const CACHE_MAX = 10_000;

/**
 * The accounts a moderation command names: by id (a sanction names its target by id; the
 * events carry the name too) from the user's UserRegistered on the accounts stream, and by
 * name (the configured administrators, SERVER_ADMINS, to reach them with report news) from the
 * accounts KV bucket the gateway's registration writes. Only ids and names are read.
 */
@Injectable()
export class ModerationUsers {
  private accounts?: Promise<KvBucket>;
  private readonly cache = new Map<string, UserView>();

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
  ) {}

  /** The user with this id, NOT_FOUND when no account has it. */
  async requireById(userId: string): Promise<UserView> {
    const known = this.cache.get(userId);
    if (known) return known;
    if (!isUserId(userId)) throw notFound(userId);
    // The first event of an account is its UserRegistered (later ones: password, disable, delete).
    const first = await this.js.nextOnSubject(this.s.streams.accounts.name, this.s.accounts.events(userId), 1).catch(unavailable);
    const decoded = first ? decodeAccountEvent(first.data) : null;
    if (!decoded?.ok || decoded.event.type !== 'UserRegistered' || decoded.event.payload.userId !== userId) throw notFound(userId);
    return this.remember({ userId, username: decoded.event.payload.username });
  }

  /** The user registered under this name (after NFKC and case folding), or null. */
  async byName(username: string): Promise<UserView | null> {
    this.accounts ??= this.js.kv(this.s.kv.accounts);
    const entry = await (await this.accounts).get(usernameKey(username)).catch(unavailable);
    if (!entry || entry.operation !== 'PUT') return null;
    const record = decodeJson(entry.value) as Record<string, unknown> | null;
    if (!record || record.deleted === true || !isUserId(record.userId) || typeof record.username !== 'string') return null;
    return this.remember({ userId: record.userId, username: record.username });
  }

  private remember(user: UserView): UserView {
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(user.userId, user);
    return user;
  }
}

const notFound = (userId: string) => new ChatError('NOT_FOUND', `user "${userId}" does not exist`);

function unavailable(err: unknown): never {
  throw new ChatError('UNAVAILABLE', `the account store did not answer (${(err as Error)?.message ?? String(err)}); try again`);
}
