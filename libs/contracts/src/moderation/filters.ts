/**
 * A filter configuration: what the content filters of one scope (the whole server, or one
 * room) do. The server's applies to every room; a room's adds to it (its words, allow-list
 * entries and patterns join the server's; its domain entries are looked at before the
 * server's; its `default` and spam thresholds replace the server's where not null).
 * Set by `mod.filters.set` / `PUT /api/moderation/filters`, stored as a FilterConfigSet event,
 * applied by every moderation replica as it follows the stream (no restart).
 */
export type WordAction = 'mask' | 'block';
/** `hold`: the message is not posted; it waits in the reports queue until a moderator approves or rejects it. */
export type HoldAction = WordAction | 'hold';
export type LinkAction = 'allow' | 'hold' | 'block';

export interface WordEntry {
  /** A word or phrase (Latin: whole words; Chinese, Japanese, Korean: anywhere). */
  term: string;
  /** `mask`: the match is replaced by `***` and the message goes on; `block`: refused. */
  action: WordAction;
}

export interface PatternEntry {
  /** Shown in refusals and the audit log. */
  name: string;
  /** A JavaScript regular expression source, matched case-insensitively (flags `iu`) against the normalised text. */
  pattern: string;
  action: HoldAction;
}

export interface DomainEntry {
  /** `example.com` matches example.com and every subdomain of it. Lower case, no scheme. */
  domain: string;
  action: LinkAction;
}

export interface LinkPolicy {
  /** For links whose domain no entry names; null (room only): the server's. The server's null means `allow`. */
  default: LinkAction | null;
  domains: DomainEntry[];
}

export interface SpamPolicy {
  /** Longest run of one character allowed ("soooo" is a run of 4); longer is refused. 0: off; null (room only): the server's. */
  repeatedCharsMax: number | null;
  /** Most upper-case letters allowed, in percent of the letters, when the text has at least `capsMinLetters` letters. 0: off; null: the server's. */
  capsPercentMax: number | null;
  /** Shorter texts ("OK", "LOL") are never all-caps spam. null: the server's. */
  capsMinLetters: number | null;
}

export interface FilterConfig {
  words: WordEntry[];
  /** Words that are never hits nor hide a hit (`class`, `Scunthorpe`): a match inside one of them does not count. */
  allow: string[];
  patterns: PatternEntry[];
  links: LinkPolicy;
  spam: SpamPolicy;
}

export const FilterLimits = {
  wordsMax: 20_000,
  termMaxChars: 64,
  allowMax: 5_000,
  patternsMax: 100,
  patternMaxChars: 300,
  patternNameMaxChars: 64,
  domainsMax: 2_000,
  domainMaxChars: 253,
  repeatedCharsMin: 3,
  repeatedCharsMax: 200,
  capsMinLettersMax: 1_000,
} as const;

/** A scope with nothing set: the server's starting point, and what a room without its own config has. */
export const emptyFilterConfig = (): FilterConfig => ({
  words: [],
  allow: [],
  patterns: [],
  links: { default: null, domains: [] },
  spam: { repeatedCharsMax: null, capsPercentMax: null, capsMinLetters: null },
});
