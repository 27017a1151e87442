import { ChatError, FilterLimits, type ErrorBody, type FilterConfig, type FilterConfigDto } from '@chat/contracts';
import { patternProblem } from '../rules/patterns';
import { skeleton } from '../rules/text/normalise';

type Details = NonNullable<ErrorBody['details']>;

/**
 * A filter configuration as it is stored, from a request the transport has validated for shape
 * and sizes (FilterConfigDto). What the DTO cannot check is checked here, and any problem
 * refuses the whole configuration with BAD_REQUEST naming each field (nothing is stored):
 * a pattern must compile with the flags `iu` and be free of catastrophic backtracking; pattern
 * names are unique (a refusal names the pattern); a domain is listed once; a word must keep at
 * least one letter or digit once folded (a term of punctuation alone would match nothing); a
 * repeated-character limit is 0 (off) or at least FilterLimits.repeatedCharsMin. Absent optional
 * values become null ("the server's" for a room; for the server: allow links, spam checks off).
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
  return {
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
}
