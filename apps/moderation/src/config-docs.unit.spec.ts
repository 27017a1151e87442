import { loadConfig } from '@chat/platform';
import { configDocProblems } from '@chat/testing';
import { ModerationConfig } from './config';

describe('moderation configuration', () => {
  it('every setting is in the README with the default the code has', () => {
    expect(configDocProblems(loadConfig(ModerationConfig, {}))).toEqual([]);
  });
});
