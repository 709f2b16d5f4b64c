// The decomposition kernels: gradients against finite differences, the reference preset against an independent
// dense implementation of the authors' update rule step for step, the best-iterate bookkeeping of every solver, and
// what every preset must keep: universal matching within the q bound and an objective below the unlearned split's.
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
  ] as const)('the reference preset (%s, the authors\' mode %s) follows the dense implementation of their rule step for step (n = %i)', async (name, denseMode, n) => {
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

describe.each(KERNEL_TARGETS)('decomposition kernels: best iterate and divergence bookkeeping (%s)', (target) => {
  it.each(Object.entries(MODES))('sgdF64 (%s) takes the reference\'s steps exactly and keeps the best iterate, the last objective and its iteration', async (_name, mode) => {
    const host = await loadKernels(target);
    const n = 7;
    const size = 1 << n;
    const iterations = 60;
    const v = seededRandom(31, size).map((x) => 3 * x);
    const qbound = 0.04 * Math.abs(v[size - 1] - v[0]);
    const lr = 0.5; // too large on purpose: the objective rises, so the best iterate is not the last
    const reference = host.alloc(SLOTS * size);
    const tracked = host.alloc(SLOTS * size);
    const state = host.alloc(5);
    host.view(reference).set(v);
    host.view(tracked).set(v);
    // state: best objective, last objective, iteration of the best, pair of slots of the last iterate, of the best
    // (pair 0: γ, q in slots 1, 2; pair 1: slots 11, 12)
    const pairOf = (pair: number) => host.view(tracked).subarray((pair ? 11 : 1) * size, (pair ? 13 : 3) * size);
    let best = { objective: Infinity, t: -1, split: new Float64Array(0) };
    let last = NaN;
    for (let t = 0; t < iterations; t++) {
      // the iterate evaluated at t: γ_t and q_t clamped (the step follows in the same call)
      const view = host.view(reference);
      const split = Float64Array.of(...view.subarray(size, 2 * size), ...view.subarray(2 * size, 3 * size).map((x) => Math.min(qbound, Math.max(-qbound, x))));
      last = host.call('sgdReferenceF64', reference.ptr, n, mode, iterations, lr, qbound, t, t + 1, 0, 1);
      const loss = host.call('sgdF64', tracked.ptr, state.ptr, n, mode, iterations, lr, qbound, t, t + 1, 0, 1);
      expect(loss).toBe(last);
      expect(pairOf(host.view(state)[3])).toEqual(host.view(reference).subarray(size, 3 * size));
      if (last < best.objective) best = { objective: last, t, split };
    }
    expect(best.t).toBeLessThan(iterations - 1);
    const [bestObjective, lastObjective, bestAt, , bestPair] = host.view(state);
    expect([bestObjective, lastObjective, bestAt]).toEqual([best.objective, last, best.t]);
    expect(pairOf(bestPair)).toEqual(best.split);
    host.free(state);
    host.free(tracked);
    host.free(reference);
  });

  it.each([
    ['adamF64', 0.05],
    ['pdhgF64', 5],
  ] as const)('%s records its last objective and writes its best iterate back, whose objective it reports', async (kernel, lr) => {
    const host = await loadKernels(target);
    const n = 6;
    const size = 1 << n;
    const iterations = 300;
    const v = seededRandom(41, size);
    const qbound = 0.04 * Math.abs(v[size - 1] - v[0]);
    const ws = host.alloc(SLOTS * size);
    const state = host.alloc(5);
    const trace = host.alloc(iterations);
    host.view(ws).set(v);
    const mode = MODES['and-or'];
    const start = host.call('objectiveF64', ws.ptr, n, mode);
    const best = kernel === 'adamF64'
      ? host.call('adamF64', ws.ptr, state.ptr, n, mode, iterations, lr, 0.01, qbound, 0, iterations, trace.ptr, 1)
      : host.call('pdhgF64', ws.ptr, state.ptr, n, mode, iterations, lr, qbound, 0, iterations, trace.ptr, 1);
    const traced = host.view(trace);
    const [bestObjective, lastObjective, bestAt] = host.view(state);
    expect(bestObjective).toBe(best);
    expect(lastObjective).toBe(traced[iterations - 1]);
    // Adam's trace starts at the start; PDHG's after its first step (its start is iteration −1)
    const seen = kernel === 'adamF64' ? Array.from(traced) : [start, ...traced];
    expect(best).toBe(Math.min(...seen));
    expect(bestAt).toBe(kernel === 'adamF64' ? seen.indexOf(best) : seen.indexOf(best) - 1);
    expectClose(host.call('objectiveF64', ws.ptr, n, mode), best, { rtol: 1e-12 });
    host.free(trace);
    host.free(state);
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

  it.each(['reference', 'authors', 'default'] as const)('%s keeps universal matching within the q bound and lowers the objective on the bundled model', async (preset) => {
    for (const row of [0, 3]) {
      const none = await engine.explain({ ...MLP, row, preset: 'none' });
      const learned = await engine.explain({ ...MLP, row, preset });
      const d = learned.decomposition;
      expect(d.preset).toBe(preset);
      expect(d.objective.initial).toBeCloseTo(none.decomposition.objective.final, 9);
      expect(d.objective.final).toBeLessThan(d.objective.initial);
      expect(d.diverged).toBe(false);
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
    [{ preset: 'authors', solver: 'pdhg' }, /solver applies only to preset "default" \(got preset "authors"\)/],
  ])('rejects %j', async (options, error) => {
    await expect(engine.explainValues({ values: [0, 1, 2, 3], ...(options as object) })).rejects.toThrowError(error as never);
  });

  it('rejects NaN in v and n out of range', async () => {
    await expect(engine.explainValues({ values: [0, NaN, 1, 2] })).rejects.toThrowError(NonFiniteError);
    // finite v whose interactions overflow float64: no solver can start
    await expect(engine.explainValues({ values: [1e308, -1e308, -1e308, 1e308], preset: 'authors' })).rejects.toThrowError(/The interactions of v overflow float64/);
    await expect(engine.explainValues({ values: [1] })).rejects.toThrowError(ShapeMismatchError);
  });
});
