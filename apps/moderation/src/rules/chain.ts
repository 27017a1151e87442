import type { FilterConfig } from '@chat/contracts';
import { compileLinkPolicy, LinksRule } from './links';
import { PatternsRule } from './patterns';
import type { ContentRule, FilterScope } from './rule';
import { CapsRule, RepeatedCharsRule } from './spam';
import { roomWords, ServerWords, WordsRule } from './words';

/**
 * What the filter chain says about one text. `hold` carries the body as it would be posted (masks
 * applied). A `block`'s `scope` is `room` when only the room's own configuration refuses the text
 * at that rule (no strike for it: see SendCheck).
 */
export type ChainResult =
  | { readonly action: 'allow'; readonly body: string }
  | { readonly action: 'block'; readonly rule: string; readonly reason: string; readonly scope: FilterScope }
  | { readonly action: 'hold'; readonly rule: string; readonly reason: string; readonly body: string };

/** Letters with case a text needs before all-caps spam is looked at, when neither scope sets `capsMinLetters`. */
export const DEFAULT_CAPS_MIN_LETTERS = 10;

/**
 * The parts of the server's configuration every room shares, compiled once per server change:
 * its word list (with BLOCKED_WORDS, from the service's configuration, as extra `block` words)
 * is the expensive part (a 10,000-word list).
 */
export class ServerFilters {
  readonly words: ServerWords;
  constructor(
    readonly config: FilterConfig,
    extraBlocked: readonly string[] = [],
  ) {
    this.words = new ServerWords(config.words, config.allow, extraBlocked);
  }
}

/**
 * The filter chain of one room: the server's configuration joined with the room's (see
 * FilterConfig in the contracts). A room's configuration only adds restrictions: words and
 * patterns of both apply (the room's allow-list spares only the room's words); for links and
 * spam thresholds each scope answers and the more restrictive answer wins.
 * The rules run in order — words, patterns, links, repeated characters, capitals — each on the
 * body the one before it allowed (masks applied). The first `block` is the answer; a `hold`
 * is remembered and the rules after it still run (a later block wins: there is no point in a
 * moderator reviewing a message that would be refused anyway). The allowed body is NFC.
 */
export class FilterChain {
  readonly rules: readonly ContentRule[];

  constructor(server: ServerFilters, room: FilterConfig | null) {
    const s = server.config;
    const minLetters = s.spam.capsMinLetters ?? DEFAULT_CAPS_MIN_LETTERS;
    // The room's caps thresholds, where it sets either (the other one the server's), apply besides the server's.
    const roomCaps =
      room && (room.spam.capsPercentMax !== null || room.spam.capsMinLetters !== null)
        ? { percentMax: room.spam.capsPercentMax ?? s.spam.capsPercentMax ?? 0, minLetters: room.spam.capsMinLetters ?? minLetters }
        : null;
    this.rules = [
      new WordsRule(server.words, room ? roomWords(room.words, room.allow, server.words) : null),
      new PatternsRule(room ? [...s.patterns, ...room.patterns] : s.patterns, s.patterns.length),
      new LinksRule(compileLinkPolicy(s.links, room?.links ?? null)),
      new RepeatedCharsRule(s.spam.repeatedCharsMax ?? 0, room?.spam.repeatedCharsMax ?? 0),
      new CapsRule(s.spam.capsPercentMax ?? 0, minLetters, roomCaps),
    ];
  }

  /** The chain's answer; the patterns (if any) are awaited from their worker thread. */
  async run(text: string): Promise<ChainResult> {
    let body = text;
    let held: { rule: string; reason: string } | null = null;
    for (const rule of this.rules) {
      const out = rule.run ? await rule.run(body) : rule.check(body);
      if (out.action === 'allow') body = out.body;
      else if (out.action === 'block')
        return { action: 'block', rule: out.rule ?? rule.name, reason: out.reason, scope: out.scope ?? 'server' };
      else held ??= { rule: out.rule ?? rule.name, reason: out.reason };
    }
    body = body.normalize('NFC');
    return held ? { action: 'hold', ...held, body } : { action: 'allow', body };
  }

  /**
   * The same answer at once, for a chain without patterns (tests, the words-only benchmark):
   * with patterns it throws, since their answer comes from a worker thread (use `run`).
   */
  check(text: string): ChainResult {
    let body = text;
    let held: { rule: string; reason: string } | null = null;
    for (const rule of this.rules) {
      const out = rule.check(body);
      if (out.action === 'allow') body = out.body;
      else if (out.action === 'block')
        return { action: 'block', rule: out.rule ?? rule.name, reason: out.reason, scope: out.scope ?? 'server' };
      else held ??= { rule: out.rule ?? rule.name, reason: out.reason };
    }
    body = body.normalize('NFC');
    return held ? { action: 'hold', ...held, body } : { action: 'allow', body };
  }
}
