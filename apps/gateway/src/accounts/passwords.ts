import { Algorithm, hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';

export interface Argon2Params {
  memoryKiB: number;
  iterations: number;
}

/**
 * argon2id password hashing (OWASP parameters by default: m=19456 KiB, t=2, p=1). Hashing runs
 * on libuv's thread pool, so the event loop keeps serving WebSockets while a login is checked.
 */
export class PasswordHasher {
  private readonly dummy: Promise<string>;

  constructor(private readonly params: Argon2Params) {
    // Logins for unknown names verify against this hash, so that they cost the same time as a
    // wrong password and response times do not reveal which names exist.
    this.dummy = this.hash(randomBytes(32).toString('base64'));
  }

  hash(password: string): Promise<string> {
    return hash(password, {
      algorithm: Algorithm.Argon2id,
      memoryCost: this.params.memoryKiB,
      timeCost: this.params.iterations,
      parallelism: 1,
    });
  }

  /** false for a wrong password and for a stored hash that cannot be parsed. */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }

  /** Burns the time of one verification; always false. */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(await this.dummy, password);
    return false;
  }
}
