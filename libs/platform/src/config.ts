import 'reflect-metadata';
import { IsBoolean, IsIn, IsInt, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';
import { NAMESPACE_PATTERN, usernameKey } from '@chat/contracts';

/**
 * Typed configuration. A config class lists its settings as properties named after their
 * environment variables, each with a documented default and class-validator rules. Values
 * come from the environment, are converted to the default's type and validated at start-up;
 * anything wrong stops the service with one message naming every bad setting.
 */
export class BaseConfig {
  /** Comma-separated NATS server URLs. @default nats://127.0.0.1:4222 */
  @IsString()
  @MinLength(1)
  NATS_URL = 'nats://127.0.0.1:4222';
  /** Prefix of every subject, stream and bucket; lets deployments share a NATS server. @default chat */
  @Matches(NAMESPACE_PATTERN, { message: `NATS_NAMESPACE must match ${NAMESPACE_PATTERN}` })
  NATS_NAMESPACE = 'chat';
  /**
   * Copies of every stream and KV bucket in a JetStream cluster (1-5; at most the number of
   * JetStream servers). Applied to existing streams and buckets at start-up too. Every service
   * of a deployment should get the same value. @default 1
   */
  @IsInt()
  @Min(1)
  @Max(5)
  NATS_REPLICAS = 1;
  /** Port of the service's HTTP server (health, metrics; the gateway's API and WebSocket). */
  @IsInt()
  @Min(0)
  @Max(65535)
  HTTP_PORT = 0;
  /** Address the HTTP server binds to. @default 0.0.0.0 */
  @IsString()
  HTTP_HOST = '0.0.0.0';
  /** @default info */
  @IsIn(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
  LOG_LEVEL = 'info';
  /**
   * Coalesce the service's NATS writes per event-loop turn (one writev for every publish, reply
   * and ack of a turn instead of one write each): less CPU per message in the service and in
   * NATS, at the price of holding a turn's writes until its end. @default true
   */
  @IsBoolean()
  NATS_COALESCE_WRITES = true;
  /**
   * Timing spans of every message, hop by hop (RPC waits and handlers, JetStream appends,
   * store to consumer, store to gateway): a histogram `chat_span_seconds{span}` on /metrics and,
   * at LOG_LEVEL=debug, a log line per span. Costs a little CPU per message; for finding where
   * time goes (bench/spans.mjs), not for everyday running. @default false
   */
  @IsBoolean()
  TRACE_SPANS = false;
  /** Timeout of request/reply calls between services, in ms. @default 5000 */
  @IsInt()
  @Min(100)
  @Max(120_000)
  RPC_TIMEOUT_MS = 5000;
  /**
   * Usernames of server administrators, comma-separated: they delete any message as a
   * moderator, read every room's statistics and the retention runs. Every service of a
   * deployment should get the same list. @default (none)
   */
  @IsString()
  @Matches(/^[^\s,][^,]*(,[^,]+)*$|^$/, { message: 'SERVER_ADMINS must be comma-separated usernames' })
  SERVER_ADMINS = '';
}

/** Whether `username` is one of the configured server administrators (names compared as canonical keys). */
export function isServerAdmin(config: Pick<BaseConfig, 'SERVER_ADMINS'>, username: string): boolean {
  if (!config.SERVER_ADMINS) return false;
  const key = usernameKey(username);
  return config.SERVER_ADMINS.split(',').some((name) => usernameKey(name.trim()) === key);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig<T extends object>(cls: new () => T, env: Record<string, string | undefined> = process.env): T {
  const cfg = new cls() as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(cfg)) {
    const raw = env[key];
    if (raw === undefined || raw === '') continue;
    const def = cfg[key];
    if (typeof def === 'number') {
      const n = Number(raw);
      if (!/^-?\d+(\.\d+)?$/.test(raw.trim()) || !Number.isFinite(n)) problems.push(`${key}: "${raw}" is not a number`);
      else cfg[key] = n;
    } else if (typeof def === 'boolean') {
      if (!['true', 'false', '1', '0'].includes(raw)) problems.push(`${key}: "${raw}" is not true/false`);
      else cfg[key] = raw === 'true' || raw === '1';
    } else {
      cfg[key] = raw;
    }
  }
  const errors = validateSync(cfg as object);
  for (const e of errors)
    problems.push(...Object.values(e.constraints ?? {}).map((m) => (m.startsWith(e.property) ? m : `${e.property}: ${m}`)));
  if (problems.length) throw new ConfigError(problems);
  return cfg as T;
}
