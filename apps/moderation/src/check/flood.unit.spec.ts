import { floodKey, FloodTracker } from './flood';

describe('send check - flood', () => {
  const W = 30_000;

  it('the same text in 3 distinct rooms within the window is a flood, with the wait until it is not', () => {
    const f = new FloodTracker(3, W);
    expect(f.note('u', 'a', 'buy cheap watches', 0)).toEqual({ flood: false });
    expect(f.note('u', 'b', 'buy cheap watches', 1_000)).toEqual({ flood: false });
    // The room "a" message leaves the window at 30 000; then only two rooms are left.
    expect(f.note('u', 'c', 'buy cheap watches', 2_000)).toEqual({ flood: true, rooms: 3, retryAfterMs: 28_000 });
  });

  it('the same room many times, different texts, or other users do not make a flood', () => {
    const f = new FloodTracker(3, W);
    for (let i = 0; i < 5; i++) expect(f.note('u', 'a', 'same text again', i).flood).toBe(false);
    expect(f.note('u', 'b', 'some other text', 10).flood).toBe(false);
    expect(f.note('v', 'c', 'same text again', 20).flood).toBe(false);
    expect(f.note('u', 'c', 'a third text here', 30).flood).toBe(false);
  });

  it('texts older than the window do not count', () => {
    const f = new FloodTracker(3, W);
    f.note('u', 'a', 'hello everyone here', 0);
    f.note('u', 'b', 'hello everyone here', 1_000);
    expect(f.note('u', 'c', 'hello everyone here', 31_000).flood).toBe(false);
  });

  it.each([
    ['Buy CHEAP watches!!!', 'case and punctuation'],
    ['ｂｕｙ ｃｈｅａｐ ｗａｔｃｈｅｓ', 'full-width'],
    ['buy\u200B cheap watches', 'a zero-width space'],
    ['buy сhеар watches', 'Cyrillic look-alikes'],
  ])('sees through %s (%s)', (variant) => {
    const f = new FloodTracker(3, W);
    f.note('u', 'a', 'buy cheap watches', 0);
    f.note('u', 'b', 'buy cheap watches', 1);
    expect(f.note('u', 'c', variant, 2).flood).toBe(true);
  });

  it('Chinese text', () => {
    const f = new FloodTracker(3, W);
    f.note('u', 'a', '快来买便宜的手表', 0);
    f.note('u', 'b', '快来买 便宜的手表！', 1);
    expect(f.note('u', 'c', '快来买便宜的手表。', 2).flood).toBe(true);
  });

  it('short texts (greetings) are not tracked', () => {
    expect(floodKey('hi!')).toBeNull();
    expect(floodKey('谢谢')).toBeNull();
    const f = new FloodTracker(2, W);
    f.note('u', 'a', 'ok', 0);
    expect(f.note('u', 'b', 'ok', 1).flood).toBe(false);
  });

  it('going on after a refusal is still a flood (refused sends are noted too)', () => {
    const f = new FloodTracker(3, W);
    f.note('u', 'a', 'join my server now', 0);
    f.note('u', 'b', 'join my server now', 1);
    expect(f.note('u', 'c', 'join my server now', 2).flood).toBe(true);
    expect(f.note('u', 'a', 'join my server now', 3).flood).toBe(true);
  });
});
