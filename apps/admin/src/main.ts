import { once } from 'node:events';
import { run } from './cli';

/** `./chat admin <command>`: see USAGE in cli.ts (`./chat admin --help`). */
const stopped = () => Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]).then(() => undefined);

run(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  stopped,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`admin: INTERNAL: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  },
);
