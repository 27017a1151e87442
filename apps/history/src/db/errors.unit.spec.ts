import { isConnectionBroken, isDatabaseUnavailable } from './errors';

describe('history db errors - isDatabaseUnavailable', () => {
  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), true],
    [{ driverError: { code: '57P01', message: 'terminating connection due to administrator command' } }, true],
    [{ driverError: { code: '08006' } }, true],
    [new Error('Connection terminated unexpectedly'), true],
    [{ driverError: { code: '57014', message: 'canceling statement due to statement timeout' } }, true],
    [{ driverError: { code: '55P03', message: 'canceling statement due to lock timeout' } }, true],
    [{ driverError: new Error('Query read timeout') }, true],
    [{ driverError: { code: '42P01', message: 'relation "messages" does not exist' } }, false],
    [new TypeError('x is undefined'), false],
    [undefined, false],
  ])('%#: %o -> %s', (err, expected) => {
    expect(isDatabaseUnavailable(err)).toBe(expected);
  });
});

describe('history db errors - isConnectionBroken', () => {
  it.each([
    [{ driverError: new Error('Query read timeout') }, true],
    [{ driverError: { code: '08006' } }, true],
    // The server cancelled the statement and answered: the connection is fine for the next query.
    [{ driverError: { code: '57014', message: 'canceling statement due to statement timeout' } }, false],
    [{ driverError: { code: '55P03' } }, false],
    [{ driverError: { code: '23505' } }, false],
  ])('%#: %o -> %s', (err, expected) => {
    expect(isConnectionBroken(err)).toBe(expected);
  });
});
