import fs from 'node:fs';
import path from 'node:path';

const README = path.resolve(__dirname, '../../../README.md');

/**
 * The README's configuration tables must list every setting a service reads, with the default
 * the code has. Returns one line per problem (empty when the README is right), so a test fails
 * naming what to fix. A row is `| \`NAME\` | default | meaning |`; the default is compared when
 * the cell is a single code span (computed defaults are written in prose and not compared).
 */
export function configDocProblems(config: object, readme = fs.readFileSync(README, 'utf8')): string[] {
  const rows = new Map<string, string>();
  for (const line of readme.split('\n')) {
    const m = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|([^|]*)\|/.exec(line);
    if (m) rows.set(m[1], m[2].trim());
  }
  const problems: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    const cell = rows.get(key);
    if (cell === undefined) {
      problems.push(`${key} has no row in README.md's configuration tables`);
      continue;
    }
    const literal = /^`([^`]*)`$/.exec(cell);
    if (literal && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') && literal[1] !== String(value)) {
      problems.push(`${key}: README.md says the default is ${cell}, the code has ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

/**
 * The titles of the headings one level below the section titled `section` of a Markdown text,
 * in order: for docs/protocol.md's `## Ops`, its `### <op>` titles. Fenced code is skipped (a
 * `#` line in an example is not a heading).
 */
export function subheadings(markdown: string, section: string): string[] {
  const titles: string[] = [];
  let level = 0;
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const depth = m[1].length;
    if (level === 0) {
      if (m[2] === section) level = depth;
    } else if (depth <= level) break;
    else if (depth === level + 1) titles.push(m[2]);
  }
  return titles;
}

/** A file of the repository, e.g. `docs/protocol.md`. */
export const repoFile = (relative: string): string => fs.readFileSync(path.resolve(__dirname, '../../..', relative), 'utf8');
