import { defineStrings } from './define';

// Words used all over the page: buttons of dialogs, times, counts.
export default defineStrings(
  {
    close: 'Close',
    dismiss: 'Dismiss',
    cancel: 'Cancel',
    save: 'Save',
    'error.code': 'error code',
    'language.label': 'Language',
    retryIn: '(Try again in {{duration}}.)',
  },
  {
    close: '关闭',
    dismiss: '知道了',
    cancel: '取消',
    save: '保存',
    'error.code': '错误代码',
    'language.label': '语言',
    retryIn: '（{{duration}}后可重试。）',
  },
);
