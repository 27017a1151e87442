import type { ModerationVerdict } from '@chat/contracts';
import type { ModerationConfig } from '../config';
import { blockListRule } from './blocklist';
import type { ModerationRule, RuleInput } from './rule';

/**
 * The ordered rules every message goes through. Each rule sees the body as the previous one
 * allowed it; the first rejection is the verdict and the rules after it do not run. A message
 * no rule rejects is allowed with the last rewritten body.
 */
export class RuleRegistry {
  constructor(private readonly rules: readonly ModerationRule[]) {
    const names = rules.map((r) => r.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    // A rejection names its rule; two rules with one name would make that ambiguous.
    if (twice !== undefined) throw new Error(`moderation rule "${twice}" is registered twice`);
  }

  get names(): string[] {
    return this.rules.map((r) => r.name);
  }

  check(input: RuleInput): ModerationVerdict {
    let body = input.body;
    for (const rule of this.rules) {
      const verdict = rule.check({ ...input, body });
      if (verdict.verdict !== 'allow') return verdict;
      body = verdict.body;
    }
    return { verdict: 'allow', body };
  }
}

/** The rules of this service, in the order they run: the configured block list first. */
export function moderationRules(config: Pick<ModerationConfig, 'BLOCKED_WORDS'>): RuleRegistry {
  return new RuleRegistry([blockListRule(config.BLOCKED_WORDS)]);
}
