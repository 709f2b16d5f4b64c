// Bad input to sparseMobius and minimumBudget: each error class, and messages that say what failed, why and
// the valid values or the fix.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKernels } from '../../../dist/bindings/index.js';
import type { KernelHost } from '../../../engine/contracts/kernels.js';
import { randomFits } from '../../../engine/analysis/sparse/fits.js';
import type { RandomFitsTask } from '../../../engine/analysis/sparse/types.js';
import { InvalidInputError, InvalidOptionError, ModelRunError, NonFiniteError, ShapeMismatchError } from '../../../engine/contracts/errors.js';
import { MAX_SPARSE_PLAYERS, SPARSE_METHODS, minimumBudget, sparseMobius, type GameFunction, type SparseOptions } from '../../../engine/analysis/sparse/index.js';
import { plantTerms, plantedGame } from './planted.js';

const game = plantedGame(plantTerms(1024, 8, 2, 1));
const failure = (run: Promise<unknown>) => run.then(() => expect.fail('expected a rejection'), (error: unknown) => error as Error);

describe('sparseMobius option errors', () => {
  it('refuses a budget below the least sufficient one, stating it', async () => {
    const least = minimumBudget(1024, 4);
    const error = await failure(sparseMobius(game, 1024, { budget: least - 1, maxOrder: 4 }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toContain(`at least ${least} evaluations`);
    expect(error.message).toContain(`options.budget = ${least - 1}`);
    await expect(sparseMobius(plantedGame(plantTerms(1024, 8, 2, 1)), 1024, { budget: least, maxOrder: 4 })).resolves.toMatchObject({ n: 1024 });
  });

  it('counts explicit held-out masks in the least budget', async () => {
    const error = await failure(sparseMobius(game, 1024, { budget: 400, maxOrder: 4, heldOut: 399 }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toMatch(/at least \d+ evaluations \(399 held-out masks included/);
  });

  it('refuses the regression method when the budget is below its Σ C(n, ≤d) unknowns', async () => {
    const least = minimumBudget(30, 2, 1, 'regression');
    const error = await failure(sparseMobius(game, 30, { budget: least - 1, maxOrder: 2, method: 'regression' }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toContain(`at least ${least}`);
  });

  it('refuses the regression method above its term limit', async () => {
    const error = await failure(sparseMobius(game, 100, { budget: 1e6, maxOrder: 3, method: 'regression' }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toMatch(/166751 terms .* above its limit of 20000.*'adaptive'/);
  });

  it('refuses n above the limit', async () => {
    const error = await failure(sparseMobius(game, MAX_SPARSE_PLAYERS + 1, { budget: 1e5, maxOrder: 2 }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toContain(`n = ${MAX_SPARSE_PLAYERS + 1} players is above the sparse engine's limit of ${MAX_SPARSE_PLAYERS}`);
  });

  it.each([
    [{ budget: 1000, maxOrder: -1 }, /options.maxOrder .*0\.\.64 \(got -1\)/],
    [{ budget: 1000, maxOrder: 65 }, /options.maxOrder .*0\.\.64 \(got 65\)/],
    [{ budget: 1000, maxOrder: 1.5 }, /options.maxOrder/],
    [{ budget: 1000.5, maxOrder: 2 }, /options.budget must be an integer ≥ 1 \(got 1000.5\)/],
    [{ budget: 0, maxOrder: 2 }, /options.budget must be an integer ≥ 1 \(got 0\)/],
    [{ budget: '1000', maxOrder: 2 }, /options.budget must be an integer/],
    [{ budget: 1000, maxOrder: 2, seed: -1 }, /options.seed must be an integer in 0\.\.4294967295/],
    [{ budget: 1000, maxOrder: 2, uniformSeed: 2.5 }, /options.uniformSeed must be an integer in 0\.\.4294967295/],
    [{ budget: 1000, maxOrder: 2, heldOut: 1000 }, /options.heldOut must be an integer in 0\.\.999/],
    [{ budget: 1000, maxOrder: 2, method: 'spex' }, /options.method must be one of: adaptive, regression, exact \(got "spex"\)/],
    [{ budget: 1000, maxOrder: 2, budgets: 3 }, /Unknown option options.budgets. Expected one of: budget, maxOrder/],
    [{ budget: 1000, maxOrder: 2, signal: {} }, /options.signal must be an AbortSignal/],
    [{ budget: 1000, maxOrder: 2, onProgress: 3 }, /options.onProgress must be a function/],
    [{ budget: 1000, maxOrder: 2, kernels: { call: 1 } }, /options.kernels must be the compiled kernels/],
  ])('refuses %o', async (options, message) => {
    const error = await failure(sparseMobius(game, 64, options as unknown as SparseOptions));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toMatch(message);
  });

  it('refuses a negative or fractional n', async () => {
    await expect(sparseMobius(game, -1, { budget: 10, maxOrder: 0 })).rejects.toThrow(InvalidOptionError);
    await expect(sparseMobius(game, 2.5, { budget: 10, maxOrder: 0 })).rejects.toThrow(/n must be a non-negative integer/);
  });

  it('lists the methods', () => {
    expect(SPARSE_METHODS).toEqual(['adaptive', 'regression', 'exact']);
  });
});

describe('sparseMobius game errors', () => {
  const options = { budget: 2000, maxOrder: 2 };

  it('wraps a throwing game in InvalidInputError with the cause', async () => {
    const cause = new TypeError('model exploded');
    const error = await failure(
      sparseMobius(() => {
        throw cause;
      }, 100, options),
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.cause).toBe(cause);
    expect(error.message).toContain('The game function threw on a batch of');
    expect(error.message).toContain('model exploded');
  });

  it('wraps a rejecting async game the same way', async () => {
    const error = await failure(sparseMobius(async () => Promise.reject(new Error('no session')), 100, options));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error.cause as Error).message).toBe('no session');
  });

  it("keeps andor's own errors as they are", async () => {
    const own = new ModelRunError('The runtime failed.');
    await expect(
      sparseMobius(() => {
        throw own;
      }, 100, options),
    ).rejects.toBe(own);
  });

  it.each([NaN, Infinity, -Infinity])('refuses a game returning %s with NonFiniteError', async (bad) => {
    const inner = plantedGame(plantTerms(100, 4, 2, 2));
    const poisoned: GameFunction = (masks) => {
      const values = inner(masks) as Float64Array;
      if (inner.calls === 3) values[values.length - 1] = bad;
      return values;
    };
    const error = await failure(sparseMobius(poisoned, 100, options));
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(error.message).toMatch(new RegExp(`returned ${bad} at row \\d+ of a batch of \\d+ masks \\(players present: `));
  });

  it('refuses a result of the wrong length with ShapeMismatchError', async () => {
    const error = await failure(sparseMobius((masks) => new Float64Array(masks.count + 1), 100, options));
    expect(error).toBeInstanceOf(ShapeMismatchError);
    expect(error.message).toMatch(/returned (\d+) values for a batch of \d+ masks/);
  });

  it('refuses a result that is not an array', async () => {
    const error = await failure(sparseMobius((() => 3) as unknown as GameFunction, 100, options));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('returned a number (3) for ');
    // the article and the kind read right for undefined and plain objects (an adversarial sweep, stop 45: "returned a
    // undefined", "returned a Object")
    const nothing = await failure(sparseMobius((() => undefined) as unknown as GameFunction, 100, options));
    expect(nothing.message).toMatch(/^The game function returned undefined for \d+ masks/);
    const object = await failure(sparseMobius((() => ({ values: [] })) as unknown as GameFunction, 100, options));
    expect(object.message).toMatch(/^The game function returned an Object for \d+ masks/);
  });

  it('accepts a Float32Array or a plain number array', async () => {
    const inner = plantedGame(plantTerms(50, 4, 1, 3));
    const result = await sparseMobius((masks) => Array.from(inner(masks) as Float64Array) as unknown as Float64Array, 50, { budget: 300, maxOrder: 1 });
    expect(result.terms.length).toBe(5);
  });

  it('refuses a game that is not a function', async () => {
    await expect(sparseMobius(3 as unknown as GameFunction, 10, options)).rejects.toThrow(InvalidInputError);
  });
});

describe('minimumBudget', () => {
  it('follows the stated formulas', () => {
    // adaptive: F = 2·(96 + ⌈1.5·s·(d·(⌈log₂ n⌉ + 2) + 1)⌉) = 2·(96 + ⌈1.5·64·49⌉) = 9600; least B with
    // B − min(1000, ⌊B/10⌋) ≥ F
    expect(minimumBudget(1024, 4, 64)).toBe(10_600);
    expect(minimumBudget(1024, 4, 64)).toBeLessThanOrEqual(20_000);
    // regression: F = ⌈1.25·(1 + 20 + 190)⌉ = 264 → B = 293 (293 − 29 = 264)
    expect(minimumBudget(20, 2, 1, 'regression')).toBe(293);
    expect(minimumBudget(10, 3, 1, 'exact')).toBe(1024);
    // for n ≤ 20 a budget of 2^n runs the exact path: no method needs more
    expect(minimumBudget(5, 4, 8)).toBe(32);
    // past a fit of 9000 the held-out share is capped at 1000
    expect(minimumBudget(4096, 4, 128)).toBe(2 * (96 + Math.ceil(1.5 * 128 * (4 * 14 + 1))) + 1000);
  });

  it('grows with sparsity, order and n', () => {
    expect(minimumBudget(256, 4, 64)).toBeGreaterThan(minimumBudget(256, 4, 16));
    expect(minimumBudget(256, 4, 16)).toBeGreaterThan(minimumBudget(256, 2, 16));
    expect(minimumBudget(1024, 2, 16)).toBeGreaterThan(minimumBudget(256, 2, 16));
  });

  it.each([
    [[5000, 2], /n must be an integer in 0\.\.4096/],
    [[10, 11], /maxOrder must be an integer in 0\.\.n = 0\.\.10/],
    [[10, 2, 0], /sparsity must be an integer ≥ 1/],
    [[10, 2, 1, 'lasso'], /method must be one of: adaptive, regression, exact/],
  ])('refuses %o', (args, message) => {
    expect(() => (minimumBudget as (...a: unknown[]) => number)(...args)).toThrow(message);
    expect(() => (minimumBudget as (...a: unknown[]) => number)(...args)).toThrow(InvalidOptionError);
  });
});

describe('a fitter given as options.fitRandom', () => {
  // a dense vote of three conjunctions: the auto search goes on to its fits on random masks, which the fitter runs
  const n = 20;
  const vote: GameFunction = (masks) =>
    Float64Array.from({ length: masks.count }, (_, r) => {
      const x = (i: number) => (masks.bits[r * masks.words] >>> i) & 1;
      return 6 / (1 + Math.exp(-(2.5 * x(0) * x(1) + 2 * x(4) * x(5) * x(6) + 1.5 * x(9) * x(10) * x(11) * x(12) - 1.5)));
    });
  let kernels: KernelHost;
  beforeAll(async () => {
    kernels = await loadKernels('debug');
  });
  const run = (fitRandom: unknown) => sparseMobius(vote, n, { budget: 3000, maxOrder: 4, seed: 1, kernels, fitRandom } as SparseOptions);
  const term = (offsets: number[], flat: number[], values: number[]) => ({ offsets: Int32Array.from(offsets), flat: Int32Array.from(flat), values: Float64Array.from(values) });

  it('that runs the fits gives the answer of the fits run in place', async () => {
    let calls = 0;
    const elsewhere = await run(async (task: RandomFitsTask) => {
      calls++;
      return randomFits(kernels, task, async () => {});
    });
    expect(calls).toBe(1);
    expect(elsewhere).toEqual(await sparseMobius(vote, n, { budget: 3000, maxOrder: 4, seed: 1, kernels }));
  });

  it('is refused when it is not a function', async () => {
    const error = await failure(run('the pool'));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toContain('options.fitRandom must be a function');
  });

  it('that throws gives InvalidInputError with the cause', async () => {
    const cause = new Error('worker gone');
    const error = await failure(run(async () => Promise.reject(cause)));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('options.fitRandom failed: worker gone');
    expect(error.cause).toBe(cause);
  });

  it.each([
    ['null', null, 'null instead of a list'],
    ['an object', {}, 'object instead of a list'],
    ['an unknown fit', [{ fit: 'forest', terms: term([0, 0], [], [1]) }], 'an unknown fit at 0 (forest)'],
    ['no R²', [{ fit: 'trees', terms: term([0, 0], [], [1]) }], 'no validation R² (a number) at fit 0'],
    ['an R² as text', [{ fit: 'trees', terms: term([0, 0], [], [1]), r2: '0.9' }], 'no validation R² (a number) at fit 0'],
    ['plain arrays', [{ fit: 'trees', terms: { offsets: [0, 0], flat: [], values: [1] }, r2: 0.9 }], 'not Int32Array'],
    ['offsets that do not frame the players', [{ fit: 'trees', terms: term([0, 2], [1], [1]), r2: 0.9 }], 'offsets do not frame'],
    ['a NaN value', [{ fit: 'trees', terms: term([0, 1], [3], [NaN]), r2: 0.9 }], 'a value of NaN at fit 0, term 0'],
    ['a player past n', [{ fit: 'trees', terms: term([0, 1], [20], [1]), r2: 0.9 }], 'ascending players below n = 20'],
    ['a descending support', [{ fit: 'trees', terms: term([0, 2], [5, 2], [1]), r2: 0.9 }], 'ascending players below n = 20'],
  ])('that returns %s gives InvalidInputError', async (_what, answer, message) => {
    const error = await failure(run(async () => answer));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain(message);
  });
});
