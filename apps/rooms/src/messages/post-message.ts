import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatError, type MessagePosted, type PostAck, type PostMessageRpc, type ReplyRef, type Subjects } from '@chat/contracts';
import { AppendRefused, JetStreamAdapter, RpcClient, Spans, decodeJson, type AppendResult, type KvBucket } from '@chat/messaging';
import { CONFIG, SUBJECTS } from '@chat/platform';
import type { RoomsConfig } from '../config';
import { decidePost } from '../room/room.decide';
import { RoomStore } from '../room/room.store';
import { acceptedFrom, idempotencyKey, type AcceptedMessage } from './idempotency';
import { MessageIdRecorder } from './message-id-recorder';
import { MessageLookup } from './message-lookup';
import { SlowModeClock } from './slow-mode';
import { replyRefOf } from './message.decide';
import { acceptedBody, checkRequest } from './moderation-verdict';

/**
 * Pauses before each re-publish of a send whose first publish got no answer. The time after the
 * first publish within which a re-publish may start is the recorder's `republishWindowMs` (10 s
 * with the default duplicate window). See appendOrUnavailable.
 */
const REPUBLISH_DELAYS_MS = [250, 1000, 2500];

/**
 * The send path: membership and post policy (the room aggregate), moderation (request/reply
 * to the moderation service; if it does not answer, the message is refused, not let through),
 * then one append to `…room.<id>.msg`. A reply quotes its message as history holds it
 * (`history.message`, asked alongside moderation); mentions are worked out from the body.
 * The acknowledgement carries the message id and the stream position; a retry with the same
 * clientMsgId returns the original acknowledgement.
 * Every accepted message gets a fresh random id; retries are recognised by the idempotency
 * key (the append's `Nats-Msg-Id` and the KV key), and answered with the id of the original.
 * The KV records are written by the MessageIdRecorder from the stream, never here.
 */
@Injectable()
export class PostMessageHandler implements OnModuleInit {
  private accepted!: KvBucket;
  private readonly log = new Logger(PostMessageHandler.name);

  constructor(
    private readonly store: RoomStore,
    private readonly js: JetStreamAdapter,
    private readonly rpc: RpcClient,
    private readonly recorder: MessageIdRecorder,
    private readonly messages: MessageLookup,
    private readonly slowMode: SlowModeClock,
    @Inject(SUBJECTS) private readonly s: Subjects,
    @Inject(CONFIG) private readonly config: RoomsConfig,
  ) {}

  async onModuleInit() {
    // Same options as the recorder's: whichever opens the bucket first creates it.
    this.accepted = await this.js.kv(this.s.kv.messageIds, { history: 1, ttl: this.config.MESSAGE_ID_TTL_HOURS * 3_600_000 });
  }

  async post(req: PostMessageRpc, correlationId: string): Promise<PostAck> {
    const key = idempotencyKey(req.roomId, req.userId, req.clientMsgId);
    // Not derived from the key: once the key's KV record has expired the same clientMsgId is
    // accepted as a new message, which must not share the old one's id (history keys on it).
    const messageId = randomUUID();
    const ctx = { now: () => new Date(), newId: () => messageId, actor: { kind: 'user' as const, id: req.userId }, correlationId };
    const draft = {
      roomId: req.roomId,
      userId: req.userId,
      username: req.username,
      clientMsgId: req.clientMsgId,
      messageId,
      body: req.body,
      // Slow mode's last post of this sender here; a retry of a stored message is answered
      // below before any refusal, so a resend is never held back by its own original.
      lastPostMs: this.slowMode.lastPost(req.roomId, req.userId),
    };

    // The idempotency lookup, the moderation verdict and the quoted message are independent
    // round trips: start them at once (this is the latency of every send). Moderation and
    // history are only asked once the sender may post here, so a non-member learns nothing
    // about the filter or the room's messages.
    // Taken before the lookup: a record written after the lookup missed it does not help this send.
    const recorded = this.recorder.mark();
    const lookupStarted = Spans.start();
    const seenP = this.accepted.get(key);
    if (lookupStarted) void seenP.finally(() => Spans.end('post.lookup', lookupStarted)).catch(() => undefined);
    const refusal = this.refusal(draft, ctx);
    const allowed = refusal === null;
    let verdictP = allowed ? this.moderate(req, correlationId) : null;
    let quotedP = allowed ? this.quoted(req, correlationId) : null;
    // Awaited below unless this turns out to be a retry.
    verdictP?.catch(() => undefined);
    quotedP?.catch(() => undefined);
    const seen = await seenP;
    if (seen?.value?.length) {
      const prior = decodeJson(seen.value) as AcceptedMessage;
      return {
        messageId: prior.messageId,
        roomId: req.roomId,
        clientMsgId: req.clientMsgId,
        position: prior.position,
        time: prior.time,
        duplicate: true,
      };
    }
    if (refusal) {
      // Not a member / no such room may come from a stale copy (a join on another replica
      // that this one has not applied yet): catch up and decide again before refusing.
      if (refusal.code !== 'NOT_MEMBER' && refusal.code !== 'NOT_FOUND') throw refusal;
      await this.catchUpAndAuthorize(draft, ctx);
      verdictP = this.moderate(req, correlationId);
      quotedP = this.quoted(req, correlationId);
      verdictP.catch(() => undefined);
    }
    // A missing quoted message is refused before moderation's verdict (docs/protocol.md).
    const replyTo = await quotedP!;
    const body = acceptedBody(await verdictP!);

    const event = decidePost(this.store.get(req.roomId), { ...draft, body, replyTo }, ctx);
    // Beyond the duplicate window only the record tells a retry: while an earlier message with
    // this key may be older than that and still unrecorded, appending could store it twice.
    this.recorder.assertFresh(recorded, key);
    const r = await this.appendOrUnavailable(req.roomId, event, key);
    // A duplicate ack means a message with this key is stored at r.seq: a retry racing this send
    // inside the duplicate window stored it, or this send's own publish did when it went
    // unanswered and was published again. Its id (and time) are read from the stream: this
    // send's id is only the message's id if this send stored it.
    const accepted = r.duplicate ? await this.storedAt(req.roomId, r.seq) : { messageId, position: r.seq, time: event.time };
    this.slowMode.note(req.roomId, req.userId, accepted.time);
    return { ...accepted, roomId: req.roomId, clientMsgId: req.clientMsgId, duplicate: accepted.messageId !== messageId };
  }

  private moderate(req: PostMessageRpc, correlationId: string) {
    return this.rpc.callOrThrow('moderation.check', checkRequest(this.store.get(req.roomId), req, 'post'), { correlationId });
  }

  /** The snapshot a reply carries of the message it answers; null when it is not a reply. */
  private async quoted(req: PostMessageRpc, correlationId: string): Promise<ReplyRef | null> {
    if (!req.replyTo) return null;
    return replyRefOf(await this.messages.find(req.roomId, req.replyTo, req.userId, correlationId), req.roomId, req.replyTo);
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
    if (latest > this.store.versionOf(draft.roomId)) await this.store.waitForVersion(draft.roomId, latest);
    decidePost(this.store.get(draft.roomId), draft, ctx); // throws the real refusal
  }

  /**
   * A publish that fails without an answer (timeout, connection lost) may or may not have been
   * stored. So the same event is published again with the same `Nats-Msg-Id`: whether the first
   * one was stored or not, an ack then gives the position (duplicate: it was), and the client
   * gets an answer. The re-publishes are few and start within the recorder's republishWindowMs
   * of the first (at most a quarter of the duplicate window), so they can never store a second
   * copy. (If none is answered, the recorder still records whatever was stored.) With
   * fast failures (no connection, no responders) they fit within the caller's RPC timeout
   * (5 s by default); after a publish timeout (nats.js waits 5 s) the gateway has already
   * answered UNAVAILABLE and the re-publish still settles the outcome. A refusal by the server (an API error) is a known outcome: not stored.
   */
  private async appendOrUnavailable(roomId: string, event: MessagePosted, key: string): Promise<AppendResult> {
    const subject = this.s.chat.roomMessages(roomId);
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.js.append(subject, event, { msgId: key });
      } catch (err) {
        const message = (err as Error).message;
        if (err instanceof AppendRefused && attempt === 0)
          throw new ChatError('UNAVAILABLE', `the message was not stored (${message}); retry with the same clientMsgId`);
        const delay = REPUBLISH_DELAYS_MS[attempt];
        if (err instanceof AppendRefused || delay === undefined || Date.now() + delay - started > this.recorder.timing.republishWindowMs) {
          this.log.error({
            msg: 'send outcome unknown after re-publishing; the client must retry with the same clientMsgId',
            key,
            attempts: attempt + 1,
            error: message,
          });
          throw new ChatError('UNAVAILABLE', `the message may or may not have been stored (${message}); retry with the same clientMsgId`);
        }
        this.log.warn({ msg: 'publish got no answer; publishing the same message again', key, attempt: attempt + 1, error: message });
        await sleep(delay);
      }
    }
  }

  /** The message stored at a position on the room's subject (the original of a duplicate). */
  private async storedAt(roomId: string, seq: number): Promise<AcceptedMessage> {
    const m = await this.js.nextOnSubject(this.s.streams.chat.name, this.s.chat.roomMessages(roomId), seq).catch((err: Error) => {
      throw new ChatError(
        'UNAVAILABLE',
        `the message is stored but could not be read back (${err.message}); retry with the same clientMsgId`,
      );
    });
    const original = m?.seq === seq ? acceptedFrom(m.data, seq) : null;
    if (!original) {
      this.log.error({ msg: 'the original of a duplicate send is not a readable message', roomId, position: seq });
      throw new ChatError('UNAVAILABLE', 'the message is stored but could not be read back; retry with the same clientMsgId');
    }
    return original;
  }
}
