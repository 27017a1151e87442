import { HistoryPageRequest, LoginRequest } from './dto';
import { MAX_INPUT_DEPTH, validateInput } from './validation';

const nested = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe('validateInput', () => {
  it('refuses input nested deeper than MAX_INPUT_DEPTH with BAD_REQUEST instead of overflowing the stack', () => {
    // 8000 levels is ~16 KB of JSON: a small frame that used to throw RangeError.
    const r = validateInput(LoginRequest, { username: 'a', password: 'b', x: nested(8000) });
    expect(r).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: `input is nested more than ${MAX_INPUT_DEPTH} levels deep` } });
  });

  it('still reports an unknown property at an allowed depth as a field error', () => {
    const r = validateInput(LoginRequest, { username: 'a', password: 'b', x: nested(MAX_INPUT_DEPTH - 2) });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.details).toEqual([{ field: 'x', problems: ['property x should not exist'] }]);
  });

  it('history.page - before must be a safe integer (stream positions are below 2^53)', () => {
    expect(validateInput(HistoryPageRequest, { roomId: 'general', before: Number.MAX_SAFE_INTEGER }).ok).toBe(true);
    const r = validateInput(HistoryPageRequest, { roomId: 'general', before: 1e300 });
    expect(!r.ok && r.error.details?.map((d) => d.field)).toEqual(['before']);
  });
});
