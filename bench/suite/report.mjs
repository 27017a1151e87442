// The suite's report: one table per scenario on stdout, and the whole run as JSON in
// bench/results/suite-<date>.json (git-ignored).
import { f0, f2, renderTable, writeResult } from '../lib.mjs';

export { f0, f2 };

/** A cell for milliseconds: 2 decimals below 10, none above. */
export const ms = (x) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(2) : f0(x));

/** Bytes as `12.3 MB` / `4.5 KB`. */
export const bytes = (b) =>
  b === null || b === undefined || Number.isNaN(b)
    ? '-'
    : b >= 1e9
      ? `${(b / 1e9).toFixed(2)} GB`
      : b >= 1e6
        ? `${(b / 1e6).toFixed(1)} MB`
        : `${(b / 1e3).toFixed(1)} KB`;

/** `group 40, group 12` (% of one core) for the groups of a groupMeter result that used any CPU. */
export const cpuCell = (m) =>
  m
    ? Object.entries(m.cpu ?? {})
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '0'
    : '-';

/**
 * The row of a target that did not run (a withTarget result with ok false): its name, then
 * "skipped: <reason>" / "failed: <message>" / `res.text`, then '-' up to the width of `head`.
 * `lead` cells (e.g. the scenario part) go before the name.
 */
export function statusRow(head, res, lead = []) {
  const text =
    typeof res === 'string'
      ? res
      : res.text
        ? res.text
        : res.skipped
          ? `skipped: ${res.skipped}`
          : res.failed
            ? `failed: ${res.failed}`
            : 'did not run';
  const name = typeof res === 'string' ? '' : res.name;
  const row = [...lead, name, text];
  while (row.length < head.length) row.push('-');
  return row;
}

/** Prints a scenario's entry (the runner's result for it): its table(s), notes and warnings. */
export function printScenario(name, entry) {
  console.log('');
  console.log(`### ${name}${entry.description ? ` — ${entry.description}` : ''}`);
  if (entry.skipped) return void console.log(`skipped: ${entry.skipped}`);
  if (entry.failed) console.log(`failed: ${entry.failed}`);
  const versions = Object.entries(entry.versions ?? {});
  if (versions.length) console.log(`versions: ${versions.map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  const given = Object.entries(entry.options ?? {}).filter(([, v]) => v !== undefined && v !== false);
  if (given.length) console.log(`options: ${given.map(([k, v]) => (v === true ? `--${k}` : `--${k} ${v}`)).join(' ')}`);
  const tables = entry.tables ?? (entry.table ? [entry.table] : []);
  for (const t of tables) {
    console.log('');
    if (t.title) console.log(t.title);
    console.log(renderTable(t.head, t.rows));
  }
  if (entry.notes?.length) {
    console.log('');
    for (const n of entry.notes) console.log(`note: ${n}`);
  }
  for (const w of entry.warnings ?? []) console.log(`WARNING: ${w}`);
}

/** Writes the run's JSON to `out` or bench/results/suite-<date>.json; returns the path written. */
export function writeSuiteResult({ out, started, result }) {
  // Table cells are kept too, so the JSON alone can reproduce the report.
  return writeResult({ out, name: 'suite', started, result });
}
