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
});
