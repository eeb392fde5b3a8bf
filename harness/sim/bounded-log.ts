/**
 * An append-only log that keeps its newest entries: an emulated board lives for a whole run
 * (a nightly, a sweep worker), so its device events, power history and fired faults must not
 * grow without bound. Past `max` entries the oldest half goes. `count` (entries ever
 * appended) is a mark that survives dropping: `since(mark)` gives what came after it and how
 * much of that was dropped, which is what a test's evidence needs.
 */
export class BoundedLog<T> {
  #items: T[] = [];
  /** Entries appended before `#items[0]`, dropped to keep the log bounded. */
  #dropped = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 2)
      throw new RangeError(`BoundedLog max must be an integer ≥ 2, got ${max}`);
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.max) {
      const drop = this.#items.length - Math.floor(this.max / 2);
      this.#items.splice(0, drop);
      this.#dropped += drop;
    }
  }

  /** The entries kept, oldest first (at most `max`). */
  get items(): readonly T[] {
    return this.#items;
  }

  /** How many entries were ever appended. */
  get count(): number {
    return this.#dropped + this.#items.length;
  }

  /** The entries appended since `mark` (an earlier `count`), and how many of those were dropped. */
  since(mark: number): { items: readonly T[]; dropped: number } {
    const from = mark - this.#dropped;
    return from >= 0
      ? { items: this.#items.slice(from), dropped: 0 }
      : { items: this.#items.slice(), dropped: -from };
  }
}
