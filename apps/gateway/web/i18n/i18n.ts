import i18next, { type TOptions } from 'i18next';
import { namespaces, type NamespaceName } from './resources';

// The page's language: English or Simplified Chinese, from the person's choice (kept in
// localStorage, so every tab and later visits use it) or else from the browser's languages.
// Switching stores the choice and reloads the page: everything on it is drawn again in the
// new language, and the session, the drafts and the open room survive a reload.

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'zh-CN', name: '简体中文' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];

const STORE_KEY = 'chat.lang';

/** The first of the browser's languages the page speaks (any Chinese → zh-CN), else English. */
export function languageFrom(stored: string | null, browser: readonly string[]): Language {
  if (stored === 'en' || stored === 'zh-CN') return stored;
  for (const tag of browser) {
    const primary = tag.toLowerCase().split('-')[0];
    if (primary === 'zh') return 'zh-CN';
    if (primary === 'en') return 'en';
  }
  return 'en';
}

function storedChoice(): string | null {
  try {
    return localStorage.getItem(STORE_KEY);
  } catch {
    return null; // storage disabled: the browser's languages decide
  }
}

/**
 * Starts i18next synchronously (the strings are in the bundle) when this module is first
 * imported, before any other module of the page runs, and marks the document's language.
 * Called again (tests), it switches the language.
 */
export function initI18n(
  lang: Language = languageFrom(storedChoice(), typeof navigator === 'undefined' ? [] : (navigator.languages ?? [])),
) {
  if (i18next.isInitialized) {
    void i18next.changeLanguage(lang);
    if (typeof document !== 'undefined') document.documentElement.lang = lang;
    return;
  }
  const resources: Record<string, Record<string, Record<string, string>>> = {};
  for (const { code } of LANGUAGES) {
    resources[code] = {};
    for (const [name, ns] of Object.entries(namespaces)) resources[code][name] = ns[code];
  }
  void i18next.init({
    lng: lang,
    fallbackLng: 'en',
    supportedLngs: LANGUAGES.map((l) => l.code),
    resources,
    ns: Object.keys(namespaces),
    defaultNS: 'common',
    keySeparator: false,
    // Every string reaches the DOM as text (textContent, attributes): escaping would show `&amp;`.
    interpolation: { escapeValue: false },
    initAsync: false,
    returnNull: false,
  });
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
}

initI18n();

export const t = i18next.t.bind(i18next) as typeof i18next.t;

/** The language in use; also the locale of every date, time and number on the page. */
export const language = (): Language => (i18next.language === 'zh-CN' ? 'zh-CN' : 'en');

/** Keeps the choice and draws the page again in it. */
export function setLanguage(lang: Language) {
  try {
    localStorage.setItem(STORE_KEY, lang);
  } catch {
    /* not kept: this page only */
  }
  location.reload();
}

/**
 * Translates the static page (index.html): `data-i18n="ns:key"` sets the text, and
 * `data-i18n-attr="title=ns:key; aria-label=ns:key"` the attributes.
 */
export function translatePage(root: ParentNode = document) {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = tr(el.dataset.i18n!);
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr!.split(';')) {
      const [attr, key] = pair.split('=').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, tr(key));
    }
  }
}

/** A key known only at run time (from the HTML): untyped, and shown as is when missing. */
const tr = (key: string, options?: TOptions) => i18next.t(key as never, options as never) as unknown as string;

export type { NamespaceName };
