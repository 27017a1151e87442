import { MemoryAttemptLists } from './attempt-lists';
import { LoginThrottle, RegistrationThrottle, clientOf } from './login-throttle';

const policy = { windowMs: 60_000, maxPerAccount: 3, maxPerAddress: 5 };

describe('login throttle', () => {
  it('blocks a client on an account after maxPerAccount failed attempts, until the oldest leaves the window', async () => {
    const t = new LoginThrottle(policy, new MemoryAttemptLists());
    for (const at of [0, 10_000, 20_000]) expect(await t.admit('alice', '1.1.1.1', at)).toBe(0);
    expect(await t.admit('alice', '1.1.1.1', 20_000)).toBe(40);
    expect(await t.admit('alice', '1.1.1.1', 59_999)).toBe(1);
    expect(await t.admit('alice', '1.1.1.1', 60_000)).toBe(0);
  });

  it('counts an attempt from its admission: concurrent attempts cannot overtake the limit', async () => {
    const t = new LoginThrottle(policy, new MemoryAttemptLists());
    // Ten attempts arrive together; none has finished verifying yet.
    const admitted = (await Promise.all(Array.from({ length: 10 }, () => t.admit('alice', '1.1.1.1', 5)))).filter((wait) => wait === 0);
    expect(admitted).toHaveLength(3);
  });

  it('a refused attempt is not counted (waiting out the window is enough)', async () => {
    const t = new LoginThrottle(policy, new MemoryAttemptLists());
    for (let i = 0; i < 3; i++) await t.admit('alice', 'x', 0);
    for (let i = 0; i < 20; i++) expect(await t.admit('alice', 'x', 1000 + i)).toBeGreaterThan(0);
    expect(await t.admit('alice', 'x', 60_000)).toBe(0);
  });

  it('does not let one client lock another out of an account', async () => {
    const t = new LoginThrottle(policy, new MemoryAttemptLists());
    for (let i = 0; i < 3; i++) await t.admit('alice', 'attacker', i);
    expect(await t.admit('alice', 'attacker', 10)).toBeGreaterThan(0);
    expect(await t.admit('alice', 'owner', 10)).toBe(0);
  });

  it('blocks an address after maxPerAddress failures over all accounts', async () => {
    const t = new LoginThrottle(policy, new MemoryAttemptLists());
    for (const [i, name] of ['a', 'b', 'c', 'd', 'e'].entries()) await t.admit(name, '2.2.2.2', i * 1000);
    expect(await t.admit('fresh-account', '2.2.2.2', 5_000)).toBe(55);
    expect(await t.admit('fresh-account', '3.3.3.3', 5_000)).toBe(0);
  });

  it('a success clears the pair and is not a failure of the address', async () => {
    const t = new LoginThrottle({ ...policy, maxPerAddress: 4 }, new MemoryAttemptLists());
    await t.admit('alice', 'x', 0);
    await t.admit('alice', 'x', 1);
    await t.admit('alice', 'x', 2);
    await t.succeeded('alice', 'x', 2);
    // Pair: cleared. Address: 2 failures (0 and 1), the success taken back.
    expect(await t.admit('alice', 'x', 3)).toBe(0);
    expect(await t.admit('alice', 'x', 4)).toBe(0);
    expect(await t.admit('alice', 'x', 5)).toBe(60); // address now at 4
  });

  it('release takes back an attempt that could not be decided', async () => {
    const t = new LoginThrottle(policy, new MemoryAttemptLists());
    await t.admit('alice', 'x', 0);
    await t.admit('alice', 'x', 1);
    await t.admit('alice', 'x', 2);
    await t.release('alice', 'x', 2);
    expect(await t.admit('alice', 'x', 3)).toBe(0);
    expect(await t.admit('alice', 'x', 4)).toBeGreaterThan(0);
  });

  it('limits IPv6 clients by their /64 network and reads IPv4-mapped addresses as IPv4', async () => {
    expect(clientOf('203.0.113.7')).toBe('203.0.113.7');
    expect(clientOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientOf('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(clientOf('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(clientOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientOf('::1')).toBe('0:0:0:0::/64');
    const t = new LoginThrottle(policy, new MemoryAttemptLists());
    for (let i = 1; i <= 3; i++) await t.admit('alice', `2001:db8:0:1::${i}`, i);
    expect(await t.admit('alice', '2001:db8:0:1:ffff::9', 10)).toBeGreaterThan(0);
    expect(await t.admit('alice', '2001:db8:0:2::1', 10)).toBe(0);
  });

  it('an address refused for its overall count leaves nothing in the pair count', async () => {
    const t = new LoginThrottle({ windowMs: 60_000, maxPerAccount: 2, maxPerAddress: 2 }, new MemoryAttemptLists());
    await t.admit('a', 'x', 0);
    await t.admit('b', 'x', 1);
    expect(await t.admit('c', 'x', 2)).toBe(60);
    // Once the address's failures leave the window, "c" has its full two attempts.
    expect(await t.admit('c', 'x', 60_001)).toBe(0);
    expect(await t.admit('c', 'x', 60_002)).toBe(0);
    expect(await t.admit('c', 'x', 60_003)).toBeGreaterThan(0);
  });
});

describe('registration throttle', () => {
  it('at most max registrations per address within the window, concurrent ones included; other addresses unaffected', async () => {
    const t = new RegistrationThrottle({ windowMs: 3_600_000, max: 3 }, new MemoryAttemptLists());
    const waits = await Promise.all(Array.from({ length: 10 }, (_, i) => t.admit('203.0.113.9', 1000 + i)));
    expect(waits.filter((w) => w === 0)).toHaveLength(3);
    expect(waits.filter((w) => w > 0)).toEqual(Array(7).fill(3600));
    expect(await t.admit('203.0.113.10', 2000)).toBe(0);
    // An IPv6 client counts by its /64.
    for (let i = 1; i <= 3; i++) expect(await t.admit(`2001:db8:0:1::${i}`, i)).toBe(0);
    expect(await t.admit('2001:db8:0:1::ffff', 10)).toBeGreaterThan(0);
    // A released (undecided) registration gives its place back.
    await t.release('203.0.113.9', 1001);
    expect(await t.admit('203.0.113.9', 3000)).toBe(0);
    expect(await t.admit('203.0.113.9', 3001)).toBeGreaterThan(0);
    // The first one leaves the window an hour after it was admitted.
    expect(await t.admit('203.0.113.9', 3_601_000)).toBe(0);
  });
});
