import { WsCloseCodes } from '@chat/contracts';
import type { GatewayConfig } from '../config';
import type { GatewayMetrics } from '../metrics';
import type { WireConnection } from '../wire/connection';
import { SESSION_TICK_MS, Sessions } from './sessions';

/** The sessions' deadlines (one shared tick, no timer per connection), on jest's fake clock. */
describe('Sessions - authentication timeout, token expiry and idle on one shared tick', () => {
  const config = { WS_AUTH_TIMEOUT_MS: 10_000, WS_MAX_CONNECTIONS_PER_USER: 20, PRESENCE_IDLE_MS: 60_000 } as unknown as GatewayConfig;
  const metrics = { authenticated: { inc: () => undefined, dec: () => undefined } } as unknown as GatewayMetrics;
  const user = { userId: '00000000-0000-4000-8000-000000000001', username: 'ann' };
  let sessions: Sessions;

  function conn(id: string) {
    const closes: number[] = [];
    const c = { connId: id, isOpen: true, close: (code: number) => void (closes.push(code), (c.isOpen = false)), send: () => true };
    return { c: c as unknown as WireConnection, closes, raw: c };
  }

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    sessions = new Sessions(config, metrics);
  });
  afterEach(() => {
    sessions.stop();
    jest.useRealTimers();
  });

  it('not authenticated within WS_AUTH_TIMEOUT_MS: 4401 (not before); an authenticated one is not closed by it', () => {
    const slow = conn('slow');
    const fast = conn('fast');
    sessions.open(slow.c);
    const f = sessions.open(fast.c);
    sessions.beginAuth(f, user);
    sessions.completeAuth(f, Date.now() + 3_600_000);
    jest.advanceTimersByTime(config.WS_AUTH_TIMEOUT_MS - 1);
    expect(slow.closes).toEqual([]);
    jest.advanceTimersByTime(1 + SESSION_TICK_MS);
    expect(slow.closes).toEqual([WsCloseCodes.authTimeout]);
    expect(fast.closes).toEqual([]);
  });

  it('token expiry: 4403 at expiresAt (not before); extend() with a later expiry postpones it', () => {
    const a = conn('a');
    const s = sessions.open(a.c);
    sessions.beginAuth(s, user);
    sessions.completeAuth(s, Date.now() + 30_000);
    jest.advanceTimersByTime(20_000);
    sessions.extend(s, Date.now() + 30_000);
    jest.advanceTimersByTime(29_999);
    expect(a.closes).toEqual([]);
    jest.advanceTimersByTime(1 + SESSION_TICK_MS);
    expect(a.closes).toEqual([WsCloseCodes.tokenExpired]);
    // An expiry already past closes at once.
    const b = conn('b');
    const t = sessions.open(b.c);
    sessions.beginAuth(t, user);
    sessions.completeAuth(t, Date.now() - 1);
    expect(b.closes).toEqual([WsCloseCodes.tokenExpired]);
  });

  it('idle after PRESENCE_IDLE_MS without activity (not before), told once; activity meanwhile postpones it; active again is told', () => {
    const told: Array<[string, boolean]> = [];
    sessions.listen({ activity: (session, idle) => void told.push([session.connId, idle]) });
    const a = conn('a');
    const s = sessions.open(a.c);
    sessions.beginAuth(s, user);
    sessions.completeAuth(s, Date.now() + 3_600_000);
    jest.advanceTimersByTime(40_000);
    sessions.active(s);
    jest.advanceTimersByTime(59_999);
    expect(told).toEqual([]);
    expect(s.idle).toBe(false);
    jest.advanceTimersByTime(1 + SESSION_TICK_MS);
    expect(told).toEqual([['a', true]]);
    expect(s.idle).toBe(true);
    jest.advanceTimersByTime(600_000);
    expect(told).toEqual([['a', true]]);
    sessions.active(s);
    expect(told).toEqual([
      ['a', true],
      ['a', false],
    ]);
    jest.advanceTimersByTime(60_000 + SESSION_TICK_MS);
    expect(told.at(-1)).toEqual(['a', true]);
  });

  it('a closing connection (close handshake under way) is not marked idle; a closed one has no deadline left', () => {
    const told: boolean[] = [];
    sessions.listen({ activity: (_s, idle) => void told.push(idle) });
    const a = conn('a');
    const s = sessions.open(a.c);
    sessions.beginAuth(s, user);
    sessions.completeAuth(s, Date.now() + 3_600_000);
    s.close(4410, 'revoked');
    jest.advanceTimersByTime(60_000 + SESSION_TICK_MS);
    expect(told).toEqual([]);
    sessions.closed(a.c);
    jest.advanceTimersByTime(3_600_000 + SESSION_TICK_MS);
    expect(a.closes).toEqual([4410]);
  });
});
