// How many game evaluations each method needs: the formulas behind minimumBudget and the budget check, and the
// default count of held-out masks. Pure arithmetic; no game is called here.
import { InvalidOptionError } from '../../contracts/errors.js';
import { preview } from '../../inputs/preview.js';

/** The recovery methods, the default first. */
export const SPARSE_METHODS = ['adaptive', 'regression', 'exact'] as const;
/** A recovery method. */
export type SparseMethod = (typeof SPARSE_METHODS)[number];
/** The default method (chosen by measurement: bench/sparse.bench.js). */
export const DEFAULT_METHOD: SparseMethod = 'adaptive';
/** Most players of the sparse engine: masks stay ≤ 128 words, and a 2^12-player search is still ≤ 13 bisection steps per player. */
export const MAX_SPARSE_PLAYERS = 4096;
/** Largest n of the exact path (2^20 masks of one word each). */
export const MAX_EXACT_PLAYERS = 20;
/** Most terms the regression baseline fits (all subsets of order ≤ maxOrder). */
export const MAX_REGRESSION_TERMS = 20_000;
/** Most held-out masks by default: the default is min(HELD_OUT_CAP, ⌊budget · HELD_OUT_SHARE⌋). */
export const HELD_OUT_CAP = 1000;
/** Share of the budget held out by default (up to HELD_OUT_CAP masks). */
export const HELD_OUT_SHARE = 0.1;

/**
 * The default number of held-out masks for a budget.
 * @param budget - total evaluations
 * @returns min(1000, ⌊budget/10⌋)
 */
export function defaultHeldOut(budget: number): number {
  return Math.min(HELD_OUT_CAP, Math.floor(budget * HELD_OUT_SHARE));
}

/**
 * Evaluations the fit itself needs (held-out masks excluded).
 *
 * - adaptive: 2 · (96 + ⌈1.5 · s · (d · (⌈log₂ n⌉ + 2) + 1)⌉), twice what one search needs, since the default
 *   (auto) search gives its exact search at most half. Each term of order ≤ d is found by ≤ d bisections of
 *   ≤ ⌈log₂ n⌉ steps, one check of R per player, one more step, and (noisy games) one check of S∖{e} per player;
 *   the factor 1.5 pays for lanes that find the same term in one round; 96 = the baseline (∅ and N, up to 8 times
 *   each when the game is noisy) and the random probes that end the search (8 + 8 + 32 + 32).
 * - regression: ⌈1.25 · Σ_{j≤d} C(n, j)⌉ random masks, 25 % above the number of unknowns.
 * - exact: 2^n.
 * @param n - players
 * @param maxOrder - d
 * @param sparsity - s, the number of terms expected
 * @param method - the method
 * @returns evaluations (may be Infinity when the count overflows)
 */
export function fitBudget(n: number, maxOrder: number, sparsity: number, method: SparseMethod): number {
  switch (method) {
    case 'exact':
      return 2 ** n;
    case 'regression':
      return Math.ceil(1.25 * termCount(n, maxOrder));
    case 'adaptive': {
      const steps = maxOrder * (Math.ceil(Math.log2(Math.max(2, n))) + 2) + 1;
      return 2 * (96 + Math.ceil(1.5 * sparsity * steps));
    }
  }
}

/**
 * The most terms an adaptive fit budget is sized for: the largest s with fitBudget(n, d, s, 'adaptive') ≤ fit (0
 * when not even one term fits). A game whose exact search has found more is denser than its budget promises to
 * recover exactly.
 * @param n - players
 * @param maxOrder - d
 * @param fit - evaluations of the fit (held-out masks excluded)
 * @returns s ≥ 0
 */
export function affordableTerms(n: number, maxOrder: number, fit: number): number {
  const steps = maxOrder * (Math.ceil(Math.log2(Math.max(2, n))) + 2) + 1;
  let s = Math.max(0, Math.floor((fit / 2 - 96) / (1.5 * steps)));
  // the ceiling in fitBudget: step to the exact largest s
  while (s > 0 && fitBudget(n, maxOrder, s, 'adaptive') > fit) s--;
  while (fitBudget(n, maxOrder, s + 1, 'adaptive') <= fit) s++;
  return s;
}

/**
 * Σ_{j≤d} C(n, j): the number of subsets of order ≤ d.
 * @param n - players
 * @param maxOrder - d
 * @returns the count (a float; Infinity past 2^1024)
 */
export function termCount(n: number, maxOrder: number): number {
  let total = 0;
  let binomial = 1;
  for (let j = 0; j <= Math.min(maxOrder, n); j++) {
    total += binomial;
    binomial = (binomial * (n - j)) / (j + 1);
  }
  return total;
}

/**
 * The least total budget: the fit plus held-out masks (explicit, or the default share of the total itself).
 * @param fit - evaluations of the fit
 * @param heldOut - explicit held-out count, or undefined for the default
 * @returns the smallest B with B − heldOut(B) ≥ fit
 */
export function withHeldOut(fit: number, heldOut: number | undefined): number {
  if (heldOut !== undefined) return fit + heldOut;
  if (!Number.isFinite(fit)) return fit;
  // B − min(1000, ⌊B/10⌋) is non-decreasing in B: start from the closed form and step to the least B
  let total = Math.max(fit, Math.min(fit + HELD_OUT_CAP, Math.ceil(fit / (1 - HELD_OUT_SHARE))));
  while (total > fit && total - 1 - defaultHeldOut(total - 1) >= fit) total--;
  while (total - defaultHeldOut(total) < fit) total++;
  return total;
}

/**
 * The least budget a method needs for n players, sparsity s and order d, default held-out masks included: the
 * least B with B − min(1000, ⌊B/10⌋) ≥ F, F = fitBudget(n, d, s, method) (about min(F/0.9, F + 1000)). For
 * 'adaptive', F = 2 · (96 + ⌈1.5 · s · (d · (⌈log₂ n⌉ + 2) + 1)⌉); for 'regression', F = ⌈1.25 · Σ_{j≤d} C(n, j)⌉;
 * 'exact' needs 2^n and keeps no held-out masks; for n ≤ 20 no method needs more than 2^n (a budget of 2^n runs
 * the exact path). Example: n = 1024, d = 4, s = 64 → F = 9600, B = 10 600.
 * @param n - players, 0..4096
 * @param maxOrder - d, 0..n
 * @param sparsity - s ≥ 1, expected number of terms (default 1: the least budget that can find one term of order d)
 * @param method - 'adaptive' (default), 'regression' or 'exact'
 * @returns evaluations
 * @throws InvalidOptionError when an argument is out of range or the method is unknown
 */
export function minimumBudget(n: number, maxOrder: number, sparsity = 1, method: string = DEFAULT_METHOD): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_SPARSE_PLAYERS) {
    throw new InvalidOptionError(`n must be an integer in 0..${MAX_SPARSE_PLAYERS} (got ${n}).`);
  }
  if (!Number.isInteger(maxOrder) || maxOrder < 0 || maxOrder > n) {
    throw new InvalidOptionError(`maxOrder must be an integer in 0..n = 0..${n} (got ${maxOrder}).`);
  }
  if (!Number.isInteger(sparsity) || sparsity < 1) throw new InvalidOptionError(`sparsity must be an integer ≥ 1 (got ${sparsity}).`);
  if (!(SPARSE_METHODS as readonly string[]).includes(method)) {
    throw new InvalidOptionError(`method must be one of: ${SPARSE_METHODS.join(', ')} (got ${preview(method)}).`);
  }
  // the exact path keeps no held-out masks: it measures faithfulness on all 2^n
  if (method === 'exact') return 2 ** n;
  // a budget of 2^n switches any method to the exact path
  const exact = n <= MAX_EXACT_PLAYERS ? 2 ** n : Infinity;
  return Math.min(withHeldOut(fitBudget(n, maxOrder, sparsity, method as SparseMethod), undefined), exact);
}
