import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually, freePort } from './infra';

/**
 * Private nats-server processes for the fault tests, which stop, restart and kill them: the
 * shared NATS on 4222 is never touched. Each server gets free loopback ports, JetStream with its
 * store in a temp dir, and a config file written there; a restart reuses the same ports and
 * store, as an operator's restart would. Killed on exit of the test process in any case.
 */

/** The server binary: NATS_SERVER_BIN, else Debian's package path, else the PATH. */
const BIN = process.env.NATS_SERVER_BIN ?? (fs.existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server');

/** Every child still running, SIGKILLed if the test process exits without cleaning up. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** What `/jsz` reports about the JetStream meta group (the fields we wait on). */
interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number; replicas?: Array<{ name: string; current: boolean; offline?: boolean }> };
}

export interface PrivateNatsServer {
  /** Client URL, e.g. nats://127.0.0.1:41234 (the same across restarts). */
  readonly url: string;
  readonly name: string;
  readonly storeDir: string;
  /** Monitoring endpoint base (http://127.0.0.1:<port>): /varz, /jsz, /healthz. */
  readonly monitorUrl: string;
  /** true while the process runs (started and not yet exited). */
  readonly running: boolean;
  /** Starts the process (again) with the same config; resolves once it accepts clients. */
  start(): Promise<void>;
  /** SIGTERM (a clean shutdown that syncs the store) or SIGKILL (a crash); resolves once the process has exited. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** The end of the server's log, for failure messages. */
  logTail(lines?: number): string;
}

interface NodeSpec {
  name: string;
  dir: string;
  port: number;
  httpPort: number;
  cluster?: { name: string; port: number; routes: number[] };
}

function configOf(n: NodeSpec): string {
  const lines = [
    `server_name: ${n.name}`,
    `listen: 127.0.0.1:${n.port}`,
    `http: 127.0.0.1:${n.httpPort}`,
    // Small limits: a test server holds test data only, on a machine shared with other tests.
    `jetstream { store_dir: ${JSON.stringify(path.join(n.dir, 'store'))}, max_memory_store: 64MB, max_file_store: 2GB }`,
  ];
  if (n.cluster)
    lines.push(
      `cluster { name: ${n.cluster.name}, listen: 127.0.0.1:${n.cluster.port},`,
      `  routes: [${n.cluster.routes.map((p) => `nats-route://127.0.0.1:${p}`).join(', ')}] }`,
    );
  return lines.join('\n') + '\n';
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

class NatsProcess implements PrivateNatsServer {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  readonly url: string;
  readonly monitorUrl: string;
  readonly storeDir: string;
  private readonly logFile: string;
  private readonly configFile: string;

  constructor(private readonly spec: NodeSpec) {
    this.url = `nats://127.0.0.1:${spec.port}`;
    this.monitorUrl = `http://127.0.0.1:${spec.httpPort}`;
    this.storeDir = path.join(spec.dir, 'store');
    this.logFile = path.join(spec.dir, 'server.log');
    this.configFile = path.join(spec.dir, 'server.conf');
    fs.mkdirSync(spec.dir, { recursive: true });
    fs.writeFileSync(this.configFile, configOf(spec));
  }

  get name(): string {
    return this.spec.name;
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(BIN, ['-c', this.configFile], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.child = child;
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        running.delete(child);
        if (this.child === child) this.child = null;
        resolve();
      }),
    );
    // Its client port open is enough for a single server; a cluster waits on the meta group too.
    await eventually(
      async () => {
        if (!this.child) throw new Error(`nats-server ${this.name} exited at start-up:\n${this.logTail()}`);
        return (await portOpen(this.spec.port)) && (await this.jsz()) !== null;
      },
      30_000,
      50,
    );
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    // A clean shutdown that hangs (it should not) ends as a crash.
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** The server's /jsz, or null while it does not answer. */
  async jsz(): Promise<Jsz | null> {
    try {
      const res = await fetch(`${this.monitorUrl}/jsz`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? ((await res.json()) as Jsz) : null;
    } catch {
      return null;
    }
  }

  logTail(lines = 40): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

export interface PrivateNats extends PrivateNatsServer {
  /** Stops the server and removes its temp dir. */
  cleanup(): Promise<void>;
}

/** One private nats-server with JetStream, started. */
export async function startPrivateNats(opts: { name?: string } = {}): Promise<PrivateNats> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-nats-'));
  const server = new NatsProcess({ name: opts.name ?? 'private', dir, port: await freePort(), httpPort: await freePort() });
  const cleanup = async () => {
    await server.stop('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await server.start();
  } catch (err) {
    await cleanup();
    throw err;
  }
  return Object.assign(server, { cleanup });
}

export interface PrivateNatsCluster {
  nodes: PrivateNatsServer[];
  /** Every node's client URL, comma-separated (what services take as NATS_URL). */
  urls: string;
  /**
   * Resolves once a JetStream meta leader is elected and every running node sees all the
   * others as current peers (after a start, or a node's restart).
   */
  waitForMetaLeader(timeoutMs?: number): Promise<string>;
  /** Stops every node and removes their temp dirs. */
  cleanup(): Promise<void>;
}

/**
 * A JetStream cluster of `size` nodes on loopback (`n1`..`nN`, each with its own store dir),
 * routed to each other, started and with a meta leader elected. Streams and KV buckets may then
 * have up to `size` replicas.
 */
export async function startPrivateNatsCluster(opts: { size?: number; name?: string } = {}): Promise<PrivateNatsCluster> {
  const size = opts.size ?? 3;
  const name = opts.name ?? 'chat-test';
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-nats-cluster-'));
  const clusterPorts: number[] = [];
  for (let i = 0; i < size; i++) clusterPorts.push(await freePort());
  const nodes: NatsProcess[] = [];
  for (let i = 0; i < size; i++)
    nodes.push(
      new NatsProcess({
        name: `n${i + 1}`,
        dir: path.join(root, `n${i + 1}`),
        port: await freePort(),
        httpPort: await freePort(),
        cluster: { name, port: clusterPorts[i], routes: clusterPorts.filter((_, j) => j !== i) },
      }),
    );
  const cleanup = async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    fs.rmSync(root, { recursive: true, force: true });
  };
  const waitForMetaLeader = async (timeoutMs = 60_000): Promise<string> =>
    eventually(
      async () => {
        const up = nodes.filter((n) => n.running);
        const views = await Promise.all(up.map((n) => n.jsz()));
        const leaders = new Set(views.map((v) => v?.meta_cluster?.leader));
        if (leaders.size !== 1) return null;
        const [leader] = leaders;
        if (!leader) return null;
        // Every running node agrees on the leader, and the leader sees the others as current peers.
        const leaderView = views[up.findIndex((n) => n.name === leader)];
        if (!leaderView) return null;
        const ok = up
          .filter((n) => n.name !== leader)
          .every((n) => leaderView.meta_cluster?.replicas?.some((r) => r.name === n.name && r.current));
        return ok ? leader : null;
      },
      timeoutMs,
      200,
    );
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await waitForMetaLeader();
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { nodes, urls: nodes.map((n) => n.url).join(','), waitForMetaLeader, cleanup };
}
