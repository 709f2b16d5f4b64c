// Every mask a method evaluated, with its value, kept in one growable bit-packed batch so that coefficients can be
// refitted on all of them at the end. Held-out masks never enter a log.
import type { MaskBatch } from './types.js';
import { wordsFor } from './masks.js';

/** An append-only record of evaluated masks and values. */
export class SampleLog {
  readonly n: number;
  readonly words: number;
  private bits: Uint32Array;
  private data: Float64Array;
  private rows = 0;

  /**
   * @param n - players
   * @param capacity - rows to reserve (grows as needed)
   */
  constructor(n: number, capacity = 256) {
    this.n = n;
    this.words = wordsFor(n);
    this.bits = new Uint32Array(Math.max(1, capacity * this.words));
    this.data = new Float64Array(Math.max(1, capacity));
  }

  /** Rows recorded. */
  get count(): number {
    return this.rows;
  }

  /**
   * Appends a batch and its values.
   * @param batch - masks of the same n
   * @param values - one per row
   */
  append(batch: MaskBatch, values: Float64Array): void {
    const needed = this.rows + batch.count;
    if (needed > this.data.length) {
      const capacity = Math.max(needed, this.data.length * 2);
      const bits = new Uint32Array(capacity * this.words);
      bits.set(this.bits.subarray(0, this.rows * this.words));
      this.bits = bits;
      const data = new Float64Array(capacity);
      data.set(this.data.subarray(0, this.rows));
      this.data = data;
    }
    this.bits.set(batch.bits.subarray(0, batch.count * this.words), this.rows * this.words);
    this.data.set(values.subarray(0, batch.count), this.rows);
    this.rows = needed;
  }

  /** The recorded masks as one batch (a view; valid until the next append). */
  masks(): MaskBatch {
    return { n: this.n, count: this.rows, words: this.words, bits: this.bits.subarray(0, this.rows * this.words) };
  }

  /** The recorded values (a view; valid until the next append). */
  values(): Float64Array {
    return this.data.subarray(0, this.rows);
  }
}
