import type { AttemptLists, ListChange } from './attempt-lists';

/**
 * Failed-login throttling. Two limits, each over a sliding window of `windowMs`:
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
 * The lists live in `AttemptLists`: in the gateway a NATS KV bucket shared by every gateway, so
 * a client that spreads its attempts over several gateways gets the limit once, not once per
 * gateway. The clock is passed in.
 */
export interface LoginThrottlePolicy {
  windowMs: number;
  maxPerAccount: number;
  maxPerAddress: number;
}

export class LoginThrottle {
  constructor(
    private readonly policy: LoginThrottlePolicy,
    private readonly lists: AttemptLists,
  ) {}

  /**
   * Admits an attempt if the client is under both limits, counting it as a failure right away;
   * resolves 0, or the seconds to wait (nothing counted). Call `succeeded` when it succeeds.
   */
  async admit(accountKey: string, address: string, now: number): Promise<number> {
    const { windowMs, maxPerAccount, maxPerAddress } = this.policy;
    const pair = await this.lists.modify(pairKey(accountKey, address), admitChange(now, windowMs, maxPerAccount));
    if (pair > 0) return toSeconds(pair);
    const overall = await this.lists.modify(addressKey(address), admitChange(now, windowMs, maxPerAddress));
    if (overall > 0) {
      // Refused for the address: the pair must not keep the attempt either.
      await this.lists.modify(pairKey(accountKey, address), removeChange(now));
      return toSeconds(overall);
    }
    return 0;
  }

  /**
   * The admitted attempt succeeded: it was not a failure. Clears the pair's failures and takes
   * the attempt back from the address count.
   */
  async succeeded(accountKey: string, address: string, admittedAt: number): Promise<void> {
    await this.lists.modify(addressKey(address), removeChange(admittedAt));
    await this.lists.modify(pairKey(accountKey, address), (list) => ({ list: list.length ? [] : null, result: undefined }));
  }

  /** The admitted attempt could not be decided (the account store failed): it does not count. */
  async release(accountKey: string, address: string, admittedAt: number): Promise<void> {
    await this.lists.modify(pairKey(accountKey, address), removeChange(admittedAt));
    await this.lists.modify(addressKey(address), removeChange(admittedAt));
  }
}

/**
 * Registrations per client address: at most `max` within a sliding window of `windowMs`, counted
 * from admission (concurrent registrations cannot overtake the limit), shared by every gateway
 * like the login limits. A registration refused for its input is not counted; one refused
 * USERNAME_TAKEN is (probing names costs the same).
 */
export class RegistrationThrottle {
  constructor(
    private readonly policy: { windowMs: number; max: number },
    private readonly lists: AttemptLists,
  ) {}

  /** Resolves 0 (counted), or the seconds to wait (not counted). */
  async admit(address: string, now: number): Promise<number> {
    return toSeconds(await this.lists.modify(registrationKey(address), admitChange(now, this.policy.windowMs, this.policy.max)));
  }

  /** The admitted registration could not be decided (the account store failed): it does not count. */
  async release(address: string, admittedAt: number): Promise<void> {
    await this.lists.modify(registrationKey(address), removeChange(admittedAt));
  }
}

const toSeconds = (ms: number) => (ms > 0 ? Math.ceil(ms / 1000) : 0);

/**
 * Adds `now` to the list when fewer than `max` times are inside the window (result 0), else
 * leaves it and results in the ms until the time that filled the limit leaves the window.
 * Only the newest `max` times are kept: no others can decide a wait.
 */
function admitChange(now: number, windowMs: number, max: number): ListChange<number> {
  return (list) => {
    const live = list.filter((t) => t > now - windowMs).sort((a, b) => a - b);
    if (live.length >= max) return { list: null, result: Math.max(1, live[live.length - max] + windowMs - now) };
    live.push(now);
    return { list: live.slice(-max), result: 0 };
  };
}

/** Takes one attempt admitted at `at` back (the list is left alone when it is not there). */
function removeChange(at: number): ListChange<void> {
  return (list) => {
    const i = list.lastIndexOf(at);
    return { list: i >= 0 ? [...list.slice(0, i), ...list.slice(i + 1)] : null, result: undefined };
  };
}

const pairKey = (accountKey: string, address: string) => `p\u0000${accountKey}\u0000${clientOf(address)}`;
const addressKey = (address: string) => `a\u0000${clientOf(address)}`;
const registrationKey = (address: string) => `r\u0000${clientOf(address)}`;

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
