// An adversarial sweep of the draws the AND and the OR expansion share (engine/analysis/sparse/shared.ts): a side
// waiting at a rendezvous while the other fails, hangs, is cancelled or never comes; noisy games (from the start, on
// some masks, after a while); the least and odd budgets from 1 to 1000 players; answers that arrive in different
// orders; and the engine's path with a worker pool. Every run keeps its budget in the rows the game receives (a noisy
// game's every call reaches it), each side within its half, and a deterministic game's run does the same whatever
// the order of its answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKernels } from '../../../dist/bindings/index.js';
import type { KernelHost } from '../../../engine/contracts/kernels.js';
import { CancelledError, InvalidInputError, NonFiniteError } from '../../../engine/contracts/errors.js';
import { leastAndOrBudget, recoverAndOr, type AndOrExpansion } from '../../../engine/analysis/sparse/and-or.js';
import { randomMasks } from '../../../engine/analysis/sparse/masks.js';
import { createRng } from '../../../engine/analysis/sparse/random.js';
import { sparseMobius } from '../../../engine/analysis/sparse/recover.js';
import { SharedDraws } from '../../../engine/analysis/sparse/shared.js';
import { Validation } from '../../../engine/analysis/sparse/validation.js';
import type { GameFunction, MaskBatch } from '../../../engine/analysis/sparse/index.js';
import { createEngine, model, type Engine } from '../../helpers/index.js';
import { failing, within } from './faults.js';
import { has, plantedGame, plantTerms, seededRng, tailGame } from './planted.js';

/** A game that counts its calls and the rows it receives, and the rows of its last call. */
type Counted = GameFunction & { calls: number; rows: number; last: number };

/** When the game's answer arrives: -1 at once (synchronously), 0 after the current task, Infinity never, else after
 *  so many ms. */
type Timing = (masks: MaskBatch, call: number) => number;

const players = (masks: MaskBatch, r: number) => {
  let count = 0;
  for (let i = 0; i < masks.n; i++) if (has(masks, r, i)) count++;
  return count;
};

/** The timings of the answers: each run of a deterministic game must come out the same under all of them. */
const TIMINGS: Record<string, (seed: number) => Timing> = {
  sync: () => () => -1,
  random: (seed) => {
    const random = seededRng(seed);
    return () => Math.floor(3 * random());
  },
  // masks of more than half the players answer late, the others at once: the AND and OR searches drift apart
  large: () => (masks) => (players(masks, 0) > masks.n / 2 ? 3 : -1),
  // large batches (the shared draws) late, small ones (the searches) at once
  batches: () => (masks) => (masks.count > 40 ? 4 : 0),
};

/**
 * The game v plus per-row noise, answered on a timing.
 * @param noise - added to row r of call `call` (1-based); gauss draws seeded standard normals
 */
function counted(v: (masks: MaskBatch) => Float64Array, timing: Timing = () => -1, noise?: (masks: MaskBatch, r: number, call: number, gauss: () => number) => number): Counted {
  const random = seededRng(17);
  const gauss = () => Math.sqrt(-2 * Math.log(random() || 1e-300)) * Math.cos(2 * Math.PI * random());
  const game = ((masks: MaskBatch) => {
    game.calls++;
    game.rows += masks.count;
    game.last = masks.count;
    const values = Float64Array.from(v(masks));
    if (noise) for (let r = 0; r < masks.count; r++) values[r] += noise(masks, r, game.calls, gauss);
    const wait = timing(masks, game.calls);
    if (wait < 0) return values;
    if (wait === Infinity) return new Promise<Float64Array>(() => undefined);
    return new Promise<Float64Array>((resolve) => (wait === 0 ? setImmediate(() => resolve(values)) : setTimeout(() => resolve(values), wait)));
  }) as Counted;
  game.calls = 0;
  game.rows = 0;
  game.last = 0;
  return game;
}

/** A dense deterministic game: planted terms and a tail at every order (as a trained network has). */
const tail = (n: number, seed = 3) => tailGame(plantTerms(n, Math.min(10, n), Math.min(3, n), seed), n, { epsilon: 0.05, delta: 0.5, seed }) as (masks: MaskBatch) => Float64Array;

/** Resolves once the game has not been called for `ms` milliseconds. */
async function quiet(game: Counted, ms = 60): Promise<void> {
  for (let calls = -1; calls !== game.calls; ) {
    calls = game.calls;
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** Resolves once the condition holds (polled). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}


/** The budget is kept in the rows the game receives, each side within its half. */
function expectBudgetKept(result: AndOrExpansion, game: Counted, budget: number): void {
  expect(game.rows).toBeLessThanOrEqual(budget);
  if (result.recovery === 'exact') return;
  expect(result.and.evaluations).toBeLessThanOrEqual(Math.floor(budget / 2));
  expect(result.or.evaluations).toBeLessThanOrEqual(budget - Math.floor(budget / 2));
}

let kernels: KernelHost;
beforeAll(async () => {
  kernels = await loadKernels('release');
});

describe('a side waiting at a shared draw', () => {
  const n = 40;
  const options = { budget: 2000, maxOrder: 2 };

  it('waits there for the other side (after v(∅) and v(N) only), stops with CancelledError when the signal fires, and calls the game no more', async () => {
    const shared = new SharedDraws(() => true);
    const stop = new AbortController();
    const game = counted(tail(n));
    const run = within(sparseMobius(game, n, { ...options, signal: stop.signal }, shared.side(0)), 5000);
    await quiet(game);
    // the baseline (∅, N twice), then the validation draw, where it waits: the other side never comes
    expect(game.rows).toBe(4);
    const calls = game.calls;
    stop.abort();
    expect(await run).toBeInstanceOf(CancelledError);
    expect(game.calls).toBe(calls);
  });

  it('draws alone once the other side is done, within its budget, and says on how many held-out masks its R² is', async () => {
    const shared = new SharedDraws(() => true);
    const game = counted(tail(n));
    const run = sparseMobius(game, n, options, shared.side(0));
    await quiet(game);
    expect(game.rows).toBe(4);
    shared.done(1);
    const result = await run;
    // alone it pays every row it evaluates (no table here: each reaches the game)
    expect(result.evaluations).toBe(game.rows);
    expect(game.rows).toBeLessThanOrEqual(options.budget);
    // its held-out masks are its last call
    expect(result.faithfulness.heldOut).toBe(game.last);
  });

  it('left alone at the held-out draw, draws what its half of them pays for, and says so', async () => {
    const shared = new SharedDraws(() => true);
    const game = counted(tail(n));
    // tolerance 0 on a dense game: the search spends all but the held-out reserve, half of the 200 held-out masks
    const run = sparseMobius(game, n, { ...options, tolerance: 0 }, shared.side(0));
    await until(() => game.rows >= options.budget - 100);
    await quiet(game);
    expect(game.rows).toBe(options.budget - 100);
    shared.done(1);
    const result = await run;
    expect(game.rows).toBe(options.budget);
    expect(game.last).toBe(100);
    // its R² is on the 100 masks it drew (it said 200)
    expect(result.faithfulness.heldOut).toBe(100);
  });
});

describe('recoverAndOr when the game fails while a side may wait at a shared draw', () => {
  // planted terms of order ≤ 3 recovered to order 2: the AND side's search ends early and it waits at its fit draw
  // while the OR side goes on searching (calls 179–229 of the 238 of this run, seen by hand)
  const n = 30;
  const options = { budget: 1600, maxOrder: 2, seed: 2 };
  const v = plantedGame(plantTerms(n, 10, 3, 3)) as (masks: MaskBatch) => Float64Array;
  let total = 0;
  beforeAll(async () => {
    const clean = counted(v, TIMINGS.random(1));
    await recoverAndOr(clean, n, { ...options, kernels });
    total = clean.calls;
  });
  /** Calls spread over a whole run, its first and last included. */
  const spread = () => [...new Set([1, 2, 3, ...Array.from({ length: 9 }, (_, k) => Math.round(((k + 1) / 10) * total)), total - 1, total])];

  it('says the game threw, or returned NaN, at whichever call that happens, and calls the game no more after it', async () => {
    expect(total).toBeGreaterThan(10);
    for (const planned of spread()) {
      for (const fault of ['throw', 'nan', 'reject'] as const) {
        const { at, game, error } = await failing(planned, (at) => {
          const random = TIMINGS.random(1);
          // the failing call answers at once (a promise that rejects: later), the others as in the clean run
          const game = counted(
            (masks) => {
              if (game.calls !== at) return v(masks);
              if (fault === 'throw') throw new Error('boom');
              return new Float64Array(masks.count).fill(NaN);
            },
            (masks, call) => (call === at && fault !== 'reject' ? -1 : random(masks, call)),
          );
          const failing: GameFunction = (masks, signal) => (fault === 'reject' && game.calls + 1 === at ? (game(masks, signal), Promise.reject(new Error('boom'))) : game(masks, signal));
          return { game, outcome: within(recoverAndOr(failing, n, { ...options, kernels }), 10_000) };
        });
        expect(error, `${fault} at call ${at} of ${total}`).toBeInstanceOf(fault === 'nan' ? NonFiniteError : InvalidInputError);
        const calls = game.calls;
        await new Promise((resolve) => setTimeout(resolve, 10));
        expect(game.calls).toBe(calls);
        // none after the one that failed at once: the run is over (the other side asked the game again, for the same
        // masks when it waited for that call's, a joint draw's among them)
        if (fault !== 'reject') expect(game.calls, `${fault} at call ${at} of ${total}`).toBe(at);
        // the failure said is that call's (NaN: at its row 0), not the other side's stop
        expect((error as Error).message).toMatch(fault === 'nan' ? `returned NaN at row 0 of a batch of ${game.last} masks` : /: boom\./);
        // and of the masks the game was given: the table sends it only those it does not know, fewer than the
        // expansion asked for (before: the expansion's count; at call 24 of 238 the game had got 1 mask)
        if (fault !== 'nan') expect((error as Error).message, `${fault} at call ${at} of ${total}`).toContain(`threw on a batch of ${game.last} masks`);
        expect(game.rows).toBeLessThanOrEqual(options.budget);
      }
    }
  });

  it('keeps the budget in the rows the game receives when its last call fails (the held-out draw both sides wait for)', async () => {
    // this run spends 1405 of 1412 evaluations, its last call the 70 held-out masks; the other side asked for them again
    const m = 21;
    const budget = 1412;
    const planted = tailGame(plantTerms(m, 8, 3, m), m, { epsilon: 0.05, delta: 0.3, seed: 3 }) as (masks: MaskBatch) => Float64Array;
    const clean = counted(planted);
    await recoverAndOr(clean, m, { budget, maxOrder: m, seed: 2, kernels });
    expect(clean.last).toBe(70);
    expect(clean.rows).toBeGreaterThan(budget - 70);
    const game = counted((masks) => {
      if (game.calls === clean.calls) throw new Error('boom');
      return planted(masks);
    });
    const error = await recoverAndOr(game, m, { budget, maxOrder: m, seed: 2, kernels }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(game.rows).toBeLessThanOrEqual(budget);
    expect(game.calls).toBe(clean.calls);
  });

  it('ends with CancelledError when the game never settles at some call and the signal fires, and calls the game no more', async () => {
    for (const planned of spread()) {
      let calls = 0;
      const { at, game, error } = await failing(planned, (at) => {
        const stop = new AbortController();
        const game = counted(v, (_masks, call) => (call === at ? Infinity : call % 3));
        const run = within(recoverAndOr(game, n, { ...options, kernels, signal: stop.signal }), 10_000);
        const outcome = quiet(game, 40).then(() => {
          calls = game.calls;
          stop.abort();
          return run;
        });
        return { game, outcome };
      });
      expect(error, `hanging at call ${at} of ${total}`).toBeInstanceOf(CancelledError);
      expect(game.calls).toBe(calls);
    }
  });
});

describe('recoverAndOr on noisy games', () => {
  /** Noise of σ = 0.01 on … */
  const NOISES: Record<string, (masks: MaskBatch, r: number, call: number, gauss: () => number) => number> = {
    every: (_m, _r, _call, gauss) => 0.01 * gauss(),
    'v(∅) after the first call': (masks, r, call, gauss) => (call > 1 && players(masks, r) === 0 ? 0.01 * gauss() : 0),
    'a third of the masks': (masks, r, _call, gauss) => (players(masks, r) % 3 === 1 ? 0.01 * gauss() : 0),
    'every call after the 3rd': (_m, _r, call, gauss) => (call > 3 ? 0.01 * gauss() : 0),
    // (these runs make 26 to 400 calls: the 20th is inside each)
    'every call after the 20th': (_m, _r, call, gauss) => (call > 20 ? 0.01 * gauss() : 0),
    'rare large jumps': (_m, _r, _call, gauss) => (gauss() > 2.5 ? 0.3 : 0),
  };

  it('keeps the budget in the rows the game receives, each side within its half, and ends', async () => {
    for (const [n, maxOrder, budget] of [[21, 3, 1201], [64, 2, 2000]]) {
      for (const [name, noise] of Object.entries(NOISES)) {
        for (const tolerance of [undefined, 0.01]) {
          const game = counted(tail(n), TIMINGS.random(n), noise);
          const result = await within(recoverAndOr(game, n, { budget, maxOrder, seed: 1, tolerance, kernels }), 20_000);
          if (result === 'hung' || result instanceof Error) expect.fail(`${name} at n = ${n}, tolerance ${tolerance}: ${String(result)}`);
          expectBudgetKept(result, game, budget);
          expect(result.evaluations).toBe(game.rows);
        }
      }
    }
  });

  it('shares no draw with a game found noisy: each side pays every row it asks, and every row reaches the game', async () => {
    const n = 40;
    const budget = 3000;
    const game = counted(tail(n), TIMINGS.random(2), NOISES.every);
    const result = await recoverAndOr(game, n, { budget, maxOrder: 3, kernels });
    expect(result.and.evaluations + result.or.evaluations).toBe(game.rows);
    expect(game.rows).toBeLessThanOrEqual(budget);
  });
});

describe('recoverAndOr at the least and odd budgets', () => {
  it('keeps the budget from 1 to 1000 players, maxOrder 1 to n, tolerance auto, 0 and 0.01, with and without the kernels', async () => {
    const cases: [number, number][] = [[1, 1], [2, 2], [3, 1], [3, 3], [10, 1], [10, 10], [21, 1], [21, 21], [64, 1], [64, 64], [1000, 1], [1000, 3]];
    for (const [n, maxOrder] of cases) {
      const least = leastAndOrBudget(n, maxOrder);
      for (const budget of [least, least + 1, 2 * least + 3]) {
        for (const tolerance of [undefined, 0, 0.01]) {
          const withKernels = (budget + (tolerance ?? 1)) % 2 === 0;
          const game = counted(tail(n), TIMINGS.random(budget));
          const result = await recoverAndOr(game, n, { budget, maxOrder, seed: budget % 5, tolerance, ...(withKernels ? { kernels } : {}) });
          expectBudgetKept(result, game, budget);
          expect(result.evaluations).toBe(game.rows);
          if (result.recovery === 'exact') expect(game.rows).toBe(2 ** n);
        }
      }
    }
  });
});

describe('recoverAndOr does what it does whatever the order of the answers', () => {
  it('gives the same evaluations, terms and faithfulness under four timings of the answers', async () => {
    const cases = [
      { n: 21, budget: 2401, maxOrder: 3, tolerance: undefined },
      { n: 64, budget: 1901, maxOrder: 2, tolerance: undefined },
      { n: 64, budget: 1500, maxOrder: 4, tolerance: 0.01 },
      { n: 12, budget: 1000, maxOrder: 12, tolerance: 0 },
    ];
    for (const { n, budget, maxOrder, tolerance } of cases) {
      const runs: { rows: number; result: AndOrExpansion }[] = [];
      for (const timing of Object.values(TIMINGS)) {
        const game = counted(tail(n, 5), timing(n));
        const result = await recoverAndOr(game, n, { budget, maxOrder, seed: 3, tolerance, kernels });
        expectBudgetKept(result, game, budget);
        runs.push({ rows: game.rows, result });
      }
      for (const { rows, result } of runs.slice(1)) {
        expect(rows).toBe(runs[0].rows);
        const { gameMs: _a, ...same } = result;
        const { gameMs: _b, ...first } = runs[0].result;
        expect(same).toEqual(first);
      }
    }
  });
});

describe('recoverAndOr on a game that reuses its output buffer', () => {
  it('gives what a game answering in fresh arrays gives (a synchronous answer is copied before the other side calls)', async () => {
    const n = 40;
    const v = tail(n);
    let buffer = new Float64Array(0);
    let rows = 0;
    const reusing: GameFunction = (masks) => {
      rows += masks.count;
      if (buffer.length < masks.count) buffer = new Float64Array(2 * masks.count);
      buffer.set(v(masks));
      return buffer.subarray(0, masks.count);
    };
    const fresh = counted(v);
    const options = { budget: 3001, maxOrder: 3, seed: 1, kernels };
    const [a, b] = [await recoverAndOr(reusing, n, options), await recoverAndOr(fresh, n, options)];
    expect(rows).toBe(fresh.rows);
    expect(a.and.terms).toEqual(b.and.terms);
    expect(a.or.terms).toEqual(b.or.terms);
    expect(a.and.faithfulness).toEqual(b.and.faithfulness);
  });
});

describe('the held-out masks a shared draw gives each side', () => {
  it('are those its R² is measured on, and their count is the one reported (an odd budget gives the two sides different wants)', async () => {
    // 499 = 249 + 250: the AND side wants ⌊249/10⌋ = 24 held-out masks, the OR side 25; the joint draw makes 25
    const n = 64;
    const v = tail(n);
    const game = counted(v);
    const result = await recoverAndOr(game, n, { budget: 499, maxOrder: 1, seed: 0 });
    // the held-out draw is the last to reach the game (the other side's is served by the table)
    expect(result.and.faithfulness.heldOut).toBe(game.last);
    expect(result.or.faithfulness.heldOut).toBe(game.last);
    // the AND side's R² is the one on that many masks of the held-out stream
    const masks = randomMasks(n, result.and.faithfulness.heldOut, createRng(Math.imul(0 ^ 0x85ebca6b, 0xc2b2ae35) >>> 0));
    expect(new Validation({ masks, values: v(masks) }).r2(result.and.terms)).toBeCloseTo(result.and.faithfulness.r2, 12);
  });
});

describe('the engine with a pool of two workers (sparse method on ONNX models)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 2, threads: 1 });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('gives the same result twice, within the budget, on planted-64 and the breast-cancer MLP', async () => {
    const requests = [
      { method: 'sparse', model: model('planted/planted-64.onnx'), sample: { values: new Float64Array(64).fill(1) }, reward: 'output', target: 0, baseline: 'zero', budget: 1501, maxOrder: 4 },
      { method: 'sparse', model: model('breast-cancer-mlp.onnx'), sample: model('breast-cancer.samples.json'), budget: 3001, maxOrder: 3 },
    ] as const;
    for (const request of requests) {
      const [first, second] = [await engine.explain(request), await engine.explain(request)];
      if (!('and' in first) || !('and' in second)) expect.fail('not a sparse result');
      expect(first.evaluations).toBeLessThanOrEqual(request.budget);
      for (const key of ['evaluations', 'and', 'or', 'faithfulness', 'fit', 'values'] as const) expect(second[key]).toEqual(first[key]);
    }
  });

  it('ends a run when its engine is disposed mid-run, whatever the sides are doing', async () => {
    for (const at of [1, 300, 900]) {
      const own = await createEngine({ workers: 2, threads: 1 });
      let disposing: Promise<void> | undefined;
      const run = own.explain({
        method: 'sparse', model: model('breast-cancer-mlp.onnx'), sample: model('breast-cancer.samples.json'), budget: 1500, maxOrder: 3,
        onProgress: (done) => {
          if (done >= at) disposing ??= own.dispose();
        },
      });
      const error = await within(run, 10_000);
      await (disposing ?? own.dispose());
      expect(error, `disposed at ${at}`).toBeInstanceOf(Error);
      expect((error as Error).name).toMatch(/^(DisposedError|CancelledError)$/);
    }
  });
});
