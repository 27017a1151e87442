import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The gateway's folders are layers, and an import may only go down (docs/architecture.md,
 * "gateway"). Each folder lists the folders it may import; its own files it may always import.
 * Root files are either shared (config, metrics: importable by all, importing no folder) or
 * the composition root that ties the layers together (module, service, main). Test files and
 * the test-only `testing/` folder assemble whatever they test and are not checked.
 */
const mayImport: Record<string, readonly string[]> = {
  wire: [],
  http: [],
  accounts: [],
  sessions: ['wire'],
  fanout: ['sessions', 'wire'],
  operations: ['sessions', 'wire', 'accounts'],
  /** Moderation's glue: bans and kicks close sessions; the filters' HTTP routes use Bearer authentication. */
  moderation: ['sessions', 'wire', 'accounts'],
};
const shared = new Set(['config.ts', 'metrics.ts']);
const composition = new Set(['gateway.module.ts', 'service.ts', 'main.ts']);
const unchecked = new Set(['testing']);
/** Only the wire touches sockets. */
const socketPackages = new Set(['ws']);

const SRC = __dirname;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [full] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic), read by TypeScript's own pre-parser. */
function importsOf(file: string): string[] {
  return ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

/** The layer of a path under src: its first folder, or the file name for a root file. */
const placeOf = (file: string) => path.relative(SRC, file).split(path.sep)[0];

function problems(): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const rel = path.relative(SRC, file);
    const from = placeOf(file);
    if (unchecked.has(from) || composition.has(from)) continue;
    const isRootShared = shared.has(from);
    if (!isRootShared && !(from in mayImport)) {
      found.push(`${rel}: folder "${from}" has no place in the layering (add it to mayImport)`);
      continue;
    }
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) {
        if (socketPackages.has(spec) && from !== 'wire') found.push(`${rel} imports "${spec}": only wire/ touches sockets`);
        continue;
      }
      const to = placeOf(path.resolve(path.dirname(file), spec));
      if (to === from || shared.has(`${to}.ts`)) continue;
      if (isRootShared) found.push(`${rel} imports ${spec}: shared root files import no layer`);
      else if (!mayImport[from].includes(to))
        found.push(`${rel} imports ${spec}: ${from}/ may import only ${mayImport[from].join(', ') || 'no other folder'}`);
    }
  }
  return found;
}

describe('gateway layering', () => {
  it('every import goes down the layers (wire < sessions < fanout, operations; accounts and http apart)', () => {
    expect(problems()).toEqual([]);
  });

  it('reads the imports it checks (sessions imports the wire, fan-out imports sessions)', () => {
    const specs = (f: string) => importsOf(path.join(SRC, f));
    expect(specs('sessions/sessions.ts')).toContain('../wire/connection');
    expect(specs('fanout/live.subscriber.ts')).toContain('../sessions/sessions');
  });

  it('catches an import going up', () => {
    const wireFile = path.join(SRC, 'wire', 'connection.ts');
    const original = fs.readFileSync.bind(fs);
    const spy = jest
      .spyOn(fs, 'readFileSync')
      .mockImplementation(((p: fs.PathOrFileDescriptor, o?: unknown) =>
        p === wireFile
          ? `import { Sessions } from '../sessions/sessions';\nexport {};`
          : original(p, o as never)) as typeof fs.readFileSync);
    try {
      expect(problems()).toEqual([`wire${path.sep}connection.ts imports ../sessions/sessions: wire/ may import only no other folder`]);
    } finally {
      spy.mockRestore();
    }
  });
});
