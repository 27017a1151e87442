import type { ModerationVerdict } from '@chat/contracts';
import { moderationRules, RuleRegistry } from './registry';
import type { ModerationRule, RuleInput } from './rule';

const input: RuleInput = {
  roomId: 'general',
  senderId: '00000000-0000-4000-8000-00000000000a',
  senderName: 'ann',
  senderRole: 'member',
  kind: 'post',
  clientMsgId: 'c1',
  body: 'hello world',
  heldReportId: null,
};

/** A rule that records what it saw and answers with `answer(body)`. */
function rule(name: string, seen: Array<[string, RuleInput]>, answer: (body: string) => ModerationVerdict): ModerationRule {
  return {
    name,
    check: (i) => {
      seen.push([name, i]);
      return answer(i.body);
    },
  };
}
const allow = (body: string): ModerationVerdict => ({ verdict: 'allow', body });
const reject = (name: string) => (): ModerationVerdict => ({
  verdict: 'reject',
  code: 'CONTENT_BLOCKED',
  rule: name,
  reason: `${name} says no`,
  retryAfterMs: null,
});

describe('moderation rules - registry', () => {
  it('runs the rules in order, each seeing the body the one before it allowed, and allows the last body', () => {
    const seen: Array<[string, RuleInput]> = [];
    const rules = new RuleRegistry([
      rule('upper', seen, (b) => allow(b.toUpperCase())),
      rule('exclaim', seen, (b) => allow(`${b}!`)),
      rule('same', seen, allow),
    ]);
    expect(rules.names).toEqual(['upper', 'exclaim', 'same']);
    expect(rules.check(input)).toEqual({ verdict: 'allow', body: 'HELLO WORLD!' });
    expect(seen).toEqual([
      ['upper', input],
      ['exclaim', { ...input, body: 'HELLO WORLD' }],
      ['same', { ...input, body: 'HELLO WORLD!' }],
    ]);
  });

  it('the first rejection is the verdict; the rules after it do not run', () => {
    const seen: Array<[string, RuleInput]> = [];
    const rules = new RuleRegistry([
      rule('rewrite', seen, (b) => allow(b.replace('world', 'there'))),
      rule('first-no', seen, reject('first-no')),
      rule('second-no', seen, reject('second-no')),
    ]);
    expect(rules.check(input)).toEqual({
      verdict: 'reject',
      code: 'CONTENT_BLOCKED',
      rule: 'first-no',
      reason: 'first-no says no',
      retryAfterMs: null,
    });
    expect(seen.map(([name]) => name)).toEqual(['rewrite', 'first-no']);
    // The rejecting rule judged the rewritten body, not the original.
    expect(seen[1][1].body).toBe('hello there');
  });

  it('with no rules a message is allowed as sent', () => {
    expect(new RuleRegistry([]).check(input)).toEqual({ verdict: 'allow', body: 'hello world' });
  });

  it('refuses two rules with the same name (a rejection names its rule)', () => {
    expect(() => new RuleRegistry([rule('x', [], allow), rule('x', [], allow)])).toThrow(/"x" is registered twice/);
  });

  it("the service's rules: the block list first", () => {
    const rules = moderationRules({ BLOCKED_WORDS: 'darn' });
    expect(rules.names).toEqual(['blocklist']);
    expect(rules.check({ ...input, body: 'darn it' })).toEqual({
      verdict: 'reject',
      code: 'CONTENT_BLOCKED',
      rule: 'blocklist',
      reason: 'the message contains a blocked word',
      retryAfterMs: null,
    });
    expect(rules.check({ ...input, body: 'e\u0301' })).toEqual({ verdict: 'allow', body: '\u00e9' });
  });
});
