import type { EntityManager } from 'typeorm';
import type { Mention } from '@chat/contracts';
import { searchVector } from '../search/tokenize';
import { foldChanges, type ChangeKind, type ChangeRecord, type Folded, type MessageRecord, type StoredState } from './messages.plan';

/**
 * The SQL side of the message lifecycle (see the comment at the top of messages.plan.ts): the
 * change log, folding logged changes into stored rows, and the rows that follow a message's
 * text (message_mentions) and reactions (message_reactions). Everything here runs inside the
 * batch transaction and is idempotent: running it again with the same log writes nothing new.
 */

/** The search vector of a live message's text (tsvector literal, cast in SQL). */
export const searchOf = (body: string) => searchVector(body);

/** Adds the message_mentions rows of freshly inserted posts, and folds in changes logged before them. */
export async function afterInsert(em: EntityManager, schema: string, inserted: MessageRecord[]): Promise<void> {
  if (!inserted.length) return;
  await insertMentions(
    em,
    schema,
    inserted.map((m) => ({ roomId: m.roomId, position: m.position, mentions: m.mentions })),
  );
  // Usually none: a change that committed before its post (out-of-order batches), or one of a
  // post a late room event lets stand again.
  const pending: Array<{ message_id: string }> = await em.query(
    `SELECT DISTINCT message_id FROM ${schema}.message_changes WHERE message_id = ANY($1::uuid[])`,
    [inserted.map((m) => m.messageId)],
  );
  if (pending.length) await fold(em, schema, { whole: pending.map((p) => p.message_id), changes: [] });
}

/** Removes what follows a message that left `messages` (dropped by the posting rule): its mentions and reactions. */
export async function afterRemoval(
  em: EntityManager,
  schema: string,
  removed: Array<{ messageId: string; roomId: string; position: number }>,
) {
  if (!removed.length) return;
  await em.query(
    `DELETE FROM ${schema}.message_mentions x USING unnest($1::text[], $2::bigint[]) AS r(room_id, position)
      WHERE x.room_id = r.room_id AND x.position = r.position`,
    [removed.map((r) => r.roomId), removed.map((r) => r.position)],
  );
  await em.query(`DELETE FROM ${schema}.message_reactions WHERE message_id = ANY($1::uuid[])`, [removed.map((r) => r.messageId)]);
}

/** Writes changes to the log; returns the positions logged for the first time (not redeliveries). */
export async function logChanges(em: EntityManager, schema: string, changes: ChangeRecord[]): Promise<Set<number>> {
  if (!changes.length) return new Set();
  const written: Array<{ position: string }> = await em.query(
    `INSERT INTO ${schema}.message_changes (position, message_id, room_id, kind, user_id, username, body, mentions, emoji, reason, time)
     SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::jsonb[], $9::text[], $10::text[], $11::timestamptz[])
     ON CONFLICT (position) DO NOTHING RETURNING position`,
    [
      changes.map((c) => c.position),
      changes.map((c) => c.messageId),
      changes.map((c) => c.roomId),
      changes.map((c) => c.kind),
      changes.map((c) => c.userId),
      changes.map((c) => c.username),
      changes.map((c) => c.body),
      changes.map((c) => (c.mentions ? JSON.stringify(c.mentions) : null)),
      changes.map((c) => c.emoji),
      changes.map((c) => c.reason),
      changes.map((c) => c.time),
    ],
  );
  return new Set(written.map((w) => Number(w.position)));
}

interface ChangeSqlRow {
  position: string;
  message_id: string;
  room_id: string;
  kind: ChangeKind;
  user_id: string;
  username: string | null;
  body: string | null;
  mentions: Mention[] | null;
  emoji: string | null;
  reason: 'author' | 'moderator' | null;
  time: Date;
}

const toChange = (r: ChangeSqlRow): ChangeRecord => ({
  kind: r.kind,
  position: Number(r.position),
  messageId: r.message_id,
  roomId: r.room_id,
  userId: r.user_id,
  username: r.username,
  body: r.body,
  mentions: r.mentions,
  emoji: r.emoji,
  reason: r.reason,
  time: r.time,
});

/**
 * Recomputes stored messages from the log: `whole` messages with all their changes (a post just
 * inserted), and for `changes` (a batch's, already logged) their messages' edits and deletions
 * plus the reactions of the (emoji, user) keys they touch. Unknown messages are skipped: their
 * changes wait in the log for the post. Returns the positions of changes that do not hold.
 */
export async function fold(em: EntityManager, schema: string, scope: { whole: string[]; changes: ChangeRecord[] }): Promise<number[]> {
  const reactionKeys = scope.changes.filter((c) => c.emoji !== null);
  const ids = [...new Set([...scope.whole, ...scope.changes.map((c) => c.messageId)])];
  if (!ids.length) return [];
  const stored: Array<{
    message_id: string;
    room_id: string;
    position: string;
    sender_id: string;
    edit_position: string | null;
    delete_position: string | null;
  }> = await em.query(
    `SELECT message_id, room_id, position, sender_id, edit_position, delete_position FROM ${schema}.messages WHERE message_id = ANY($1::uuid[])`,
    [ids],
  );
  if (!stored.length) return [];
  const known = stored.map((r) => r.message_id);
  const logged: ChangeSqlRow[] = await em.query(
    `SELECT * FROM ${schema}.message_changes WHERE message_id = ANY($1::uuid[])
     UNION
     SELECT * FROM ${schema}.message_changes WHERE message_id = ANY($2::uuid[]) AND emoji IS NULL
     UNION
     SELECT c.* FROM unnest($3::uuid[], $4::text[], $5::uuid[]) AS k(message_id, emoji, user_id)
       JOIN ${schema}.message_changes c ON c.message_id = k.message_id AND c.emoji = k.emoji AND c.user_id = k.user_id`,
    [
      scope.whole.filter((id) => known.includes(id)),
      known,
      reactionKeys.map((c) => c.messageId),
      reactionKeys.map((c) => c.emoji),
      reactionKeys.map((c) => c.userId),
    ],
  );
  const byMessage = new Map<string, ChangeRecord[]>();
  for (const r of logged) byMessage.set(r.message_id, [...(byMessage.get(r.message_id) ?? []), toChange(r)]);
  const results: Array<{ state: StoredState & { position: number }; folded: Folded }> = stored.map((r) => {
    const state = {
      messageId: r.message_id,
      roomId: r.room_id,
      position: Number(r.position),
      senderId: r.sender_id,
      editPosition: r.edit_position === null ? null : Number(r.edit_position),
      deletePosition: r.delete_position === null ? null : Number(r.delete_position),
    };
    return { state, folded: foldChanges(state, byMessage.get(r.message_id) ?? []) };
  });
  await writeFolded(em, schema, results);
  return results.flatMap((r) => r.folded.ignored);
}

async function writeFolded(
  em: EntityManager,
  schema: string,
  results: Array<{ state: StoredState & { position: number }; folded: Folded }>,
) {
  const deletions = results.filter((r) => r.folded.writeDeletion);
  if (deletions.length) {
    const d = deletions.map((r) => ({ ...r.state, del: r.folded.deletion! }));
    await em.query(
      `UPDATE ${schema}.messages m
          SET body = '', mentions = '[]', search = NULL, reply_to = NULL, reply_snapshot = NULL, edited_at = NULL, edit_position = NULL,
              deleted_at = d.time, deleted_by = d.by, deleted_by_name = d.by_name, delete_reason = d.reason, delete_position = d.position
         FROM unnest($1::uuid[], $2::timestamptz[], $3::uuid[], $4::text[], $5::text[], $6::bigint[]) AS d(message_id, time, by, by_name, reason, position)
        WHERE m.message_id = d.message_id`,
      [
        d.map((x) => x.messageId),
        d.map((x) => x.del.time),
        d.map((x) => x.del.userId),
        d.map((x) => x.del.username),
        d.map((x) => x.del.reason),
        d.map((x) => x.del.position),
      ],
    );
    await afterRemoval(em, schema, d);
  }
  const edits = results.filter((r) => r.folded.writeEdit).map((r) => ({ ...r.state, edit: r.folded.edit! }));
  if (edits.length) {
    await em.query(
      `UPDATE ${schema}.messages m
          SET body = e.body, mentions = e.mentions, search = e.search::tsvector, edited_at = e.time, edit_position = e.position
         FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::timestamptz[], $6::bigint[]) AS e(message_id, body, mentions, search, time, position)
        WHERE m.message_id = e.message_id`,
      [
        edits.map((x) => x.messageId),
        edits.map((x) => x.edit.body ?? ''),
        edits.map((x) => JSON.stringify(x.edit.mentions ?? [])),
        edits.map((x) => searchOf(x.edit.body ?? '')),
        edits.map((x) => x.edit.time),
        edits.map((x) => x.edit.position),
      ],
    );
    await em.query(
      `DELETE FROM ${schema}.message_mentions x USING unnest($1::text[], $2::bigint[]) AS r(room_id, position)
        WHERE x.room_id = r.room_id AND x.position = r.position`,
      [edits.map((x) => x.roomId), edits.map((x) => x.position)],
    );
    await insertMentions(
      em,
      schema,
      edits.map((x) => ({ roomId: x.roomId, position: x.position, mentions: x.edit.mentions ?? [] })),
    );
  }
  const reactions = results.flatMap((r) => r.folded.reactions);
  if (reactions.length) {
    // Computed from every logged event of each key, so the newest state always carries the
    // highest position; the guard only keeps a stale computation from winning.
    await em.query(
      `INSERT INTO ${schema}.message_reactions (message_id, emoji, user_id, username, active, position, first_position)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::boolean[], $6::bigint[], $7::bigint[])
       ON CONFLICT (message_id, emoji, user_id) DO UPDATE
          SET username = excluded.username, active = excluded.active, position = excluded.position, first_position = excluded.first_position
        WHERE message_reactions.position <= excluded.position`,
      [
        reactions.map((r) => r.messageId),
        reactions.map((r) => r.emoji),
        reactions.map((r) => r.userId),
        reactions.map((r) => r.username),
        reactions.map((r) => r.active),
        reactions.map((r) => r.position),
        reactions.map((r) => r.firstPosition),
      ],
    );
  }
}

async function insertMentions(
  em: EntityManager,
  schema: string,
  messages: Array<{ roomId: string; position: number; mentions: Mention[] }>,
) {
  const rows = messages.flatMap((m) => m.mentions.map((x) => ({ userId: x.userId, roomId: m.roomId, position: m.position })));
  if (!rows.length) return;
  await em.query(
    `INSERT INTO ${schema}.message_mentions (user_id, room_id, position)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING`,
    [rows.map((r) => r.userId), rows.map((r) => r.roomId), rows.map((r) => r.position)],
  );
}
