import { ConfigError, loadConfig } from '@chat/platform';
import { ModerationConfig } from '../config';
import { strikePolicyOf } from './strikes.service';

describe('strike configuration', () => {
  it('defaults: warn from 3, a 60 min mute at 5, a ban for review at 8, within 24 h', () => {
    expect(strikePolicyOf(loadConfig(ModerationConfig, {}))).toEqual({
      windowMs: 86_400_000,
      warnAt: 3,
      muteAt: 5,
      banAt: 8,
      muteSeconds: 3600,
    });
  });

  it('thresholds that do not rise stop start-up, naming the settings', () => {
    expect(() => loadConfig(ModerationConfig, { MOD_STRIKES_WARN: '5', MOD_STRIKES_MUTE: '5' })).toThrow(ConfigError);
    expect(() => loadConfig(ModerationConfig, { MOD_STRIKES_BAN: '4' })).toThrow(/MOD_STRIKES_WARN < MOD_STRIKES_MUTE < MOD_STRIKES_BAN/);
    expect(loadConfig(ModerationConfig, { MOD_STRIKES_WARN: '1', MOD_STRIKES_MUTE: '2', MOD_STRIKES_BAN: '3' }).MOD_STRIKES_BAN).toBe(3);
  });
});
