import type { AuditEntry, ModerationEventType, UserView } from '@chat/contracts';
import { t } from '../i18n/i18n';
import { durationText, ruleName } from './format';

// The audit log's entries as sentences in the page's language ("Alice muted Bob in # general
// for 10 min: spam", "Alice 在 # general 将 Bob 禁言 10 分钟：spam"). An entry carries its
// type, who did it, about whom and where, and the service's one-line English summary; the
// details only the summary has (a mute's length, the reason, a strike's count and kind, a
// role, a report's action) are read back from it by the exact form the service writes
// (apps/moderation/src/audit/audit.ts), knowing the names and room it put in. When a summary
// does not read as expected, the sentence is said without those details: never the English
// summary, a raw type or an id.

/** How the page names people and rooms (people.ts, the rooms in state). */
export interface Namer {
  user(u: UserView): string;
  room(roomId: string): string;
}

/** Every audit type, with its label (the entry's badge). */
export const AUDIT_TYPES: readonly ModerationEventType[] = [
  'FilterConfigSet',
  'ServerRoleSet',
  'UserMuted',
  'UserUnmuted',
  'UserWarned',
  'StrikeRecorded',
  'UserServerBanned',
  'UserServerUnbanned',
  'UserServerKicked',
  'ReportFiled',
  'ReportClaimed',
  'ReportResolved',
  'ReportDismissed',
  'MessageRedacted',
];

export const auditTypeLabel = (type: ModerationEventType): string => t(`moderation:audit.type.${type}`);

/** Who acted: a person, or the moderation service and its rule. */
export const actorText = (actor: UserView | null, rule: string | null, namer: Namer): string =>
  actor ? namer.user(actor) : rule ? t('moderation:auto.rule', { rule: ruleName(rule) }) : t('moderation:auto');

const UNITS: Record<string, number> = { s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };
const STRIKE_KINDS = ['filtered', 'flood', 'report', 'rule'] as const;
const REPORT_KINDS = ['message', 'escalation', 'rule'] as const;

/** `rest` after the exact `prefix`, or null. */
const after = (text: string, prefix: string): string | null => (text.startsWith(prefix) ? text.slice(prefix.length) : null);
/** ": reason" at the start of `rest` (the service's withReason), or '' when `rest` is empty. */
const reasonOf = (rest: string | null): string => (rest?.startsWith(': ') ? rest.slice(2) : '');

/** A closing full-width bracket is its own space before Chinese ("自动审核（刷屏）封禁了", not "…） 封禁了"). */
const tidy = (text: string) => text.replace(/([）】」]) (?=\p{Script=Han})/gu, '$1');

/** The entry as a sentence for people, in the page's language. */
export const auditSentence = (e: AuditEntry, namer: Namer): string => tidy(sentence(e, namer));

function sentence(e: AuditEntry, namer: Namer): string {
  const actor = actorText(e.actor, e.rule, namer);
  const target = e.target ? namer.user(e.target) : t('moderation:audit.someone');
  const room = e.roomId ? namer.room(e.roomId) : '';
  const name = e.target?.username ?? '';
  const where = e.roomId ? `in ${e.roomId}` : 'server-wide';
  const s = e.summary ?? '';
  const withReason = (text: string, reason: string) => (reason ? t('moderation:withReason', { text, reason }) : text);
  const scoped = <K extends string>(key: K) => (e.roomId ? (`${key}.room` as const) : (`${key}.server` as const));

  switch (e.type) {
    case 'FilterConfigSet': {
      const m = /\((\d+) words, (\d+) allowed, (\d+) patterns, (\d+) domains\)$/.exec(s);
      const text = e.roomId ? t('moderation:audit.filters.room', { actor, room }) : t('moderation:audit.filters.server', { actor });
      return m ? t('moderation:audit.filters.counts', { text, words: m[1], allowed: m[2], patterns: m[3], domains: m[4] }) : text;
    }
    case 'ServerRoleSet':
      if (s.startsWith('took ')) return t('moderation:audit.role.none', { actor, target });
      return s.endsWith(' an administrator')
        ? t('moderation:audit.role.admin', { actor, target })
        : s.endsWith(' a moderator')
          ? t('moderation:audit.role.moderator', { actor, target })
          : t('moderation:audit.role.changed', { actor, target });
    case 'UserMuted': {
      const rest = after(s, `muted ${name} ${where} for `);
      const m = rest === null ? null : /^(\d+) (s|min|h|d)(: [\s\S]*)?$/.exec(rest);
      const duration = m ? durationText(Number(m[1]) * UNITS[m[2]]) : '';
      const key = duration ? scoped('moderation:audit.muted') : scoped('moderation:audit.mutedNoLength');
      return withReason(t(key, { actor, target, room, duration }), reasonOf(m?.[3] ?? null));
    }
    case 'UserUnmuted':
      return s.endsWith(' expired') && !s.startsWith('lifted ')
        ? t(scoped('moderation:audit.unmuted.expired'), { target, room })
        : t(scoped('moderation:audit.unmuted.lifted'), { actor, target, room });
    case 'UserWarned':
      return withReason(t('moderation:audit.warned', { actor, target }), reasonOf(after(s, `warned ${name}`)));
    case 'StrikeRecorded': {
      const m = /^strike (\d+) for ([\s\S]*) \((\w+)\)(: [\s\S]*)?$/.exec(s);
      const kind = m && (STRIKE_KINDS as readonly string[]).includes(m[3]) ? m[3] : null;
      const text = m
        ? t(scoped('moderation:audit.strike'), {
            target,
            room,
            count: Number(m[1]),
            kind: kind ? t(`moderation:strike.${kind as (typeof STRIKE_KINDS)[number]}`) : m[3],
          })
        : t(scoped('moderation:audit.strikeNoCount'), { target, room });
      return withReason(text, reasonOf(m?.[4] ?? null));
    }
    case 'UserServerBanned': {
      const rest = after(s, `banned ${name} from the server`);
      const review = !!rest?.startsWith(' (for review)');
      const text = t(review ? 'moderation:audit.banned.review' : 'moderation:audit.banned', { actor, target });
      return withReason(text, reasonOf(review ? rest!.slice(' (for review)'.length) : rest));
    }
    case 'UserServerUnbanned':
      return t('moderation:audit.unbanned', { actor, target });
    case 'UserServerKicked':
      return withReason(t('moderation:audit.kicked', { actor, target }), reasonOf(after(s, `kicked ${name} from the server`)));
    case 'ReportFiled': {
      const held = after(s, `held a message of ${name} for review`);
      if (held !== null) return withReason(t('moderation:audit.held', { actor, target }), reasonOf(held));
      const m = /^\((\w+)\)(: [\s\S]*)?$/.exec(after(s, `reported ${name} `) ?? '');
      const kind = m && (REPORT_KINDS as readonly string[]).includes(m[1]) ? (m[1] as (typeof REPORT_KINDS)[number]) : 'message';
      return withReason(t(`moderation:audit.reported.${kind}`, { actor, target }), reasonOf(m?.[2] ?? null));
    }
    case 'ReportClaimed':
      return e.target ? t('moderation:audit.claimed', { actor, target }) : t('moderation:audit.claimed.unknown', { actor });
    case 'ReportResolved': {
      const m = /^resolved report \S+ \(([\s\S]*?)\)(: [\s\S]*)?$/.exec(s);
      const action = m?.[1] ?? '';
      const about = e.target ? 'about' : 'unknown';
      const text =
        action === 'approved'
          ? t('moderation:audit.approved', { actor, target })
          : action && action !== 'upheld'
            ? t(`moderation:audit.resolved.${about}.action`, { actor, target, action })
            : t(`moderation:audit.resolved.${about}`, { actor, target });
      return withReason(text, reasonOf(m?.[2] ?? null));
    }
    case 'ReportDismissed': {
      const m = /^dismissed report \S+(: [\s\S]*)?$/.exec(s);
      return withReason(
        t(e.target ? 'moderation:audit.dismissed' : 'moderation:audit.dismissed.unknown', { actor, target }),
        reasonOf(m?.[1] ?? null),
      );
    }
    case 'MessageRedacted':
      return withReason(
        t('moderation:audit.redacted', { actor, target }),
        reasonOf(after(s, `removed a message of ${name} in ${e.roomId ?? ''}`)),
      );
    default: {
      const unknown: never = e.type;
      return String(unknown);
    }
  }
}
