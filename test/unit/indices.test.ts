// Interaction indices from Möbius coefficients against their textbook definitions evaluated on v by brute force
// (weighted sums of marginal contributions / discrete derivatives, a constrained least squares for FSII), on seeded
// random games with n = 3..7; known games; dense and sparse agreement; and every argument error.
import { describe, expect, it } from 'vitest';
import {
  allIndices, banzhaf, bii, chii, computeIndex, fbii, fsii, indexToDense, INDEX_NAMES, kSii, mobiusTerms, mobiusTransform, shapley, sii, stii,
  type InteractionIndex, type MobiusTerm,
} from '../../engine/analysis/indices.js';
import { InvalidInputError, InvalidOptionError, MemoryLimitError, NonFiniteError, ShapeMismatchError } from '../../engine/contracts/errors.js';
import { denseSolve, seededRng } from '../helpers/index.js';

// ---- local helpers ------------------------------------------------------------------------------------------

const randomGame = (seed: number, n: number) => {
  const rng = seededRng(seed);
  return Float64Array.from({ length: 1 << n }, () => rng() * 2 - 1);
};
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-10): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol)) expect.fail(`index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}
const popcount = (m: number) => {
  let c = 0;
  for (; m; m &= m - 1) c++;
  return c;
};
const factorial = (k: number): number => (k <= 1 ? 1 : k * factorial(k - 1));
const choose = (a: number, b: number) => (b < 0 || b > a ? 0 : factorial(a) / (factorial(b) * factorial(a - b)));
const subsetsOf = (mask: number) => {
  const out: number[] = [];
  for (let l = mask; ; l = (l - 1) & mask) {
    out.push(l);
    if (l === 0) return out;
  }
};
/** Δ_S v(T) = Σ_{L⊆S} (−1)^{|S|−|L|} v(T ∪ L), T ∩ S = ∅. */
const derivative = (v: Float64Array, s: number, t: number) => subsetsOf(s).reduce((sum, l) => sum + ((popcount(s ^ l) & 1 ? -1 : 1) * v[t | l]), 0);
/** Masks of N∖S. */
const outside = (s: number, n: number) => subsetsOf(((1 << n) - 1) & ~s);

// ---- brute-force definitions on v ----------------------------------------------------------------------------

/** Shapley 1953: φ_i = Σ_{T⊆N∖i} |T|!(n−|T|−1)!/n! (v(T∪i) − v(T)). */
function bruteShapley(v: Float64Array, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => outside(1 << i, n).reduce((s, t) => s + ((factorial(popcount(t)) * factorial(n - popcount(t) - 1)) / factorial(n)) * (v[t | (1 << i)] - v[t]), 0));
}
/** Banzhaf: β_i = 2^{−(n−1)} Σ_{T⊆N∖i} (v(T∪i) − v(T)). */
function bruteBanzhaf(v: Float64Array, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => outside(1 << i, n).reduce((s, t) => s + (v[t | (1 << i)] - v[t]) / 2 ** (n - 1), 0));
}
/** Grabisch & Roubens 1999: SII(S) = Σ_{T⊆N∖S} (n−t−s)! t!/(n−s+1)! Δ_S v(T), every S (∅ included). */
function bruteSii(v: Float64Array, n: number): Float64Array {
  const out = new Float64Array(1 << n);
  for (let s = 0; s < 1 << n; s++) {
    const k = popcount(s);
    out[s] = outside(s, n).reduce((sum, t) => sum + ((factorial(n - popcount(t) - k) * factorial(popcount(t))) / factorial(n - k + 1)) * derivative(v, s, t), 0);
  }
  return out;
}
/** B_0..B_8 with B_1 = −1/2. Golden values: NIST DLMF Table 24.2.1 (OEIS A027641/A027642). */
const BERNOULLI = [1, -1 / 2, 1 / 6, 0, -1 / 30, 0, 1 / 42, 0, -1 / 30];
/** Bordt & von Luxburg 2023 (AISTATS), n-Shapley values by their recursion: Φ¹ = SII at order 1; for j = 2..k,
 *  Φʲ(S) = SII(S) when |S| = j, else Φʲ⁻¹(S) + B_{j−|S|} Σ_{K⊇S, |K|=j} SII(K); Φ(∅) = v(∅). */
function bruteKSii(v: Float64Array, n: number, k: number): Float64Array {
  const base = bruteSii(v, n);
  const phi = new Float64Array(1 << n);
  for (let i = 0; i < n; i++) phi[1 << i] = base[1 << i];
  for (let j = 2; j <= k; j++) {
    const next = Float64Array.from(phi);
    for (let s = 1; s < 1 << n; s++) {
      const size = popcount(s);
      if (size === j) next[s] = base[s];
      else if (size < j) {
        for (let r = 0; r < 1 << n; r++) if ((r & s) === s && popcount(r) === j) next[s] += BERNOULLI[j - size] * base[r];
      }
    }
    phi.set(next);
  }
  phi[0] = v[0];
  return phi;
}
/** Sundararajan et al. 2020: STII(S) = Δ_S v(∅) for |S| < k; (k/n) Σ_{T⊆N∖S} Δ_S v(T)/C(n−1, |T|) for |S| = k. */
function bruteStii(v: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(1 << n);
  for (let s = 0; s < 1 << n; s++) {
    const size = popcount(s);
    if (size < k) out[s] = derivative(v, s, 0);
    else if (size === k) out[s] = (k / n) * outside(s, n).reduce((sum, t) => sum + derivative(v, s, t) / choose(n - 1, popcount(t)), 0);
  }
  return out;
}
/** Tsai et al. 2023 (Faith-Shap): argmin Σ_{∅≠T≠N} μ(T) (v(T) − Σ_{S⊆T, |S|≤k} E(S))² with μ(T) ∝ 1/C(n−2, |T|−1) (the
 *  Shapley kernel), subject to exact fits at ∅ and N; solved through its KKT system. */
function bruteFsii(v: Float64Array, n: number, k: number): Float64Array {
  const sets = Array.from({ length: 1 << n }, (_, s) => s).filter((s) => popcount(s) <= k);
  const p = sets.length;
  const size = p + 2;
  const kkt = new Float64Array(size * size);
  const rhs = new Float64Array(size);
  const full = (1 << n) - 1;
  for (let t = 1; t < full; t++) {
    const mu = 1 / choose(n - 2, popcount(t) - 1);
    const row = sets.map((s) => ((s & t) === s ? 1 : 0));
    for (let a = 0; a < p; a++) {
      if (!row[a]) continue;
      rhs[a] += 2 * mu * v[t];
      for (let b = 0; b < p; b++) if (row[b]) kkt[a * size + b] += 2 * mu;
    }
  }
  [0, full].forEach((t, c) => {
    sets.forEach((s, a) => {
      const hit = (s & t) === s ? 1 : 0;
      kkt[a * size + p + c] = hit;
      kkt[(p + c) * size + a] = hit;
    });
    rhs[p + c] = v[t];
  });
  const x = denseSolve(kkt, rhs);
  const out = new Float64Array(1 << n);
  sets.forEach((s, a) => (out[s] = x[a]));
  return out;
}
/** Grabisch & Roubens 1999, Banzhaf interaction: BII(S) = 2^{−(n−s)} Σ_{T⊆N∖S} Δ_S v(T), every S (∅: the mean of v). */
function bruteBii(v: Float64Array, n: number): Float64Array {
  return Float64Array.from(v, (_, s) => outside(s, n).reduce((sum, t) => sum + derivative(v, s, t), 0) / 2 ** (n - popcount(s)));
}
/** Marichal & Roubens 1999, chaining interaction: Ch(S) = Σ_{T⊆N∖S} s·(t+s−1)!(n−t−s)!/n! Δ_S v(T) for S ≠ ∅; ∅: v(∅). */
function bruteChii(v: Float64Array, n: number): Float64Array {
  return Float64Array.from(v, (_, s) => {
    const k = popcount(s);
    if (k === 0) return v[0];
    return outside(s, n).reduce((sum, t) => sum + ((k * factorial(popcount(t) + k - 1) * factorial(n - popcount(t) - k)) / factorial(n)) * derivative(v, s, t), 0);
  });
}
/** Tsai et al. 2023 (Faith-Banzhaf): argmin Σ_{T⊆N} (v(T) − Σ_{S⊆T, |S|≤k} E(S))², every set weighted alike, by its
 *  normal equations. */
function bruteFbii(v: Float64Array, n: number, k: number): Float64Array {
  const sets = Array.from({ length: 1 << n }, (_, s) => s).filter((s) => popcount(s) <= k);
  const p = sets.length;
  const gram = new Float64Array(p * p);
  const rhs = new Float64Array(p);
  for (let t = 0; t < 1 << n; t++) {
    const row = sets.map((s) => ((s & t) === s ? 1 : 0));
    for (let a = 0; a < p; a++) {
      if (!row[a]) continue;
      rhs[a] += v[t];
      for (let b = 0; b < p; b++) gram[a * p + b] += row[b];
    }
  }
  const x = denseSolve(gram, rhs);
  const out = new Float64Array(1 << n);
  sets.forEach((s, a) => (out[s] = x[a]));
  return out;
}
/** Brute Möbius, O(3^n), independent of mobiusTransform. */
function bruteMobius(v: Float64Array): Float64Array {
  return Float64Array.from(v, (_, s) => subsetsOf(s).reduce((sum, t) => sum + (popcount(s ^ t) & 1 ? -1 : 1) * v[t], 0));
}
/** An index's dense vector with the sets above order k cleared (the brute forces fill only up to k anyway). */
const upTo = (x: Float64Array, k: number) => x.map((value, s) => (popcount(s) <= k ? value : 0));
const sum = (index: InteractionIndex) => index.terms.reduce((s, t) => s + t.value, 0);

// ---- tests ---------------------------------------------------------------------------------------------------

describe('mobiusTransform', () => {
  it('matches the O(3^n) definition and inverts to v (n = 6)', () => {
    const v = randomGame(1, 6);
    const m = mobiusTransform(v);
    expectClose(m, bruteMobius(v), 1e-12);
    expectClose(v, v.map((_, s) => subsetsOf(s).reduce((acc, t) => acc + m[t], 0)), 1e-12);
  });
});

describe.each([3, 4, 5, 6, 7])('indices against their definitions on a random game (n = %i)', (n) => {
  const v = randomGame(100 + n, n);
  const m = bruteMobius(v);
  const orders = Array.from({ length: n }, (_, i) => i + 1);

  it('shapley matches the permutation-weighted marginal contributions and is efficient', () => {
    const phi = shapley(m);
    expectClose(phi, bruteShapley(v, n));
    expect(phi.reduce((a, b) => a + b, 0)).toBeCloseTo(v[(1 << n) - 1] - v[0], 12);
  });

  it('banzhaf matches the mean marginal contribution', () => {
    expectClose(banzhaf(m), bruteBanzhaf(v, n));
  });

  it.each(orders)('sii matches Grabisch–Roubens up to order %i (∅ included)', (k) => {
    expectClose(indexToDense(sii(m, { maxOrder: k })), upTo(bruteSii(v, n), k));
  });

  it.each(orders)('k-sii matches the Bernoulli recursion of Bordt & von Luxburg at k = %i, and is efficient', (k) => {
    const index = kSii(m, { maxOrder: k });
    expectClose(indexToDense(index), bruteKSii(v, n, k));
    expect(sum(index)).toBeCloseTo(v[(1 << n) - 1], 10);
  });

  it.each(orders)('stii matches Sundararajan et al. at k = %i, and is efficient', (k) => {
    const index = stii(m, { maxOrder: k });
    expectClose(indexToDense(index), bruteStii(v, n, k));
    expect(sum(index)).toBeCloseTo(v[(1 << n) - 1], 10);
  });

  it.each(orders)('fsii matches the constrained Shapley-kernel least squares at k = %i, and is efficient', (k) => {
    const index = fsii(m, { maxOrder: k });
    expectClose(indexToDense(index), bruteFsii(v, n, k), 1e-8);
    expect(sum(index)).toBeCloseTo(v[(1 << n) - 1], 10);
  });

  it.each(orders)('bii matches Grabisch–Roubens\' Banzhaf interaction up to order %i (∅: the mean of v)', (k) => {
    expectClose(indexToDense(bii(m, { maxOrder: k })), upTo(bruteBii(v, n), k));
  });

  it.each(orders)('chii matches Marichal–Roubens\' chaining interaction up to order %i', (k) => {
    expectClose(indexToDense(chii(m, { maxOrder: k })), upTo(bruteChii(v, n), k));
  });

  it.each(orders)('fbii matches the uniformly weighted least squares by terms of order ≤ %i (Faith-Banzhaf)', (k) => {
    expectClose(indexToDense(fbii(m, { maxOrder: k })), bruteFbii(v, n, k), 1e-8);
  });

  it('bii at order 1 is the Banzhaf value, chii at order 1 the Shapley value, fbii at k = n the Möbius coefficients', () => {
    expectClose(bii(m, { maxOrder: 1 }).terms.filter((t) => t.players.length === 1).map((t) => t.value), bruteBanzhaf(v, n));
    expectClose(chii(m, { maxOrder: 1 }).terms.filter((t) => t.players.length === 1).map((t) => t.value), bruteShapley(v, n));
    expectClose(indexToDense(fbii(m, { maxOrder: n })), m, 1e-12);
  });

  it('k-sii at k = 1 and fsii at k = 1 are the Shapley value', () => {
    const phi = bruteShapley(v, n);
    for (const index of [kSii(m, { maxOrder: 1 }), fsii(m, { maxOrder: 1 })]) {
      expectClose(index.terms.filter((t) => t.players.length === 1).map((t) => t.value), phi);
    }
  });

  it('k-sii, stii and fsii at k = n return the Möbius coefficients', () => {
    for (const fn of [kSii, stii, fsii]) expectClose(indexToDense(fn(m, { maxOrder: n })), m, 1e-12);
  });

  it('stii keeps m below the top order and puts every higher coefficient on the top order', () => {
    const k = 2;
    const dense = indexToDense(stii(m, { maxOrder: k }));
    for (let s = 0; s < 1 << n; s++) if (popcount(s) < k) expect(dense[s]).toBe(m[s]);
    const top = dense.reduce((acc, x, s) => (popcount(s) === k ? acc + x : acc), 0);
    const above = m.reduce((acc, x, s) => (popcount(s) >= k ? acc + x : acc), 0);
    expect(top).toBeCloseTo(above, 12);
  });

  it.each(['shapley', 'banzhaf', 'sii', 'k-sii', 'stii', 'fsii', 'bii', 'chii', 'fbii'] as const)('%s: dense and sparse forms agree, terms in the same order', (name) => {
    // zero out a third of the coefficients so the sparse form really is sparse
    const rng = seededRng(7 * n);
    const sparseM = m.map((x) => (rng() < 0.33 ? 0 : x));
    const terms = mobiusTerms(sparseM);
    if (name === 'shapley' || name === 'banzhaf') {
      expectClose(computeIndex(name, terms, { n }), computeIndex(name, sparseM), 1e-12);
      return;
    }
    const k = Math.min(3, n);
    const dense = computeIndex(name, sparseM, { maxOrder: k });
    const sparse = computeIndex(name, terms, { n, maxOrder: k });
    expect(sparse.terms.map((t) => t.players)).toEqual(dense.terms.map((t) => t.players));
    expectClose(sparse.terms.map((t) => t.value), dense.terms.map((t) => t.value), 1e-12);
    expect(sparse.maxOrder).toBe(k);
  });
});

describe('indices on known games', () => {
  // unanimity game u_T(S) = c·[T ⊆ S] with T = {1, 2, 4}, c = 6: its only Möbius coefficient is m(T) = c
  const n = 5;
  const mask = [1, 2, 4].reduce((acc, p) => acc | (1 << p), 0);
  const m = new Float64Array(1 << n);
  m[mask] = 6;

  it('shapley splits the coefficient equally over T; banzhaf gives c/2^{|T|−1}', () => {
    expectClose(shapley(m), [0, 2, 2, 0, 2]);
    expectClose(banzhaf(m), [0, 1.5, 1.5, 0, 1.5]);
  });

  it('sii gives c/(|T|−|S|+1) to every S ⊆ T (hand-computed)', () => {
    const dense = indexToDense(sii(m, { maxOrder: 3 }));
    for (let s = 0; s < 1 << n; s++) expect(dense[s]).toBeCloseTo((s & mask) === s ? 6 / (3 - popcount(s) + 1) : 0, 14);
  });

  it('k-sii at k = 2: singletons c/3 − ½·2·(c/2) = −c/6, pairs c/2 (hand-computed from SII and B_1 = −½)', () => {
    const index = kSii(m, { maxOrder: 2 });
    expect(index.terms.map((t) => t.players)).toEqual([[1], [2], [4], [1, 2], [1, 4], [2, 4]]);
    expectClose(index.terms.map((t) => t.value), [-1, -1, -1, 3, 3, 3], 1e-14);
  });

  it('stii at k = 2 splits c over the three pairs of T, nothing below (hand-computed)', () => {
    const index = stii(m, { maxOrder: 2 });
    expect(index.terms.map((t) => t.players)).toEqual([[1, 2], [1, 4], [2, 4]]);
    expectClose(index.terms.map((t) => t.value), [2, 2, 2], 1e-14);
  });

  it('fsii at k = 2: singletons −(1/3)·2·1/C(4,3)·c = −c/6, pairs (2/4)·1/C(4,4)·c = c/2 (Tsai et al. Thm closed form, by hand)', () => {
    const index = fsii(m, { maxOrder: 2 });
    expectClose(index.terms.map((t) => t.value), [-1, -1, -1, 3, 3, 3], 1e-14);
    expect(sum(index)).toBeCloseTo(6, 14);
  });

  it('works on a sparse game with thousands of players (n = 3000)', () => {
    const terms: MobiusTerm[] = [
      { players: [], value: 0.5 },
      { players: [2999, 5, 1200], value: 3 },
      { players: [7], value: -1 },
      { players: [7], value: 0.25 }, // duplicates add: the game is the sum of its terms
    ];
    const phi = shapley(terms, { n: 3000 });
    expect(phi.length).toBe(3000);
    expect([phi[5], phi[1200], phi[2999], phi[7], phi[0]]).toEqual([1, 1, 1, -0.75, 0]);
    const index = stii(terms, { n: 3000, maxOrder: 2 });
    expect(index.terms).toEqual([
      { players: [], value: 0.5 },
      { players: [7], value: -0.75 },
      { players: [5, 1200], value: 1 },
      { players: [5, 2999], value: 1 },
      { players: [1200, 2999], value: 1 },
    ]);
    expect(sum(kSii(terms, { n: 3000, maxOrder: 2 }))).toBeCloseTo(0.5 + 3 - 0.75, 12);
  });

  // a set's key is a number while (n + 1)^order < 2^53, else a string: at n = 3000 and order 5 the string form
  it('gives the same indices, relabelled, where the sets are keyed by numbers (n = 40) and by strings (n = 3000)', () => {
    const rng = seededRng(41);
    const small: MobiusTerm[] = Array.from({ length: 300 }, () => {
      const order = 1 + Math.floor(rng() * 6);
      return { players: [...new Set(Array.from({ length: order }, () => Math.floor(rng() * 40)))], value: rng() * 2 - 1 };
    });
    // one to one, and not monotone: the relabelled supports come unsorted
    const relabel = (i: number) => 3 * i + 2800 - 7 * (i % 5);
    expect(new Set(Array.from({ length: 40 }, (_, i) => relabel(i))).size).toBe(40);
    const large = small.map((t) => ({ players: t.players.map(relabel), value: t.value }));
    for (const name of ['sii', 'k-sii', 'stii', 'fsii'] as const) {
      const a = computeIndex(name, small, { n: 40, maxOrder: 5 });
      const b = computeIndex(name, large, { n: 3000, maxOrder: 5 });
      const expected = new Map(a.terms.map((t) => [t.players.map(relabel).sort((x, y) => x - y).join(','), t.value]));
      expect(b.terms.length).toBe(a.terms.length);
      for (const t of b.terms) expect(t.value, `${name} {${t.players}}`).toBe(expected.get(t.players.join(',')));
    }
    const phiSmall = shapley(small, { n: 40 });
    const phiLarge = shapley(large, { n: 3000 });
    for (let i = 0; i < 40; i++) expect(phiLarge[relabel(i)]).toBe(phiSmall[i]);
  });

  // allIndices visits a sparse expansion's subsets once for all six indices: each must come out as its own function
  // gives it, value for value (the sums added in the same order), and as the dense form gives it
  it('allIndices gives every index as its own function does, sparse and dense', () => {
    const rng = seededRng(7);
    const n = 9;
    const terms: MobiusTerm[] = Array.from({ length: 120 }, () => {
      const order = Math.floor(rng() * 7);
      return { players: [...new Set(Array.from({ length: order }, () => Math.floor(rng() * n)))].sort((a, b) => a - b), value: rng() < 0.1 ? 0 : rng() * 2 - 1 };
    });
    const dense = new Float64Array(1 << n);
    for (const t of terms) dense[t.players.reduce((m, i) => m | (1 << i), 0)] += t.value;
    for (const order of [0, 1, 2, 4]) {
      const all = allIndices(terms, { n, order });
      expect(all.order).toBe(order);
      expect(all.shapley).toEqual(shapley(terms, { n }));
      expect(all.banzhaf).toEqual(banzhaf(terms, { n }));
      const each = { sii: 'sii', kSii: 'k-sii', stii: 'stii', fsii: 'fsii' } as const;
      for (const [field, name] of Object.entries(each)) {
        const expected = order === 0 ? [] : computeIndex(name, terms, { n, maxOrder: order }).terms;
        expect(all[field as keyof typeof each], `${name} at order ${order}`).toEqual(expected);
        if (order === 0) continue;
        const fromDense = allIndices(dense, { order })[field as keyof typeof each];
        expectClose(indexToDense({ index: name, n, maxOrder: order, terms: fromDense }), indexToDense({ index: name, n, maxOrder: order, terms: expected }), 1e-12);
      }
      expectClose(allIndices(dense, { order }).shapley, all.shapley, 1e-12);
    }
  });

  it('allIndices calls `between` before each index of a dense expansion, and stops where it throws (a worker\'s cancel)', () => {
    const dense = Float64Array.from({ length: 1 << 6 }, (_, m) => Math.cos(m));
    let calls = 0;
    const all = allIndices(dense, { order: 2 }, () => void calls++);
    expect(calls).toBe(9); // Shapley, Banzhaf and the seven interaction indices
    expect(all.fbii.length).toBeGreaterThan(0);
    let seen = 0;
    const stop = new Error('stopped');
    expect(() => allIndices(dense, { order: 2 }, () => {
      if (++seen === 4) throw stop;
    })).toThrowError(stop);
    expect(seen).toBe(4);
  });

  it('drops sets whose value is exactly zero', () => {
    const terms: MobiusTerm[] = [{ players: [0, 1], value: 1 }, { players: [0, 1], value: -1 }];
    expect(sii(terms, { n: 2, maxOrder: 2 }).terms).toEqual([]);
  });
});

describe('indices on empty and size-1 inputs', () => {
  it('n = 0: values are empty, an index holds only ∅', () => {
    const m = Float64Array.of(4);
    expect(shapley(m)).toEqual(new Float64Array(0));
    expect(banzhaf([], { n: 0 })).toEqual(new Float64Array(0));
    const index = kSii(m, { maxOrder: 3 });
    expect(index).toEqual({ index: 'k-sii', n: 0, maxOrder: 0, terms: [{ players: [], value: 4 }] });
    expect(fsii([], { n: 0, maxOrder: 1 }).terms).toEqual([]);
  });

  it('n = 1: every value is m({0}); SII(∅) = m(∅) + m({0})/2', () => {
    const m = Float64Array.of(1, 3);
    expect(shapley(m)).toEqual(Float64Array.of(3));
    expect(banzhaf(m)).toEqual(Float64Array.of(3));
    expect(sii(m, { maxOrder: 1 }).terms).toEqual([{ players: [], value: 2.5 }, { players: [0], value: 3 }]);
  });

  it('treats a maxOrder above n as n', () => {
    const m = mobiusTransform(randomGame(3, 4));
    expect(fsii(m, { maxOrder: 9 })).toEqual(fsii(m, { maxOrder: 4 }));
  });
});

describe('index argument errors', () => {
  const m = new Float64Array(8);

  it('rejects an unknown index name, listing the valid ones', () => {
    // @ts-expect-error: a name outside IndexName
    expect(() => computeIndex('owen', m, { maxOrder: 2 })).toThrowError(new InvalidOptionError(`index must be one of: ${INDEX_NAMES.join(', ')} (got "owen").`));
  });

  it.each([undefined, 0, 1.5, -2, '2'])('rejects maxOrder %j', (maxOrder) => {
    expect(() => sii(m, { maxOrder: maxOrder as number })).toThrowError(InvalidOptionError);
  });

  it('rejects a dense length that is not 2^n, and an n that disagrees with it', () => {
    expect(() => shapley(new Float64Array(3))).toThrowError(ShapeMismatchError);
    expect(() => shapley(new Float64Array(0))).toThrowError(ShapeMismatchError);
    expect(() => shapley(m, { n: 4 })).toThrowError(ShapeMismatchError);
  });

  it('rejects NaN and ±Inf coefficients in both forms', () => {
    expect(() => stii(Float64Array.of(0, NaN), { maxOrder: 1 })).toThrowError(NonFiniteError);
    expect(() => shapley([{ players: [0], value: Infinity }], { n: 1 })).toThrowError(NonFiniteError);
    expect(() => mobiusTransform(Float64Array.of(0, NaN))).toThrowError(NonFiniteError);
  });

  it('requires n with sparse terms and checks their players', () => {
    expect(() => shapley([{ players: [0], value: 1 }])).toThrowError(new InvalidOptionError('options.n is required with sparse Möbius terms (an integer ≥ 0: the number of players).'));
    expect(() => shapley([{ players: [3], value: 1 }], { n: 3 })).toThrowError(InvalidInputError);
    expect(() => shapley([{ players: [1, 1], value: 1 }], { n: 3 })).toThrowError(InvalidInputError);
    expect(() => shapley([{ players: [0.5], value: 1 }], { n: 3 })).toThrowError(InvalidInputError);
    expect(() => shapley({} as unknown as MobiusTerm[], { n: 3 })).toThrowError(InvalidInputError);
  });

  it('refuses a sparse expansion whose subsets would not fit in memory, by its visits or by its distinct sets', () => {
    const players = (order: number) => Array.from({ length: order }, (_, i) => i);
    expect(() => fsii([{ players: players(40), value: 1 }], { n: 40, maxOrder: 10 })).toThrowError(MemoryLimitError);
    // one term of order 60 at order 4: 523 686 distinct subsets (3 GB of heap before the limit on them; an adversarial
    // sweep ran a process out of heap with one of order 50 at order 6), 2.1·10⁷ visits at order 150
    const tooMany = /to order 4 would hold more than 262144 sets \(2\^18\) of the Möbius terms, whose largest is of order 60; lower options\.indexOrder/;
    expect(() => allIndices([{ players: players(60), value: 1 }], { n: 4096, order: 4 })).toThrowError(tooMany);
    expect(() => allIndices([{ players: players(150), value: 1 }], { n: 4096, order: 4 })).toThrowError(/would visit 2\.08e\+7 subsets \(at most 2e\+7\)/);
    // sets that many terms share are counted once: the 1820 terms of order 12 in 16 players visit 1.4·10⁶ subsets of
    // size ≤ 4, the 2517 sets of size ≤ 4; and a term of order 49 (251 176 sets at order 4) is within both limits
    const twelves: MobiusTerm[] = [];
    for (let mask = 0; mask < 1 << 16; mask++) if (popcount(mask) === 12) twelves.push({ players: players(16).filter((i) => (mask >> i) & 1), value: 1 });
    expect(twelves).toHaveLength(1820);
    expect(allIndices(twelves, { n: 16, order: 4 }).sii).toHaveLength(2517);
    expect(allIndices([{ players: players(49), value: 1 }], { n: 49, order: 4 }).sii).toHaveLength(1 + 49 + 1176 + 18_424 + 211_876);
  });
});
