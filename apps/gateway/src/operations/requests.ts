import { WsLimits, WsOperations, isWsOp, validateInput, type ErrorBody, type WsOp } from '@chat/contracts';
import { badRequest, isPlainObject, parseEnvelope, type FrameError, type FrameLimits, type RequestEnvelope } from '../wire/frames';

export type ParsedFrame = { ok: true; id: string; op: WsOp; data: object } | FrameError;

/**
 * The rest of the frame table after the envelope, from the operation table: the op must be
 * one of WsOperations (UNKNOWN_OP), an op that needs authentication is refused before `auth`
 * without looking at its data (UNAUTHENTICATED), and `data` is validated with the op's DTO,
 * problems reported as `data.<field>`.
 */
export function checkRequest(envelope: Extract<RequestEnvelope, { ok: true }>, authenticated: boolean): ParsedFrame {
  const { id, op, data } = envelope;
  if (!isWsOp(op)) return { ok: false, id, error: { code: 'UNKNOWN_OP', message: `unknown op "${op.slice(0, 64)}"` } };
  const entry = WsOperations[op];
  if (!authenticated && entry.auth) {
    return { ok: false, id, error: { code: 'UNAUTHENTICATED', message: 'authenticate first: send op "auth" with your access token' } };
  }
  const body = data ?? {};
  if (!isPlainObject(body))
    return badRequest(id, 'data must be a JSON object', [{ field: 'data', problems: ['data must be a JSON object'] }]);

  if (entry.dto === null) {
    const extra = Object.keys(body);
    if (extra.length) {
      const details: ErrorBody['details'] = extra.map((k) => ({ field: `data.${k}`, problems: [`property ${k} should not exist`] }));
      return badRequest(id, `${op} takes no data fields`, details);
    }
    return { ok: true, id, op, data: {} };
  }
  const valid = validateInput(entry.dto as new () => object, body);
  if (!valid.ok) {
    const details = valid.error.details?.map((d) => ({ field: `data.${d.field}`, problems: d.problems }));
    return badRequest(id, valid.error.message, details);
  }
  return { ok: true, id, op, data: valid.data };
}

/**
 * One incoming WebSocket message to a validated request or a typed error, every check of the
 * frame table in its order. Pure.
 */
export function parseFrame(raw: Buffer, isBinary: boolean, limits: FrameLimits = WsLimits, authenticated = true): ParsedFrame {
  const envelope = parseEnvelope(raw, isBinary, limits);
  return envelope.ok ? checkRequest(envelope, authenticated) : envelope;
}
