import { emptyFilterConfig, type FilterConfig } from '@chat/contracts';
import { FilterChain, ServerFilters } from './chain';

/** For tests: a filter configuration with only the given parts set (the rest as a scope with nothing set). */
export function filterConfig(parts: {
  words?: FilterConfig['words'];
  allow?: string[];
  patterns?: FilterConfig['patterns'];
  links?: Partial<FilterConfig['links']>;
  spam?: Partial<FilterConfig['spam']>;
}): FilterConfig {
  const c = emptyFilterConfig();
  return {
    words: parts.words ?? c.words,
    allow: parts.allow ?? c.allow,
    patterns: parts.patterns ?? c.patterns,
    links: { ...c.links, ...parts.links },
    spam: { ...c.spam, ...parts.spam },
  };
}

/** For tests: the chain of a room with `room` set (or none) under the server's `server`, with BLOCKED_WORDS `extra`. */
export function chainOf(server: FilterConfig, room: FilterConfig | null = null, extra: string[] = []): FilterChain {
  return new FilterChain(new ServerFilters(server, extra), room);
}

/** For tests: the terms as word entries with one action. */
export const words = (action: 'mask' | 'block', ...terms: string[]): FilterConfig['words'] => terms.map((term) => ({ term, action }));
