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
