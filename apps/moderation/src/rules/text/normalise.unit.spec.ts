import { skeleton } from './normalise';

/** The skeleton's words, split where a word starts. */
function words(text: string): string[] {
  const sk = skeleton(text);
  const out: string[] = [];
  for (let i = 0; i < sk.text.length; i++) {
    if (sk.wordStart[i]) out.push('');
    out[out.length - 1] += sk.text[i].repeat(sk.run[i]);
  }
  return out;
}

describe('text - skeleton', () => {
  it.each([
    ['ｄａｒｎ', ['darn'], 'full-width forms (NFKC)'],
    ['DaRn', ['darn'], 'case'],
    ['STRAẞE Straße', ['strasse', 'strasse'], 'sharp s'],
    ['s\u200Bp\u00ADa\u2060m\uFE0F', ['spam'], 'zero-width and other default-ignorable characters'],
    ['spàm', ['spam'], 'diacritics of Latin letters'],
    ['ѕраm', ['spam'], 'Cyrillic look-alikes'],
    ['ναρ', ['vap'], 'Greek look-alikes'],
    ['h3ll0 @$$ 5p4m 7ea', ['heiio', 'ass', 'spam', 'tea'], 'digits and symbols for letters'],
    ['sh!t! |t', ['shit', 'it'], '! and | as letters before a letter only'],
    ['f.u.c.k off', ['fuck', 'off'], 'single letters split by dots'],
    ['f u c k off', ['fuck', 'off'], 'single letters split by spaces'],
    ['f-u-c-k off', ['fuck', 'off'], 'single letters split by hyphens'],
    ['f u c k f u c k', ['fuckfuck'], 'a run of single letters is one word'],
    ['sp am', ['sp', 'am'], 'longer pieces stay apart'],
    ['违 禁\u3000词\u200B语', ['违禁词语'], 'no word breaks between CJK characters'],
    ['这是spam广告', ['这是', 'spam', '广告'], 'a Latin word inside Chinese'],
    ['ｶﾞ が', ['ガが'], 'half-width Katakana; Japanese marks are kept'],
    ['ﾊﾟ は\u309A', ['パぱ'], 'the half-width semi-voiced mark too'],
    ['a \u0301spam 违\u0301禁', ['a', 'spam', '违禁'], 'stray combining marks are dropped'],
    ['나쁜 말', ['나쁜말'], 'Hangul syllables stay whole'],
  ])('%s -> %j (%s)', (text, expected) => {
    expect(words(text)).toEqual(expected);
  });

  it('maps each skeleton character back to its span in the original', () => {
    const original = '😀 e\u0301f 𠀀$';
    const sk = skeleton(original);
    expect(sk.text).toBe('ef𠀀s');
    const spans = Array.from({ length: sk.text.length }, (_, i) => original.slice(sk.start[i], sk.end[i]));
    // The combining acute stays with its e; the astral Han character is one unit (two code units).
    expect(spans).toEqual(['e\u0301', 'f', '𠀀', '𠀀', '$']);
  });

  it('a letter repeated inside a word is one character with its count; runs stop at word starts', () => {
    const sk = skeleton('fuuuck o\u200Bo s.s ss');
    expect(sk.text).toBe('fuckoss');
    expect(Array.from(sk.run)).toEqual([1, 3, 1, 1, 2, 2, 2]);
    expect(Array.from(sk.wordStart)).toEqual([1, 0, 0, 0, 1, 1, 1]);
    // l and 1 fold to i, but only the same letter as typed makes a run.
    expect(Array.from(skeleton('iil1').run)).toEqual([2, 1, 1]);
    expect(Array.from(skeleton('FùUúuck').run)).toEqual([1, 4, 1, 1]);
    // The run's span covers all its letters in the original.
    expect('fuuuck'.slice(sk.start[1], sk.end[1])).toBe('uuu');
  });

  it('an empty or all-separator text has an empty skeleton', () => {
    expect(skeleton('').text).toBe('');
    expect(skeleton(' \u200B 😀 ?').text).toBe('');
  });
});
