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
});
