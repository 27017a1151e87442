/// <reference types="jest" />
// Here, not beside audit-text.ts: it reads the moderation service's own summaries, and only tests
// outside the apps may import two of them.
/// <reference lib="dom" />
import { randomUUID } from 'node:crypto';
import {
  emptyFilterConfig,
  makeEvent,
  type AuditEntry,
  type ModerationEvent,
  type ModerationEventType,
  type UserView,
} from '@chat/contracts';
// The moderation service's own summaries: the sentences are read from exactly what it writes.
import { auditRecord } from '../../apps/moderation/src/audit/audit';
import { initI18n } from '../../apps/gateway/web/i18n/i18n';
import { AUDIT_TYPES, auditSentence, auditTypeLabel, type Namer } from '../../apps/gateway/web/moderation/audit-text';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const ctx = { now: () => new Date(T0), newId: randomUUID, actor: { kind: 'service' as const, id: 'moderation' }, correlationId: 'c' };
const alice = { userId: randomUUID(), username: 'Alice' };
const bob = { userId: randomUUID(), username: 'Bob: the builder' }; // a name with ": " must not cut the reason
const by = { byUserId: alice.userId as string, byUsername: alice.username };
const auto = { byUserId: null, byUsername: null };
const ROOM = 'r-1a2b3c';
const REPORT = randomUUID();

// The page names rooms by their name and people by their username; ids never show.
const namer: Namer = {
  user: (u: UserView) => u.username,
  room: (id: string) => (id === ROOM ? '# general' : `# ${id}`),
};

const ev = <T extends ModerationEventType>(type: T, payload: Extract<ModerationEvent, { type: T }>['payload']): ModerationEvent =>
  makeEvent<ModerationEvent>(ctx, type, 1, payload as never);

const mute = (
  roomId: string | null,
  seconds: number,
  reason: string,
  who: { byUserId: string | null; byUsername: string | null } = by,
  rule: string | null = null,
) =>
  ev('UserMuted', {
    muteId: randomUUID(),
    userId: bob.userId,
    username: bob.username,
    roomId,
    until: new Date(T0 + seconds * 1000).toISOString(),
    reason,
    rule,
    ...who,
  });

/** One event of every type, and what the page says of it in English and Chinese. */
const cases: Array<{ event: ModerationEvent; en: string; zh: string }> = [
  {
    event: ev('FilterConfigSet', { scope: 'server', roomId: null, config: { ...emptyFilterConfig(), allow: ['class'] }, ...by }),
    en: 'Alice changed the server’s filters (0 words, 1 allowed, 0 patterns, 0 domains)',
    zh: 'Alice 修改了服务器的过滤规则（0 个词，1 个白名单词，0 条正则，0 个域名）',
  },
  {
    event: ev('ServerRoleSet', { userId: bob.userId, username: bob.username, role: 'moderator', ...by }),
    en: 'Alice made Bob: the builder a server moderator',
    zh: 'Alice 将 Bob: the builder 设为服务器版主',
  },
  {
    event: mute(ROOM, 600, 'spam: links'),
    en: 'Alice muted Bob: the builder in # general for 10 min: spam: links',
    zh: 'Alice 在 # general 将 Bob: the builder 禁言 10 分钟：spam: links',
  },
  {
    event: ev('UserUnmuted', { muteId: randomUUID(), userId: bob.userId, username: bob.username, roomId: null, reason: 'lifted', ...by }),
    en: 'Alice lifted Bob: the builder’s server-wide mute',
    zh: 'Alice 解除了 Bob: the builder 的全服禁言',
  },
  {
    event: ev('UserWarned', { userId: bob.userId, username: bob.username, reason: '不要发广告', rule: null, ...by }),
    en: 'Alice warned Bob: the builder: 不要发广告',
    zh: 'Alice 警告了 Bob: the builder：不要发广告',
  },
  {
    event: ev('StrikeRecorded', {
      strikeId: randomUUID(),
      userId: bob.userId,
      username: bob.username,
      kind: 'filtered',
      detail: 'blocked word',
      roomId: ROOM,
      count: 2,
      rule: 'words',
    }),
    en: 'Strike 2 for Bob: the builder in # general: a filtered message: blocked word',
    zh: 'Bob: the builder 在 # general 第 2 次违规：消息被过滤：blocked word',
  },
  {
    event: ev('UserServerBanned', {
      userId: bob.userId,
      username: bob.username,
      reason: 'spam account',
      review: true,
      rule: 'strikes',
      ...auto,
    }),
    en: 'Automatic moderation (repeated violations) banned Bob: the builder from the server, waiting for a moderator’s review: spam account',
    zh: '自动审核（多次违规）封禁了 Bob: the builder，等待管理员复核：spam account',
  },
  {
    event: ev('UserServerUnbanned', { userId: bob.userId, username: bob.username, ...by }),
    en: 'Alice unbanned Bob: the builder',
    zh: 'Alice 解封了 Bob: the builder',
  },
  {
    event: ev('UserServerKicked', { userId: bob.userId, username: bob.username, reason: '休息一下', ...by }),
    en: 'Alice disconnected Bob: the builder from the server: 休息一下',
    zh: 'Alice 将 Bob: the builder 踢出服务器（断开连接）：休息一下',
  },
  {
    event: ev('ReportFiled', {
      reportId: REPORT,
      kind: 'message',
      roomId: ROOM,
      messageId: randomUUID(),
      targetUserId: bob.userId,
      targetUsername: bob.username,
      excerpt: 'buy followers',
      reason: '垃圾信息或广告',
      rule: null,
      held: null,
      ...by,
    }),
    en: 'Alice reported a message by Bob: the builder: 垃圾信息或广告',
    zh: 'Alice 举报了 Bob: the builder 的一条消息：垃圾信息或广告',
  },
  {
    event: ev('ReportClaimed', { reportId: REPORT, ...by }),
    en: 'Alice claimed a report about Bob: the builder',
    zh: 'Alice 认领了关于 Bob: the builder 的举报',
  },
  {
    event: ev('ReportResolved', { reportId: REPORT, action: 'warned', note: 'first time', ...by }),
    en: 'Alice resolved a report about Bob: the builder (warned): first time',
    zh: 'Alice 处理了关于 Bob: the builder 的举报（warned）：first time',
  },
  {
    event: ev('ReportDismissed', { reportId: REPORT, note: '', ...by }),
    en: 'Alice dismissed a report about Bob: the builder',
    zh: 'Alice 驳回了关于 Bob: the builder 的举报',
  },
  {
    event: ev('MessageRedacted', {
      roomId: ROOM,
      messageId: randomUUID(),
      userId: bob.userId,
      username: bob.username,
      reason: 'scam link',
      rule: 'phishing-check',
    }),
    en: 'Automatic moderation (phishing-check) removed a message by Bob: the builder: scam link',
    zh: '自动审核（phishing-check）删除了 Bob: the builder 的一条消息：scam link',
  },
];

/** The entry the service serves for `event` (a report's steps know the report's target, as its fold does). */
const entry = (event: ModerationEvent): AuditEntry =>
  auditRecord(event, 1, (id) => (id === REPORT ? { target: bob, roomId: ROOM } : undefined)).entry;

describe('web moderation - audit entries as sentences', () => {
  afterAll(() => initI18n('en'));

  it('has a case for every audit type of the contracts', () => {
    expect(new Set(cases.map((c) => c.event.type))).toEqual(new Set(AUDIT_TYPES));
  });

  for (const lang of ['en', 'zh-CN'] as const) {
    it(`says every type as a sentence with names, the length and the reason (${lang})`, () => {
      initI18n(lang);
      for (const c of cases) {
        const e = entry(c.event);
        expect({ type: e.type, text: auditSentence(e, namer) }).toEqual({ type: e.type, text: lang === 'en' ? c.en : c.zh });
      }
    });

    it(`never shows an id, a raw type or the English summary (${lang})`, () => {
      initI18n(lang);
      for (const c of cases) {
        const e = entry(c.event);
        const text = auditSentence(e, namer);
        expect(text).not.toContain(ROOM);
        expect(text).not.toContain(REPORT);
        expect(text).not.toContain(bob.userId);
        expect(text).not.toContain(e.type);
        const label = auditTypeLabel(e.type as ModerationEventType);
        expect(label).not.toBe(e.type);
        if (lang === 'zh-CN') expect(label).toMatch(/\p{Script=Han}/u);
      }
    });
  }

  it('the other forms: server-wide and expired mutes, roles, held, approved and unknown reports, automatic mutes', () => {
    initI18n('en');
    const say = (event: ModerationEvent, reportOf?: Parameters<typeof auditRecord>[2]) =>
      auditSentence(auditRecord(event, 1, reportOf).entry, namer);
    expect(say(mute(null, 3 * 3600, ''))).toBe('Alice muted Bob: the builder on the whole server for 3 h');
    expect(say(mute(ROOM, 60, '', auto, 'flood'))).toBe('Automatic moderation (flooding) muted Bob: the builder in # general for 1 min');
    expect(
      say(ev('UserUnmuted', { muteId: 'm', userId: bob.userId, username: bob.username, roomId: ROOM, reason: 'expired', ...auto })),
    ).toBe('Bob: the builder’s mute in # general ended');
    expect(say(ev('ServerRoleSet', { userId: bob.userId, username: bob.username, role: null, ...by }))).toBe(
      'Alice took away Bob: the builder’s server role',
    );
    expect(say(ev('ServerRoleSet', { userId: bob.userId, username: bob.username, role: 'admin', ...by }))).toBe(
      'Alice made Bob: the builder a server administrator',
    );
    const held = ev('ReportFiled', {
      reportId: REPORT,
      kind: 'held',
      roomId: ROOM,
      messageId: null,
      targetUserId: bob.userId,
      targetUsername: bob.username,
      excerpt: null,
      reason: 'link to bit.ly',
      rule: 'links',
      held: { clientMsgId: 'c1', body: 'bit.ly/x' },
      ...auto,
    });
    expect(say(held)).toBe('Automatic moderation (links) held a message by Bob: the builder for review: link to bit.ly');
    expect(
      say(ev('ReportResolved', { reportId: REPORT, action: 'approved', note: '', ...by }), () => ({ target: bob, roomId: ROOM })),
    ).toBe('Alice approved and posted a held message by Bob: the builder');
    expect(say(ev('ReportClaimed', { reportId: randomUUID(), ...by }))).toBe('Alice claimed a report');
    expect(say(ev('FilterConfigSet', { scope: 'room', roomId: ROOM, config: emptyFilterConfig(), ...by }))).toBe(
      'Alice changed the filters of # general (0 words, 0 allowed, 0 patterns, 0 domains)',
    );

    initI18n('zh-CN');
    expect(say(mute(null, 3 * 3600, '刷屏'))).toBe('Alice 将 Bob: the builder 全服禁言 3 小时：刷屏');
    expect(
      say(ev('UserUnmuted', { muteId: 'm', userId: bob.userId, username: bob.username, roomId: null, reason: 'expired', ...auto })),
    ).toBe('Bob: the builder 的全服禁言已到期');
  });

  it('a summary that does not read as expected is said without its details, never in English', () => {
    initI18n('zh-CN');
    const e = entry(mute(ROOM, 600, 'spam'));
    expect(auditSentence({ ...e, summary: 'something new' }, namer)).toBe('Alice 在 # general 将 Bob: the builder 禁言');
    const s = entry(cases.find((c) => c.event.type === 'StrikeRecorded')!.event);
    expect(auditSentence({ ...s, summary: '' }, namer)).toBe('Bob: the builder 在 # general 有一次违规');
  });
});
