// How the pool splits one call into tasks (engine/pipeline/pool.ts listTaskRows and taskRanges): the tasks cover the
// rows once, in order, and a mask list never gets a task of one row when it has two or more, since such a task runs
// two rows (BatchBuilder.fillList). Before that rule, a slow model's lists went out one mask per task and every
// evaluation cost two (the sparse path on ResNet-18 at 3×32×32 ran at 2.0× the exact path's cost per evaluation).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listTaskRows, taskRanges } from '../../engine/pipeline/pool.js';
import { PROPERTY_MS, RUNS } from './inputs/support.js';

/** Rows of a call, the pool's workers, and a model speed from very slow (0.001 masks/ms) to very fast, or unknown. */
const calls = fc.record({
  first: fc.integer({ min: 0, max: 1000 }),
  total: fc.integer({ min: 1, max: 5000 }),
  workers: fc.integer({ min: 1, max: 16 }),
  masksPerMs: fc.option(fc.double({ min: 0.001, max: 1e4, noNaN: true }), { nil: undefined }),
});

describe('the pool splits a call into tasks', () => {
  it('covers every row once, in order, and gives a mask list no one-row task unless it has one row', () => {
    fc.assert(
      fc.property(calls, ({ first, total, workers, masksPerMs }) => {
        const chunk = listTaskRows(total, workers, masksPerMs);
        expect(chunk).toBeGreaterThanOrEqual(Math.min(2, total));
        expect(chunk).toBeLessThanOrEqual(total);
        const ranges = taskRanges(first, first + total, chunk, true);
        let next = first;
        for (const [start, end] of ranges) {
          expect(start).toBe(next);
          expect(end).toBeGreaterThan(start);
          if (total > 1) expect(end - start).toBeGreaterThanOrEqual(2);
          expect(end - start).toBeLessThanOrEqual(chunk + 1);
          next = end;
        }
        expect(next).toBe(first + total);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('spreads a slow model\'s short list over the workers in tasks of two rows, keeps a fast model\'s in one, and cuts a long one into equal tasks, a multiple of the workers', () => {
    // 0.2 masks per ms: 5 ms of work is one mask, so each task gets the least, two rows; a 7-row list's last row joins
    // the task before it
    expect(taskRanges(0, 7, listTaskRows(7, 2, 0.2), true)).toEqual([[0, 2], [2, 4], [4, 7]]);
    expect(taskRanges(0, 1, listTaskRows(1, 2, 0.2), true)).toEqual([[0, 1]]);
    expect(taskRanges(0, 64, listTaskRows(64, 2, 100), true)).toEqual([[0, 64]]);
    // a list of 1.5 tasks' work (TASK_MS = 5 ms) goes as one task per worker, not two full tasks and a last one alone
    // on one worker: 917 masks at 90 per ms (digits-cnn's cube) were 365 + 365 + 187 rows
    expect(taskRanges(0, 917, listTaskRows(917, 2, 90), true)).toEqual([[0, 459], [459, 917]]);
    // 44 ms of work: 8 tasks of 500 rows, 4 per worker; on 3 workers 9 tasks
    expect(taskRanges(0, 4000, listTaskRows(4000, 2, 90), true).map(([a, b]) => b - a)).toEqual(Array(8).fill(500));
    expect(taskRanges(0, 4000, listTaskRows(4000, 3, 90), true)).toHaveLength(9);
    // under SPLIT_MS (1 ms) of work a list stays one task; from it on, one per worker
    expect(taskRanges(0, 80, listTaskRows(80, 2, 90), true)).toEqual([[0, 80]]);
    expect(taskRanges(0, 100, listTaskRows(100, 2, 90), true)).toEqual([[0, 50], [50, 100]]);
    // a range of mask indices keeps its tasks as they fall (they start at batch boundaries)
    expect(taskRanges(0, 5, 2, false)).toEqual([[0, 2], [2, 4], [4, 5]]);
  });
});
