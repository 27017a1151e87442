import fs from 'node:fs';
import path from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { repoFile, subheadings } from '@chat/testing';

const ROOT = path.resolve(__dirname, '../../..');

/** Every `.ts` file (not a test) of a folder, recursively. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [p] : [];
  });
}

/**
 * The metric names the deployment exports: every prom-client metric declared in apps/ and libs/
 * (`name: '...'` in a file that imports prom-client; a histogram also as _bucket, _sum and
 * _count), Node's default metrics that every service registers (libs/platform/src/health.ts
 * calls collectDefaultMetrics), and Prometheus's own `up`.
 */
function exportedMetrics(): Set<string> {
  const names = new Set<string>(['up']);
  for (const file of [...sources(path.join(ROOT, 'apps')), ...sources(path.join(ROOT, 'libs'))]) {
    const text = fs.readFileSync(file, 'utf8');
    if (!/from 'prom-client'/.test(text)) continue;
    for (const m of text.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{[^]*?name: '([a-zA-Z_:][a-zA-Z0-9_:]*)'/g)) {
      names.add(m[2]);
      if (m[1] === 'Histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(m[2] + suffix);
      if (m[1] === 'Summary') for (const suffix of ['_sum', '_count']) names.add(m[2] + suffix);
    }
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  registry.clear();
  return names;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: identifiers outside label matchers, ranges,
 * strings and grouping clauses, that are neither functions (followed by a parenthesis) nor
 * keywords. (Numbers such as 1.5e9 are not identifiers: the lookbehind skips their exponent.)
 */
function metricsOf(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out: string[] = [];
  for (const m of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1].toLowerCase())) continue;
    out.push(m[1]);
  }
  return out;
}

/** Alert rules as written in alerts.yml: each `- alert:` with its one-line `expr:` and `runbook:`. */
function alertRules(): Array<{ alert: string; expr: string; runbook?: string }> {
  const rules: Array<{ alert: string; expr: string; runbook?: string }> = [];
  for (const line of repoFile('deploy/observability/alerts.yml').split('\n')) {
    const alert = /^\s*- alert:\s*(\S+)\s*$/.exec(line);
    if (alert) rules.push({ alert: alert[1], expr: '' });
    const expr = /^\s*expr:\s*(.*)$/.exec(line);
    if (expr) {
      // One line each, so that this test reads every expression whole.
      if (/^[|>]/.test(expr[1])) throw new Error(`write the expr of ${rules.at(-1)?.alert} on one line`);
      rules.at(-1)!.expr = expr[1].trim();
    }
    const runbook = /^\s*runbook:\s*(\S+)\s*$/.exec(line);
    if (runbook) rules.at(-1)!.runbook = runbook[1];
  }
  return rules;
}

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

function dashboardQueries(): Array<{ panel: string; expr: string }> {
  const dashboard = JSON.parse(repoFile('deploy/observability/grafana/dashboards/chat-platform.json')) as { uid: string; panels: Panel[] };
  expect(dashboard.uid).toBe('chat-platform');
  const all = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...all(p.panels ?? [])]);
  return all(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

describe('observability - the dashboard and the alerts read only metrics the services export', () => {
  const exported = exportedMetrics();

  it('finds the metrics of every service and the defaults (so the check below cannot pass on nothing)', () => {
    for (const name of [
      'gateway_ws_connections',
      'history_projection_position',
      'moderation_subscriber_handle_seconds_bucket',
      'presence_gateways',
      'rooms_message_id_record_lag_seconds',
      'chat_jetstream_consumer_pending',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect([name, exported.has(name)]).toEqual([name, true]);
  });

  it('reads metric names out of PromQL', () => {
    expect(
      metricsOf(
        'max(a_total{stream=~".+_CHAT", x="by(y)"}) - on() group_left max(b) > 1.5e9 and delta(c[10m]) > 0 or sum by (job) (up) offset 5m',
      ),
    ).toEqual(['a_total', 'b', 'c', 'up']);
    expect(metricsOf('histogram_quantile(0.95, sum by (subscriber, le) (rate(h_bucket[5m])))')).toEqual(['h_bucket']);
  });

  it('every alert rule uses exported metrics and names its section of docs/operations.md', () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThan(15);
    const sections = new Set(subheadings(repoFile('docs/operations.md'), 'Alerts').map((t) => t.toLowerCase()));
    const problems: string[] = [];
    for (const r of rules) {
      const used = metricsOf(r.expr);
      if (used.length === 0) problems.push(`${r.alert}: no metric in "${r.expr}"`);
      for (const m of used) if (!exported.has(m)) problems.push(`${r.alert}: ${m} is not exported by any service`);
      if (r.runbook !== `docs/operations.md#${r.alert.toLowerCase()}`)
        problems.push(`${r.alert}: runbook should be docs/operations.md#${r.alert.toLowerCase()}`);
      if (!sections.has(r.alert.toLowerCase())) problems.push(`${r.alert}: no "### ${r.alert}" under "## Alerts" in docs/operations.md`);
    }
    expect(problems).toEqual([]);
  });

  it('every dashboard query uses exported metrics', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const q of queries) {
      const used = metricsOf(q.expr);
      if (used.length === 0) problems.push(`${q.panel}: no metric in "${q.expr}"`);
      for (const m of used) if (!exported.has(m)) problems.push(`${q.panel}: ${m} is not exported by any service`);
    }
    expect(problems).toEqual([]);
  });

  it('Prometheus scrapes every service, the lag exporter, and loads the alert rules; compose mounts what exists', () => {
    const prometheus = repoFile('deploy/observability/prometheus.yml');
    const jobs = [...prometheus.matchAll(/^\s*- job_name:\s*(\S+)/gm)].map((m) => m[1]);
    // The launcher's list of services (read as text: an app's test may not import scripts/).
    const SERVICES = JSON.parse(/const SERVICES = (\[[^\]]*\])/.exec(repoFile('scripts/stack.cjs'))![1].replace(/'/g, '"')) as string[];
    expect(SERVICES).toContain('gateway');
    expect(jobs.sort()).toEqual([...SERVICES, 'jetstream-lag'].sort());
    expect(prometheus).toMatch(/rule_files:\s*\n\s*- \/etc\/prometheus\/alerts\.yml/);
    const compose = repoFile('docker-compose.yml');
    const mounts = [...compose.matchAll(/^\s*- \.\/(deploy\/[^:]+):/gm)].map((m) => m[1]);
    expect(mounts.length).toBeGreaterThanOrEqual(4);
    for (const m of mounts) expect([m, fs.existsSync(path.join(ROOT, m))]).toEqual([m, true]);
    for (const service of ['prometheus', 'grafana', 'lag-exporter'])
      expect(compose).toMatch(new RegExp(`\\n  ${service}:\\n(    .*\\n)*?    profiles: \\[observability\\]`));
  });
});
