/**
 * What one content rule says about a text. `allow` passes `body` on (possibly rewritten: masked
 * words and patterns become `***`); `block` refuses the message (CONTENT_BLOCKED); `hold` keeps
 * it from being posted until a moderator approves it (a `held` report). `reason` is for people
 * (the sender sees it in the refusal, moderators in the queue); `rule` names what decided when
 * it is more precise than the rule's own name (`pattern:<name>`). `scope` says whose configuration
 * decided: `room` when only the room's own configuration refuses or holds it (the server's,
 * with BLOCKED_WORDS, would not), which earns the sender no strike; absent, the server's.
 */
export type RuleOutcome =
  | { readonly action: 'allow'; readonly body: string }
  | { readonly action: 'block' | 'hold'; readonly reason: string; readonly rule?: string; readonly scope?: FilterScope };

/** Whose configuration a refusal comes from: the server's (with BLOCKED_WORDS) or the room's alone. */
export type FilterScope = 'server' | 'room';

/**
 * One content rule of the filter chain (rules/chain.ts). `check` is pure and synchronous: it
 * runs in the send path of every message, so it gets no I/O; what it needs (lists, patterns,
 * thresholds) is compiled into it when the chain is built from the filter configuration. A rule
 * whose work is done elsewhere (the patterns, in a worker thread) also has `run`, which the
 * chain awaits instead. `name` is what a refusal and the audit log name (`words`, `links`, ...).
 */
export interface ContentRule {
  readonly name: string;
  check(body: string): RuleOutcome;
  run?(body: string): Promise<RuleOutcome>;
}

export const allow = (body: string): RuleOutcome => ({ action: 'allow', body });
