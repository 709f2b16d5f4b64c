// The theory's exact spectral solve against a dense solve (n ≤ 8), its limits, and the σ² fit recovering a planted σ².
import { describe, expect, it } from 'vitest';
import { fitSigma2, normalizeOrders, sigma2Grid, solveTheory, strengthByOrder, theoryCurves } from '../../dist/engine/studies/theory.js';
import { denseSolve, expectClose, popcount, seededRandom, seededRng } from '../helpers/index.js';


/** (A + diag(c)) ŵ = A w* written out densely: A[T,T'] = 2^{−|T∪T'|}, c_T = 2^{|T|}σ² (spec §5.2). */
function denseTheory(wStar: Float64Array, sigma2: number): Float64Array {
  const size = wStar.length;
  const a = new Float64Array(size * size);
  for (let t = 0; t < size; t++) for (let u = 0; u < size; u++) a[t * size + u] = 2 ** -popcount(t | u);
  const rhs = new Float64Array(size);
  for (let t = 0; t < size; t++) for (let u = 0; u < size; u++) rhs[t] += a[t * size + u] * wStar[u];
  for (let t = 0; t < size; t++) a[t * size + t] += 2 ** popcount(t) * sigma2;
  return denseSolve(a, rhs);
}

describe('theory solver', () => {
  it.each([
    [1, 0.5], [2, 0.3], [3, 1], [5, 0.1], [6, 1e-3], [8, 1e-2], [8, 10],
  ])('matches a dense solve at n = %i, σ² = %f', async (n, sigma2) => {
    const wStar = seededRandom(30 + n, 1 << n);
    expectClose(solveTheory(wStar, sigma2), denseTheory(wStar, sigma2), { atol: 1e-10, rtol: 1e-9 });
  });

  it('tends to w* as σ² → 0 and damps high orders as σ² grows', async () => {
    const n = 6;
    const wStar = seededRandom(7, 1 << n);
    expectClose(solveTheory(wStar, 1e-12), wStar, { atol: 1e-4 });
    expectClose(solveTheory(wStar, 0), wStar, { atol: 1e-12 });
    const big = normalizeOrders(strengthByOrder(solveTheory(wStar, 100), n));
    const small = normalizeOrders(strengthByOrder(solveTheory(wStar, 1e-4), n));
    const mean = (d: Float64Array) => d.reduce((s, x, k) => s + k * x, 0);
    expect(mean(big)).toBeLessThan(mean(small)); // the distribution moves to higher orders as σ² decreases
  });

  it('the σ² fit recovers a planted σ²', async () => {
    const n = 8;
    const rng = seededRng(5);
    // sparse w* with interactions of orders 1..6, as the spec's sanity run
    const targets = [0, 1, 2].map(() => {
      const w = new Float64Array(1 << n);
      for (let j = 0; j < 20; j++) w[Math.floor(rng() * (1 << n))] = rng() * 4 - 2;
      return w;
    });
    const samples = targets.map((t) => [t]);
    const grid = sigma2Grid(1e2, 1e-6, 33);
    const curves = theoryCurves(samples, grid);
    for (const planted of [grid[5], grid[16], grid[27]]) {
      const real = normalizeOrders(targets.reduce((acc, t) => {
        const s = strengthByOrder(solveTheory(t, planted), n);
        return acc.map((a, k) => a + s[k]);
      }, new Float64Array(n + 1)));
      const fit = fitSigma2(curves, real);
      expect(fit.sigma2).toBeCloseTo(planted, 10);
      expect(Math.max(...Array.from(fit.error, Math.abs))).toBeLessThan(1e-6);
    }
  });
});
