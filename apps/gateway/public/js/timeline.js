// The messages of one room as this page knows them: kept in stream-position order and
// de-duplicated by messageId, whatever order they arrive in (history pages, live events,
// send acknowledgements and resends can all deliver the same message).

export class Timeline {
  constructor(roomId) {
    this.roomId = roomId;
    /** @type {Array<{messageId:string, position:number}>} ascending by position */
    this.messages = [];
    this.ids = new Set();
    /** Cursor for the next older page; undefined until the first page is loaded, null when there is nothing older. */
    this.nextBefore = undefined;
    /** false when live events may have been missed (never loaded, or the socket dropped since). */
    this.fresh = false;
    this.loadingOlder = false;
  }

  /** Inserts in position order; returns the index, or -1 when the message is already here. */
  insert(message) {
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

  get newestPosition() {
    return this.messages.length ? this.messages[this.messages.length - 1].position : 0;
  }

  get oldestPosition() {
    return this.messages.length ? this.messages[0].position : 0;
  }

  clear() {
    this.messages = [];
    this.ids.clear();
    this.nextBefore = undefined;
    this.fresh = false;
  }
}
