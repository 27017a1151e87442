import { takeToken, type Bucket } from './rate-limit';

describe('request rate limit - token bucket', () => {
  it('starts full: a burst goes through, the next one waits for a refill', () => {
    const b: Bucket = { rateTokens: 0, rateAtMs: 0 };
    for (let i = 0; i < 5; i++) expect(takeToken(b, 1000, 10, 5)).toBe(0);
    expect(takeToken(b, 1000, 10, 5)).toBe(100);
    expect(takeToken(b, 1050, 10, 5)).toBe(50);
    expect(takeToken(b, 1100, 10, 5)).toBe(0);
  });

  it('refills at the rate, never beyond the burst', () => {
    const b: Bucket = { rateTokens: 0, rateAtMs: 0 };
    for (let i = 0; i < 3; i++) takeToken(b, 0 + 1, 2, 3);
    expect(takeToken(b, 1, 2, 3)).toBe(500);
    const later = 1 + 3_600_000;
    for (let i = 0; i < 3; i++) expect(takeToken(b, later, 2, 3)).toBe(0);
    expect(takeToken(b, later, 2, 3)).toBeGreaterThan(0);
  });
});
