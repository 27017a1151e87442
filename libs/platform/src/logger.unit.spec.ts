import { Writable } from 'node:stream';
import pino from 'pino';
import { REDACT_PATHS } from './logger';

/** A logger configured as createLogger's, writing into an array. */
function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
  return { logger, lines };
}

describe('logger redaction', () => {
  test('passwords, tokens and message bodies are redacted at the top and two levels down', () => {
    const { logger, lines } = capture();
    logger.info({ password: 'pw-top', token: 'tok-top', userId: 'u1' }, 'top');
    logger.info({ data: { body: 'body-one', refreshToken: 'rt-one', roomId: 'r1' } }, 'one level');
    logger.info({ req: { headers: { authorization: 'Bearer abc' }, data: { newPassword: 'np', currentPassword: 'cp' } } }, 'two levels');
    const text = lines.join('');
    for (const secret of ['pw-top', 'tok-top', 'body-one', 'rt-one', 'Bearer abc', '"np"', '"cp"'])
      expect({ secret, found: text.includes(secret) }).toEqual({ secret, found: false });
    // what is not secret stays readable
    for (const kept of ['u1', 'r1', 'one level']) expect({ kept, found: text.includes(kept) }).toEqual({ kept, found: true });
    expect(text.split('[redacted]').length - 1).toBe(7);
  });
});
