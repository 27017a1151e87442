import type { namespaces } from './resources';

// Typed keys: t('rooms:create.title') is checked against rooms/strings.ts at compile time.
declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'common';
    keySeparator: false;
    resources: { [N in keyof typeof namespaces]: (typeof namespaces)[N]['en'] };
  }
}
