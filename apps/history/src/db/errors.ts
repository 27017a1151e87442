function driverErrorOf(err: unknown): { code: string; message: string } {
  const e = ((err as { driverError?: unknown })?.driverError ?? err) as { code?: unknown; message?: unknown } | null;
  return { code: typeof e?.code === 'string' ? e.code : '', message: typeof e?.message === 'string' ? e.message : '' };
}

/**
 * true when the connection a query ran on can no longer be trusted: it failed, the server
 * ended it, or the client gave up waiting for an answer (node-postgres `query_timeout`: the
 * query may still be running, and the next one on that connection would queue behind it).
 * Such a connection is destroyed instead of going back to the pool.
 */
export function isConnectionBroken(err: unknown): boolean {
  const { code, message } = driverErrorOf(err);
  // SQLSTATE class 08 = connection exception; 57P01-03 = admin shutdown / crash / cannot connect now.
  if (/^08/.test(code) || ['57P01', '57P02', '57P03'].includes(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE'].includes(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(
    message,
  );
}

/**
 * true for failures that mean "the database cannot serve this right now" (safe to retry), as
 * opposed to a bug in a query. TypeORM wraps driver errors in `driverError`.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (isConnectionBroken(err)) return true;
  // 53300 = too many connections; 57014 = statement cancelled (statement_timeout); 55P03 = lock_timeout.
  return ['53300', '57014', '55P03'].includes(driverErrorOf(err).code);
}
