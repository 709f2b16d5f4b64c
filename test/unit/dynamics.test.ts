// Dynamics aggregation on synthetic interaction series with planted structure: the turning point, the loss-gap
// rise and the σ²(t) fit must come back as planted.
import { describe, expect, it } from 'vitest';
import { aggregateDynamics, gapRise, turningPoint, type PairRecord } from '../../dist/engine/studies/dynamics.js';
import { salience } from '../../dist/engine/analysis/interactions.js';
import { sigma2Grid, solveTheory } from '../../dist/engine/studies/theory.js';
import { popcount, seededRng } from '../helpers/index.js';

const n = 6;
const size = 1 << n;

/** A record of one sample from its AND and OR vectors, with the salient threshold and per-order sums. */
function record(and: Float64Array, or: Float64Array): PairRecord {
  const { threshold, orders } = salience(and, or, n, { salientRatio: 0.05, salientIncludeEmpty: false });
  return { and, or, threshold, positive: orders.positive, negative: orders.negative, output: 3, players: Array.from({ length: n }, (_, i) => `p${i}`) };
}

/** Sparse w* with interactions of orders 1..4, as in the spec's sanity run. */
function sparse(seed: number): Float64Array {
  const rng = seededRng(seed);
  const w = new Float64Array(size);
  let placed = 0;
  while (placed < 8) {
    const m = Math.floor(rng() * size);
    const k = popcount(m);
    if (k < 1 || k > 4 || w[m] !== 0) continue;
    w[m] = (rng() < 0.5 ? -1 : 1) * (1 + rng());
    placed++;
  }
  return w;
}

/** Random interactions whose variance grows as 2^|S| (the spindle of an initialized network, spec §4.2). */
function spindle(seed: number): Float64Array {
  const rng = seededRng(seed);
  return Float64Array.from({ length: size }, (_, m) => (m === 0 ? 0 : (rng() * 2 - 1) * 2 ** (popcount(m) / 2)));
}

describe('turning point and gap rise', () => {
  it('turningPoint is the smallest κ after initialization', () => {
    expect(turningPoint([3.1, 2.5, 1.4, 1.2, 1.6, 2.0])).toBe(3);
    expect(turningPoint([0.5, 2.5, 1.4, 1.9])).toBe(2); // initialization itself is never the turning point
    expect(turningPoint([1.0])).toBe(0);
  });

  it('turningPoint skips checkpoints with no salient interaction (κ = 0)', () => {
    // the authors' salient max with ∅ on digits-cnn-series: nothing salient at epochs 0–2 (REPRODUCTION.md)
    expect(turningPoint([0, 0, 0, 1.0, 1.77, 1.94])).toBe(3);
    expect(turningPoint([2, 0, 0])).toBe(1);
  });

  it('gapRise is the first rise over the running minimum beyond the tolerance', () => {
    expect(gapRise([0, -0.01, -0.03, -0.02, 0.05, 0.2], 0.02)).toBe(4);
    expect(gapRise([0, -0.01, -0.03, -0.02], 0.02)).toBeNull();
  });
});

describe('aggregateDynamics on a planted series', () => {
  it('finds the planted turning point and recovers the planted σ² of every phase-2 checkpoint', async () => {
    const grid = sigma2Grid();
    const samples = [
      { values: new Float64Array(1), label: 0, split: 'train' }, { values: new Float64Array(1), label: 1, split: 'train' },
      { values: new Float64Array(1), label: 0, split: 'test' }, { values: new Float64Array(1), label: 1, split: 'test' },
    ];
    const wAnd = samples.map((_, s) => sparse(10 + s));
    const wOr = samples.map((_, s) => sparse(20 + s));
    const theory = (w: Float64Array, sigma2: number) => solveTheory(w, sigma2);
    // phase 1: spindle-shaped noise fading into the low-order start of phase 2; planted turning point at t = 3,
    // then σ² falls along grid points (phase 2), ending at the smallest σ² of the grid (the trained model, w*)
    const planted = [grid[0], grid[12], grid[20], grid[28], grid[40]];
    const noise = [1, 0.5, 0.25];
    const checkpoints = [
      ...noise.map((a, t) => samples.map((_, s) => record(
        theory(wAnd[s], grid[0]).map((x, m) => x + a * spindle(100 * t + s)[m]),
        theory(wOr[s], grid[0]).map((x, m) => x + a * spindle(200 * t + s)[m]),
      ))),
      ...planted.map((sigma2) => samples.map((_, s) => record(theory(wAnd[s], sigma2), theory(wOr[s], sigma2)))),
    ].map((records, t) => ({ file: `epoch-${t}.onnx`, sha256: String(t), records }));
    const gaps = [0, -0.01, -0.02, -0.03, -0.035, 0.01, 0.2, 0.5];
    const result = aggregateDynamics({
      checkpoints,
      references: [samples.map((_, s) => record(wAnd[s], new Float64Array(size)))],
      samples,
      losses: { checkpoints: gaps.map((g, t) => ({ name: `epoch-${t}`, trainLoss: 0.5, testLoss: 0.5 + g })) },
      gapTolerance: 0.02,
      salientRatio: 0.05,
    });
    expect(result.turningPoint).toBe(3);
    expect(result.gapRise).toBe(5);
    const kappa = result.checkpoints.map((c) => c.kappa);
    for (let t = 4; t < kappa.length; t++) expect(kappa[t]).toBeGreaterThan(kappa[t - 1]); // ever higher orders
    planted.forEach((sigma2, j) => expect(result.theory!.sigma2[3 + j]).toBeCloseTo(sigma2, 12));
    // generalizable: the reference shares exactly the AND interactions of the trained model
    const last = result.checkpoints[result.checkpoints.length - 1].generalization!;
    expect(last.ratio).toBeGreaterThan(0.3);
    expect(last.ratio).toBeLessThan(0.7);
    // train and test samples differ: Jaccard below 1, and defined for every order present
    expect(result.jaccard![1]).toBeLessThan(1);
  });
});
