import { BlockList } from './blocklist';

describe('blocklist - check', () => {
  const list = BlockList.parse('darn, spam link ,坏蛋, ass');

  it.each([
    ['darn it', 'reject'],
    ['DARN', 'reject'],
    ['ｄａｒｎ', 'reject'], // full-width Latin folds to ASCII under NFKC
    ['buy this spam   link now', 'reject'],
    ['你是个坏蛋吗', 'reject'],
    ['a class act', 'allow'],
    ['darned', 'allow'],
    ['你好，世界', 'allow'],
  ])('%s -> %s', (text, verdict) => {
    expect(list.check(text).verdict).toBe(verdict);
  });

  it('returns the accepted body NFC-normalised', () => {
    const r = BlockList.parse('').check('e\u0301');
    expect(r).toEqual({ verdict: 'allow', body: '\u00e9' });
  });

  it('an empty list blocks nothing', () => {
    expect(new BlockList([]).check('anything at all').verdict).toBe('allow');
  });

  describe('evasions that look the same as the blocked word', () => {
    const strict = BlockList.parse('spam,违禁,strasse');
    it.each([
      ['s\u200Bpam', 'zero-width space'],
      ['sp\u00ADam', 'soft hyphen'],
      ['spa\u034Fm', 'combining grapheme joiner'],
      ['s\u2060pam', 'word joiner'],
      ['违\u200B禁', 'zero-width space in Chinese'],
      ['违\uFE00禁', 'variation selector'],
      ['违 禁', 'a space inside a Chinese word'],
      ['违\u3000禁', 'an ideographic space inside a Chinese word'],
      ['这是spam广告', 'a Latin word inside Chinese text'],
      ['STRAẞE', 'capital sharp s'],
      ['Straße', 'sharp s'],
      ['spam!', 'punctuation after the word'],
      ['(spam)', 'punctuation around the word'],
      ['x_spam_x', 'underscores are not letters'],
      ['ѕраm', 'Cyrillic look-alikes'],
      ['5p@m', 'a digit and a symbol for letters'],
      ['spåm', 'a diacritic'],
      ['s.p.a.m', 'dots between the letters'],
      ['s p a m', 'spaces between the letters'],
      ['spaaam', 'a stretched letter'],
    ])('%s (%s) is refused', (text) => {
      expect(strict.check(text).verdict).toBe('reject');
    });

    it.each([
      ['spammer', 'a longer Latin word'],
      ['antispam', 'a longer Latin word'],
      ['违法 禁止', 'two different Chinese words'],
      ['sp am', 'a space inside a Latin word (two words)'],
      ['spam2', 'a digit after the word (2 is no look-alike)'],
      ['s.p.a.m.s', 'a longer word spelt out'],
      ['sppam', 'a doubled letter is not a stretched one'],
    ])('%s (%s) is allowed', (text) => {
      expect(strict.check(text).verdict).toBe('allow');
    });

    it('the stored body keeps what the sender typed (folding is only for matching)', () => {
      expect(strict.check('ok\u200Bfine 你 好')).toEqual({ verdict: 'allow', body: 'ok\u200Bfine 你 好' });
    });
  });
});
