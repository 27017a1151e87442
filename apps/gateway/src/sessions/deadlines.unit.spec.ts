import { Deadlines } from './deadlines';

describe('Deadlines - a timer wheel for the sessions', () => {
  function wheel(tickMs = 100, startMs = 1_000) {
    const due: string[] = [];
    const d = new Deadlines<string>(tickMs, (item) => due.push(item), startMs);
    return { d, due };
  }

  it('an item is due once its slot has ended: never before its time, at most one tick after', () => {
    const { d, due } = wheel();
    d.schedule('a', 1_250);
    d.advance(1_249);
    expect(due).toEqual([]);
    d.advance(1_299);
    expect(due).toEqual([]);
    d.advance(1_300);
    expect(due).toEqual(['a']);
    d.advance(5_000);
    expect(due).toEqual(['a']);
    expect(d.size).toBe(0);
  });

  it('earliest first, each once, also after a long stall (many slots at once)', () => {
    const { d, due } = wheel();
    d.schedule('late', 900_000);
    d.schedule('c', 3_000);
    d.schedule('b', 2_000);
    d.schedule('a', 1_100);
    d.advance(10_000);
    expect(due).toEqual(['a', 'b', 'c']);
    expect(d.has('late')).toBe(true);
    d.advance(900_000);
    expect(due).toEqual(['a', 'b', 'c', 'late']);
  });

  it('schedule replaces the deadline; cancel removes it; a past deadline is due at the next advance', () => {
    const { d, due } = wheel();
    d.schedule('a', 1_200);
    d.schedule('a', 5_000);
    d.schedule('b', 1_200);
    d.cancel('b');
    d.advance(2_000);
    expect(due).toEqual([]);
    d.schedule('past', 500);
    d.advance(2_000);
    expect(due).toEqual([]);
    d.advance(2_100);
    expect(due).toEqual(['past']);
    d.advance(5_000);
    expect(due).toEqual(['past', 'a']);
  });

  it('onDue may schedule its item again (later) and cancel others due in the same round', () => {
    const due: string[] = [];
    const d: Deadlines<string> = new Deadlines<string>(
      100,
      (item) => {
        due.push(item);
        if (item === 'a') {
          d.cancel('b');
          if (due.length === 1) d.schedule('a', 0);
        }
      },
      1_000,
    );
    d.schedule('a', 1_100);
    d.schedule('b', 1_100);
    d.advance(1_100);
    expect(due).toEqual(['a']);
    expect(d.has('a')).toBe(true);
    d.advance(1_200);
    expect(due).toEqual(['a', 'a']);
    expect(d.size).toBe(0);
  });
});
