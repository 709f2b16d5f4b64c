// The validation masks of an auto search and the R² of an expansion on them. Each term adds its value to the masks
// that hold all its players, found by ANDing per-player bitsets over the masks: a term of order k costs k·V/32 word
// operations for V masks, so that scoring a tree proxy's thousands of terms, and every prefix of them, is cheap.
import { PlayerBitsets } from './bitsets.js';
import { rSquared } from './expansion.js';
import type { FitSet, FlatTerms, SparseTerm } from './types.js';

/** An expansion to score: terms as objects, or flat terms taken in the given order (strongestFirst). */
export type ScoredTerms = readonly SparseTerm[] | { readonly terms: FlatTerms; readonly order: Int32Array };

/** Uniformly random masks that no search or fit sees, with the game's values, and a scorer of expansions on them. */
export class Validation {
  private readonly bitsets: PlayerBitsets;

  constructor(readonly set: FitSet) {
    this.bitsets = new PlayerBitsets(set.masks);
  }

  /**
   * Root mean square of the residual of the terms' sum on the validation masks, and the largest |v| there.
   * @param terms - the expansion
   * @returns { rms, scale }
   */
  residual(terms: ScoredTerms): { rms: number; scale: number } {
    const predicted = this.predicted(terms);
    const { values } = this.set;
    let sum = 0;
    let scale = 0;
    for (let r = 0; r < values.length; r++) {
      sum += (values[r] - predicted[r]) ** 2;
      scale = Math.max(scale, Math.abs(values[r]));
    }
    return { rms: Math.sqrt(sum / Math.max(1, values.length)), scale };
  }

  /**
   * R² of the terms' sum on the validation masks.
   * @param terms - the expansion (∅ included or not)
   * @returns R² (rSquared's conventions)
   */
  r2(terms: ScoredTerms): number {
    return this.prefixR2(terms, [])[0];
  }

  /**
   * R² of each prefix of the terms: the first `counts[k]` of them, then all of them.
   * @param terms - the expansion, in the order its prefixes are taken
   * @param counts - prefix lengths, ascending
   * @returns R² per prefix length, then R² of all the terms
   */
  prefixR2(terms: ScoredTerms, counts: readonly number[]): number[] {
    const out: number[] = [];
    const predicted = this.predict(terms, counts, (partial) => out.push(rSquared(this.set.values, partial)));
    out.push(rSquared(this.set.values, predicted));
    return out;
  }

  /**
   * The terms' sum on each validation mask.
   * @param terms - the expansion
   * @returns one value per mask
   */
  predicted(terms: ScoredTerms): Float64Array {
    return this.predict(terms, [], () => {});
  }

  /**
   * Whether the second expansion fits the validation masks significantly worse than the first: the mean of the
   * per-mask differences of their squared errors exceeds two standard errors of those differences (a paired test, so
   * that two nearly equal fits are not told apart by the masks' noise).
   * @param first - the reference expansion
   * @param second - the challenger
   * @returns true when the second is worse beyond chance
   */
  worse(first: ScoredTerms, second: ScoredTerms): boolean {
    return worseBeyondChance(this.set.values, this.predicted(first), this.predicted(second));
  }

  /** The terms' sum on each validation mask; at (before the term) each prefix length in counts, and for counts past
   *  the end, calls atPrefix with the partial sums. */
  private predict(terms: ScoredTerms, counts: readonly number[], atPrefix: (partial: Float64Array) => void): Float64Array {
    const { bitsets } = this;
    const { words } = bitsets;
    const predicted = new Float64Array(this.set.masks.count);
    const held = new Uint32Array(words);
    const { length, playersOf, valueOf } = termsOf(terms);
    let next = 0;
    for (let t = 0; t < length; t++) {
      while (next < counts.length && counts[next] === t) {
        atPrefix(predicted);
        next++;
      }
      const value = valueOf(t);
      bitsets.holding(playersOf(t), held);
      for (let w = 0; w < words; w++) {
        let word = held[w] | 0;
        while (word !== 0) {
          const low = word & -word;
          predicted[32 * w + 31 - Math.clz32(low)] += value;
          word ^= low;
        }
      }
    }
    for (; next < counts.length; next++) atPrefix(predicted);
    return predicted;
  }
}

/** The t-th term's players and value, for either form of ScoredTerms. */
function termsOf(terms: ScoredTerms): { length: number; playersOf: (t: number) => ArrayLike<number>; valueOf: (t: number) => number } {
  if (Array.isArray(terms)) {
    const list = terms as readonly SparseTerm[];
    return { length: list.length, playersOf: (t) => list[t].players, valueOf: (t) => list[t].value };
  }
  const { terms: flat, order } = terms as { readonly terms: FlatTerms; readonly order: Int32Array };
  return { length: order.length, playersOf: (t) => flat.flat.subarray(flat.offsets[order[t]], flat.offsets[order[t] + 1]), valueOf: (t) => flat.values[order[t]] };
}

/**
 * Whether the second predictions fit the values significantly worse than the first: the mean of the per-row
 * differences of their squared errors exceeds two standard errors of those differences (a paired test, so that two
 * nearly equal fits are not told apart by the rows' noise).
 * @param values - the observed values
 * @param first - the reference predictions
 * @param second - the challenger's
 * @returns true when the second is worse beyond chance
 */
export function worseBeyondChance(values: Float64Array, first: Float64Array, second: Float64Array): boolean {
  const m = values.length;
  if (m === 0) return false;
  const d = Float64Array.from(values, (v, r) => (v - second[r]) ** 2 - (v - first[r]) ** 2);
  const mean = d.reduce((s, x) => s + x, 0) / m;
  const variance = d.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, m - 1);
  return mean > 2 * Math.sqrt(variance / m);
}
