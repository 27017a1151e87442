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
        ACCESS_TOKEN_TTL_S: 3600,
        PRESENCE_HEARTBEAT_MS: 5000,
        WS_MAX_BUFFERED_BYTES: 1024 * 1024,
      }),
    );
    expect(c.GATEWAY_ID).toMatch(/^gw-[0-9a-f]{8}$/);
    expect(c.PUBLIC_DIR).toMatch(/apps[/\\]gateway[/\\]public$/);
    expect(() => loadConfig(GatewayConfig, { JWT_SECRET: 'x'.repeat(32), GATEWAY_ID: 'a.b' })).toThrow(/GATEWAY_ID/);
  });
});
