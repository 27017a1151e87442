import { t } from '../i18n/i18n';

// Who is typing, said in one line (pure, unit-tested).

/** "alice is typing…", "alice and bob are typing…", "several people are typing…", or '' for nobody. */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return t('messages:typing.one', { name: names[0] });
  if (names.length === 2) return t('messages:typing.two', { first: names[0], second: names[1] });
  return t('messages:typing.several', { count: names.length });
}
