import { defineStrings } from '../i18n/define';

// The strings of reads/: English, and Simplified Chinese with the same keys (i18n/define.ts).
export default defineStrings(
  {
    mentionedYou: '{{name}} mentioned you',
    mentionedYouIn: '{{name}} mentioned you in {{room}}',
    mentions_one: '{{count}} mentioning you',
    mentions_other: '{{count}} mentioning you',
    unread_one: '{{count}} unread',
    unread_other: '{{count}} unread',
  },
  {
    mentionedYou: '{{name}} 提到了你',
    mentionedYouIn: '{{name}} 在 {{room}} 中提到了你',
    mentions_one: '{{count}} 条消息提到你',
    mentions_other: '{{count}} 条消息提到你',
    unread_one: '{{count}} 条未读',
    unread_other: '{{count}} 条未读',
  },
);
