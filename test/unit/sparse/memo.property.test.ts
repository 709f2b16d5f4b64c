// The mask memo (engine/analysis/sparse/memo.ts) that lets a deterministic game be asked each mask once and a
// refinement read the masks it knows: for any masks of any width, with repeats, it finds each mask's first value,
// nothing for a mask never set, and grows past its first capacity without losing one. Masks that differ in one bit, or
// only in the last of several words, are apart; masks built to share a hash bucket are too (FNV-1a collisions are
// found by brute force on one word).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wordsFor } from '../../../engine/analysis/sparse/masks.js';
import { MaskMemo } from '../../../engine/analysis/sparse/memo.js';
import { PROPERTY_MS, RUNS } from '../inputs/support.js';

/** n players and a list of masks over them (as word arrays), with repeats drawn from the list itself. */
const masksOf = fc.integer({ min: 1, max: 200 }).chain((n) =>
  fc
    .array(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: wordsFor(n), maxLength: wordsFor(n) }), { minLength: 1, maxLength: 600 })
    .chain((distinct) => fc.array(fc.nat({ max: distinct.length - 1 }), { minLength: 1, maxLength: 1200 }).map((picks) => ({ n, masks: picks.map((k) => distinct[k]) }))),
);

describe('MaskMemo', () => {
  it('gives each mask its first value, and nothing for masks never set, at any width and count', () => {
    fc.assert(
      fc.property(masksOf, ({ n, masks }) => {
        const words = wordsFor(n);
        const memo = new MaskMemo(n);
        const first = new Map<string, number>();
        const bits = new Uint32Array(masks.length * words);
        masks.forEach((mask, r) => {
          bits.set(mask.map((w) => w >>> 0), r * words);
          memo.set(bits, r * words, r);
          if (!first.has(mask.join(','))) first.set(mask.join(','), r);
        });
        expect(memo.size).toBe(first.size);
        masks.forEach((mask, r) => expect(memo.get(bits, r * words)).toBe(first.get(mask.join(','))));
        // one bit flipped in the last word: a mask never set, unless it is one of the others
        const probe = bits.slice(0, words);
        probe[words - 1] ^= 1;
        if (!first.has(Array.from(probe).join(','))) expect(memo.get(probe, 0)).toBeUndefined();
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('keeps apart masks whose hashes collide', () => {
    // FNV-1a over two words: h = ((B ^ w0)·P ^ w1)·P, so [w0', A ^ A' ^ w1] shares the hash of [w0, w1], A = (B ^ w0)·P
    const step = (w: number) => Math.imul(0x811c9dc5 ^ w, 0x01000193) >>> 0;
    const memo = new MaskMemo(64);
    const rows: number[][] = [];
    for (let k = 0; k < 40; k++) rows.push([k, (step(0) ^ step(k) ^ 12345) >>> 0]);
    const bits = Uint32Array.from(rows.flat());
    rows.forEach((_, r) => memo.set(bits, 2 * r, r));
    expect(memo.size).toBe(40);
    rows.forEach((_, r) => expect(memo.get(bits, 2 * r)).toBe(r));
    expect(memo.get(Uint32Array.of(40, (step(0) ^ step(40) ^ 12345) >>> 0), 0)).toBeUndefined();
  });
});
