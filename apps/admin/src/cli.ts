import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ChatError } from '@chat/contracts';
import { ConfigError } from '@chat/platform';
import { backup } from './backup';
import { adminConfig, openDeployment, type Deployment } from './deployment';
import { lagRegistry, serveMetrics } from './exporter';
import { collectLag, formatLag } from './lag';
import { restore } from './restore';
import { UserCommands } from './users';

export const USAGE = `usage: ./chat admin <command> [options]     (or node apps/admin/dist/main.js <command>)

Operator commands for one deployment: the NATS server and namespace of NATS_URL and NATS_NAMESPACE,
the same settings as the services (defaults nats://127.0.0.1:4222 and chat).

  create-admin <username>
      Makes an existing account a server administrator (a ServerRoleSet event on the moderation
      stream, as the administration panel appends): the first administrator, without SERVER_ADMINS.
      Register the account first (web client or POST /api/auth/register).
  disable-user <username> [--reason <text>]
      Bans the account from the server (UserServerBanned): every gateway closes its connections
      and refuses its login and tokens. Administrators cannot be disabled.
  enable-user <username>
      Lifts it (UserServerUnbanned).
  lag [--json]
      Every stream of the namespace (messages, bytes, positions) and every durable consumer
      (pending, ack pending, redelivered, ack floor, waiting pulls).
  exporter [--port <n>] [--host <addr>]
      Serves the same figures as Prometheus metrics on http://<host>:<port>/metrics
      (default 0.0.0.0:9464) until SIGINT/SIGTERM.
  rebuild-history --schema <new schema> [--follow] [--batch <1-4096>]
      Replays the CHAT stream into a fresh Postgres schema (DATABASE_URL): the history rebuild
      (./chat rebuild), then switch history to it (README, "Rebuilding the history projection").
  backup --to <new directory>
      Every stream and KV bucket of the namespace (each message with subject, headers and
      position) and the durable consumers' positions, into a new directory.
  restore --from <directory> [--replicas <n>]
      Recreates a backup in the namespace NATS_NAMESPACE, which must be empty (a fresh
      deployment), at the original positions. Then start the services; history projects its
      (empty) schema again from the stream.

Errors print "admin: <CODE>: <message>" and exit 1 (2 for bad usage); nothing is changed then.
See docs/operations.md.
`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Resolves when the operator stops a long-running command (exporter). */
  stopped: () => Promise<void>;
}

const usageError = (message: string) => new ChatError('BAD_REQUEST', message);

const COMMANDS = ['create-admin', 'disable-user', 'enable-user', 'lag', 'exporter', 'rebuild-history', 'backup', 'restore'] as const;
type Command = (typeof COMMANDS)[number];

/** Runs one command; resolves the process exit code. Every failure is a typed error on stderr. */
export async function run(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
        reason: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        schema: { type: 'string' },
        follow: { type: 'boolean' },
        batch: { type: 'string' },
        to: { type: 'string' },
        from: { type: 'string' },
        replicas: { type: 'string' },
      },
    });
  } catch (err) {
    io.err(`admin: BAD_REQUEST: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (v.help || command === 'help' || command === undefined) {
    (command === undefined && !v.help ? io.err : io.out)(USAGE);
    return command === undefined && !v.help ? 2 : 0;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    io.err(`admin: BAD_REQUEST: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if (command === 'rebuild-history') return rebuildHistory(argv.slice(argv.indexOf('rebuild-history') + 1), io);

  let d: Deployment | undefined;
  try {
    const work = plan(command as Command, rest, v);
    d = await openDeployment(adminConfig(io.env));
    await work(d, io);
    return 0;
  } catch (err) {
    if (err instanceof ChatError) {
      io.err(`admin: ${err.code}: ${err.message}\n`);
      return err.code === 'BAD_REQUEST' ? 2 : 1;
    }
    if (err instanceof ConfigError) {
      io.err(`admin: BAD_REQUEST: ${err.message}\n`);
      return 2;
    }
    io.err(`admin: INTERNAL: ${(err as Error)?.stack ?? err}\n`);
    return 1;
  } finally {
    await d?.close();
  }
}

type Values = Record<string, string | boolean | undefined>;

/** Checks the arguments before anything connects, and returns the work. */
function plan(command: Command, rest: string[], v: Values): (d: Deployment, io: Io) => Promise<void> {
  const one = (what: string): string => {
    if (rest.length !== 1 || !rest[0].trim()) throw usageError(`${command} takes one ${what}`);
    return rest[0];
  };
  const none = () => {
    if (rest.length) throw usageError(`${command} takes no positional arguments (got "${rest.join(' ')}")`);
  };
  const integer = (name: string, raw: unknown, min: number, max: number): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < min || n > max)
      throw usageError(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  switch (command) {
    case 'create-admin': {
      const username = one('username');
      return async (d, io) => {
        const r = await new UserCommands(d).createAdmin(username);
        io.out(`${r.user.username} (${r.user.userId}) is now a server administrator (moderation stream position ${r.position}).\n`);
      };
    }
    case 'disable-user': {
      const username = one('username');
      const reason = typeof v.reason === 'string' ? v.reason.trim() : '';
      if (reason.length > 500) throw usageError('--reason must be at most 500 characters');
      return async (d, io) => {
        const r = await new UserCommands(d).disableUser(username, reason);
        io.out(`${r.user.username} (${r.user.userId}) is disabled: connections closed, logins refused (position ${r.position}).\n`);
      };
    }
    case 'enable-user': {
      const username = one('username');
      return async (d, io) => {
        const r = await new UserCommands(d).enableUser(username);
        io.out(`${r.user.username} (${r.user.userId}) is enabled again (position ${r.position}).\n`);
      };
    }
    case 'lag':
      none();
      return async (d, io) => {
        const lag = await collectLag(d.jsm, d.s.namespace);
        io.out(v.json ? `${JSON.stringify(lag, null, 2)}\n` : formatLag(lag));
      };
    case 'exporter': {
      none();
      const port = integer('port', v.port, 0, 65535) ?? 9464;
      const host = typeof v.host === 'string' ? v.host : '0.0.0.0';
      return async (d, io) => {
        const server = await serveMetrics(lagRegistry(d.jsm, d.s.namespace), port, host);
        const address = server.address();
        io.out(
          `serving JetStream lag of "${d.s.namespace}" on http://${host}:${typeof address === 'object' && address ? address.port : port}/metrics\n`,
        );
        await io.stopped();
        await new Promise((r) => server.close(r));
      };
    }
    case 'backup': {
      none();
      if (typeof v.to !== 'string' || !v.to) throw usageError('backup needs --to <new directory>');
      const dir = v.to;
      return async (d, io) => {
        const m = await backup(d, d.s.namespace, dir, (line) => io.err(`${line}\n`));
        const total = m.streams.reduce((n, s) => n + s.messages, 0);
        io.out(`backed up ${m.streams.length} streams (${total} messages) of "${m.namespace}" to ${dir}\n`);
      };
    }
    case 'restore': {
      none();
      if (typeof v.from !== 'string' || !v.from) throw usageError('restore needs --from <backup directory>');
      const dir = v.from;
      const replicas = integer('replicas', v.replicas, 1, 5);
      return async (d, io) => {
        const r = await restore(d, d.s.namespace, dir, { replicas }, (line) => io.err(`${line}\n`));
        io.out(
          `restored ${r.length} streams (${r.reduce((n, s) => n + s.messages, 0)} messages) into "${d.s.namespace}". ` +
            `Start the services; history projects its schema from the stream (docs/operations.md).\n`,
        );
      };
    }
    case 'rebuild-history':
      throw new Error('handled before');
  }
}

/**
 * The history rebuild is history's own command (it runs the projection's code, which an app may
 * not import from another): run it as a child process with the same arguments and environment.
 */
function rebuildHistory(args: string[], io: Io): Promise<number> {
  const script = path.resolve(__dirname, '../../history/dist/rebuild.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: 'inherit', env: io.env as NodeJS.ProcessEnv });
    child.once('error', (err) => {
      io.err(`admin: UNAVAILABLE: cannot run ${script}: ${err.message} (build first: npm run build)\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
