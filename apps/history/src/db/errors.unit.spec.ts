import { isDatabaseUnavailable } from './errors';

describe('history db errors - isDatabaseUnavailable', () => {
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), true],
    [{ driverError: { code: '57P01', message: 'terminating connection due to administrator command' } }, true],
    [{ driverError: { code: '08006' } }, true],
    [new Error('Connection terminated unexpectedly'), true],
    [{ driverError: { code: '42P01', message: 'relation "messages" does not exist' } }, false],
    [new TypeError('x is undefined'), false],
    [undefined, false],
  ])('%#: %o -> %s', (err, expected) => {
    expect(isDatabaseUnavailable(err)).toBe(expected);
  });
});
