import type { MessageView } from '@chat/contracts';

// The messages of one room as this page knows them: kept in stream-position order and
// de-duplicated by messageId, whatever order they arrive in (history pages, live events,
// send acknowledgements and resends can all deliver the same message).
//
// A timeline is either attached (it reaches the room's newest message, and live messages are
// appended) or, after opening a message in context (a reply's quote, a search hit, a date),
// detached: a window somewhere in the past, extended by pages before and after it. Live
// messages that arrive meanwhile are held and added once paging down reaches the present.
// A long room is kept to a window of messages (trim): paging far back detaches it the same way.

export class Timeline {
  /** Ascending by position. */
  messages: MessageView[] = [];
  readonly ids = new Set<string>();
  /** Cursor for the next older page; undefined until the first page is loaded, null when there is nothing older. */
  nextBefore: number | null | undefined = undefined;
  /** Cursor for the next newer page while detached; null when the timeline reaches the newest message. */
  nextAfter: number | null = null;
  /** Live messages received while detached, added when the timeline reaches the present again. */
  held: MessageView[] = [];
  /** false when live events may have been missed (never loaded, or the socket dropped since). */
  fresh = false;
  loadingOlder = false;
  loadingNewer = false;
  /** The catch-up in progress, if any (one at a time per room). */
  catchingUp: Promise<void> | null = null;
  /** The "new messages" line goes above the first message after this position (null: none). */
  dividerAfter: number | null = null;

  constructor(readonly roomId: string) {}

  get detached(): boolean {
    return this.nextAfter !== null;
  }

  /** Inserts in position order; returns the index, or -1 when the message is already here. */
  insert(message: MessageView): number {
    if (this.ids.has(message.messageId)) return -1;
    let lo = 0;
    let hi = this.messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.messages[mid].position < message.position) lo = mid + 1;
      else hi = mid;
    }
    this.messages.splice(lo, 0, message);
    this.ids.add(message.messageId);
    return lo;
  }

  find(messageId: string): MessageView | undefined {
    return this.ids.has(messageId) ? this.messages.find((m) => m.messageId === messageId) : undefined;
  }

  /**
   * Takes a newer copy of a message already here (a history page shows it as it is now),
   * keeping what only moves one way: a deletion stays, and a later edit is not undone by a
   * page read before it. Returns the message as kept, or undefined when it is not here.
   */
  refresh(copy: MessageView): MessageView | undefined {
    const m = this.find(copy.messageId);
    if (!m) return undefined;
    if (m.deleted) return m;
    const olderEdit = !!m.editedAt && (!copy.editedAt || copy.editedAt < m.editedAt);
    Object.assign(
      m,
      olderEdit && !copy.deleted ? { ...copy, body: m.body, mentions: m.mentions, html: m.html, editedAt: m.editedAt } : copy,
    );
    return m;
  }

  /**
   * Keeps at most `max` messages, dropping the far side from where the reader is going: the
   * newest when they page back (`keep: 'older'`), the oldest when they page forward or follow the
   * live end (`keep: 'newer'`). The cursor on the dropped side is moved so the dropped messages
   * are read again when scrolled back to; dropping the newest detaches the timeline (live
   * messages are then held, as when reading in the past). Returns what was dropped.
   */
  trim(max: number, keep: 'older' | 'newer'): MessageView[] {
    const excess = this.messages.length - max;
    if (excess <= 0) return [];
    const dropped = keep === 'older' ? this.messages.splice(max) : this.messages.splice(0, excess);
    for (const m of dropped) this.ids.delete(m.messageId);
    if (keep === 'older') this.nextAfter = this.newestPosition;
    else this.nextBefore = this.oldestPosition;
    return dropped;
  }

  get newestPosition(): number {
    return this.messages.length ? this.messages[this.messages.length - 1].position : 0;
  }

  get oldestPosition(): number {
    return this.messages.length ? this.messages[0].position : 0;
  }

  clear(): void {
    this.messages = [];
    this.ids.clear();
    this.nextBefore = undefined;
    this.nextAfter = null;
    this.held = [];
    this.fresh = false;
  }
}
