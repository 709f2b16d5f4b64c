// Masks seen from the players' side: for each player, the bitset of the masks (rows) that hold it. The rows that
// hold a whole support are then the AND of its players' bitsets: k·R/32 word operations for a term of order k over
// R rows, instead of a test per row and term. The validation masks score expansions this way, and the refit builds
// its incidence matrix this way.
import type { MaskBatch } from './types.js';

/** Per-player bitsets over chosen rows of a mask batch. */
export class PlayerBitsets {
  /** Words per bitset: ⌈rows / 32⌉. */
  readonly words: number;
  /** Rows covered (bit k of the bitsets is the k-th chosen row). */
  readonly rows: number;
  /** Player i's bitset is holders[i·words .. (i+1)·words). */
  private readonly holders: Uint32Array;
  /** Every covered row. */
  private readonly all: Uint32Array;

  /**
   * @param masks - the batch
   * @param rows - the rows to cover, in this order (default all of them)
   */
  constructor(masks: MaskBatch, rows?: Int32Array) {
    const count = rows ? rows.length : masks.count;
    this.rows = count;
    this.words = Math.ceil(count / 32);
    this.holders = new Uint32Array(masks.n * this.words);
    this.all = new Uint32Array(this.words);
    for (let k = 0; k < count; k++) this.all[k >>> 5] |= 1 << (k & 31);
    // 32 rows × 32 players at a time: a bit-matrix transpose turns the rows' words into the players' words
    const { bits, words } = masks;
    const block = new Uint32Array(32);
    for (let first = 0; first < count; first += 32) {
      const height = Math.min(32, count - first);
      for (let w = 0; w < words; w++) {
        block.fill(0);
        for (let k = 0; k < height; k++) block[k] = bits[(rows ? rows[first + k] : first + k) * words + w];
        transpose32(block);
        const players = Math.min(32, masks.n - 32 * w);
        for (let j = 0; j < players; j++) this.holders[(32 * w + j) * this.words + (first >>> 5)] = block[j];
      }
    }
  }

  /**
   * The rows that hold every player of a support.
   * @param players - the support (∅: every row)
   * @param out - receives the bitset (words entries)
   */
  holding(players: ArrayLike<number>, out: Uint32Array): void {
    const { words, holders } = this;
    out.set(this.all);
    for (let k = 0; k < players.length; k++) {
      const i = players[k];
      for (let w = 0; w < words; w++) out[w] &= holders[i * words + w];
    }
  }
}

/**
 * Transposes a 32 × 32 bit matrix in place: bit j of word k becomes bit k of word j. Five rounds swap ever smaller
 * off-diagonal blocks (16, 8, 4, 2, 1 bits). see: Warren, "Hacker's Delight" (2nd ed.), §7-3.
 */
function transpose32(a: Uint32Array): void {
  let mask = 0x0000ffff;
  for (let j = 16; j !== 0; j >>>= 1, mask ^= mask << j) {
    for (let k = 0; k < 32; k = (k + j + 1) & ~j) {
      const t = ((a[k] >>> j) ^ a[k + j]) & mask;
      a[k] ^= t << j;
      a[k + j] ^= t;
    }
  }
}
