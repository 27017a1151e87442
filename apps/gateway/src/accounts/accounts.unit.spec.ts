import { RegisterRequest, validateInput } from '@chat/contracts';
import { newAccountRecord, normaliseUsername, parseAccountRecord } from './accounts';

describe('accounts - username normalisation', () => {
  const key = (name: string) => {
    const r = normaliseUsername(name);
    if (!r.ok) throw new Error(r.error.message);
    return r.data.key;
  };

  it('treats full-width and case variants as one name', () => {
    expect(key('Ａlice')).toBe(key('alice'));
    expect(key('ALICE')).toBe(key('alice'));
    expect(key('ａｌｉｃｅ')).toBe(key('Alice'));
    expect(key('alice')).not.toBe(key('alicia'));
  });

  it('keeps the NFKC form for display', () => {
    const r = normaliseUsername('Ａlice');
    expect(r.ok && r.data.display).toBe('Alice');
  });

  it('accepts Chinese names and keeps them distinct', () => {
    expect(validateInput(RegisterRequest, { username: '小明', password: 'password1' }).ok).toBe(true);
    const r = normaliseUsername('小明');
    expect(r.ok && r.data.display).toBe('小明');
    expect(key('小明')).not.toBe(key('小红'));
  });

  it('rejects a name that becomes too long under NFKC', () => {
    // U+FDFA expands to 18 characters under NFKC.
    const r = normaliseUsername('\uFDFA\uFDFA');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.details?.[0].field).toBe('username');
  });

  it('makes KV-safe keys', () => {
    expect(key('名字 with spaces')).toMatch(/^[-/_=.a-zA-Z0-9]+$/);
  });
});

describe('accounts - records', () => {
  it('round-trips a record and rejects garbage', () => {
    const name = normaliseUsername('Bob');
    if (!name.ok) throw new Error('bad');
    const rec = newAccountRecord(name.data, '$argon2id$x', { now: () => new Date('2025-01-01T00:00:00Z'), newId: () => 'id-1' });
    expect(rec).toEqual({ userId: 'id-1', username: 'Bob', passwordHash: '$argon2id$x', createdAt: '2025-01-01T00:00:00.000Z' });
    expect(parseAccountRecord(Buffer.from(JSON.stringify(rec)))).toEqual(rec);
    expect(parseAccountRecord(Buffer.from('nope'))).toBeNull();
    expect(parseAccountRecord(Buffer.from('{"userId":1}'))).toBeNull();
  });

  it('keeps the disabled and deleted flags and refuses flags that are not booleans', () => {
    const base = { userId: 'id-1', username: 'Bob', passwordHash: '', createdAt: '2025-01-01T00:00:00.000Z' };
    expect(parseAccountRecord(Buffer.from(JSON.stringify({ ...base, deleted: true })))).toEqual({ ...base, deleted: true });
    expect(parseAccountRecord(Buffer.from(JSON.stringify({ ...base, disabled: true })))).toEqual({ ...base, disabled: true });
    expect(parseAccountRecord(Buffer.from(JSON.stringify({ ...base, disabled: false })))).toEqual(base);
    expect(parseAccountRecord(Buffer.from(JSON.stringify({ ...base, disabled: 'yes' })))).toBeNull();
  });
});
