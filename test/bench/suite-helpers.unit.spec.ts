// Pure helpers of the benchmark suite (bench/suite): the body format the load generator sends
// and parses, the progress line's text, option parsing and the report's status rows.
// The suite is plain ES modules without type declarations: loaded by a computed path (typed below).
import path from 'node:path';

interface Helpers {
  formatElapsed(ms: number): string;
  formatProgress(p: Record<string, unknown>): string;
  makeBody(tag: string, sender: number, seq: number, ts: number, chars?: number): string;
  parseBody(body: string): { tag: string; sender: number; seq: number; ts: number } | null;
  quietCheck(m: { other?: number; steal?: number } | null): string | null;
  statusRow(head: string[], res: Record<string, unknown> | string, lead?: string[]): string[];
  parseIntOption(name: string, v: string, min?: number): number;
}
const suite = (file: string): Promise<Partial<Helpers>> => import(path.join(__dirname, '..', '..', 'bench', 'suite', file));
let h: Helpers;
beforeAll(async () => {
  h = { ...(await suite('loadgen.mjs')), ...(await suite('report.mjs')), ...(await suite('runner.mjs')) } as Helpers;
});

describe('bench suite helpers', () => {
  it('a body is tag:sender:seq:sendTime padded to the length asked, and parses back', () => {
    const b = h.makeBody('p3', 2, 17, 1234.5678, 64);
    expect(b).toHaveLength(64);
    expect(b.startsWith('p3:2:17:1234.568:')).toBe(true);
    expect(h.parseBody(b)).toEqual({ tag: 'p3', sender: 2, seq: 17, ts: 1234.568 });
    expect(h.makeBody('p1', 0, 1, 1, 8)).toBe('p1:0:1:1.000'); // never cut below its fields
    expect(h.parseBody('not a body')).toBeNull();
    expect(h.parseBody('p1:x:1:2')).toBeNull();
  });

  it('the progress line names scenario i/n, target j/m, the phase and the times', () => {
    expect(
      h.formatProgress({
        scenario: 'fanout',
        si: 1,
        sn: 5,
        target: 'stack',
        ti: 2,
        tn: 10,
        phase: 'saturation',
        phaseMs: 3400,
        totalMs: 125_000,
      }),
    ).toBe('[bench] scenario 1/5 fanout · target 2/10 stack · saturation · 3.4 s (total 2 min 05 s)');
    expect(h.formatProgress({ scenario: 'history', si: 5, sn: 5, phase: 'starting' })).toBe('[bench] scenario 5/5 history · starting');
    expect(h.formatElapsed(59_900)).toBe('59.9 s');
    expect(h.formatElapsed(60_000)).toBe('1 min 00 s');
  });

  it('the quiet check warns from 20 % of a core of other processes or 5 % steal', () => {
    expect(h.quietCheck({ other: 19, steal: 4 })).toBeNull();
    expect(h.quietCheck({ other: 20, steal: 0 })).toMatch(/other processes used 20%/);
    expect(h.quietCheck({ other: 0, steal: 5 })).toMatch(/stole 5%/);
    expect(h.quietCheck(null)).toBeNull();
  });

  it('integer options accept thousands separators and refuse the rest', () => {
    expect(h.parseIntOption('messages', '1,000,000')).toBe(1_000_000);
    expect(h.parseIntOption('messages', '10_000_000')).toBe(10_000_000);
    expect(h.parseIntOption('messages', '1e6')).toBe(1_000_000);
    expect(() => h.parseIntOption('sizes', '0', 1)).toThrow('--sizes must be an integer >= 1');
    expect(() => h.parseIntOption('sizes', 'many')).toThrow('--sizes');
  });

  it('a target that did not run gets its reason and dashes up to the width of the table', () => {
    const head = ['receivers', 'part', 'target', 'a', 'b'];
    expect(h.statusRow(head, { name: 'ejabberd', ok: false, skipped: 'target not available' }, ['200', 'saturation'])).toEqual([
      '200',
      'saturation',
      'ejabberd',
      'skipped: target not available',
      '-',
    ]);
    expect(h.statusRow(['t', 'x', 'y'], { name: 'ws', text: 'n/a: keeps no history' })).toEqual(['ws', 'n/a: keeps no history', '-']);
    expect(h.statusRow(['t', 'x'], { name: 'stack', ok: false, failed: 'boom' })).toEqual(['stack', 'failed: boom']);
  });
});
