import { duration, progressLine, type RebuildProgress } from './rebuild';

describe('rebuild progress line', () => {
  const start = 1_000_000;
  const at = (position: number, events: number): RebuildProgress => ({
    from: 1,
    target: 1000,
    position,
    events,
    deadLetters: 2,
    startedAt: start,
  });

  it('shows the bar, the position, events/s and the time left from the rate so far', () => {
    expect(progressLine(at(250, 250), start + 10_000, 20)).toBe(
      '[#####...............]  25.0% 250/1,000  25 events/s  30s left  elapsed 10s  dead letters 2',
    );
  });

  it('is full with nothing left at the target, also when following past it or when there was nothing to do', () => {
    expect(progressLine(at(1200, 1200), start + 60_000, 10)).toMatch(/^\[#{10}\] 100\.0% 1,200\/1,000 .* 0s left/);
    expect(progressLine({ ...at(0, 0), from: 1, target: 0 }, start, 10)).toMatch(/^\[#{10}\] 100\.0% 0\/0  0 events\/s  0s left/);
  });

  it('a resumed run counts from where it resumed', () => {
    expect(progressLine({ ...at(600, 100), from: 501 }, start + 10_000, 10)).toMatch(
      /^\[##\.{8}\]  20\.0% 600\/1,000  10 events\/s  40s left/,
    );
  });

  it('durations', () => {
    expect([duration(0), duration(59.4), duration(61), duration(3599), duration(3600 * 5 + 120)]).toEqual([
      '0s',
      '59s',
      '1m01s',
      '59m59s',
      '5h02m',
    ]);
  });
});
