import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsObject, IsOptional, IsString, ValidateNested, getMetadataStorage } from 'class-validator';
import {
  AuthRequest,
  CreateRoomRequest,
  DirectSendRequest,
  HistoryPageRequest,
  LoginRequest,
  ModerationCheckRpc,
  SanctionRpc,
  SearchRequest,
  SetRetentionRequest,
  SetRetentionRpc,
  SetServerRoleRequest,
  SetStatusRequest,
  SpamPolicyDto,
  SendMessageRequest,
  UpdateRoomRequest,
  SetFiltersRequest,
} from './dto';
import { MAX_INPUT_DEPTH, Nullable, nullableFields, validateInput } from './validation';

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

describe('validateInput and null', () => {
  const fields = (cls: Parameters<typeof validateInput>[0], input: object) => {
    const r = validateInput(cls, input);
    return r.ok ? [] : (r.error.details ?? []).map((d) => d.field).sort();
  };
  const wholeConfig = () => ({
    words: [],
    allow: [],
    patterns: [],
    links: { default: null, domains: [] },
    spam: { repeatedCharsMax: null, capsPercentMax: null, capsMinLetters: null },
  });

  it('a null on an optional field not marked nullable is refused, naming the field', () => {
    expect(validateInput(SearchRequest, { query: 'hello', roomId: null })).toEqual({
      ok: false,
      error: {
        code: 'BAD_REQUEST',
        message: 'roomId must not be null',
        details: [{ field: 'roomId', problems: ['roomId must not be null'] }],
      },
    });
    expect(fields(UpdateRoomRequest, { roomId: 'team', topic: null })).toEqual(['topic']);
    expect(fields(HistoryPageRequest, { roomId: 'general', before: null })).toEqual(['before']);
    // Absent is still fine.
    expect(validateInput(SearchRequest, { query: 'hello' }).ok).toBe(true);
    expect(validateInput(UpdateRoomRequest, { roomId: 'team', topic: 'x' }).ok).toBe(true);
  });

  it('a null inside a nested DTO (alone or in an array) is refused under its path; a marked nested field takes null; plain objects are left alone', () => {
    class Inner {
      @IsOptional() @IsString() note?: string;
      @IsOptional() @Nullable() @IsString() label?: string | null;
    }
    class Outer {
      @IsObject() @ValidateNested() @Type(() => Inner) inner: Inner;
      @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => Inner) items?: Inner[];
      @IsOptional() @IsObject() extra?: Record<string, unknown>;
    }
    expect(fields(Outer, { inner: { note: 'n', label: null }, items: [{ label: null }], extra: { anything: null } })).toEqual([]);
    expect(validateInput(Outer, { inner: { note: null } })).toEqual({
      ok: false,
      error: {
        code: 'BAD_REQUEST',
        message: 'inner.note must not be null',
        details: [{ field: 'inner.note', problems: ['inner.note must not be null'] }],
      },
    });
    expect(fields(Outer, { inner: {}, items: [{}, { note: null }] })).toEqual(['items.1.note']);
    // The filter configuration, whose nested policies have nullable fields.
    expect(fields(SetFiltersRequest, { config: wholeConfig() })).toEqual([]);
    const nullRoom = validateInput(SetFiltersRequest, { roomId: null, config: wholeConfig() });
    expect(!nullRoom.ok && nullRoom.error.details).toEqual([{ field: 'roomId', problems: ['roomId must not be null'] }]);
  });

  it('a required field given null keeps its own rule messages, reported once', () => {
    const r = validateInput(SendMessageRequest, { roomId: null, clientMsgId: 'c-1', body: 'hi' });
    expect(!r.ok && r.error.details?.map((d) => d.field)).toEqual(['roomId']);
    expect(!r.ok && r.error.details?.[0].problems).not.toContain('roomId must not be null');
  });

  it('the fields marked nullable take null, as docs/protocol.md documents', () => {
    const user = '11111111-1111-4111-8111-111111111111';
    expect(validateInput(AuthRequest, { token: 't', resumeFrom: null }).ok).toBe(true);
    expect(validateInput(SetRetentionRequest, { roomId: 'team', days: null }).ok).toBe(true);
    expect(validateInput(SetStatusRequest, { status: 'away', text: null }).ok).toBe(true);
    expect(validateInput(SetServerRoleRequest, { userId: user, role: null }).ok).toBe(true);
    const check = { roomId: 'team', senderId: user, senderName: 'bo', senderRole: 'member', kind: 'post', body: 'hi' };
    expect(validateInput(ModerationCheckRpc, { ...check, clientMsgId: null, heldReportId: null }).ok).toBe(true);
    // ...and still apply their rules to a value.
    expect(fields(SetRetentionRequest, { roomId: 'team', days: 0 })).toEqual(['days']);
  });

  it('every field marked @Nullable() in dto.ts has a TS type that includes null, and every DTO field typed with null is marked', () => {
    const file = path.join(__dirname, 'dto.ts');
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const marked: string[] = [];
    const typedNull: string[] = [];
    const visit = (node: ts.Node) => {
      if (ts.isPropertyDeclaration(node) && ts.isClassLike(node.parent)) {
        const name = `${node.parent.name?.text ?? '?'}.${node.name.getText(source)}`;
        const decorators = (ts.getDecorators(node) ?? []).map((d) => d.expression.getText(source));
        if (decorators.includes('Nullable()')) marked.push(name);
        const type = node.type;
        const hasNull =
          !!type &&
          ts.isUnionTypeNode(type) &&
          type.types.some((t) => ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword);
        // Only validated fields (with class-validator decorators) are request fields.
        if (hasNull && decorators.length) typedNull.push(name);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    expect(marked.length).toBeGreaterThan(0);
    expect(marked.sort()).toEqual(typedNull.sort());
    // The marks reach the classes at run time, inherited by the gateway's RPC variants.
    expect(nullableFields(SpamPolicyDto)).toEqual(['capsMinLetters', 'capsPercentMax', 'repeatedCharsMax']);
    expect(nullableFields(SetRetentionRpc)).toEqual(['days']);
    expect(nullableFields(SearchRequest)).toEqual([]);
  });
});

describe('validation rules looked up once per class (memoized class-validator metadata)', () => {
  it('the same answer twice is the same array; a class decorated later still gets its own rules', () => {
    class First {
      @IsString() name!: string;
    }
    expect(validateInput(First, { name: 'a' }).ok).toBe(true);
    const storage = getMetadataStorage();
    const once = storage.getTargetValidationMetadatas(First, '', false, false);
    expect(storage.getTargetValidationMetadatas(First, '', false, false)).toBe(once);
    // Decorators that run after the first validations (a module loaded later) clear the memo.
    class Later extends First {
      @IsInt() count!: number;
    }
    expect(validateInput(Later, { name: 'a', count: 1 }).ok).toBe(true);
    expect(validateInput(Later, { name: 'a', count: 'x' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(validateInput(Later, { name: 1, count: 1 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(validateInput(First, { name: 'a', count: 1 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });
});
