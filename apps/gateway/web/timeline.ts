import type { MessageView } from '@chat/contracts';

// The messages of one room as this page knows them: kept in stream-position order and
// de-duplicated by messageId, whatever order they arrive in (history pages, live events,
// send acknowledgements and resends can all deliver the same message).

export class Timeline {
  /** Ascending by position. */
  messages: MessageView[] = [];
  readonly ids = new Set<string>();
  /** Cursor for the next older page; undefined until the first page is loaded, null when there is nothing older. */
  nextBefore: number | null | undefined = undefined;
  /** false when live events may have been missed (never loaded, or the socket dropped since). */
  fresh = false;
  loadingOlder = false;
  /** The catch-up in progress, if any (one at a time per room). */
  catchingUp: Promise<void> | null = null;

  constructor(readonly roomId: string) {}

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
    this.fresh = false;
  }
}
