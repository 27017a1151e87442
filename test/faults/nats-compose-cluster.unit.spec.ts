import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

// The launcher's list of services: the compose files must run every one of them.
const { SERVICES } = require('../../scripts/stack.cjs') as typeof import('../../scripts/stack.cjs');

/**
 * docker-compose.cluster.yml cannot be run here (no Docker engine on the test machines), so its
 * consistency is checked by reading it: three NATS servers that really form one JetStream
 * cluster, two instances of every service configured for it, and nothing that the single-server
 * docker-compose.yml sets forgotten.
 */

interface ComposeService {
  image?: string;
  command?: string | string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

const read = (file: string): Compose => parse(fs.readFileSync(path.join(__dirname, '../..', file), 'utf8'), { merge: true }) as Compose;
const cluster = read('docker-compose.cluster.yml');
const single = read('docker-compose.yml');

/** `--flag value` pairs of a nats-server command line (`-js` and other bare flags map to ''). */
function flags(command: string | string[] | undefined): Record<string, string> {
  const words = Array.isArray(command) ? command : (command ?? '').split(/\s+/).filter(Boolean);
  const out: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    if (!words[i].startsWith('-')) continue;
    const next = words[i + 1];
    out[words[i]] = next !== undefined && !next.startsWith('-') ? words[++i] : '';
  }
  return out;
}

const natsNodes = Object.entries(cluster.services).filter(([, s]) => s.image?.startsWith('nats:'));
/** The instances running each chat service: name -> count (deploy.replicas, or one per entry). */
const instances = (c: Compose): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const s of Object.values(c.services)) {
    const service = s.environment?.SERVICE;
    if (service) counts[service] = (counts[service] ?? 0) + (s.deploy?.replicas ?? 1);
  }
  return counts;
};
const chatServices = Object.entries(cluster.services).filter(([, s]) => s.environment?.SERVICE);

describe('docker-compose.cluster.yml - consistent by reading (no Docker engine here to run it)', () => {
  it('three NATS 2.9 servers with JetStream, distinct names and volumes, in one cluster, each routed to the other two', () => {
    expect(natsNodes.map(([name]) => name)).toHaveLength(3);
    const names = natsNodes.map(([name]) => name);
    const clusterPort = new Map<string, string>();
    for (const [name, s] of natsNodes) {
      const f = flags(s.command);
      expect(s.image).toBe(single.services.nats.image);
      expect(f).toEqual(expect.objectContaining({ '-js': '', '-sd': '/data', '--server_name': name, '--cluster_name': 'chat' }));
      clusterPort.set(name, new URL(f['--cluster']).port);
      // Its own named volume holds its store.
      expect(s.volumes).toEqual([`${name}-data:/data`]);
      expect(cluster.volumes).toHaveProperty(`${name}-data`);
      expect(s.healthcheck?.test.join(' ')).toContain(`:${f['-m']}/healthz`);
    }
    for (const [name, s] of natsNodes) {
      const routes = flags(s.command)
        ['--routes'].split(',')
        .map((r) => new URL(r));
      // Routes name the other two servers, each at the port its cluster listener has.
      expect(routes.map((r) => r.hostname).sort()).toEqual(names.filter((n) => n !== name).sort());
      for (const r of routes) expect(r.port).toBe(clusterPort.get(r.hostname));
    }
  });

  it('two instances of every service, each connected to all three servers with three replicas', () => {
    expect(Object.keys(instances(cluster)).sort()).toEqual([...SERVICES].sort());
    for (const service of SERVICES) expect([service, instances(cluster)[service]]).toEqual([service, 2]);
    const natsUrls = natsNodes.map(([name]) => `nats://${name}:4222`).sort();
    for (const [name, s] of chatServices) {
      const env = s.environment!;
      expect([name, env.NATS_URL.split(',').sort()]).toEqual([name, natsUrls]);
      expect([name, Number(env.NATS_REPLICAS)]).toEqual([name, natsNodes.length]);
      expect([name, env.NATS_NAMESPACE]).toEqual([name, 'chat']);
      // Started once every NATS server is healthy.
      for (const [node] of natsNodes) expect([name, s.depends_on?.[node]]).toEqual([name, { condition: 'service_healthy' }]);
      // The health check asks the port the service listens on.
      expect(s.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${env.HTTP_PORT}/health/ready`);
    }
  });

  it('every service gets what docker-compose.yml gives it (besides NATS_URL), so the two files do not drift apart', () => {
    const singleEnv = new Map(
      Object.values(single.services).flatMap((s) => (s.environment?.SERVICE ? [[s.environment.SERVICE, s.environment]] : [])),
    );
    for (const [name, s] of chatServices) {
      const mine = { ...s.environment };
      const theirs = { ...singleEnv.get(s.environment!.SERVICE) };
      delete mine.NATS_URL;
      delete mine.NATS_REPLICAS;
      delete theirs.NATS_URL;
      expect([name, mine]).toEqual([name, theirs]);
    }
    // The database is the single file's, and history depends on it being healthy.
    expect(cluster.services.postgres).toEqual(single.services.postgres);
    for (const [name, s] of chatServices.filter(([, x]) => x.environment?.SERVICE === 'history'))
      expect([name, s.depends_on?.postgres]).toEqual([name, { condition: 'service_healthy' }]);
  });

  it('the gateways publish distinct host ports and share the JWT secret', () => {
    const gateways = chatServices.filter(([, s]) => s.environment?.SERVICE === 'gateway').map(([, s]) => s);
    expect(gateways).toHaveLength(2);
    const hostPorts = gateways.map((g) => g.ports?.[0]?.replace(/:3000$/, ''));
    expect(new Set(hostPorts).size).toBe(2);
    expect(gateways[0].environment?.JWT_SECRET).toBe(gateways[1].environment?.JWT_SECRET);
    // Only the gateways are published.
    for (const [name, s] of chatServices) if (s.environment?.SERVICE !== 'gateway') expect([name, s.ports]).toEqual([name, undefined]);
  });

  it('every named volume used is declared', () => {
    const used = Object.values(cluster.services).flatMap((s) => (s.volumes ?? []).map((v) => v.split(':')[0]));
    expect(Object.keys(cluster.volumes).sort()).toEqual([...new Set(used)].sort());
  });
});
