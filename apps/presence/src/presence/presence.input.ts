import {
  Limits,
  decodePresenceEvent,
  fail,
  isUserId,
  ok,
  type GatewayHeartbeat,
  type GatewaySignal,
  type PresenceView,
  type Result,
  type SettableStatus,
} from '@chat/contracts';

/**
 * Checks what arrives from the wire (gateway signals and heartbeats, stored presence events)
 * before it reaches the state. Anything malformed is a BAD_REQUEST result naming the problem;
 * the caller logs it and goes on.
 */

const SETTABLE: readonly string[] = ['online', 'away', 'busy'] satisfies SettableStatus[];
/** Heartbeat intervals a gateway may promise; outside this range the timeout would be meaningless. */
export const HEARTBEAT_INTERVAL_MIN_MS = 100;
export const HEARTBEAT_INTERVAL_MAX_MS = 300_000;
/** A heartbeat lists every connection of one gateway; bounded so one message cannot exhaust memory. */
export const HEARTBEAT_MAX_CONNECTIONS = 100_000;

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
const isSettable = (v: unknown): v is SettableStatus => typeof v === 'string' && SETTABLE.includes(v);

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
    case 'status':
      if (!isSettable(data.status)) return bad('status must be online, away or busy');
      return ok({ kind, gatewayId, connId, userId, status: data.status, at });
    default:
      return bad('kind must be opened, closed or status');
  }
}

export interface ParsedHeartbeat {
  heartbeat: GatewayHeartbeat;
  /** Entries of the connection list that were malformed and left out (logged by the caller). */
  skipped: number;
}

/**
 * A heartbeat. A malformed envelope rejects the whole message; a malformed entry in the list
 * is only left out, so that one bad connection does not make all of the gateway's users look
 * offline when the gateway then seems to have stopped beating.
 */
export function parseHeartbeat(data: unknown, subjectGatewayId: string | null): Result<ParsedHeartbeat> {
  if (!isObj(data)) return bad('heartbeat is not a JSON object');
  const { gatewayId, at, intervalMs, connections } = data;
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
  if (!Array.isArray(connections)) return bad('connections is not a list');
  if (connections.length > HEARTBEAT_MAX_CONNECTIONS) return bad(`connections lists more than ${HEARTBEAT_MAX_CONNECTIONS} entries`);
  const valid: GatewayHeartbeat['connections'] = [];
  for (const c of connections) {
    if (isObj(c) && isConnId(c.connId) && isUserId(c.userId) && isUsername(c.username) && isSettable(c.status)) {
      valid.push({ connId: c.connId, userId: c.userId, username: c.username, status: c.status });
    }
  }
  return ok({ heartbeat: { gatewayId, at, intervalMs, connections: valid }, skipped: connections.length - valid.length });
}

/** A PresenceChanged event read back from the stream at start-up: the user's last known status. */
export function parseStoredPresence(data: unknown): Result<{ view: PresenceView; eventId: string }> {
  const decoded = decodePresenceEvent(data);
  if (!decoded.ok) return bad(decoded.reason);
  const { id, payload } = decoded.event;
  return ok({
    view: { userId: payload.userId, username: payload.username, status: payload.status, lastSeen: payload.lastSeen },
    eventId: id,
  });
}
