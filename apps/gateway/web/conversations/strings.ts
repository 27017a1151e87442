import { defineStrings } from '../i18n/define';

// The strings of conversations/: English, and Simplified Chinese with the same keys (i18n/define.ts).
export default defineStrings(
  {
    'list.title': 'Direct messages',
    'list.new': 'New message',
    'list.empty': 'No conversations yet. Start one with ✎, or with “Send a message” on someone in a room’s member list.',
    'preview.you': 'You: {{text}}',
    'preview.deleted': 'message deleted',
    'preview.none': 'No messages yet',
    blocked: 'blocked',
    'open.title': 'Conversation with {{name}}',
    'new.title': 'New message',
    'new.to': 'To (username)',
    'new.message': 'Message',
    'new.send': 'Send',
    'block.done': 'You blocked {{name}}: neither of you can send private messages to the other until you unblock',
    'unblock.done': 'You unblocked {{name}}',
  },
  {
    'list.title': '私信',
    'list.new': '新私信',
    'list.empty': '还没有私信。点 ✎ 开始，或在房间成员列表里对某人点“发私信”。',
    'preview.you': '我：{{text}}',
    'preview.deleted': '消息已删除',
    'preview.none': '还没有消息',
    blocked: '已屏蔽',
    'open.title': '与 {{name}} 的私信',
    'new.title': '新私信',
    'new.to': '发给（用户名）',
    'new.message': '消息',
    'new.send': '发送',
    'block.done': '你屏蔽了 {{name}}：解除屏蔽之前，你们双方都不能给对方发私信',
    'unblock.done': '你解除了对 {{name}} 的屏蔽',
  },
);
