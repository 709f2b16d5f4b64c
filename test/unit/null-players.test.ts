// nullPlayers compares values as the model is fed them (float32 rounding, integer rounding, every baseline of the
// marginal baseline); keepPlayers drops players from the masked layout; expandGame copies v across the dropped ones.
import { describe, expect, it } from 'vitest';
import { expandGame, keepPlayers, nullPlayers } from '../../engine/pipeline/null-players.js';
import type { MaskPlan } from '../../engine/pipeline/plan.js';

/** Three players of two elements each over six elements. */
function plan(dtype: MaskPlan['inputs'][number]['dtype'], values: number[], baseline: number[], rowsPerMask?: number): MaskPlan {
  return {
    n: 3,
    inputs: [{ name: 'x', dtype, sampleDims: [6], values: Float64Array.from(values) }],
    masked: [{ name: 'x', offsets: Int32Array.of(0, 2, 4, 6), indices: Int32Array.of(0, 1, 2, 3, 4, 5), baseline: Float64Array.from(baseline) }],
    reward: { kind: 'output', target: 0, output: 'y' },
    batchAxis: { kind: 'dynamic' },
    batchSize: 8,
    ...(rowsPerMask ? { rowsPerMask } : {}),
  };
}

describe('nullPlayers', () => {
  it('finds the players whose every element is at its baseline', () => {
    expect(nullPlayers(plan('float32', [0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]))).toEqual([0, 2]);
    expect(nullPlayers(plan('float32', [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]))).toEqual([]);
  });

  it('compares in the fed dtype: values apart in float64 but equal in float32 (or as integers) are the same input', () => {
    expect(nullPlayers(plan('float32', [0.1, 0.1, 1, 1, 1, 1], [0.1 + 1e-12, 0.1, 0, 0, 0, 0]))).toEqual([0]);
    expect(nullPlayers(plan('float64', [0.1, 0.1, 1, 1, 1, 1], [0.1 + 1e-12, 0.1, 0, 0, 0, 0]))).toEqual([]);
    expect(nullPlayers(plan('int64', [3, 3, 1, 1, 1, 1], [3.2, 2.9, 0, 0, 0, 0]))).toEqual([0]);
  });

  it('with the marginal baseline, a player is null only at every reference row\'s values', () => {
    // two reference rows: player 0 matches both, player 1 only the first
    const values = [5, 5, 7, 7, 1, 1];
    expect(nullPlayers(plan('float32', values, [5, 5, 7, 7, 0, 0, 5, 5, 8, 7, 0, 0], 2))).toEqual([0]);
  });
});

describe('keepPlayers and expandGame', () => {
  it('drop players from the layout, and copy v across them', () => {
    const kept = keepPlayers(plan('float32', [0, 0, 1, 1, 2, 2], [0, 0, 0, 0, 0, 0]), [1, 2]);
    expect(kept.n).toBe(2);
    expect(Array.from(kept.masked[0].offsets)).toEqual([0, 2, 4]);
    expect(Array.from(kept.masked[0].indices)).toEqual([2, 3, 4, 5]);
    // v of players {1, 2}: bit 0 = player 1, bit 1 = player 2
    const reduced = Float64Array.of(10, 11, 12, 13);
    expect(Array.from(expandGame(reduced, [1, 2], 3))).toEqual([10, 10, 11, 11, 12, 12, 13, 13]);
    expect(Array.from(expandGame(Float64Array.of(4, 5), [2], 3))).toEqual([4, 4, 4, 4, 5, 5, 5, 5]);
    expect(Array.from(expandGame(Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8), [0, 1, 2], 3))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
