import {
  WsLimits,
  WsOpNames,
  WsOperations,
  validateInput,
  type ErrorBody,
  type WsEventName,
  type WsEvents,
  type WsOp,
} from '@chat/contracts';

export type ParsedFrame = { ok: true; id: string; op: WsOp; data: object } | { ok: false; id: string | null; error: ErrorBody };

export interface FrameLimits {
  maxFrameBytes: number;
  requestIdMaxChars: number;
}

const ops = new Set<string>(WsOpNames);
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (id: string | null, message: string, details?: ErrorBody['details']): ParsedFrame => ({
  ok: false,
  id,
  error: details ? { code: 'BAD_REQUEST', message, details } : { code: 'BAD_REQUEST', message },
});

/**
 * Best-effort request id of a frame that is too large to parse: clients serialise `id` before
 * `data`, so it is normally within the first bytes. A nested object cannot match, because no
 * request data has a property named exactly "id".
 */
export function peekRequestId(raw: Buffer, maxChars: number = WsLimits.requestIdMaxChars): string | null {
  const head = raw.subarray(0, 512).toString('utf8');
  const m = /"id"\s*:\s*"([^"\\]+)"/.exec(head);
  return m && m[1].length <= maxChars ? m[1] : null;
}

/**
 * Turns one incoming WebSocket message into a validated request or a typed error. Pure: the
 * connection decides what to do with errors (reply, count bad frames). The reply to a frame
 * whose id could not be read carries `id: null`.
 */
export function parseFrame(raw: Buffer, isBinary: boolean, limits: FrameLimits = WsLimits, authenticated = true): ParsedFrame {
  if (isBinary) return bad(null, 'binary frames are not supported; send JSON text frames');
  if (raw.length > limits.maxFrameBytes) {
    return {
      ok: false,
      id: peekRequestId(raw, limits.requestIdMaxChars),
      error: { code: 'FRAME_TOO_LARGE', message: `frame is larger than ${limits.maxFrameBytes} bytes` },
    };
  }
  let frame: unknown;
  try {
    frame = JSON.parse(raw.toString('utf8'));
  } catch {
    return bad(null, 'frame is not valid JSON');
  }
  if (!isPlainObject(frame)) return bad(null, 'frame must be a JSON object');
  const { id, type, op, data } = frame;
  // Lengths are code points (docs/protocol.md), not UTF-16 units.
  const idChars = typeof id === 'string' ? [...id].length : 0;
  if (typeof id !== 'string' || idChars < 1 || idChars > limits.requestIdMaxChars) {
    const problem = `id must be a string of 1-${limits.requestIdMaxChars} characters`;
    return bad(null, problem, [{ field: 'id', problems: [problem] }]);
  }
  if (type !== 'req') return bad(id, 'type must be "req"', [{ field: 'type', problems: ['type must be "req"'] }]);
  if (typeof op !== 'string') return bad(id, 'op must be a string', [{ field: 'op', problems: ['op must be a string'] }]);
  if (!ops.has(op)) return { ok: false, id, error: { code: 'UNKNOWN_OP', message: `unknown op "${op.slice(0, 64)}"` } };
  // Before auth, nothing but auth and ping is looked at further: not even its data.
  if (!authenticated && WsOperations[op as WsOp].auth) {
    return { ok: false, id, error: { code: 'UNAUTHENTICATED', message: 'authenticate first: send op "auth" with your access token' } };
  }
  const body = data ?? {};
  if (!isPlainObject(body)) return bad(id, 'data must be a JSON object', [{ field: 'data', problems: ['data must be a JSON object'] }]);

  const dto = WsOperations[op as WsOp].dto;
  if (dto === null) {
    const extra = Object.keys(body);
    if (extra.length) {
      const details = extra.map((k) => ({ field: `data.${k}`, problems: [`property ${k} should not exist`] }));
      return bad(id, `${op} takes no data fields`, details);
    }
    return { ok: true, id, op: op as WsOp, data: {} };
  }
  const valid = validateInput(dto as new () => object, body);
  if (!valid.ok) {
    const details = valid.error.details?.map((d) => ({ field: `data.${d.field}`, problems: d.problems }));
    return bad(id, valid.error.message, details);
  }
  return { ok: true, id, op: op as WsOp, data: valid.data };
}

/** Serialised once per event and sent as-is to every recipient. */
export function eventFrame<E extends WsEventName>(event: E, position: number, data: WsEvents[E]): Buffer {
  return Buffer.from(JSON.stringify({ type: 'evt', event, position, data }));
}

export function replyFrame(id: string, data: unknown): string {
  return JSON.stringify({ type: 'res', id, ok: true, data });
}

export function errorFrame(id: string | null, error: ErrorBody): string {
  return JSON.stringify({ type: 'res', id, ok: false, error });
}
