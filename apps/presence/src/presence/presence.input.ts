import {
  Limits,
  decodePresenceEvent,
  fail,
  isUserId,
  ok,
  type GatewayHeartbeat,
  type GatewaySignal,
  type PresenceView,
  type PresenceChoice,
  type Result,
} from '@chat/contracts';

/**
 * Checks what arrives from the wire (gateway signals and heartbeats, stored presence events)
 * before it reaches the state. Anything malformed is a BAD_REQUEST result naming the problem;
 * the caller logs it and goes on.
 */

/** Heartbeat intervals a gateway may promise; outside this range the timeout would be meaningless. */
export const HEARTBEAT_INTERVAL_MIN_MS = 100;
export const HEARTBEAT_INTERVAL_MAX_MS = 300_000;
/**
 * Connections one heartbeat part may list; bounded so one message cannot exhaust memory (NATS's
 * default 1 MiB message holds about 9,000 real entries; gateways send at most 2,000 per part).
 */
export const HEARTBEAT_MAX_CONNECTIONS = 100_000;
/** Parts one beat may be split into (bounds what one beat may hold while it is assembled). */
export const HEARTBEAT_MAX_PARTS = 1000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Ids end up in event causes and msgIds: printable, no whitespace, bounded. */
const isToken = (v: unknown): v is string => typeof v === 'string' && /^[^\s.*>]{1,128}$/u.test(v);
const isConnId = (v: unknown): v is string => typeof v === 'string' && /^\S{1,128}$/u.test(v);
/**
 * Times end up in `Nats-Msg-Id` headers (via causes), where nats.js refuses CR/LF: only the
 * strict UTC form `toISOString` produces is accepted, not everything Date.parse reads.
 */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const isTime = (v: unknown): v is string => typeof v === 'string' && ISO_UTC.test(v) && !Number.isNaN(Date.parse(v));
const isUsername = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= Limits.usernameMaxChars && !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(v);

const bad = (message: string) => fail('BAD_REQUEST', message);

/** A connection signal; `subjectGatewayId` is the gateway named by the subject it came on. */
export function parseSignal(data: unknown, subjectGatewayId: string | null): Result<GatewaySignal> {
  if (!isObj(data)) return bad('signal is not a JSON object');
  const { kind, gatewayId, connId, userId, at } = data;
  if (!isToken(gatewayId)) return bad('gatewayId is missing or not a valid id');
  if (gatewayId !== subjectGatewayId) return bad('gatewayId does not match the subject');
  if (!isConnId(connId)) return bad('connId is missing or not a valid id');
  if (!isUserId(userId)) return bad('userId is not a user id');
  if (!isTime(at)) return bad('at is not a time');
  switch (kind) {
    case 'opened':
      if (!isUsername(data.username)) return bad('username is missing or invalid');
      return ok({ kind, gatewayId, connId, userId, username: data.username, at });
    case 'closed':
      return ok({ kind, gatewayId, connId, userId, at });
    case 'activity':
      if (typeof data.idle !== 'boolean') return bad('idle must be true or false');
      return ok({ kind, gatewayId, connId, userId, idle: data.idle, at });
    default:
      return bad('kind must be opened, closed or activity');
  }
}

export interface ParsedHeartbeat {
  heartbeat: GatewayHeartbeat;
  /** Entries of the connection list that were malformed and left out (logged by the caller). */
  skipped: number;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * One part of a heartbeat. A malformed envelope (including `beat`, `part`, `parts`: integers,
 * 0 <= part < parts <= HEARTBEAT_MAX_PARTS) rejects the whole message; a malformed entry in the
 * list is only left out, so that one bad connection does not make all of the gateway's users
 * look offline when the gateway then seems to have stopped beating. A heartbeat with none of
 * `beat`, `part`, `parts` comes from a gateway of before parts (a rolling upgrade, presence
 * first): it is read as a whole beat in one part (beat 0, part 0 of 1).
 */
export function parseHeartbeat(data: unknown, subjectGatewayId: string | null): Result<ParsedHeartbeat> {
  if (!isObj(data)) return bad('heartbeat is not a JSON object');
  const { gatewayId, at, intervalMs, beat, part, parts, connections } = data;
  if (!isToken(gatewayId)) return bad('gatewayId is missing or not a valid id');
  if (gatewayId !== subjectGatewayId) return bad('gatewayId does not match the subject');
  if (!isTime(at)) return bad('at is not a time');
  if (
    typeof intervalMs !== 'number' ||
    !Number.isInteger(intervalMs) ||
    intervalMs < HEARTBEAT_INTERVAL_MIN_MS ||
    intervalMs > HEARTBEAT_INTERVAL_MAX_MS
  ) {
    return bad(`intervalMs must be an integer from ${HEARTBEAT_INTERVAL_MIN_MS} to ${HEARTBEAT_INTERVAL_MAX_MS}`);
  }
  const whole = beat === undefined && part === undefined && parts === undefined;
  const [b, p, n] = whole ? [0, 0, 1] : [beat, part, parts];
  if (!isCount(b)) return bad('beat must be an integer of at least 0');
  if (!isCount(n) || n < 1 || n > HEARTBEAT_MAX_PARTS) return bad(`parts must be an integer from 1 to ${HEARTBEAT_MAX_PARTS}`);
  if (!isCount(p) || p >= n) return bad('part must be an integer from 0 to parts - 1');
  if (!Array.isArray(connections)) return bad('connections is not a list');
  if (connections.length > HEARTBEAT_MAX_CONNECTIONS) return bad(`connections lists more than ${HEARTBEAT_MAX_CONNECTIONS} entries`);
  const valid: GatewayHeartbeat['connections'] = [];
  for (const c of connections) {
    if (isObj(c) && isConnId(c.connId) && isUserId(c.userId) && isUsername(c.username) && typeof c.idle === 'boolean') {
      valid.push({ connId: c.connId, userId: c.userId, username: c.username, idle: c.idle });
    }
  }
  return ok({
    heartbeat: { gatewayId, at, intervalMs, beat: b, part: p, parts: n, connections: valid },
    skipped: connections.length - valid.length,
  });
}

/** A PresenceChanged event the stream stored (v1 events read back with `text: null`). */
export function parseStoredPresence(data: unknown): Result<{ view: PresenceView; eventId: string }> {
  const decoded = decodePresenceEvent(data);
  if (!decoded.ok) return bad(decoded.reason);
  const { id, payload } = decoded.event;
  return ok({
    view: { userId: payload.userId, username: payload.username, status: payload.status, text: payload.text, lastSeen: payload.lastSeen },
    eventId: id,
  });
}

/**
 * Characters a status text may not hold: control, format and line/paragraph separators, except
 * the zero-width joiner (U+200D) that emoji sequences (family, flags of professions) are made of.
 */
const FORBIDDEN_TEXT = /(?!\u200d)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * A custom status text as `presence.set` receives it: NFC, trimmed; empty (or absent) is no
 * text (null); otherwise 1 to Limits.statusTextMaxChars code points with no control, format or
 * line-break characters, else BAD_REQUEST.
 */
export function parseStatusText(text: string | null | undefined): Result<string | null> {
  if (text === null || text === undefined) return ok(null);
  if (typeof text !== 'string') return bad('text must be a string or null');
  const t = text.normalize('NFC').trim();
  if (t === '') return ok(null);
  const refused = (problem: string) => fail('BAD_REQUEST', problem, [{ field: 'text', problems: [problem] }]);
  if ([...t].length > Limits.statusTextMaxChars) return refused(`text must be at most ${Limits.statusTextMaxChars} characters`);
  if (FORBIDDEN_TEXT.test(t)) return refused('text must not contain line breaks or control characters');
  return ok(t);
}

const CHOSEN: readonly string[] = ['online', 'away', 'busy', 'invisible'];

/** A value of the presence KV bucket under `key` (a user id); anything else is malformed. */
export function parseChoice(key: string, data: unknown): Result<PresenceChoice> {
  if (!isObj(data)) return bad('choice is not a JSON object');
  const { userId, username, status, text, updatedAt } = data;
  if (!isUserId(userId) || userId !== key) return bad('userId is not the key');
  if (!isUsername(username)) return bad('username is missing or invalid');
  if (typeof status !== 'string' || !CHOSEN.includes(status)) return bad('status must be online, away, busy or invisible');
  if (!isTime(updatedAt)) return bad('updatedAt is not a time');
  const t = text === null ? ok(null) : typeof text === 'string' ? parseStatusText(text) : bad('text must be a string or null');
  if (!t.ok) return t;
  if (t.data !== text) return bad('text is not in its stored form');
  return ok({ userId, username, status: status as PresenceChoice['status'], text: t.data, updatedAt });
}
