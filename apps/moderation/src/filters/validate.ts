import { ChatError, FilterLimits, type ErrorBody, type FilterConfig, type FilterConfigDto } from '@chat/contracts';
import { patternProblem } from '../rules/patterns';
import { skeleton } from '../rules/text/normalise';

type Details = NonNullable<ErrorBody['details']>;

/**
 * The largest configuration stored, as JSON in bytes: it is one event of the moderation stream,
 * and a NATS message is at most 1 MiB by default (the envelope takes the rest). 20,000 words of
 * 64 characters would not fit; lists of ten thousand words of everyday length do.
 */
export const FILTER_CONFIG_MAX_BYTES = 1_000_000;

/**
 * A filter configuration as it is stored, from a request the transport has validated for shape
 * and sizes (FilterConfigDto). What the DTO cannot check is checked here, and any problem
 * refuses the whole configuration with BAD_REQUEST naming each field (nothing is stored):
 * a pattern must compile with the flags `iu` and be free of catastrophic backtracking; pattern
 * names are unique (a refusal names the pattern); a domain is listed once; a word must keep at
 * least one letter or digit once folded (a term of punctuation alone would match nothing); a
 * repeated-character limit is 0 (off) or at least FilterLimits.repeatedCharsMin. Absent optional
 * values become null ("the server's" for a room; for the server: allow links, spam checks off).
 * The whole, as JSON, must fit in FILTER_CONFIG_MAX_BYTES.
 */
export function storedFilterConfig(dto: FilterConfigDto): FilterConfig {
  const details: Details = [];
  const problem = (field: string, message: string) => details.push({ field, problems: [message] });

  dto.words.forEach((w, i) => {
    if (!skeleton(w.term).text) problem(`config.words.${i}.term`, 'term must contain a letter or digit');
  });
  const names = new Set<string>();
  dto.patterns.forEach((p, i) => {
    if (names.has(p.name)) problem(`config.patterns.${i}.name`, `pattern name "${p.name}" is used twice`);
    names.add(p.name);
    const why = patternProblem(p.pattern);
    if (why) problem(`config.patterns.${i}.pattern`, why);
  });
  const domains = new Set<string>();
  dto.links.domains.forEach((d, i) => {
    if (domains.has(d.domain)) problem(`config.links.domains.${i}.domain`, `domain ${d.domain} is listed twice`);
    domains.add(d.domain);
  });
  const repeated = dto.spam.repeatedCharsMax ?? null;
  if (repeated !== null && repeated !== 0 && repeated < FilterLimits.repeatedCharsMin)
    problem('config.spam.repeatedCharsMax', `repeatedCharsMax must be 0 (off) or at least ${FilterLimits.repeatedCharsMin}`);

  if (details.length) throw new ChatError('BAD_REQUEST', details.map((d) => `${d.field}: ${d.problems.join('; ')}`).join('; '), details);
  const stored: FilterConfig = {
    words: dto.words.map((w) => ({ term: w.term, action: w.action })),
    allow: [...dto.allow],
    patterns: dto.patterns.map((p) => ({ name: p.name, pattern: p.pattern, action: p.action })),
    links: { default: dto.links.default ?? null, domains: dto.links.domains.map((d) => ({ domain: d.domain, action: d.action })) },
    spam: {
      repeatedCharsMax: repeated,
      capsPercentMax: dto.spam.capsPercentMax ?? null,
      capsMinLetters: dto.spam.capsMinLetters ?? null,
    },
  };
  const bytes = Buffer.byteLength(JSON.stringify(stored));
  if (bytes > FILTER_CONFIG_MAX_BYTES) {
    const message = `the configuration takes ${bytes} bytes as JSON; at most ${FILTER_CONFIG_MAX_BYTES} can be stored`;
    throw new ChatError('BAD_REQUEST', message, [{ field: 'config', problems: [message] }]);
  }
  return stored;
}
