// A FIFO of numbers with O(1) amortised push and shift, for the requests waiting for a free connection.
// Array.prototype.shift copies the whole array once V8 keeps it in large-object space (beyond about 16k entries),
// and an overloaded server can leave millions of due requests waiting: at 1M entries one shift costs ~100 µs, which
// would slow the generator exactly when it must keep up. Here a head index advances, and the consumed front is cut
// off only when it is at least half the array, so each entry is copied at most once on average.
export class NumberFifo {
  private items: number[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(value: number): void {
    this.items.push(value);
  }

  /** The oldest value, or undefined when empty. */
  shift(): number | undefined {
    if (this.head >= this.items.length) return undefined;
    const value = this.items[this.head++]!;
    if (this.head === this.items.length) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return value;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
