import { loadConfig } from '@chat/platform';
import { configDocProblems } from '@chat/testing';
import { PresenceConfig } from './config';

describe('presence configuration', () => {
  it('every setting is in the README with the default the code has', () => {
    expect(configDocProblems(loadConfig(PresenceConfig, {}))).toEqual([]);
  });
});
