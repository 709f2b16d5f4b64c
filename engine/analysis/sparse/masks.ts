// Bit-packed mask batches: allocation, writing rows from player lists, uniform random rows, complements and
// containment tests. Row r, player i lives at bit (i & 31) of bits[r·words + (i >>> 5)]; bits past n stay 0.
import type { MaskBatch } from './types.js';
import type { Rng } from './random.js';

/** A batch whose bits the engine may still write. */
export interface MutableMaskBatch extends MaskBatch {
  readonly bits: Uint32Array;
}

/**
 * 32-bit words per row.
 * @param n - players
 * @returns ⌈n/32⌉
 */
export function wordsFor(n: number): number {
  return (n + 31) >>> 5;
}

/**
 * The valid bits of the last word of a row (all ones when n is a multiple of 32).
 * @param n - players
 * @returns the bit mask of players n−32·⌊(n−1)/32⌋ … in the last word
 */
export function lastWordBits(n: number): number {
  const used = n & 31;
  return used === 0 ? 0xffffffff : ((1 << used) - 1) >>> 0;
}

/**
 * A batch of empty masks.
 * @param n - players
 * @param count - rows
 * @returns count rows, every player absent
 */
export function createMasks(n: number, count: number): MutableMaskBatch {
  const words = wordsFor(n);
  return { n, count, words, bits: new Uint32Array(count * words) };
}

/**
 * Sets players on one row (bits already set stay set).
 * @param batch - the batch
 * @param row - the row
 * @param players - player indices, each in 0..n−1
 * @param length - how many entries of players to use (default all)
 */
export function addPlayers(batch: MutableMaskBatch, row: number, players: ArrayLike<number>, length = players.length): void {
  const base = row * batch.words;
  for (let k = 0; k < length; k++) {
    const i = players[k];
    batch.bits[base + (i >>> 5)] |= 1 << (i & 31);
  }
}

/**
 * Sets every player on one row.
 * @param batch - the batch
 * @param row - the row
 */
export function fillRow(batch: MutableMaskBatch, row: number): void {
  const base = row * batch.words;
  batch.bits.fill(0xffffffff, base, base + batch.words);
  if (batch.words > 0) batch.bits[base + batch.words - 1] = lastWordBits(batch.n);
}

/**
 * Uniformly random masks: each player present with probability ½, independently.
 * @param n - players
 * @param count - rows
 * @param rng - the stream
 * @returns the batch
 */
export function randomMasks(n: number, count: number, rng: Rng): MutableMaskBatch {
  const batch = createMasks(n, count);
  const last = lastWordBits(n);
  for (let r = 0; r < count; r++) {
    const base = r * batch.words;
    for (let w = 0; w < batch.words; w++) batch.bits[base + w] = rng.uint32();
    if (batch.words > 0) batch.bits[base + batch.words - 1] &= last;
  }
  return batch;
}

/**
 * The complement of every row: present ↔ absent (N∖T for each T).
 * @param batch - the batch
 * @returns a new batch of the complements
 */
export function complementMasks(batch: MaskBatch): MutableMaskBatch {
  const out = createMasks(batch.n, batch.count);
  const last = lastWordBits(batch.n);
  const { words } = batch;
  for (let r = 0; r < batch.count; r++) {
    const base = r * words;
    for (let w = 0; w < words; w++) out.bits[base + w] = ~batch.bits[base + w] >>> 0;
    if (words > 0) out.bits[base + words - 1] &= last;
  }
  return out;
}

/**
 * Whether a row holds every listed player.
 * @param bits - the batch bits
 * @param base - row · words
 * @param players - flat player storage
 * @param start - first index into players
 * @param end - one past the last index into players
 * @returns true when every players[start..end) is present in the row
 */
export function rowContains(bits: Uint32Array, base: number, players: Int32Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) {
    const i = players[k];
    if (((bits[base + (i >>> 5)] >>> (i & 31)) & 1) === 0) return false;
  }
  return true;
}

/**
 * Set bits of a 32-bit word.
 * see: Hacker's Delight §5-1 (SWAR popcount)
 * @param x - the word
 * @returns 0..32
 */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * Number of players present in a row.
 * @param batch - the batch
 * @param row - the row
 * @returns |T|
 */
export function rowSize(batch: MaskBatch, row: number): number {
  let count = 0;
  const base = row * batch.words;
  for (let w = 0; w < batch.words; w++) count += popcount32(batch.bits[base + w]);
  return count;
}

/**
 * The players of one row, ascending.
 * @param batch - the batch
 * @param row - the row
 * @returns the present players
 */
export function rowPlayers(batch: MaskBatch, row: number): number[] {
  const players: number[] = [];
  const base = row * batch.words;
  for (let i = 0; i < batch.n; i++) if ((batch.bits[base + (i >>> 5)] >>> (i & 31)) & 1) players.push(i);
  return players;
}

