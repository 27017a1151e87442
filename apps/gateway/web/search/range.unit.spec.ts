/// <reference types="jest" />
import { timeRange } from './range';

describe('web search - date filters', () => {
  it('turns picked days into a range that includes the whole last day, in the reader’s calendar', () => {
    expect(timeRange('2026-11-03', '2026-11-05')).toEqual({
      from: new Date(2026, 10, 3).toISOString(),
      to: new Date(2026, 10, 6).toISOString(),
    });
    // The end of a month and of a year roll over.
    expect(timeRange('', '2026-12-31')).toEqual({ to: new Date(2027, 0, 1).toISOString() });
    expect(timeRange('2026-02-28', '')).toEqual({ from: new Date(2026, 1, 28).toISOString() });
    expect(timeRange('2026-11-05', '2026-11-05')).toEqual({
      from: new Date(2026, 10, 5).toISOString(),
      to: new Date(2026, 10, 6).toISOString(),
    });
  });

  it('ignores empty or malformed days and refuses a reversed range', () => {
    expect(timeRange('', '')).toEqual({});
    expect(timeRange('yesterday', '2026-13')).toEqual({});
    expect(timeRange('2026-11-06', '2026-11-05')).toBeNull();
  });
});
