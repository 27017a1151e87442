import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import {
  ChatError,
  LoginRequest,
  RegisterRequest,
  makeEvent,
  usernameKey,
  validateInput,
  type AccountRecord,
  type Subjects,
  type UserRegistered,
  type UserView,
} from '@chat/contracts';
import { JetStreamAdapter, encodeJson, type KvBucket } from '@chat/messaging';
import { HealthRegistry, PINO, SUBJECTS } from '@chat/platform';
import { newAccountRecord, normaliseUsername, parseAccountRecord, userView } from './accounts';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './passwords';
import { TokenService } from './tokens';

export interface LoginResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresAt: string;
  user: UserView;
}

const unavailable = () => new ChatError('UNAVAILABLE', 'the account store is not reachable; try again');

/**
 * Registration and login. Accounts live in the accounts KV bucket under the key of the
 * normalised name, so `kv.create` is the uniqueness check (atomic across gateway replicas);
 * the UserRegistered event is appended afterwards for the other services.
 */
@Injectable()
export class AccountsService implements OnModuleInit {
  private kv!: KvBucket;

  constructor(
    private readonly js: JetStreamAdapter,
    @Inject(SUBJECTS) private readonly s: Subjects,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottle,
    private readonly health: HealthRegistry,
    @Inject(PINO) private readonly logger: Logger,
  ) {}

  async onModuleInit() {
    this.kv = await this.js.kv(this.s.kv.accounts);
    this.health.register('kv', async () => {
      await this.kv.status();
      return true;
    });
  }

  private async lookup(key: string): Promise<{ record: AccountRecord; revision: number } | null> {
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

  async register(body: unknown, correlationId = randomUUID()): Promise<{ user: UserView }> {
    const input = validateInput(RegisterRequest, body);
    if (!input.ok) throw new ChatError(input.error.code, input.error.message, input.error.details);
    const name = normaliseUsername(input.data.username);
    if (!name.ok) throw new ChatError(name.error.code, name.error.message, name.error.details);
    const taken = () => new ChatError('USERNAME_TAKEN', 'this username is already taken');

    // Cheap early answer for a name in use; the create below is what guarantees uniqueness.
    if (await this.lookup(name.data.key)) throw taken();
    const record = newAccountRecord(name.data, await this.hasher.hash(input.data.password), { now: () => new Date(), newId: randomUUID });

    let revision: number;
    try {
      revision = await this.kv.create(name.data.key, encodeJson(record));
    } catch (err) {
      if (await this.lookup(name.data.key)) throw taken();
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
      await this.kv.delete(name.data.key, { previousSeq: revision }).catch(() => undefined);
      throw unavailable();
    }
    return { user: userView(record) };
  }

  /**
   * `address` is the client's (req.ip). Failed attempts are counted per (account, address) and
   * per address (LoginThrottle); over a limit the answer is RATE_LIMITED with `retryAfterS`,
   * before any lookup or hashing. Unknown names count like wrong passwords.
   */
  async login(body: unknown, address = 'unknown'): Promise<LoginResponse> {
    const input = validateInput(LoginRequest, body);
    if (!input.ok) throw new ChatError(input.error.code, input.error.message, input.error.details);
    const key = usernameKey(input.data.username);
    const admittedAt = Date.now();
    const retryAfterS = this.throttle.admit(key, address, admittedAt);
    if (retryAfterS > 0) throw new LoginThrottled(retryAfterS);
    let found: Awaited<ReturnType<AccountsService['lookup']>>;
    let good: boolean;
    try {
      found = await this.lookup(key);
      good = found
        ? await this.hasher.verify(found.record.passwordHash, input.data.password)
        : await this.hasher.verifyDummy(input.data.password);
    } catch (err) {
      this.throttle.release(key, address, admittedAt);
      throw err;
    }
    if (!found || !good) throw new ChatError('AUTH_FAILED', 'wrong username or password');
    this.throttle.succeeded(key, address, admittedAt);
    const user = userView(found.record);
    return { ...this.tokens.issue(user), tokenType: 'Bearer', user };
  }
}

/** RATE_LIMITED for a login; the HTTP adapter turns `retryAfterS` into a Retry-After header. */
export class LoginThrottled extends ChatError {
  constructor(readonly retryAfterS: number) {
    super('RATE_LIMITED', `too many failed logins; try again in ${retryAfterS} s`);
  }
}
