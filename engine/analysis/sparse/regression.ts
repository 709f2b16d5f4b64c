// The regression baseline ('regression'): least squares of v on uniformly random masks over every Möbius term of
// order ≤ d (k-additive / Faith-style fit). Solved in Fourier coordinates, where the design is near-orthogonal on
// uniform masks, then mapped to Möbius. Exact for games of order ≤ d once the samples exceed the Σ_{j≤d} C(n, j) unknowns.
import { MemoryLimitError } from '../../contracts/errors.js';
import type { MethodContext, MethodResult } from './method.js';
import { incidenceApply, incidenceTransposed, solveLeastSquares, type Incidence, type LinearOperator } from './least-squares.js';
import { randomMasks } from './masks.js';
import { TermStore } from './terms.js';

/** Most non-zeros of the design (Int32 indices: 160 MB). */
const MAX_NONZEROS = 40_000_000;
/** Masks per game call. */
const CHUNK = 4096;
/** CGLS iterations at most (the Fourier design is well conditioned: a few hundred reach round-off). */
const MAX_ITERATIONS = 2000;
/** Coefficients within NOISE_Z standard errors of zero are dropped. */
const NOISE_Z = 4;

/** Every subset of order ≤ d, in rank order: support k = players[start[k] .. start[k+1]). */
interface TermIndex {
  readonly count: number;
  readonly start: Int32Array;
  readonly players: Int32Array;
  /** binomial[x·(d+1) + t] = C(x, t), for x ≤ n. */
  readonly binomial: Float64Array;
  /** First rank of each order j. */
  readonly offset: Float64Array;
}

/**
 * Fits every Möbius term of order ≤ maxOrder by least squares on the fit's share of the budget.
 * @param context - oracle, n, maxOrder, randomness, held-out reserve
 * @returns the terms not within noise of zero, and the drop threshold
 * @throws MemoryLimitError when the design would exceed 4·10^7 non-zeros
 */
export async function regressionMobius(context: MethodContext): Promise<MethodResult> {
  const { oracle, n, maxOrder, rng, reserve } = context;
  const index = termIndex(n, maxOrder);
  const samples = oracle.remaining - reserve;
  const masks = randomMasks(n, samples, rng);
  const values = new Float64Array(samples);
  for (let start = 0; start < samples; start += CHUNK) {
    const count = Math.min(CHUNK, samples - start);
    const chunk = { n, count, words: masks.words, bits: masks.bits.subarray(start * masks.words, (start + count) * masks.words) };
    values.set(await oracle.evaluate(chunk), start);
  }
  const design = mobiusDesign(masks, index, oracle.throwIfCancelled);
  const map = subsetMap(index);
  const f = new Float64Array(index.count);
  solveLeastSquares(fourierOperator(design, map), values, f, MAX_ITERATIONS, () => oracle.throwIfCancelled());
  const m = new Float64Array(index.count);
  toMobius(map, f, m);
  const fitted = new Float64Array(samples);
  incidenceApply(design, m, fitted);
  let sse = 0;
  for (let r = 0; r < samples; r++) sse += (values[r] - fitted[r]) ** 2;
  const sigma = samples > index.count ? Math.sqrt(sse / (samples - index.count)) : 0;
  return { store: pruned(index, m, sigma, samples), dropAtOrBelow: 0 };
}

/** Enumerates the subsets of order ≤ d by rank (colex within each order). */
function termIndex(n: number, d: number): TermIndex {
  const binomial = new Float64Array((n + 1) * (d + 1));
  for (let x = 0; x <= n; x++) {
    binomial[x * (d + 1)] = 1;
    for (let t = 1; t <= d; t++) binomial[x * (d + 1) + t] = x === 0 ? 0 : binomial[(x - 1) * (d + 1) + t - 1] + binomial[(x - 1) * (d + 1) + t];
  }
  const offset = new Float64Array(d + 2);
  for (let j = 0; j <= d; j++) offset[j + 1] = offset[j] + binomial[n * (d + 1) + j];
  const count = offset[d + 1];
  const start = new Int32Array(count + 1);
  let flat = 0;
  for (let j = 0; j <= d; j++) flat += j * binomial[n * (d + 1) + j];
  const players = new Int32Array(flat);
  const index: TermIndex = { count, start, players, binomial, offset };
  let k = 0;
  let at = 0;
  for (let j = 0; j <= d; j++) {
    // colex order: the combination c_1 < … < c_j of rank Σ C(c_t, t) comes at position rank within order j
    const combo = Int32Array.from({ length: j }, (_, t) => t);
    for (let r = 0; r < binomial[n * (d + 1) + j]; r++) {
      start[k] = at;
      players.set(combo, at);
      at += j;
      k++;
      nextColex(combo, n);
    }
  }
  start[count] = at;
  return index;
}

/** The next j-combination in colex order (in place); wraps after the last. */
function nextColex(combo: Int32Array, n: number): void {
  const j = combo.length;
  for (let t = 0; t < j; t++) {
    const limit = t + 1 < j ? combo[t + 1] : n;
    if (combo[t] + 1 < limit) {
      combo[t]++;
      for (let u = 0; u < t; u++) combo[u] = u;
      return;
    }
  }
}

/** The rank of a sorted support (colex within its order, after all lower orders). */
function rankOf(index: TermIndex, support: Int32Array, length: number, d: number): number {
  let rank = index.offset[length];
  for (let t = 0; t < length; t++) rank += index.binomial[support[t] * (d + 1) + t + 1];
  return rank;
}

/** Row r holds the ranks of every subset of order ≤ d of mask r: the Möbius design 1[S ⊆ T]. */
function mobiusDesign(masks: { n: number; count: number; words: number; bits: Uint32Array }, index: TermIndex, throwIfCancelled: () => void): Incidence {
  const d = index.offset.length - 2;
  const rowStart = new Int32Array(masks.count + 1);
  let cols = new Int32Array(1024);
  let filled = 0;
  const present = new Int32Array(masks.n);
  const chosen = new Int32Array(d);
  for (let r = 0; r < masks.count; r++) {
    if ((r & 255) === 0) throwIfCancelled();
    let size = 0;
    for (let i = 0; i < masks.n; i++) if ((masks.bits[r * masks.words + (i >>> 5)] >>> (i & 31)) & 1) present[size++] = i;
    let rowTerms = 0;
    for (let j = 0; j <= d; j++) rowTerms += index.binomial[size * (d + 1) + j];
    if (filled + rowTerms > MAX_NONZEROS) {
      throw new MemoryLimitError(
        `The regression design needs more than ${MAX_NONZEROS} non-zeros (${masks.count} masks × about ${rowTerms} terms each). Lower options.budget or options.maxOrder, or use method 'adaptive'.`,
      );
    }
    if (filled + rowTerms > cols.length) {
      const grown = new Int32Array(Math.min(MAX_NONZEROS, Math.max(filled + rowTerms, cols.length * 2)));
      grown.set(cols.subarray(0, filled));
      cols = grown;
    }
    filled = subsetsOf(present, size, d, chosen, index, cols, filled);
    rowStart[r + 1] = filled;
  }
  return { rows: masks.count, columns: index.count, rowStart, cols: cols.subarray(0, filled) };
}

/** Writes the ranks of every subset of present[0..size) of order ≤ d into cols from position at. */
function subsetsOf(present: Int32Array, size: number, d: number, chosen: Int32Array, index: TermIndex, cols: Int32Array, at: number): number {
  cols[at++] = 0; // ∅
  const visit = (from: number, depth: number): void => {
    for (let k = from; k < size; k++) {
      chosen[depth] = present[k];
      cols[at++] = rankOf(index, chosen, depth + 1, d);
      if (depth + 1 < d) visit(k + 1, depth + 1);
    }
  };
  if (d > 0) visit(0, 0);
  return at;
}

/** The Möbius ↔ Fourier map M as lists: term F's subsets S are subset[at[F] .. at[F+1]), weight 2^{|S|}(−1)^{|F|−|S|}. */
interface SubsetMap {
  readonly at: Int32Array;
  readonly subset: Int32Array;
  readonly weight: Float64Array;
}

/** Lists every S ⊆ F for every term F (Σ_F 2^{|F|} entries). */
function subsetMap(index: TermIndex): SubsetMap {
  const d = index.offset.length - 2;
  const at = new Int32Array(index.count + 1);
  for (let feature = 0; feature < index.count; feature++) at[feature + 1] = at[feature] + (1 << (index.start[feature + 1] - index.start[feature]));
  const subset = new Int32Array(at[index.count]);
  const weight = new Float64Array(at[index.count]);
  const chosen = new Int32Array(d);
  for (let feature = 0; feature < index.count; feature++) {
    const begin = index.start[feature];
    const order = index.start[feature + 1] - begin;
    for (let bits = 0; bits < 1 << order; bits++) {
      let size = 0;
      for (let t = 0; t < order; t++) if ((bits >>> t) & 1) chosen[size++] = index.players[begin + t];
      subset[at[feature] + bits] = rankOf(index, chosen, size, d);
      weight[at[feature] + bits] = 2 ** size * ((order - size) & 1 ? -1 : 1);
    }
  }
  return { at, subset, weight };
}

/**
 * A = design · M, where M maps Fourier coefficients (χ_F(T) = Π_{i∈F} (2·1[i∈T] − 1)) to Möbius ones:
 * m(S) = 2^{|S|} Σ_{F⊇S} (−1)^{|F|−|S|} f(F). On uniform masks A has near-orthogonal columns, so CGLS converges fast.
 * see: Kang et al., "Learning to Understand: Identifying Interactions via the Möbius Transform" (arXiv 2402.02631),
 * the Fourier–Möbius relation (with χ's sign convention here: expand Π (2x_i − 1) over subsets).
 */
function fourierOperator(design: Incidence, map: SubsetMap): LinearOperator {
  const m = new Float64Array(design.columns);
  const g = new Float64Array(design.columns);
  return {
    rows: design.rows,
    columns: design.columns,
    apply(f, out) {
      toMobius(map, f, m);
      incidenceApply(design, m, out);
    },
    applyTransposed(y, out) {
      incidenceTransposed(design, y, g);
      for (let feature = 0; feature < out.length; feature++) {
        let sum = 0;
        for (let k = map.at[feature]; k < map.at[feature + 1]; k++) sum += map.weight[k] * g[map.subset[k]];
        out[feature] = sum;
      }
    },
  };
}

/** m = M f: every Fourier term F spreads 2^{|S|}(−1)^{|F|−|S|} f(F) onto each S ⊆ F. */
function toMobius(map: SubsetMap, f: Float64Array, m: Float64Array): void {
  m.fill(0);
  for (let feature = 0; feature < f.length; feature++) {
    const x = f[feature];
    if (x === 0) continue;
    for (let k = map.at[feature]; k < map.at[feature + 1]; k++) m[map.subset[k]] += map.weight[k] * x;
  }
}

/**
 * The fitted terms in a store, without those within NOISE_Z standard errors of zero. For uniform masks the
 * standard error of m(S) is about σ̂·2^{|S|}·√(N_S / (samples − unknowns)), N_S = the Fourier terms above S.
 */
function pruned(index: TermIndex, m: Float64Array, sigma: number, samples: number): TermStore {
  const d = index.offset.length - 2;
  const n = Math.round(index.binomial.length / (d + 1)) - 1;
  let largest = 0;
  for (let k = 0; k < index.count; k++) largest = Math.max(largest, Math.abs(m[k]));
  const store = new TermStore();
  for (let k = 0; k < index.count; k++) {
    const order = index.start[k + 1] - index.start[k];
    let above = 0;
    for (let j = 0; j <= d - order; j++) above += index.binomial[(n - order) * (d + 1) + j];
    // least squares with p unknowns on m samples inflates each coefficient's variance to about σ²/(m − p)
    const error = sigma * 2 ** order * Math.sqrt(above / Math.max(1, samples - index.count));
    if (order === 0 || Math.abs(m[k]) > Math.max(NOISE_Z * error, 1e-9 * largest)) store.add(index.players.subarray(index.start[k], index.start[k + 1]), m[k]);
  }
  return store;
}
