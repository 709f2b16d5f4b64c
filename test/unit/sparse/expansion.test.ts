// evaluateExpansion (v(T) = Σ_{S⊆T} m(S) on bit-packed masks) and its input checks.
import { describe, expect, it } from 'vitest';
import { InvalidInputError, ShapeMismatchError } from '../../../engine/contracts/errors.js';
import { evaluateExpansion, type MaskBatch } from '../../../engine/analysis/sparse/index.js';

/** A batch of n = 40 players (2 words per row) from player lists. */
function batchOf(n: number, rows: number[][]): MaskBatch {
  const words = Math.ceil(n / 32);
  const bits = new Uint32Array(rows.length * words);
  rows.forEach((players, r) => {
    for (const i of players) bits[r * words + (i >>> 5)] |= 1 << (i & 31);
  });
  return { n, count: rows.length, words, bits };
}

describe('evaluateExpansion', () => {
  const terms = [
    { players: [], value: 1 },
    { players: [0], value: 2 },
    { players: [3, 35], value: 5 },
    { players: [31, 32], value: -0.5 },
  ];

  it('sums the terms contained in each mask (hand-computed, players across the word boundary)', () => {
    const masks = batchOf(40, [[], [0], [0, 3, 35], [3, 35], [35], [31, 32], [0, 3, 31, 32, 35, 39]]);
    expect(Array.from(evaluateExpansion(terms, masks))).toEqual([1, 3, 8, 6, 1, 0.5, 7.5]);
  });

  it('returns an empty array for an empty batch and v(∅)-free terms as 0', () => {
    expect(evaluateExpansion(terms, batchOf(40, []))).toEqual(new Float64Array(0));
    expect(Array.from(evaluateExpansion([], batchOf(40, [[1, 2]])))).toEqual([0]);
  });

  it('adds up a support listed twice', () => {
    expect(Array.from(evaluateExpansion([{ players: [2], value: 1 }, { players: [2], value: 2 }], batchOf(3, [[2]])))).toEqual([3]);
  });

  it('refuses a player outside 0..n−1', () => {
    expect(() => evaluateExpansion([{ players: [40], value: 1 }], batchOf(40, [[]]))).toThrow(InvalidInputError);
    expect(() => evaluateExpansion([{ players: [40], value: 1 }], batchOf(40, [[]]))).toThrow(/terms\[0\] names player 40, .* 0\.\.39/);
  });

  it('refuses a non-finite value', () => {
    expect(() => evaluateExpansion([{ players: [1], value: NaN }], batchOf(40, [[]]))).toThrow(InvalidInputError);
  });

  it('refuses a batch whose words or bits do not fit', () => {
    expect(() => evaluateExpansion(terms, { n: 40, count: 1, words: 1, bits: new Uint32Array(1) })).toThrow(ShapeMismatchError);
    expect(() => evaluateExpansion(terms, { n: 40, count: 2, words: 2, bits: new Uint32Array(3) })).toThrow(/at least 4 entries/);
  });
});
