// The theory of the two-phase dynamics (spec §5): ŵ(σ²) = (A + diag(c))⁻¹ A w* with A[T,T'] = 2^{−|T∪T'|} and
// c_T = 2^{|T|}σ², solved matrix-free by preconditioned conjugate gradients over the subset/superset zeta kernels
// (A·w = 2^{−n}·Jᵀ(J w), J = subset zeta, Jᵀ = superset zeta); the per-order distribution of |ŵ|, the σ²(t) fit
// against real distributions, and the r(k) curves.
// see: Ren, Zhang, Xu, Xin, Liu, Zhang, "Towards the Dynamics of a DNN Learning Symbolic Interactions", NeurIPS 2024.
import { NonFiniteError } from '../contracts/errors.js';
import type { F64Buffer, KernelHost } from '../contracts/kernels.js';
import { orderTable } from '../analysis/interactions.js';
import { playersOf } from '../analysis/transforms.js';

/** Options of one solve. */
export interface SolveOptions {
  /** Relative residual at which CG stops (default 1e-10). */
  readonly tolerance?: number;
  /** CG iteration cap (default 20·2^n, at least 2000). */
  readonly maxIterations?: number;
  /** Warm start (default zero). */
  readonly initial?: Float64Array;
}

/** A solve's answer and how it went. */
export interface SolveResult {
  readonly w: Float64Array;
  readonly iterations: number;
  readonly residual: number;
}

/** Buffers for repeated solves at one n. */
class Workspace {
  readonly size: number;
  readonly bufs: F64Buffer[];
  constructor(
    readonly host: KernelHost,
    readonly n: number,
  ) {
    this.size = 2 ** n;
    this.bufs = Array.from({ length: 2 }, () => host.alloc(this.size));
  }

  /** out ← A·x = 2^{−n}·Jᵀ(J x). */
  applyA(x: Float64Array, out: Float64Array): void {
    const [buf] = this.bufs;
    this.host.view(buf).set(x);
    this.host.call('zetaSubsetF64', buf.ptr, this.n);
    this.host.call('zetaSupersetF64', buf.ptr, this.n);
    const view = this.host.view(buf);
    const scale = 2 ** -this.n;
    for (let i = 0; i < this.size; i++) out[i] = view[i] * scale;
  }

  dispose(): void {
    for (const b of this.bufs) this.host.free(b);
  }
}

/**
 * Solves (A + diag(c)) ŵ = A w* with c_T = 2^{|T|}σ² by Jacobi-preconditioned CG.
 * @param host - kernels
 * @param wStar - the ground-truth interactions w* over all 2^n sets (AND indexing; OR vectors use the same operator)
 * @param sigma2 - the noise variance σ² (≥ 0)
 * @returns ŵ, the iterations used and the final relative residual
 */
export function solveTheory(host: KernelHost, wStar: Float64Array, sigma2: number, options: SolveOptions = {}): SolveResult {
  const n = playersOf(wStar.length, 'w*');
  const ws = new Workspace(host, n);
  try {
    return solveWith(ws, wStar, sigma2, options);
  } finally {
    ws.dispose();
  }
}

function solveWith(ws: Workspace, wStar: Float64Array, sigma2: number, options: SolveOptions): SolveResult {
  const { size, n } = ws;
  const order = orderTable(n);
  const c = Float64Array.from(order, (k) => 2 ** k * sigma2);
  // diag(A)[T] = 2^{−|T|}
  const precond = Float64Array.from(order, (k, i) => 1 / (2 ** -k + c[i]));
  const b = new Float64Array(size);
  ws.applyA(wStar, b);
  const x = options.initial ? Float64Array.from(options.initial) : new Float64Array(size);
  const r = new Float64Array(size);
  const ax = new Float64Array(size);
  ws.applyA(x, ax);
  for (let i = 0; i < size; i++) r[i] = b[i] - ax[i] - c[i] * x[i];
  const z = r.map((ri, i) => ri * precond[i]);
  const p = Float64Array.from(z);
  const ap = new Float64Array(size);
  let rz = dot(r, z);
  const bNorm = Math.sqrt(dot(b, b)) || 1;
  const tolerance = options.tolerance ?? 1e-10;
  const maxIterations = options.maxIterations ?? Math.max(2000, 20 * size);
  let residual = Math.sqrt(dot(r, r)) / bNorm;
  let iterations = 0;
  while (residual > tolerance && iterations < maxIterations) {
    ws.applyA(p, ap);
    for (let i = 0; i < size; i++) ap[i] += c[i] * p[i];
    const alpha = rz / dot(p, ap);
    if (!Number.isFinite(alpha)) throw new NonFiniteError(`The theory solve diverged at σ² = ${sigma2} (CG step ${alpha}); check that w* is finite.`);
    for (let i = 0; i < size; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * ap[i];
      z[i] = r[i] * precond[i];
    }
    const rzNext = dot(r, z);
    const beta = rzNext / rz;
    rz = rzNext;
    for (let i = 0; i < size; i++) p[i] = z[i] + beta * p[i];
    residual = Math.sqrt(dot(r, r)) / bNorm;
    iterations++;
  }
  return { w: x, iterations, residual };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
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

/** A log-spaced grid of σ² values, from large to small (so each solve can warm-start from the last). */
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
 * @param host - kernels
 * @param samples - per sample, its w* vectors (its AND and OR interactions, each f64[2^n])
 * @param grid - σ² values, descending (warm starts)
 * @param salientRatio - count only |ŵ_T| ≥ ratio · max over the sample's non-empty T (0 = every T), so theory and
 *   real distributions are measured alike; ŵ = (A + diag c)⁻¹ A w* is dense, and its many tiny entries would
 *   otherwise dominate the middle orders
 */
export function theoryCurves(host: KernelHost, samples: readonly (readonly Float64Array[])[], grid: readonly number[] = sigma2Grid(), salientRatio = 0): TheoryCurves {
  if (samples.length === 0) return { grid, strength: [], normalized: [], ratio: [] };
  const n = playersOf(samples[0][0].length, 'w*');
  const order = orderTable(n);
  const ws = new Workspace(host, n);
  try {
    const strength = grid.map(() => new Float64Array(n + 1));
    const warm = samples.map((vectors) => vectors.map((): Float64Array | undefined => undefined));
    grid.forEach((sigma2, g) => {
      samples.forEach((vectors, s) => {
        const solved = vectors.map((target, j) => (warm[s][j] = solveWith(ws, target, sigma2, { initial: warm[s][j], tolerance: 1e-8 }).w));
        let max = 0;
        for (const w of solved) for (let m = 1; m < w.length; m++) max = Math.max(max, Math.abs(w[m]));
        const threshold = salientRatio * max;
        for (const w of solved) {
          for (let m = 1; m < w.length; m++) if (Math.abs(w[m]) >= threshold) strength[g][order[m]] += Math.abs(w[m]) / samples.length;
        }
      });
    });
    const ratio = strength.map((st) => Float64Array.from(st, (_, k) => {
      if (k === 0 || k >= n) return 0;
      let low = 0;
      let high = 0;
      for (let j = 1; j <= n; j++) (j <= k ? (low += st[j]) : (high += st[j]));
      return high === 0 ? Infinity : low / high;
    }));
    return { grid, strength, normalized: strength.map(normalizeOrders), ratio };
  } finally {
    ws.dispose();
  }
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
