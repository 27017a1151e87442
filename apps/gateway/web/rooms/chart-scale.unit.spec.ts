/// <reference types="jest" />
import { busiest, labelledIndexes, niceTicks } from './chart-scale';

describe('web rooms - statistics chart scales', () => {
  it('makes round ticks from 0 that cover the maximum', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(3)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(10)).toEqual([0, 5, 10]);
    expect(niceTicks(87)).toEqual([0, 50, 100]);
    expect(niceTicks(87, 8)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(1234)).toEqual([0, 500, 1000, 1500]);
    for (const max of [1, 9, 11, 99, 101, 4321, 99_999]) {
      const ticks = niceTicks(max);
      expect(ticks[0]).toBe(0);
      expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
      expect(ticks[ticks.length - 2]).toBeLessThan(max);
      expect(ticks.length).toBeLessThanOrEqual(7);
    }
  });

  it('labels every column when they fit, else evenly spaced ones with both ends', () => {
    expect(labelledIndexes(0, 5)).toEqual([]);
    expect(labelledIndexes(7, 10)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(labelledIndexes(30, 6)).toEqual([0, 6, 12, 18, 24, 29]);
    expect(labelledIndexes(31, 6)).toEqual([0, 6, 12, 18, 24, 30]);
    // The hours: the label before the last one makes way rather than touch it.
    expect(labelledIndexes(24, 17)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 23]);
    const many = labelledIndexes(366, 8);
    expect(many[0]).toBe(0);
    expect(many[many.length - 1]).toBe(365);
    expect(many.length).toBeLessThanOrEqual(8);
  });

  it('names the busiest entries, largest first, ignoring empty ones', () => {
    expect(busiest([0, 5, 2, 5, 9, 0], 3)).toEqual([4, 1, 3]);
    expect(busiest([0, 0, 1], 3)).toEqual([2]);
    expect(busiest([], 3)).toEqual([]);
  });
});
