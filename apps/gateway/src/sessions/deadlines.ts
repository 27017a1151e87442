/**
 * Deadlines of many items (one per item) on a shared clock instead of one `setTimeout` each: a
 * timer wheel of `tickMs` slots. A deadline goes into the slot that ends at or after it, so an
 * item is never due early and at most one tick late. Per item: one entry in a Set and one in a
 * Map, against a Timeout object, its closure and context per timer. Pure: the owner calls
 * `advance(now)` from its one interval (see Sessions).
 */
export class Deadlines<T> {
  /** slot -> items due in it (slot s covers deadlines in ((s - 1) * tickMs, s * tickMs]). */
  private readonly buckets = new Map<number, Set<T>>();
  private readonly slotOf = new Map<T, number>();
  /** Every slot up to this one has been handled. */
  private doneUpTo: number;

  constructor(
    private readonly tickMs: number,
    private readonly onDue: (item: T) => void,
    nowMs: number,
  ) {
    this.doneUpTo = Math.floor(nowMs / tickMs);
  }

  get size(): number {
    return this.slotOf.size;
  }

  has(item: T): boolean {
    return this.slotOf.has(item);
  }

  /** Sets the item's deadline (replacing any it had); one already past is due at the next `advance`. */
  schedule(item: T, atMs: number): void {
    this.cancel(item);
    const slot = Math.max(Math.ceil(atMs / this.tickMs), this.doneUpTo + 1);
    let bucket = this.buckets.get(slot);
    if (!bucket) this.buckets.set(slot, (bucket = new Set()));
    bucket.add(item);
    this.slotOf.set(item, slot);
  }

  cancel(item: T): void {
    const slot = this.slotOf.get(item);
    if (slot === undefined) return;
    this.slotOf.delete(item);
    const bucket = this.buckets.get(slot);
    if (bucket?.delete(item) && bucket.size === 0) this.buckets.delete(slot);
  }

  /**
   * Calls `onDue` for every item whose slot has ended by `nowMs`, earliest slot first, each item
   * once (it no longer has a deadline when called, so `onDue` may schedule it again, or cancel
   * other items).
   */
  advance(nowMs: number): void {
    const upTo = Math.floor(nowMs / this.tickMs);
    if (upTo <= this.doneUpTo) return;
    // Few slots passed (the usual tick): look each up. Many (a stalled event loop): scan the buckets.
    const slots: number[] = [];
    if (upTo - this.doneUpTo <= this.buckets.size) {
      for (let s = this.doneUpTo + 1; s <= upTo; s++) if (this.buckets.has(s)) slots.push(s);
    } else {
      for (const s of this.buckets.keys()) if (s <= upTo) slots.push(s);
      slots.sort((a, b) => a - b);
    }
    this.doneUpTo = upTo;
    for (const slot of slots) {
      const bucket = this.buckets.get(slot);
      if (!bucket) continue;
      this.buckets.delete(slot);
      for (const item of bucket) {
        // Cancelled (or moved) by an earlier onDue of this round.
        if (this.slotOf.get(item) !== slot) continue;
        this.slotOf.delete(item);
        this.onDue(item);
      }
    }
  }
}
