/// <reference types="jest" />
import { initI18n } from '../i18n/i18n';
import { chosenLabel, cleanStatusText, lastSeenText, statusLabel } from './format';

describe('web presence - wording', () => {
  const now = new Date(2030, 5, 15, 18, 0, 0).getTime();
  const at = (ms: number) => new Date(now - ms).toISOString();
  const date = (d: Date) => `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
  afterAll(() => initI18n('en'));

  it('says when an offline user was last seen, coarser the longer ago', () => {
    initI18n('en');
    expect(lastSeenText(at(20_000), now, date)).toBe('last seen just now');
    expect(lastSeenText(at(5 * 60_000), now, date)).toBe('last seen 5 minutes ago');
    expect(lastSeenText(at(3 * 3_600_000), now, date)).toBe('last seen 3 hours ago');
    expect(lastSeenText(new Date(2030, 5, 14, 12).toISOString(), now, date)).toBe('last seen yesterday');
    expect(lastSeenText(new Date(2030, 4, 1, 12).toISOString(), now, date)).toBe('last seen 2030-5-1');
    expect(lastSeenText('not a time', now, date)).toBe('offline');
  });

  it('says it in Chinese on a Chinese page, statuses included', () => {
    initI18n('zh-CN');
    expect(lastSeenText(at(20_000), now, date)).toBe('刚刚在线');
    expect(lastSeenText(at(5 * 60_000), now, date)).toBe('5分钟前在线');
    expect(lastSeenText(new Date(2030, 5, 14, 12).toISOString(), now, date)).toBe('昨天在线');
    expect(lastSeenText(new Date(2030, 4, 1, 12).toISOString(), now, date)).toBe('最后在线：2030-5-1');
    expect([chosenLabel('online'), chosenLabel('away'), chosenLabel('busy'), chosenLabel('invisible')]).toEqual([
      '在线',
      '离开',
      '忙碌',
      '隐身',
    ]);
    expect(statusLabel('offline')).toBe('离线');
  });

  it('cleans a custom status as the server keeps it: one trimmed line of at most the limit in code points, empty is none', () => {
    expect(cleanStatusText('  在开会  ', 100)).toBe('在开会');
    expect(cleanStatusText('a\nb', 100)).toBe('a b');
    expect(cleanStatusText('   ', 100)).toBeNull();
    expect(cleanStatusText('😀'.repeat(5), 3)).toBe('😀😀😀');
  });
});
