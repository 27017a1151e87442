import { patternProblem } from './patterns';

// Review of issue 9: safe-regex2's star-height test passes patterns that backtrack
// exponentially through an alternation under one quantifier. Any room owner may set a room's
// patterns, and one such pattern on a 30-character message keeps the moderation service's
// event loop busy for tens of seconds (measured: `(a|a)*b` on "a"×28 took ~35 s), stalling
// the send path of every room. The pattern must be refused when set.
describe('review - patterns that backtrack catastrophically are refused', () => {
  it.each(['(a|a)*b', '(a|aa)*b', '(\\w|\\d)*!x', '(?:a|a)+$'])('%s', (pattern) => {
    expect(patternProblem(pattern)).not.toBeNull();
  });
});
