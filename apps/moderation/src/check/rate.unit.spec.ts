import { TokenBuckets } from './rate';

describe('send check - token bucket', () => {
  it('allows a burst, then one message per 1/rate seconds, with the wait when refused', () => {
    const b = new TokenBuckets(2, 3);
    const t = 1_000_000;
    expect([b.take('u', t), b.take('u', t), b.take('u', t)]).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(b.take('u', t)).toEqual({ ok: false, retryAfterMs: 500 });
    expect(b.take('u', t + 250)).toEqual({ ok: false, retryAfterMs: 250 });
    expect(b.take('u', t + 500)).toEqual({ ok: true });
    expect(b.take('u', t + 500)).toEqual({ ok: false, retryAfterMs: 500 });
  });

  it('users have their own buckets, refilled up to the burst', () => {
    const b = new TokenBuckets(1, 2);
    expect(b.take('a', 0)).toEqual({ ok: true });
    expect(b.take('a', 0)).toEqual({ ok: true });
    expect(b.take('b', 0)).toEqual({ ok: true });
    expect(b.take('a', 0).ok).toBe(false);
    // An hour later the bucket holds the burst, not 3600 tokens.
    expect([b.take('a', 3_600_000), b.take('a', 3_600_000), b.take('a', 3_600_000).ok]).toEqual([{ ok: true }, { ok: true }, false]);
  });

  it('a refused send takes nothing: waiting the answered time is enough', () => {
    const b = new TokenBuckets(1, 1);
    expect(b.take('u', 0).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect(b.take('u', 100).ok).toBe(false);
    expect(b.take('u', 1000)).toEqual({ ok: true });
  });

  it('rate 0 is off', () => {
    const b = new TokenBuckets(0, 1);
    for (let i = 0; i < 100; i++) expect(b.take('u', 0)).toEqual({ ok: true });
    expect(b.size).toBe(0);
  });

  it('forgets refilled buckets as time goes on (memory stays bounded)', () => {
    const b = new TokenBuckets(1, 10);
    for (let i = 0; i < 100; i++) b.take(`u${i}`, 0);
    expect(b.size).toBe(100);
    b.take('late', 120_000);
    expect(b.size).toBe(1);
  });
});
