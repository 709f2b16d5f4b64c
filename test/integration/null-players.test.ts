// Players already at their baseline (a blank cell of a digit at the zero baseline): the exact path evaluates only the
// masks of the other players and copies v across. Checked against the sparse method's exact path, which evaluates
// every one of the 2^n masks through mask lists: the same Möbius coefficients; and by the evaluations it reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, expectClose, model, type Engine } from '../helpers/index.js';

const DIGITS = { model: model('digits-cnn.onnx'), sample: model('digits.samples.json'), modality: 'image' as const, grid: '4x4', players: '0-15', baseline: 'zero' as const };
/** Row 5's blank cells of the 4×4 grid (all four pixels 0): 7 of 16. */
const BLANK = [0, 3, 7, 8, 11, 12, 15];

describe.each([['the calling thread', 0], ['two workers', 2]] as const)('null players, on %s', (_where, workers) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers, threads: 1 });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('evaluates 2^(n−k) masks for k blank cells, and gives the v every mask gives', async () => {
    let total = 0;
    const exact = await engine.explain({ ...DIGITS, row: 5, decomposition: 'and', preset: 'none', onProgress: (_done, all) => void (total = all) });
    expect(total).toBe(2 ** (16 - BLANK.length));
    // v(T) = v(T ∖ blank): bit for bit
    for (let mask = 0; mask < 2 ** 16; mask++) {
      const without = BLANK.reduce((m, i) => m & ~(1 << i), mask);
      if (exact.v[mask] !== exact.v[without]) expect.fail(`v[${mask}] = ${exact.v[mask]} but v[${without}] = ${exact.v[without]}`);
    }
    // the sparse method's exact path evaluates all 2^16 masks: the same Möbius coefficients, and none on a blank cell
    const sparse = await engine.explain({ ...DIGITS, row: 5, method: 'sparse', budget: 2 ** 16, maxOrder: 16 });
    expect(sparse.recovery).toBe('exact');
    expect(sparse.evaluations).toBe(2 ** 16);
    const found = new Map(sparse.and.map((t) => [t.players.reduce((m, i) => m | (1 << i), 0), t.value]));
    const scale = Math.max(...Array.from(exact.and, Math.abs));
    for (let s = 0; s < 2 ** 16; s++) expectClose(found.get(s) ?? 0, exact.and[s], { atol: 1e-9 * scale });
    for (const t of sparse.and) expect(t.players.some((i) => BLANK.includes(i))).toBe(false);
  }, 60_000);

  it('evaluates every mask when no player is blank (row 5 at the mean baseline)', async () => {
    let total = 0;
    await engine.explain({ ...DIGITS, players: '0-9', row: 5, baseline: 'mean', preset: 'none', onProgress: (_done, all) => void (total = all) });
    expect(total).toBe(2 ** 10);
  });
});
