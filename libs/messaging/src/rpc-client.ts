import { headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import {
  ChatError,
  RpcHeaders,
  fail,
  rpcService,
  type ErrorBody,
  type Result,
  type RpcName,
  type RpcRequest,
  type RpcResponse,
  type Subjects,
} from '@chat/contracts';
import { decodeJson, encodeJson } from './codec';
import { Spans } from './spans';

function isResult(v: unknown): v is Result<unknown> {
  return typeof v === 'object' && v !== null && 'ok' in v && typeof (v as { ok: unknown }).ok === 'boolean';
}

export interface RpcCallOptions {
  correlationId?: string;
  timeoutMs?: number;
}

/** Typed request/reply client. Never throws: transport failures become UNAVAILABLE results. */
export class RpcClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly defaultTimeoutMs = 5000,
  ) {}

  async call<N extends RpcName>(name: N, data: RpcRequest<N>, opts: RpcCallOptions = {}): Promise<Result<RpcResponse<N>>> {
    const h = natsHeaders();
    if (opts.correlationId) h.set(RpcHeaders.correlationId, opts.correlationId);
    Spans.stamp(h);
    const t0 = Spans.start();
    let msg: Msg;
    try {
      msg = await this.nc.request(this.subjects.rpc(name), encodeJson(data), {
        timeout: opts.timeoutMs ?? this.defaultTimeoutMs,
        headers: h,
      });
    } catch (err) {
      const text = String((err as Error)?.message ?? err);
      const noResponders = /no responders|503/i.test(text) || (err as { code?: string })?.code === '503';
      return fail(
        'UNAVAILABLE',
        noResponders ? `the ${rpcService(name)} service is not running` : `the ${rpcService(name)} service did not answer in time`,
      );
    }
    Spans.end(`rpc.call ${name}`, t0);
    const body = decodeJson(msg.data);
    if (!isResult(body)) return fail('INTERNAL', `malformed reply from ${rpcService(name)}`);
    return body as Result<RpcResponse<N>>;
  }

  /** Like `call`, but throws ChatError on failure: for code paths that just propagate errors. */
  async callOrThrow<N extends RpcName>(name: N, data: RpcRequest<N>, opts: RpcCallOptions = {}): Promise<RpcResponse<N>> {
    const r = await this.call(name, data, opts);
    if (!r.ok) throw new ChatError(r.error.code, r.error.message, (r.error as ErrorBody).details);
    return r.data;
  }
}
