import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import {
  AdminUserRequest,
  ChangePasswordRequest,
  ChatError,
  DeleteAccountRequest,
  Limits,
  LoginRequest,
  RefreshRequest,
  RegisterRequest,
  makeEvent,
  usernameKey,
  validateInput,
  type AccountEvent,
  type AccountRecord,
  type LoginResult,
  type SessionRecord,
  type SessionView,
  type Subjects,
  type UserDeleted,
  type UserDisabled,
  type UserEnabled,
  type UserPasswordChanged,
  type UserRegistered,
  type UserView,
} from '@chat/contracts';
import { JetStreamAdapter, encodeJson, type KvBucket } from '@chat/messaging';
import { CONFIG, HealthRegistry, PINO, SUBJECTS, isServerAdmin } from '@chat/platform';
import type { GatewayConfig } from '../config';
import { newAccountRecord, normaliseUsername, parseAccountRecord, userView } from './accounts';
import type { Caller } from './bearer.guard';
import { LoginThrottle, RegistrationThrottle } from './login-throttle';
import { PasswordHasher } from './passwords';
import { SessionCheck } from './session-check';
import {
  decideRefresh,
  isExpired,
  isSessionId,
  newSecret,
  newSessionId,
  newSessionRecord,
  parseRefreshToken,
  rotated,
  sessionView,
  userIdOfSession,
  type Lifetimes,
} from './session-records';
import { ServerBans } from './server-bans';
import { SessionStore } from './session-store';
import { TokenService } from './tokens';

/** Where a login comes from: the client address (throttling) and its User-Agent (session list). */
export interface ClientInfo {
  address: string;
  userAgent: string;
}

const unavailable = () => new ChatError('UNAVAILABLE', 'the account store is not reachable; try again');
const revoked = () => new ChatError('SESSION_REVOKED', 'this session has ended; log in again');
const disabled = () => new ChatError('ACCOUNT_DISABLED', 'this account has been disabled by an administrator');

/**
 * Registration and login. Accounts live in the accounts KV bucket under the key of the
 * normalised name, so `kv.create` is the uniqueness check (atomic across gateway replicas);
 * the UserRegistered event is appended afterwards for the other services.
 */
@Injectable()
export class AccountsService implements OnModuleInit {
  private kv!: KvBucket;
  private readonly lifetimes: Lifetimes;

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottle,
    private readonly registrations: RegistrationThrottle,
    private readonly sessions: SessionStore,
    private readonly check: SessionCheck,
    private readonly health: HealthRegistry,
    @Inject(PINO) private readonly logger: Logger,
    private readonly bans: ServerBans,
  ) {
    this.lifetimes = { rememberS: config.REFRESH_TOKEN_TTL_S, sessionS: config.REFRESH_TOKEN_SESSION_TTL_S };
  }

  async onModuleInit() {
    this.kv = await this.js.kv(this.s.kv.accounts);
    this.health.register('kv', async () => {
      await this.kv.status();
      return true;
    });
  }

  private async find(key: string): Promise<{ record: AccountRecord; revision: number } | null> {
    let entry;
    try {
      entry = await this.kv.get(key);
    } catch {
      throw unavailable();
    }
    if (!entry || entry.operation !== 'PUT') return null;
    const record = parseAccountRecord(entry.value);
    if (!record) {
      this.logger.error({ key }, 'unreadable account record');
      throw new ChatError('INTERNAL', 'internal error; nothing was changed');
    }
    return { record, revision: entry.revision };
  }

  /**
   * `address` is the client's (req.ip): registrations per address are limited
   * (REGISTER_MAX_PER_ADDRESS within REGISTER_WINDOW_S, shared by every gateway); over the limit
   * the answer is RATE_LIMITED with `retryAfterS`, before the password is hashed.
   */
  async register(body: unknown, address = 'unknown', correlationId = randomUUID()): Promise<{ user: UserView }> {
    const input = validateInput(RegisterRequest, body);
    if (!input.ok) throw new ChatError(input.error.code, input.error.message, input.error.details);
    const name = normaliseUsername(input.data.username);
    if (!name.ok) throw new ChatError(name.error.code, name.error.message, name.error.details);
    const taken = () => new ChatError('USERNAME_TAKEN', 'this username is already taken');

    const admittedAt = Date.now();
    const retryAfterS = await this.registrations.admit(address, admittedAt);
    if (retryAfterS > 0) throw new LoginThrottled(retryAfterS, 'registrations from this address');
    try {
      return await this.createAccount(name.data, input.data.password, correlationId, taken);
    } catch (err) {
      // Undecided (the store failed): the attempt does not count. A taken name does.
      if (err instanceof ChatError && err.code === 'UNAVAILABLE')
        await this.registrations.release(address, admittedAt).catch(() => undefined);
      throw err;
    }
  }

  private async createAccount(
    name: Extract<ReturnType<typeof normaliseUsername>, { ok: true }>['data'],
    password: string,
    correlationId: string,
    taken: () => ChatError,
  ): Promise<{ user: UserView }> {
    // Cheap early answer for a name in use; the create below is what guarantees uniqueness.
    if (await this.find(name.key)) throw taken();
    const record = newAccountRecord(name, await this.hasher.hash(password), { now: () => new Date(), newId: randomUUID });

    let revision: number;
    try {
      revision = await this.kv.create(name.key, encodeJson(record));
    } catch (err) {
      if (await this.find(name.key)) throw taken();
      this.logger.warn({ err: String(err) }, 'account create failed');
      throw unavailable();
    }

    const event = makeEvent<UserRegistered>(
      { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: record.userId }, correlationId },
      'UserRegistered',
      1,
      { userId: record.userId, username: record.username },
    );
    try {
      await this.js.append(this.s.accounts.events(record.userId), event, { msgId: record.userId });
    } catch (err) {
      // Without its event the account would be invisible to the other services: undo the
      // create (only if nothing touched the key since) and let the client retry.
      this.logger.error({ err: String(err), userId: record.userId }, 'UserRegistered append failed; rolling back');
      await this.kv.delete(name.key, { previousSeq: revision }).catch(() => undefined);
      throw unavailable();
    }
    return { user: userView(record) };
  }

  /**
   * `client.address` is the client's (req.ip). Failed attempts are counted per (account,
   * address) and per address (LoginThrottle); over a limit the answer is RATE_LIMITED with
   * `retryAfterS`, before any lookup or hashing. Unknown names (and deleted accounts) count like
   * wrong passwords; a disabled account is ACCOUNT_DISABLED, told only after the password check.
   * A user banned from the server is SERVER_BANNED, also told only after the password check.
   * A login starts a session (refresh-token family) in `kv.sessions`.
   */
  async login(body: unknown, client: ClientInfo = { address: 'unknown', userAgent: '' }): Promise<LoginResult> {
    const input = validateInput(LoginRequest, body);
    if (!input.ok) throw new ChatError(input.error.code, input.error.message, input.error.details);
    const key = usernameKey(input.data.username);
    const found = await this.checkPassword(key, input.data.password, client.address);
    if (found.record.disabled) throw disabled();
    this.bans.refuse(found.record.userId);
    const user = userView(found.record);
    const sessionId = newSessionId(user.userId);
    const secret = newSecret();
    const record = newSessionRecord(
      {
        sessionId,
        userId: user.userId,
        username: user.username,
        secret,
        remember: input.data.remember ?? false,
        userAgent: client.userAgent,
      },
      new Date(),
      this.lifetimes,
    );
    await this.sessions.create(record);
    // A disable, delete or password change that listed the user's sessions just before this one
    // was stored has not revoked it: read the account again, after the session exists.
    const now = await this.find(key);
    if (!now || now.record.deleted || now.record.disabled || now.record.passwordHash !== found.record.passwordHash) {
      await this.sessions.revoke(user.userId, [sessionId], 'revoked');
      throw now?.record.disabled ? disabled() : new ChatError('AUTH_FAILED', 'wrong username or password');
    }
    return this.result(record, secret);
  }

  /**
   * Rotation: the presented refresh token is exchanged for a new one (compare-and-set on the
   * record, so of two concurrent uses of one token only one rotates). A token the session has
   * already replaced means it was copied: the whole session is revoked (`refresh_reused`).
   * While the user is banned from the server the token is refused SERVER_BANNED and kept as it
   * is (usable again after an unban).
   */
  async refresh(body: unknown): Promise<LoginResult> {
    const input = validateInput(RefreshRequest, body);
    if (!input.ok) throw new ChatError(input.error.code, input.error.message, input.error.details);
    const token = parseRefreshToken(input.data.refreshToken);
    if (!token) throw revoked();
    for (let attempt = 0; attempt < 3; attempt++) {
      const found = await this.sessions.get(token.sessionId);
      if (!found) {
        const ended = await this.check.ended(userIdOfSession(token.sessionId));
        throw ended.ok ? revoked() : new ChatError(ended.error.code, ended.error.message);
      }
      const now = new Date();
      switch (decideRefresh(found.record, token.secret, now)) {
        case 'reuse':
          this.logger.warn({ sessionId: token.sessionId }, 'a replaced refresh token was presented again; revoking the session');
          await this.sessions.revoke(found.record.userId, [token.sessionId], 'refresh_reused');
          throw revoked();
        case 'expired':
          await this.sessions.revoke(found.record.userId, [token.sessionId], 'revoked');
          throw revoked();
        case 'invalid':
          throw revoked();
        case 'rotate': {
          // A good token of a banned user is refused, not used up.
          this.bans.refuse(found.record.userId);
          const secret = newSecret();
          const next = rotated(found.record, secret, now, this.lifetimes);
          if (await this.sessions.update(next, found.revision)) return this.result(next, secret);
          // Changed meanwhile (another refresh with this token, or a revocation): decide again.
        }
      }
    }
    throw revoked();
  }

  /** Ends the caller's session (and the one of `refreshToken` when it is another of the caller's). */
  async logout(caller: Caller, body: unknown): Promise<void> {
    const ids = [caller.sessionId];
    if (body !== undefined && body !== null && !(typeof body === 'object' && Object.keys(body).length === 0)) {
      const input = validateInput(RefreshRequest, body);
      if (!input.ok) throw new ChatError(input.error.code, input.error.message, input.error.details);
      const token = parseRefreshToken(input.data.refreshToken);
      if (token && token.sessionId !== caller.sessionId && userIdOfSession(token.sessionId) === caller.user.userId)
        ids.push(token.sessionId);
    }
    await this.sessions.revoke(caller.user.userId, ids, 'logout');
  }

  async logoutAll(caller: Caller): Promise<void> {
    await this.sessions.revoke(caller.user.userId, 'all', 'logout_all');
  }

  /** The caller's live sessions, newest first. */
  async listSessions(caller: Caller): Promise<{ sessions: SessionView[] }> {
    const now = new Date();
    const records = (await this.sessions.listOf(caller.user.userId)).filter((r) => !isExpired(r, now));
    records.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return { sessions: records.slice(0, Limits.sessionsListMax).map((r) => sessionView(r, caller.sessionId)) };
  }

  /** Ends one of the caller's sessions; another user's (or no) session is NOT_FOUND. */
  async revokeSession(caller: Caller, sessionId: string): Promise<void> {
    const found = isSessionId(sessionId) ? await this.sessions.get(sessionId) : null;
    if (!found || found.record.userId !== caller.user.userId) throw new ChatError('NOT_FOUND', 'no such session');
    await this.sessions.revoke(caller.user.userId, [sessionId], 'revoked');
  }

  /**
   * Checks the current password (a wrong one counts for the login throttle), stores the new hash
   * (compare-and-set), ends every other session and appends UserPasswordChanged.
   */
  async changePassword(caller: Caller, body: unknown, address = 'unknown'): Promise<void> {
    const input = validateInput(ChangePasswordRequest, body);
    if (!input.ok) throw new ChatError(input.error.code, input.error.message, input.error.details);
    const key = usernameKey(caller.user.username);
    const found = await this.checkPassword(key, input.data.currentPassword, address, caller.user.userId);
    const record: AccountRecord = { ...found.record, passwordHash: await this.hasher.hash(input.data.newPassword) };
    await this.replace(key, record, found.revision);
    await this.sessions.revoke(caller.user.userId, 'all', 'password_changed', caller.sessionId);
    await this.appendAccountEvent<UserPasswordChanged>(
      caller.user.userId,
      'UserPasswordChanged',
      { userId: caller.user.userId, keptSessionId: caller.sessionId },
      `pw-${caller.user.userId}-${found.revision}`,
      caller.user.userId,
    );
  }

  /**
   * The account becomes {deleted, passwordHash: ''}: the name stays taken, nobody can log in.
   * UserDeleted is appended (the rooms service removes the user from every room and
   * conversation), then every session ends. A retry after a failed append finds the record
   * deleted already and goes on from there.
   */
  async deleteAccount(caller: Caller, body: unknown, address = 'unknown'): Promise<void> {
    const input = validateInput(DeleteAccountRequest, body);
    if (!input.ok) throw new ChatError(input.error.code, input.error.message, input.error.details);
    const key = usernameKey(caller.user.username);
    let found = await this.find(key);
    if (!found || found.record.userId !== caller.user.userId) throw revoked();
    if (!found.record.deleted) {
      found = await this.checkPassword(key, input.data.password, address, caller.user.userId);
      await this.replace(key, { ...found.record, deleted: true, passwordHash: '' }, found.revision);
    }
    const { userId, username } = found.record;
    await this.appendAccountEvent<UserDeleted>(userId, 'UserDeleted', { userId, username }, `deleted-${userId}`, userId);
    await this.sessions.revoke(userId, 'all', 'deleted');
  }

  /**
   * Server administrators only (SERVER_ADMINS). Disabling ends every session of the user (their
   * connections close with 4411) and refuses logins and refreshes until enabled again. Repeating
   * either is a no-op (no second event).
   */
  async setDisabled(caller: Caller, body: unknown, disable: boolean): Promise<void> {
    if (!isServerAdmin(this.config, caller.user.username)) throw new ChatError('FORBIDDEN', 'only server administrators may do this');
    const input = validateInput(AdminUserRequest, body);
    if (!input.ok) throw new ChatError(input.error.code, input.error.message, input.error.details);
    const key = usernameKey(input.data.username);
    const found = await this.find(key);
    if (!found || found.record.deleted) throw new ChatError('NOT_FOUND', 'no such user');
    const { userId } = found.record;
    if (Boolean(found.record.disabled) !== disable) {
      const record: AccountRecord = { ...found.record };
      if (disable) record.disabled = true;
      else delete record.disabled;
      await this.replace(key, record, found.revision);
      const byUserId = caller.user.userId;
      const msgId = `${disable ? 'disabled' : 'enabled'}-${userId}-${found.revision}`;
      if (disable)
        await this.appendAccountEvent<UserDisabled>(
          userId,
          'UserDisabled',
          { userId, byUserId, reason: input.data.reason?.trim() ?? '' },
          msgId,
          byUserId,
        );
      else await this.appendAccountEvent<UserEnabled>(userId, 'UserEnabled', { userId, byUserId }, msgId, byUserId);
    }
    if (disable) await this.sessions.revoke(userId, 'all', 'disabled');
  }

  /**
   * The account of `key` when `password` is its password, counted by the login throttle (only
   * successes clear the count). `expectUserId`: the account must be this user's (a Bearer caller).
   */
  private async checkPassword(
    key: string,
    password: string,
    address: string,
    expectUserId?: string,
  ): Promise<{ record: AccountRecord; revision: number }> {
    const admittedAt = Date.now();
    const retryAfterS = await this.throttle.admit(key, address, admittedAt);
    if (retryAfterS > 0) throw new LoginThrottled(retryAfterS);
    let found: Awaited<ReturnType<AccountsService['find']>>;
    let good: boolean;
    try {
      found = await this.find(key);
      good =
        found && !found.record.deleted
          ? await this.hasher.verify(found.record.passwordHash, password)
          : await this.hasher.verifyDummy(password);
    } catch (err) {
      await this.throttle.release(key, address, admittedAt).catch(() => undefined);
      throw err;
    }
    if (!found || !good || (expectUserId !== undefined && found.record.userId !== expectUserId))
      throw new ChatError('AUTH_FAILED', expectUserId ? 'wrong password' : 'wrong username or password');
    await this.throttle.succeeded(key, address, admittedAt);
    return found;
  }

  /** Compare-and-set of an account record; CONFLICT when it changed since it was read. */
  private async replace(key: string, record: AccountRecord, revision: number): Promise<void> {
    try {
      await this.kv.update(key, encodeJson(record), revision);
    } catch (err) {
      if ((await this.find(key))?.revision !== revision) throw new ChatError('CONFLICT', 'the account changed meanwhile; try again');
      this.logger.warn({ err: String(err) }, 'account update failed');
      throw unavailable();
    }
  }

  private async appendAccountEvent<E extends AccountEvent>(
    userId: string,
    type: E['type'],
    payload: E['payload'],
    msgId: string,
    actorId: string,
  ): Promise<void> {
    const event = makeEvent<E>(
      { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: actorId }, correlationId: randomUUID() },
      type,
      1,
      payload,
    );
    try {
      await this.js.append(this.s.accounts.events(userId), event, { msgId });
    } catch (err) {
      this.logger.error({ err: String(err), userId, type }, 'account event append failed');
      throw unavailable();
    }
  }

  private result(record: SessionRecord, secret: string): LoginResult {
    const user = userView(record);
    return {
      ...this.tokens.issue(user, record.sessionId),
      tokenType: 'Bearer',
      refreshToken: `${record.sessionId}.${secret}`,
      refreshExpiresAt: record.expiresAt,
      sessionId: record.sessionId,
      user,
    };
  }
}

/** RATE_LIMITED for a login; the HTTP adapter turns `retryAfterS` into a Retry-After header. */
export class LoginThrottled extends ChatError {
  constructor(
    readonly retryAfterS: number,
    what = 'failed logins',
  ) {
    super('RATE_LIMITED', `too many ${what}; try again in ${retryAfterS} s`);
  }
}
