// The growing set of recovered Möbius terms in flat typed arrays (supports, values), with the one hot loop every
// method shares: predicting Σ_{S⊆T} m(S) on a batch of masks. Supports are keyed so that finding a known term
// again adds to its value instead of duplicating it.
import { rowContains } from './masks.js';
import type { FlatTerms, MaskBatch, SparseTerm } from './types.js';

/** A read-only view of a TermStore's arrays (valid until its next add): term t is flat[offsets[t] .. offsets[t+1]). */
export interface TermView {
  readonly count: number;
  /** Bumped whenever a stored value changes (a known support added to, or setValue); new terms leave it. */
  readonly revision: number;
  readonly offsets: Int32Array;
  readonly flat: Int32Array;
  readonly values: Float64Array;
}

/** Recovered terms: support i is players[offsets[i] .. offsets[i+1]), sorted ascending. */
export class TermStore {
  private offsets = new Int32Array(65);
  private flat = new Int32Array(256);
  private coefficients = new Float64Array(64);
  /** supportKey of each support → its index; undefined until first needed by a store made from distinct flat terms
   *  (fromDistinct), which may never need it: a tree proxy's expansion holds tens of thousands of terms. */
  private keys: Map<string, number> | undefined = new Map<string, number>();
  private count = 0;
  private revision = 0;

  /** Number of terms. */
  get size(): number {
    return this.count;
  }

  /**
   * Adds value to the coefficient of a support, creating the term when it is new.
   * @param players - the support (any order; it is sorted)
   * @param value - the amount to add
   * @returns the term's index
   */
  add(players: ArrayLike<number>, value: number): number {
    return this.addKey(supportKey(Int32Array.from(players).sort()), value);
  }

  /**
   * Adds value to the coefficient of the support with this key (supportKey: its players ascending, one character
   * each), creating the term when it is new.
   * @param key - the support's key
   * @param value - the amount to add
   * @returns the term's index
   */
  addKey(key: string, value: number): number {
    const known = this.index.get(key);
    if (known !== undefined) {
      this.coefficients[known] += value;
      this.revision++;
      return known;
    }
    this.grow(key.length);
    const start = this.offsets[this.count];
    for (let k = 0; k < key.length; k++) this.flat[start + k] = key.charCodeAt(k);
    this.offsets[this.count + 1] = start + key.length;
    this.coefficients[this.count] = value;
    this.index.set(key, this.count);
    return this.count++;
  }

  /**
   * The index of a support, if known.
   * @param players - the support, sorted ascending
   * @returns its index or undefined
   */
  find(players: ArrayLike<number>): number | undefined {
    return this.index.get(supportKey(players));
  }

  /**
   * A store of flat terms (supports sorted ascending and distinct, as toFlat gives them).
   * @param terms - the terms
   * @returns the store, the same indices
   */
  static fromFlat(terms: FlatTerms): TermStore {
    const store = new TermStore();
    for (let t = 0; t < terms.values.length; t++) store.addKey(supportKey(terms.flat.subarray(terms.offsets[t], terms.offsets[t + 1])), terms.values[t]);
    return store;
  }

  /**
   * A store of flat terms whose supports are sorted ascending and distinct (not checked: a repeated support would be
   * two terms), its arrays copied whole; its key map is built on first use.
   * @param terms - the terms
   * @returns the store, the same indices
   */
  static fromDistinct(terms: FlatTerms): TermStore {
    const store = new TermStore();
    store.offsets = new Int32Array(terms.offsets);
    store.flat = new Int32Array(terms.flat);
    store.coefficients = new Float64Array(terms.values);
    store.count = terms.values.length;
    store.keys = undefined;
    return store;
  }

  /** The key map, built from the supports when a store from fromDistinct first needs it. */
  private get index(): Map<string, number> {
    if (!this.keys) {
      this.keys = new Map<string, number>();
      for (let t = 0; t < this.count; t++) this.keys.set(supportKey(this.flat.subarray(this.offsets[t], this.offsets[t + 1])), t);
    }
    return this.keys;
  }

  /**
   * The terms in arrays of their own, in index order.
   * @returns a copy
   */
  toFlat(): FlatTerms {
    const { count } = this;
    return { offsets: this.offsets.slice(0, count + 1), flat: this.flat.slice(0, this.offsets[count]), values: this.coefficients.slice(0, count) };
  }

  /**
   * An independent copy (the same terms, indices and values).
   * @returns the copy
   */
  copy(): TermStore {
    const copy = new TermStore();
    copy.offsets = this.offsets.slice();
    copy.flat = this.flat.slice();
    copy.coefficients = this.coefficients.slice();
    copy.keys = this.keys && new Map(this.keys);
    copy.count = this.count;
    return copy;
  }

  /**
   * The arrays as they are now, without copying.
   * @returns a view, valid until the next add
   */
  view(): TermView {
    return { count: this.count, revision: this.revision, offsets: this.offsets, flat: this.flat, values: this.coefficients };
  }

  /**
   * The coefficient of a term.
   * @param i - the term's index
   * @returns m(S_i)
   */
  value(i: number): number {
    return this.coefficients[i];
  }

  /**
   * Replaces the coefficient of a term.
   * @param i - the term's index
   * @param value - the new m(S_i)
   */
  setValue(i: number, value: number): void {
    this.coefficients[i] = value;
    this.revision++;
  }

  /**
   * The order of a term.
   * @param i - the term's index
   * @returns |S_i|
   */
  order(i: number): number {
    return this.offsets[i + 1] - this.offsets[i];
  }

  /**
   * The support of a term.
   * @param i - the term's index
   * @returns S_i, ascending
   */
  players(i: number): number[] {
    // a loop: Array.from of a typed array goes through its iterator (in a digits-cnn run it took 13 % of the
    // recovery's main-thread time)
    const start = this.offsets[i];
    const support = new Array<number>(this.offsets[i + 1] - start);
    for (let k = 0; k < support.length; k++) support[k] = this.flat[start + k];
    return support;
  }

  /**
   * Whether row r of a batch contains the support of term i.
   * @param batch - the masks
   * @param row - the row
   * @param i - the term
   * @returns S_i ⊆ T_row
   */
  contains(batch: MaskBatch, row: number, i: number): boolean {
    return rowContains(batch.bits, row * batch.words, this.flat, this.offsets[i], this.offsets[i + 1]);
  }

  /**
   * Σ_{S⊆T} m(S) over the stored terms, for every row.
   * @param batch - the masks
   * @param out - receives one value per row
   * @param counts - when given, receives per row how many terms the row contains
   * @param magnitudes - when given, receives per row Σ |m(S)| over the contained terms (a scale for round-off)
   */
  predict(batch: MaskBatch, out: Float64Array, counts?: Int32Array, magnitudes?: Float64Array): void {
    const { bits, words } = batch;
    const { flat, offsets, coefficients } = this;
    for (let r = 0; r < batch.count; r++) {
      const base = r * words;
      let sum = 0;
      let abs = 0;
      let hits = 0;
      for (let t = 0; t < this.count; t++) {
        if (rowContains(bits, base, flat, offsets[t], offsets[t + 1])) {
          sum += coefficients[t];
          abs += Math.abs(coefficients[t]);
          hits++;
        }
      }
      out[r] = sum;
      if (counts) counts[r] = hits;
      if (magnitudes) magnitudes[r] = abs;
    }
  }

  /**
   * The terms, strongest |value| first (ties: lower order, then lexicographic support), without those whose
   * |value| is at most dropAtOrBelow.
   * @param dropAtOrBelow - magnitude threshold; the empty set is always kept
   * @returns plain terms
   */
  toTerms(dropAtOrBelow = 0): SparseTerm[] {
    return Array.from(strongestFirst(this.view(), dropAtOrBelow), (t): SparseTerm => ({ players: this.players(t), value: this.coefficients[t] }));
  }

  private grow(extra: number): void {
    // capacity = coefficients.length; offsets holds one more entry
    if (this.count === this.coefficients.length) {
      const capacity = Math.max(64, 2 * this.coefficients.length);
      const offsets = new Int32Array(capacity + 1);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const values = new Float64Array(capacity);
      values.set(this.coefficients);
      this.coefficients = values;
    }
    const needed = this.offsets[this.count] + extra;
    if (needed > this.flat.length) {
      const flat = new Int32Array(Math.max(needed, this.flat.length * 2));
      flat.set(this.flat);
      this.flat = flat;
    }
  }
}

/**
 * A support's key in a TermStore: its players, ascending, one UTF-16 code unit each (players < 4096 =
 * MAX_SPARSE_PLAYERS). Cheaper to build and to hash than the players joined by commas, and a tree proxy's readout
 * keys its supports the same way.
 * @param players - the support, ascending
 * @returns the key
 */
function supportKey(players: ArrayLike<number>): string {
  let key = '';
  for (let k = 0; k < players.length; k++) key += String.fromCharCode(players[k]);
  return key;
}

/**
 * The indices of flat terms in TermStore.toTerms' order: strongest |value| first (ties: lower order, then
 * lexicographic support), without the non-empty ones whose |value| is at most dropAtOrBelow. Sorting indices over
 * the flat arrays makes no object per term.
 * @param terms - the terms (a TermView, or FlatTerms)
 * @param dropAtOrBelow - magnitude threshold; the empty set is always kept
 * @returns the indices, in order
 */
export function strongestFirst(terms: Pick<TermView, 'offsets' | 'flat' | 'values'> & { readonly count?: number }, dropAtOrBelow = 0): Int32Array {
  const { offsets, flat, values } = terms;
  const count = terms.count ?? values.length;
  const kept: number[] = [];
  for (let t = 0; t < count; t++) if (offsets[t + 1] === offsets[t] || Math.abs(values[t]) > dropAtOrBelow) kept.push(t);
  return Int32Array.from(kept).sort((a, b) => {
    const byValue = Math.abs(values[b]) - Math.abs(values[a]);
    if (byValue !== 0) return byValue;
    const la = offsets[a + 1] - offsets[a];
    const lb = offsets[b + 1] - offsets[b];
    if (la !== lb) return la - lb;
    for (let k = 0; k < la; k++) if (flat[offsets[a] + k] !== flat[offsets[b] + k]) return flat[offsets[a] + k] - flat[offsets[b] + k];
    return 0;
  });
}

/**
 * Sorts terms strongest |value| first; ties by order, then lexicographically by support.
 * @param terms - the terms (sorted in place)
 * @returns terms
 */
export function sortTerms(terms: SparseTerm[]): SparseTerm[] {
  return terms.sort((a, b) => Math.abs(b.value) - Math.abs(a.value) || a.players.length - b.players.length || compareSupports(a.players, b.players));
}

function compareSupports(a: readonly number[], b: readonly number[]): number {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k] - b[k];
  return 0;
}
