/**
 * A FIFO of (relative time, value) samples in two float arrays. Samples enter at the tail in ascending
 * time and leave from the head, so a range window slides with two indices and no per-sample objects.
 */
export class SampleDeque {
  rel: Float64Array;
  val: Float64Array;
  head = 0;
  tail = 0;

  constructor(capacity = 16) {
    this.rel = new Float64Array(capacity);
    this.val = new Float64Array(capacity);
  }

  get size(): number {
    return this.tail - this.head;
  }

  push(rel: number, val: number): void {
    if (this.tail === this.rel.length) this.makeRoom();
    this.rel[this.tail] = rel;
    this.val[this.tail] = val;
    this.tail++;
  }

  popTail(): void {
    this.tail--;
  }

  shift(): void {
    this.head++;
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  clear(): void {
    this.head = this.tail = 0;
  }

  private makeRoom(): void {
    const n = this.size;
    if (this.head > 0 && n <= this.rel.length / 2) {
      this.rel.copyWithin(0, this.head, this.tail);
      this.val.copyWithin(0, this.head, this.tail);
    } else {
      const rel = new Float64Array(this.rel.length * 2);
      const val = new Float64Array(this.val.length * 2);
      rel.set(this.rel.subarray(this.head, this.tail));
      val.set(this.val.subarray(this.head, this.tail));
      this.rel = rel;
      this.val = val;
    }
    this.head = 0;
    this.tail = n;
  }
}
