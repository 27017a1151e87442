import { OriginPolicy } from './origin';

describe('origin policy - which browser origins may open the WebSocket and call the API', () => {
  it('by default: no Origin (not a browser) and the own host only, whatever the scheme (TLS at a proxy)', () => {
    const p = new OriginPolicy('');
    expect(p.allows(undefined, 'chat.example:3000')).toBe(true);
    expect(p.allows('http://chat.example:3000', 'chat.example:3000')).toBe(true);
    expect(p.allows('https://Chat.Example', 'chat.example')).toBe(true);
    expect(p.allows('https://evil.example', 'chat.example')).toBe(false);
    expect(p.allows('http://chat.example:3001', 'chat.example:3000')).toBe(false);
    expect(p.allows('http://chat.example.evil.example', 'chat.example')).toBe(false);
    expect(p.allows('http://user@chat.example', 'chat.example')).toBe(false);
    expect(p.allows('null', 'chat.example')).toBe(false);
    expect(p.allows('', 'chat.example')).toBe(false);
    expect(p.allows('https://chat.example', undefined)).toBe(false);
  });

  it('ALLOWED_ORIGINS adds exact origins (case and a trailing slash forgiven); * allows every origin', () => {
    const p = new OriginPolicy(' https://app.example , HTTP://Other.example:8443/ ');
    expect(p.allows('https://app.example', 'chat.example')).toBe(true);
    expect(p.allows('http://other.example:8443', 'chat.example')).toBe(true);
    expect(p.allows('http://app.example', 'chat.example')).toBe(false);
    expect(p.allows('https://other.example', 'chat.example')).toBe(false);
    expect(p.allows('https://chat.example', 'chat.example')).toBe(true);
    expect(new OriginPolicy('*').allows('https://anything.example', 'chat.example')).toBe(true);
  });
});
