/// <reference types="jest" />
import { cleanStatusText, lastSeenText } from './format';

describe('web presence - wording', () => {
  const now = new Date(2030, 5, 15, 18, 0, 0).getTime();
  const at = (ms: number) => new Date(now - ms).toISOString();
  const date = (d: Date) => `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;

  it('says when an offline user was last seen, coarser the longer ago', () => {
    expect(lastSeenText(at(20_000), now, date)).toBe('last seen just now');
    expect(lastSeenText(at(5 * 60_000), now, date)).toBe('last seen 5 min ago');
    expect(lastSeenText(at(3 * 3_600_000), now, date)).toBe('last seen 3 h ago');
    expect(lastSeenText(new Date(2030, 5, 14, 12).toISOString(), now, date)).toBe('last seen yesterday');
    expect(lastSeenText(new Date(2030, 4, 1, 12).toISOString(), now, date)).toBe('last seen 2030-5-1');
    expect(lastSeenText('not a time', now, date)).toBe('offline');
  });

  it('cleans a custom status as the server keeps it: one trimmed line of at most the limit in code points, empty is none', () => {
    expect(cleanStatusText('  在开会  ', 100)).toBe('在开会');
    expect(cleanStatusText('a\nb', 100)).toBe('a b');
    expect(cleanStatusText('   ', 100)).toBeNull();
    expect(cleanStatusText('😀'.repeat(5), 3)).toBe('😀😀😀');
  });
});
