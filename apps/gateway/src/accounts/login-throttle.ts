/**
 * Failed-login throttling, pure (the clock is passed in). Two limits, each over a sliding
 * window of `windowMs`:
 *
 * - per (account, client address): `maxPerAccount` failures, then that client may not try that
 *   account again until the oldest failure leaves the window. Keyed on the pair, not the
 *   account alone, so nobody can lock someone else out of their account by failing on purpose.
 * - per client address: `maxPerAddress` failures over all accounts (credential stuffing from one
 *   address).
 *
 * A successful login clears the pair's failures. The check runs before the password hash is
 * verified, so a throttled attempt costs no argon2 time and reveals nothing about the password.
 * An attempt counts as a failure from the moment it is admitted (`admit`) until it succeeds:
 * otherwise many attempts sent at once would all pass the check while the first ones are still
 * being verified.
 * State is per gateway process and bounded: at most `maxKeys` keys, the stalest dropped first.
 */
export interface LoginThrottlePolicy {
  windowMs: number;
  maxPerAccount: number;
  maxPerAddress: number;
  maxKeys: number;
}

export class LoginThrottle {
  // Insertion order = order of last failure (a key is re-inserted on each failure), so the
  // first keys are the stalest: eviction and pruning walk from the front.
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly policy: LoginThrottlePolicy) {}

  /** Seconds until this client may try this account again, or 0 when it may now. */
  private retryAfterS(accountKey: string, address: string, now: number): number {
    const waits = [
      this.waitMs(pairKey(accountKey, address), this.policy.maxPerAccount, now),
      this.waitMs(addressKey(address), this.policy.maxPerAddress, now),
    ];
    const ms = Math.max(...waits);
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  /**
   * Admits an attempt if the client is under both limits, counting it as a failure right away;
   * returns 0, or the seconds to wait (nothing counted). Call `succeeded` when it succeeds.
   */
  admit(accountKey: string, address: string, now: number): number {
    const wait = this.retryAfterS(accountKey, address, now);
    if (wait > 0) return wait;
    this.push(pairKey(accountKey, address), this.policy.maxPerAccount, now);
    this.push(addressKey(address), this.policy.maxPerAddress, now);
    return 0;
  }

  /**
   * The admitted attempt succeeded: it was not a failure. Clears the pair's failures and takes
   * the attempt back from the address count.
   */
  succeeded(accountKey: string, address: string, admittedAt: number): void {
    this.release(accountKey, address, admittedAt);
    this.failures.delete(pairKey(accountKey, address));
  }

  /** The admitted attempt could not be decided (the account store failed): it does not count. */
  release(accountKey: string, address: string, admittedAt: number): void {
    for (const key of [pairKey(accountKey, address), addressKey(address)]) {
      const list = this.failures.get(key);
      const i = list?.lastIndexOf(admittedAt) ?? -1;
      if (list && i >= 0) list.splice(i, 1);
    }
  }

  /** Number of keys held (for tests and metrics). */
  get size(): number {
    return this.failures.size;
  }

  private waitMs(key: string, max: number, now: number): number {
    const list = this.live(key, now);
    if (!list || list.length < max) return 0;
    // Blocked until the failure that filled the limit leaves the window.
    return list[list.length - max] + this.policy.windowMs - now;
  }

  private push(key: string, max: number, now: number): void {
    const list = this.live(key, now) ?? [];
    list.push(now);
    // Only the newest `max` failures can decide a wait.
    if (list.length > max) list.splice(0, list.length - max);
    this.failures.delete(key);
    this.failures.set(key, list);
    this.prune(now);
  }

  /** The key's failures still inside the window (dropping the key when none are). */
  private live(key: string, now: number): number[] | undefined {
    const list = this.failures.get(key);
    if (!list) return undefined;
    const from = now - this.policy.windowMs;
    while (list.length && list[0] <= from) list.shift();
    if (list.length === 0) {
      this.failures.delete(key);
      return undefined;
    }
    return list;
  }

  private prune(now: number): void {
    for (const [key, list] of this.failures) {
      const stale = list[list.length - 1] <= now - this.policy.windowMs;
      if (!stale && this.failures.size <= this.policy.maxKeys) break;
      this.failures.delete(key);
    }
  }
}

const pairKey = (accountKey: string, address: string) => `p\u0000${accountKey}\u0000${clientOf(address)}`;
const addressKey = (address: string) => `a\u0000${clientOf(address)}`;

/**
 * The unit a limit applies to. IPv4 (also written IPv4-mapped, `::ffff:1.2.3.4`): the address.
 * IPv6: its /64 network, because one host is routinely given a whole /64 and could otherwise
 * try from billions of addresses.
 */
export function clientOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(':')) return address;
  const [head, tail = ''] = address.toLowerCase().split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
