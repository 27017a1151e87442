import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The module-boundary lint (eslint.config.mjs, tags in each project.json) really fails on the
 * imports it is there to forbid. Probe files are written into the projects' folders, linted by
 * the real eslint run the test command uses, and removed again. An int test: it spawns Nx and
 * eslint (a few seconds), nothing is mocked.
 */
const root = path.resolve(__dirname, '..');
const env = { ...process.env, NX_DAEMON: 'false' };
const probe = (dir: string, name: string) => path.join(root, dir, `__boundary-probe-${name}-${process.pid}.ts`);

const cases = {
  appImportsApp: { file: probe('apps/gateway/src', 'app-app'), source: "import { roomsService } from '@chat/rooms';" },
  contractsImportsMessaging: {
    file: probe('libs/contracts/src', 'contracts-messaging'),
    source: "import { encodeJson } from '@chat/messaging';",
  },
  messagingImportsNest: { file: probe('libs/messaging/src', 'messaging-nest'), source: "import { Injectable } from '@nestjs/common';" },
  formatImportsNest: { file: probe('libs/format/src', 'format-nest'), source: "import { Injectable } from '@nestjs/common';" },
  formatImportsApp: { file: probe('libs/format/src', 'format-app'), source: "import { roomsService } from '@chat/rooms';" },
  appImportsLib: { file: probe('apps/gateway/src', 'app-lib'), source: "import { encodeJson } from '@chat/messaging';" },
  messagingImportsContracts: {
    file: probe('libs/messaging/src', 'messaging-contracts'),
    source: "import { ChatError } from '@chat/contracts';",
  },
};

type LintMessage = { ruleId: string | null; message: string };
let results: Record<string, LintMessage[]> = {};

beforeAll(() => {
  // The Nx rule reads the project graph from Nx's cache and skips itself when there is none:
  // compute it first, as scripts/test.mjs does (before the probes exist, so they stay out of it).
  const nx = spawnSync('npx', ['nx', 'show', 'projects'], { cwd: root, env, encoding: 'utf8' });
  expect(nx.status).toBe(0);
  const files = Object.values(cases).map((c) => c.file);
  try {
    for (const c of Object.values(cases)) {
      const name = /import \{ (\w+) \}/.exec(c.source)![1];
      fs.writeFileSync(c.file, `${c.source}\nexport const probe = ${name};\n`);
    }
    const lint = spawnSync('npx', ['eslint', '--format', 'json', ...files], { cwd: root, env, encoding: 'utf8' });
    const report = JSON.parse(lint.stdout) as Array<{ filePath: string; messages: LintMessage[] }>;
    results = Object.fromEntries(report.map((r) => [r.filePath, r.messages]));
  } finally {
    for (const f of files) fs.rmSync(f, { force: true });
  }
}, 60_000);

const boundaryErrors = (c: { file: string }) =>
  (results[c.file] ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);

describe('module-boundary lint', () => {
  it('fails an app importing another app by its package name', () => {
    expect(boundaryErrors(cases.appImportsApp)).toEqual([expect.stringMatching(/imports of apps are forbidden/i)]);
  });

  it('fails contracts importing one of our libs', () => {
    // Every lib depends on contracts, so Nx reports the cycle before the tag rule.
    expect(boundaryErrors(cases.contractsImportsMessaging)).toEqual([
      expect.stringMatching(/circular dependency|tagged with "type:contracts"/i),
    ]);
  });

  it('fails messaging importing Nest', () => {
    expect(boundaryErrors(cases.messagingImportsNest)).toEqual([
      expect.stringContaining('tagged with "framework:none" is not allowed to import "@nestjs/common"'),
    ]);
  });

  it('fails format (the message renderer, framework:none, scope:shared) importing Nest or an app', () => {
    expect(boundaryErrors(cases.formatImportsNest)).toEqual([
      expect.stringContaining('tagged with "framework:none" is not allowed to import "@nestjs/common"'),
    ]);
    expect(boundaryErrors(cases.formatImportsApp)).toEqual([
      expect.stringMatching(/imports of apps are forbidden|tagged with "scope:shared"/i),
    ]);
  });

  it('passes allowed imports: an app using a shared lib, messaging using contracts', () => {
    expect(results[cases.appImportsLib.file]).toEqual([]);
    expect(results[cases.messagingImportsContracts.file]).toEqual([]);
  });
});
