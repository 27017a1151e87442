import { checks, createDecoder, type Check, type EventDecoder, type EventSpecs, type Upcasters } from '../events/decoder';
import type { ModerationEvent, ReportKind, ServerRole, StrikeKind } from './events';
import { FilterLimits, type FilterConfig, type HoldAction, type LinkAction, type WordAction } from './filters';

const wordAction = checks.oneOf<WordAction>({ mask: true, block: true });
const holdAction = checks.oneOf<HoldAction>({ mask: true, block: true, hold: true });
const linkAction = checks.oneOf<LinkAction>({ allow: true, hold: true, block: true });
const count = checks.nullable(checks.intInRange(0, 1_000_000));

/** A stored filter configuration (the DTO validated it in full when it was set; this guards the shape). */
export const filterConfigCheck: Check<FilterConfig> = checks.shape<FilterConfig>({
  words: checks.arrayOf(checks.shape({ term: checks.nonEmpty, action: wordAction }), FilterLimits.wordsMax),
  allow: checks.arrayOf(checks.nonEmpty, FilterLimits.allowMax),
  patterns: checks.arrayOf(checks.shape({ name: checks.nonEmpty, pattern: checks.nonEmpty, action: holdAction }), FilterLimits.patternsMax),
  links: checks.shape({
    default: checks.nullable(linkAction),
    domains: checks.arrayOf(checks.shape({ domain: checks.nonEmpty, action: linkAction }), FilterLimits.domainsMax),
  }),
  spam: checks.shape({ repeatedCharsMax: count, capsPercentMax: count, capsMinLetters: count }),
});

const by = { byUserId: checks.nullable(checks.uuid), byUsername: checks.nullable(checks.nonEmpty) };
const byUser = { byUserId: checks.uuid, byUsername: checks.nonEmpty };
const user = { userId: checks.uuid, username: checks.nonEmpty };
const rule = checks.nullable(checks.nonEmpty);

/** Events of `ns.mod.>`, current version of each. */
export const moderationEventSpecs: EventSpecs<ModerationEvent> = {
  FilterConfigSet: {
    version: 1,
    payload: {
      scope: checks.oneOf({ server: true, room: true }),
      roomId: checks.nullable(checks.roomId),
      config: filterConfigCheck,
      ...byUser,
    },
  },
  ServerRoleSet: {
    version: 1,
    payload: { ...user, role: checks.nullable(checks.oneOf<ServerRole>({ admin: true, moderator: true })), ...byUser },
  },
  UserMuted: {
    version: 1,
    payload: {
      muteId: checks.nonEmpty,
      ...user,
      roomId: checks.nullable(checks.roomId),
      until: checks.time,
      reason: checks.string,
      rule,
      ...by,
    },
  },
  UserUnmuted: {
    version: 1,
    payload: {
      muteId: checks.nonEmpty,
      ...user,
      roomId: checks.nullable(checks.roomId),
      reason: checks.oneOf({ expired: true, lifted: true }),
      ...by,
    },
  },
  UserWarned: { version: 1, payload: { ...user, reason: checks.string, rule, ...by } },
  StrikeRecorded: {
    version: 1,
    payload: {
      strikeId: checks.nonEmpty,
      ...user,
      kind: checks.oneOf<StrikeKind>({ filtered: true, flood: true, report: true, rule: true }),
      detail: checks.string,
      roomId: checks.nullable(checks.roomId),
      count: checks.positiveInt,
      rule,
    },
  },
  UserServerBanned: { version: 1, payload: { ...user, reason: checks.string, review: checks.boolean, rule, ...by } },
  UserServerUnbanned: { version: 1, payload: { ...user, ...by } },
  UserServerKicked: { version: 1, payload: { ...user, reason: checks.string, ...by } },
  ReportFiled: {
    version: 1,
    payload: {
      reportId: checks.nonEmpty,
      kind: checks.oneOf<ReportKind>({ message: true, held: true, escalation: true, rule: true }),
      roomId: checks.nullable(checks.roomId),
      messageId: checks.nullable(checks.uuid),
      targetUserId: checks.uuid,
      targetUsername: checks.nonEmpty,
      excerpt: checks.nullable(checks.string),
      reason: checks.string,
      rule,
      held: checks.nullable(checks.shape({ clientMsgId: checks.nonEmpty, body: checks.string })),
      ...by,
    },
  },
  ReportClaimed: { version: 1, payload: { reportId: checks.nonEmpty, ...byUser } },
  ReportResolved: { version: 1, payload: { reportId: checks.nonEmpty, action: checks.nonEmpty, note: checks.string, ...byUser } },
  ReportDismissed: { version: 1, payload: { reportId: checks.nonEmpty, note: checks.string, ...byUser } },
  MessageRedacted: {
    version: 1,
    payload: { roomId: checks.roomId, messageId: checks.uuid, ...user, reason: checks.string, rule: checks.nonEmpty },
  },
};

export const moderationEventUpcasters: Upcasters<ModerationEvent> = {};

export const moderationDecoder: EventDecoder<ModerationEvent> = createDecoder(moderationEventSpecs, moderationEventUpcasters);
export const decodeModerationEvent = moderationDecoder.decode;
export const moderationEventTypes = moderationDecoder.types;
