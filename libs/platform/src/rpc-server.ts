import { Logger } from '@nestjs/common';
import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  ChatError,
  RpcHeaders,
  RpcRequestDtos,
  fail,
  rpcService,
  validateInput,
  type Result,
  type RpcName,
  type Subjects,
} from '@chat/contracts';
import { Spans, decodeJson, encodeJson } from '@chat/messaging';
import { randomUUID } from 'node:crypto';

/** Context handed to RPC handlers (`@Ctx() ctx: RpcCallContext`). */
export class RpcCallContext extends BaseRpcContext<[string, string]> {
  constructor(subject: string, correlationId: string) {
    super([subject, correlationId]);
  }
  get subject(): string {
    return this.args[0];
  }
  get correlationId(): string {
    return this.args[1];
  }
}

/** A handler's return value that is already a reply (success or typed failure). */
function isResult(v: unknown): v is Result<unknown> {
  return typeof v === 'object' && v !== null && 'ok' in v && typeof (v as { ok: unknown }).ok === 'boolean';
}

/**
 * A Nest microservice transport for our request/reply operations. Handlers are declared with
 * `@MessagePattern(Rpc.roomsPost)` (a logical name from contracts); this transport subscribes
 * to the namespaced subject for each, in a queue group named after the service, so replicas
 * share the load. Every request is validated against its DTO class before the handler runs;
 * a handler returns a `Result` (or a plain value = success) or throws `ChatError`. Anything
 * else becomes INTERNAL and is logged, so a bad request can never crash the service.
 *
 * Why not Nest's built-in NATS transport: its subjects are fixed when the decorators run,
 * while ours carry a configured namespace, and we want one connection per service shared
 * with JetStream, typed error replies, and validation at the edge of every service.
 */
export class NatsRpcServer extends Server implements CustomTransportStrategy {
  private readonly subs: Subscription[] = [];
  private readonly inflight = new Set<Promise<void>>();
  protected override readonly logger = new Logger('Rpc');

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
  ) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    for (const pattern of this.messageHandlers.keys()) {
      const name = pattern as RpcName;
      if (!(name in RpcRequestDtos)) throw new Error(`@MessagePattern("${pattern}") is not an operation declared in contracts`);
      const sub = this.nc.subscribe(this.subjects.rpc(name), { queue: rpcService(name) });
      this.subs.push(sub);
      void (async () => {
        for await (const msg of sub) {
          const p = this.handle(name, msg).finally(() => this.inflight.delete(p));
          this.inflight.add(p);
        }
      })();
    }
    callback();
  }

  private async handle(name: RpcName, msg: Msg): Promise<void> {
    // From the caller's publish to here: NATS, and this process's event loop being busy.
    Spans.sinceSent(`rpc.wait ${name}`, msg.headers);
    const t0 = Spans.start();
    const reply = (r: Result<unknown>) => {
      if (msg.reply) msg.respond(encodeJson(r));
    };
    const raw = decodeJson(msg.data);
    if (raw === undefined) return reply(fail('BAD_REQUEST', 'request is not valid JSON'));
    const valid = validateInput(RpcRequestDtos[name] as new () => object, raw);
    if (!valid.ok) return reply(valid);
    const correlationId = msg.headers?.get(RpcHeaders.correlationId) || randomUUID();
    const handler = this.messageHandlers.get(name)!;
    try {
      let out: unknown = await handler(valid.data, new RpcCallContext(msg.subject, correlationId));
      if (isObservable(out)) out = await lastValueFrom(out);
      reply(isResult(out) ? out : { ok: true, data: out });
      Spans.end(`rpc.handle ${name}`, t0);
    } catch (err) {
      if (err instanceof ChatError) return reply({ ok: false, error: err.toBody() });
      const error = err instanceof Error ? err.message : JSON.stringify(err);
      this.logger.error({ msg: 'rpc handler failed', op: name, correlationId, error, stack: (err as Error)?.stack });
      reply(fail('INTERNAL', 'internal error; nothing was changed'));
    }
  }

  async close(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
    await Promise.allSettled([...this.inflight]);
  }

  on(): never {
    throw new Error('NatsRpcServer does not emit events');
  }
  unwrap<T>(): T {
    return this.nc as T;
  }
}
