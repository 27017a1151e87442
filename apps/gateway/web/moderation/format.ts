import type { DomainEntry, FilterConfig, LinkAction, ModerationVerdict, MuteView, WordAction } from '@chat/contracts';
import { language, t } from '../i18n/i18n';

// Pure helpers of the moderation UI (no DOM): reading when to retry from a refusal, saying a
// duration and a time in the page's language, which mute applies to a room, and the filter
// editor's text forms (one entry a line).

/** The wait a refusal names (`…; retryAfterMs=<n>` at the end of MUTED and RATE_LIMITED messages), or null. */
export function retryAfterOf(message: string | undefined | null): number | null {
  const m = /retryAfterMs=(\d+)/.exec(message ?? '');
  return m ? Number(m[1]) : null;
}

/** The message without its machine part (`; retryAfterMs=<n>`), for people. */
export const withoutRetry = (message: string): string => message.replace(/[;,]?\s*retryAfterMs=\d+\s*$/, '').trim();

/**
 * The moderator's reason in the gateway's words for a ban or a kick (a close reason such as
 * "banned from this server: spam", a login refusal "you are banned from this server: spam"),
 * without the part the page says itself; '' when there is none.
 */
export const sanctionReason = (text: string | null | undefined): string =>
  (text ?? '')
    .trim()
    .replace(/^(you are )?banned from (this|the) server\.?:?\s*/i, '')
    .replace(/^disconnected by a moderator\.?:?\s*/i, '')
    .trim();

/** "45 s", "12 min", "3 h 5 min", "2 days" ("45 秒", "3 小时 5 分钟"): a wait or a mute's length, rounded up to what a person needs. */
export function durationText(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 60) return t('moderation:duration.s', { count: s });
  const min = Math.ceil(s / 60);
  if (min < 60) return t('moderation:duration.min', { count: min });
  const h = Math.floor(min / 60);
  const rest = min % 60;
  if (h < 48)
    return rest
      ? `${t('moderation:duration.h', { count: h })} ${t('moderation:duration.min', { count: rest })}`
      : t('moderation:duration.h', { count: h });
  return t('moderation:duration.days', { count: Math.round(h / 24) });
}

/** Lengths offered for a mute (Limits.muteSecondsMax is 30 days), said in words ("1 hour", "1 小时"). */
export const MUTE_DURATIONS: ReadonlyArray<{ seconds: number; label: () => string }> = [
  { seconds: 60, label: () => t('moderation:length.minutes', { count: 1 }) },
  { seconds: 600, label: () => t('moderation:length.minutes', { count: 10 }) },
  { seconds: 3600, label: () => t('moderation:length.hours', { count: 1 }) },
  { seconds: 6 * 3600, label: () => t('moderation:length.hours', { count: 6 }) },
  { seconds: 86_400, label: () => t('moderation:length.days', { count: 1 }) },
  { seconds: 7 * 86_400, label: () => t('moderation:length.days', { count: 7 }) },
  { seconds: 30 * 86_400, label: () => t('moderation:length.days', { count: 30 }) },
];

/**
 * When something ends ("until …"), in the page's language: the time alone today, with the date
 * on another day ("3月5日 14:00", "Mar 5, 2:00 PM"), with the year in another year.
 */
export function untilText(iso: string, now: number = Date.now()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const n = new Date(now);
  const sameDay = d.toDateString() === n.toDateString();
  const options: Intl.DateTimeFormatOptions = sameDay
    ? { hour: '2-digit', minute: '2-digit' }
    : {
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        ...(d.getFullYear() !== n.getFullYear() ? { year: 'numeric' } : {}),
      };
  return new Intl.DateTimeFormat(language(), options).format(d);
}

/**
 * The mute that stops me posting in `roomId` at `now` (a server-wide one, or that room's): the
 * one that lasts longest, or null.
 */
export function muteFor(mutes: readonly MuteView[], roomId: string | null, now: number): MuteView | null {
  let found: MuteView | null = null;
  for (const m of mutes) {
    if (m.roomId !== null && m.roomId !== roomId) continue;
    const until = Date.parse(m.until);
    if (!(until > now)) continue;
    if (!found || until > Date.parse(found.until)) found = m;
  }
  return found;
}

/** Drops a mute that ended (by id), or a replaced one (same user and scope), then adds `m`. */
export function withMute(mutes: readonly MuteView[], m: MuteView): MuteView[] {
  return [...mutes.filter((x) => x.muteId !== m.muteId && !(x.userId === m.userId && x.roomId === m.roomId)), m];
}

// ---------------------------------------------------------------- filter editor text forms

/** One term a line, for the words with `action` (mask or block). */
export const wordsText = (config: Pick<FilterConfig, 'words'>, action: WordAction): string =>
  config.words
    .filter((w) => w.action === action)
    .map((w) => w.term)
    .join('\n');

/** Lines of a list box: trimmed, empty ones and repeats (case-insensitive) left out, in order. */
export function lines(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const key = line.toLowerCase();
    if (!line || seen.has(key)) continue;
    seen.add(key);
    out.push(line);
  }
  return out;
}

/** The words of the editor's two boxes; a term in both is blocked (the stronger action). */
export function wordsOf(maskText: string, blockText: string): FilterConfig['words'] {
  const block = lines(blockText);
  const blocked = new Set(block.map((t) => t.toLowerCase()));
  return [
    ...lines(maskText)
      .filter((t) => !blocked.has(t.toLowerCase()))
      .map((term) => ({ term, action: 'mask' as const })),
    ...block.map((term) => ({ term, action: 'block' as const })),
  ];
}

const LINK_ACTIONS: readonly LinkAction[] = ['allow', 'hold', 'block'];

/** `example.com block` a line. */
export const domainsText = (domains: readonly DomainEntry[]): string => domains.map((d) => `${d.domain} ${d.action}`).join('\n');

/**
 * Reads the domain box: `<domain> <allow|hold|block>` a line (a scheme, `www.`-less paths and
 * upper case are forgiven: `https://Example.com/x` is `example.com`). Lines it cannot read come
 * back in `errors` (1-based line numbers) and nothing is guessed for them.
 */
export function parseDomains(text: string): { domains: DomainEntry[]; errors: string[] } {
  const domains: DomainEntry[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const [rawDomain, rawAction = '', ...extra] = line.split(/\s+/);
    const action = rawAction.toLowerCase() as LinkAction;
    const domain = rawDomain
      .toLowerCase()
      .replace(/^[a-z]+:\/\//, '')
      .replace(/[/?#].*$/, '')
      .replace(/\.$/, '');
    if (extra.length || !LINK_ACTIONS.includes(action)) {
      errors.push(t('moderation:domains.badAction', { line: i + 1 }));
      return;
    }
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain) || domain.length > 253) {
      errors.push(t('moderation:domains.badHost', { line: i + 1, domain: rawDomain }));
      return;
    }
    if (seen.has(domain)) return;
    seen.add(domain);
    domains.push({ domain, action });
  });
  return { domains, errors };
}

/** A number box: empty is null (the server's / off), else a whole number. */
export function optionalInt(value: string): number | null {
  const v = value.trim();
  if (v === '') return null;
  const n = Number(v);
  return Number.isInteger(n) ? n : NaN;
}

/** The size of a request's JSON in bytes (UTF-8): over the WebSocket frame limit, filters go by HTTP. */
export const jsonBytes = (value: unknown): number => new TextEncoder().encode(JSON.stringify(value)).length;

/** The rules of the moderation service by their names; a pattern's or a subscriber's own name is said as is. */
const RULES = ['words', 'links', 'link-spam', 'caps', 'repeated-chars', 'flood', 'rate', 'strikes', 'pattern-time-limit'] as const;
export const ruleName = (rule: string): string =>
  (RULES as readonly string[]).includes(rule) ? t(`moderation:rule.${rule as (typeof RULES)[number]}`) : rule;

/** What a verdict means, for the test box (the refusal's sentence, never its code). */
export function verdictText(v: ModerationVerdict): string {
  switch (v.verdict) {
    case 'allow':
      return t('moderation:verdict.allow', { body: v.body });
    case 'reject':
      return t('moderation:verdict.reject', { sentence: t(`errors:${v.code}`), rule: ruleName(v.rule), reason: v.reason });
    case 'hold':
      return t('moderation:verdict.hold', { rule: ruleName(v.rule), reason: v.reason });
  }
}
