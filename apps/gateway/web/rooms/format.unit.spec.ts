/// <reference types="jest" />
import { initI18n } from '../i18n/i18n';
import { dayText, localStart, roleName, slowModeText, zoneName } from './format';

describe('web rooms - wording', () => {
  afterAll(() => initI18n('en'));

  it('says roles and slow mode in the page language', () => {
    initI18n('zh-CN');
    expect(roleName('owner')).toBe('所有者');
    expect(roleName('admin')).toBe('管理员');
    expect(slowModeText(30)).toBe('30秒钟');
    expect(slowModeText(300)).toBe('5分钟');
    initI18n('en');
    expect(roleName('member')).toBe('member');
    expect(slowModeText(1)).toBe('1 second');
    expect(slowModeText(90)).toBe('90 seconds');
    expect(slowModeText(7200)).toBe('2 hours');
  });

  it('writes UTC days as short dates of the page language, whatever the reader’s time zone', () => {
    initI18n('zh-CN');
    expect(dayText('2026-12-01')).toBe('12月1日');
    expect(dayText('2026-12-01', true)).toBe('2026年12月1日');
    initI18n('en');
    expect(dayText('2026-01-31')).toBe('Jan 31');
    expect(dayText('not a day')).toBe('not a day');
  });

  it('names the reader’s offset from UTC and where a UTC hour starts for them', () => {
    expect(zoneName(0)).toBe('UTC');
    expect(zoneName(480)).toBe('UTC+8');
    expect(zoneName(-210)).toBe('UTC−3:30');
    expect(localStart(0, 480)).toBe('08:00');
    expect(localStart(20, 480)).toBe('04:00');
    expect(localStart(1, -210)).toBe('21:30');
  });
});
