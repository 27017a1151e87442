import { WsLimits } from '@chat/contracts';
import { eventFrame, peekRequestId } from '../wire/frames';
import { parseFrame } from './requests';

const frame = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const parse = (v: unknown) => parseFrame(frame(v), false);

describe('frames - parseFrame', () => {
  it('accepts a valid request and returns its validated data', () => {
    const r = parse({ type: 'req', id: 'a1', op: 'message.send', data: { roomId: 'general', clientMsgId: 'c-1', body: 'hi' } });
    expect(r).toEqual({
      ok: true,
      id: 'a1',
      op: 'message.send',
      data: expect.objectContaining({ roomId: 'general', clientMsgId: 'c-1', body: 'hi' }),
    });
  });

  it('refuses heldReportId on message.send: only the moderation service approves a held message (rooms.post)', () => {
    const data = { roomId: 'general', clientMsgId: 'c-1', body: 'hi', heldReportId: '33333333-3333-4333-8333-333333333333' };
    const r = parse({ type: 'req', id: 'a1', op: 'message.send', data });
    expect(r).toMatchObject({ ok: false, id: 'a1', error: { code: 'BAD_REQUEST' } });
  });

  it('accepts ops without data fields with data absent or empty', () => {
    expect(parse({ type: 'req', id: 'p', op: 'ping' })).toEqual({ ok: true, id: 'p', op: 'ping', data: {} });
    expect(parse({ type: 'req', id: 'p', op: 'rooms.list', data: {} })).toEqual({ ok: true, id: 'p', op: 'rooms.list', data: {} });
  });

  it('converts numeric strings of history.page like the DTO says', () => {
    const r = parse({ type: 'req', id: 'h', op: 'history.page', data: { roomId: 'general', limit: 10 } });
    expect(r.ok && r.data).toEqual(expect.objectContaining({ roomId: 'general', limit: 10 }));
  });

  it.each([
    ['not JSON', '{nope', null],
    ['a JSON array', '[1,2]', null],
    ['a JSON string', '"req"', null],
    ['a missing id', { type: 'req', op: 'ping' }, null],
    ['a numeric id', { type: 'req', id: 7, op: 'ping' }, null],
    ['an empty id', { type: 'req', id: '', op: 'ping' }, null],
    ['an id over 64 characters', { type: 'req', id: 'x'.repeat(65), op: 'ping' }, null],
    ['a wrong type', { type: 'res', id: 'q', op: 'ping' }, 'q'],
    ['a missing op', { type: 'req', id: 'q' }, 'q'],
    ['data that is not an object', { type: 'req', id: 'q', op: 'room.join', data: 'general' }, 'q'],
    ['data on an op without fields', { type: 'req', id: 'q', op: 'ping', data: { x: 1 } }, 'q'],
  ])('rejects %s with BAD_REQUEST (id %s)', (_what, input, id) => {
    const r = parse(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.id).toBe(id);
    expect(!r.ok && r.error.code).toBe('BAD_REQUEST');
  });

  it('rejects an unknown op with UNKNOWN_OP and the request id', () => {
    expect(parse({ type: 'req', id: 'u', op: 'rooms.nuke' })).toEqual({
      ok: false,
      id: 'u',
      error: { code: 'UNKNOWN_OP', message: 'unknown op "rooms.nuke"' },
    });
  });

  it('rejects invalid data with field details prefixed by data.', () => {
    const r = parse({ type: 'req', id: 'v', op: 'message.send', data: { roomId: 'Bad Room', clientMsgId: 'c', body: '', extra: 1 } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('BAD_REQUEST');
    expect(r.error.details?.map((d) => d.field).sort()).toEqual(['data.body', 'data.extra', 'data.roomId']);
  });

  it('rejects binary frames', () => {
    const r = parseFrame(frame({ type: 'req', id: 'b', op: 'ping' }), true);
    expect(r).toEqual({ ok: false, id: null, error: expect.objectContaining({ code: 'BAD_REQUEST' }) });
  });

  it('rejects frames above the limit with FRAME_TOO_LARGE and echoes a readable id', () => {
    const big = frame({
      type: 'req',
      id: 'big-1',
      op: 'message.send',
      data: { roomId: 'general', clientMsgId: 'c', body: 'x'.repeat(WsLimits.maxFrameBytes) },
    });
    expect(parseFrame(big, false)).toEqual({ ok: false, id: 'big-1', error: expect.objectContaining({ code: 'FRAME_TOO_LARGE' }) });
    const justBelow = frame({ type: 'req', id: 'ok', op: 'ping' });
    expect(parseFrame(justBelow, false, { maxFrameBytes: justBelow.length, requestIdMaxChars: 64 }).ok).toBe(true);
    expect(parseFrame(justBelow, false, { maxFrameBytes: justBelow.length - 1, requestIdMaxChars: 64 }).ok).toBe(false);
  });
});

describe('frames - peekRequestId', () => {
  it('finds the id near the start and ignores roomId', () => {
    expect(peekRequestId(frame('{"type":"req","data":{"roomId":"x"},"id":"abc"}'))).toBe('abc');
    expect(peekRequestId(frame('{"type":"req","data":{"roomId":"x"}}'))).toBeNull();
  });
});

describe('frames - eventFrame', () => {
  it('serialises an event as the protocol event frame', () => {
    const f = eventFrame('presence.changed', 9, { userId: 'u', username: 'n', status: 'online', text: null, lastSeen: 't' });
    expect(JSON.parse(f.toString())).toEqual({
      type: 'evt',
      event: 'presence.changed',
      position: 9,
      data: { userId: 'u', username: 'n', status: 'online', text: null, lastSeen: 't' },
    });
  });
});

describe('frames - rules from docs/protocol.md', () => {
  it('counts the request id in characters (code points), not UTF-16 units', () => {
    const id64 = '😀'.repeat(64);
    expect(parse({ type: 'req', id: id64, op: 'ping' })).toEqual(expect.objectContaining({ ok: true, id: id64 }));
    expect(parse({ type: 'req', id: '😀'.repeat(65), op: 'ping' })).toEqual(expect.objectContaining({ ok: false, id: null }));
  });

  it('before auth, any op but auth/ping is UNAUTHENTICATED whatever its data', () => {
    const r = parseFrame(frame({ type: 'req', id: 'x', op: 'room.join' }), false, undefined, false);
    expect(r).toEqual({ ok: false, id: 'x', error: expect.objectContaining({ code: 'UNAUTHENTICATED' }) });
    expect(parseFrame(frame({ type: 'req', id: 'p', op: 'ping' }), false, undefined, false).ok).toBe(true);
  });

  it('history.page numbers must be JSON numbers, not numeric strings', () => {
    const r = parse({ type: 'req', id: 'h', op: 'history.page', data: { roomId: 'general', before: '5' } });
    expect(r).toEqual(expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'BAD_REQUEST' }) }));
  });
});
