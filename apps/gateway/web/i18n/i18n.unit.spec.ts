import { namespaces } from './resources';
import { initI18n, language, languageFrom, t } from './i18n';

describe('the page language', () => {
  it('follows a stored choice, then the first browser language the page speaks', () => {
    expect(languageFrom('zh-CN', ['en-US'])).toBe('zh-CN');
    expect(languageFrom('en', ['zh-CN'])).toBe('en');
    expect(languageFrom(null, ['fr-FR', 'zh-TW', 'en'])).toBe('zh-CN');
    expect(languageFrom(null, ['de', 'en-GB', 'zh'])).toBe('en');
    expect(languageFrom('klingon', ['ja'])).toBe('en');
  });

  it('translates into Chinese and falls back to nothing missing', () => {
    initI18n('zh-CN');
    expect(language()).toBe('zh-CN');
    expect(t('errors:CONTENT_BLOCKED')).toBe('这条消息被内容审核拒绝。');
    expect(t('common:close')).toBe('关闭');
    initI18n('en');
    expect(t('errors:CONTENT_BLOCKED')).toBe('This message was refused by moderation.');
  });
});

describe('the catalogue', () => {
  const placeholders = (s: string) => [...s.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1]).sort();

  for (const [name, ns] of Object.entries(namespaces)) {
    it(`${name}: Chinese has every English key, with the same placeholders, and says something`, () => {
      const en = ns.en as Record<string, string>;
      const zh = ns['zh-CN'] as Record<string, string>;
      expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
      for (const key of Object.keys(en)) {
        expect({ key, placeholders: placeholders(zh[key]) }).toEqual({ key, placeholders: placeholders(en[key]) });
        expect({ key, empty: zh[key].trim() === '' || en[key].trim() === '' }).toEqual({ key, empty: false });
      }
    });
  }
});
