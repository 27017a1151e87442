import type { ModerationCheckRequest, ModerationVerdict } from '@chat/contracts';

/** What a rule sees: the message as the rules before it left it (the body possibly rewritten). */
export type RuleInput = Readonly<ModerationCheckRequest>;

/**
 * One moderation rule. `check` is pure and synchronous: it runs in the send path of every
 * message, so it gets no I/O; what it needs (a list, a limit) is given when it is built. It
 * allows the message, possibly with a rewritten body that the next rule then sees, or rejects
 * it with a reason and its own name.
 */
export interface ModerationRule {
  readonly name: string;
  check(input: RuleInput): ModerationVerdict;
}
