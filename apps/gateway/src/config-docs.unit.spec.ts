import { loadConfig } from '@chat/platform';
import { configDocProblems } from '@chat/testing';
import { GatewayConfig } from './config';

describe('gateway configuration', () => {
  it('every setting is in the README with the default the code has', () => {
    expect(configDocProblems(loadConfig(GatewayConfig, { JWT_SECRET: 'x'.repeat(32) }))).toEqual([]);
  });
});
