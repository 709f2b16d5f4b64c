// The per-player bitsets (engine/analysis/sparse/bitsets.ts) that score expansions on the validation masks and build
// the refit's incidence matrix: for any n, any masks and any chosen rows (repeats, any order, counts off multiples
// of 32), the rows holding a support are exactly those whose mask holds all its players, and the incidence matrix is
// the brute-force one, columns ascending.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlayerBitsets } from '../../../engine/analysis/sparse/bitsets.js';
import { wordsFor } from '../../../engine/analysis/sparse/masks.js';
import { termIncidence } from '../../../engine/analysis/sparse/refit.js';
import { SampleLog } from '../../../engine/analysis/sparse/sample-log.js';
import { TermStore } from '../../../engine/analysis/sparse/terms.js';
import type { MaskBatch } from '../../../engine/analysis/sparse/types.js';
import { PROPERTY_MS, RUNS } from '../inputs/support.js';

/** n players, masks over them, chosen rows (with repeats) and supports of up to 4 players (∅ included). */
const cases = fc.integer({ min: 1, max: 140 }).chain((n) =>
  fc
    .tuple(
      fc.array(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: wordsFor(n), maxLength: wordsFor(n) }), { minLength: 1, maxLength: 150 }),
      fc.array(fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: Math.min(4, n) }), { maxLength: 40 }),
    )
    .chain(([masks, supports]) => fc.array(fc.nat({ max: masks.length - 1 }), { maxLength: 200 }).map((rows) => ({ n, masks, supports, rows }))),
);

/** The masks as a batch, bits past n cleared. */
function batchOf(n: number, masks: number[][]): MaskBatch {
  const words = wordsFor(n);
  const bits = new Uint32Array(masks.length * words);
  masks.forEach((mask, r) => mask.forEach((word, w) => (bits[r * words + w] = w === words - 1 && n % 32 !== 0 ? word & ((1 << n % 32) - 1) : word)));
  return { n, count: masks.length, words, bits };
}

const holds = (batch: MaskBatch, r: number, players: readonly number[]) => players.every((i) => (batch.bits[r * batch.words + (i >>> 5)] >>> (i & 31)) & 1);

describe('PlayerBitsets', () => {
  it('finds exactly the chosen rows whose mask holds every player of a support', () => {
    fc.assert(
      fc.property(cases, ({ n, masks, supports, rows }) => {
        const batch = batchOf(n, masks);
        const chosen = Int32Array.from(rows);
        const bitsets = new PlayerBitsets(batch, chosen);
        expect(bitsets.words).toBe(Math.ceil(rows.length / 32));
        const held = new Uint32Array(bitsets.words);
        for (const support of [[], ...supports]) {
          bitsets.holding(support, held);
          rows.forEach((r, k) => expect(((held[k >>> 5] >>> (k & 31)) & 1) === 1).toBe(holds(batch, r, support)));
          // nothing past the chosen rows
          for (let k = rows.length; k < 32 * bitsets.words; k++) expect((held[k >>> 5] >>> (k & 31)) & 1).toBe(0);
        }
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it("builds the refit's incidence matrix as the brute-force one", () => {
    fc.assert(
      fc.property(cases, ({ n, masks, supports, rows }) => {
        const batch = batchOf(n, masks);
        const log = new SampleLog(n);
        log.append(batch, new Float64Array(batch.count));
        const store = new TermStore();
        for (const support of supports) store.add(support, 1);
        const incidence = termIncidence(store, log, Int32Array.from(rows), () => {});
        expect(incidence.rows).toBe(rows.length);
        expect(incidence.columns).toBe(store.size);
        rows.forEach((r, k) => {
          const expected = Array.from({ length: store.size }, (_, t) => t).filter((t) => holds(batch, r, store.players(t)));
          expect(Array.from(incidence.cols.subarray(incidence.rowStart[k], incidence.rowStart[k + 1]))).toEqual(expected);
        });
      }),
      RUNS,
    );
  }, PROPERTY_MS);
});
