// Cancellation through AbortSignal (before, between and during game calls, and inside the regression solve) and
// the progress callback (monotone, ending at done = total = evaluations).
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../../engine/contracts/errors.js';
import { minimumBudget, sparseMobius, type MaskBatch } from '../../../engine/analysis/sparse/index.js';
import { plantTerms, plantedGame } from './planted.js';

const CANCEL_MS = 250;

describe('sparseMobius cancellation', () => {
  it('throws CancelledError without calling the game when the signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    const game = plantedGame(plantTerms(64, 8, 2, 1));
    await expect(sparseMobius(game, 64, { budget: 500, maxOrder: 2, signal: controller.signal })).rejects.toThrow(CancelledError);
    expect(game.calls).toBe(0);
  });

  it('stops right after the game call during which the signal fired', async () => {
    const controller = new AbortController();
    const inner = plantedGame(plantTerms(1024, 64, 4, 2));
    let calls = 0;
    const game = (masks: MaskBatch) => {
      if (++calls === 5) controller.abort();
      return inner(masks);
    };
    await expect(sparseMobius(game, 1024, { budget: minimumBudget(1024, 4, 64), maxOrder: 4, signal: controller.signal })).rejects.toThrow(CancelledError);
    expect(calls).toBe(5);
  });

  it('rejects promptly when an async game is aborted mid-run', async () => {
    const controller = new AbortController();
    const inner = plantedGame(plantTerms(512, 64, 4, 3));
    const game = async (masks: MaskBatch, signal?: AbortSignal) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      expect(signal).toBe(controller.signal); // the signal reaches the game
      return inner(masks);
    };
    const run = sparseMobius(game, 512, { budget: minimumBudget(512, 4, 64), maxOrder: 4, signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const started = performance.now();
    await expect(run).rejects.toThrow(CancelledError);
    expect(performance.now() - started).toBeLessThan(30 + CANCEL_MS);
    expect(inner.evaluations).toBeLessThan(minimumBudget(512, 4, 64));
  });

  it('maps a game that rejects on abort to CancelledError with the rejection as cause', async () => {
    const controller = new AbortController();
    const reason = new Error('aborted inside the model');
    const game = (masks: MaskBatch) => {
      if (masks.count > 0) controller.abort();
      throw reason;
    };
    const error = await sparseMobius(game, 64, { budget: 500, maxOrder: 2, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).cause).toBe(reason);
  });

  it('cancels inside the regression fit, after its last game call', async () => {
    const controller = new AbortController();
    const game = plantedGame(plantTerms(40, 10, 2, 4));
    // onProgress runs after the call's own cancellation check: the next check is inside the design and solve loops
    const onProgress = (done: number) => {
      if (done === 1800) controller.abort();
    };
    const run = sparseMobius(game, 40, { budget: 1900, maxOrder: 2, method: 'regression', signal: controller.signal, heldOut: 100, onProgress });
    await expect(run).rejects.toThrow(CancelledError);
    expect(game.evaluations).toBe(1800); // the held-out masks were never evaluated
  });
});

describe('sparseMobius progress', () => {
  it('reports monotone progress that ends at done = total = evaluations', async () => {
    const calls: [number, number][] = [];
    const planted = plantTerms(256, 32, 3, 6);
    const budget = minimumBudget(256, 3, 32);
    const result = await sparseMobius(plantedGame(planted), 256, { budget, maxOrder: 3, onProgress: (done, total) => calls.push([done, total]) });
    expect(calls.length).toBeGreaterThan(10);
    for (let k = 1; k < calls.length; k++) expect(calls[k][0]).toBeGreaterThanOrEqual(calls[k - 1][0]);
    for (const [done, total] of calls) {
      expect(done).toBeLessThanOrEqual(total);
      expect(total).toBeLessThanOrEqual(budget);
    }
    expect(calls.at(-1)).toEqual([result.evaluations, result.evaluations]);
    expect(calls[0][1]).toBe(budget); // planned = the budget until the adaptive search knows better
  });

  it('plans exactly 2^n evaluations on the exact path', async () => {
    const calls: [number, number][] = [];
    await sparseMobius(plantedGame(plantTerms(16, 4, 2, 1)), 16, { budget: 70_000, maxOrder: 2, onProgress: (done, total) => calls.push([done, total]) });
    expect(calls.map(([done]) => done)).toEqual([16384, 32768, 49152, 65536, 65536]);
    expect(new Set(calls.map(([, total]) => total))).toEqual(new Set([65536]));
  });
});
