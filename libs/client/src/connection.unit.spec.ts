import { DEFAULT_RECONNECT, backoffDelay } from './backoff';
import { ChatClient, type StateChange } from './connection';
import { ChatClientError } from './errors';
import type { SocketCloseEvent, SocketMessageEvent, WebSocketLike } from './socket';

/** A WebSocket the test drives by hand: it opens, answers and closes when told to. */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: SocketMessageEvent) => void) | null = null;
  onclose: ((e: SocketCloseEvent) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  readonly sent: Array<{ type: string; id: string; op: string; data: unknown }> = [];

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  static get last(): FakeSocket {
    return FakeSocket.all[FakeSocket.all.length - 1];
  }

  send(data: string | Uint8Array) {
    this.sent.push(JSON.parse(String(data)));
  }

  close(code = 1005, reason = '') {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  // --- what the "server" does
  accept() {
    this.readyState = 1;
    this.onopen?.({});
  }

  reply(op: string, data: unknown) {
    const req = [...this.sent].reverse().find((r) => r.op === op);
    if (!req) throw new Error(`no ${op} request sent`);
    this.onmessage?.({ data: JSON.stringify({ type: 'res', id: req.id, ok: true, data }) });
  }

  fail(op: string, code: string) {
    const req = [...this.sent].reverse().find((r) => r.op === op)!;
    this.onmessage?.({ data: JSON.stringify({ type: 'res', id: req.id, ok: false, error: { code, message: code.toLowerCase() } }) });
  }

  drop(code: number, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** Lets promise callbacks (reply handling) run. */
async function settle() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

const user = { userId: 'u1', username: 'alice' };
const authReply = { user, protocol: 1, expiresAt: '2026-12-01T00:00:00.000Z' };

describe('ChatClient - reconnect', () => {
  let states: StateChange[];

  beforeEach(() => {
    jest.useFakeTimers();
    jest.spyOn(Math, 'random').mockReturnValue(1); // the shortest wait: half the delay
    FakeSocket.all = [];
    states = [];
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  function client(opts: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}) {
    let token = 'tok-1';
    const c = new ChatClient({ url: 'ws://gw/ws', WebSocket: FakeSocket, token: () => token, ...opts });
    c.on('state', (s) => states.push(s));
    return { c, setToken: (t: string) => (token = t) };
  }

  /** Opens the newest socket and answers its auth. */
  async function acceptAndAuth() {
    FakeSocket.last.accept();
    expect(FakeSocket.last.sent.at(-1)).toMatchObject({ type: 'req', op: 'auth' });
    FakeSocket.last.reply('auth', authReply);
    await settle();
  }

  it('backoff - grows by the factor up to the maximum, with up to half of it random', () => {
    const p = DEFAULT_RECONNECT;
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, p, () => 0))).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000]);
    expect(backoffDelay(0, p, () => 1)).toBe(250);
    expect(backoffDelay(10, p, () => 0.999)).toBeGreaterThanOrEqual(7500);
  });

  it('authenticates on open, is open after the auth reply, and tells the app', async () => {
    const { c } = client();
    const ready = jest.fn();
    c.on('ready', ready);
    c.open();
    expect(states.map((s) => s.state)).toEqual(['connecting']);
    FakeSocket.last.accept();
    expect(c.ready).toBe(false);
    // Requests other than auth/ping wait for the client's own auth.
    await expect(c.request('rooms.list', {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    FakeSocket.last.reply('auth', authReply);
    await settle();
    expect(c.state).toBe('open');
    expect(ready).toHaveBeenCalledWith(authReply);
    expect(c.user).toEqual(user);
    expect(FakeSocket.last.sent[0]).toEqual({ type: 'req', id: expect.any(String), op: 'auth', data: { token: 'tok-1' } });
  });

  it('after an unexpected close: pending requests fail UNAVAILABLE, then reconnects with growing delays and sends auth with the current token', async () => {
    const { c, setToken } = client();
    c.open();
    await acceptAndAuth();
    const inFlight = c.request('rooms.list', {});
    FakeSocket.last.drop(1006);
    await expect(inFlight).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 1, delayMs: 250, code: 1006 });
    expect(FakeSocket.all).toHaveLength(1);

    // The first retry fails too: the next wait is twice as long.
    jest.advanceTimersByTime(249);
    expect(FakeSocket.all).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 1 });
    FakeSocket.last.drop(1006);
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 2, delayMs: 500 });
    jest.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(3);

    setToken('tok-2');
    await acceptAndAuth();
    expect(FakeSocket.last.sent[0].data).toEqual({ token: 'tok-2' });
    expect(c.state).toBe('open');
    // Back at the first delay after a successful connection.
    FakeSocket.last.drop(1001, 'shutting down');
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 1, delayMs: 250, code: 1001 });
    await c.close();
  });

  it('the delay is capped and jittered', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const { c } = client({ reconnect: { initialDelayMs: 100, maxDelayMs: 300 } });
    c.open();
    for (let i = 0; i < 4; i++) {
      FakeSocket.last.drop(1006);
      const { delayMs } = states.at(-1)!;
      jest.advanceTimersByTime(delayMs!);
    }
    expect(states.filter((s) => s.delayMs !== undefined).map((s) => s.delayMs)).toEqual([100, 200, 300, 300]);
    void c.close();
  });

  it('does not reconnect after close(), and close() during the wait cancels the retry', async () => {
    const { c } = client();
    c.open();
    await acceptAndAuth();
    const closing = c.close();
    await closing;
    expect(await c.closed).toEqual({ code: 1000, reason: '' });
    expect(states.at(-1)).toMatchObject({ state: 'closed' });
    jest.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);

    c.open();
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.last.drop(1006);
    await c.close();
    jest.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(2);
    expect(c.state).toBe('closed');
  });

  it('4403 (token expired) closes for good and reports authLost', async () => {
    const { c } = client();
    const lost = jest.fn();
    c.on('authLost', lost);
    c.open();
    await acceptAndAuth();
    FakeSocket.last.drop(4403, 'token expired');
    expect(lost).toHaveBeenCalledWith({ error: expect.any(ChatClientError), code: 4403 });
    expect(lost.mock.calls[0][0].error.code).toBe('TOKEN_EXPIRED');
    expect(states.at(-1)).toMatchObject({ state: 'closed', code: 4403 });
    expect(await c.closed).toEqual({ code: 4403, reason: 'token expired' });
    jest.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it.each([4400, 1007, 1009])('close %i (a client bug) is not retried', async (code) => {
    const { c } = client();
    c.open();
    await acceptAndAuth();
    FakeSocket.last.drop(code);
    expect((await c.closed).code).toBe(code);
    jest.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('a refused token on reconnect stops reconnecting (authLost); an auth the gateway cannot check is retried', async () => {
    const { c } = client();
    const lost = jest.fn();
    c.on('authLost', lost);
    c.open();
    FakeSocket.last.accept();
    FakeSocket.last.fail('auth', 'UNAVAILABLE');
    await settle();
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 1 });
    jest.advanceTimersByTime(250);
    FakeSocket.last.accept();
    FakeSocket.last.fail('auth', 'UNAUTHENTICATED');
    await settle();
    expect(lost).toHaveBeenCalledWith({ error: expect.objectContaining({ code: 'UNAUTHENTICATED' }) });
    expect(c.state).toBe('closed');
    jest.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('a connection that does not open in time is dropped and retried', () => {
    const { c } = client({ connectTimeoutMs: 1000 });
    c.open();
    jest.advanceTimersByTime(1000);
    expect(FakeSocket.all[0].readyState).toBe(3);
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 1 });
    jest.advanceTimersByTime(250);
    expect(FakeSocket.all).toHaveLength(2);
    void c.close();
  });

  it('keep-alive: a silent connection is pinged, and replaced when the ping is not answered', async () => {
    const { c } = client({ keepAliveMs: 25_000 });
    c.open();
    await acceptAndAuth();
    jest.advanceTimersByTime(25_000);
    expect(FakeSocket.last.sent.at(-1)).toMatchObject({ op: 'ping', data: {} });
    FakeSocket.last.reply('ping', { time: 'now' });
    await settle();
    jest.advanceTimersByTime(25_000);
    expect(FakeSocket.last.sent.filter((r) => r.op === 'ping')).toHaveLength(2);
    jest.advanceTimersByTime(10_000);
    await settle();
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 1 });
    void c.close();
  });

  it('reconnect: false closes on the first drop; ChatClient.connect rejects when the first attempt fails', async () => {
    const { c } = client({ reconnect: false, token: undefined });
    c.open();
    FakeSocket.last.accept();
    expect(c.state).toBe('open');
    FakeSocket.last.drop(1001);
    expect(await c.closed).toEqual({ code: 1001, reason: '' });

    const connecting = ChatClient.connect('ws://gw/ws', { WebSocket: FakeSocket });
    FakeSocket.last.drop(1006);
    await expect(connecting).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    jest.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('without a token, the token of the last auth() is sent on reconnect', async () => {
    const { c } = client({ token: undefined });
    c.open();
    FakeSocket.last.accept();
    const authed = c.auth('manual');
    FakeSocket.last.reply('auth', authReply);
    await authed;
    FakeSocket.last.drop(1006);
    jest.advanceTimersByTime(250);
    FakeSocket.last.accept();
    expect(FakeSocket.last.sent[0]).toMatchObject({ op: 'auth', data: { token: 'manual' } });
    void c.close();
  });

  it('gateway events reach their handlers with the position', async () => {
    const { c } = client();
    const seen = jest.fn();
    c.on('presence.changed', seen);
    c.open();
    await acceptAndAuth();
    const data = { ...user, status: 'away', lastSeen: null };
    FakeSocket.last.onmessage!({ data: JSON.stringify({ type: 'evt', event: 'presence.changed', position: 7, data }) });
    expect(seen).toHaveBeenCalledWith(data, 7);
    expect(c.events('presence.changed')).toHaveLength(1);
    void c.close();
  });
});

describe('ChatClient - resume, token renewal, shutdown and the session close codes', () => {
  let states: StateChange[];

  beforeEach(() => {
    jest.useFakeTimers();
    jest.setSystemTime(new Date('2026-12-01T00:00:00.000Z'));
    jest.spyOn(Math, 'random').mockReturnValue(1);
    FakeSocket.all = [];
    states = [];
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  const expiresIn = (ms: number) => new Date(Date.now() + ms).toISOString();
  const evt = (event: string, position: number, data: unknown = { roomId: 'r' }) =>
    FakeSocket.last.onmessage!({ data: JSON.stringify({ type: 'evt', event, position, data }) });

  function client(opts: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}) {
    const c = new ChatClient({ url: 'ws://gw/ws', WebSocket: FakeSocket, token: 'tok', resumeOverlap: 0, ...opts });
    c.on('state', (s) => states.push(s));
    return c;
  }
  async function open(reply: object = authReply) {
    FakeSocket.last.accept();
    await settle();
    FakeSocket.last.reply('auth', reply);
    await settle();
  }
  /** The socket drops; the retry after the back-off wait opens a new one. */
  function reconnect() {
    FakeSocket.last.drop(1006);
    jest.advanceTimersByTime(states.at(-1)!.delayMs!);
  }

  it('resume: the highest chat position seen (not presence, typing, read markers) is sent as resumeFrom on the reconnect; resumed moves it to upTo', async () => {
    const c = client();
    const resumed = jest.fn();
    const reload = jest.fn();
    c.on('resumed', resumed);
    c.on('reloadNeeded', reload);
    c.open();
    await open();
    expect(FakeSocket.last.sent[0].data).toEqual({ token: 'tok' }); // the first connection has nothing to resume
    evt('message.posted', 40);
    evt('member.joined', 41);
    evt('presence.changed', 900, { userId: 'u2' });
    evt('read.marker', 950, { roomId: 'r', lastRead: 950 });
    evt('typing', 0);
    evt('message.edited', 39); // older (another room's order): the highest stays
    expect(c.position).toBe(41);
    reconnect();
    await open({ ...authReply, resume: { status: 'resumed', from: 41, upTo: 57, replayed: 3 } });
    expect(FakeSocket.last.sent[0].data).toEqual({ token: 'tok', resumeFrom: 41 });
    expect(resumed).toHaveBeenCalledWith({ status: 'resumed', from: 41, upTo: 57, replayed: 3 });
    expect(reload).not.toHaveBeenCalled();
    expect(c.position).toBe(57);
    reconnect();
    await open();
    expect(FakeSocket.last.sent[0].data).toEqual({ token: 'tok', resumeFrom: 57 });
    void c.close();
  });

  it('resume overlap: the resume starts below the highest position seen (a lower event may still have been on its way), and what the client already had is not shown again', async () => {
    const c = client({ resumeOverlap: 10 });
    const posted = jest.fn();
    c.on('message.posted', (_m, p) => posted(p));
    c.open();
    await open();
    evt('message.posted', 50);
    evt('message.posted', 53);
    reconnect();
    FakeSocket.last.accept();
    await settle();
    expect(FakeSocket.last.sent[0].data).toEqual({ token: 'tok', resumeFrom: 43 });
    // The replay: 50 and 53 again (dropped), 51 that was still on its way, then 54.
    for (const p of [50, 51, 53, 54]) evt('message.posted', p);
    FakeSocket.last.reply('auth', { ...authReply, resume: { status: 'resumed', from: 43, upTo: 54, replayed: 4 } });
    await settle();
    expect(posted.mock.calls.map(([p]) => p)).toEqual([50, 53, 51, 54]);
    expect(c.events('message.posted').map((f) => f.position)).toEqual([50, 53, 51, 54]);
    void c.close();
  });

  it('reload: reloadNeeded with the reason, and the next resume starts from the latest position; a reconnect with no position at all asks for a reload too', async () => {
    const c = client();
    const reload = jest.fn();
    c.on('reloadNeeded', reload);
    c.open();
    await open();
    reconnect();
    await open();
    expect(FakeSocket.last.sent[0].data).toEqual({ token: 'tok' });
    expect(reload).toHaveBeenLastCalledWith({ reason: 'no_position', latest: null });
    evt('message.posted', 5);
    reconnect();
    await open({ ...authReply, resume: { status: 'reload', reason: 'too_far_behind', latest: 200000 } });
    expect(reload).toHaveBeenLastCalledWith({ reason: 'too_far_behind', latest: 200000 });
    reconnect();
    await open();
    expect(FakeSocket.last.sent[0].data).toEqual({ token: 'tok', resumeFrom: 200000 });
    // A position of another server (beyond its newest): back to its latest, or to what came live before the reply.
    reconnect();
    FakeSocket.last.accept();
    await settle();
    evt('message.posted', 60);
    FakeSocket.last.reply('auth', { ...authReply, resume: { status: 'reload', reason: 'unknown_position', latest: 50 } });
    await settle();
    expect(c.position).toBe(60);
    void c.close();
  });

  it('resumeFrom and notePosition give a position before any event; resume: false never sends one', async () => {
    const c = client({ resumeFrom: 12 });
    c.open();
    await open();
    expect(FakeSocket.last.sent[0].data).toEqual({ token: 'tok', resumeFrom: 12 });
    c.notePosition(30);
    c.notePosition(-1);
    c.notePosition(20);
    expect(c.position).toBe(30);
    void c.close();
    const off = client({ resume: false, resumeFrom: 12 });
    off.open();
    await open();
    evt('message.posted', 8);
    reconnect();
    await open();
    expect(FakeSocket.last.sent[0].data).toEqual({ token: 'tok' });
    void off.close();
  });

  it('token renewal: with a token function the connection re-authenticates in band before expiry, with a fresh token, again and again', async () => {
    let n = 0;
    const provider = jest.fn(async () => `fresh-${++n}`);
    const c = client({ token: provider, renewBeforeMs: 60_000 });
    c.open();
    FakeSocket.last.accept();
    await settle();
    expect(FakeSocket.last.sent[0]).toMatchObject({ op: 'auth', data: { token: 'fresh-1' } });
    FakeSocket.last.reply('auth', { ...authReply, expiresAt: expiresIn(900_000) });
    await settle();
    expect(c.state).toBe('open');
    jest.advanceTimersByTime(839_999);
    await settle();
    expect(FakeSocket.last.sent).toHaveLength(1);
    jest.advanceTimersByTime(1);
    await settle();
    expect(FakeSocket.last.sent[1]).toMatchObject({ op: 'auth', data: { token: 'fresh-2' } });
    FakeSocket.last.reply('auth', { ...authReply, expiresAt: expiresIn(900_000) });
    await settle();
    jest.advanceTimersByTime(840_000);
    await settle();
    expect(FakeSocket.last.sent[2]).toMatchObject({ op: 'auth', data: { token: 'fresh-3' } });
    // A renewal the gateway refuses ends the login.
    const lost = jest.fn();
    c.on('authLost', lost);
    FakeSocket.last.fail('auth', 'SESSION_REVOKED');
    await settle();
    expect(lost).toHaveBeenCalledWith({ error: expect.objectContaining({ code: 'SESSION_REVOKED' }) });
    expect(c.state).toBe('closed');
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('token renewal: a short-lived token is renewed at half its life; a renewal that fails for now is retried; the provider is used on reconnect', async () => {
    let n = 0;
    let failing = false;
    const c = client({
      token: async () => {
        if (failing) throw new Error('network down');
        return `t${++n}`;
      },
    });
    c.open();
    FakeSocket.last.accept();
    await settle();
    FakeSocket.last.reply('auth', { ...authReply, expiresAt: expiresIn(40_000) });
    await settle();
    failing = true;
    jest.advanceTimersByTime(20_000);
    await settle();
    expect(FakeSocket.last.sent).toHaveLength(1); // the provider failed: nothing sent, tried again later
    failing = false;
    jest.advanceTimersByTime(10_000);
    await settle();
    expect(FakeSocket.last.sent[1]).toMatchObject({ op: 'auth', data: { token: 't2' } });
    reconnect();
    FakeSocket.last.accept();
    await settle();
    expect(FakeSocket.last.sent[0]).toMatchObject({ op: 'auth', data: { token: 't3' } });
    void c.close();
  });

  it('a token function rejecting with SESSION_REVOKED on reconnect ends the login; another failure is retried', async () => {
    let answer: () => Promise<string> = async () => 'ok';
    const c = client({ token: () => answer() });
    const lost = jest.fn();
    c.on('authLost', lost);
    c.open();
    answer = async () => {
      throw new Error('offline');
    };
    FakeSocket.last.accept();
    await settle();
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', attempt: 1 });
    answer = async () => {
      throw new ChatClientError('SESSION_REVOKED', 'log in again');
    };
    jest.advanceTimersByTime(250);
    FakeSocket.last.accept();
    await settle();
    expect(lost).toHaveBeenCalledWith({ error: expect.objectContaining({ code: 'SESSION_REVOKED' }) });
    expect(c.state).toBe('closed');
    expect(FakeSocket.all.every((s) => s.sent.length === 0)).toBe(true);
  });

  it('4403 with a token function that has a new token (renewal missed, e.g. asleep): reconnects with it; the same token again ends the login', async () => {
    let current = 'old';
    const c = client({ token: async () => current });
    const lost = jest.fn();
    c.on('authLost', lost);
    c.open();
    FakeSocket.last.accept();
    await settle();
    FakeSocket.last.reply('auth', authReply);
    await settle();
    current = 'new';
    FakeSocket.last.drop(4403, 'token expired');
    await settle();
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', code: 4403 });
    jest.advanceTimersByTime(states.at(-1)!.delayMs!);
    FakeSocket.last.accept();
    await settle();
    expect(FakeSocket.last.sent[0]).toMatchObject({ op: 'auth', data: { token: 'new' } });
    FakeSocket.last.reply('auth', authReply);
    await settle();
    FakeSocket.last.drop(4403, 'token expired');
    await settle();
    expect(lost).toHaveBeenCalledWith({ error: expect.objectContaining({ code: 'TOKEN_EXPIRED' }), code: 4403 });
    expect(c.state).toBe('closed');
  });

  it.each([
    [4410, 'SESSION_REVOKED'],
    [4411, 'ACCOUNT_DISABLED'],
  ])('close %i ends the login (authLost %s), no retry', async (code, error) => {
    const c = client();
    const lost = jest.fn();
    c.on('authLost', lost);
    c.open();
    await open();
    FakeSocket.last.drop(code, 'bye');
    expect(lost).toHaveBeenCalledWith({ error: expect.objectContaining({ code: error }), code });
    expect(await c.closed).toEqual({ code, reason: 'bye' });
    jest.advanceTimersByTime(600_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('close 4412 (banned from the server) ends the login with SERVER_BANNED, no retry', async () => {
    const c = client();
    const lost = jest.fn();
    c.on('authLost', lost);
    c.open();
    await open();
    FakeSocket.last.drop(4412, 'banned from this server: spam');
    expect(lost).toHaveBeenCalledWith({ error: expect.objectContaining({ code: 'SERVER_BANNED' }), code: 4412 });
    expect(await c.closed).toEqual({ code: 4412, reason: 'banned from this server: spam' });
    jest.advanceTimersByTime(600_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('an auth refused SERVER_BANNED ends the login (authLost), no retry', async () => {
    const c = client();
    const lost = jest.fn();
    c.on('authLost', lost);
    c.open();
    FakeSocket.last.accept();
    await settle();
    FakeSocket.last.fail('auth', 'SERVER_BANNED');
    await settle();
    expect(lost).toHaveBeenCalledWith({ error: expect.objectContaining({ code: 'SERVER_BANNED' }) });
    expect(c.state).toBe('closed');
    jest.advanceTimersByTime(600_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('close 4413 (kicked) closes without a retry but keeps the login: open() connects again with the same token', async () => {
    const c = client();
    const lost = jest.fn();
    c.on('authLost', lost);
    c.open();
    await open();
    FakeSocket.last.drop(4413, 'disconnected by a moderator');
    expect(await c.closed).toEqual({ code: 4413, reason: 'disconnected by a moderator' });
    expect(lost).not.toHaveBeenCalled();
    jest.advanceTimersByTime(600_000);
    expect(FakeSocket.all).toHaveLength(1);
    c.open();
    await open();
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.last.sent[0]).toMatchObject({ op: 'auth', data: { token: 'tok' } });
    expect(c.state).toBe('open');
    void c.close();
  });

  it('moderation.* events (position 0) reach their handlers every time and do not move the resume position', async () => {
    const c = client();
    const warned = jest.fn();
    c.on('moderation.warned', warned);
    c.open();
    await open();
    evt('message.posted', 40);
    const data = { reason: 'be nice', by: null, rule: 'strikes', time: '2026-12-01T00:00:00.000Z' };
    evt('moderation.warned', 0, data);
    evt('moderation.warned', 0, data);
    expect(warned).toHaveBeenCalledTimes(2);
    expect(warned).toHaveBeenCalledWith(data, 0);
    expect(c.position).toBe(40);
    void c.close();
  });

  it.each([4429, 4430])('close %i backs off: the longest wait, then reconnects', async (code) => {
    const c = client();
    c.open();
    await open();
    FakeSocket.last.drop(code);
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', delayMs: DEFAULT_RECONNECT.maxDelayMs / 2, code });
    jest.advanceTimersByTime(DEFAULT_RECONNECT.maxDelayMs / 2);
    expect(FakeSocket.all).toHaveLength(2);
    void c.close();
  });

  it('server.shutdown: the close (1012) that follows is retried after a random wait within reconnectWithinMs; plain 1012 is retried too', async () => {
    const c = client();
    c.open();
    await open();
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    evt('server.shutdown', 0, { reason: 'restart', reconnectWithinMs: 8000 });
    FakeSocket.last.drop(1012);
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', delayMs: 4000, code: 1012 });
    jest.advanceTimersByTime(4000);
    expect(FakeSocket.all).toHaveLength(2);
    await open();
    FakeSocket.last.drop(1012);
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', code: 1012 });
    expect(states.at(-1)!.delayMs).toBeLessThanOrEqual(DEFAULT_RECONNECT.initialDelayMs);
    void c.close();
  });
});
