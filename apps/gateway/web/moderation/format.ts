import type { DomainEntry, FilterConfig, LinkAction, ModerationVerdict, MuteView, WordAction } from '@chat/contracts';

// Pure helpers of the moderation UI (no DOM): reading when to retry from a refusal, saying a
// duration, which mute applies to a room, and the filter editor's text forms (one entry a line).

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

/** "45 s", "12 min", "3 h 5 min", "2 days": a wait or a mute's length, rounded up to what a person needs. */
export function durationText(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.ceil(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const rest = min % 60;
  if (h < 48) return rest ? `${h} h ${rest} min` : `${h} h`;
  const days = Math.round(h / 24);
  return `${days} days`;
}

/** Lengths offered for a mute (seconds; Limits.muteSecondsMax is 30 days). */
export const MUTE_DURATIONS: ReadonlyArray<{ seconds: number; label: string }> = [
  { seconds: 60, label: '1 minute' },
  { seconds: 600, label: '10 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 6 * 3600, label: '6 hours' },
  { seconds: 86_400, label: '1 day' },
  { seconds: 7 * 86_400, label: '7 days' },
  { seconds: 30 * 86_400, label: '30 days' },
];

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
      errors.push(`line ${i + 1}: write "<domain> allow", "<domain> hold" or "<domain> block"`);
      return;
    }
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain) || domain.length > 253) {
      errors.push(`line ${i + 1}: "${rawDomain}" is not a host name such as example.com`);
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

/** What a verdict means, for the test box. */
export function verdictText(v: ModerationVerdict): string {
  switch (v.verdict) {
    case 'allow':
      return `Allowed, posted as: ${v.body}`;
    case 'reject':
      return `Refused (${v.code}) by ${v.rule}: ${v.reason}`;
    case 'hold':
      return `Held for review by ${v.rule}: ${v.reason}`;
  }
}
