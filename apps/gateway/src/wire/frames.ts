import { WsLimits, type ErrorBody, type WsEventName, type WsEvents } from '@chat/contracts';

/**
 * A request frame whose envelope is well-formed: `op` is some string and `data` is whatever was
 * sent. What the op is and whether its data is valid is for the operation table to say
 * (operations/requests.ts); the wire only knows the frame.
 */
export type RequestEnvelope = { ok: true; id: string; op: string; data: unknown } | FrameError;
export type FrameError = { ok: false; id: string | null; error: ErrorBody };

export interface FrameLimits {
  maxFrameBytes: number;
  requestIdMaxChars: number;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A BAD_REQUEST answer to a frame. */
export const badRequest = (id: string | null, message: string, details?: ErrorBody['details']): FrameError => ({
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
 * The first checks of docs/protocol.md's frame table, in its order: binary, size, JSON, object,
 * `id`, `type`, `op` a string. Pure: the caller decides what to do with errors (reply, count
 * bad frames). The reply to a frame whose id could not be read carries `id: null`.
 */
export function parseEnvelope(raw: Buffer, isBinary: boolean, limits: FrameLimits = WsLimits): RequestEnvelope {
  if (isBinary) return badRequest(null, 'binary frames are not supported; send JSON text frames');
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
    return badRequest(null, 'frame is not valid JSON');
  }
  if (!isPlainObject(frame)) return badRequest(null, 'frame must be a JSON object');
  const { id, type, op, data } = frame;
  // Lengths are code points (docs/protocol.md), not UTF-16 units.
  const idChars = typeof id === 'string' ? [...id].length : 0;
  if (typeof id !== 'string' || idChars < 1 || idChars > limits.requestIdMaxChars) {
    const problem = `id must be a string of 1-${limits.requestIdMaxChars} characters`;
    return badRequest(null, problem, [{ field: 'id', problems: [problem] }]);
  }
  if (type !== 'req') return badRequest(id, 'type must be "req"', [{ field: 'type', problems: ['type must be "req"'] }]);
  if (typeof op !== 'string') return badRequest(id, 'op must be a string', [{ field: 'op', problems: ['op must be a string'] }]);
  return { ok: true, id, op, data };
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
