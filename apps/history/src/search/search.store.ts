import type { MessageView } from '@chat/contracts';
import { toStoredMessage, viewColumns, type StoredLifecycleRow } from '../messages/message.sql-row';
import { MessageQueries } from '../messages/messages.store';
import { toView } from '../messages/page';
import type { HistoryStore } from '../store/history.store';

/** What narrows a search besides the query (SearchRequest, validated by the DTO). */
export interface SearchFilter {
  userId: string;
  /** A room the caller may read (checked before), or undefined: every room they may read. */
  roomId?: string;
  senderId?: string;
  from?: string;
  to?: string;
  order: 'newest' | 'relevance';
  offset: number;
  limit: number;
}

/** A message that matched, as it is now, with the name of its room as the caller sees it. */
export interface SearchRow {
  message: MessageView;
  roomName: string;
}

/**
 * Reads for message.search. The query is a `tsquery` literal (query.ts) bound as a parameter;
 * no user text is ever part of the SQL.
 *
 * The rooms the caller may read are the membership read model's: rooms where their
 * room_members row says member (conversations included: both participants are members of the
 * direct room), not deleted. A public room they have not joined is not searched, as the
 * protocol says. Deleted messages have `search` NULL, so they never match; an edit replaced
 * `search` with the new body's vector, so edited-away text never matches either.
 *
 * Plans, checked with EXPLAIN ANALYZE on 1,000,000 generated messages in 2,000 rooms
 * (Postgres 15; numbers in bench/search-notes.md), for a caller in 20 rooms (1% of the
 * messages) and one in every room:
 * - The caller's rooms are read first (room_members_user_idx) and bound as an array
 *   parameter, so the planner plans with the real list (per-room statistics). Written as
 *   `room_id IN (SELECT …)` in the same statement it looped over the rooms and scanned the GIN
 *   index once per room (20 scans of the term's posting list: 90-400 ms).
 * - The hits come from one Bitmap Index Scan on messages_search_idx (GIN), AND-ed with
 *   messages_room_position_idx when the caller's rooms are a small part of the table, then a
 *   top-N sort: 7-18 ms for CJK bigrams, single characters and common words (1-2% of all
 *   messages) for the 20-room caller; a rare or absent term is under 1 ms for everyone.
 * - Left alone, the planner sometimes walks the position index backwards, filtering each row,
 *   hoping to meet offset+limit hits early. For a caller who can read most rooms and a term
 *   that is rare or absent that reads the whole table (1.4 s at 1M rows for a term with no
 *   hit), because it cannot know how rare a lexeme outside its statistics is. So the order is
 *   written `position + 0`, which no index provides: the cost follows the term's hits, never
 *   the table's size.
 * - For a caller who reads nearly everything and a common term that means sorting many hits
 *   (100-290 ms for 1-2% terms, 630 ms for a character in half the messages). So `newest`
 *   first searches the newest RECENT_WINDOW positions (`position > top - window`, one more
 *   bitmap from messages_position_key) and only goes further back when they do not fill the
 *   page: 8-37 ms for those queries, 160 ms for the half-the-messages character.
 * - `relevance` has to rank every hit in the caller's rooms (ts_rank_cd reads the stored
 *   vector, no re-parsing): 7-14 ms for the 20-room caller, up to 840 ms for the half-the-
 *   messages character for the everything-reader; it is the order to use with a rarer term.
 */
/** Stream positions `newest` searches first (see SearchQueries.search). */
export const RECENT_WINDOW = 50_000;

export class SearchQueries {
  /** history.page's decorations (reactions, current quotes), so a hit looks as the message does in its room. */
  private readonly messages: MessageQueries;

  constructor(
    private readonly store: HistoryStore,
    private readonly recentWindow = RECENT_WINDOW,
  ) {
    this.messages = new MessageQueries(store);
  }

  async search(tsquery: string, f: SearchFilter): Promise<SearchRow[]> {
    const s = this.store.schema;
    const found = await this.store.read(async (qr) => {
      // Step 1: the rooms the caller may read, with their names as the caller sees them.
      const readable: Array<{ room_id: string; room_name: string | null }> = await qr.query(
        `SELECT me.room_id,
                CASE WHEN r.kind = 'direct'
                     THEN (SELECT p.username FROM ${s}.room_members p WHERE p.room_id = me.room_id AND p.user_id <> me.user_id LIMIT 1)
                     ELSE r.name END AS room_name
           FROM ${s}.room_members me
           JOIN ${s}.rooms r ON r.room_id = me.room_id AND NOT r.deleted
          WHERE me.user_id = $1 AND me.member ${f.roomId !== undefined ? 'AND me.room_id = $2' : ''}`,
        f.roomId !== undefined ? [f.userId, f.roomId] : [f.userId],
      );
      if (!readable.length) return { rows: [], names: new Map<string, string>() };
      const names = new Map(readable.map((r) => [r.room_id, r.room_name ?? r.room_id]));
      // Step 2: the hits among them (see the class comment for the plans). `newest` first looks
      // in the newest `recentWindow` positions only, and reads the rest only when those do not
      // fill the page: the same answer, since everything outside the window is older.
      const hits = (floor: number | null): Promise<StoredLifecycleRow[]> => {
        const params: unknown[] = [readable.map((r) => r.room_id), tsquery];
        const param = (value: unknown) => {
          params.push(value);
          return `$${params.length}`;
        };
        const where: string[] = [];
        if (f.senderId !== undefined) where.push(`AND m.sender_id = ${param(f.senderId)}::uuid`);
        if (f.from !== undefined) where.push(`AND m.created_at >= ${param(f.from)}::timestamptz`);
        if (f.to !== undefined) where.push(`AND m.created_at < ${param(f.to)}::timestamptz`);
        if (floor !== null) where.push(`AND m.position > ${param(floor)}`);
        // `position + 0`: never walk the position index backwards hoping to meet the hits early
        // (see the class comment). Relevance: ts_rank_cd (more matches, and closer together,
        // rank higher), then newest.
        const order = f.order === 'relevance' ? 'ts_rank_cd(m.search, $2::tsquery) DESC, m.position DESC' : 'm.position + 0 DESC';
        return qr.query(
          `SELECT ${viewColumns('m')}
             FROM ${s}.messages m
            WHERE m.room_id = ANY ($1::text[]) AND m.search @@ $2::tsquery ${where.join(' ')}
            ORDER BY ${order}
           OFFSET ${param(f.offset)} LIMIT ${param(f.limit)}`,
          params,
        );
      };
      let rows: StoredLifecycleRow[] | null = null;
      if (f.order === 'newest') {
        const [{ top }]: Array<{ top: string | null }> = await qr.query(`SELECT max(position) AS top FROM ${s}.messages`);
        const floor = Number(top ?? 0) - this.recentWindow;
        if (floor > 0) {
          const recent = await hits(floor);
          if (recent.length === f.limit) rows = recent;
        }
      }
      rows ??= await hits(null);
      return { rows: rows.map(toStoredMessage), names };
    });
    // Hits are drawn as history.page draws messages: the quoted message as it is now ('' once
    // deleted), the reactions (deleted messages never match: their vector is NULL).
    const decorations = await this.messages.decorations(found.rows);
    return found.rows.map((m) => ({ roomName: found.names.get(m.roomId) ?? m.roomId, message: toView(m, decorations) }));
  }
}
