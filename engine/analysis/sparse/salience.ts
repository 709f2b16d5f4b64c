// What andor reports from a pair of sparse expansions: the salient AND and OR terms and their strength per order
// (the rules of interactions.ts's salience, over term lists instead of 2^n arrays), and the game-theoretic indices
// of v from its AND (Möbius) terms (indices.ts, sparse form). Plain arithmetic on term lists; no game is called.
import type { GameIndices } from '../game.js';
import { allIndices, type MobiusTerm } from '../indices.js';
import { distribution } from '../interactions.js';

/** A salient term: its kind, players (ascending) and value. No mask: masks of more than 53 players are no number. */
export interface SparseSalient {
  readonly kind: 'and' | 'or';
  readonly players: readonly number[];
  readonly value: number;
}

/** Options of analyzeTerms (as for the exact analysis). */
export interface TermAnalysisOptions {
  /** Salient when |I| ≥ ratio · max |I| over the non-empty AND and OR terms. */
  readonly salientRatio: number;
  /** Count the ∅ terms in that max (and report them when salient). */
  readonly salientIncludeEmpty: boolean;
  /** Largest order of the interaction indices (0: none). */
  readonly indexOrder: number;
}

/** The salient set, the strength per order and the indices of a pair of expansions. */
export interface TermAnalysis {
  readonly threshold: number;
  readonly salient: readonly SparseSalient[];
  readonly orders: { readonly positive: Float64Array; readonly negative: Float64Array; readonly normalized: Float64Array };
  readonly indices: GameIndices;
}

/**
 * Salient terms (|I| ≥ r · max over non-empty terms of |I_and|, |I_or|), their positive and negative sums per order,
 * the normalized distribution, and the indices of v from the AND terms (spec §3.1, §3.2; indices.ts).
 * @param and - Möbius terms of v (∅ included)
 * @param or - OR terms (∅ included)
 * @param n - players
 * @param options - salient ratio, whether ∅ counts, index order
 * @param mobius - every Möbius coefficient of v by mask, when known (the budget covered all 2^n masks): the indices
 *   come from them, not from the AND terms cut at maxOrder (whose Shapley values are another game's)
 * @returns threshold, salient terms strongest first, orders (index k = order k, length n + 1), indices
 */
export function analyzeTerms(and: readonly MobiusTerm[], or: readonly MobiusTerm[], n: number, options: TermAnalysisOptions, mobius?: Float64Array): TermAnalysis {
  const counts = (players: readonly number[]) => options.salientIncludeEmpty || players.length > 0;
  let max = 0;
  for (const terms of [and, or]) for (const t of terms) if (counts(t.players)) max = Math.max(max, Math.abs(t.value));
  const threshold = options.salientRatio * max;
  const positive = new Float64Array(n + 1);
  const negative = new Float64Array(n + 1);
  const salient: SparseSalient[] = [];
  if (max > 0) {
    for (const [kind, terms] of [['and', and], ['or', or]] as const) {
      for (const t of terms) {
        if (!counts(t.players) || t.value === 0 || Math.abs(t.value) < threshold) continue;
        salient.push({ kind, players: [...t.players].sort((a, b) => a - b), value: t.value });
        if (t.value > 0) positive[t.players.length] += t.value;
        else negative[t.players.length] += t.value;
      }
    }
  }
  salient.sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  const { normalized } = distribution({ positive, negative });
  return { threshold, salient, orders: { positive, negative, normalized }, indices: allIndices(mobius ?? and, { n, order: options.indexOrder }) };
}
