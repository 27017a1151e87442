import { chainOf, filterConfig, words } from './filter-config.fixture';
import { roomWords, ServerWords, WordsRule } from './words';

const blocked = (...terms: string[]) => chainOf(filterConfig({ words: words('block', ...terms) }));

describe('filters - words (block, mask, allow-list)', () => {
  const list = blocked('darn', 'spam link', '坏蛋', 'ass');

  it.each([
    ['darn it', 'block'],
    ['DARN', 'block'],
    ['ｄａｒｎ', 'block'], // full-width Latin folds to ASCII under NFKC
    ['buy this spam   link now', 'block'],
    ['你是个坏蛋吗', 'block'],
    ['a class act', 'allow'],
    ['darned', 'allow'],
    ['你好，世界', 'allow'],
  ])('%s -> %s', (text, action) => {
    expect(list.check(text).action).toBe(action);
  });

  it('a refusal names the words rule', () => {
    expect(list.check('darn')).toEqual({ action: 'block', rule: 'words', reason: 'the message contains a blocked word', scope: 'server' });
  });

  it('returns the accepted body NFC-normalised', () => {
    expect(blocked().check('e\u0301')).toEqual({ action: 'allow', body: '\u00e9' });
  });

  it('BLOCKED_WORDS from the configuration are server block words', () => {
    const chain = chainOf(filterConfig({}), null, ['forbidden', '禁止']);
    expect(chain.check('this is 禁止 text').action).toBe('block');
    expect(chain.check('FORBIDDEN').action).toBe('block');
    expect(chain.check('hello').action).toBe('allow');
  });

  describe('evasions that look the same as the blocked word', () => {
    const strict = blocked('spam', '违禁', 'strasse');
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
      expect(strict.check(text).action).toBe('block');
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
      expect(strict.check(text).action).toBe('allow');
    });

    it('the stored body keeps what the sender typed (folding is only for matching)', () => {
      expect(strict.check('ok\u200Bfine 你 好')).toEqual({ action: 'allow', body: 'ok\u200Bfine 你 好' });
    });
  });

  describe('mask', () => {
    const masking = chainOf(filterConfig({ words: words('mask', 'darn', '笨蛋') }));
    it.each([
      ['darn it', '*** it'],
      ['oh D.A.R.N!', 'oh ***!'],
      ['ｄａｒｎ you', '*** you'],
      ['你这个笨蛋！', '你这个***！'],
      ['你这个笨\u200B蛋', '你这个***'],
      ['darned', 'darned'],
    ])('%s -> %s', (text, body) => {
      expect(masking.check(text)).toEqual({ action: 'allow', body });
    });

    it('a block entry anywhere in the text wins over masks', () => {
      const both = chainOf(filterConfig({ words: [...words('mask', 'darn'), ...words('block', 'spam')] }));
      expect(both.check('darn spam').action).toBe('block');
    });
  });

  describe('allow-list', () => {
    it('whole-word entries do not hit inside innocent words; the allow-list guards substring hits', () => {
      const chain = chainOf(filterConfig({ words: words('block', 'ass', 'cunt'), allow: ['class', 'Scunthorpe'] }));
      expect(chain.check('a class act in Scunthorpe').action).toBe('allow');
      expect(chain.check('what an ass').action).toBe('block');
    });

    it("the server's allow-list spares the room's words; the room's spares only its own, never the server's", () => {
      // Substring-like entry: a Chinese term is found anywhere, so allow-listing a longer word matters.
      const server = filterConfig({ words: words('block', '傻'), allow: ['傻瓜相机'] });
      const room = filterConfig({ words: words('block', '瓜', '笨'), allow: ['傻子', '笨鸟先飞'] });
      const chain = chainOf(server, room);
      expect(chain.check('我买了一台傻瓜相机').action).toBe('allow'); // server allow spares the room's 瓜 and its own 傻
      expect(chain.check('他是个傻子')).toMatchObject({ action: 'block', scope: 'server' }); // a room cannot lift the server's 傻
      expect(chain.check('笨鸟先飞').action).toBe('allow'); // the room's allow spares the room's 笨
      expect(chain.check('你真笨')).toMatchObject({ action: 'block', scope: 'room' });
      expect(chain.check('西瓜')).toMatchObject({ action: 'block', scope: 'room' });
    });

    it('a room with only an allow-list changes nothing', () => {
      const server = new ServerWords(words('block', '傻'), []);
      const rule = new WordsRule(server, roomWords([], ['傻子'], server));
      expect(rule.check('傻子').action).toBe('block');
    });
  });
});
