import type { ErrorCode } from '@chat/contracts';
import { defineStrings } from './define';

// What each error code of docs/protocol.md means, said to a person. Keyed by the ErrorCode union:
// a code added to the contracts fails the type check here until it has both sentences.
const en: Record<ErrorCode, string> = {
  BAD_REQUEST: 'Please check what you entered.',
  FRAME_TOO_LARGE: 'That is too long to send.',
  UNKNOWN_OP: 'This page is out of date: reload it.',
  UNAUTHENTICATED: 'You are not logged in: log in again.',
  AUTH_FAILED: 'Wrong username or password.',
  TOKEN_EXPIRED: 'Your session has expired: log in again.',
  SESSION_REVOKED: 'You were signed out (this session was ended): log in again.',
  ACCOUNT_DISABLED: 'This account was disabled by a server administrator.',
  USERNAME_TAKEN: 'That username is already taken.',
  FORBIDDEN: 'You are not allowed to do that here.',
  NOT_FOUND: 'Not found: it does not exist, or it is hidden from you.',
  CONFLICT: 'Something changed at the same moment: try again.',
  ALREADY_MEMBER: 'Already a member of this room.',
  NOT_MEMBER: 'Not a member of this room.',
  ROOM_FULL: 'This room is full.',
  BANNED: 'Banned from this room.',
  BLOCKED: 'Blocked: a block between you and this user stops this.',
  CONTENT_BLOCKED: 'This message was refused by moderation.',
  HELD_FOR_REVIEW: 'Your message is waiting for a moderator (it is posted if approved).',
  MUTED: 'You are muted: you cannot post until the mute ends.',
  SERVER_BANNED: 'You are banned from this server.',
  RATE_LIMITED: 'Too many requests: wait a moment and try again.',
  UNAVAILABLE: 'The server is busy or restarting: try again in a moment.',
  INTERNAL: 'Something went wrong.',
};

const zh: Record<ErrorCode, string> = {
  BAD_REQUEST: '请检查输入的内容。',
  FRAME_TOO_LARGE: '内容太长，无法发送。',
  UNKNOWN_OP: '页面版本已过期，请刷新。',
  UNAUTHENTICATED: '你尚未登录，请重新登录。',
  AUTH_FAILED: '用户名或密码错误。',
  TOKEN_EXPIRED: '登录已过期，请重新登录。',
  SESSION_REVOKED: '你已被登出（此会话已结束），请重新登录。',
  ACCOUNT_DISABLED: '此账号已被服务器管理员停用。',
  USERNAME_TAKEN: '该用户名已被占用。',
  FORBIDDEN: '你没有权限在这里执行此操作。',
  NOT_FOUND: '未找到：它不存在，或对你不可见。',
  CONFLICT: '同一时间发生了其他更改，请重试。',
  ALREADY_MEMBER: '你已经是这个房间的成员。',
  NOT_MEMBER: '你不是这个房间的成员。',
  ROOM_FULL: '这个房间已满。',
  BANNED: '你已被禁止进入这个房间。',
  BLOCKED: '你们之间存在屏蔽，无法执行此操作。',
  CONTENT_BLOCKED: '这条消息被内容审核拒绝。',
  HELD_FOR_REVIEW: '你的消息正在等待管理员审核（通过后即会发布）。',
  MUTED: '你已被禁言，禁言结束前无法发言。',
  SERVER_BANNED: '你已被此服务器封禁。',
  RATE_LIMITED: '操作太频繁，请稍后再试。',
  UNAVAILABLE: '服务器繁忙或正在重启，请稍后再试。',
  INTERNAL: '出了点问题。',
};

export default defineStrings(en, zh);
