import 'reflect-metadata';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NatsConnection } from '@nats-io/transport-node';
import { createSubjects } from '@chat/contracts';
import { JetStreamAdapter, RpcClient, Spans, connectNats, streamSpecs, type StreamOptions } from '@chat/messaging';
import { Histogram, type Registry } from 'prom-client';
import { ConfigError, loadConfig, type BaseConfig } from './config';
import { ChatErrorFilter } from './errors.filter';
import { HealthRegistry, MetricsRegistry } from './health';
import { PinoNestLogger, createLogger } from './logger';
import { PlatformModule, type PlatformDeps } from './platform.module';
import { NatsRpcServer } from './rpc-server';

export interface ServiceDefinition<C extends BaseConfig> {
  /** Service name: log field, NATS connection name, RPC queue group. */
  name: string;
  config: C;
  /** Builds the service's root module around the platform module. */
  module: (platform: DynamicModule, deps: PlatformDeps) => DynamicModule;
  /** Stream settings this service owns (see StreamOptions); other services leave them as they are. */
  streams?: StreamOptions;
  /** Serve `@MessagePattern` handlers over NATS request/reply. */
  rpc?: boolean;
  /** Last chance to configure the Nest app before it listens (body limits, static files...). */
  configure?: (app: INestApplication, deps: PlatformDeps) => void | Promise<void>;
}

export interface RunningService {
  app: INestApplication;
  nc: NatsConnection;
  deps: PlatformDeps;
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a service: connects to NATS, makes sure every stream exists, boots the Nest app with
 * its health/metrics endpoints, attaches the RPC transport and listens. Used by each `main.ts`
 * and by integration tests (with HTTP_PORT=0 and a random namespace).
 */
export async function startService<C extends BaseConfig>(def: ServiceDefinition<C>): Promise<RunningService> {
  const logger = createLogger(def.name, def.config.LOG_LEVEL);
  const nc = await connectNats({
    servers: def.config.NATS_URL,
    name: def.name,
    log: (level, msg, extra) => logger[level]({ ...extra }, msg),
    coalesceWrites: def.config.NATS_COALESCE_WRITES,
  });
  let natsUp = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') natsUp = false;
      if (s.type === 'reconnect') natsUp = true;
    }
  })().catch(() => undefined);

  const subjects = createSubjects(def.config.NATS_NAMESPACE);
  const js = new JetStreamAdapter(nc, (level, msg, extra) => logger[level]({ ...extra }, msg), { replicas: def.config.NATS_REPLICAS });
  await js.ensureStreams(streamSpecs(subjects, def.streams));
  const rpc = new RpcClient(nc, subjects, def.config.RPC_TIMEOUT_MS);
  const deps: PlatformDeps = { service: def.name, config: def.config, nc, js, subjects, rpc, logger };

  const app = await NestFactory.create(def.module(PlatformModule.forRoot(deps), deps), {
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
  });
  app.get(HealthRegistry).register('nats', () => natsUp && !nc.isClosed());
  if (def.config.TRACE_SPANS) enableSpans(app.get(MetricsRegistry).registry, logger);
  app.useGlobalFilters(new ChatErrorFilter());
  await def.configure?.(app, deps);
  // Run every module's start-up hooks (replays, KV buckets, migrations) before the RPC
  // transport takes requests: otherwise a restarted replica would answer from empty state.
  await app.init();
  if (def.rpc) {
    // Nest wires a microservice's handlers when it is connected, so the filter must be global
    // on the app first and inherited.
    app.connectMicroservice({ strategy: new NatsRpcServer(nc, subjects) }, { inheritAppConfig: true });
    await app.startAllMicroservices();
  }
  await app.listen(def.config.HTTP_PORT, def.config.HTTP_HOST);
  const addr = app.getHttpServer().address();
  const port = typeof addr === 'object' && addr ? addr.port : def.config.HTTP_PORT;
  const url = `http://127.0.0.1:${port}`;
  logger.info({ url, namespace: subjects.namespace }, `${def.name} started`);

  let closed = false;
  return {
    app,
    nc,
    deps,
    url,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      await nc.drain().catch(() => undefined);
    },
  };
}

/**
 * Turns timing spans on for this process (TRACE_SPANS, see @chat/messaging spans.ts): each span
 * is observed in `chat_span_seconds{span}` and, at debug level, logged. The buckets go from
 * 50 µs to 10 s because a hop on an idle machine takes tens of µs and one under overload seconds.
 */
function enableSpans(registry: Registry, logger: ReturnType<typeof createLogger>) {
  const seconds = new Histogram({
    name: 'chat_span_seconds',
    help: 'Timing spans of messages between and inside services (TRACE_SPANS=true), by span',
    labelNames: ['span'],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const debug = logger.isLevelEnabled('debug');
  Spans.enable((span, ms) => {
    seconds.observe({ span }, ms / 1000);
    if (debug) logger.debug({ span, ms: Math.round(ms * 1000) / 1000 }, 'span');
  });
}

/** Entry point helper for `main.ts`: config errors and start-up failures exit non-zero. */
export function runMain<C extends BaseConfig>(
  name: string,
  configClass: new () => C,
  define: (config: C) => Omit<ServiceDefinition<C>, 'config' | 'name'>,
) {
  let config: C;
  try {
    config = loadConfig(configClass);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  startService({ name, config, ...define(config) })
    .then((svc) => {
      let stopping = false;
      // Ctrl-C reaches a service directly and through its launcher (SIGINT, then SIGTERM or the
      // IPC channel closing): only the first starts the shutdown, the others must not cut it short.
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        svc.deps.logger.info({ signal }, `${name} stopping`);
        svc.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      // Started by our launcher (scripts/stack.cjs: ./chat start, the e2e tests, the benchmark)
      // the process has an IPC channel to it. The OS closes that channel when the launcher dies,
      // even by SIGKILL, so the service stops with it instead of living on as an orphan holding
      // its port. Processes started any other way (Docker, systemd) have no channel.
      if (process.channel) {
        process.channel.unref();
        process.once('disconnect', () => stop('launcher exited'));
      }
    })
    .catch((err) => {
      process.stderr.write(`${name}: failed to start: ${err?.stack ?? err}\n`);
      process.exit(1);
    });
}
