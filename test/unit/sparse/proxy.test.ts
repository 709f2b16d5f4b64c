// The tree proxy of the auto search (proxy.ts) and the validation masks that choose among expansions
// (validation.ts). The proxy's Möbius expansion is read off its trees: on a game that trees represent exactly, it must
// return the game's Möbius coefficients; on a dense game of many orders it must rebuild v from few masks. Through
// sparseMobius, the auto search must keep it where neither the search nor the low-order completion rebuilds v.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKernels } from '../../../dist/bindings/index.js';
import type { KernelHost } from '../../../engine/contracts/kernels.js';
import { evaluateExpansion, sparseMobius } from '../../../engine/analysis/sparse/index.js';
import { createMasks, fillRow, randomMasks } from '../../../engine/analysis/sparse/masks.js';
import { fitProxy, MIN_PROXY_ROWS } from '../../../engine/analysis/sparse/proxy.js';
import { createRng } from '../../../engine/analysis/sparse/random.js';
import type { MaskBatch, SparseTerm } from '../../../engine/analysis/sparse/types.js';
import { Validation } from '../../../engine/analysis/sparse/validation.js';
import { allMasks, rSquared, seededRng, valuesOf } from './planted.js';

/** A saturating vote of a few conjunctions over 49 players (like the bundled patches model): dense in the Möbius
 *  basis, with terms up to order 8, but a simple function of which players are present. */
const conjunctions = [[0, 1], [10, 11, 12], [20, 21], [30]];
const vote = (x: (i: number) => boolean) => {
  const [a, b, c, d] = conjunctions.map((players) => (players.every(x) ? 1 : 0));
  return 6 / (1 + Math.exp(-(2.5 * a * b + 2.5 * c + 1.5 * d - 1.5)));
};

let kernels: KernelHost;
beforeAll(async () => {
  kernels = await loadKernels('debug');
});

describe('fitProxy', () => {
  it('returns the exact Möbius coefficients of a game that trees represent, read off the trees', async () => {
    const n = 10;
    const masks = allMasks(n);
    // 3·x0x1 + 2·x2(1 − x3) − 1.5·x4 + 0.5: Möbius {0,1}: 3, {2}: 2, {2,3}: −2, {4}: −1.5, ∅: 0.5
    const values = valuesOf(masks, (x) => 3 * +(x(0) && x(1)) + 2 * +(x(2) && !x(3)) - 1.5 * +x(4) + 0.5);
    const store = (await fitProxy(kernels, { masks, values }, 5, createRng(3), async () => {}))!;
    const expected = new Map([['', 0.5], ['0,1', 3], ['2', 2], ['2,3', -2], ['4', -1.5]]);
    for (const term of store.toTerms()) {
      const key = term.players.join(',');
      expect(Math.abs(term.value - (expected.get(key) ?? 0)), `term {${key}}`).toBeLessThan(1e-9);
      expected.delete(key);
    }
    expect([...expected.keys()]).toEqual([]);
  });

  it('keeps every term within maxOrder: trees no deeper than it', async () => {
    const n = 12;
    const masks = randomMasks(n, 2000, createRng(5));
    const values = valuesOf(masks, (x) => +(x(0) && x(1) && x(2) && x(3)) * 4 + +x(5));
    for (const maxOrder of [1, 2, 3]) {
      const store = (await fitProxy(kernels, { masks, values }, maxOrder, createRng(1), async () => {}))!;
      expect(Math.max(...store.toTerms().map((t) => t.players.length))).toBeLessThanOrEqual(maxOrder);
    }
    expect(await fitProxy(kernels, { masks, values }, 0, createRng(1), async () => {})).toBeUndefined();
  });

  it(`declines fewer than ${MIN_PROXY_ROWS} masks`, async () => {
    const masks = randomMasks(8, MIN_PROXY_ROWS - 1, createRng(2));
    expect(await fitProxy(kernels, { masks, values: new Float64Array(masks.count) }, 3, createRng(1), async () => {})).toBeUndefined();
  });

  // scikit-learn's GradientBoostingRegressor (depth 5, 200 trees, rate 0.2, subsample 0.8) reaches 0.982 here
  it('rebuilds a dense game of many orders from 1500 masks (R² > 0.975 on masks it never saw)', async () => {
    const n = 49;
    const masks = randomMasks(n, 1500, createRng(11));
    const store = (await fitProxy(kernels, { masks, values: valuesOf(masks, vote) }, 5, createRng(1), async () => {}))!;
    const scoring = randomMasks(n, 2000, createRng(12));
    expect(rSquared(valuesOf(scoring, vote), evaluateExpansion(store.toTerms(), scoring))).toBeGreaterThan(0.975);
  });

  // 49 players and 1500 masks: a kernel call grows a few dozen trees, so the fit pauses several times
  it('gives its kernel memory back, also when cancelled between its kernel calls', async () => {
    const masks = randomMasks(49, 1500, createRng(4));
    const values = valuesOf(masks, vote);
    const before = kernels.bytesInUse;
    let calls = 0;
    const cancel = async () => {
      if (++calls === 3) throw new Error('cancelled');
    };
    await expect(fitProxy(kernels, { masks, values }, 5, createRng(1), cancel)).rejects.toThrow('cancelled');
    expect(kernels.bytesInUse).toBe(before);
    await fitProxy(kernels, { masks, values }, 5, createRng(1), async () => {});
    expect(kernels.bytesInUse).toBe(before);
  });

  // a fit pauses between its kernel calls; the other expansion's fit may then grow the kernels' memory, which
  // detaches views
  it('fits the same trees when the kernels\' memory grows while it pauses', async () => {
    const masks = randomMasks(49, 1500, createRng(4));
    const values = valuesOf(masks, vote);
    const alone = (await fitProxy(kernels, { masks, values }, 5, createRng(1), async () => {}))!.toTerms();
    const held: ReturnType<KernelHost['alloc']>[] = [];
    let pauses = 0;
    const grow = async () => {
      // every second pause: another computation takes 8 MiB more of the kernels' memory
      if (++pauses % 2 === 0) held.push(kernels.alloc(2 ** 20));
    };
    const interrupted = (await fitProxy(kernels, { masks, values }, 5, createRng(1), grow))!.toTerms();
    for (const buffer of held) kernels.free(buffer);
    // at least one growth between two of its kernel calls
    expect(held.length).toBeGreaterThanOrEqual(2);
    expect(interrupted).toEqual(alone);
  });
});

describe('Validation', () => {
  // n and the count of masks off multiples of 32: the per-player bitsets are built by 32 × 32 bit-matrix transposes
  it('scores every prefix of an expansion as evaluating that prefix would', () => {
    const random = seededRng(21);
    for (const n of [1, 5, 32, 40, 70, 97]) {
      const masks = randomMasks(n, 1 + Math.floor(random() * 300), createRng(n));
      const values = Float64Array.from({ length: masks.count }, () => random() * 10);
      const validation = new Validation({ masks, values });
      const terms: SparseTerm[] = [{ players: [], value: 4 }];
      for (let t = 0; t < 60; t++) {
        const order = Math.floor(random() * Math.min(n, 4)) + 1;
        const players = [...new Set(Array.from({ length: order }, () => Math.floor(random() * n)))].sort((a, b) => a - b);
        terms.push({ players, value: random() * 2 - 1 });
      }
      const counts = [0, 1, 7, 30, 60, 61, 100];
      const scores = validation.prefixR2(terms, counts);
      expect(scores).toHaveLength(counts.length + 1);
      [...counts, terms.length].forEach((count, k) => {
        expect(scores[k]).toBeCloseTo(rSquared(values, evaluateExpansion(terms.slice(0, count), masks)), 10);
      });
      expect(validation.r2(terms)).toBe(scores[counts.length]);
      // each single player's term lands on exactly the masks that hold that player
      for (let i = 0; i < n; i++) {
        const alone = validation.predicted([{ players: [i], value: 1 }]);
        alone.forEach((x, r) => expect(x, `player ${i}, mask ${r}`).toBe((masks.bits[r * masks.words + (i >>> 5)] >>> (i & 31)) & 1));
      }
    }
  });
});

describe('the auto search with the tree proxy', () => {
  const n = 49;
  const scoring = randomMasks(n, 2000, createRng(99));
  const run = async (f: (x: (i: number) => boolean) => number, withKernels: boolean, seed: number) => {
    const expansion = await sparseMobius((masks: MaskBatch) => valuesOf(masks, f), n, { budget: 3000, maxOrder: 5, seed, ...(withKernels ? { kernels } : {}) });
    return { fit: expansion.fit, r2: rSquared(valuesOf(scoring, f), evaluateExpansion(expansion.terms, scoring)), exact: expansion.terms.filter((t) => t.exact).length, evaluations: expansion.evaluations };
  };
  const seeds = [1, 2, 3, 4];

  it('keeps the trees on a dense game, a saturating weighted count of the players, where the search alone fails', async () => {
    const weights = Array.from({ length: n }, (_, i) => ((i * 37) % 13) / 20);
    const count = (x: (i: number) => boolean) => {
      let s = 0;
      for (let i = 0; i < n; i++) if (x(i)) s += weights[i];
      return 6 / (1 + Math.exp(-(s - 7) / 2)) + 2 * +(x(0) && x(1));
    };
    // seeds 1–4: the trees 0.888–0.901 on the scoring masks; the search alone −4.9 to −2.2 (its terms of order ≤ 5,
    // refitted, cannot hold a game of every order)
    for (const seed of seeds) {
      const withTrees = await run(count, true, seed);
      expect(withTrees.fit).toBe('trees');
      expect(withTrees.r2).toBeGreaterThan(0.85);
      const searchAlone = await run(count, false, seed);
      expect(searchAlone.r2).toBeLessThan(0.5);
      // no sparse top, so the refinement's share is released; without the kernels there are no fits to take it, and
      // the stage that the budget stopped goes on with it
      expect(searchAlone.evaluations).toBeGreaterThan(0.97 * 3000);
    }
  });

  it('keeps the exact search on a saturating vote of conjunctions, which the trees fit no better', async () => {
    // the exact search ends having found every term it can see up to maxOrder, with their exact values (0.980 on the
    // scoring masks); the trees fit the validation masks about as well (0.978–0.992 there), so the exact values are
    // kept (refinement: the best expansion as good as the kept one whose exact values fit as well)
    for (const seed of seeds) {
      const kept = await run(vote, true, seed);
      expect(kept.fit).toBe('search');
      expect(kept.r2).toBeGreaterThan(0.975);
      expect(kept.exact).toBeGreaterThan(0);
    }
  });

  it('leaves an exactly sparse game to the exact search: its terms, not a fit', async () => {
    const full = createMasks(n, 1);
    fillRow(full, 0);
    const sparse = (masks: MaskBatch) => valuesOf(masks, (x) => 3 * +(x(0) && x(1)) - 2 * +(x(5) && x(6) && x(7)) + 1);
    const expansion = await sparseMobius(sparse, n, { budget: 3000, maxOrder: 5, seed: 1, kernels });
    expect(expansion.terms.map((t) => `{${t.players.join(',')}}: ${t.value}`).sort()).toEqual(['{0,1}: 3', '{5,6,7}: -2', '{}: 1']);
  });
});
