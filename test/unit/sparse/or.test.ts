// sparseOr: OR interactions through the complement game, on planted "any of S" games and against the definition
// I_or(S) = −Σ_{T⊆S} (−1)^{|S|−|T|} v(N∖T), I_or(∅) = v(∅) (spec §1.4) on the exact path.
import { describe, expect, it } from 'vitest';
import { loadKernels } from '../../../dist/bindings/index.js';
import { minimumBudget, sparseMobius, sparseOr } from '../../../engine/analysis/sparse/index.js';
import type { MaskBatch } from '../../../engine/analysis/sparse/types.js';
import { plantTerms, plantedGame, score, seededRng, tableGame, termMap } from './planted.js';

const popcount = (m: number) => {
  let c = 0;
  for (; m; m &= m - 1) c++;
  return c;
};
const maskOf = (players: readonly number[]) => players.reduce((m, i) => m | (1 << i), 0);

describe('sparseOr', () => {
  it.each([
    [100, 24, 3],
    [1024, 32, 4],
  ])('recovers a planted OR game w·1[S ∩ T ≠ ∅] at n = %i, s = %i, d = %i', async (n, s, d) => {
    const planted = plantTerms(n, s, d, n + s);
    const game = plantedGame(planted, { kind: 'or' });
    const result = await sparseOr(game, n, { budget: minimumBudget(n, d, s), maxOrder: d, seed: 9 });
    const { f1, maxRelativeError } = score(planted, result);
    expect(f1).toBe(1);
    expect(maxRelativeError).toBeLessThan(1e-9);
    expect(termMap(result.terms).get('')).toBeCloseTo(planted.empty, 9); // I_or(∅) = v(∅)
    expect(result.faithfulness.r2).toBeGreaterThan(1 - 1e-12);
  });

  it('keeps F1 ≥ 0.95 on a noisy OR game', async () => {
    const planted = plantTerms(256, 32, 3, 4);
    const sigma = 0.01 * Math.min(...planted.terms.map((t) => Math.abs(t.value)));
    const result = await sparseOr(plantedGame(planted, { kind: 'or', sigma }), 256, { budget: minimumBudget(256, 3, 32), maxOrder: 3 });
    expect(score(planted, result).f1).toBeGreaterThanOrEqual(0.95);
  });

  it('matches the definition on the exact path (n = 8, dense game)', async () => {
    const n = 8;
    const full = (1 << n) - 1;
    const random = seededRng(8);
    const v = Float64Array.from({ length: 1 << n }, () => 2 * random() - 1);
    const result = await sparseOr(tableGame(v, n), n, { budget: 1 << n, maxOrder: n });
    expect(result.method).toBe('exact');
    const found = new Map(result.terms.map((t) => [maskOf(t.players), t.value]));
    for (let s = 1; s < 1 << n; s++) {
      let sum = 0;
      for (let t = 0; t < 1 << n; t++) if ((t & s) === t) sum += (popcount(s ^ t) & 1 ? -1 : 1) * v[full ^ t];
      expect(found.get(s)).toBeCloseTo(-sum, 9);
    }
    expect(found.get(0)).toBeCloseTo(v[0], 9);
  });

  // a dense game (a sigmoid of a weighted count), so that the auto search draws validation and fit masks too
  it('draws the complements of sparseMobius\'s uniformly random masks for the same uniformSeed: the same masks of v', async () => {
    const n = 30;
    const kernels = await loadKernels('debug');
    const weights = Array.from({ length: n }, (_, i) => ((i * 7) % 11) / 5 - 1);
    const recorded = (seen: Set<string>) => (masks: MaskBatch) =>
      Float64Array.from({ length: masks.count }, (_, r) => {
        const row = masks.bits.subarray(r * masks.words, (r + 1) * masks.words);
        seen.add(row.join(','));
        let sum = 0;
        for (let i = 0; i < n; i++) if ((row[i >>> 5] >>> (i & 31)) & 1) sum += weights[i];
        return 4 / (1 + Math.exp(-sum));
      });
    const options = { budget: 6000, maxOrder: 3, kernels };
    const and = new Set<string>();
    const andResult = await sparseMobius(recorded(and), n, { ...options, seed: 1, uniformSeed: 7 });
    const shared = async (uniformSeed: number) => {
      const or = new Set<string>();
      await sparseOr(recorded(or), n, { ...options, seed: 2, uniformSeed });
      return [...or].filter((mask) => and.has(mask)).length;
    };
    // held-out (600), validation (256) and fit masks (at least the completion's 1188) coincide; with another seed
    // only ∅, N and chance do
    const heldOut = andResult.faithfulness.heldOut;
    expect(heldOut).toBe(600);
    expect(await shared(7)).toBeGreaterThanOrEqual(heldOut + 256 + 1188);
    expect(await shared(8)).toBeLessThan(50);
  });
});
