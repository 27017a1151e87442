import { chainOf, filterConfig } from './filter-config.fixture';
import { patternProblem, PatternsRule } from './patterns';

const rule = (...ps: Array<[string, string, 'mask' | 'block' | 'hold']>) =>
  new PatternsRule(ps.map(([name, pattern, action]) => ({ name, pattern, action })));

describe('filters - patterns', () => {
  describe('validation when set', () => {
    it.each([
      ['\\bfree\\s+money\\b'],
      ['\\p{Script=Han}{2}币'],
      ['https?://\\S+'],
      ['(?<year>\\d{4})-\\d\\d'],
      ['(?:ab|cd)+x'],
      ['\\b(?:free|cheap)\\s+(?:pills|followers)\\b'],
      ['f(?:oo|ar)+'],
    ])('%s is accepted', (src) => {
      expect(patternProblem(src)).toBeNull();
    });

    it.each([
      ['(a+)+$', /backtrack/],
      ['(\\w+\\s?)*$', /backtrack/],
      ['(x*)*y', /backtrack/],
      ['(a|aa)*b', /alternatives of \(a\|aa\)/],
      ['(?:S|ſ)+x', /backtrack/], // ſ is s, case-insensitively
      ['((a|b|)c)*d', /backtrack/], // an alternative that matches nothing
      ['(?:foo|far)+', /backtrack/], // conservative: a shared first character is enough
      ['[a-', /does not compile/],
      ['\\k<nope>', /does not compile/], // invalid under the u flag
      ['a{2,1}', /does not compile/],
      ['x?', /matches the empty text/],
    ])('%s is refused', (src, why) => {
      expect(patternProblem(src)).toMatch(why);
    });
  });

  it('block: refuses and names the pattern', () => {
    expect(rule(['money', '\\bfree\\s+money\\b', 'block']).check('get FREE   money now')).toEqual({
      action: 'block',
      reason: 'the message matches the pattern "money"',
      rule: 'pattern:money',
    });
  });

  it.each([
    ['ｆｒｅｅ ｍｏｎｅｙ', 'full-width letters'],
    ['fr\u200Bee mo\u00ADney', 'invisible characters inside the words'],
    ['FrEe MoNeY', 'mixed case'],
    ['𝐟𝐫𝐞𝐞 𝐦𝐨𝐧𝐞𝐲', 'mathematical bold letters'],
  ])('sees through %s (%s)', (text) => {
    expect(rule(['money', '\\bfree\\s+money\\b', 'block']).check(text).action).toBe('block');
  });

  it('matches Chinese text without spaces', () => {
    const r = rule(['coins', '免费(?:领取|赠送)\\p{Script=Han}{0,4}币', 'block']);
    expect(r.check('今天免费领取游戏币啦').action).toBe('block');
    expect(r.check('今天免\u200B费领取游戏币').action).toBe('block');
    expect(r.check('今天的游戏很好玩').action).toBe('allow');
  });

  it('mask: every match is replaced by *** where it was typed, the rest kept as typed', () => {
    const r = rule(['phone', '\\d{3}-\\d{4}', 'mask']);
    expect(r.check('call 555-1234 or 555-9876')).toEqual({ action: 'allow', body: 'call *** or ***' });
    // A full-width number folds to ASCII for matching; the span masked is the original one.
    expect(r.check('电话５５５－１２３４，谢谢')).toEqual({ action: 'allow', body: '电话***，谢谢' });
  });

  it('hold: held unless a later pattern blocks', () => {
    expect(rule(['review', 'crypto', 'hold']).check('crypto tips')).toMatchObject({ action: 'hold', rule: 'pattern:review' });
    expect(rule(['review', 'crypto', 'hold'], ['scam', 'guaranteed', 'block']).check('crypto, guaranteed')).toMatchObject({
      action: 'block',
      rule: 'pattern:scam',
    });
  });

  it('the same pattern object answers the same on every message (no state left from the last one)', () => {
    const r = rule(['x', 'abc', 'hold']);
    expect(r.check('abc').action).toBe('hold');
    expect(r.check('abc').action).toBe('hold');
    expect(r.check('xyz').action).toBe('allow');
  });

  it("a room's patterns join the server's", () => {
    const server = filterConfig({ patterns: [{ name: 's', pattern: 'foo', action: 'block' }] });
    const room = filterConfig({ patterns: [{ name: 'r', pattern: 'bar', action: 'block' }] });
    const chain = chainOf(server, room);
    expect(chain.check('foo')).toMatchObject({ action: 'block', rule: 'pattern:s' });
    expect(chain.check('bar')).toMatchObject({ action: 'block', rule: 'pattern:r' });
    expect(chainOf(server).check('bar').action).toBe('allow');
  });
});

describe('filters - patterns that backtrack for long', () => {
  // Accepted by the set-time check (no nested quantifiers), yet seconds to tens of seconds of
  // backtracking on these texts if run in the service's own thread.
  it.each([
    ['\\w*\\w*x', 'a'.repeat(4000)],
    ['a.*b.*c', 'ab'.repeat(2000)],
  ])('%s on a crafted text holds the message instead of stalling the service, and the next message is checked as usual', (src, text) => {
    expect(patternProblem(src)).toBeNull();
    const r = rule(['slow', src, 'block'], ['money', 'money', 'block']);
    expect(r.check(text)).toEqual({
      action: 'hold',
      reason: 'the filter patterns took too long on this message',
      rule: 'pattern-time-limit',
    });
    expect(r.check('plain words').action).toBe('allow');
    expect(r.check('xabc').action).toBe('block');
    expect(r.check('money').action).toBe('block');
  });
});
