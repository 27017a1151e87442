import type { EntityManager } from 'typeorm';

/** A message the projection has just stored for the first time (its INSERT happened in this transaction). */
export interface PostedMessage {
  roomId: string;
  senderId: string;
  senderName: string;
  createdAt: Date;
}

/**
 * PLACEHOLDER (replaced by the statistics work): adds freshly stored messages to the statistics
 * tables inside the batch transaction. The messages read model calls it with exactly the rows
 * its INSERT … RETURNING reported, so a redelivered event is never counted twice.
 */
export async function countPosts(_em: EntityManager, _schema: string, _messages: PostedMessage[]): Promise<void> {}
