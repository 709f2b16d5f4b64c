// The refinement of an auto search (refine.ts): exact Möbius values for the strongest terms of a fitted expansion,
// read off v at every subset of their supports, and the exact extensions of the salient supports. Checked against the
// brute-force Möbius transform of games of 12–14 players: values, what it evaluates (never a known mask, never over
// its budget), and, through sparseMobius, terms beyond a tree proxy's depth that only the refinement finds.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKernels } from '../../../dist/bindings/index.js';
import type { KernelHost } from '../../../engine/contracts/kernels.js';
import { sparseMobius, type MaskBatch, type SparseTerm } from '../../../engine/analysis/sparse/index.js';
import { createMasks } from '../../../engine/analysis/sparse/masks.js';
import { refineTerms } from '../../../engine/analysis/sparse/refine.js';
import { TermStore } from '../../../engine/analysis/sparse/terms.js';

/** A game of n ≤ 16 players as a table of its 2^n values, and its Möbius transform by brute force. */
function tableGame(n: number, f: (mask: number) => number) {
  const v = Float64Array.from({ length: 2 ** n }, (_, m) => f(m));
  const m = v.slice();
  for (let i = 0; i < n; i++) for (let s = 0; s < 2 ** n; s++) if (s & (1 << i)) m[s] -= m[s ^ (1 << i)];
  const asked: number[] = [];
  const game = (masks: MaskBatch) => Float64Array.from({ length: masks.count }, (_, r) => (asked.push(masks.bits[r * masks.words]), v[masks.bits[r * masks.words]]));
  const mobius = (players: readonly number[]) => m[players.reduce((s, i) => s | (1 << i), 0)];
  return { v, game, asked, mobius };
}

/** refineTerms on a fitted expansion holding the given terms. */
function refine(estimates: readonly SparseTerm[], dropAtOrBelow: number, context: Parameters<typeof refineTerms>[3]) {
  const fitted = new TermStore();
  for (const term of estimates) fitted.add(term.players, term.value);
  return refineTerms(fitted, fitted.toTerms(dropAtOrBelow), dropAtOrBelow, context);
}

const all = (mask: number, ...players: number[]) => (players.every((i) => (mask >>> i) & 1) ? 1 : 0);
/** Two strong conjunctions, their cancelling union (as in the bundled tokens model), two order-6 modulations of it
 *  beyond a depth-5 tree, and a small dense tail of every order (a smooth function of all players). */
const conjunctions = (mask: number) => {
  let s = 0;
  for (let i = 0; i < 14; i++) s += (((i * 7) % 5) - 2) * 0.3 * ((mask >>> i) & 1);
  return 25 * all(mask, 0, 1) + 25 * all(mask, 2, 3, 4) - 25 * all(mask, 0, 1, 2, 3, 4) + 0.8 * all(mask, 0, 1, 2, 3, 4, 7) - 0.6 * all(mask, 0, 1, 2, 3, 4, 9) + 0.1 * Math.tanh(s);
};
const PLANTED = [[0, 1], [2, 3, 4], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 7], [0, 1, 2, 3, 4, 9]];

let kernels: KernelHost;
beforeAll(async () => {
  kernels = await loadKernels('debug');
});

describe('refineTerms', () => {
  const n = 12;
  const context = (game: ReturnType<typeof tableGame>, budget: number, known: number[] = []) => {
    const masks = createMasks(n, known.length);
    known.forEach((m, r) => (masks.bits[r] = m));
    return { n, maxOrder: n, budget, known: [{ masks, values: Float64Array.from(known, (m) => game.v[m]) }], evaluate: game.game, throwIfCancelled: () => {} };
  };

  it('replaces the strongest estimates by the exact Möbius values, and adds the exact extensions of the salient supports', async () => {
    const game = tableGame(n, conjunctions);
    // estimates off by up to 20 %, and no order-6 term (a depth-5 proxy's view)
    const estimates: SparseTerm[] = [{ players: [], value: game.v[0] }, ...PLANTED.slice(0, 3).map((players, k) => ({ players, value: game.mobius(players) * (1 + 0.1 * (k - 1)) }))];
    const refined = (await refine(estimates, 0, context(game, 400)))!;
    const terms = new Map(refined.store.toTerms().map((t) => [t.players.join(','), t.value]));
    for (const players of PLANTED) expect(Math.abs(terms.get(players.join(','))! - game.mobius(players)), `{${players}}`).toBeLessThan(1e-9);
    // every subset of an evaluated support is exact too: {0,2,3} of {0,1,2,3,4}
    expect(Math.abs(terms.get('0,2,3')! - game.mobius([0, 2, 3]))).toBeLessThan(1e-9);
    expect(refined.exact.size).toBeGreaterThanOrEqual(PLANTED.length);
    expect(new Set(game.asked).size).toBe(game.asked.length); // no mask twice
    expect(game.asked.length).toBeLessThanOrEqual(400);
  });

  it('reads known masks instead of evaluating them, and stays within its budget', async () => {
    const game = tableGame(n, conjunctions);
    const estimates: SparseTerm[] = [{ players: [], value: 0 }, { players: [0, 1, 2, 3, 4], value: -20 }];
    // the 32 subsets of {0,…,4}, known: the lattice costs nothing, and 5 evaluations pay for nothing else
    const subsets = Array.from({ length: 32 }, (_, s) => s);
    const refined = (await refine(estimates, 0, context(game, 5, subsets)))!;
    expect(game.asked).toEqual([]);
    expect(Math.abs(refined.store.toTerms().find((t) => t.players.join(',') === '0,1,2,3,4')!.value - game.mobius([0, 1, 2, 3, 4]))).toBeLessThan(1e-9);
    // with nothing known, 5 evaluations pay for no lattice of the term
    const fresh = tableGame(n, conjunctions);
    expect(await refine(estimates, 0, context(fresh, 5))).toBeUndefined();
    expect(fresh.asked).toEqual([]);
  });

  it('leaves out added exact terms at or below the drop level, never a term it was given', async () => {
    const game = tableGame(n, conjunctions);
    const estimates: SparseTerm[] = [{ players: [], value: 0 }, { players: [0, 1], value: 20 }, { players: [5], value: 1e-3 }];
    const refined = (await refine(estimates, 0.5, context(game, 400)))!;
    const terms = refined.store.toTerms();
    expect(terms.some((t) => t.players.join(',') === '5')).toBe(true);
    expect(terms.filter((t) => t.players.length > 0 && t.players.join(',') !== '5').every((t) => Math.abs(t.value) > 0.5)).toBe(true);
  });
});

describe('sparseMobius with the refinement (auto, deterministic game)', () => {
  const n = 14;
  const game = tableGame(n, conjunctions);

  it('marks only exact values as exact, whatever it keeps', async () => {
    for (const seed of [1, 2, 3]) {
      for (const budget of [1600, 3200]) {
        const result = await sparseMobius(game.game, n, { budget, maxOrder: n, seed, kernels });
        expect(result.evaluations).toBeLessThanOrEqual(budget);
        for (const term of result.terms.filter((t) => t.exact)) expect(Math.abs(term.value - game.mobius(term.players)), `seed ${seed}, budget ${budget}, {${term.players}}`).toBeLessThan(1e-9);
      }
    }
  });

  it('recovers every planted term exactly, the order-6 ones beyond the proxy depth included', async () => {
    for (const budget of [1600, 4000]) {
      const result = await sparseMobius(game.game, n, { budget, maxOrder: n, seed: 2, kernels });
      const terms = new Map(result.terms.map((t) => [t.players.join(','), t]));
      for (const players of PLANTED) {
        const term = terms.get(players.join(','));
        expect(term?.exact, `budget ${budget}, {${players}}`).toBe(true);
        expect(Math.abs(term!.value - game.mobius(players))).toBeLessThan(1e-9);
      }
      expect(result.faithfulness.r2).toBeGreaterThan(0.9999);
    }
  });
});
