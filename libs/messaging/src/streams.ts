import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { Subjects } from '@chat/contracts';

export type StreamSpec = Partial<StreamConfig> & Pick<StreamConfig, 'name' | 'subjects'>;

const NANOS_PER_MS = 1_000_000;

/** Settings of the streams that belong to one service's configuration. */
export interface StreamOptions {
  /**
   * The CHAT stream's duplicate window in ms. Only rooms (the service that appends messages
   * with a `Nats-Msg-Id`) sets it, from its `MESSAGE_DEDUP_WINDOW_MS`. Services that leave it
   * out never change it: on an existing stream the update keeps the window it has, and a stream
   * they create gets the server's default window (2 min, the same as rooms' default). So a
   * gateway starting after rooms does not set the window back.
   */
  chatDuplicateWindowMs?: number;
}

/**
 * Every stream of the system, declared once. `ensureStreams` creates or updates them at start-up
 * in every service that needs them, so the order in which services start does not matter.
 *
 * - CHAT is the source of truth for rooms and messages. It keeps everything (retention by policy
 *   comes later, as a purge per room subject). Messages are de-duplicated by `Nats-Msg-Id` within
 *   the duplicate window (rooms' `MESSAGE_DEDUP_WINDOW_MS`, 2 min by default); longer-lived
 *   idempotency is the message-id KV bucket's job.
 * - PRESENCE keeps only the latest status per user (max 1 message per subject): that is "last seen".
 * Both republish every stored message to `ns.live.…` with the stream sequence in headers, so
 * gateways can follow exactly the rooms their users are in with plain subscriptions.
 */
export function streamSpecs(s: Subjects, opts: StreamOptions = {}): StreamSpec[] {
  const chat = s.streams.chat;
  const presence = s.streams.presence;
  return [
    {
      name: chat.name,
      subjects: chat.subjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      // Absent, not undefined: ensureStreams spreads the spec over the stream's config.
      ...(opts.chatDuplicateWindowMs === undefined ? {} : { duplicate_window: opts.chatDuplicateWindowMs * NANOS_PER_MS }),
      republish: s.live.republishOf(chat.subjects[0]),
    },
    {
      name: s.streams.accounts.name,
      subjects: s.streams.accounts.subjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: 120_000 * NANOS_PER_MS,
    },
    {
      name: presence.name,
      subjects: presence.subjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_msgs_per_subject: 1,
      duplicate_window: 30_000 * NANOS_PER_MS,
      republish: s.live.republishOf(presence.subjects[0]),
    },
    {
      // MODERATION: filters, roles, sanctions, strikes, reports: small, kept in full (it is the audit log).
      name: s.streams.moderation.name,
      subjects: s.streams.moderation.subjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: 120_000 * NANOS_PER_MS,
    },
  ];
}
