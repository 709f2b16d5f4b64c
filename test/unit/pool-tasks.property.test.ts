// How the pool cuts a mask list into units for the workers to claim (engine/pipeline/pool.ts listUnits): its units
// cover its rows once, in order, and never hold one row when the list has two or more, since such a unit runs two
// (BatchBuilder.fillList). Before that rule, a slow model's lists went out one mask at a time and every
// evaluation cost two (the sparse path on ResNet-18 at 3×32×32 ran at 2.0× the exact path's cost per evaluation).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listUnits } from '../../engine/pipeline/pool.js';
import { PROPERTY_MS, RUNS } from './inputs/support.js';

/** Rows of a call, the pool's workers, and a model speed from very slow (0.001 masks/ms) to very fast, or unknown. */
const calls = fc.record({
  first: fc.integer({ min: 0, max: 1000 }),
  total: fc.integer({ min: 1, max: 5000 }),
  workers: fc.integer({ min: 1, max: 16 }),
  masksPerMs: fc.option(fc.double({ min: 0.001, max: 1e4, noNaN: true }), { nil: undefined }),
});

/** The units' [start, end) rows, as a worker's claims take them (worker.ts evaluateClaims). */
function unitRanges(total: number, rows: number, count: number): [number, number][] {
  return Array.from({ length: count }, (_, k) => [k * rows, k === count - 1 ? total : (k + 1) * rows]);
}

describe('the pool cuts a call into work for the workers', () => {
  it('cuts a mask list into units that cover every row once, in order, none of one row unless the list has one, for at most as many workers as units', () => {
    fc.assert(
      fc.property(calls, ({ total, workers, masksPerMs }) => {
        const { rows, count, workers: used } = listUnits(total, workers, masksPerMs);
        expect(rows).toBeGreaterThanOrEqual(Math.min(2, total));
        expect(used).toBeGreaterThanOrEqual(1);
        expect(used).toBeLessThanOrEqual(Math.min(workers, count));
        let next = 0;
        for (const [start, end] of unitRanges(total, rows, count)) {
          expect(start).toBe(next);
          expect(end).toBeGreaterThan(start);
          if (total > 1) expect(end - start).toBeGreaterThanOrEqual(2);
          expect(end - start).toBeLessThanOrEqual(rows + 1);
          next = end;
        }
        expect(next).toBe(total);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it("gives a slow model's short list units of two rows on every worker, keeps a fast model's on one worker, and cuts a long one into units of about 2 ms", () => {
    // 0.2 masks per ms: 2 ms of work is less than a mask, so each unit gets the least, two rows; a 7-row list's last
    // row joins the unit before it
    expect(listUnits(7, 2, 0.2)).toEqual({ rows: 2, count: 3, workers: 2 });
    expect(listUnits(1, 2, 0.2)).toEqual({ rows: 1, count: 1, workers: 1 });
    // under SPLIT_MS (1 ms) of work a list stays on one worker, in one unit; from it on, every worker takes part
    expect(listUnits(64, 2, 100)).toEqual({ rows: 64, count: 1, workers: 1 });
    expect(listUnits(80, 2, 90)).toEqual({ rows: 80, count: 1, workers: 1 });
    expect(listUnits(100, 2, 90)).toEqual({ rows: 50, count: 2, workers: 2 });
    // digits-cnn's cube, 917 masks at about 90 per ms: 2 ms is 180 rows, evened out to 6 units of 153 (the last 152),
    // not 5 of 180 and one of 17
    expect(listUnits(917, 2, 90)).toEqual({ rows: 153, count: 6, workers: 2 });
    // 512 masks: four units of 128, not 180 + 180 + 152
    expect(listUnits(512, 2, 90)).toEqual({ rows: 128, count: 4, workers: 2 });
    // 4000 masks on 3 workers: 24 units of 167 (the last 159)
    expect(listUnits(4000, 3, 90)).toEqual({ rows: 167, count: 24, workers: 3 });
    // before the speed is known: 4 units per worker, of at least 64 rows unless that leaves a worker without one
    expect(listUnits(1000, 2, undefined)).toEqual({ rows: 125, count: 8, workers: 2 });
    expect(listUnits(100, 2, undefined)).toEqual({ rows: 50, count: 2, workers: 2 });
  });
});
