import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@chat/platform';
import { HistoryConfig, SCHEMA_PATTERN } from './config';
import { RebuildRefused, duration, progressLine, startRebuild, type RebuildProgress } from './projection/rebuild';

const usage = `usage: node apps/history/dist/rebuild.js --schema <new schema> [--follow] [--batch <1-4096>]
  Replays the whole CHAT stream (NATS_URL, NATS_NAMESPACE) into a fresh Postgres schema
  (DATABASE_URL) through the projection's own code, then exits at the stream's last position as
  of the start (--follow: keeps projecting new events until SIGINT/SIGTERM). Progress on stderr.
  Run again to resume after an interruption. Then start history with DATABASE_SCHEMA=<new schema>.
`;

/** `./chat rebuild` / `npm run history:rebuild`: see startRebuild, and the switch procedure in the README. */
async function main(): Promise<void> {
  let args: { schema?: string; follow?: boolean; batch?: string; help?: boolean };
  try {
    args = parseArgs({
      options: {
        schema: { type: 'string' },
        follow: { type: 'boolean' },
        batch: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    return fail(`${(err as Error).message}\n${usage}`);
  }
  if (args.help) return void process.stdout.write(usage);
  if (!args.schema || !SCHEMA_PATTERN.test(args.schema)) return fail(`--schema must match ${SCHEMA_PATTERN}\n${usage}`);
  const batch = Number(args.batch ?? 4096);
  if (!Number.isInteger(batch) || batch < 1 || batch > 4096) return fail(`--batch must be an integer from 1 to 4096\n${usage}`);
  let config: HistoryConfig;
  try {
    config = loadConfig(HistoryConfig, { ...process.env, DATABASE_SCHEMA: args.schema });
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    throw err;
  }

  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const show = (p: RebuildProgress, final = false) => {
    const now = Date.now();
    // On a terminal the line is redrawn in place (at most 10 times a second); in a log, every 5 s.
    if (!final && now - lastLine < (tty ? 100 : 5000)) return;
    lastLine = now;
    process.stderr.write(tty ? `\r${progressLine(p, now)}\x1b[K` : `${progressLine(p, now)}\n`);
  };
  let rebuild;
  try {
    rebuild = await startRebuild({ config, batch, follow: args.follow, onProgress: (p) => show(p) });
  } catch (err) {
    if (err instanceof RebuildRefused) return fail(err.message);
    throw err;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping after the batch in progress (run again to resume)\n`);
      void rebuild.stop();
    });
  const end = await rebuild.done;
  show(end, true);
  const seconds = (Date.now() - end.startedAt) / 1000;
  process.stderr.write(
    `\nschema "${args.schema}" projected up to position ${end.position} (${end.events} events in ${duration(seconds)}, ${end.deadLetters} dead-lettered).\n` +
      `Start history with DATABASE_SCHEMA=${args.schema}: it goes on from position ${end.position + 1}.\n`,
  );
}

function fail(message: string): void {
  process.stderr.write(`history-rebuild: ${message}\n`);
  process.exitCode = 2;
}

main().catch((err) => {
  process.stderr.write(`history-rebuild: ${err?.stack ?? err}\n`);
  process.exit(1);
});
