import 'reflect-metadata';
import { JetStreamApiError, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ChatError, createSubjects, type Subjects } from '@chat/contracts';
import { BaseConfig, loadConfig } from '@chat/platform';

/**
 * One deployment as the admin tool reaches it: the services' own settings (NATS_URL,
 * NATS_NAMESPACE, SERVER_ADMINS from the environment, read and validated by the same
 * BaseConfig), one NATS connection and its JetStream handles. The tool speaks to JetStream's
 * API directly (stream and consumer info, raw messages with headers for backups): that is its
 * job, unlike the services, which go through @chat/messaging's adapter.
 */
export interface Deployment {
  config: BaseConfig;
  s: Subjects;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  close(): Promise<void>;
}

export function adminConfig(env: Record<string, string | undefined> = process.env): BaseConfig {
  return loadConfig(BaseConfig, env);
}

/**
 * Connects once, without reconnecting for ever as a service would: an operator's command that
 * cannot reach NATS should say so within seconds (UNAVAILABLE), not hang.
 */
export async function openDeployment(config: BaseConfig, namespace = config.NATS_NAMESPACE): Promise<Deployment> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: config.NATS_URL.split(',')
        .map((u) => u.trim())
        .filter(Boolean),
      name: 'chat-admin',
      timeout: 5000,
      maxReconnectAttempts: 3,
    });
  } catch (err) {
    throw new ChatError('UNAVAILABLE', `cannot reach NATS at ${config.NATS_URL}: ${(err as Error).message}`);
  }
  const jsm = await jetstreamManager(nc, { timeout: config.RPC_TIMEOUT_MS });
  return {
    config,
    s: createSubjects(namespace),
    nc,
    js: jetstream(nc, { timeout: config.RPC_TIMEOUT_MS }),
    jsm,
    close: () => nc.drain().catch(() => nc.close()),
  };
}

/** JetStream API error codes the tool acts on. */
export const ApiCode = { streamNotFound: 10059, consumerNotFound: 10014, noMessageFound: 10037, wrongLastSequence: 10071 } as const;

/** The JetStream API error code of a refusal by the server; undefined for anything else (timeouts, connection). */
export const apiCodeOf = (err: unknown): number | undefined => (err instanceof JetStreamApiError ? err.code : undefined);
