// Bundles the web client: apps/gateway/web/main.ts with libs/client (the same typed client the
// tests and the benchmark use) into apps/gateway/public/bundle/app.js, which index.html loads.
// Run by `npm run build` after `tsc -b`. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'apps/gateway/public/bundle/app.js');

/** @type {import('esbuild').BuildOptions} */
const options = {
  absWorkingDir: root,
  entryPoints: ['apps/gateway/web/main.ts'],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  sourcemap: true,
  minify: true,
  metafile: true,
  logLevel: 'warning',
  // The sources, not the CommonJS in dist/: only what the page uses ends up in the bundle.
  // The mention matcher alone from libs/format (its index would bring markdown-it).
  alias: { '@chat/client': './libs/client/src/index.ts', '@chat/format/mentions': './libs/format/src/mentions.ts' },
  tsconfig: 'apps/gateway/web/tsconfig.json',
};

/**
 * The client must stay free of Node code: `ws`, `node:*`, the contracts' runtime (validators) and
 * libs/format's markdown-it never reach the page; of libs/format only the mention matcher does.
 * Of node_modules only the page's own libraries: i18next (its languages) and DOMPurify (the
 * sanitiser of message HTML).
 */
/**
 * What the page may weigh (app.js; style.css is apart): the budget of docs/architecture.md. The
 * build fails above it, so growth is a decision, not an accident.
 */
const BUDGET = { minified: 360 * 1024, gzipped: 120 * 1024 };

const PAGE_LIBRARIES = ['i18next', 'dompurify'];
function checkInputs(metafile) {
  const bad = Object.keys(metafile.inputs).filter(
    (f) =>
      (/(^|\/)node_modules\//.test(f) && !PAGE_LIBRARIES.some((lib) => f.includes(`node_modules/${lib}/`))) ||
      /^node:|^libs\/(?!client\/|format\/src\/mentions\.ts$)/.test(f),
  );
  if (bad.length) throw new Error(`the web bundle must not include ${bad.join(', ')}`);
}

if (process.argv.includes('--watch')) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log(`[build-web] watching; writing ${path.relative(root, outfile)}`);
} else {
  const result = await esbuild.build(options);
  checkInputs(result.metafile);
  const bytes = result.metafile.outputs[path.relative(root, outfile)]?.bytes ?? 0;
  const gzipped = zlib.gzipSync(fs.readFileSync(outfile), { level: 9 }).length;
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `[build-web] ${path.relative(root, outfile)} ${kib(bytes)} minified, ${kib(gzipped)} gzipped ` +
      `(budget ${kib(BUDGET.minified)} / ${kib(BUDGET.gzipped)})`,
  );
  if (bytes > BUDGET.minified || gzipped > BUDGET.gzipped) {
    throw new Error(`the web bundle is over its budget (docs/architecture.md "Web client"): shrink it, or raise the budget with a reason`);
  }
}
