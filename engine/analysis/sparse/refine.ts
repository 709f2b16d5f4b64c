// Exact values for the strongest terms of a fitted expansion: the last step of an auto search on a deterministic game
// (adaptive.ts). A Möbius coefficient m(S) = Σ_{T⊆S} (−1)^{|S∖T|} v(T) depends on v at the subsets of S only: once
// all 2^|S| of them are known, m of S and of every subset of S is exact (the Möbius transform of those values).
// A fit's values are estimates (trees and least squares spread the terms they leave out over those they keep), and a
// tree of depth d holds no term beyond order d. So, while the budget lasts:
// - the salient terms get their exact values;
// - each salient support S is screened: v(S ∪ {j}) for every other player j, against the expansion's prediction;
//   the extensions S ∪ {j} that leave most unexplained there are evaluated whole, strongest residual first (a weak
//   modulation of a strong conjunction, often beyond a proxy's depth);
// - the next strongest terms get their exact values.
// Masks the search or the fits have evaluated are read, not evaluated again (memo.ts), and each step asks the game
// once, for all its masks. The caller keeps the result unless it fits the validation masks worse: a dense game's fit
// leans on its estimates, and exact values for a few of its terms can fit worse.
import { mobiusInPlace } from './exact.js';
import { addPlayers, createMasks, type MutableMaskBatch } from './masks.js';
import { MaskMemo } from './memo.js';
import type { TermStore } from './terms.js';
import type { FitSet, MaskBatch, SparseTerm } from './types.js';
import { Validation } from './validation.js';

/** The strongest terms the refinement tries, and the largest support it evaluates every subset of (2^10 masks). */
const REFINE_TERMS = 32;
const REFINE_ORDER = 10;
/** Salient: |value| ≥ SALIENT · the strongest's (the project's default salient ratio). */
const SALIENT = 0.05;

/**
 * Whether terms have a sparse top that a refinement can make exact: at most REFINE_TERMS salient ones. A dense game
 * (hundreds of salient terms: the bundled CNN and MLP) gets no refinement; its fit leans on its estimates.
 * @param terms - an expansion, ∅ included or not
 * @returns true when its salient non-empty terms are few
 */
export function refinable(terms: readonly SparseTerm[]): boolean {
  let largest = 0;
  for (const term of terms) if (term.players.length > 0) largest = Math.max(largest, Math.abs(term.value));
  return terms.filter((t) => t.players.length > 0 && Math.abs(t.value) >= SALIENT * largest).length <= REFINE_TERMS;
}

/** What a refinement needs. */
export interface RefineContext {
  readonly n: number;
  readonly maxOrder: number;
  /** Most evaluations it may make. */
  readonly budget: number;
  /** Masks whose values are known (the search's log, the fit masks): read, never evaluated again. */
  readonly known: readonly FitSet[];
  readonly evaluate: (batch: MaskBatch) => Float64Array | Promise<Float64Array>;
  readonly throwIfCancelled: () => void;
}

/** A refined expansion, and the indices of its terms that hold exact values (the fitted store's indices are kept). */
export interface Refined {
  readonly store: TermStore;
  readonly exact: ReadonlySet<number>;
}

/**
 * The expansion with the strongest terms' values made exact and the exact extensions of the salient ones added.
 * @param fitted - the fitted expansion (not changed)
 * @param terms - its terms above dropAtOrBelow, strongest first (fitted.toTerms(dropAtOrBelow))
 * @param dropAtOrBelow - the fit's noise level: added exact terms at or below it are left out
 * @param context - players, order cap, budget, known values, the game
 * @returns a refined copy, or undefined when no term could be refined within the budget
 * @throws whatever evaluate throws (cancellation, game errors)
 */
export async function refineTerms(fitted: TermStore, terms: readonly SparseTerm[], dropAtOrBelow: number, context: RefineContext): Promise<Refined | undefined> {
  const { n, maxOrder, known, evaluate, throwIfCancelled } = context;
  const memo = new MaskMemo(n);
  for (const { masks, values } of known) for (let r = 0; r < masks.count; r++) memo.set(masks.bits, r * masks.words, values[r]);
  let left = context.budget;
  /** Support key → the support and its exact m(S), for every subset of an evaluated lattice. */
  const exact = new Map<string, { players: number[]; value: number }>();

  /** The rows of a batch that are not known, each mask once. */
  const unknownRows = (batch: MaskBatch): number[] => {
    const seen = new MaskMemo(n);
    const rows: number[] = [];
    for (let r = 0; r < batch.count; r++) {
      const base = r * batch.words;
      if (memo.get(batch.bits, base) !== undefined || seen.get(batch.bits, base) !== undefined) continue;
      seen.set(batch.bits, base, r);
      rows.push(r);
    }
    return rows;
  };
  /** v on every row of a batch in one game call for the unknown masks (all of them, or none and undefined when
   *  over budget). */
  const valuesOf = async (batch: MaskBatch): Promise<Float64Array | undefined> => {
    const missing = unknownRows(batch);
    if (missing.length > left) return undefined;
    if (missing.length > 0) {
      throwIfCancelled();
      const asked = rowsOf(batch, missing);
      const values = await evaluate(asked);
      left -= missing.length;
      for (let k = 0; k < missing.length; k++) memo.set(asked.bits, k * asked.words, values[k]);
    }
    return Float64Array.from({ length: batch.count }, (_, r) => memo.get(batch.bits, r * batch.words)!);
  };
  /** v at every subset of each support, then the exact m of each subset. */
  const lattices = async (supports: readonly number[][]): Promise<void> => {
    if (supports.length === 0) return;
    const values = await valuesOf(latticeMasks(n, supports));
    if (!values) return;
    let row = 0;
    for (const support of supports) {
      const size = 2 ** support.length;
      const m = values.slice(row, row + size);
      row += size;
      // the Möbius transform of the sub-lattice (bit b of s: support[b] present)
      mobiusInPlace(m, support.length);
      // ∅ keeps the fit's value: it carries the mean of what the fit leaves out
      for (let s = 1; s < size; s++) {
        const players = support.filter((_, b) => (s >>> b) & 1);
        exact.set(players.join(','), { players, value: m[s] });
      }
    }
  };
  /** The supports, in order, whose lattices the budget pays for together (each one's unknown masks counted alone, so
   *  shared ones twice: a bound), but none that is exact already or inside one taken before. */
  const affordable = (supports: readonly number[][]): number[][] => {
    const taken: number[][] = [];
    let cost = 0;
    for (const support of supports) {
      if (exact.has(support.join(',')) || taken.some((t) => support.every((i) => t.includes(i)))) continue;
      const missing = unknownRows(latticeMasks(n, [support])).length;
      if (cost + missing > left) continue;
      cost += missing;
      taken.push(support);
    }
    return taken;
  };

  // the salient terms first (|value| ≥ SALIENT of the strongest): their supports are screened for extensions; the
  // next strongest get what is left at the end
  let largest = 0;
  for (const term of terms) if (term.players.length > 0) largest = Math.max(largest, Math.abs(term.value));
  const candidates = terms.filter((t) => t.players.length > 0 && t.players.length <= Math.min(maxOrder, REFINE_ORDER)).slice(0, REFINE_TERMS);
  const salient = affordable(candidates.filter((t) => Math.abs(t.value) >= SALIENT * largest).map((t) => t.players.slice()));
  await lattices(salient);
  if (exact.size === 0) return undefined;

  // screening: v(S ∪ {j}) for every player j outside a salient support S, strongest first while half the budget
  // left pays for it; what the expansion leaves unexplained there is the sum of the terms T ∪ {j}, T ⊆ S
  const value = (support: readonly number[]) => Math.abs(exact.get(support.join(','))!.value);
  const screened: number[][] = [];
  let screening = 0;
  for (const support of salient.sort((a, b) => value(b) - value(a))) {
    if (support.length >= Math.min(maxOrder, REFINE_ORDER) || screening + n - support.length > left / 2) continue;
    screening += n - support.length;
    for (let j = 0; j < n; j++) if (!support.includes(j)) screened.push([...support, j].sort((a, b) => a - b));
  }
  const batch = createMasks(n, screened.length);
  screened.forEach((support, r) => addPlayers(batch, r, support));
  const values = screened.length > 0 ? await valuesOf(batch) : undefined;
  if (values) {
    // the fit's prediction (summed through per-player bitsets: the fit may hold thousands of terms), corrected where
    // a value is now exact
    const predicted = new Validation({ masks: batch, values }).predicted(terms);
    for (const { players, value: m } of exact.values()) {
      const at = fitted.find(players);
      const fittedValue = at === undefined || !(Math.abs(fitted.value(at)) > dropAtOrBelow) ? 0 : fitted.value(at);
      const change = m - fittedValue;
      screened.forEach((support, r) => {
        if (players.every((i) => support.includes(i))) predicted[r] += change;
      });
    }
    // the extensions that leave most unexplained first, while the budget lasts
    const residual = screened.map((_, r) => Math.abs(values[r] - predicted[r]));
    const order = screened.map((_, r) => r).sort((a, b) => residual[b] - residual[a]);
    await lattices(affordable(order.map((r) => screened[r])));
  }
  await lattices(affordable(candidates.map((t) => t.players.slice())));

  const store = fitted.copy();
  const exactAt = new Set<number>();
  for (const { players, value } of exact.values()) {
    const at = store.find(players);
    if (at !== undefined) {
      store.setValue(at, value);
      exactAt.add(at);
    } else if (Math.abs(value) > dropAtOrBelow) {
      exactAt.add(store.add(players, value));
    }
  }
  return { store, exact: exactAt };
}

/** Every subset of each support, support after support (subset s of a support: the players of its set bits). */
function latticeMasks(n: number, supports: readonly number[][]): MutableMaskBatch {
  const batch = createMasks(n, supports.reduce((sum, s) => sum + 2 ** s.length, 0));
  let row = 0;
  for (const support of supports) {
    for (let s = 0; s < 2 ** support.length; s++, row++) {
      for (let b = 0; b < support.length; b++) {
        if ((s >>> b) & 1) batch.bits[row * batch.words + (support[b] >>> 5)] |= 1 << (support[b] & 31);
      }
    }
  }
  return batch;
}

/** The listed rows of a batch, as a new batch. */
function rowsOf(batch: MaskBatch, rows: readonly number[]): MutableMaskBatch {
  const out = createMasks(batch.n, rows.length);
  const { words } = batch;
  rows.forEach((r, k) => out.bits.set(batch.bits.subarray(r * words, (r + 1) * words), k * words));
  return out;
}
