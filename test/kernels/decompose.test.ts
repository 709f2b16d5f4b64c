// The decomposition kernels: gradients against finite differences, the reference preset against an independent
// dense implementation of the authors' update rule step for step, and what every preset must keep: universal
// matching within the q bound and an objective below the unlearned split's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseAndOr } from '../../bench/dense-reference.js';
import { loadKernels } from '../../dist/bindings/index.js';
import {
  InvalidOptionError, KERNEL_TARGETS, NonFiniteError, ShapeMismatchError, createEngine, expectClose, model, seededRandom, type Engine,
} from '../helpers/index.js';

const SLOTS = 16;
const MODES = { 'and-or': 1 | 2 | 4, and: 4 } as const;

describe.each(KERNEL_TARGETS)('decomposition kernels (%s)', (target) => {
  it.each(Object.entries(MODES))('the %s subgradient matches central finite differences', async (_name, mode) => {
    const host = await loadKernels(target);
    const n = 6;
    const size = 1 << n;
    const ws = host.alloc(SLOTS * size);
    const v = seededRandom(11, size);
    const gamma = seededRandom(12, size).map((x) => (mode & 2 ? 0.3 * x : 0));
    const q = seededRandom(13, size).map((x) => 0.1 * x);
    const set = (g: Float64Array, qq: Float64Array) => {
      const view = host.view(ws);
      view.set(v, 0);
      view.set(g, size);
      view.set(qq, 2 * size);
    };
    set(gamma, q);
    host.call('objectiveGradientF64', ws.ptr, n, mode);
    const view = host.view(ws);
    const gradGamma = view.slice(9 * size, 10 * size);
    const gradQ = view.slice(10 * size, 11 * size);
    const eps = 1e-7; // the objective is piecewise linear: differences are exact unless a kink lies within eps
    const objective = (g: Float64Array, qq: Float64Array) => {
      set(g, qq);
      return host.call('objectiveF64', ws.ptr, n, mode);
    };
    for (let i = 0; i < size; i++) {
      if (mode & 2) {
        const up = Float64Array.from(gamma), down = Float64Array.from(gamma);
        up[i] += eps;
        down[i] -= eps;
        expectClose((objective(up, q) - objective(down, q)) / (2 * eps), gradGamma[i], { atol: 1e-5 });
      }
      const up = Float64Array.from(q), down = Float64Array.from(q);
      up[i] += eps;
      down[i] -= eps;
      expectClose((objective(gamma, up) - objective(gamma, down)) / (2 * eps), gradQ[i], { atol: 1e-5 });
    }
    host.free(ws);
  });

  it.each([
    ['and-or', 'pq', 5],
    ['and-or', 'pq', 8],
    ['and', 'q', 7],
  ] as const)('the reference preset (%s) follows the dense implementation of the authors\' rule step for step (n = %i)', async (name, denseMode, n) => {
    const host = await loadKernels(target);
    const size = 1 << n;
    const iterations = 100;
    const v = seededRandom(100 + n, size).map((x) => 3 * x);
    const qbound = 0.04 * Math.abs(v[size - 1] - v[0]);
    const lr = 1e-3;
    const dense = new DenseAndOr(v, n, { lr, iterations, qbound, mode: denseMode });
    const ws = host.alloc(SLOTS * size);
    host.view(ws).set(v);
    for (let t = 0; t < iterations; t++) {
      const denseLoss = dense.step(t);
      const loss = host.call('sgdReferenceF64', ws.ptr, n, MODES[name], iterations, lr, qbound, t, t + 1, 0, 1);
      expectClose(loss, denseLoss, { rtol: 1e-9, atol: 0 });
      const view = host.view(ws);
      if (denseMode === 'pq') expectClose(view.subarray(size, 2 * size), dense.p, { rtol: 1e-9, atol: 1e-13 });
      expectClose(view.subarray(2 * size, 3 * size), dense.q, { rtol: 1e-9, atol: 1e-13 });
    }
    host.free(ws);
  });
});

describe('decomposition presets', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine();
  });
  afterAll(async () => {
    await engine.dispose();
  });

  const MLP = { model: model('breast-cancer-mlp.onnx'), sample: model('breast-cancer.samples.json'), players: '0-9' } as const;

  it.each(['reference', 'default'] as const)('%s keeps universal matching within the q bound and lowers the objective on the bundled model', async (preset) => {
    for (const row of [0, 3]) {
      const none = await engine.explain({ ...MLP, row, preset: 'none' });
      const learned = await engine.explain({ ...MLP, row, preset });
      const d = learned.decomposition;
      expect(d.preset).toBe(preset);
      expect(d.objective.initial).toBeCloseTo(none.decomposition.objective.final, 9);
      expect(d.objective.final).toBeLessThan(d.objective.initial);
      expect(learned.matching.maxAbsNoise).toBeLessThan(1e-9); // v + q is rebuilt exactly
      expect(learned.matching.maxAbsError).toBeLessThanOrEqual(d.qBound * (1 + 1e-12) + 1e-12); // v within the bound
      expectClose(d.qBound, 0.04 * Math.abs(learned.v[1023] - learned.v[0]), { rtol: 1e-12 });
      expect(d.trace.values.length).toBeGreaterThan(10);
      expect(d.salientCount).toBe(learned.salient.length);
    }
  });

  it('the default preset reaches a lower objective than the unlearned split on random games, AND-OR and AND-only', async () => {
    for (const [seed, n] of [[1, 4], [2, 8], [3, 11]]) {
      const values = seededRandom(seed, 1 << n);
      for (const decomposition of ['and-or', 'and'] as const) {
        const r = await engine.explainValues({ values, decomposition });
        expect(r.decomposition.objective.final).toBeLessThan(r.decomposition.objective.initial);
        expect(r.matching.maxAbsNoise).toBeLessThan(1e-9);
        expect(r.matching.maxAbsError).toBeLessThanOrEqual(r.decomposition.qBound + 1e-12);
      }
    }
  });

  it('the objective it reports is the L1 norm of the returned interactions (before reorganizing, equal after)', async () => {
    const r = await engine.explainValues({ values: seededRandom(9, 256) });
    // reorganizing moves OR terms of order ≤ 1 into AND; it can only lower Σ|I|, and the reported value is the learned one
    const l1 = r.and.reduce((s, x) => s + Math.abs(x), 0) + r.or.reduce((s, x) => s + Math.abs(x), 0);
    expect(l1).toBeLessThanOrEqual(r.decomposition.objective.final + 1e-9);
  });

  it('a sum of AND and OR games is split into exactly those terms', async () => {
    // v(T) = 2·[{0,1} ⊆ T] + 3·[T ∩ {2,3} ≠ ∅]: the sparsest split has one AND and one OR interaction
    const values = Array.from({ length: 16 }, (_, t) => 2 * Number((t & 3) === 3) + 3 * Number((t & 12) !== 0));
    const r = await engine.explainValues({ values, qthres: 0, iterations: 5000 });
    expectClose(r.decomposition.objective.final, 5, { atol: 1e-6 });
    expect(r.salient.map((s) => [s.kind, s.mask])).toEqual([['or', 12], ['and', 3]]);
    expectClose(r.or[12], 3, { atol: 1e-6 });
    expectClose(r.and[3], 2, { atol: 1e-6 });
  });

  it.each([
    [{ iterations: 0 }, /options.iterations must be an integer in 1..10000000 \(got 0\)/],
    [{ iterations: -5 }, InvalidOptionError],
    [{ qthres: -0.1 }, /options.qthres must be a finite number ≥ 0 \(got -0.1\)/],
    [{ lr: 0 }, /options.lr must be a finite number > 0/],
    [{ preset: 'fast' }, /options.preset must be one of: none, reference, default/],
    [{ preset: 'reference', solver: 'adam' }, /solver applies only to preset "default"/],
  ])('rejects %j', async (options, error) => {
    await expect(engine.explainValues({ values: [0, 1, 2, 3], ...(options as object) })).rejects.toThrowError(error as never);
  });

  it('rejects NaN in v and n out of range', async () => {
    await expect(engine.explainValues({ values: [0, NaN, 1, 2] })).rejects.toThrowError(NonFiniteError);
    await expect(engine.explainValues({ values: [1] })).rejects.toThrowError(ShapeMismatchError);
  });
});
