// Agreement with the exact Möbius transform at n ≤ 12: the exact path when the budget covers 2^n, and the adaptive
// path (budget below 2^n) on sparse games whose full table the test transforms itself.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../engine/contracts/errors.js';
import { sparseMobius } from '../../../engine/analysis/sparse/index.js';
import { exactMobius, plantTerms, plantedGame, seededRng, tableGame } from './planted.js';

const popcount = (m: number) => {
  let c = 0;
  for (; m; m &= m - 1) c++;
  return c;
};
const maskOf = (players: readonly number[]) => players.reduce((m, i) => m | (1 << i), 0);

describe('sparseMobius agrees with the exact transform', () => {
  it.each([1, 5, 10, 12])('returns every Möbius coefficient of a dense random game at n = %i when budget = 2^n', async (n) => {
    const random = seededRng(n);
    const values = Float64Array.from({ length: 1 << n }, () => 20 * random() - 10);
    const reference = exactMobius(values, n);
    const game = tableGame(values, n);
    const result = await sparseMobius(game, n, { budget: 1 << n, maxOrder: n });
    expect(result.method).toBe('exact');
    expect(result.evaluations).toBe(1 << n);
    expect(result.terms).toHaveLength(1 << n); // a dense random game has no zero coefficient
    for (const term of result.terms) expect(term.value).toBeCloseTo(reference[maskOf(term.players)], 9);
    expect(result.faithfulness).toEqual({ r2: 1, heldOut: 0 });
  });

  it('keeps small terms on a large constant: round-off is judged by the values each term sums, not by all 2^n (stop 33)', async () => {
    const n = 12;
    const planted = [{ players: [2, 3], value: 2e-6 }, { players: [5], value: 1e-6 }, { players: [0, 7, 11], value: -3e-6 }];
    const values = Float64Array.from({ length: 1 << n }, (_, m) => planted.reduce((sum, t) => sum + (t.players.every((i) => (m >> i) & 1) ? t.value : 0), 1e6));
    const result = await sparseMobius(tableGame(values, n), n, { budget: 1 << n, maxOrder: n });
    expect(result.method).toBe('exact');
    // v holds each value to about 1.2e-10 (an ulp of 10^6): the terms come back to that, and nothing else is kept
    expect(result.terms).toHaveLength(1 + planted.length);
    for (const t of planted) expect(result.terms.find((term) => maskOf(term.players) === maskOf(t.players))?.value).toBeCloseTo(t.value, 9);
  });

  it('truncates to maxOrder and reports the R² of the truncation on all 2^n masks', async () => {
    const n = 12;
    const random = seededRng(3);
    const values = Float64Array.from({ length: 1 << n }, () => random());
    const reference = exactMobius(values, n);
    const result = await sparseMobius(tableGame(values, n), n, { budget: 5000, maxOrder: 3 });
    expect(result.terms).toHaveLength(1 + 12 + 66 + 220);
    for (const term of result.terms) expect(term.value).toBeCloseTo(reference[maskOf(term.players)], 9);
    // the truncated expansion, summed over subsets, against v on every mask
    const kept = new Float64Array(1 << n);
    for (let s = 0; s < 1 << n; s++) if (popcount(s) <= 3) kept[s] = reference[s];
    for (let bit = 1; bit < 1 << n; bit <<= 1) for (let s = 0; s < 1 << n; s++) if (s & bit) kept[s] += kept[s ^ bit];
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sse = values.reduce((a, v, s) => a + (v - kept[s]) ** 2, 0);
    const sst = values.reduce((a, v) => a + (v - mean) ** 2, 0);
    expect(result.faithfulness.r2).toBeCloseTo(1 - sse / sst, 12);
    expect(result.faithfulness.r2).toBeLessThan(0.9);
  });

  it('the adaptive path (budget < 2^n) matches the exact transform of a sparse game at n = 12', async () => {
    const n = 12;
    const planted = plantTerms(n, 20, 4, 77);
    const game = plantedGame(planted);
    const all = new Float64Array(1 << n);
    // evaluate the planted game on all masks with a one-word batch, then transform
    all.set(plantedGame(planted)({ n, count: 1 << n, words: 1, bits: Uint32Array.from({ length: 1 << n }, (_, s) => s) }) as Float64Array);
    const reference = exactMobius(all, n);
    const result = await sparseMobius(game, n, { budget: 2000, maxOrder: 4 });
    expect(result.method).toBe('adaptive');
    expect(result.evaluations).toBeLessThan(1 << n);
    const found = new Float64Array(1 << n);
    for (const term of result.terms) found[maskOf(term.players)] = term.value;
    for (let s = 0; s < 1 << n; s++) expect(Math.abs(found[s] - reference[s])).toBeLessThan(1e-9);
  });

  it("method 'exact' below 2^n evaluations is refused with the budget it needs", async () => {
    const game = tableGame(new Float64Array(1 << 12), 12);
    await expect(sparseMobius(game, 12, { budget: 4095, maxOrder: 2, method: 'exact' })).rejects.toThrow(InvalidOptionError);
    await expect(sparseMobius(game, 12, { budget: 4095, maxOrder: 2, method: 'exact' })).rejects.toThrow(/at least 2\^12 = 4096/);
  });
});
