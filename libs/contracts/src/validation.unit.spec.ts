import {
  CreateRoomRequest,
  DirectSendRequest,
  HistoryPageRequest,
  LoginRequest,
  SanctionRpc,
  SendMessageRequest,
  UpdateRoomRequest,
  SetFiltersRequest,
} from './dto';
import { MAX_INPUT_DEPTH, validateInput } from './validation';

const nested = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe('validateInput', () => {
  it('refuses input nested deeper than MAX_INPUT_DEPTH with BAD_REQUEST instead of overflowing the stack', () => {
    // 8000 levels is ~16 KB of JSON: a small frame that used to throw RangeError.
    const r = validateInput(LoginRequest, { username: 'a', password: 'b', x: nested(8000) });
    expect(r).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: `input is nested more than ${MAX_INPUT_DEPTH} levels deep` } });
  });

  it('still reports an unknown property at an allowed depth as a field error', () => {
    const r = validateInput(LoginRequest, { username: 'a', password: 'b', x: nested(MAX_INPUT_DEPTH - 2) });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.details).toEqual([{ field: 'x', problems: ['property x should not exist'] }]);
  });

  it('__proto__, constructor and prototype are refused as unknown fields, at any depth, even where JSON.parse made them own properties', () => {
    const login = (extra: string) => validateInput(LoginRequest, JSON.parse(`{"username":"a","password":"bbbbbbbb",${extra}}`));
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      for (const value of ['{"isAdmin":true}', '1', 'null']) {
        expect(login(`"${key}":${value}`)).toEqual({
          ok: false,
          error: {
            code: 'BAD_REQUEST',
            message: `property ${key} should not exist`,
            details: [{ field: key, problems: [`property ${key} should not exist`] }],
          },
        });
      }
    }
    const filters = JSON.parse(
      '{"config":{"words":[{"term":"x","action":"mask","__proto__":{"polluted":1}}],"allow":[],"patterns":[],"links":{"default":null,"domains":[]},"spam":{"repeatedCharsMax":null,"capsPercentMax":null,"capsMinLetters":null}}}',
    );
    const r = validateInput(SetFiltersRequest, filters);
    expect(!r.ok && r.error.details).toEqual([{ field: 'config.words.0.__proto__', problems: ['property __proto__ should not exist'] }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(validateInput(LoginRequest, { username: 'a', password: 'bbbbbbbb' }).ok).toBe(true);
  });

  it('control characters other than tab, line feed and carriage return are refused in any string; those three are kept', () => {
    const send = (body: string) => validateInput(SendMessageRequest, { roomId: 'general', clientMsgId: 'c-1', body });
    for (const c of ['\u0000', '\u0001', '\u0007', '\u000b', '\u000c', '\u001b', '\u001f']) {
      const r = send(`a${c}b`);
      expect(!r.ok && r.error.code).toBe('BAD_REQUEST');
      expect(!r.ok && r.error.details?.map((d) => d.field)).toEqual(['body']);
    }
    expect(send('line one\n\tline two\r\n')).toMatchObject({ ok: true, data: { body: 'line one\n\tline two\r\n' } });
    // DEL and the C1 block are printable enough to pass (they are not what Postgres refuses).
    expect(send('a\u007fb\u0085c').ok).toBe(true);
    const pw = validateInput(LoginRequest, { username: 'a', password: 'pass\u0000word' });
    expect(!pw.ok && pw.error.details?.map((d) => d.field)).toEqual(['password']);
  });

  it('history.page - before must be a safe integer (stream positions are below 2^53)', () => {
    expect(validateInput(HistoryPageRequest, { roomId: 'general', before: Number.MAX_SAFE_INTEGER }).ok).toBe(true);
    const r = validateInput(HistoryPageRequest, { roomId: 'general', before: 1e300 });
    expect(!r.ok && r.error.details?.map((d) => d.field)).toEqual(['before']);
  });

  it('field groups shared by several requests are validated on each of them', () => {
    const fields = (cls: Parameters<typeof validateInput>[0], input: object) => {
      const r = validateInput(cls, input);
      return r.ok ? [] : (r.error.details ?? []).map((d) => d.field).sort();
    };
    // Room settings: on creation and on update.
    const badSettings = { topic: 't'.repeat(301), visibility: 'secret', postPolicy: 'owner', memberLimit: 1 };
    expect(fields(CreateRoomRequest, { name: 'Team', ...badSettings })).toEqual(['memberLimit', 'postPolicy', 'topic', 'visibility']);
    expect(fields(UpdateRoomRequest, { roomId: 'team', ...badSettings })).toEqual(['memberLimit', 'postPolicy', 'topic', 'visibility']);
    expect(fields(UpdateRoomRequest, { roomId: 'team', topic: 'ok' })).toEqual([]);
    // A message's content: in a room and to a user.
    const badMessage = { clientMsgId: 'has spaces', body: '' };
    expect(fields(SendMessageRequest, { roomId: 'team', ...badMessage })).toEqual(['body', 'clientMsgId']);
    expect(fields(DirectSendRequest, { username: 'bo', ...badMessage })).toEqual(['body', 'clientMsgId']);
    // The caller the gateway adds (here as actor, the request's own userId being the target).
    expect(fields(SanctionRpc, { roomId: 'team', userId: '11111111-1111-4111-8111-111111111111' })).toEqual(['actorId', 'actorName']);
  });
  it('a filter configuration is required whole: config, its links and spam parts cannot be left out', () => {
    const fields = (input: object) => {
      const r = validateInput(SetFiltersRequest, input);
      return r.ok ? [] : (r.error.details ?? []).map((d) => d.field).sort();
    };
    expect(fields({})).toEqual(['config']);
    expect(fields({ roomId: 'team' })).toEqual(['config']);
    expect(fields({ config: { words: [], allow: [], patterns: [] } })).toEqual(['config.links', 'config.spam']);
    const whole = {
      words: [],
      allow: [],
      patterns: [],
      links: { default: null, domains: [] },
      spam: { repeatedCharsMax: null, capsPercentMax: null, capsMinLetters: null },
    };
    expect(fields({ config: whole })).toEqual([]);
  });
});
