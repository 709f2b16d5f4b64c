// A number per bit-packed mask, found by a hash of the row's words: the values of the masks a refinement knows
// (refine.ts), and the table slots of the masks a game has been asked above 20 players (and-or.ts), so that a
// deterministic game is asked each mask once.
import { wordsFor } from './masks.js';

/** Rows of bit-packed masks with their values, found by a hash of the row's words. */
export class MaskMemo {
  private readonly words: number;
  private bits: Uint32Array;
  private data: Float64Array;
  /** Row of the same hash stored before this one (−1: none). */
  private next: Int32Array;
  /** Hash → last row stored with it. */
  private readonly heads = new Map<number, number>();
  private rows = 0;

  /** @param n - players */
  constructor(n: number) {
    this.words = wordsFor(n);
    this.bits = new Uint32Array(Math.max(1, 256 * this.words));
    this.data = new Float64Array(256);
    this.next = new Int32Array(256);
  }

  /** Masks remembered. */
  get size(): number {
    return this.rows;
  }

  /**
   * The value of a mask, if remembered.
   * @param bits - rows of the mask's words
   * @param base - index of the row's first word
   * @returns the value, or undefined
   */
  get(bits: Uint32Array, base: number): number | undefined {
    const row = this.find(bits, base, hashRow(bits, base, this.words));
    return row < 0 ? undefined : this.data[row];
  }

  /**
   * Remembers a mask's value (a mask already remembered keeps its first value).
   * @param bits - rows of the mask's words
   * @param base - index of the row's first word
   * @param value - its value
   */
  set(bits: Uint32Array, base: number, value: number): void {
    this.getOrSet(bits, base, value);
  }

  /**
   * The value of a mask, remembering the given one first when the mask is new (one hash for both).
   * @param bits - rows of the mask's words
   * @param base - index of the row's first word
   * @param value - its value if it is new
   * @returns the value remembered for the mask
   */
  getOrSet(bits: Uint32Array, base: number, value: number): number {
    const { words } = this;
    const hash = hashRow(bits, base, words);
    const known = this.find(bits, base, hash);
    if (known >= 0) return this.data[known];
    if (this.rows === this.data.length) this.grow();
    const row = this.rows++;
    this.bits.set(bits.subarray(base, base + words), row * words);
    this.data[row] = value;
    this.next[row] = this.heads.get(hash) ?? -1;
    this.heads.set(hash, row);
    return value;
  }

  private find(bits: Uint32Array, base: number, hash: number): number {
    const { words } = this;
    for (let row = this.heads.get(hash) ?? -1; row >= 0; row = this.next[row]) {
      let same = true;
      for (let w = 0; w < words && same; w++) same = this.bits[row * words + w] === bits[base + w];
      if (same) return row;
    }
    return -1;
  }

  private grow(): void {
    const capacity = 2 * this.data.length;
    const bits = new Uint32Array(capacity * this.words);
    bits.set(this.bits);
    this.bits = bits;
    const data = new Float64Array(capacity);
    data.set(this.data);
    this.data = data;
    const next = new Int32Array(capacity);
    next.set(this.next);
    this.next = next;
  }
}

/** FNV-1a over the row's words, as a 32-bit integer. */
function hashRow(bits: Uint32Array, base: number, words: number): number {
  let hash = 0x811c9dc5;
  for (let w = 0; w < words; w++) hash = Math.imul(hash ^ bits[base + w], 0x01000193);
  return hash | 0;
}
