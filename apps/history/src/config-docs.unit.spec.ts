import { loadConfig } from '@chat/platform';
import { configDocProblems } from '@chat/testing';
import { HistoryConfig } from './config';

describe('history configuration', () => {
  it('every setting is in the README with the default the code has', () => {
    expect(configDocProblems(loadConfig(HistoryConfig, {}))).toEqual([]);
  });
});
