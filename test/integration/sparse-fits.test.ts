// The sparse method's fits on random masks as a runner task (engine/analysis/sparse/fits.ts): a pool worker, the
// calling thread and the fits run in place give the same expansions for the same task, and a cancelled task ends
// with CancelledError on every runner, which stays usable.
import { describe, expect, it } from 'vitest';
import { loadKernels } from '../../dist/bindings/index.js';
import { randomFits } from '../../dist/engine/analysis/sparse/fits.js';
import { cubeMasks } from '../../dist/engine/analysis/sparse/cube.js';
import { randomMasks } from '../../dist/engine/analysis/sparse/masks.js';
import { createRng } from '../../dist/engine/analysis/sparse/random.js';
import { strongestFirst, TermStore } from '../../dist/engine/analysis/sparse/terms.js';
import { Validation } from '../../dist/engine/analysis/sparse/validation.js';
import type { MaskBatch, RandomFitsTask } from '../../dist/engine/analysis/sparse/types.js';
import { CancelledError } from '../helpers/index.js';
import { RUNNERS } from '../helpers/runners.js';

const N = 20;
/** A saturating vote of three conjunctions beside a few single players: dense in the Möbius basis. */
const vote = (masks: MaskBatch) =>
  Float64Array.from({ length: masks.count }, (_, r) => {
    const x = (i: number) => (masks.bits[r * masks.words] >>> i) & 1;
    const score = 2.5 * x(0) * x(1) + 2 * x(4) * x(5) * x(6) + 1.5 * x(9) * x(10) * x(11) * x(12) + 0.4 * x(15) - 1.5;
    return 6 / (1 + Math.exp(-score));
  });
const setOf = (count: number, seed: number) => {
  const masks = randomMasks(N, count, createRng(seed));
  return { masks, values: vote(masks) };
};
const searched = new TermStore();
searched.add([], 1);
searched.add([0, 1], 2);
const TASK: RandomFitsTask = { n: N, maxOrder: 4, seed: 7, searched: searched.toFlat(), fit: setOf(700, 1), logged: setOf(700, 2), validation: setOf(128, 3) };
/** The same with v at every subset of four players (cube.ts): its typed arrays cross the worker boundary too. */
const players = Int32Array.of(0, 1, 4, 5);
const CUBE_TASK: RandomFitsTask = { ...TASK, cube: { players, values: vote(cubeMasks(players, N)) } };
/** A cube of every player the vote reads: it explains v alone, so no trees are fitted to v itself. */
const all = Int32Array.of(0, 1, 4, 5, 6, 9, 10, 11, 12, 15);
const FULL_CUBE_TASK: RandomFitsTask = { ...TASK, cube: { players: all, values: vote(cubeMasks(all, N)) } };

describe.each(RUNNERS)('the fits on random masks on %s', (_name, create) => {
  it('are the fits run in place, value for value, with a cube of the players that matter or without', async () => {
    const runner = await create();
    try {
      for (const [task, fits] of [
        [TASK, ['trees', 'completion', 'completion+trees']],
        [CUBE_TASK, ['trees', 'cube+trees', 'completion', 'completion+trees']],
        [FULL_CUBE_TASK, ['cube+trees', 'completion', 'completion+trees']],
      ] as const) {
        const expected = await randomFits(await loadKernels('release'), task, async () => {});
        expect(expected.map((f) => f.fit)).toEqual(fits);
        const fitted = await runner.fitRandom(task);
        expect(fitted.map((f) => f.fit)).toEqual(expected.map((f) => f.fit));
        fitted.forEach((f, k) => {
          expect(Array.from(f.terms.offsets)).toEqual(Array.from(expected[k].terms.offsets));
          expect(Array.from(f.terms.flat)).toEqual(Array.from(expected[k].terms.flat));
          expect(Array.from(f.terms.values)).toEqual(Array.from(expected[k].terms.values));
          // each fit comes scored on the task's validation masks, as this thread scores it
          expect(f.r2).toBe(expected[k].r2);
          expect(f.r2).toBe(new Validation(task.validation).r2({ terms: f.terms, order: strongestFirst(f.terms) }));
          expect(f.r2).toBeGreaterThan(0.5);
        });
      }
    } finally {
      await runner.dispose();
    }
  });

  it('end with CancelledError when cancelled, before or while they run, and the runner goes on', async () => {
    const runner = await create();
    try {
      await expect(runner.fitRandom(TASK, AbortSignal.abort())).rejects.toBeInstanceOf(CancelledError);
      const stop = new AbortController();
      const running = runner.fitRandom(TASK, stop.signal);
      setTimeout(() => stop.abort(), 5);
      await expect(running).rejects.toBeInstanceOf(CancelledError);
      expect((await runner.fitRandom(TASK)).length).toBe(3);
    } finally {
      await runner.dispose();
    }
  });
});
