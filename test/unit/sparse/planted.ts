// Test fixtures of the sparse engine: seeded planted AND and OR games over bit-packed masks, the exact Möbius
// reference (plain TS, from all 2^n values), and support/coefficient scores. No test lives here.
import type { GameFunction, MaskBatch, SparseExpansion } from '../../../engine/analysis/sparse/index.js';
import { createMasks } from '../../../engine/analysis/sparse/masks.js';

import { seededRng } from '../../helpers/index.js';

export { seededRng };

/** A planted game's terms: supports (sorted) with coefficients, and the ∅ constant. */
export interface Planted {
  readonly terms: { readonly players: number[]; readonly value: number }[];
  readonly empty: number;
}

/**
 * s distinct random supports with orders cycling 1..d (an order moves up once half its supports are taken), and
 * coefficients of magnitude in [1, 10] with random signs; ∅ constant in [−5, 5].
 */
export function plantTerms(n: number, s: number, d: number, seed: number): Planted {
  const random = seededRng(seed);
  const binomial = (a: number, b: number) => Array.from({ length: b }, (_, i) => (a - i) / (i + 1)).reduce((x, y) => x * y, 1);
  const taken = new Array(d + 1).fill(0);
  const keys = new Set<string>();
  const terms: Planted['terms'] = [];
  while (terms.length < s) {
    let order = 1 + (terms.length % d);
    while (order < d && taken[order] >= binomial(n, order) / 2) order++;
    const set = new Set<number>();
    while (set.size < order) set.add(Math.floor(random() * n));
    const players = [...set].sort((a, b) => a - b);
    if (keys.has(players.join(','))) continue;
    keys.add(players.join(','));
    taken[order]++;
    terms.push({ players, value: (1 + 9 * random()) * (random() < 0.5 ? -1 : 1) });
  }
  return { terms, empty: 10 * random() - 5 };
}

/** Whether row r of a batch holds player i. */
export const has = (masks: MaskBatch, row: number, i: number) => ((masks.bits[row * masks.words + (i >>> 5)] >>> (i & 31)) & 1) === 1;

/** Counts its calls and evaluations. */
export type CountingGame = GameFunction & { calls: number; evaluations: number };

/** A game of one value per mask row (plus another game's, when given), counting its calls and evaluations. */
function counting(value: (masks: MaskBatch, row: number) => number, plus?: GameFunction): CountingGame {
  const game = ((masks: MaskBatch) => {
    game.calls++;
    game.evaluations += masks.count;
    const out = plus ? Float64Array.from(plus(masks) as Float64Array) : new Float64Array(masks.count);
    for (let r = 0; r < masks.count; r++) out[r] += value(masks, r);
    return out;
  }) as CountingGame;
  game.calls = 0;
  game.evaluations = 0;
  return game;
}

/**
 * v(T) = empty + Σ_j c_j·1[S_j ⊆ T] (kind 'and') or empty + Σ_j c_j·1[S_j ∩ T ≠ ∅] (kind 'or'), plus Gaussian
 * noise of standard deviation sigma (seeded).
 */
export function plantedGame(planted: Planted, { kind = 'and', sigma = 0, seed = 1 }: { kind?: 'and' | 'or'; sigma?: number; seed?: number } = {}): CountingGame {
  const random = seededRng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() || 1e-300)) * Math.cos(2 * Math.PI * random());
  return counting((masks, r) => {
    let v = planted.empty;
    for (const term of planted.terms) {
      const fires = kind === 'and' ? term.players.every((i) => has(masks, r, i)) : term.players.some((i) => has(masks, r, i));
      if (fires) v += term.value;
    }
    return sigma > 0 ? v + sigma * gauss() : v;
  });
}

/**
 * A planted AND game plus a dense tail: v(T) = planted(T) + ε·Π_{i∈T}(1 + δ_i), whose Möbius coefficients are the
 * planted ones plus ε·Π_{i∈S} δ_i on every S, a tail of tiny terms at every order, as a trained network has.
 * δ_i uniform in [−delta, delta] (seeded).
 */
export function tailGame(planted: Planted, n: number, { epsilon, delta, seed }: { epsilon: number; delta: number; seed: number }): CountingGame {
  const random = seededRng(seed);
  const deltas = Array.from({ length: n }, () => delta * (2 * random() - 1));
  const sparse = plantedGame(planted);
  return counting((masks, r) => {
    let product = 1;
    for (let i = 0; i < n; i++) if (has(masks, r, i)) product *= 1 + deltas[i];
    return epsilon * product;
  }, sparse);
}

/** A game given by its table of 2^n values (bit i of the index = player i; n ≤ 30). */
export function tableGame(values: Float64Array, n: number): CountingGame {
  return counting((masks, r) => values[n === 0 ? 0 : masks.bits[r * masks.words]]);
}

/** The exact Möbius transform m(S) = Σ_{T⊆S} (−1)^{|S|−|T|} v(T), by the textbook loops. */
export function exactMobius(values: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(values);
  for (let bit = 1; bit < 1 << n; bit <<= 1) for (let s = 0; s < m.length; s++) if (s & bit) m[s] -= m[s ^ bit];
  return m;
}

/** The planted terms as a map "i,j,k" → value. */
export const termMap = (terms: readonly { players: readonly number[]; value: number }[]) => new Map(terms.map((t) => [t.players.join(','), t.value]));

/** Support F1 (non-empty terms) and the largest relative coefficient error over the planted terms (∞ if one is missed). */
export function score(planted: Planted, result: SparseExpansion): { f1: number; maxRelativeError: number; falsePositives: number; missed: number } {
  const truth = termMap(planted.terms);
  const found = termMap(result.terms.filter((t) => t.players.length > 0));
  let hits = 0;
  for (const key of found.keys()) if (truth.has(key)) hits++;
  let maxRelativeError = 0;
  for (const [key, value] of truth) {
    const estimate = found.get(key);
    maxRelativeError = Math.max(maxRelativeError, estimate === undefined ? Infinity : Math.abs(estimate - value) / Math.abs(value));
  }
  const falsePositives = found.size - hits;
  const missed = truth.size - hits;
  return { f1: (2 * hits) / (2 * hits + falsePositives + missed), maxRelativeError, falsePositives, missed };
}

/** 1 − Σ(actual − predicted)² / Σ(actual − mean)², written out (a reference for the engine's own). */
export function rSquared(actual: Float64Array, predicted: Float64Array): number {
  let mean = 0;
  for (const v of actual) mean += v / actual.length;
  let residual = 0;
  let total = 0;
  actual.forEach((v, r) => {
    residual += (v - predicted[r]) ** 2;
    total += (v - mean) ** 2;
  });
  return 1 - residual / total;
}

/** A game given as a function of "is player i present" on every row of a batch. */
export const valuesOf = (masks: MaskBatch, f: (x: (i: number) => boolean) => number) => Float64Array.from({ length: masks.count }, (_, r) => f((i) => has(masks, r, i)));

/** Every mask of n ≤ 20 players, row m = mask m. */
export function allMasks(n: number): MaskBatch {
  const masks = createMasks(n, 2 ** n);
  for (let m = 0; m < 2 ** n; m++) masks.bits[m * masks.words] = m;
  return masks;
}
