import { ConfigError, loadConfig } from '@chat/platform';
import { GatewayConfig } from './config';

describe('gateway config - required secret and defaults', () => {
  it('refuses to start without JWT_SECRET, naming it', () => {
    expect(() => loadConfig(GatewayConfig, {})).toThrow(ConfigError);
    expect(() => loadConfig(GatewayConfig, {})).toThrow(/JWT_SECRET is required/);
    expect(() => loadConfig(GatewayConfig, { JWT_SECRET: 'too-short' })).toThrow(/JWT_SECRET/);
  });

  it('has the documented defaults and a subject-safe random gateway id', () => {
    const c = loadConfig(GatewayConfig, { JWT_SECRET: 'x'.repeat(32) });
    expect(c).toEqual(
      expect.objectContaining({
        HTTP_PORT: 3000,
        ACCESS_TOKEN_TTL_S: 900,
        REFRESH_TOKEN_TTL_S: 30 * 24 * 3600,
        REFRESH_TOKEN_SESSION_TTL_S: 24 * 3600,
        PRESENCE_HEARTBEAT_MS: 5000,
        WS_MAX_BUFFERED_BYTES: 1024 * 1024,
      }),
    );
    expect(c.GATEWAY_ID).toMatch(/^gw-[0-9a-f]{8}$/);
    expect(c.PUBLIC_DIR).toMatch(/apps[/\\]gateway[/\\]public$/);
    expect(() => loadConfig(GatewayConfig, { JWT_SECRET: 'x'.repeat(32), GATEWAY_ID: 'a.b' })).toThrow(/GATEWAY_ID/);
    expect(() => loadConfig(GatewayConfig, { JWT_SECRET: 'x'.repeat(32), REFRESH_TOKEN_TTL_S: '59' })).toThrow(/REFRESH_TOKEN_TTL_S/);
    expect(() => loadConfig(GatewayConfig, { JWT_SECRET: 'x'.repeat(32), REFRESH_TOKEN_SESSION_TTL_S: String(366 * 86400) })).toThrow(
      /REFRESH_TOKEN_SESSION_TTL_S/,
    );
  });

  it('finds a client that vanished without closing within 30 s by default (two keep-alive intervals), and keeps the ranges', () => {
    const c = loadConfig(GatewayConfig, { JWT_SECRET: 'x'.repeat(32) });
    expect(2 * c.WS_PING_INTERVAL_MS).toBeLessThanOrEqual(30_000);
    expect(c).toEqual(
      expect.objectContaining({
        PRESENCE_IDLE_MS: 300_000,
        WS_MAX_CONNECTIONS_PER_USER: 20,
        WS_RATE_PER_S: 50,
        WS_RATE_BURST: 200,
        GATEWAY_DRAIN_MS: 5000,
      }),
    );
    const secret = { JWT_SECRET: 'x'.repeat(32) };
    for (const [name, bad] of [
      ['WS_PING_INTERVAL_MS', '999'],
      ['WS_PING_INTERVAL_MS', '60001'],
      ['PRESENCE_IDLE_MS', '9999'],
      ['WS_MAX_CONNECTIONS_PER_USER', '0'],
      ['WS_RATE_PER_S', '0'],
      ['WS_RATE_BURST', '1.5'],
      ['GATEWAY_DRAIN_MS', '-1'],
    ])
      expect(() => loadConfig(GatewayConfig, { ...secret, [name]: bad })).toThrow(new RegExp(name));
  });
});
