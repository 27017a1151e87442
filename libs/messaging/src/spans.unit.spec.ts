import { headers } from '@nats-io/transport-node';
import { SENT_AT_HEADER, Spans, rfc3339Ms } from './spans';

afterEach(() => Spans.enable(null));

describe('timing spans', () => {
  it('records nothing and reads no clock while off', () => {
    const h = headers();
    Spans.stamp(h);
    expect(h.get(SENT_AT_HEADER)).toBe('');
    expect(Spans.start()).toBe(0);
    expect(Spans.on).toBe(false);
  });

  it('when on, a stamped header and a start time give positive spans to the sink', async () => {
    const seen: [string, number][] = [];
    Spans.enable((span, ms) => seen.push([span, ms]));
    const h = headers();
    Spans.stamp(h);
    const t0 = Spans.start();
    await new Promise((r) => setTimeout(r, 20));
    Spans.sinceSent('wait', h);
    Spans.end('handle', t0);
    Spans.end('never started', 0);
    expect(seen.map(([s]) => s)).toEqual(['wait', 'handle']);
    for (const [, ms] of seen) {
      expect(ms).toBeGreaterThanOrEqual(15);
      expect(ms).toBeLessThan(5000);
    }
  });

  it('store times: nanoseconds of a delivery and the RFC 3339 Nats-Time-Stamp of a republish', () => {
    const seen: [string, number][] = [];
    Spans.enable((span, ms) => seen.push([span, ms]));
    const tenMsAgo = Date.now() - 10;
    Spans.sinceStoredNanos('consume', tenMsAgo * 1e6);
    const h = headers();
    h.set('Nats-Time-Stamp', new Date(tenMsAgo).toISOString().replace('Z', '123456Z'));
    Spans.sinceStoredHeader('live', h);
    Spans.sinceStoredHeader('no header', headers());
    expect(seen.map(([s]) => s)).toEqual(['consume', 'live']);
    for (const [, ms] of seen) expect(ms).toBeGreaterThanOrEqual(9);
  });

  it('reads RFC 3339 times with up to nanosecond digits and offsets', () => {
    expect(rfc3339Ms('2026-12-02T04:05:06.123456789Z')).toBeCloseTo(Date.UTC(2026, 11, 2, 4, 5, 6) + 123.456789, 5);
    expect(rfc3339Ms('2026-12-02T04:05:06Z')).toBe(Date.UTC(2026, 11, 2, 4, 5, 6));
    expect(rfc3339Ms('2026-12-02T05:05:06.5+01:00')).toBe(Date.UTC(2026, 11, 2, 4, 5, 6) + 500);
    expect(rfc3339Ms('yesterday')).toBeNull();
    expect(rfc3339Ms(undefined)).toBeNull();
  });
});
