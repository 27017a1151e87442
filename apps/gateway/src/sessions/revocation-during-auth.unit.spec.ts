import { WsCloseCodes, ok, type Result, type SessionRevocation } from '@chat/contracts';
import type { Logger } from 'pino';
import type { SessionCheck } from '../accounts/session-check';
import type { VerifiedToken } from '../accounts/tokens';
import type { GatewayConfig } from '../config';
import type { GatewayMetrics } from '../metrics';
import { LocalOps } from '../operations/local-handlers';
import type { WireConnection } from '../wire/connection';
import { SessionRevocations } from './revocations';
import type { SessionResume } from './session-resume';
import type { SessionRooms } from './session-rooms';
import { Sessions } from './sessions';

/**
 * A revocation (logout, password change, disable) that reaches this gateway while a connection's
 * `auth` is checking its session in KV (the KV read answered "exists" just before the delete, and
 * the revocation message is handled before the auth continues) must still end that connection:
 * the session is revoked, so it must not become (and stay) authenticated on it.
 */
describe('session revocations - a revocation arriving while the auth checks the session', () => {
  const userId = '00000000-0000-4000-8000-000000000001';
  const sessionId = `${userId}.AAAAAAAAAAAAAAAAAAAAAAAA`;
  const config = {
    WS_AUTH_TIMEOUT_MS: 60_000,
    WS_MAX_CONNECTIONS_PER_USER: 20,
    PRESENCE_IDLE_MS: 300_000,
  } as unknown as GatewayConfig;
  const metrics = { authenticated: { inc: () => undefined, dec: () => undefined } } as unknown as GatewayMetrics;
  const logger = { warn: () => undefined } as unknown as Logger;

  it('the connection is refused or closed 4410, not left authenticated on the revoked session', async () => {
    const sessions = new Sessions(config, metrics);
    const revocations = new SessionRevocations(sessions, {} as never, {} as never, logger);

    let answerCheck!: (r: Result<VerifiedToken>) => void;
    const check = {
      verifyAccess: () => new Promise<Result<VerifiedToken>>((resolve) => (answerCheck = resolve)),
    } as unknown as SessionCheck;
    const rooms = {
      register: async () => undefined,
      applyRoomList: async () => undefined,
      unregister: () => undefined,
      isFollowing: () => false,
    } as unknown as SessionRooms;
    const rpc = { call: async () => ok({ roomIds: [] }) };
    const resume = { hold: () => undefined, abandon: () => undefined, prepare: async () => undefined } as unknown as SessionResume;
    const local = new LocalOps(check, rpc as never, sessions, rooms, {} as never, resume);

    const closes: number[] = [];
    const conn = { connId: 'c1', close: (code: number) => void closes.push(code), send: () => true } as unknown as WireConnection;
    const session = sessions.open(conn);
    try {
      const reply = local.handlers.auth({ session, correlationId: 'x' }, { token: 'a.b.c' });

      // The KV read found the session; before the auth goes on, the revocation is handled here.
      const revocation: SessionRevocation = { userId, sessionIds: [sessionId], exceptSessionId: null, reason: 'logout' };
      revocations.apply(revocation);
      answerCheck(ok({ user: { userId, username: 'ann' }, expiresAtMs: Date.now() + 900_000, sessionId }));
      await reply;

      // Either the auth is refused or the connection is closed as revoked: never authenticated and open.
      const acceptedOnRevokedSession = session.authenticated && !closes.includes(WsCloseCodes.sessionRevoked);
      expect({ acceptedOnRevokedSession, closes }).toEqual({ acceptedOnRevokedSession: false, closes: expect.any(Array) });
    } finally {
      sessions.stop();
    }
  });

  it('a re-auth whose new session is revoked while it is checked is refused and the connection is closed 4410 after the reply', async () => {
    const sessions = new Sessions(config, metrics);
    const revocations = new SessionRevocations(sessions, {} as never, {} as never, logger);
    const answers: ((r: Result<VerifiedToken>) => void)[] = [];
    const check = {
      verifyAccess: () => new Promise<Result<VerifiedToken>>((resolve) => answers.push(resolve)),
    } as unknown as SessionCheck;
    const rooms = {
      register: async () => undefined,
      applyRoomList: async () => undefined,
      unregister: () => undefined,
    } as unknown as SessionRooms;
    const rpc = { call: async () => ok({ roomIds: [] }) };
    const resume = { hold: () => undefined, abandon: () => undefined, prepare: async () => undefined } as unknown as SessionResume;
    const local = new LocalOps(check, rpc as never, sessions, rooms, {} as never, resume);
    const conn = { connId: 'c2', close: () => undefined, send: () => true } as unknown as WireConnection;
    const session = sessions.open(conn);
    const user = { userId, username: 'ann' };
    try {
      const first = local.handlers.auth({ session, correlationId: 'x' }, { token: 'a.b.c' });
      answers[0](ok({ user, expiresAtMs: Date.now() + 900_000, sessionId: `${userId}.old` }));
      expect((await first).ok).toBe(true);

      const newSession = `${userId}.new`;
      const again = local.handlers.auth({ session, correlationId: 'y' }, { token: 'd.e.f' });
      revocations.apply({ userId, sessionIds: [newSession], exceptSessionId: null, reason: 'logout' });
      answers[1](ok({ user, expiresAtMs: Date.now() + 900_000, sessionId: newSession }));
      const reply = await again;
      expect({ code: reply.ok ? 'OK' : reply.error.code, close: session.closeAfterReply?.code, sessionId: session.sessionId }).toEqual({
        code: 'SESSION_REVOKED',
        close: WsCloseCodes.sessionRevoked,
        sessionId: `${userId}.old`,
      });
    } finally {
      sessions.stop();
    }
  });
});
