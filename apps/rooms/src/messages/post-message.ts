import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import { ChatError, type MessagePosted, type PostAck, type PostMessageRpc, type Subjects } from '@chat/contracts';
import { JetStreamAdapter, RpcClient, decodeJson, encodeJson } from '@chat/messaging';
import { CONFIG, SUBJECTS } from '@chat/platform';
import type { RoomsConfig } from '../config';
import { decidePost } from '../room/room.decide';
import { RoomStore } from '../room/room.store';
import { idempotencyKey, messageIdFor, type AcceptedMessage } from './idempotency';

/**
 * The send path: membership and post policy (the room aggregate), moderation (request/reply
 * to the moderation service; if it does not answer, the message is refused, not let through),
 * then one append to `…room.<id>.msg`. The acknowledgement carries the message id and the
 * stream position; a retry with the same clientMsgId returns the original acknowledgement.
 */
@Injectable()
export class PostMessageHandler implements OnModuleInit {
  private accepted!: KV;
  private readonly log = new Logger(PostMessageHandler.name);

  constructor(
    private readonly store: RoomStore,
    private readonly js: JetStreamAdapter,
    private readonly rpc: RpcClient,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) private readonly config: RoomsConfig,
  ) {}

  async onModuleInit() {
    // Records expire with the bucket's max age (NATS 2.9 has no per-message TTL; 2.11's would
    // let a record carry its own). Every replica sets the same age from its config at start-up.
    this.accepted = await this.js.kv(this.s.kv.messageIds, { history: 1, ttl: this.config.MESSAGE_ID_TTL_HOURS * 3_600_000 });
  }

  async post(req: PostMessageRpc, correlationId: string): Promise<PostAck> {
    const key = idempotencyKey(req.roomId, req.userId, req.clientMsgId);
    const messageId = messageIdFor(key);
    const ctx = { now: () => new Date(), newId: () => messageId, actor: { kind: 'user' as const, id: req.userId }, correlationId };
    const draft = { roomId: req.roomId, userId: req.userId, username: req.username, clientMsgId: req.clientMsgId, messageId, body: req.body };

    // The idempotency lookup and the moderation verdict are independent round trips: start
    // both at once (this is the latency of every send). Moderation is only asked once the
    // sender may post here, so a non-member learns nothing about the filter.
    const seenP = this.accepted.get(key);
    const refusal = this.refusal(draft, ctx);
    const allowed = refusal === null;
    let verdictP = allowed ? this.moderate(req, correlationId) : null;
    verdictP?.catch(() => undefined); // awaited below unless this turns out to be a retry
    const seen = await seenP;
    if (seen?.value?.length) {
      const prior = decodeJson(seen.value) as AcceptedMessage;
      return { messageId: prior.messageId, roomId: req.roomId, clientMsgId: req.clientMsgId, position: prior.position, time: prior.time, duplicate: true };
    }
    if (refusal) {
      // Not a member / no such room may come from a stale copy (a join on another replica
      // that this one has not applied yet): catch up and decide again before refusing.
      if (refusal.code !== 'NOT_MEMBER' && refusal.code !== 'NOT_FOUND') throw refusal;
      await this.catchUpAndAuthorize(draft, ctx);
      verdictP = this.moderate(req, correlationId);
    }
    const verdict = await verdictP!;
    if (verdict.verdict === 'reject') throw new ChatError('CONTENT_BLOCKED', verdict.reason);

    const event = decidePost(this.store.get(req.roomId), { ...draft, body: verdict.body }, ctx);
    const r = await this.appendOrUnavailable(req.roomId, event, key);
    // Within the duplicate window a retry racing the first send lands here: report the original.
    const time = r.duplicate ? await this.originalTime(r.seq, event.time) : event.time;
    this.remember(key, { messageId, position: r.seq, time });
    return { messageId, roomId: req.roomId, clientMsgId: req.clientMsgId, position: r.seq, time, duplicate: r.duplicate };
  }

  private moderate(req: PostMessageRpc, correlationId: string) {
    return this.rpc.callOrThrow('moderation.check', { roomId: req.roomId, senderId: req.userId, body: req.body }, { correlationId });
  }

  /**
   * Records the accepted message for retries that come after JetStream's duplicate window.
   * Not awaited: the append's ack already makes the message durable, and until this write
   * lands (milliseconds) the stream's own de-duplication answers a retry. A failed write is
   * retried a few times and then logged.
   */
  private remember(key: string, record: AcceptedMessage, attempt = 1): void {
    this.accepted.put(key, encodeJson(record)).catch((err) => {
      if (attempt < 5) setTimeout(() => this.remember(key, record, attempt + 1), 100 * attempt);
      else this.log.error({ msg: 'could not record an accepted message id; a retry after the duplicate window would post it again', key, error: String(err) });
    });
  }

  /** null when the sender may post here, else the refusal (checked after the retry lookup). */
  private refusal(draft: Parameters<typeof decidePost>[1], ctx: Parameters<typeof decidePost>[2]): ChatError | null {
    try {
      decidePost(this.store.get(draft.roomId), draft, ctx);
      return null;
    } catch (err) {
      if (err instanceof ChatError) return err;
      throw err;
    }
  }

  private async catchUpAndAuthorize(draft: Parameters<typeof decidePost>[1], ctx: Parameters<typeof decidePost>[2]): Promise<void> {
    const latest = await this.store.latestVersion(draft.roomId);
    if (latest > (this.store.get(draft.roomId)?.version ?? 0)) await this.store.waitForVersion(draft.roomId, latest);
    decidePost(this.store.get(draft.roomId), draft, ctx); // throws the real refusal
  }

  /**
   * A publish that fails without an answer (timeout, connection lost) may still have been
   * stored; the client is told to retry with the same clientMsgId, which is safe by design.
   */
  private async appendOrUnavailable(roomId: string, event: MessagePosted, key: string) {
    try {
      return await this.js.append(this.s.chat.roomMessages(roomId), event, { msgId: key });
    } catch (err) {
      throw new ChatError('UNAVAILABLE', `the message may not have been stored (${(err as Error).message}); retry with the same clientMsgId`);
    }
  }

  private async originalTime(seq: number, fallback: string): Promise<string> {
    const jsm = await this.js.manager();
    const m = await jsm.streams.getMessage(this.s.streams.chat.name, { seq }).catch(() => null);
    const original = m ? (decodeJson(m.data) as MessagePosted | undefined) : undefined;
    return original?.time ?? fallback;
  }
}
