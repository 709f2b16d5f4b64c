// An adversarial sweep of the auto search at many players (69 to 4096): fit masks that grow with n (adaptive.ts), the
// trees' floor (proxy.ts), the order-1 completion on every fit mask above 68 players (completion.ts, fits.ts), the
// fits' memory (fitBytes) and the game's errors named by the masks it was given (and-or.ts, oracle.ts). Real games
// in JS (additive, tanh networks, planted sparse sums, constants, noisy) and the release kernels, observed, never faked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKernels } from '../../../dist/bindings/index.js';
import type { KernelHost } from '../../../engine/contracts/kernels.js';
import { CancelledError, InvalidInputError, InvalidOptionError, NonFiniteError } from '../../../engine/contracts/errors.js';
import { createEngine, isSparseResult, MemoryLimitError, model, type Engine } from '../../helpers/index.js';
import { completeLowOrder, completionMasks } from '../../../engine/analysis/sparse/completion.js';
import { evaluateExpansion, fitBytes, leastAndOrBudget, randomFits, recoverAndOr, sparseOr, type AndOrExpansion } from '../../../engine/analysis/sparse/index.js';
import { randomMasks } from '../../../engine/analysis/sparse/masks.js';
import { createRng } from '../../../engine/analysis/sparse/random.js';
import { TermStore } from '../../../engine/analysis/sparse/terms.js';
import type { FitSet, GameFunction, MaskBatch, RandomFitsTask, SparseExpansion, SparseTerm } from '../../../engine/analysis/sparse/types.js';
import { failing, within } from './faults.js';
import { plantedGame, plantTerms, rSquared, seededRng } from './planted.js';

/** Named timeouts (ms). */
const SWEEP_MS = 60_000;
const SLOW_MS = 120_000;
/** Most ms from an abort to the CancelledError at 4096 players: the completion's Gram and solves run in kernel calls
 *  of a few tens of ms, with a pause between (completion.ts, CALL_WORK). When the Gram was one call (about 1 s here),
 *  the AND and OR sides' Grams and first solves ran back to back before a timer fired: 2.8–3.2 s. */
const CANCEL_BOUND_MS = 1500;

/** A game that counts its calls, the rows it receives, and the rows of its last call. */
type Counted = GameFunction & { calls: number; rows: number; last: number };

/** What the game does at one call: answer, throw, put NaN at the batch's last row, or reject (a promise). */
type Fault = 'throw' | 'nan' | 'reject';

/**
 * The game v, counted; at call `at` (1-based) it fails as `fault` says.
 * @param v - the values of a batch
 */
function counted(v: (masks: MaskBatch) => Float64Array, fault?: { at: number; kind: Fault }): Counted {
  const game = ((masks: MaskBatch) => {
    game.calls++;
    game.rows += masks.count;
    game.last = masks.count;
    if (fault?.at !== game.calls) return v(masks);
    if (fault.kind === 'throw') throw new Error('boom');
    if (fault.kind === 'reject') return Promise.reject(new Error('boom'));
    const values = v(masks);
    values[masks.count - 1] = NaN;
    return values;
  }) as Counted;
  game.calls = 0;
  game.rows = 0;
  game.last = 0;
  return game;
}

/** Players present in row r, ascending (each row's set bits, word by word). */
function present(masks: MaskBatch, r: number): number[] {
  const players: number[] = [];
  for (let k = 0; k < masks.words; k++) {
    for (let word = masks.bits[r * masks.words + k]; word !== 0; word &= word - 1) players.push(32 * k + (31 - Math.clz32(word & -word)));
  }
  return players;
}

/**
 * A game of the per-player sums z_h = bias_h + Σ_{i present} w[i·width + h], read out by `readout` (walks each row's
 * set bits: thousands of players at a few ms per thousand masks).
 */
function sumsGame(width: number, w: Float64Array, bias: Float64Array, readout: (z: Float64Array) => number): (masks: MaskBatch) => Float64Array {
  const z = new Float64Array(width);
  return (masks) => {
    const values = new Float64Array(masks.count);
    for (let r = 0; r < masks.count; r++) {
      z.set(bias);
      for (let k = 0; k < masks.words; k++) {
        for (let word = masks.bits[r * masks.words + k]; word !== 0; word &= word - 1) {
          const i = 32 * k + (31 - Math.clz32(word & -word));
          for (let h = 0; h < width; h++) z[h] += w[i * width + h];
        }
      }
      values[r] = readout(z);
    }
    return values;
  };
}

/** v(T) = 3 + Σ_{i∈T} w_i, w_i uniform in [−1, 1) (seeded): its Möbius terms are ∅ and the players. */
function additive(n: number, seed: number): { v: (masks: MaskBatch) => Float64Array; weights: Float64Array } {
  const random = seededRng(seed);
  const weights = Float64Array.from({ length: n }, () => 2 * random() - 1);
  return { v: sumsGame(1, weights, Float64Array.of(3), (z) => z[0]), weights };
}

/** A tanh network of `hidden` units over n players (seeded, as large-n.test.ts's): a dense spread of mostly
 *  first-order effects. */
function network(n: number, hidden: number, seed: number): (masks: MaskBatch) => Float64Array {
  const random = seededRng(seed);
  const normal = () => Array.from({ length: 12 }, random).reduce((a, b) => a + b, 0) - 6;
  const w = Float64Array.from({ length: n * hidden }, () => normal() / Math.sqrt(n / 8));
  const bias = Float64Array.from({ length: hidden }, normal);
  const out = Float64Array.from({ length: hidden }, normal);
  return sumsGame(hidden, w, bias, (z) => {
    let y = 0;
    for (let h = 0; h < hidden; h++) y += out[h] * Math.tanh(z[h]);
    return y;
  });
}

/** v plus seeded Gaussian noise of σ = sigma on every row. */
function noisy(v: (masks: MaskBatch) => Float64Array, sigma: number, seed: number): (masks: MaskBatch) => Float64Array {
  const random = seededRng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() || 1e-300)) * Math.cos(2 * Math.PI * random());
  return (masks) => v(masks).map((value) => value + sigma * gauss());
}

/** The games of the sweep, by name. */
const GAMES: Record<string, (n: number) => (masks: MaskBatch) => Float64Array> = {
  network: (n) => network(n, 4, n),
  additive: (n) => additive(n, n).v,
  planted: (n) => plantedGame(plantTerms(n, 6, 3, n)) as (masks: MaskBatch) => Float64Array,
  constant: () => (masks) => new Float64Array(masks.count).fill(2.5),
  noisy: (n) => noisy(network(n, 4, n), 0.01, n),
};

/** An OR expansion's values: I(∅) + Σ over the other terms whose support meets the mask. */
function orValues(terms: readonly SparseTerm[], masks: MaskBatch): Float64Array {
  return Float64Array.from({ length: masks.count }, (_, r) => {
    const row = new Set(present(masks, r));
    return terms.reduce((v, t) => (t.players.length === 0 || t.players.some((i) => row.has(i)) ? v + t.value : v), 0);
  });
}

/** Every term finite, of order ≤ maxOrder, its players distinct integers below n in ascending order, no support twice;
 *  the faithfulness finite. */
function expectWellFormed(expansion: SparseExpansion, n: number, maxOrder: number, label: string): void {
  const keys = new Set<string>();
  for (const term of expansion.terms) {
    expect(Number.isFinite(term.value), `${label}: value ${term.value} of {${term.players.join(',')}}`).toBe(true);
    expect(term.players.length, label).toBeLessThanOrEqual(maxOrder);
    term.players.forEach((i, k) => {
      expect(Number.isInteger(i) && i >= 0 && i < n, `${label}: player ${i}`).toBe(true);
      if (k > 0) expect(i, `${label}: {${term.players.join(',')}}`).toBeGreaterThan(term.players[k - 1]);
    });
    const key = term.players.join(',');
    expect(keys.has(key), `${label}: {${key}} twice`).toBe(false);
    keys.add(key);
  }
  expect(Number.isFinite(expansion.faithfulness.r2), `${label}: R² ${expansion.faithfulness.r2}`).toBe(true);
  expect(expansion.faithfulness.heldOut, label).toBeGreaterThan(0);
}

/** The budget is kept in the rows the game receives, each side within its half, and every row is an evaluation. */
function expectBudgetKept(result: AndOrExpansion, game: Counted, budget: number, label: string): void {
  expect(game.rows, label).toBeLessThanOrEqual(budget);
  expect(result.evaluations, label).toBe(game.rows);
  expect(result.and.evaluations, label).toBeLessThanOrEqual(Math.floor(budget / 2));
  expect(result.or.evaluations, label).toBeLessThanOrEqual(budget - Math.floor(budget / 2));
}


/** The kernels, with `before` told of each kernel call before the kernel runs it (the real kernels, observed). */
function observed(kernels: KernelHost, before: (name: string) => void): KernelHost {
  return new Proxy(kernels, {
    get(target, key) {
      if (key === 'call') {
        return (name: string, ...args: unknown[]) => {
          before(name);
          return (target.call as (name: string, ...args: unknown[]) => unknown)(name, ...args);
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

let kernels: KernelHost;
beforeAll(async () => {
  // the release build: the fits at thousands of players take seconds in the debug one
  kernels = await loadKernels('release');
});

describe('recoverAndOr at many players keeps its budget and returns well-formed terms', () => {
  // the least budget, one more, an odd one, for maxOrder 1, 2, 3, 5; tolerance auto, 0 and 0.01 and the games by turns
  const names = Object.keys(GAMES);
  it.each([69, 70, 100, 300, 1000, 2399, 2400, 4096])('at n = %i, from the least budget up', async (n) => {
    let turn = n;
    for (const maxOrder of [1, 2, 3, 5]) {
      const least = leastAndOrBudget(n, maxOrder);
      await expect(recoverAndOr(counted(GAMES.constant(n)), n, { budget: least - 1, maxOrder, kernels })).rejects.toThrow(InvalidOptionError);
      for (const budget of [least, least + 1, 2 * least + 3]) {
        const tolerance = [undefined, 0, 0.01][turn % 3];
        const name = names[turn++ % names.length];
        const label = `${name}, n = ${n}, maxOrder ${maxOrder}, budget ${budget}, tolerance ${tolerance}`;
        const game = counted(GAMES[name](n));
        const result = await recoverAndOr(game, n, { budget, maxOrder, seed: turn % 4, tolerance, kernels });
        expectBudgetKept(result, game, budget, label);
        expectWellFormed(result.and, n, maxOrder, `AND, ${label}`);
        expectWellFormed(result.or, n, maxOrder, `OR, ${label}`);
      }
    }
  }, SWEEP_MS);

  it('at large budgets, and the completion serves 2400 players (none did past 2399)', async () => {
    const cases = [
      { n: 69, budget: 20_001, maxOrder: 2, tolerance: 0, name: 'additive' },
      { n: 300, budget: 30_001, maxOrder: 5, tolerance: undefined, name: 'network' },
      { n: 1000, budget: 12_001, maxOrder: 3, tolerance: 0.01, name: 'noisy' },
      { n: 2400, budget: 12_001, maxOrder: 3, tolerance: undefined, name: 'network' },
    ];
    for (const { n, budget, maxOrder, tolerance, name } of cases) {
      const label = `${name}, n = ${n}, maxOrder ${maxOrder}, budget ${budget}, tolerance ${tolerance}`;
      const game = counted(GAMES[name](n));
      const result = await recoverAndOr(game, n, { budget, maxOrder, seed: 1, tolerance, kernels });
      expectBudgetKept(result, game, budget, label);
      expectWellFormed(result.and, n, maxOrder, `AND, ${label}`);
      expectWellFormed(result.or, n, maxOrder, `OR, ${label}`);
      // here: held-out R² 0.708 (AND) and 0.707 (OR), each from a completion (before b794165, none past 2399 players)
      if (n === 2400) {
        for (const side of [result.and, result.or]) {
          expect(side.fit, label).toMatch(/^completion/);
          expect(side.faithfulness.r2, label).toBeGreaterThan(0.5);
        }
      }
    }
  }, SLOW_MS);
});

describe('the quality of the auto search at hundreds of players', () => {
  const n = 300;

  it('returns an additive game (a constant and one weight per player) at R² > 0.99 on masks it never saw, AND and OR', async () => {
    const { v, weights } = additive(n, 7);
    const scoring = randomMasks(n, 2000, createRng(1234));
    const truth = v(scoring);
    for (const maxOrder of [1, 2, 3]) {
      const result = await recoverAndOr(counted(v), n, { budget: 8000, maxOrder, seed: 2, kernels });
      expect(rSquared(truth, evaluateExpansion(result.and.terms, scoring)), `AND, maxOrder ${maxOrder}`).toBeGreaterThan(0.99);
      expect(rSquared(truth, orValues(result.or.terms, scoring)), `OR, maxOrder ${maxOrder}`).toBeGreaterThan(0.99);
      // the order-1 completion fits it exactly: every weight within 1e-3
      const found = new Map(result.and.terms.map((t) => [t.players.join(','), t.value]));
      let worst = 0;
      weights.forEach((w, i) => (worst = Math.max(worst, Math.abs((found.get(`${i}`) ?? 0) - w))));
      expect(worst, `maxOrder ${maxOrder}`).toBeLessThan(1e-3);
    }
  }, SLOW_MS);

  it('recovers a planted sparse game of a few players, pairs and triples exactly (the exact search ends first)', async () => {
    for (const seed of [1, 2]) {
      const planted = plantTerms(n, 6, 3, seed);
      const game = counted(plantedGame(planted) as (masks: MaskBatch) => Float64Array);
      const result = await recoverAndOr(game, n, { budget: 4000, maxOrder: 3, seed, kernels });
      expect(result.and.fit, `seed ${seed}`).toBe('search');
      const truth = new Map([['', planted.empty], ...planted.terms.map((t): [string, number] => [t.players.join(','), t.value])]);
      const found = new Map(result.and.terms.map((t) => [t.players.join(','), t.value]));
      expect([...found.keys()].sort(), `seed ${seed}`).toEqual([...truth.keys()].sort());
      for (const [key, value] of truth) expect(Math.abs(found.get(key)! - value), `{${key}}, seed ${seed}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(value)));
      expect(result.or.faithfulness.r2, `seed ${seed}`).toBeGreaterThan(1 - 1e-9);
    }
  }, SLOW_MS);

  it('fits a dense game at maxOrder 1 about as well as order-1 least squares on fewer masks than it evaluated', async () => {
    // a maxOrder-1 expansion is an order-1 model, the completion's own, which runs on every fit mask. Before stop 36's
    // fix it ran on every fit mask only where n had cut it to order 1 (maxOrder ≥ 2), so at maxOrder 1 it fitted
    // 2 · 429 of them: 0.535 from 21 364 evaluations against 0.704 from least squares on 10 000 masks; now 0.707
    const v = network(n, 6, n);
    const scoring = randomMasks(n, 2000, createRng(77));
    const truth = v(scoring);
    const masks = randomMasks(n, 10_000, createRng(5));
    const leastSquares = completeLowOrder(kernels, [], { masks, values: v(masks) }, 1)!;
    const reference = rSquared(truth, evaluateExpansion(leastSquares.toTerms(0), scoring));
    const game = counted(v);
    const result = await recoverAndOr(game, n, { budget: 30_000, maxOrder: 1, seed: 1, kernels });
    expect(game.rows).toBeGreaterThan(10_000);
    expect(rSquared(truth, evaluateExpansion(result.and.terms, scoring))).toBeGreaterThan(reference - 0.05);
  }, SLOW_MS);

  it('fits a dense game of 70 players no worse from a larger budget', async () => {
    // above 68 players the search's pairs are no columns of the order-1 completion but found terms: it fitted 128 of
    // them and kept the others at the search's values (the search's own R² is below 0 here), so at 40 000
    // evaluations, where the search hands it hundreds, the fit was worse than at 8000: 0.854 and 0.829 (order-1 least
    // squares with no found terms: 0.852). Now it fits up to 2400 columns: 0.853 and 0.863
    const m = 70;
    const v = network(m, 6, m);
    const scoring = randomMasks(m, 4000, createRng(77));
    const truth = v(scoring);
    const r2At = async (budget: number) => rSquared(truth, evaluateExpansion((await recoverAndOr(counted(v), m, { budget, maxOrder: 2, seed: 1, kernels })).and.terms, scoring));
    const small = await r2At(8000);
    const large = await r2At(40_000);
    expect(small).toBeGreaterThan(0.8);
    expect(large).toBeGreaterThanOrEqual(small - 0.01);
  }, SLOW_MS);
});

describe('the auto search on a game scaled by a power of two', () => {
  it('returns the same terms scaled, at 1000 players (the order-1 completion kept), up to 2^240 (≈ 1.8e72) and down to 2^-200', async () => {
    const n = 1000;
    const v = network(n, 6, n);
    const options = { budget: 6000, maxOrder: 2, seed: 1, kernels };
    const base = await recoverAndOr(counted(v), n, options);
    expect(base.and.fit).toMatch(/^completion/);
    for (const power of [240, -200]) {
      const scale = 2 ** power;
      const scaled = await recoverAndOr(counted((masks) => v(masks).map((x) => x * scale)), n, options);
      expect(scaled.evaluations, `2^${power}`).toBe(base.evaluations);
      for (const side of ['and', 'or'] as const) {
        expect(scaled[side].fit, `2^${power}, ${side}`).toBe(base[side].fit);
        expect(scaled[side].terms.map((t) => ({ players: t.players, value: t.value / scale })), `2^${power}, ${side}`).toEqual(base[side].terms.map((t) => ({ players: t.players, value: t.value })));
        expect(scaled[side].faithfulness.r2, `2^${power}, ${side}`).toBe(base[side].faithfulness.r2);
      }
    }
  }, SLOW_MS);
});

describe('the order-1 completion at thousands of players', () => {
  it('returns every weight of an additive game of 2400 and of 4096 players from the masks it asks for', () => {
    for (const n of [2400, 4096]) {
      const { v, weights } = additive(n, n);
      // maxOrder 2, cut to order 1 by n: 2 · (1 + n + 128) masks
      const masks = randomMasks(n, completionMasks(n, 2)!, createRng(3));
      const store = completeLowOrder(kernels, [], { masks, values: v(masks) }, 2);
      expect(store, `n = ${n}`).toBeDefined();
      const terms = store!.toTerms(0);
      expect(terms.every((t) => t.players.length <= 1), `n = ${n}`).toBe(true);
      const found = new Map(terms.map((t) => [t.players.join(','), t.value]));
      // f32 Gram and solve: 9e-6 at most here
      expect(Math.abs(found.get('')! - 3), `n = ${n}`).toBeLessThan(1e-3);
      weights.forEach((w, i) => expect(Math.abs((found.get(`${i}`) ?? 0) - w), `n = ${n}, player ${i}`).toBeLessThan(1e-3));
    }
  }, SLOW_MS);
});

describe('the order-1 completion on fewer masks than it asks for (a ridge path)', () => {
  it('fits a dense game of 600 and 1000 players where the trees alone did not', async () => {
    // the fit masks are fewer than 2 per unknown of the order-1 completion (2 · (1 + n + 128) asked for): it did not
    // run, and the trees were kept, R² 0.37 and 0.23 here; along the ridge path, its weight chosen by the validation
    // masks, 0.63 and 0.61
    for (const [m, budget] of [[600, 2000], [1000, 3000]]) {
      const v = network(m, 6, m);
      const scoring = randomMasks(m, 2000, createRng(77));
      const result = await recoverAndOr(counted(v), m, { budget, maxOrder: 2, seed: 1, kernels });
      expect(result.and.fit, `n = ${m}`).toBe('completion');
      expect(rSquared(v(scoring), evaluateExpansion(result.and.terms, scoring)), `n = ${m}`).toBeGreaterThan(0.55);
    }
  }, SLOW_MS);
});

describe('the order-1 completion on more masks than the trees take', () => {
  it('fits a dense game of 1100 players on every fit mask, the trees on the first 2^25 / n of them', async () => {
    // 32 fit masks per order-1 term (35 232) where the trees' 2^25 / n (30 504) are fewer
    const m = 1100;
    const v = network(m, 6, m);
    const tasks: RandomFitsTask[] = [];
    const fitRandom = (task: RandomFitsTask) => {
      tasks.push(task);
      return randomFits(kernels, task, async () => {});
    };
    const result = await recoverAndOr(counted(v), m, { budget: 80_000, maxOrder: 2, seed: 1, kernels, fitRandom });
    expect(tasks).toHaveLength(2);
    for (const task of tasks) {
      expect(task.fit.masks.count).toBe(32 * (1 + m));
      expect(task.treeRows).toBe(Math.floor(2 ** 25 / m));
      expect(task.logged.masks.count).toBeLessThanOrEqual(task.treeRows!);
    }
    // the trees see the same rows with the masks past treeRows cut off; the completion does not
    const task = tasks[0];
    const cut = { ...task, fit: { masks: { ...task.fit.masks, count: task.treeRows!, bits: task.fit.masks.bits.subarray(0, task.treeRows! * task.fit.masks.words) }, values: task.fit.values.subarray(0, task.treeRows!) } };
    const [all, first] = [await randomFits(kernels, task, async () => {}), await randomFits(kernels, cut, async () => {})];
    const byKind = (fits: typeof all) => new Map(fits.map((f) => [f.fit, f]));
    expect(byKind(all).get('trees')!.terms).toEqual(byKind(first).get('trees')!.terms);
    expect(byKind(all).get('completion')!.terms.values).not.toEqual(byKind(first).get('completion')!.terms.values);
    const scoring = randomMasks(m, 2000, createRng(77));
    expect(rSquared(v(scoring), evaluateExpansion(result.and.terms, scoring))).toBeGreaterThan(0.8);
  }, SLOW_MS);
});

describe('randomFits at maxOrder 1 and 2', () => {
  /** A fit set of `count` random masks of a dense game, its validation masks, and the task of randomFits. */
  function task(n: number, maxOrder: number, count: number) {
    const v = network(n, 6, n);
    const fitMasks = randomMasks(n, count, createRng(21));
    const validation = randomMasks(n, 256, createRng(22));
    const fit: FitSet = { masks: fitMasks, values: v(fitMasks) };
    const empty = new TermStore();
    empty.add([], 0.5);
    const none = randomMasks(n, 0, createRng(23));
    return { n, maxOrder, seed: 4, searched: empty.toFlat(), fit, logged: { masks: none, values: new Float64Array(0) }, validation: { masks: validation, values: v(validation) } };
  }
  const first = (fit: FitSet, count: number): FitSet => ({ masks: { ...fit.masks, count, bits: fit.masks.bits.subarray(0, count * fit.masks.words) }, values: fit.values.subarray(0, count) });
  const completionOf = async (n: number, maxOrder: number, count: number) => {
    const t = task(n, maxOrder, count);
    const fitted = await randomFits(kernels, t, async () => undefined);
    const completion = fitted.find((f) => f.fit === 'completion');
    expect(completion, `n = ${n}, maxOrder ${maxOrder}`).toBeDefined();
    return { t, terms: TermStore.fromFlat(completion!.terms).toTerms() };
  };
  const expectSame = (actual: readonly SparseTerm[], expected: readonly SparseTerm[]) => {
    const want = new Map(expected.map((e) => [e.players.join(','), e.value]));
    expect(actual.length).toBe(want.size);
    for (const term of actual) expect(Math.abs(term.value - want.get(term.players.join(','))!)).toBeLessThan(1e-9 * Math.max(1, Math.abs(term.value)));
  };

  it('fits the completion of 30 players at maxOrder 2 on its first 2 · (1 + n + C(n, 2) + 128) masks only, as before', async () => {
    const { t, terms } = await completionOf(30, 2, 4000);
    expectSame(terms, completeLowOrder(kernels, [{ players: [], value: 0.5 }], first(t.fit, completionMasks(30, 2)!), 2)!.toTerms(0));
  });

  it('fits the completion of 30 players at maxOrder 1 on every fit mask (an order-1 completion\'s columns are few)', async () => {
    const { t, terms } = await completionOf(30, 1, 4000);
    expectSame(terms, completeLowOrder(kernels, [{ players: [], value: 0.5 }], t.fit, 1)!.toTerms(0));
  });

  it('fits the completion of 69 players at maxOrder 2 (cut to order 1) on every fit mask', async () => {
    const { t, terms } = await completionOf(69, 2, 4000);
    expect(terms.every((term) => term.players.length <= 1)).toBe(true);
    expectSame(terms, completeLowOrder(kernels, [{ players: [], value: 0.5 }], t.fit, 2)!.toTerms(0));
  });

  it('fits the completion of 300 players at maxOrder 1 on every fit mask too, as at maxOrder 2 (the same order-1 fit)', async () => {
    // before stop 36's fix fits.ts passed every fit mask only where completionOrder was below min(2, maxOrder): at
    // maxOrder 1 never, so it fitted 2 · (1 + 300 + 128) = 858 of the 4000 here
    const { t, terms } = await completionOf(300, 1, 4000);
    expectSame(terms, completeLowOrder(kernels, [{ players: [], value: 0.5 }], t.fit, 1)!.toTerms(0));
  });
});

describe('cancellation while the fits run at 4096 players', () => {
  const n = 4096;
  // 17 000 evaluations: the fit draw pays for the completion's 8450 masks (at 14 000 only the trees are fitted)
  const options = { budget: 17_000, maxOrder: 2, seed: 1 };

  it('ends in CancelledError when aborted as the completion starts its Gram, and holds no more than fitBytes counts', async () => {
    const stop = new AbortController();
    const game = counted(network(n, 6, n));
    let abortedAt = 0;
    let callsAtAbort = -1;
    let peakBytes = 0;
    const watched = observed(kernels, (name) => {
      peakBytes = Math.max(peakBytes, kernels.bytesInUse);
      if (name !== 'bitGramF32' || abortedAt > 0) return;
      // as a caller's abort comes: from a timer or an event, when this thread next has a turn
      abortedAt = performance.now();
      setTimeout(() => {
        callsAtAbort = game.calls;
        stop.abort();
      }, 0);
    });
    const error = await within(recoverAndOr(game, n, { ...options, kernels: watched, signal: stop.signal }), 60_000);
    const latencyMs = performance.now() - abortedAt;
    expect(abortedAt).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(CancelledError);
    // here: 57 ms (2.8–3.2 s with the Gram in one call: this side's Gram and first solve, then the other side's
    // preparation, Gram and first solve, all before the timer fired)
    expect(latencyMs, `${Math.round(latencyMs)} ms from the abort to the error`).toBeLessThan(CANCEL_BOUND_MS);
    expect(game.calls).toBe(callsAtAbort);
    // both sides' Grams at once (the memory check counts two expansions' fits): 272 MiB here, fitBytes 2 · 154
    expect(peakBytes).toBeGreaterThan(8 * 4225 ** 2);
    expect(peakBytes).toBeLessThanOrEqual(2 * fitBytes(n, options.maxOrder, options.budget));
  }, SLOW_MS);

  it('ends in CancelledError when an AbortSignal.timeout fires while the trees grow', async () => {
    const timeoutMs = 2000;
    const game = counted(network(n, 6, n));
    const start = performance.now();
    const error = await within(recoverAndOr(game, n, { ...options, kernels, signal: AbortSignal.timeout(timeoutMs) }), 60_000);
    const latencyMs = performance.now() - start - timeoutMs;
    expect(error).toBeInstanceOf(CancelledError);
    expect(latencyMs, `${Math.round(latencyMs)} ms from the timeout to the error`).toBeLessThan(CANCEL_BOUND_MS);
    const calls = game.calls;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(game.calls).toBe(calls);
  }, SLOW_MS);
});

describe('cancellation of a search with a synchronous game at 4096 players', () => {
  it('ends in CancelledError when an AbortSignal.timeout fires while a given tolerance\'s search runs', async () => {
    // a synchronous game's search awaited no macrotask, so the timeout's timer could not fire until the run gave the
    // thread back: the run (1.1 s, 679 calls) ended with its result, the 300 ms timeout never seen. The lanes now
    // pause between steps (the oracle's pause: a turn after 4 ms of work): it ends within a ms of the timeout
    const n = 4096;
    const timeoutMs = 300;
    const game = counted(network(n, 6, n));
    const start = performance.now();
    const outcome = await within(recoverAndOr(game, n, { budget: 20_000, maxOrder: 3, seed: 1, tolerance: 0.01, kernels, signal: AbortSignal.timeout(timeoutMs) }), 60_000);
    const latencyMs = performance.now() - start - timeoutMs;
    expect(outcome, `${Math.round(latencyMs)} ms past the timeout, ${game.calls} game calls`).toBeInstanceOf(CancelledError);
    expect(latencyMs).toBeLessThan(CANCEL_BOUND_MS);
  }, SLOW_MS);
});

describe('a game that fails at many players', () => {
  /**
   * The failing call's error: its class, the masks that call received, and no game call after it. The two sides'
   * calls are joined when both ask within one turn of the event loop, so a run's count of calls depends on when the
   * answers come: a run that ends before call `planned` runs again to fail at its own last call.
   */
  async function expectNamed(n: number, budget: number, maxOrder: number, planned: number, kind: Fault): Promise<void> {
    let lastRow: number[] = [];
    const { at, game, error } = await failing(planned, (failAt) => {
      const counting = counted(network(n, 4, n), { at: failAt, kind });
      const watching: GameFunction = (masks, signal) => {
        if (counting.calls + 1 === failAt) lastRow = present(masks, masks.count - 1);
        return counting(masks, signal);
      };
      return { game: counting, outcome: within(recoverAndOr(watching, n, { budget, maxOrder, seed: 1, kernels }), 60_000) };
    });
    const label = `${kind} at call ${at} (planned ${planned}), n = ${n}`;
    expect(error, label).toBeInstanceOf(kind === 'nan' ? NonFiniteError : InvalidInputError);
    const message = (error as Error).message;
    if (kind === 'nan') {
      expect(message, label).toContain(`returned NaN at row ${game.last - 1} of a batch of ${game.last} masks`);
      const shown = lastRow.length > 12 ? `${lastRow.slice(0, 12).join(', ')}, … (${lastRow.length} players)` : lastRow.join(', ') || 'none';
      expect(message, label).toContain(`(players present: ${shown})`);
    } else {
      expect(message, label).toContain(`threw on a batch of ${game.last} masks of ${n} players: boom.`);
    }
    const calls = game.calls;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(game.calls, label).toBe(calls);
    if (kind !== 'reject') expect(game.calls, label).toBe(at);
    expect(game.rows, label).toBeLessThanOrEqual(budget);
  }

  it('says so at whichever call, naming the rows that call received (the fit draw, the last), and calls the game no more', async () => {
    const n = 1000;
    const budget = 8000;
    const v = network(n, 4, n);
    const sizes: number[] = [];
    const clean = counted((masks) => {
      sizes.push(masks.count);
      return v(masks);
    });
    await recoverAndOr(clean, n, { budget, maxOrder: 2, seed: 1, kernels });
    // the call of the fit draw: the largest
    const draw = 1 + sizes.indexOf(Math.max(...sizes));
    expect(sizes[draw - 1]).toBeGreaterThan(2000);
    const total = clean.calls;
    const plan: [number, Fault][] = [[1, 'throw'], [2, 'nan'], [Math.round(total / 2), 'throw'], [draw, 'nan'], [draw, 'throw'], [draw, 'reject'], [total - 1, 'nan'], [total, 'throw']];
    for (const [at, kind] of plan) await expectNamed(n, budget, 2, at, kind);
  }, SLOW_MS);

  it('says so at 4096 players from the least budget, at the first, a middle and the last call', async () => {
    const n = 4096;
    const budget = leastAndOrBudget(n, 3) + 1;
    const clean = counted(network(n, 4, n));
    await recoverAndOr(clean, n, { budget, maxOrder: 3, seed: 1, kernels });
    const total = clean.calls;
    expect(total).toBeGreaterThan(3);
    for (const [at, kind] of [[1, 'nan'], [2, 'throw'], [Math.round(total / 2), 'throw'], [total, 'nan'], [total, 'reject']] as [number, Fault][]) await expectNamed(n, budget, 3, at, kind);
  }, SLOW_MS);
});

describe('the memory check of a sparse explanation when the fits alone pass the limit', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0, maxMemoryMb: 64 });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('says that a budget below the completion\'s masks fits, when one does (it has no Gram then)', async () => {
    // planted-64 at maxOrder 2: the completion asks for 2 · (1 + 64 + 2016 + 128) = 4418 masks; from there fitBytes
    // counts two Grams of 39 MB, over 64 MiB on their own. Below it, no Gram: a budget of 4400 runs within the limit
    const request = { model: model('planted/planted-64.onnx'), sample: { values: new Float64Array(64).fill(1) }, reward: 'output', target: 0, baseline: 'zero', maxOrder: 2 } as const;
    expect(completionMasks(64, 2)).toBe(4418);
    const below = await engine.explainAuto({ ...request, budget: 4400 });
    if (!isSparseResult(below)) expect.fail('not a sparse result');
    expect(below.evaluations).toBeLessThanOrEqual(4400);
    const refused = await engine.explainAuto({ ...request, budget: 20_000 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MemoryLimitError);
    // before the fix: "Raise maxMemoryMb (--max-memory-mb) to at least 98." and no word of a lower budget (plan.ts
    // counted the fits as if they did not shrink with the budget); now "about 4417 evaluations fit"
    const fits = (refused as Error).message.match(/Lower the budget \(about (\d+) evaluations fit\)/);
    expect(fits, (refused as Error).message).not.toBeNull();
    const budget = Number(fits![1]);
    expect(budget).toBeGreaterThan(1000);
    const lowered = await engine.explainAuto({ ...request, budget });
    if (!isSparseResult(lowered)) expect.fail('not a sparse result');
    expect(lowered.evaluations).toBeLessThanOrEqual(budget);
  }, SLOW_MS);
});

describe('sparseOr on a game that returns NaN', () => {
  it('names the players present in the mask the game was given, not in its complement (the mask the method asked for)', async () => {
    const n = 100;
    let given: number[] = [];
    let calls = 0;
    const v = network(n, 4, n);
    const game: GameFunction = (masks) => {
      const values = v(masks);
      if (++calls === 3) {
        given = present(masks, masks.count - 1);
        values[masks.count - 1] = NaN;
      }
      return values;
    };
    const error = await sparseOr(game, n, { budget: 2000, maxOrder: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(given.length).toBeGreaterThan(12);
    // before the fix: the players of its complement (sparseOr's oracle checked the masks before they were complemented)
    expect((error as Error).message).toContain(`(players present: ${given.slice(0, 12).join(', ')}, … (${given.length} players))`);
  });
});
