import { LoginThrottle } from './login-throttle';

const policy = { windowMs: 60_000, maxPerAccount: 3, maxPerAddress: 5, maxKeys: 100 };

describe('login throttle', () => {
  it('blocks a client on an account after maxPerAccount failures, until the oldest leaves the window', () => {
    const t = new LoginThrottle(policy);
    for (const at of [0, 10_000, 20_000]) {
      expect(t.retryAfterS('alice', '1.1.1.1', at)).toBe(0);
      t.recordFailure('alice', '1.1.1.1', at);
    }
    expect(t.retryAfterS('alice', '1.1.1.1', 20_000)).toBe(40);
    expect(t.retryAfterS('alice', '1.1.1.1', 59_999)).toBe(1);
    expect(t.retryAfterS('alice', '1.1.1.1', 60_000)).toBe(0);
  });

  it('does not let one client lock another out of an account', () => {
    const t = new LoginThrottle(policy);
    for (let i = 0; i < 3; i++) t.recordFailure('alice', 'attacker', i);
    expect(t.retryAfterS('alice', 'attacker', 10)).toBeGreaterThan(0);
    expect(t.retryAfterS('alice', 'owner', 10)).toBe(0);
  });

  it('blocks an address after maxPerAddress failures over all accounts', () => {
    const t = new LoginThrottle(policy);
    ['a', 'b', 'c', 'd', 'e'].forEach((name, i) => t.recordFailure(name, '2.2.2.2', i * 1000));
    expect(t.retryAfterS('fresh-account', '2.2.2.2', 5_000)).toBe(55);
    expect(t.retryAfterS('fresh-account', '3.3.3.3', 5_000)).toBe(0);
  });

  it('a success clears the pair but not the address count', () => {
    const t = new LoginThrottle({ ...policy, maxPerAddress: 4 });
    t.recordFailure('alice', 'x', 0);
    t.recordFailure('alice', 'x', 1);
    t.recordSuccess('alice', 'x');
    t.recordFailure('alice', 'x', 2);
    t.recordFailure('alice', 'x', 3);
    expect(t.retryAfterS('alice', 'x', 4)).toBe(60); // address: 4 failures
    expect(t.retryAfterS('alice', 'x', 60_001)).toBe(0); // the first two left the window
  });

  it('stays bounded: stale keys are pruned and at most maxKeys are kept', () => {
    const t = new LoginThrottle({ ...policy, maxKeys: 10 });
    for (let i = 0; i < 50; i++) t.recordFailure(`user${i}`, `10.0.0.${i}`, i);
    expect(t.size).toBeLessThanOrEqual(10);
    // The newest are kept: the last client is still counted.
    t.recordFailure('user49', '10.0.0.49', 100);
    t.recordFailure('user49', '10.0.0.49', 101);
    expect(t.retryAfterS('user49', '10.0.0.49', 102)).toBeGreaterThan(0);
    // After a window without failures, everything is dropped on the next write.
    t.recordFailure('late', 'y', 200_000);
    expect(t.size).toBe(2);
  });
});
