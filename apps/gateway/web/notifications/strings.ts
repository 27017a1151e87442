import { defineStrings } from '../i18n/define';

// The strings of notifications/: English, and Simplified Chinese with the same keys (i18n/define.ts).
export default defineStrings(
  {
    'desktop.off': 'Desktop notifications are off.',
    'desktop.enable': 'Turn on',
    'desktop.on': 'Desktop notifications are on: mentions of you and private messages, when this tab is hidden or another room is open.',
    'desktop.denied': 'Desktop notifications are blocked in this browser’s site settings.',
    'desktop.unsupported': 'This browser cannot show desktop notifications.',
    'desktop.hint': 'Get a desktop notification when someone mentions you or writes to you privately?',
    'desktop.hintEnable': 'Enable',
    'notice.dm': '{{sender}}',
    'notice.mention': '{{sender}} mentioned you in {{room}}',
    'mute.on': 'Mute',
    'mute.off': 'Unmute',
    'mute.onTitle': 'Mute this room: no desktop notifications, and its unread messages are not counted in the tab title',
    'mute.title': 'Muted: no desktop notifications, and its unread messages are not counted in the tab title',
  },
  {
    'desktop.off': '桌面通知已关闭。',
    'desktop.enable': '开启',
    'desktop.on': '桌面通知已开启：当此标签页不在前台或打开的是其他房间时，有人提及你或给你发私信会通知你。',
    'desktop.denied': '桌面通知已在此浏览器的网站设置中被禁止。',
    'desktop.unsupported': '此浏览器无法显示桌面通知。',
    'desktop.hint': '有人提及你或给你发私信时，要收到桌面通知吗？',
    'desktop.hintEnable': '开启',
    'notice.dm': '{{sender}}',
    'notice.mention': '{{sender}} 在 {{room}} 中提及了你',
    'mute.on': '免打扰',
    'mute.off': '取消免打扰',
    'mute.onTitle': '对此房间免打扰：不显示桌面通知，未读消息也不计入标签页标题',
    'mute.title': '免打扰：不显示桌面通知，未读消息也不计入标签页标题',
  },
);
