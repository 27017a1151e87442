import { RequestOne } from '@nats-io/nats-core/internal';
import { errors, type NatsConnection } from '@nats-io/transport-node';
import { randomName, testNatsUrl } from '@chat/testing';
import { connectNats } from './connection';

/**
 * The connection every service uses, with its two changes to nats.js (connection.ts): writes
 * coalesced per event-loop turn, and answered requests ending without a thrown-away Error.
 * Requests, failures and ordering must behave exactly as before, on the real server.
 */
describe('connectNats', () => {
  let nc: NatsConnection;
  const subject = (s: string) => `${randomName()}.${s}`;
  const enc = (s: string) => new TextEncoder().encode(s);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);

  beforeAll(async () => {
    nc = await connectNats({ servers: await testNatsUrl(), name: 'connection-test' });
  });
  afterAll(() => nc?.close());

  it('is patched once (the markers are on the prototypes)', () => {
    expect((RequestOne.prototype as unknown as Record<symbol, unknown>)[Symbol.for('chat.natsRequestEndQuieted')]).toBe(true);
    const transport = (nc as unknown as { protocol: { transport: object } }).protocol.transport;
    expect((Object.getPrototypeOf(transport) as Record<symbol, unknown>)[Symbol.for('chat.natsWritesCoalesced')]).toBe(true);
  });

  it('answers, no responders and timeouts are reported as nats.js reports them', async () => {
    const echo = subject('echo');
    const sub = nc.subscribe(echo, {
      callback: (_e, m) => {
        m.respond(enc(`re:${dec(m.data)}`));
      },
    });
    const silent = subject('silent');
    const quiet = nc.subscribe(silent, { callback: () => undefined });
    await nc.flush();
    expect(dec((await nc.request(echo, enc('hi'), { timeout: 2000 })).data)).toBe('re:hi');
    await expect(nc.request(subject('nobody'), enc('x'), { timeout: 2000 })).rejects.toThrow(/no responders/);
    await expect(nc.request(silent, enc('x'), { timeout: 200 })).rejects.toBeInstanceOf(errors.TimeoutError);
    sub.unsubscribe();
    quiet.unsubscribe();
  });

  it('many requests and publishes from one turn all arrive, in order, each answered once', async () => {
    const echo = subject('many');
    const seen: string[] = [];
    const sub = nc.subscribe(echo, {
      callback: (_e, m) => {
        seen.push(dec(m.data));
        if (m.reply) m.respond(m.data);
      },
    });
    await nc.flush();
    const n = 2000;
    const replies = await Promise.all(Array.from({ length: n }, (_, i) => nc.request(echo, enc(String(i)), { timeout: 10_000 })));
    expect(replies.map((r) => dec(r.data))).toEqual(Array.from({ length: n }, (_, i) => String(i)));
    for (let i = 0; i < n; i++) nc.publish(echo, enc(`p${i}`));
    await nc.flush();
    expect(seen.length).toBe(2 * n);
    expect(seen.slice(n)).toEqual(Array.from({ length: n }, (_, i) => `p${i}`));
    sub.unsubscribe();
  });
});
