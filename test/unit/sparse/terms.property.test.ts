// The term store (engine/analysis/sparse/terms.ts) built from distinct flat terms without a key map (fromDistinct:
// the tree proxy's readout) against one built term by term (fromFlat): for any distinct supports, the same terms, the
// same index of every support when looked up, and the same store after more terms are added, new and known.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TermStore } from '../../../engine/analysis/sparse/terms.js';
import { PROPERTY_MS, RUNS } from '../inputs/support.js';

/** Distinct supports of up to 5 of n players (∅ possible), their values, and more terms to add afterwards. */
const cases = fc.integer({ min: 1, max: 300 }).chain((n) => {
  const support = fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: Math.min(5, n) }).map((players) => players.sort((a, b) => a - b));
  return fc.record({
    terms: fc.uniqueArray(fc.tuple(support, fc.double({ min: -10, max: 10, noNaN: true })), { maxLength: 80, selector: ([players]) => players.join(',') }),
    more: fc.array(fc.tuple(support, fc.double({ min: -10, max: 10, noNaN: true })), { maxLength: 80 }),
  });
});

describe('TermStore.fromDistinct', () => {
  it('holds the same terms as fromFlat, finds every support at the same index, and adds to them alike', () => {
    fc.assert(
      fc.property(cases, ({ terms, more }) => {
        const built = new TermStore();
        for (const [players, value] of terms) built.add(players, value);
        const flat = built.toFlat();
        const lazy = TermStore.fromDistinct(flat);
        const eager = TermStore.fromFlat(flat);
        expect(lazy.toTerms()).toEqual(eager.toTerms());
        for (const [players] of terms) expect(lazy.find(players)).toBe(eager.find(players));
        const copy = lazy.copy();
        for (const [players, value] of more) {
          expect(lazy.add(players, value)).toBe(eager.add(players, value));
          copy.add(players, value);
        }
        expect(lazy.toFlat()).toEqual(eager.toFlat());
        expect(copy.toFlat()).toEqual(eager.toFlat());
      }),
      RUNS,
    );
  }, PROPERTY_MS);
});
