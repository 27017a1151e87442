import { ChatClient, login, register, wsUrlOf } from '@chat/client';
import type { MessageView } from '@chat/contracts';
import { eventually, randomName } from '@chat/testing';
import { WebSocket } from 'ws';
import { printLogsIfFailed, startTestStack, type TestStack } from '../e2e/fixture';

jest.setTimeout(300_000);

/** A reply frame as it arrives. */
interface Reply {
  type: 'res';
  id: string | null;
  ok: boolean;
  data?: unknown;
  error?: { code: string; message: string; details?: Array<{ field: string; problems: string[] }> };
}

/**
 * A socket driven frame by frame, as an attacker would: replies by id, and how it closed. Not
 * the client library (which would wait, retry and refuse bad input).
 */
class RawSocket {
  readonly replies: Reply[] = [];
  readonly events: Array<{ event: string; data: unknown }> = [];
  readonly closed: Promise<number>;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const f = JSON.parse(String(raw)) as Reply | { type: 'evt'; event: string; data: unknown };
      if (f.type === 'res') this.replies.push(f);
      else this.events.push(f);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }
  static open(url: string): Promise<RawSocket> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => ws.once('open', () => resolve(new RawSocket(ws))).once('error', reject));
  }
  send(frame: string): void {
    this.ws.send(frame);
  }
  async request(id: string, op: string, data: unknown): Promise<Reply> {
    this.send(JSON.stringify({ type: 'req', id, op, data }));
    return eventually(() => this.replies.find((r) => r.id === id), 30_000);
  }
  close(): void {
    this.ws.terminate();
  }
}

/**
 * Attacks found from outside, replayed against the built stack (five services as processes).
 * The gateway's request rate limit is back at its defaults here (the fixture lifts it for the
 * other e2e files); everything else is as shipped.
 */
describe('attackers - from outside, against the built stack', () => {
  let stack: TestStack;
  const sockets: RawSocket[] = [];
  const clients: ChatClient[] = [];

  const account = async (prefix: string) => {
    const username = `${prefix}${randomName().slice(-8)}`;
    const { user } = await register(stack.urls.gateway, username, 'password-1');
    const { accessToken } = await login(stack.urls.gateway, username, 'password-1');
    return { user, token: accessToken };
  };
  const raw = async (token?: string) => {
    const s = await RawSocket.open(wsUrlOf(stack.urls.gateway));
    sockets.push(s);
    if (token) expect(await s.request('a', 'auth', { token })).toMatchObject({ ok: true });
    return s;
  };
  const client = async (token: string) => {
    const c = await ChatClient.connect(wsUrlOf(stack.urls.gateway), { WebSocket, reconnect: false });
    clients.push(c);
    await c.auth(token);
    return c;
  };
  /** Every message of a room in history, oldest first (paged back from the newest). */
  const history = async (c: ChatClient, roomId: string): Promise<MessageView[]> => {
    const all: MessageView[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await c.request('history.page', before === undefined ? { roomId, limit: 100 } : { roomId, limit: 100, before });
      all.unshift(...page.messages);
      if (page.nextBefore === null) return all;
      before = page.nextBefore;
    }
  };

  beforeAll(async () => {
    stack = await startTestStack({ serviceEnv: { gateway: { WS_RATE_PER_S: '50', WS_RATE_BURST: '200' } } });
  });
  afterEach(() => printLogsIfFailed(stack, ['gateway', 'rooms', 'history']));
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await stack?.teardown();
  });

  it('sockets - one user opening 100 sockets gets WS_MAX_CONNECTIONS_PER_USER (20) sessions; every other auth is RATE_LIMITED and closed 4429', async () => {
    const { token } = await account('socks');
    const opened = await Promise.all(Array.from({ length: 100 }, () => raw()));
    const answers = await Promise.all(opened.map((s, i) => s.request(`auth-${i}`, 'auth', { token })));
    expect(answers.filter((a) => a.ok)).toHaveLength(20);
    const refused = opened.filter((_, i) => !answers[i].ok);
    expect(refused).toHaveLength(80);
    for (const [i, s] of refused.entries()) {
      expect(answers[opened.indexOf(s)].error?.code).toBe('RATE_LIMITED');
      expect(await s.closed).toBe(4429);
      if (i > 5) break;
    }
    expect(await Promise.all(refused.map((s) => s.closed))).toEqual(Array(80).fill(4429));
    // The 20 sessions work.
    const live = opened.filter((_, i) => answers[i].ok);
    expect(await live[19].request('p', 'ping', {})).toMatchObject({ ok: true });
    for (const s of live) s.close();
  });

  it('sends - 2,000 message.send on one connection without waiting: a burst of at most 200 (+50/s) is stored, the rest RATE_LIMITED with retryAfterMs, then close 4430', async () => {
    const { token } = await account('flood');
    const roomId = `flood-${randomName().slice(-8)}`;
    const s = await raw(token);
    expect(await s.request('c', 'room.create', { roomId, name: 'flood', visibility: 'private' })).toMatchObject({ ok: true });
    // Let the bucket refill from the three requests above, so the burst is exactly WS_RATE_BURST.
    await eventually(async () => (await s.request(`p${Date.now()}`, 'ping', {})).ok && s.replies.length >= 4);
    const started = Date.now();
    const frames = Array.from({ length: 2000 }, (_, i) =>
      JSON.stringify({ type: 'req', id: `m${i}`, op: 'message.send', data: { roomId, clientMsgId: `m${i}`, body: `flood ${i}` } }),
    );
    for (const f of frames) s.send(f);
    // Sent at once, the frames reach the gateway faster than the bucket refills, and 100 refusals
    // in a row close the connection (4430). On a machine so loaded that the gateway reads them
    // slower than that, a refill comes between refusals and every frame is answered instead.
    const answered = () => s.replies.filter((r) => r.id?.startsWith('m')).length === 2000;
    const code = await Promise.race([s.closed, eventually(answered, 170_000).then(() => null)]);
    const elapsedS = (Date.now() - started) / 1000;
    const sends = s.replies.filter((r) => r.id?.startsWith('m'));
    const limited = sends.filter((r) => !r.ok);
    expect(limited.map((r) => r.error?.code)).toEqual(limited.map(() => 'RATE_LIMITED'));
    // Over the rate: the wait in the message. Within the rate but with WS_MAX_INFLIGHT (256) sends
    // still queued (a connection's sends are stored one after the other): told to wait for replies.
    for (const r of limited) expect(r.error?.message).toMatch(/; retryAfterMs=\d+$|^more than 256 requests in progress; wait for replies$/);
    expect(limited.some((r) => /retryAfterMs=/.test(r.error!.message))).toBe(true);
    if (code !== null) {
      // Closed after 100 refusals in a row: the rest of the 2,000 were never processed.
      expect(code).toBe(4430);
      expect(sends.slice(-100).every((r) => !r.ok)).toBe(true);
      expect(sends.length).toBeLessThan(2000);
    }
    // What was acknowledged is stored, once each, and nothing that was refused. Sends admitted
    // but still queued when the connection closed lost their acks with it (a client resends them
    // with the same clientMsgId); the count stays within the burst and the refill. Read once the
    // room stops growing.
    const reader = await client(token);
    let last = -1;
    const stored = await eventually(
      async () => {
        const h = await history(reader, roomId);
        const settled = h.length === last;
        last = h.length;
        return settled ? h : undefined;
      },
      120_000,
      2000,
    );
    const ids = stored.map((m) => m.clientMsgId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeLessThanOrEqual(200 + Math.ceil(50 * elapsedS) + 1);
    const refused = new Set(limited.map((r) => r.id));
    expect(ids.filter((id) => refused.has(id))).toEqual([]);
    for (const r of sends.filter((x) => x.ok)) expect(ids).toContain(r.id);
  });

  it('bodies - NUL and other control characters are BAD_REQUEST and not stored; tab and line breaks read the same live and from history', async () => {
    const { token, user } = await account('nul');
    const roomId = `nul-${randomName().slice(-8)}`;
    const c = await client(token);
    await c.request('room.create', { roomId, name: 'nul', visibility: 'private' });
    for (const [i, body] of ['a\u0000b', '\u0000', 'esc \u001b[31m red', 'bell\u0007'].entries()) {
      await expect(c.request('message.send', { roomId, clientMsgId: `bad-${i}`, body })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        details: [{ field: 'data.body', problems: [expect.stringContaining('control characters')] }],
      });
    }
    await expect(c.request('dm.send', { username: user.username, clientMsgId: 'bad-dm', body: 'x\u0000' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const body = 'tab\there\nnext line\r\nend ✓';
    const ack = await c.request('message.send', { roomId, clientMsgId: 'good', body });
    const live = await c.waitFor('message.posted', (m) => m.messageId === ack.messageId);
    expect(live.body).toBe(body);
    const edited = 'edited\u0000';
    await expect(c.request('message.edit', { roomId, messageId: ack.messageId, body: edited })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const stored = await eventually(async () => {
      const h = await history(c, roomId);
      return h.length ? h : undefined;
    }, 30_000);
    expect(stored.map((m) => ({ clientMsgId: m.clientMsgId, body: m.body }))).toEqual([{ clientMsgId: 'good', body }]);
  });

  it('prototype keys - __proto__ and constructor in op data are BAD_REQUEST naming the field, and change nothing', async () => {
    const { token } = await account('proto');
    const roomId = `proto-${randomName().slice(-8)}`;
    const s = await raw(token);
    expect(await s.request('c', 'room.create', { roomId, name: 'proto', visibility: 'private' })).toMatchObject({ ok: true });
    const frame = (id: string, data: string) => `{"type":"req","id":"${id}","op":"message.send","data":${data}}`;
    s.send(frame('p1', `{"roomId":"${roomId}","clientMsgId":"p1","body":"hi","__proto__":{"isAdmin":true}}`));
    s.send(frame('p2', `{"roomId":"${roomId}","clientMsgId":"p2","body":"hi","constructor":{"prototype":{"x":1}}}`));
    s.send(`{"type":"req","id":"p3","op":"room.create","data":{"roomId":"${roomId}-2","name":"x","__proto__":null}}`);
    s.send(`{"type":"req","id":"p4","op":"rooms.list","data":{"__proto__":{}}}`);
    const replies = await eventually(() => {
      const r = ['p1', 'p2', 'p3', 'p4'].map((id) => s.replies.find((x) => x.id === id));
      return r.every(Boolean) ? (r as Reply[]) : undefined;
    });
    expect(replies.map((r) => [r.error?.code, r.error?.details?.map((d) => d.field)])).toEqual([
      ['BAD_REQUEST', ['data.__proto__']],
      ['BAD_REQUEST', ['data.constructor']],
      ['BAD_REQUEST', ['data.__proto__']],
      ['BAD_REQUEST', ['data.__proto__']],
    ]);
    // The gateway lives on and nothing was stored or created.
    expect(await s.request('h', 'history.page', { roomId })).toMatchObject({ ok: true, data: { messages: [] } });
    expect(await s.request('d', 'room.details', { roomId: `${roomId}-2` })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('prototype keys - over HTTP: register and login bodies with __proto__ or constructor are 400 and change nothing', async () => {
    const name = `hp${randomName().slice(-8)}`;
    const post = (path: string, body: string) =>
      fetch(`${stack.urls.gateway}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    const reg = await post('/api/auth/register', `{"username":"${name}","password":"password-1","__proto__":{"admin":true}}`);
    expect(reg.status).toBe(400);
    expect(await reg.json()).toEqual({
      error: {
        code: 'BAD_REQUEST',
        message: 'property __proto__ should not exist',
        details: [{ field: '__proto__', problems: ['property __proto__ should not exist'] }],
      },
    });
    const log = await post('/api/auth/login', `{"username":"${name}","password":"password-1","constructor":{"name":"x"}}`);
    expect(log.status).toBe(400);
    // The name is still free.
    expect((await post('/api/auth/register', `{"username":"${name}","password":"password-1"}`)).status).toBe(201);
  });
});
