import { randomUUID } from 'node:crypto';
import type { SubscriberContext } from '../subscriber';
import { posted } from '../testing/events';
import { NewAccountFloodSubscriber } from './new-account-flood';

const t0 = Date.parse('2026-05-01T12:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);
const HOUR = 3_600_000;

/** A context whose accounts registered at the given times (others: no account). */
const ctxWith = (registered: Record<string, Date>): SubscriberContext => ({
  position: 1,
  deliveryCount: 1,
  now: () => new Date(),
  accountRegisteredAt: async (userId) => registered[userId] ?? null,
});

describe('new-account-flood', () => {
  const fresh = randomUUID();
  const old = randomUUID();
  const ctx = ctxWith({ [fresh]: new Date(t0 - HOUR), [old]: new Date(t0 - 48 * HOUR) });
  const sub = () => new NewAccountFloodSubscriber({ accountAgeMs: 24 * HOUR, messages: 3, windowMs: 10_000, muteSeconds: 600 });

  it('mutes a new account server-wide on the message after the allowed number within the window', async () => {
    const s = sub();
    for (let i = 0; i < 3; i++)
      expect(await s.handle(posted({ senderId: fresh, senderName: 'newbie', body: `hi ${i}` }, at(i)), ctx)).toEqual([]);
    expect(await s.handle(posted({ senderId: fresh, senderName: 'newbie', body: 'hi 3' }, at(3)), ctx)).toEqual([
      { kind: 'mute', userId: fresh, username: 'newbie', roomId: null, seconds: 600, reason: 'new account flood: 4 messages within 10 s' },
    ]);
  });

  it('the count starts again after a mute', async () => {
    const s = sub();
    for (let i = 0; i < 4; i++) await s.handle(posted({ senderId: fresh, body: `x${i}` }, at(i)), ctx);
    expect(await s.handle(posted({ senderId: fresh, body: 'again' }, at(5)), ctx)).toEqual([]);
  });

  it('leaves alone an account older than the limit, and a user with no account', async () => {
    const s = sub();
    for (let i = 0; i < 10; i++) {
      expect(await s.handle(posted({ senderId: old, body: `m${i}` }, at(i)), ctx)).toEqual([]);
      expect(await s.handle(posted({ senderId: randomUUID(), body: `m${i}` }, at(i)), ctx)).toEqual([]);
    }
  });

  it('an account is new by its age when it posted, not when the event is handled (a backlog)', async () => {
    const s = sub();
    const day1 = t0 + 23 * HOUR;
    for (let i = 0; i < 3; i++) await s.handle(posted({ senderId: fresh, body: `${i}` }, new Date(day1 + i)), ctx);
    // The fourth is posted when the account is 25 hours old: no longer new.
    expect(await s.handle(posted({ senderId: fresh, body: '3' }, new Date(t0 + 24 * HOUR + 1)), ctx)).toEqual([]);
  });

  it('messages out of the window do not count', async () => {
    const s = sub();
    for (let i = 0; i < 3; i++) await s.handle(posted({ senderId: fresh, body: `${i}` }, at(i)), ctx);
    expect(await s.handle(posted({ senderId: fresh, body: 'later' }, at(11)), ctx)).toEqual([]);
  });

  it('a redelivered message is not counted twice; only MessagePosted counts', async () => {
    const s = sub();
    const first = posted({ senderId: fresh, body: 'one' }, at(0));
    for (let i = 0; i < 5; i++) expect(await s.handle(first, ctx)).toEqual([]);
    const edit = { ...posted({ senderId: fresh, body: 'e' }, at(1)), type: 'MessageEdited' } as never;
    for (let i = 0; i < 5; i++) expect(await s.handle(edit, ctx)).toEqual([]);
  });
});
