// The theory of the two-phase dynamics (spec §5): ŵ(σ²) = (A + diag(c))⁻¹ A w* with A[T,T'] = 2^{−|T∪T'|} and
// c_T = 2^{|T|}σ², solved exactly in its eigenbasis (below), the per-order distribution of |ŵ|, the σ²(t) fit against
// real distributions, and the r(k) curves.
// see: Ren, Zhang, Xu, Xin, Liu, Zhang, "Towards the Dynamics of a DNN Learning Symbolic Interactions", NeurIPS 2024.
//
// The solve. A[T,T'] = Π_i a(t_i, t'_i) with a = [[1, ½], [½, ½]] is the Kronecker power ⊗A₁, and diag(c) = σ²·⊗D₁
// with D₁ = diag(1, 2). With D = ⊗D₁ and B = D^{−½} A D^{−½} = ⊗B₁ (B₁ = D₁^{−½} A₁ D₁^{−½} = Q diag(λ) Qᵀ):
//   ŵ = D^{−½} (B + σ²I)⁻¹ B D^{½} w* = D^{−½} Q̃ diag(λ̃ / (λ̃ + σ²)) Q̃ᵀ D^{½} w*,
// where Q̃ = ⊗Q is a butterfly per player (O(n·2^n)) and λ̃_j = Π_i λ_{bit i of j}. Projecting w* once serves every σ²
// of a grid, and the answer is exact (no iteration, no tolerance). It replaced conjugate gradients over the zeta
// kernels, which took a few hundred iterations of two transforms per σ².
import { orderTable } from '../analysis/interactions.js';
import { playersOf } from '../analysis/transforms.js';

/** B₁ = D₁^{−½} A₁ D₁^{−½} = [[1, r], [r, ¼]] with r = ½/√2; its eigenvalues and unit eigenvectors (columns of Q). */
const R = 0.5 / Math.SQRT2;
const HALF_TRACE = (1 + 0.25) / 2;
const SPREAD = Math.sqrt(((1 - 0.25) / 2) ** 2 + R * R);
const LAMBDA = [HALF_TRACE + SPREAD, HALF_TRACE - SPREAD] as const;
/** Q's columns: q_k ∝ (r, λ_k − 1), normalized. */
const Q = LAMBDA.map((l) => {
  const norm = Math.hypot(R, l - 1);
  return [R / norm, (l - 1) / norm] as const;
});

/** In place, over f64[2^n]: the 2×2 matrix [[a, b], [c, d]] on every player's bit (x₀ ← a·x₀ + b·x₁, x₁ ← c·x₀ + d·x₁).
 *  Two bits per pass over the array (the 4×4 matrix of both on each quad), then the last bit if n is odd: half the
 *  passes of one bit at a time, and half the time at n = 14. */
function kronecker(x: Float64Array, n: number, a: number, b: number, c: number, d: number): void {
  let bit = 0;
  for (; bit + 1 < n; bit += 2) {
    const h = 1 << bit;
    for (let base = 0; base < x.length; base += 4 * h) {
      for (let i = base; i < base + h; i++) {
        const x0 = x[i];
        const x1 = x[i + h];
        const x2 = x[i + 2 * h];
        const x3 = x[i + 3 * h];
        // the lower bit, then the upper one
        const y0 = a * x0 + b * x1;
        const y1 = c * x0 + d * x1;
        const y2 = a * x2 + b * x3;
        const y3 = c * x2 + d * x3;
        x[i] = a * y0 + b * y2;
        x[i + h] = a * y1 + b * y3;
        x[i + 2 * h] = c * y0 + d * y2;
        x[i + 3 * h] = c * y1 + d * y3;
      }
    }
  }
  if (bit < n) {
    const h = 1 << bit;
    for (let i = 0; i < h; i++) {
      const x0 = x[i];
      const x1 = x[i + h];
      x[i] = a * x0 + b * x1;
      x[i + h] = c * x0 + d * x1;
    }
  }
}

/** The theory's solve at one n: project w* once, then ŵ at any σ². */
export class TheorySolver {
  readonly n: number;
  /** λ̃_j, the eigenvalues of B. */
  private readonly lambda: Float64Array;
  /** 2^{|T|/2}: the diagonal of D^{½}. */
  private readonly rootD: Float64Array;

  constructor(n: number) {
    this.n = n;
    const order = orderTable(n);
    // loops, here and below, not Float64Array.from(x, map): V8 runs that through the iterator protocol, ~10× slower
    // at 2^n entries (7.8 ms of each 8 ms `at` at n = 14, where 3280 of them made a dynamics aggregation's 9 s)
    this.rootD = new Float64Array(order.length);
    this.lambda = new Float64Array(order.length);
    for (let j = 0; j < order.length; j++) {
      this.rootD[j] = Math.SQRT2 ** order[j];
      let l = 1;
      for (let i = 0; i < n; i++) l *= LAMBDA[(j >> i) & 1];
      this.lambda[j] = l;
    }
  }

  /** Q̃ᵀ D^{½} w*: w* in B's eigenbasis (f64[2^n]). */
  project(wStar: Float64Array): Float64Array {
    const { rootD } = this;
    const y = new Float64Array(wStar.length);
    for (let j = 0; j < y.length; j++) y[j] = wStar[j] * rootD[j];
    kronecker(y, this.n, Q[0][0], Q[0][1], Q[1][0], Q[1][1]);
    return y;
  }

  /**
   * ŵ(σ²) from a projected w*.
   * @param projected - project(w*)
   * @param sigma2 - the noise variance σ² (≥ 0)
   */
  at(projected: Float64Array, sigma2: number): Float64Array {
    const { lambda, rootD } = this;
    const x = new Float64Array(projected.length);
    for (let j = 0; j < x.length; j++) x[j] = (projected[j] * lambda[j]) / (lambda[j] + sigma2);
    kronecker(x, this.n, Q[0][0], Q[1][0], Q[0][1], Q[1][1]);
    for (let j = 0; j < x.length; j++) x[j] /= rootD[j];
    return x;
  }
}

/**
 * Solves (A + diag(c)) ŵ = A w* with c_T = 2^{|T|}σ², exactly.
 * @param wStar - the ground-truth interactions w* over all 2^n sets (AND indexing; OR vectors use the same operator)
 * @param sigma2 - the noise variance σ² (≥ 0)
 * @returns ŵ
 */
export function solveTheory(wStar: Float64Array, sigma2: number): Float64Array {
  const solver = new TheorySolver(playersOf(wStar.length, 'w*'));
  return solver.at(solver.project(wStar), sigma2);
}

/** Σ_{|T|=k} |w_T| for k = 0..n. */
export function strengthByOrder(w: Float64Array, n: number): Float64Array {
  const order = orderTable(n);
  const out = new Float64Array(n + 1);
  for (let i = 0; i < w.length; i++) out[order[i]] += Math.abs(w[i]);
  return out;
}

/** Normalizes strengths over orders 1..n (index 0 is left 0). */
export function normalizeOrders(strength: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let k = 1; k < strength.length; k++) total += strength[k];
  return Float64Array.from(strength, (s, k) => (k === 0 || total === 0 ? 0 : s / total));
}

/** A log-spaced grid of σ² values, from large to small. */
export function sigma2Grid(from = 1e2, to = 1e-8, points = 41): number[] {
  const [hi, lo] = [Math.log10(from), Math.log10(to)];
  return Array.from({ length: points }, (_, i) => 10 ** (hi + ((lo - hi) * i) / (points - 1)));
}

/** The theoretical per-order distributions over a σ² grid, for the w* vectors of several samples. */
export interface TheoryCurves {
  readonly grid: readonly number[];
  /** strength[g][k]: Σ_{|T|=k} |ŵ_T(σ²_g)| over a sample's vectors, averaged over samples. */
  readonly strength: readonly Float64Array[];
  /** normalized[g]: strength[g] over orders 1..n. */
  readonly normalized: readonly Float64Array[];
  /** r[g][k] = Σ_{|T|≤k}|ŵ_T| / Σ_{|T|>k}|ŵ_T| for k = 1..n−1 (index 0 unused). */
  readonly ratio: readonly Float64Array[];
}

/**
 * Computes the theory's order distributions for every σ² of a grid.
 * @param samples - per sample, its w* vectors (its AND and OR interactions, each f64[2^n])
 * @param grid - σ² values
 * @param salientRatio - count only |ŵ_T| ≥ ratio · max over the sample's non-empty T (0 = every T), so theory and
 *   real distributions are measured alike; ŵ = (A + diag c)⁻¹ A w* is dense, and its many tiny entries would
 *   otherwise dominate the middle orders
 */
export function theoryCurves(samples: readonly (readonly Float64Array[])[], grid: readonly number[] = sigma2Grid(), salientRatio = 0): TheoryCurves {
  if (samples.length === 0) return { grid, strength: [], normalized: [], ratio: [] };
  const n = playersOf(samples[0][0].length, 'w*');
  const order = orderTable(n);
  const solver = new TheorySolver(n);
  const strength = grid.map(() => new Float64Array(n + 1));
  const projected = samples.map((vectors) => vectors.map((target) => solver.project(target)));
  grid.forEach((sigma2, g) => {
    const sums = strength[g];
    projected.forEach((vectors) => {
      const solved = vectors.map((y) => solver.at(y, sigma2));
      let max = 0;
      for (const w of solved) for (let m = 1; m < w.length; m++) max = Math.max(max, Math.abs(w[m]));
      const threshold = salientRatio * max;
      for (const w of solved) {
        for (let m = 1; m < w.length; m++) {
          const size = Math.abs(w[m]);
          if (size >= threshold) sums[order[m]] += size;
        }
      }
    });
    for (let k = 0; k <= n; k++) sums[k] /= samples.length;
  });
  const ratio = strength.map((st) => Float64Array.from(st, (_, k) => {
    if (k === 0 || k >= n) return 0;
    let low = 0;
    let high = 0;
    for (let j = 1; j <= n; j++) (j <= k ? (low += st[j]) : (high += st[j]));
    return high === 0 ? Infinity : low / high;
  }));
  return { grid, strength, normalized: strength.map(normalizeOrders), ratio };
}

/** The σ² whose theoretical distribution is nearest (L1) to a real one, and the per-order error theory − real. */
export function fitSigma2(curves: TheoryCurves, real: ArrayLike<number>): { sigma2: number; index: number; distance: number; error: Float64Array } {
  let best = 0;
  let bestDistance = Infinity;
  curves.normalized.forEach((theory, g) => {
    let d = 0;
    for (let k = 1; k < theory.length; k++) d += Math.abs(theory[k] - real[k]);
    if (d < bestDistance) [best, bestDistance] = [g, d];
  });
  const theory = curves.normalized[best];
  return { sigma2: curves.grid[best], index: best, distance: bestDistance, error: Float64Array.from(theory, (t, k) => (k === 0 ? 0 : t - real[k])) };
}
