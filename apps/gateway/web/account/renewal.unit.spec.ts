/// <reference types="jest" />
import {
  DUE_SLACK_MS,
  RENEW_LEAD_MAX_MS,
  RENEW_LEAD_MIN_MS,
  isDue,
  renewDelayMs,
  renewLeadMs,
  retryDelayMs,
  usableStored,
} from './renewal';

describe('web token renewal - timing', () => {
  it('renews a quarter of the lifetime before expiry, at most a minute and at least 3 s before', () => {
    expect(renewLeadMs(900_000)).toBe(RENEW_LEAD_MAX_MS);
    expect(renewLeadMs(40_000)).toBe(10_000);
    expect(renewLeadMs(4_000)).toBe(RENEW_LEAD_MIN_MS);
  });

  it('waits until the lead before expiry, and not at all once it is due or past', () => {
    const now = 1_000_000;
    expect(renewDelayMs(now + 900_000, 900_000, now)).toBe(840_000);
    expect(renewDelayMs(now + 30_000, 40_000, now)).toBe(20_000);
    expect(renewDelayMs(now + 5_000, 40_000, now)).toBe(0);
    expect(renewDelayMs(now - 5_000, 40_000, now)).toBe(0);
  });

  it('uses a token another tab stored only when it is a different one that is not due itself', () => {
    const now = 1_000_000;
    expect(usableStored({ accessToken: 'b', expiresAtMs: now + 800_000 }, 'a', 900_000, now)).toBe(true);
    // Our own token again: the other tab did not renew, we must.
    expect(usableStored({ accessToken: 'a', expiresAtMs: now + 800_000 }, 'a', 900_000, now)).toBe(false);
    // Renewed long ago and due again.
    expect(usableStored({ accessToken: 'b', expiresAtMs: now + 30_000 }, 'a', 900_000, now)).toBe(false);
    expect(usableStored(null, 'a', 900_000, now)).toBe(false);
  });

  it('is due from the renewal lead before expiry, or a moment earlier (the connection asks at that lead by its own timer)', () => {
    const now = 1_000_000;
    const life = 900_000;
    const lead = renewLeadMs(life);
    expect(isDue(now + lead, life, now)).toBe(true);
    expect(isDue(now + lead + DUE_SLACK_MS - 1, life, now)).toBe(true);
    expect(isDue(now + lead + DUE_SLACK_MS + 1, life, now)).toBe(false);
    expect(isDue(now + 600_000, life, now)).toBe(false);
    expect(isDue(now - 1, life, now)).toBe(true);
  });

  it('retries a renewal that could not reach the server after 5 s, doubling up to a minute', () => {
    expect([1, 2, 3, 4, 5, 6].map(retryDelayMs)).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  });
});
