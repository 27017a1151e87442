import { ChatError } from '@chat/contracts';
import { toHttpError } from './errors';

describe('http errors - mapping to status and typed body', () => {
  it('maps ChatError codes to statuses', () => {
    expect(toHttpError(new ChatError('USERNAME_TAKEN', 'taken'), undefined)).toEqual({
      status: 409,
      body: { code: 'USERNAME_TAKEN', message: 'taken' },
    });
    expect(toHttpError(new ChatError('AUTH_FAILED', 'no'), undefined).status).toBe(401);
    const details = [{ field: 'username', problems: ['x'] }];
    expect(toHttpError(new ChatError('BAD_REQUEST', 'bad', details), undefined)).toEqual({
      status: 400,
      body: { code: 'BAD_REQUEST', message: 'bad', details },
    });
  });

  it('maps body-parser failures', () => {
    expect(toHttpError(new Error('x'), 413, { type: 'entity.too.large' }).body.code).toBe('FRAME_TOO_LARGE');
    expect(toHttpError(new Error('x'), 400, Object.assign(new SyntaxError('bad'), { type: 'entity.parse.failed' }))).toEqual({
      status: 400,
      body: { code: 'BAD_REQUEST', message: 'request body is not valid JSON' },
    });
    expect(toHttpError(new Error('x'), 415).status).toBe(415);
  });

  it('hides unexpected errors behind INTERNAL', () => {
    expect(toHttpError(new Error('secret detail'), undefined)).toEqual({
      status: 500,
      body: { code: 'INTERNAL', message: 'internal error; nothing was changed' },
    });
    expect(toHttpError(new Error('x'), 404).body.code).toBe('NOT_FOUND');
  });
});
