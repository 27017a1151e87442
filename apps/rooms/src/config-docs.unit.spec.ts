import { loadConfig } from '@chat/platform';
import { configDocProblems } from '@chat/testing';
import { RoomsConfig } from './config';

describe('rooms configuration', () => {
  it('every setting is in the README with the default the code has', () => {
    expect(configDocProblems(loadConfig(RoomsConfig, {}))).toEqual([]);
  });
});
