import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { Subjects } from '@chat/contracts';

export type StreamSpec = Partial<StreamConfig> & Pick<StreamConfig, 'name' | 'subjects'>;

const NANOS_PER_MS = 1_000_000;

/**
 * Every stream of the system, declared once. `ensureStreams` creates or updates them at start-up
 * in every service that needs them, so the order in which services start does not matter.
 *
 * - CHAT is the source of truth for rooms and messages. It keeps everything (retention by policy
 *   comes later, as a purge per room subject). Messages are de-duplicated by `Nats-Msg-Id` within
 *   the duplicate window; longer-lived idempotency is the message-id KV bucket's job.
 * - PRESENCE keeps only the latest status per user (max 1 message per subject): that is "last seen".
 * Both republish every stored message to `ns.live.…` with the stream sequence in headers, so
 * gateways can follow exactly the rooms their users are in with plain subscriptions.
 */
export function streamSpecs(s: Subjects): StreamSpec[] {
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
      duplicate_window: 120_000 * NANOS_PER_MS,
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
  ];
}
