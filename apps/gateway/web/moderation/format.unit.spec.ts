/// <reference types="jest" />
import type { MuteView } from '@chat/contracts';
import { initI18n } from '../i18n/i18n';
import {
  domainsText,
  durationText,
  sanctionReason,
  verdictText,
  lines,
  muteFor,
  optionalInt,
  parseDomains,
  retryAfterOf,
  untilText,
  withMute,
  withoutRetry,
  wordsOf,
  wordsText,
} from './format';

const mute = (over: Partial<MuteView>): MuteView => ({
  muteId: 'm1',
  userId: 'u1',
  username: 'bea',
  roomId: null,
  until: '2030-01-01T00:10:00.000Z',
  reason: 'spam',
  by: null,
  rule: 'strikes',
  time: '2030-01-01T00:00:00.000Z',
  ...over,
});
const at = (iso: string) => Date.parse(iso);

// Every test starts on an English page; the Chinese cases switch and switch back.
beforeEach(() => initI18n('en'));
afterAll(() => initI18n('en'));

describe('web moderation format - refusals', () => {
  it('reads retryAfterMs from a refusal and leaves it out of what people read', () => {
    const msg = 'muted in general until 10:00; retryAfterMs=42000';
    expect(retryAfterOf(msg)).toBe(42_000);
    expect(withoutRetry(msg)).toBe('muted in general until 10:00');
    expect(retryAfterOf('no wait here')).toBeNull();
    expect(retryAfterOf(undefined)).toBeNull();
    expect(withoutRetry('plain')).toBe('plain');
  });

  it('keeps the moderator’s reason of a ban or kick, without the words the page says itself', () => {
    expect(sanctionReason('banned from this server: spam account')).toBe('spam account');
    expect(sanctionReason('you are banned from this server: 广告')).toBe('广告');
    expect(sanctionReason('you are banned from this server')).toBe('');
    expect(sanctionReason('disconnected by a moderator: 休息一下')).toBe('休息一下');
    expect(sanctionReason(undefined)).toBe('');
    expect(sanctionReason('plain reason')).toBe('plain reason');
  });

  it('says durations as a person would, rounding up', () => {
    expect(durationText(400)).toBe('1 s');
    expect(durationText(42_000)).toBe('42 s');
    expect(durationText(61_000)).toBe('2 min');
    expect(durationText(3_600_000)).toBe('1 h');
    expect(durationText(3_900_000)).toBe('1 h 5 min');
    expect(durationText(7 * 86_400_000)).toBe('7 days');
    expect(durationText(86_400_000 * 1.5)).toBe('36 h');
  });

  it('says durations in Chinese on a Chinese page', () => {
    initI18n('zh-CN');
    expect(durationText(42_000)).toBe('42 秒');
    expect(durationText(3 * 60_000)).toBe('3 分钟');
    expect(durationText(3_900_000)).toBe('1 小时 5 分钟');
    expect(durationText(7 * 86_400_000)).toBe('7 天');
  });

  it('says when a mute ends: the time today, the date on another day, in the page language', () => {
    const now = new Date(2030, 0, 1, 9, 0).getTime();
    const later = new Date(2030, 0, 1, 14, 5).toISOString();
    const tomorrow = new Date(2030, 0, 2, 14, 5).toISOString();
    expect(untilText(later, now)).toMatch(/^0?2:05\sPM$|^14:05$/);
    expect(untilText(tomorrow, now)).toMatch(/^Jan 2, /);
    initI18n('zh-CN');
    expect(untilText(later, now)).toBe('14:05');
    expect(untilText(tomorrow, now)).toMatch(/^1月2日 14:05$/);
    expect(untilText(new Date(2031, 0, 2, 14, 5).toISOString(), now)).toMatch(/^2031年1月2日 14:05$/);
    expect(untilText('not a time', now)).toBe('');
  });
});

describe('web moderation format - mutes', () => {
  it('a server-wide mute applies in every room, a room mute only in its room, an ended one nowhere', () => {
    const server = mute({ muteId: 's' });
    const room = mute({ muteId: 'r', roomId: 'general', until: '2030-01-01T01:00:00.000Z' });
    const now = at('2030-01-01T00:05:00.000Z');
    expect(muteFor([server], 'lounge', now)?.muteId).toBe('s');
    expect(muteFor([room], 'lounge', now)).toBeNull();
    expect(muteFor([server, room], 'general', now)?.muteId).toBe('r'); // the longer one
    expect(muteFor([server], 'general', at('2030-01-01T00:10:00.000Z'))).toBeNull();
  });

  it('a new mute of the same scope replaces the previous one', () => {
    const first = mute({ muteId: 'a' });
    const other = mute({ muteId: 'b', roomId: 'general' });
    const next = mute({ muteId: 'c' });
    expect(withMute([first, other], next).map((m) => m.muteId)).toEqual(['b', 'c']);
  });
});

describe('web moderation format - filter editor', () => {
  it('words: one a line, repeats and blanks left out; a term in both boxes is blocked', () => {
    expect(lines(' ass \n\nASS\n傻逼\n')).toEqual(['ass', '傻逼']);
    const words = wordsOf('darn\nheck\n', 'heck\n傻逼');
    expect(words).toEqual([
      { term: 'darn', action: 'mask' },
      { term: 'heck', action: 'block' },
      { term: '傻逼', action: 'block' },
    ]);
    expect(wordsText({ words }, 'block')).toBe('heck\n傻逼');
  });

  it('domains: "<domain> <action>" a line, schemes and paths forgiven, bad lines named', () => {
    const { domains, errors } = parseDomains(
      'https://Example.com/path block\nbit.ly hold\nfoo.com maybe\nnot a domain allow\n\ngood.org allow',
    );
    expect(domains).toEqual([
      { domain: 'example.com', action: 'block' },
      { domain: 'bit.ly', action: 'hold' },
      { domain: 'good.org', action: 'allow' },
    ]);
    expect(errors).toEqual([expect.stringMatching(/^line 3: write "<domain> allow"/), expect.stringMatching(/^line 4: write/)]);
    expect(domainsText(domains)).toBe('example.com block\nbit.ly hold\ngood.org allow');
    initI18n('zh-CN');
    expect(parseDomains('foo.com maybe\nbad_host! allow').errors).toEqual([
      '第 1 行：请写成“<域名> allow”、“<域名> hold”或“<域名> block”',
      '第 2 行：“bad_host!”不是有效的域名（例如 example.com）',
    ]);
  });

  it('a number box: empty is null, a whole number is itself, anything else is NaN (refused by the server)', () => {
    expect(optionalInt(' ')).toBeNull();
    expect(optionalInt('12')).toBe(12);
    expect(optionalInt('1.5')).toBeNaN();
  });
});

describe('web moderation format - the filter test box', () => {
  it('says what the saved filters do with a text', () => {
    expect(verdictText({ verdict: 'allow', body: 'you *** fool' })).toBe('Allowed, posted as: you *** fool');
    const reject = { verdict: 'reject', code: 'CONTENT_BLOCKED', reason: 'blocked word', rule: 'words', retryAfterMs: null } as const;
    expect(verdictText(reject)).toBe('This message was refused by moderation. Rule: word list (blocked word)');
    expect(verdictText({ verdict: 'hold', reason: 'link to bit.ly', rule: 'links', reportId: 'r1' })).toBe(
      'Held for review. Rule: links (link to bit.ly)',
    );
    // A pattern's own name is said as written.
    expect(verdictText({ ...reject, rule: 'free-money' })).toContain('Rule: free-money (');
    initI18n('zh-CN');
    expect(verdictText({ verdict: 'allow', body: '你好' })).toBe('允许，发出的内容为：你好');
    expect(verdictText(reject)).toBe('这条消息被内容审核拒绝。规则：敏感词（blocked word）');
    expect(verdictText({ verdict: 'hold', reason: 'link to bit.ly', rule: 'links', reportId: 'r1' })).toBe(
      '将被扣留待审核。规则：链接（link to bit.ly）',
    );
  });
});
