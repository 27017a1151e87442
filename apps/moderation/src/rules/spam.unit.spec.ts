import { chainOf, filterConfig } from './filter-config.fixture';
import { caseCounts, CapsRule, longestRun, RepeatedCharsRule } from './spam';

describe('filters - repeated characters', () => {
  it.each([
    ['hello', 2],
    ['soooooo good', 6],
    ['sOoOoOo', 6], // case
    ['ｓｏｏｏｏ', 4], // full-width
    ['soo\u200Booo', 5], // zero-width space between the letters
    ['sооoо', 4], // Cyrillic о mixed with Latin o
    ['哈哈哈哈哈哈哈', 7], // Chinese counts like any script
    ['!!!!!!!!', 8],
    ['a      b', 1], // white space is not counted
    ['Illinois 1000000', 6], // digits are not look-alikes here: only the six zeros
  ])('%s: longest run %i', (text, run) => {
    expect(longestRun(text)).toBe(run);
  });

  it('a run longer than the limit is refused, one at the limit passes', () => {
    const rule = new RepeatedCharsRule(5);
    expect(rule.check('sooooo')).toEqual({ action: 'allow', body: 'sooooo' });
    expect(rule.check('soooooo')).toEqual({ action: 'block', reason: 'the message repeats one character more than 5 times in a row' });
    expect(rule.check('好好好好好好').action).toBe('block');
    expect(new RepeatedCharsRule(0).check('z'.repeat(500)).action).toBe('allow');
  });
});

describe('filters - capitals', () => {
  it('counts letters with case only (Chinese has none), after NFKC', () => {
    expect(caseCounts('Hello WORLD')).toEqual({ cased: 10, upper: 6 });
    expect(caseCounts('ＳＨＯＵＴ')).toEqual({ cased: 5, upper: 5 });
    expect(caseCounts('你好 OK 谢谢')).toEqual({ cased: 2, upper: 2 });
    expect(caseCounts('ПРИВЕТ')).toEqual({ cased: 6, upper: 6 });
  });

  it('refuses above the percentage when the text has enough letters', () => {
    const rule = new CapsRule(70, 10);
    expect(rule.check('THIS IS ALL CAPS')).toEqual({ action: 'block', reason: 'too many capital letters (more than 70% of the letters)' });
    expect(rule.check('OK LOL').action).toBe('allow'); // too short to count
    expect(rule.check('NASA and the ESA launched it').action).toBe('allow');
    expect(rule.check('这个真的很好 OK').action).toBe('allow');
    expect(rule.check('ＢＵＹ ＮＯＷ ＣＨＥＡＰ').action).toBe('block'); // full-width capitals
    expect(rule.check('ВСЕ СЮДА БЫСТРЕЕ').action).toBe('block'); // Cyrillic capitals
    expect(new CapsRule(0, 1).check('OFF ENTIRELY').action).toBe('allow');
  });

  it("the room's thresholds apply besides the server's: a room can be stricter, never more lenient", () => {
    const server = filterConfig({ spam: { capsPercentMax: 50, capsMinLetters: 4, repeatedCharsMax: 10 } });
    expect(chainOf(server).check('LOUD NOISES')).toMatchObject({ action: 'block', rule: 'caps', scope: 'server' });
    expect(chainOf(server, filterConfig({ spam: { capsPercentMax: 0 } })).check('LOUD NOISES').action).toBe('block');
    expect(chainOf(server, filterConfig({ spam: { repeatedCharsMax: 0 } })).check('n' + 'o'.repeat(11)).action).toBe('block');
    expect(chainOf(server, filterConfig({ spam: { capsPercentMax: 20 } })).check('Loud NOISES here')).toMatchObject({
      action: 'block',
      rule: 'caps',
      scope: 'room',
    });
    expect(chainOf(server, filterConfig({})).check('LOUD NOISES').action).toBe('block');
    expect(chainOf(server, filterConfig({ spam: { repeatedCharsMax: 3 } })).check('nooooo')).toMatchObject({
      action: 'block',
      rule: 'repeated-chars',
      scope: 'room',
    });
    expect(chainOf(server).check('nooooo').action).toBe('allow');
  });
});
