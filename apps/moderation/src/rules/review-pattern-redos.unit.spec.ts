import { patternProblem } from './patterns';

// Review of issue 9: safe-regex2's star-height test passes patterns that backtrack
// exponentially through an alternation under one quantifier. Any room owner may set a room's
// patterns. Before the pattern sandbox (main 28aa0e9) one such pattern on a 30-character message
// kept the event loop busy for tens of seconds (measured: `(a|a)*b` on "a"x28, ~35 s); with it,
// each such message still blocks the send path synchronously (Atomics.wait) for up to
// PATTERN_TIME_LIMIT_MS, restarts the worker and files a held report, and the room owner, who
// is exempt from the token bucket in their room, can repeat that at will. Refuse it when set.
describe('review - patterns that backtrack catastrophically are refused', () => {
  it.each(['(a|a)*b', '(a|aa)*b', '(\\w|\\d)*!x', '(?:a|a)+$'])('%s', (pattern) => {
    expect(patternProblem(pattern)).not.toBeNull();
  });
});
