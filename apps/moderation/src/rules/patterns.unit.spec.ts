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

  it('block: refuses and names the pattern', async () => {
    expect(await rule(['money', '\\bfree\\s+money\\b', 'block']).run('get FREE   money now')).toEqual({
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
  ])('sees through %s (%s)', async (text) => {
    expect((await rule(['money', '\\bfree\\s+money\\b', 'block']).run(text)).action).toBe('block');
  });

  it('matches Chinese text without spaces', async () => {
    const r = rule(['coins', '免费(?:领取|赠送)\\p{Script=Han}{0,4}币', 'block']);
    expect((await r.run('今天免费领取游戏币啦')).action).toBe('block');
    expect((await r.run('今天免\u200B费领取游戏币')).action).toBe('block');
    expect((await r.run('今天的游戏很好玩')).action).toBe('allow');
  });

  it('mask: every match is replaced by *** where it was typed, the rest kept as typed', async () => {
    const r = rule(['phone', '\\d{3}-\\d{4}', 'mask']);
    expect(await r.run('call 555-1234 or 555-9876')).toEqual({ action: 'allow', body: 'call *** or ***' });
    // A full-width number folds to ASCII for matching; the span masked is the original one.
    expect(await r.run('电话５５５－１２３４，谢谢')).toEqual({ action: 'allow', body: '电话***，谢谢' });
  });

  it('hold: held unless a later pattern blocks', async () => {
    expect(await rule(['review', 'crypto', 'hold']).run('crypto tips')).toMatchObject({ action: 'hold', rule: 'pattern:review' });
    expect(await rule(['review', 'crypto', 'hold'], ['scam', 'guaranteed', 'block']).run('crypto, guaranteed')).toMatchObject({
      action: 'block',
      rule: 'pattern:scam',
    });
  });

  it('the same pattern object answers the same on every message (no state left from the last one)', async () => {
    const r = rule(['x', 'abc', 'hold']);
    expect((await r.run('abc')).action).toBe('hold');
    expect((await r.run('abc')).action).toBe('hold');
    expect((await r.run('xyz')).action).toBe('allow');
  });

  it("a room's patterns join the server's", async () => {
    const server = filterConfig({ patterns: [{ name: 's', pattern: 'foo', action: 'block' }] });
    const room = filterConfig({ patterns: [{ name: 'r', pattern: 'bar', action: 'block' }] });
    const chain = chainOf(server, room);
    expect(await chain.run('foo')).toMatchObject({ action: 'block', rule: 'pattern:s' });
    expect(await chain.run('bar')).toMatchObject({ action: 'block', rule: 'pattern:r', scope: 'room' });
    expect((await chainOf(server).run('bar')).action).toBe('allow');
  });
});

describe('filters - patterns that backtrack for long', () => {
  // Accepted by the set-time check (no nested quantifiers), yet seconds to tens of seconds of
  // backtracking on these texts if run in the service's own thread.
  it.each([
    ['\\w*\\w*x', 'a'.repeat(4000)],
    ['a.*b.*c', 'ab'.repeat(2000)],
  ])(
    '%s on a crafted text holds the message instead of stalling the service, and the next message is checked as usual',
    async (src, text) => {
      expect(patternProblem(src)).toBeNull();
      const r = rule(['slow', src, 'block'], ['money', 'money', 'block']);
      expect(await r.run(text)).toEqual({
        action: 'hold',
        reason: 'the filter patterns took too long on this message',
        rule: 'pattern-time-limit',
      });
      expect((await r.run('plain words')).action).toBe('allow');
      expect((await r.run('xabc')).action).toBe('block');
      expect((await r.run('money')).action).toBe('block');
    },
  );

  it('the service thread is free while the patterns run: the answer comes later', async () => {
    const r = rule(['slow', '\\w*\\w*x', 'block']);
    let answered = false;
    const answer = r.run('a'.repeat(4000)).then((o) => ((answered = true), o));
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    expect(await answer).toMatchObject({ action: 'hold', rule: 'pattern-time-limit' });
  });

  it('texts run one at a time in order, each with its own time limit', async () => {
    const r = rule(['slow', '\\w*\\w*x', 'block'], ['money', 'money', 'block']);
    const answers = await Promise.all([r.run('a'.repeat(4000)), r.run('money'), r.run('a'.repeat(4000)), r.run('fine')]);
    expect(answers.map((a) => a.action)).toEqual(['hold', 'block', 'hold', 'allow']);
  });

  it('a rule with patterns is run, not checked at once', () => {
    expect(() => rule(['x', 'abc', 'hold']).check('abc')).toThrow(/worker/);
    expect(new PatternsRule([]).check('abc')).toEqual({ action: 'allow', body: 'abc' });
  });
});
