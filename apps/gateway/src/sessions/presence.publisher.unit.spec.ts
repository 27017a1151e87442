import { createSubjects, type GatewayHeartbeat } from '@chat/contracts';
import type { CoreNats } from '@chat/messaging';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config';
import { HEARTBEAT_PART_MAX_BYTES, HEARTBEAT_PART_MAX_ENTRIES, PresencePublisher, heartbeatParts } from './presence.publisher';
import type { Sessions } from './sessions';

type Entry = GatewayHeartbeat['connections'][number];
const entry = (i: number, username = `user${i}`): Entry => ({
  connId: `conn-${i}`,
  userId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  username,
  idle: i % 3 === 0,
});
const list = (n: number, username?: string) => Array.from({ length: n }, (_, i) => entry(i, username));
const bytes = (json: string) => Buffer.byteLength(json);

describe('presence publisher - heartbeat parts', () => {
  it('cuts the list into parts of at most maxEntries, in order, nothing lost', () => {
    const conns = list(7);
    const parts = heartbeatParts(conns, 3, 1_000_000);
    expect(parts.map((p) => (JSON.parse(p) as Entry[]).length)).toEqual([3, 3, 1]);
    expect(parts.flatMap((p) => JSON.parse(p) as Entry[])).toEqual(conns);
  });

  it('an empty list is one empty part (an idle gateway still beats)', () => {
    expect(heartbeatParts([], 2000, 1000)).toEqual(['[]']);
  });

  it('a part over the byte budget is halved until it fits', () => {
    const conns = list(100, 'ü'.repeat(32)); // multi-byte names: the budget counts UTF-8 bytes
    const budget = 2000;
    const parts = heartbeatParts(conns, 2000, budget);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(bytes(p)).toBeLessThanOrEqual(budget);
    expect(parts.flatMap((p) => JSON.parse(p) as Entry[])).toEqual(conns);
  });

  it('one entry larger than the budget still makes a part of its own', () => {
    const parts = heartbeatParts(list(2), 2000, 10);
    expect(parts.map((p) => (JSON.parse(p) as Entry[]).length)).toEqual([1, 1]);
  });

  it('10,000 connections with long names fit in parts far under NATS 1 MiB', () => {
    const conns = list(10_000, 'n'.repeat(32));
    const parts = heartbeatParts(conns, HEARTBEAT_PART_MAX_ENTRIES, HEARTBEAT_PART_MAX_BYTES);
    expect(parts.length).toBeGreaterThanOrEqual(5);
    for (const p of parts) expect(bytes(p)).toBeLessThanOrEqual(HEARTBEAT_PART_MAX_BYTES);
    expect(parts.reduce((n, p) => n + (JSON.parse(p) as Entry[]).length, 0)).toBe(10_000);
  });
});

describe('presence publisher - beats', () => {
  const s = createSubjects('ns');

  function publisher(conns: Entry[], limits?: { maxEntries?: number; maxBytes?: number }, maxPayload?: number) {
    const sent: Array<{ subject: string; data: Uint8Array }> = [];
    const nc = {
      publish: (subject: string, data: Uint8Array) => void sent.push({ subject, data }),
      ...(maxPayload ? { info: { max_payload: maxPayload } } : {}),
    } as unknown as CoreNats;
    const sessions = {
      listen: () => undefined,
      all: () =>
        [
          ...conns.map((c) => ({ connId: c.connId, user: { userId: c.userId, username: c.username }, authenticated: true, idle: c.idle })),
          // Not authenticated yet: never listed.
          { connId: 'authing', user: { userId: conns[0]?.userId, username: 'x' }, authenticated: false, idle: false },
        ].values(),
    } as unknown as Sessions;
    const config = { GATEWAY_ID: 'gw-1', PRESENCE_HEARTBEAT_MS: 5000 } as GatewayConfig;
    const p = new PresencePublisher(nc, s, config, { warn: () => undefined } as unknown as Logger, sessions, limits);
    const beats = () => sent.map((m) => ({ subject: m.subject, hb: JSON.parse(Buffer.from(m.data).toString('utf8')) as GatewayHeartbeat }));
    return { p, sent, beats };
  }

  it('publishes every part of a beat with the same beat number and time, numbered 0..parts-1', () => {
    const conns = list(5);
    const { p, beats } = publisher(conns, { maxEntries: 2 });
    p.heartbeat();
    const got = beats();
    expect(got.map((b) => b.subject)).toEqual(Array(3).fill(s.presence.gatewayHeartbeat('gw-1')));
    expect(got.map(({ hb }) => [hb.beat, hb.part, hb.parts])).toEqual([
      [1, 0, 3],
      [1, 1, 3],
      [1, 2, 3],
    ]);
    expect(new Set(got.map(({ hb }) => hb.at)).size).toBe(1);
    expect(got.every(({ hb }) => hb.gatewayId === 'gw-1' && hb.intervalMs === 5000)).toBe(true);
    expect(got.flatMap(({ hb }) => hb.connections)).toEqual(conns);
  });

  it('the beat number counts up from one beat to the next', () => {
    const { p, beats } = publisher(list(1));
    p.heartbeat();
    p.heartbeat();
    expect(beats().map(({ hb }) => [hb.beat, hb.part, hb.parts])).toEqual([
      [1, 0, 1],
      [2, 0, 1],
    ]);
  });

  it("keeps each part's list under half the server's max_payload", () => {
    const conns = list(200);
    const { p, sent, beats } = publisher(conns, undefined, 8192);
    p.heartbeat();
    expect(sent.length).toBeGreaterThan(4);
    for (const m of sent) expect(m.data.length).toBeLessThanOrEqual(8192);
    expect(beats().flatMap(({ hb }) => hb.connections)).toEqual(conns);
  });
});
