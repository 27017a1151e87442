// A namespace of the page's strings: English first, and Simplified Chinese with exactly the same
// keys (the type refuses a missing or an extra one). Values are i18next strings: `{{name}}`
// placeholders, and `_one` / `_other` plural forms chosen by a `count` option (Chinese has only
// `_other`; its `_one` is kept for the key check and never shown).

export type Strings = Readonly<Record<string, string>>;

export interface Namespace<E extends Strings> {
  readonly en: E;
  readonly 'zh-CN': { readonly [K in keyof E]: string };
}

export function defineStrings<const E extends Strings>(en: E, zh: { readonly [K in keyof E]: string }): Namespace<E> {
  return { en, 'zh-CN': zh };
}
