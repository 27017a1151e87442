// Pure helpers of the suite's connections / join-storm scenarios (bench/scenarios/*.mjs). The .mjs
// files have no type declarations: they are loaded through an untyped dynamic import (SWC turns it
// into a require that Jest transforms like any other source).
const load = (p: string): Promise<any> => import(p);
let rampSteps: (count: number) => number[];
let layouts: (clients: number, roomSize: number) => { label: string; rooms: number; roomOf: (i: number) => number }[];

beforeAll(async () => {
  ({ rampSteps } = await load('../../bench/scenarios/connections.mjs'));
  ({ layouts } = await load('../../bench/scenarios/join-storm.mjs'));
});

describe('connections rampSteps', () => {
  it('keeps the standard steps below the count and ends at the count', () => {
    expect(rampSteps(10_000)).toEqual([1000, 2000, 5000, 10_000]);
    expect(rampSteps(1000)).toEqual([1000]);
    expect(rampSteps(3000)).toEqual([1000, 2000, 3000]);
    expect(rampSteps(500)).toEqual([500]);
    expect(rampSteps(12_000)).toEqual([1000, 2000, 5000, 10_000, 12_000]);
  });
});

describe('join-storm layouts', () => {
  it('is one room, then rooms of the given size (the last one smaller)', () => {
    const [one, split] = layouts(25, 10);
    expect(one.rooms).toBe(1);
    expect(one.roomOf(24)).toBe(0);
    expect(split.label).toBe('rooms of 10');
    expect(split.rooms).toBe(3);
    expect([0, 9, 10, 19, 20, 24].map(split.roomOf)).toEqual([0, 0, 1, 1, 2, 2]);
  });
  it('has only the one room when the room size is not below the clients', () => {
    expect(layouts(10, 10)).toHaveLength(1);
  });
});
