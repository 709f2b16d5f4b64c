// The lab's newer measures on synthetic checkpoint series whose answers are worked out by hand in the comments:
// generalization ratio, preserved/removed/emerged interactions, cancellation per order, multi-order pairwise
// interactions (also against the expectation by brute force), and the decay + spindle mixture fit.
import { describe, expect, it } from 'vitest';
import {
  cancellationRatio, checkpointTransitions, fitDecaySpindle, generalizationSeries, multiOrderPairwise, pairIndex, relativePairwiseStrength,
  type ModelInteractions,
} from '../../engine/studies/measures.js';
import type { SampleInteractions } from '../../engine/studies/generalization.js';
import { InvalidInputError, InvalidOptionError, NonFiniteError, ShapeMismatchError } from '../../engine/contracts/errors.js';
import { seededRng } from '../helpers/index.js';

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const ok = Number.isNaN(expected[i]) ? Number.isNaN(actual[i]) : Math.abs(actual[i] - expected[i]) <= atol;
    if (!ok) expect.fail(`index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}
const popcount = (m: number) => {
  let c = 0;
  for (; m; m &= m - 1) c++;
  return c;
};
const maskOf = (players: number[]) => players.reduce((m, p) => m | (1 << p), 0);

/** A sample over n = 3 players from a few entries; every other interaction is 0. */
function sample(entries: [kind: 'and' | 'or', players: number[], value: number][], threshold = 0.1, n = 3): SampleInteractions {
  const and = new Float64Array(1 << n);
  const or = new Float64Array(1 << n);
  for (const [kind, players, value] of entries) (kind === 'and' ? and : or)[maskOf(players)] = value;
  return { and, or, threshold };
}
const empty = () => sample([]);

describe('generalizationSeries', () => {
  // checkpoint 0, sample 0 (threshold 0.1):
  //   AND{0} = 2     ref A has AND{0} = 3           → shared
  //   AND{0,1} = −1  ref A has AND{0,1} = +1        → opposite sign: not shared
  //   OR{1,2} = 0.5  ref A has AND{1,2} = 0.4 only  → other kind: not shared
  //   AND{0,1,2} = −1  ref A has −0.05 < its threshold 0.1 → not salient there: not shared
  //   AND{2} = 0.01  below the threshold: not counted at all
  // ratio = 2 / (2 + 1 + 0.5 + 1) = 4/9. Sample 1 is all zero: the means per sample halve, the ratio does not move.
  //   (ref B shares none of them: its only interaction is OR{0,2})
  // checkpoint 1: AND{0} = 1 (shared with A), OR{0,2} = 1 (shared with ref B's OR{0,2} = 0.2) → ratio 1.
  const refA = [sample([['and', [0], 3], ['and', [0, 1], 1], ['and', [1, 2], 0.4], ['and', [0, 1, 2], -0.05]]), empty()];
  const refB = [sample([['or', [0, 2], 0.2]]), empty()];
  const c0 = [sample([['and', [0], 2], ['and', [0, 1], -1], ['or', [1, 2], 0.5], ['and', [0, 1, 2], -1], ['and', [2], 0.01]]), empty()];
  const c1 = [sample([['and', [0], 1], ['or', [0, 2], 1]]), empty()];

  it('gives Σ|I·G| / Σ|I| per checkpoint and the per-order parts (hand-computed)', () => {
    const { ratio, generalizable, strength } = generalizationSeries([c0, c1], [refA, refB]);
    expectClose(ratio, [4 / 9, 1]);
    expectClose(strength[0], [0, 1, 0.75, 0.5]);
    expectClose(generalizable[0], [0, 1, 0, 0]);
    expectClose(strength[1], [0, 0.5, 0.5, 0]);
    expectClose(generalizable[1], [0, 0.5, 0.5, 0]);
  });

  it('is NaN where a checkpoint has no salient interaction, empty for an empty series', () => {
    expect(Number.isNaN(generalizationSeries([[empty(), empty()]], [refA]).ratio[0])).toBe(true);
    expect(generalizationSeries([], [refA]).ratio).toEqual(new Float64Array(0));
  });

  it('rejects a series without reference models, and misaligned samples', () => {
    expect(() => generalizationSeries([c0], [])).toThrowError(InvalidInputError);
    expect(() => generalizationSeries([c0], [[empty()]])).toThrowError(ShapeMismatchError);
    expect(() => generalizationSeries([[sample([], 0.1, 2), empty()]], [refA])).toThrowError(ShapeMismatchError);
    expect(() => generalizationSeries([[sample([['and', [0], NaN]]), empty()]], [refA])).toThrowError(NonFiniteError);
  });
});

describe('checkpointTransitions', () => {
  // 0 → 1: AND{0} 1 → 3 preserved (order 1, strength 3 after, 1 before);
  //        AND{0,1} −2 → +2 flips sign: removed (2) and emerged (2);
  //        OR{1,2} 1 → 0: removed (1); AND{1,2} 0 → 1: emerged (1), a different kind from OR{1,2}.
  // 1 → 2: nothing changes, everything is preserved.
  const c0 = [sample([['and', [0], 1], ['and', [0, 1], -2], ['or', [1, 2], 1]])];
  const c1 = [sample([['and', [0], 3], ['and', [0, 1], 2], ['and', [1, 2], 1]])];
  const c2 = [sample([['and', [0], 3], ['and', [0, 1], 2], ['and', [1, 2], 1]])];

  it('splits interactions into preserved, removed and emerged per order (hand-computed)', () => {
    const [first, second] = checkpointTransitions([c0, c1, c2]);
    expect([first.from, first.to, second.from, second.to]).toEqual([0, 1, 1, 2]);
    expectClose(first.preserved.count, [0, 1, 0, 0]);
    expectClose(first.preserved.strength, [0, 3, 0, 0]);
    expectClose(first.preserved.strengthBefore, [0, 1, 0, 0]);
    expectClose(first.removed.count, [0, 0, 2, 0]);
    expectClose(first.removed.strength, [0, 0, 3, 0]);
    expectClose(first.emerged.count, [0, 0, 2, 0]);
    expectClose(first.emerged.strength, [0, 0, 3, 0]);
    expectClose(second.preserved.count, [0, 1, 2, 0]);
    expectClose(second.removed.count, [0, 0, 0, 0]);
    expectClose(second.emerged.strength, [0, 0, 0, 0]);
  });

  it('averages over samples', () => {
    const [t] = checkpointTransitions([[...c0, empty()], [...c1, empty()]]);
    expectClose(t.removed.strength, [0, 0, 1.5, 0]);
  });

  it('returns no transition for an empty series or a single checkpoint', () => {
    expect(checkpointTransitions([])).toEqual([]);
    expect(checkpointTransitions([c0])).toEqual([]);
  });

  it('rejects checkpoints with different sample counts', () => {
    expect(() => checkpointTransitions([c0, [...c1, empty()]])).toThrowError(ShapeMismatchError);
  });
});

describe('cancellationRatio', () => {
  // sample 0: order 1: AND{0} = 2, AND{1} = −2 → |0| / 4;  order 2: AND{0,1} = 1, OR{1,2} = 3 → 4/4;
  //           order 3: AND{0,1,2} = 1, OR{0,1,2} = −0.5 → 0.5/1.5
  // sample 1: order 1: AND{2} = 1 → pooled order 1 = (0 + 1)/(4 + 1) = 0.2
  const s0 = sample([['and', [0], 2], ['and', [1], -2], ['and', [0, 1], 1], ['or', [1, 2], 3], ['and', [0, 1, 2], 1], ['or', [0, 1, 2], -0.5]], 0.6);
  const s1 = sample([['and', [2], 1]], 0.6);

  it('gives |Σ I| / Σ|I| per order, pooled over samples (hand-computed)', () => {
    expectClose(cancellationRatio([s0]), [NaN, 0, 1, 1 / 3]);
    expectClose(cancellationRatio([s0, s1]), [NaN, 0.2, 1, 1 / 3]);
  });

  it('can count salient interactions only (threshold 0.6 drops OR{0,1,2} = −0.5)', () => {
    expectClose(cancellationRatio([s0], { salientOnly: true }), [NaN, 0, 1, 1]);
  });

  it('is NaN at orders without interactions and empty without samples', () => {
    expectClose(cancellationRatio([empty()]), [NaN, NaN, NaN, NaN]);
    expect(cancellationRatio([])).toEqual(new Float64Array(0));
  });

  it('rejects a non-boolean salientOnly', () => {
    expect(() => cancellationRatio([s0], { salientOnly: 'yes' as unknown as boolean })).toThrowError(InvalidOptionError);
  });
});

describe('multiOrderPairwise', () => {
  /** I^(m)(i,j) as the plain expectation over the m-subsets of N∖{i,j}. */
  function brute(v: Float64Array, n: number, i: number, j: number, m: number): number {
    let sum = 0;
    let count = 0;
    for (let s = 0; s < 1 << n; s++) {
      if (s & ((1 << i) | (1 << j)) || popcount(s) !== m) continue;
      sum += v[s | (1 << i) | (1 << j)] - v[s | (1 << i)] - v[s | (1 << j)] + v[s];
      count++;
    }
    return sum / count;
  }

  it('matches the expectation over contexts for every pair and order (n = 7, random game)', () => {
    const n = 7;
    const rng = seededRng(11);
    const v = Float64Array.from({ length: 1 << n }, () => rng() * 2 - 1);
    const { values, strength } = multiOrderPairwise(v);
    expect(values.length).toBe(n - 1);
    for (let m = 0; m < n - 1; m++) {
      const expected: number[] = [];
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expected[pairIndex(i, j, n)] = brute(v, n, i, j, m);
      expectClose(values[m], expected, 1e-12);
      expect(strength[m]).toBeCloseTo(expected.reduce((a, b) => a + Math.abs(b), 0) / expected.length, 12);
    }
  });

  it('gives m/(n−2) for a pair inside a three-player unanimity game (hand-computed: the third player must be in S)', () => {
    // v(S) = [ {0,1,2} ⊆ S ], n = 5: Δ_01 v(S) = [2 ∈ S], and P(2 ∈ S) = m/3 for a uniform m-subset of {2,3,4}
    const n = 5;
    const v = Float64Array.from({ length: 1 << n }, (_, s) => ((s & 0b111) === 0b111 ? 1 : 0));
    const { values } = multiOrderPairwise(v);
    expectClose(values.map((row) => row[pairIndex(0, 1, n)]), [0, 1 / 3, 2 / 3, 1]);
    expectClose(values.map((row) => row[pairIndex(3, 4, n)]), [0, 0, 0, 0]);
  });

  it('numbers pairs lexicographically and rejects bad pairs', () => {
    expect([pairIndex(0, 1, 4), pairIndex(0, 3, 4), pairIndex(2, 1, 4), pairIndex(2, 3, 4)]).toEqual([0, 2, 3, 5]);
    expect(() => pairIndex(1, 1, 4)).toThrowError(InvalidInputError);
    expect(() => pairIndex(0, 4, 4)).toThrowError(InvalidInputError);
  });

  it('is empty below two players and rejects bad games', () => {
    expect(multiOrderPairwise(Float64Array.of(1, 2))).toEqual({ n: 1, values: [], strength: new Float64Array(0) });
    expect(() => multiOrderPairwise(new Float64Array(3))).toThrowError(ShapeMismatchError);
    expect(() => multiOrderPairwise(Float64Array.of(0, 1, NaN, 2))).toThrowError(NonFiniteError);
  });

  it('relative strength divides the sample mean by the mean over orders (Deng et al. J^(m), by hand)', () => {
    expectClose(relativePairwiseStrength([[1, 2, 3], [1, 2, 3]]), [0.5, 1, 1.5]);
    expectClose(relativePairwiseStrength([[0, 4, 2], [2, 0, 4]]), [0.5, 1, 1.5]);
    expectClose(relativePairwiseStrength([[0, 0]]), [NaN, NaN]);
    expect(relativePairwiseStrength([])).toEqual(new Float64Array(0));
    expect(() => relativePairwiseStrength([[1, 2], [1]])).toThrowError(ShapeMismatchError);
  });
});

describe('fitDecaySpindle', () => {
  const n = 10;
  /** The two shapes written out independently of the module: e^{−λ(k−1)} and C(n,k) p^k (1−p)^{n−k}, normalized. */
  const norm = (x: number[]) => x.map((v) => v / x.reduce((a, b) => a + b, 0));
  const choose = (a: number, b: number) => {
    let c = 1;
    for (let i = 1; i <= b; i++) c = (c * (a - b + i)) / i;
    return c;
  };
  const decay = (rate: number) => [0, ...norm(Array.from({ length: n }, (_, i) => Math.exp(-rate * i)))];
  const spindle = (p: number) => [0, ...norm(Array.from({ length: n }, (_, i) => choose(n, i + 1) * p ** (i + 1) * (1 - p) ** (n - i - 1)))];
  const mix = (a: number, rate: number, b: number, p: number) => decay(rate).map((d, k) => a * d + b * spindle(p)[k]);

  it('recovers a planted mixture off the grid: a = 0.6, λ = 0.73, b = 0.4, p = 0.47', () => {
    const fit = fitDecaySpindle(mix(0.6, 0.73, 0.4, 0.47));
    expect(fit.decay.weight).toBeCloseTo(0.6, 6);
    expect(fit.decay.rate).toBeCloseTo(0.73, 5);
    expect(fit.spindle.weight).toBeCloseTo(0.4, 6);
    expect(fit.spindle.p).toBeCloseTo(0.47, 5);
    expect(fit.decayShare).toBeCloseTo(0.6, 6);
    expect(fit.residual).toBeLessThan(1e-14);
    expectClose(fit.fitted, mix(0.6, 0.73, 0.4, 0.47), 1e-7);
    expectClose(fit.decay.curve.map((x, k) => x + fit.spindle.curve[k]), fit.fitted, 1e-15);
  });

  it('gives a pure decay all the weight, in raw units (strength 5)', () => {
    const fit = fitDecaySpindle(mix(5, 1.5, 0, 0.5));
    expect(fit.decay.weight).toBeCloseTo(5, 6);
    expect(fit.spindle.weight).toBeCloseTo(0, 6);
    expect(fit.decay.rate).toBeCloseTo(1.5, 5);
  });

  it('gives a pure spindle all the weight', () => {
    const fit = fitDecaySpindle(mix(0, 1, 1, 0.55));
    expect(fit.decay.weight).toBeCloseTo(0, 6);
    expect(fit.spindle.weight).toBeCloseTo(1, 6);
    expect(fit.spindle.p).toBeCloseTo(0.55, 5);
  });

  it('returns zero weights and NaN shape parameters for an all-zero distribution', () => {
    const fit = fitDecaySpindle(new Float64Array(n + 1));
    expect([fit.decay.weight, fit.spindle.weight, fit.residual]).toEqual([0, 0, 0]);
    expect([fit.decay.rate, fit.spindle.p, fit.decayShare].every(Number.isNaN)).toBe(true);
    expect(fit.fitted).toEqual(new Float64Array(n + 1));
  });

  it('ignores index 0 (the ∅ term)', () => {
    const d = mix(0.6, 0.73, 0.4, 0.47);
    d[0] = 100;
    expect(fitDecaySpindle(d).decay.weight).toBeCloseTo(0.6, 6);
  });

  it('rejects too few orders, negative or NaN values, and bad options', () => {
    expect(() => fitDecaySpindle([0, 1])).toThrowError(ShapeMismatchError);
    expect(() => fitDecaySpindle([])).toThrowError(ShapeMismatchError);
    expect(() => fitDecaySpindle([0, 1, -1])).toThrowError(InvalidInputError);
    expect(() => fitDecaySpindle([0, 1, NaN])).toThrowError(NonFiniteError);
    expect(() => fitDecaySpindle([0, 1, 1], { p: [0.8, 0.2] })).toThrowError(InvalidOptionError);
    expect(() => fitDecaySpindle([0, 1, 1], { rate: [0, 1] })).toThrowError(InvalidOptionError);
    expect(() => fitDecaySpindle([0, 1, 1], { gridPoints: 1 })).toThrowError(InvalidOptionError);
  });
});

// a ModelInteractions value is a plain array of samples: the type stays assignable from one
const typed: ModelInteractions = [empty()];
void typed;
