import { LoginThrottle, clientOf } from './login-throttle';

const policy = { windowMs: 60_000, maxPerAccount: 3, maxPerAddress: 5, maxKeys: 100 };

describe('login throttle', () => {
  it('blocks a client on an account after maxPerAccount failed attempts, until the oldest leaves the window', () => {
    const t = new LoginThrottle(policy);
    for (const at of [0, 10_000, 20_000]) expect(t.admit('alice', '1.1.1.1', at)).toBe(0);
    expect(t.admit('alice', '1.1.1.1', 20_000)).toBe(40);
    expect(t.admit('alice', '1.1.1.1', 59_999)).toBe(1);
    expect(t.admit('alice', '1.1.1.1', 60_000)).toBe(0);
  });

  it('counts an attempt from its admission: concurrent attempts cannot overtake the limit', () => {
    const t = new LoginThrottle(policy);
    // Ten attempts arrive together; none has finished verifying yet.
    const admitted = Array.from({ length: 10 }, () => t.admit('alice', '1.1.1.1', 5)).filter((wait) => wait === 0);
    expect(admitted).toHaveLength(3);
  });

  it('a refused attempt is not counted (waiting out the window is enough)', () => {
    const t = new LoginThrottle(policy);
    for (let i = 0; i < 3; i++) t.admit('alice', 'x', 0);
    for (let i = 0; i < 20; i++) expect(t.admit('alice', 'x', 1000 + i)).toBeGreaterThan(0);
    expect(t.admit('alice', 'x', 60_000)).toBe(0);
  });

  it('does not let one client lock another out of an account', () => {
    const t = new LoginThrottle(policy);
    for (let i = 0; i < 3; i++) t.admit('alice', 'attacker', i);
    expect(t.admit('alice', 'attacker', 10)).toBeGreaterThan(0);
    expect(t.admit('alice', 'owner', 10)).toBe(0);
  });

  it('blocks an address after maxPerAddress failures over all accounts', () => {
    const t = new LoginThrottle(policy);
    ['a', 'b', 'c', 'd', 'e'].forEach((name, i) => t.admit(name, '2.2.2.2', i * 1000));
    expect(t.admit('fresh-account', '2.2.2.2', 5_000)).toBe(55);
    expect(t.admit('fresh-account', '3.3.3.3', 5_000)).toBe(0);
  });

  it('a success clears the pair and is not a failure of the address', () => {
    const t = new LoginThrottle({ ...policy, maxPerAddress: 4 });
    t.admit('alice', 'x', 0);
    t.admit('alice', 'x', 1);
    t.admit('alice', 'x', 2);
    t.succeeded('alice', 'x', 2);
    // Pair: cleared. Address: 2 failures (0 and 1), the success taken back.
    expect(t.admit('alice', 'x', 3)).toBe(0);
    expect(t.admit('alice', 'x', 4)).toBe(0);
    expect(t.admit('alice', 'x', 5)).toBe(60); // address now at 4
  });

  it('release takes back an attempt that could not be decided', () => {
    const t = new LoginThrottle(policy);
    t.admit('alice', 'x', 0);
    t.admit('alice', 'x', 1);
    t.admit('alice', 'x', 2);
    t.release('alice', 'x', 2);
    expect(t.admit('alice', 'x', 3)).toBe(0);
    expect(t.admit('alice', 'x', 4)).toBeGreaterThan(0);
  });

  it('stays bounded: stale keys are pruned and at most maxKeys are kept', () => {
    const t = new LoginThrottle({ ...policy, maxKeys: 10 });
    for (let i = 0; i < 50; i++) t.admit(`user${i}`, `10.0.0.${i}`, i);
    expect(t.size).toBeLessThanOrEqual(10);
    // The newest are kept: the last client is still counted.
    t.admit('user49', '10.0.0.49', 100);
    t.admit('user49', '10.0.0.49', 101);
    expect(t.admit('user49', '10.0.0.49', 102)).toBeGreaterThan(0);
    // After a window without failures, everything is dropped on the next write.
    t.admit('late', 'y', 200_000);
    expect(t.size).toBe(2);
  });

  it('limits IPv6 clients by their /64 network and reads IPv4-mapped addresses as IPv4', () => {
    expect(clientOf('203.0.113.7')).toBe('203.0.113.7');
    expect(clientOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientOf('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(clientOf('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(clientOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientOf('::1')).toBe('0:0:0:0::/64');
    const t = new LoginThrottle(policy);
    for (let i = 1; i <= 3; i++) t.admit('alice', `2001:db8:0:1::${i}`, i);
    expect(t.admit('alice', '2001:db8:0:1:ffff::9', 10)).toBeGreaterThan(0);
    expect(t.admit('alice', '2001:db8:0:2::1', 10)).toBe(0);
  });
});
