// What is half-typed in the composer, kept per room: switching rooms puts the text away and
// brings back the other room's, so a draft never follows the user into another room (where
// Enter would post it). Kept in memory and in sessionStorage under the user and the room, so a
// reload of the tab keeps it too; another user on the same tab never sees it. Pure apart from
// the storage it is given (unit-tested with a Map).

export interface DraftStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const PREFIX = 'chat.draft';

export class Drafts {
  private readonly texts = new Map<string, string>();

  constructor(private readonly storage: DraftStorage | null) {}

  private key(userId: string, roomId: string) {
    return `${PREFIX}.${userId}.${roomId}`;
  }

  /** Keeps `text` as the room's draft; an empty (or blank) text forgets it. */
  save(userId: string, roomId: string, text: string): void {
    const key = this.key(userId, roomId);
    if (!text.trim()) {
      this.texts.delete(key);
      this.tryStorage((s) => s.removeItem(key));
      return;
    }
    this.texts.set(key, text);
    this.tryStorage((s) => s.setItem(key, text));
  }

  /** The room's draft ('' when none). */
  load(userId: string, roomId: string): string {
    const key = this.key(userId, roomId);
    const kept = this.texts.get(key);
    if (kept !== undefined) return kept;
    let stored: string | null = null;
    this.tryStorage((s) => (stored = s.getItem(key)));
    return stored ?? '';
  }

  clear(userId: string, roomId: string): void {
    this.save(userId, roomId, '');
  }

  /** Storage may be full or disabled: the draft then lives in memory only. */
  private tryStorage(fn: (s: DraftStorage) => void) {
    if (!this.storage) return;
    try {
      fn(this.storage);
    } catch {
      // memory only
    }
  }
}
