import { parseChoice, parseHeartbeat, parseSignal, parseStatusText, parseStoredPresence } from './presence.input';

const USER = '00000000-0000-4000-8000-00000000000a';
const AT = '2024-05-01T10:00:00.000Z';

describe('presence input - signals', () => {
  const base = { gatewayId: 'gw1', connId: 'c-1', userId: USER, at: AT };

  it.each([[{ ...base, kind: 'opened', username: 'alice' }], [{ ...base, kind: 'closed' }], [{ ...base, kind: 'activity', idle: true }]])(
    'accepts %o',
    (signal) => {
      expect(parseSignal(signal, 'gw1')).toEqual({ ok: true, data: signal });
    },
  );

  it('keeps only the known fields', () => {
    const r = parseSignal({ ...base, kind: 'closed', extra: 'x' }, 'gw1');
    expect(r).toEqual({ ok: true, data: { ...base, kind: 'closed' } });
  });

  it.each([
    ['not an object', 'hello'],
    ['null', null],
    ['an array', [1]],
    ['unknown kind', { ...base, kind: 'exploded' }],
    ['missing kind', { ...base }],
    ['bad user id', { ...base, kind: 'closed', userId: 'alice' }],
    ['missing connId', { ...base, kind: 'closed', connId: undefined }],
    ['connId with spaces', { ...base, kind: 'closed', connId: 'a b' }],
    ['bad time', { ...base, kind: 'closed', at: 'yesterday' }],
    ['opened without username', { ...base, kind: 'opened' }],
    ['username too long', { ...base, kind: 'opened', username: 'x'.repeat(200) }],
    ['username with a line break', { ...base, kind: 'opened', username: 'a\nb' }],
    ['the old per-connection status signal', { ...base, kind: 'status', status: 'busy' }],
    ['activity without idle', { ...base, kind: 'activity' }],
    ['activity with a non-boolean idle', { ...base, kind: 'activity', idle: 'yes' }],
    ['gatewayId not the subject one', { ...base, kind: 'closed', gatewayId: 'gw2' }],
    ['gatewayId with a dot', { ...base, kind: 'closed', gatewayId: 'g.1' }],
  ])('rejects %s with BAD_REQUEST', (_name, data) => {
    const r = parseSignal(data, 'gw1');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('BAD_REQUEST');
  });

  it('rejects a signal from a subject that names no gateway', () => {
    expect(parseSignal({ ...base, kind: 'closed' }, null).ok).toBe(false);
  });
});

describe('presence input - heartbeats', () => {
  const conn = { connId: 'c-1', userId: USER, username: 'alice', idle: false };
  const hb = { gatewayId: 'gw1', at: AT, intervalMs: 5000, beat: 7, part: 1, parts: 3, connections: [conn] };

  it('accepts a heartbeat', () => {
    expect(parseHeartbeat(hb, 'gw1')).toEqual({ ok: true, data: { heartbeat: hb, skipped: 0 } });
  });

  it('reads a heartbeat without beat, part and parts (a gateway of before parts) as a whole beat in one part', () => {
    const { gatewayId, at, intervalMs, connections } = hb;
    expect(parseHeartbeat({ gatewayId, at, intervalMs, connections }, 'gw1')).toEqual({
      ok: true,
      data: { heartbeat: { ...hb, beat: 0, part: 0, parts: 1 }, skipped: 0 },
    });
  });

  it('accepts the bounds of beat, part and parts', () => {
    expect(parseHeartbeat({ ...hb, beat: 0, part: 0, parts: 1 }, 'gw1').ok).toBe(true);
    expect(parseHeartbeat({ ...hb, beat: Number.MAX_SAFE_INTEGER, part: 999, parts: 1000 }, 'gw1').ok).toBe(true);
  });

  it('leaves out malformed entries and counts them', () => {
    const r = parseHeartbeat(
      {
        ...hb,
        connections: [conn, { ...conn, userId: 'x' }, 'junk', { connId: 'c-2', userId: USER, username: 'alice', status: 'online' }],
      },
      'gw1',
    );
    expect(r).toEqual({ ok: true, data: { heartbeat: hb, skipped: 3 } });
  });

  it.each([
    ['not an object', 42],
    ['connections not a list', { ...hb, connections: 'all' }],
    ['no interval', { ...hb, intervalMs: undefined }],
    ['interval too small', { ...hb, intervalMs: 1 }],
    ['interval not an integer', { ...hb, intervalMs: 1000.5 }],
    ['bad time', { ...hb, at: 12 }],
    ['no beat', { ...hb, beat: undefined }],
    ['a negative beat', { ...hb, beat: -1 }],
    ['a beat not an integer', { ...hb, beat: 1.5 }],
    ['a beat as a string', { ...hb, beat: '7' }],
    ['no part', { ...hb, part: undefined }],
    ['a negative part', { ...hb, part: -1 }],
    ['part not an integer', { ...hb, part: 0.5 }],
    ['part equal to parts', { ...hb, part: 3 }],
    ['part beyond parts', { ...hb, part: 4 }],
    ['no parts', { ...hb, parts: undefined }],
    ['zero parts', { ...hb, part: 0, parts: 0 }],
    ['parts not an integer', { ...hb, parts: 2.5 }],
    ['too many parts', { ...hb, parts: 1001 }],
    ['too many connections in one part', { ...hb, connections: Array.from({ length: 100_001 }, () => conn) }],
    ['another gateway', { ...hb, gatewayId: 'gw2' }],
  ])('rejects %s with BAD_REQUEST', (_name, data) => {
    const r = parseHeartbeat(data, 'gw1');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('BAD_REQUEST');
  });
});

describe('presence input - stored presence', () => {
  const event = {
    id: 'ev-1',
    type: 'PresenceChanged',
    version: 1,
    time: AT,
    actor: { kind: 'service', id: 'presence' },
    correlationId: 'g1:c1:closed',
    causationId: 'g1:c1:closed',
    payload: { userId: USER, username: 'alice', status: 'offline', lastSeen: AT },
  };

  it('reads the view and event id of a PresenceChanged v1 event, with no text', () => {
    expect(parseStoredPresence(event)).toEqual({ ok: true, data: { view: { ...event.payload, text: null }, eventId: 'ev-1' } });
  });

  it('reads a v2 event with its text', () => {
    const v2 = { ...event, version: 2, payload: { ...event.payload, status: 'busy', text: 'in a meeting' } };
    expect(parseStoredPresence(v2)).toEqual({ ok: true, data: { view: v2.payload, eventId: 'ev-1' } });
  });

  it.each([
    ['not JSON (undefined)', undefined],
    ['another event type', { ...event, type: 'MemberJoined' }],
    ['unknown status', { ...event, payload: { ...event.payload, status: 'sleeping' } }],
    ['bad user id', { ...event, payload: { ...event.payload, userId: 'u' } }],
    ['a lastSeen with a line break', { ...event, payload: { ...event.payload, lastSeen: `${AT}\n` } }],
    ['an envelope without its time', { ...event, time: undefined }],
    ['a version this replica cannot read', { ...event, version: 3 }],
  ])('rejects %s', (_name, data) => {
    expect(parseStoredPresence(data).ok).toBe(false);
  });
});

describe('presence input - times', () => {
  // The time goes into the Nats-Msg-Id header (through the cause), where nats.js refuses CR/LF:
  // a time Date.parse reads but that is not the strict UTC form would make every append fail.
  const base = { kind: 'closed', gatewayId: 'gw1', connId: 'c-1', userId: USER };

  it.each([['2024-05-01T10:00:00Z'], ['2024-05-01T10:00:00.1Z'], ['2024-05-01T10:00:00.123456789Z']])('accepts %s', (at) => {
    expect(parseSignal({ ...base, at }, 'gw1').ok).toBe(true);
  });

  it.each([
    ['a trailing line break', '2026-11-24\n'],
    ['a CR/LF inside', '2024-05-01T10:00:00.000Z\r\nX: y'],
    ['a date only', '2026-11-24'],
    ['a local time', '2024-05-01T10:00:00'],
    ['an offset', '2024-05-01T10:00:00+02:00'],
    ['a date string', 'Wed, 01 May 2024 10:00:00 GMT'],
    ['an impossible time', '2024-05-01T25:00:00Z'],
  ])('rejects %s', (_name, at) => {
    expect(parseSignal({ ...base, at }, 'gw1').ok).toBe(false);
    expect(parseHeartbeat({ gatewayId: 'gw1', at, intervalMs: 5000, beat: 0, part: 0, parts: 1, connections: [] }, 'gw1').ok).toBe(false);
  });
});

describe('presence input - status text', () => {
  it.each([
    [undefined, null],
    [null, null],
    ['', null],
    ['   \t ', null],
    ['  in a meeting  ', 'in a meeting'],
    ['x'.repeat(100), 'x'.repeat(100)],
    ['🙂'.repeat(100), '🙂'.repeat(100)],
    ['👨\u200d👩\u200d👧 family day', '👨\u200d👩\u200d👧 family day'],
    ['Cafe\u0301', 'Café'],
  ])('%j is stored as %j', (text, expected) => {
    expect(parseStatusText(text)).toEqual({ ok: true, data: expected });
  });

  it.each([
    ['101 characters', 'x'.repeat(101)],
    ['a line break', 'a\nb'],
    ['a carriage return', 'a\rb'],
    ['a line separator', 'a\u2028b'],
    ['a control character', 'a\u0007b'],
    ['a format character (right-to-left override)', 'a\u202eb'],
    ['a zero-width space', 'a\u200bb'],
  ])('refuses %s with BAD_REQUEST', (_name, text) => {
    const r = parseStatusText(text);
    expect(!r.ok && r.error.code).toBe('BAD_REQUEST');
  });
});

describe('presence input - stored choices', () => {
  const value = { userId: USER, username: 'alice', status: 'invisible', text: 'hi', updatedAt: AT };

  it('reads a choice stored under its user id', () => {
    expect(parseChoice(USER, value)).toEqual({ ok: true, data: value });
    expect(parseChoice(USER, { ...value, text: null })).toEqual({ ok: true, data: { ...value, text: null } });
  });

  it.each([
    ['another key', { ...value, userId: '00000000-0000-4000-8000-00000000000b' }],
    ['an unknown status', { ...value, status: 'offline' }],
    ['a text with a line break', { ...value, text: 'a\nb' }],
    ['an untrimmed text', { ...value, text: ' hi' }],
    ['an empty text', { ...value, text: '' }],
    ['no time', { ...value, updatedAt: undefined }],
    ['not an object', 'x'],
  ])('refuses %s', (_name, data) => {
    expect(parseChoice(USER, data).ok).toBe(false);
  });
});
