/**
 * A growable FIFO ring buffer for the batcher's queue: O(1) push and shift (no Array#shift, which is O(n)
 * once V8 gives up on its left-trim trick), O(1) indexed reads from the head, and an in-order compaction
 * for when many entries in the middle were cancelled.
 */
export class Ring<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private mask: number;
  size = 0;

  constructor(capacity = 64) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.buf = new Array<T | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  push(item: T): void {
    if (this.size === this.buf.length) this.grow();
    this.buf[(this.head + this.size) & this.mask] = item;
    this.size++;
  }

  /** The i-th item from the head (0 = oldest); i must be < size. */
  at(i: number): T {
    return this.buf[(this.head + i) & this.mask] as T;
  }

  /** Removes and returns the oldest item; size must be > 0. */
  shift(): T {
    const item = this.buf[this.head] as T;
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.size--;
    return item;
  }

  /** Keeps only the items for which `keep` is true, in their order. */
  retain(keep: (item: T) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.size; r++) {
      const item = this.at(r);
      if (keep(item)) this.buf[(this.head + w++) & this.mask] = item;
    }
    for (let i = w; i < this.size; i++) this.buf[(this.head + i) & this.mask] = undefined;
    this.size = w;
  }

  private grow(): void {
    const old = this.buf;
    const next = new Array<T | undefined>(old.length * 2).fill(undefined);
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) & this.mask];
    this.buf = next;
    this.head = 0;
    this.mask = next.length - 1;
  }
}
