// Game-theoretic values and interaction indices (Shapley, Banzhaf, SII, k-SII, STII, FSII, BII, CHII, FBII) computed from a Möbius
// expansion, dense (f64[2^n] by mask) or sparse (a term list, n up to thousands). Plain TS, no kernels, no I/O.
// Every index is one table of weights w(|T|, |S|) that spreads m(T) onto its subsets S; the dense and sparse forms
// share that table and differ only in how they visit the subsets.
import { InvalidInputError, InvalidOptionError, MemoryLimitError, NonFiniteError, ShapeMismatchError } from '../contracts/errors.js';
import { integerIn, oneOf } from '../inputs/options.js';
import { orderTable } from './interactions.js';
import { playersOf } from './transforms.js';
import { preview } from '../inputs/preview.js';

/** The names computeIndex accepts. */
export const INDEX_NAMES = ['shapley', 'banzhaf', 'sii', 'k-sii', 'stii', 'fsii', 'bii', 'chii', 'fbii'] as const;
/** A value (one number per player) or an interaction index (one number per set up to an order). */
export type IndexName = (typeof INDEX_NAMES)[number];
/** The indices that give one number per set of players, up to maxOrder. */
export type InteractionIndexName = 'sii' | 'k-sii' | 'stii' | 'fsii' | 'bii' | 'chii' | 'fbii';
/** The indices that give one number per player. */
export type ValueName = 'shapley' | 'banzhaf';

/** One Möbius coefficient (Harsanyi dividend) of a sparse expansion: v(T) = Σ_{terms with players ⊆ T} value. */
export interface MobiusTerm {
  /** Distinct player indices in 0..n−1, any order; [] is the ∅ term v(∅). */
  readonly players: readonly number[];
  readonly value: number;
}

/** A Möbius expansion: dense, m[mask] with bit i of the mask = player i (length 2^n), or a sparse term list. */
export type MobiusInput = Float64Array | readonly MobiusTerm[];

/** Options of every index. */
export interface IndexOptions {
  /** Players. Optional for dense input (it must then equal log2(length)); required for sparse input. */
  readonly n?: number;
  /** Largest interaction order k (an integer ≥ 1; values above n act as n). Required for interaction indices. */
  readonly maxOrder?: number;
}

/** One entry of an interaction index. */
export interface IndexTerm {
  /** The set S, players ascending; [] is ∅. */
  readonly players: readonly number[];
  readonly value: number;
}

/**
 * An interaction index up to order maxOrder, sparse: every set S with |S| ≤ maxOrder whose value is not exactly 0.
 * Terms are sorted by order, then colexicographically (by the largest player, then the next; for n ≤ 30 this is
 * increasing mask order). ∅ is included: v(∅) for k-SII, STII, FSII and CHII (so the first three's terms sum to v(N),
 * efficiency), the Grabisch–Roubens value Σ_T m(T)/(|T|+1) for SII (shapiq reports SII from order 1 only), the mean
 * of v over all 2^n sets for BII, and the least-squares intercept for FBII.
 */
export interface InteractionIndex {
  readonly index: InteractionIndexName;
  readonly n: number;
  /** The order used: min(options.maxOrder, n). */
  readonly maxOrder: number;
  readonly terms: readonly IndexTerm[];
}

/** Σ_S C(|T|, |S|) subsets the sparse form may visit before it refuses: the visits are synchronous, about 80 ns each
 *  where the subsets repeat (the 1820 terms of order 12 in 16 players at order 4, 1.4·10⁶ visits in 109–120 ms; ad
 *  hoc), so this holds the caller's thread at most about 1.6 s. */
const MAX_SPARSE_VISITS = 20_000_000;
/** Distinct sets the sparse form may hold (2^18, the sets of a dense game of 18 players): about 530 bytes each once
 *  the seven indices are term lists, and a term of high order has many (one of order 60 at order 4 has 523 686 subsets
 *  of size ≤ 4: 3 GB of heap in 3 s; one of order 50 at order 6 ran a process out of heap, an adversarial sweep). */
const MAX_SPARSE_SETS = 2 ** 18;

// ---------------------------------------------------------------------------------------------------------------
// Weights. Every index here is linear in m and symmetric, so I(S) = Σ_{T ⊇ S} w(|T|, |S|) · m(T).
// see: mmschlk/shapiq src/shapiq/game_theory/moebius_converter.py (distribution weights per index) and
//      src/shapiq/game_theory/aggregation.py (SII → k-SII by Bernoulli numbers)

/** w(t, s) for one index at order k; s ranges over `sizes`. */
interface WeightTable {
  readonly sizes: readonly number[];
  weight(t: number, s: number): number;
}

/** An exact rational p/q with q > 0, for weights whose double evaluation would cancel catastrophically. */
interface Rational {
  readonly p: bigint;
  readonly q: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function rational(p: bigint, q: bigint): Rational {
  if (q < 0n) [p, q] = [-p, -q];
  const g = gcd(p, q) || 1n;
  return { p: p / g, q: q / g };
}

const add = (a: Rational, b: Rational) => rational(a.p * b.q + b.p * a.q, a.q * b.q);

function binomialBig(a: number, b: number): bigint {
  if (b < 0 || b > a) return 0n;
  b = Math.min(b, a - b);
  let out = 1n;
  for (let i = 1; i <= b; i++) out = (out * BigInt(a - b + i)) / BigInt(i);
  return out;
}

/** p/q as the nearest double, also when p and q alone exceed the double range. */
function toNumber({ p, q }: Rational): number {
  const bits = Math.max(p < 0n ? (-p).toString(2).length : p.toString(2).length, q.toString(2).length);
  const shift = BigInt(Math.max(0, bits - 1000));
  return Number(p >> shift) / Number(q >> shift);
}

/** B_0..B_k with B_1 = −1/2 (scipy.special.bernoulli's convention, the one k-SII uses), exact. */
function bernoulli(k: number): Rational[] {
  // see: Σ_{j=0}^{m} C(m+1, j) B_j = 0 for m ≥ 1 (the defining recurrence of the Bernoulli numbers)
  const b: Rational[] = [{ p: 1n, q: 1n }];
  for (let m = 1; m <= k; m++) {
    let sum: Rational = { p: 0n, q: 1n };
    for (let j = 0; j < m; j++) sum = add(sum, rational(binomialBig(m + 1, j) * b[j].p, b[j].q));
    b.push(rational(-sum.p, sum.q * BigInt(m + 1)));
  }
  return b;
}

/** Binomial coefficient as a double (exact below 2^53; overflows to Infinity far beyond the sizes used here). */
function binomial(a: number, b: number): number {
  if (b < 0 || b > a) return 0;
  b = Math.min(b, a - b);
  let out = 1;
  // every partial product is the integer C(a−b+i, i): rounding each step keeps the result exact below 2^53
  for (let i = 1; i <= b; i++) {
    out = (out * (a - b + i)) / i;
    if (out < 2 ** 53) out = Math.round(out);
  }
  return out;
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
const identity = (t: number, s: number) => (t === s ? 1 : 0);

/** Memoizes w(t, ·) per t: each distinct term size costs one row of k+1 weights. */
function memoized(sizes: readonly number[], k: number, compute: (t: number, s: number) => number): WeightTable {
  const rows = new Map<number, Float64Array>();
  return {
    sizes,
    weight(t, s) {
      let row = rows.get(t);
      if (!row) {
        row = new Float64Array(k + 1);
        for (const size of sizes) row[size] = size <= t ? compute(t, size) : 0;
        rows.set(t, row);
      }
      return row[s];
    },
  };
}

/**
 * The weight table of an index at order k (for values, k is 1).
 * @param name - the index
 * @param k - its order, 1 ≤ k
 */
function weightTable(name: IndexName, k: number): WeightTable {
  switch (name) {
    case 'shapley':
      // see: Harsanyi 1963 (the Shapley value splits each dividend equally): φ_i = Σ_{T∋i} m(T)/|T|
      return memoized([1], 1, (t) => 1 / t);
    case 'banzhaf':
      // see: β_i = Σ_{T∋i} m(T)/2^{|T|−1} (spec large-n-and-scale.md §1; Grabisch, Marichal & Roubens 2000,
      //      "Equivalent representations of set functions", Math. Oper. Res. 25(2), Banzhaf index in Möbius form)
      return memoized([1], 1, (t) => 2 ** (1 - t));
    case 'sii':
      // see: Grabisch & Roubens 1999, "An axiomatic approach to the concept of interaction among players in
      // cooperative games", Game Theory 28:547–565: I(S) = Σ_{T⊇S} m(T)/(|T|−|S|+1); shapiq _sii_distribution_weight
      return memoized(range(0, k), k, (t, s) => 1 / (t - s + 1));
    case 'k-sii': {
      // k-SII(S) = Σ_{R: S⊆R, |R|≤k} B_{|R|−|S|} SII(R) for 1 ≤ |S| ≤ k, k-SII(∅) = v(∅).
      // see: Bordt & von Luxburg 2023, "From Shapley Values to Generalized Additive Models and back", AISTATS,
      //      PMLR 206:709–745 (n-Shapley values); shapiq aggregation.py aggregate_base_attributions.
      // Substituting SII and counting the R between S and T gives w(t, s) = Σ_{j=0}^{min(k,t)−s} C(t−s, j) B_j/(t−s−j+1).
      // The sum cancels heavily (|C·B| ≫ w for t−s ≳ 10), so it is evaluated in exact rationals. For t ≤ k it is
      // [t = s] (Σ_{j≤d} C(d+1, j) B_j = 0), i.e. k-SII equals m on sets no term extends beyond order k.
      const b = bernoulli(k);
      return memoized(range(0, k), k, (t, s) => {
        if (s === 0) return identity(t, 0);
        const d = t - s;
        let sum: Rational = { p: 0n, q: 1n };
        for (let j = 0; j <= Math.min(k, t) - s; j++) sum = add(sum, rational(binomialBig(d, j) * b[j].p, b[j].q * BigInt(d - j + 1)));
        return toNumber(sum);
      });
    }
    case 'stii':
      // see: Sundararajan, Dhamdhere & Agarwal 2020, "The Shapley Taylor Interaction Index", ICML, PMLR 119:9259–9268:
      //      below order k, STII(S) = Δ_S v(∅) = m(S); at order k each m(T), |T| ≥ k, splits equally over its C(|T|, k)
      //      subsets of size k (shapiq _stii_distribution_weight).
      return memoized(range(0, k), k, (t, s) => (s < k ? identity(t, s) : 1 / binomial(t, k)));
    case 'fsii':
      // see: Tsai, Yeh & Ravikumar 2023, "Faith-Shap: The Faithful Shapley Interaction Index", JMLR 24(94):1–42
      //      (closed form in Möbius terms); shapiq _fsii_distribution_weight. For |T| ≤ k, FSII(T) = m(T); each m(T) with
      //      |T| > k adds (−1)^{k−s} · s/(k+s) · C(k,s) · C(t−1,k)/C(t+k−1,k+s) to every S ⊆ T of size s ≥ 1.
      //      Exact rationals: the binomials overflow doubles long before the weight does.
      return memoized(range(0, k), k, (t, s) => {
        if (s === 0 || t <= k) return identity(t, s);
        const sign = (k - s) % 2 === 0 ? 1n : -1n;
        const p = sign * BigInt(s) * binomialBig(k, s) * binomialBig(t - 1, k);
        return toNumber(rational(p, BigInt(k + s) * binomialBig(t + k - 1, k + s)));
      });
    case 'bii':
      // see: Grabisch & Roubens 1999 (the Banzhaf interaction index): BII(S) = 2^{−(n−s)} Σ_{T⊆N∖S} Δ_S v(T)
      //      = Σ_{T⊇S} m(T)/2^{|T|−|S|}; at ∅ the mean of v over all 2^n sets
      return memoized(range(0, k), k, (t, s) => 2 ** (s - t));
    case 'chii':
      // see: Marichal & Roubens 1999, "The chaining interaction index among players in cooperative games" (Advances
      //      in Decision Analysis): Ch(S) = Σ_{T⊆N∖S} s·(t+s−1)!(n−t−s)!/n! Δ_S v(T) = Σ_{T⊇S} (|S|/|T|)·m(T), S ≠ ∅
      //      (at order 1 the Shapley value); ∅ reported as v(∅)
      return memoized(range(0, k), k, (t, s) => (s === 0 ? identity(t, 0) : s / t));
    case 'fbii':
      // see: Tsai, Yeh & Ravikumar 2023 (Faith-Banzhaf): the least-squares fit of v over all 2^n sets, uniformly
      //      weighted, by terms of order ≤ k. With x_i = (1 + y_i)/2 (y_i = ±1 orthogonal under the uniform weights),
      //      Π_{i∈T} x_i = 2^{−t} Σ_{U⊆T} Π_{i∈U} y_i; the fit keeps |U| ≤ k, and back in x, Π_{i∈U} y_i =
      //      Σ_{S⊆U} 2^s (−1)^{|U|−s} Π_{i∈S} x_i. So m(T) adds to S ⊆ T: 2^{s−t} Σ_{j=0}^{min(k,t)−s} (−1)^j C(t−s, j),
      //      which is [t = s] for t ≤ k and 2^{s−t} (−1)^{k−s} C(t−s−1, k−s) above (Σ_{j≤a} (−1)^j C(b, j) = (−1)^a C(b−1, a)).
      return memoized(range(0, k), k, (t, s) => (t <= k ? identity(t, s) : 2 ** (s - t) * ((k - s) % 2 === 0 ? 1 : -1) * binomial(t - s - 1, k - s)));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Input checks

function assertIndexName(name: unknown): IndexName {
  return oneOf(name, INDEX_NAMES, 'index');
}

/** Validated Möbius input: dense with its n, or sparse terms with sorted player lists. */
type Parsed = { readonly kind: 'dense'; readonly m: Float64Array; readonly n: number } | { readonly kind: 'sparse'; readonly terms: readonly MobiusTerm[]; readonly n: number };

function parse(mobius: MobiusInput, options: IndexOptions): Parsed {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError(`options must be an object like { n, maxOrder } (got ${preview(options)}).`);
  if (mobius instanceof Float64Array) {
    const n = playersOf(mobius.length, 'The Möbius vector');
    if (options.n !== undefined && options.n !== n) {
      throw new ShapeMismatchError(`options.n is ${JSON.stringify(options.n)} but the dense Möbius vector has ${mobius.length} = 2^${n} values; give n = ${n} or leave it out.`);
    }
    for (let m = 0; m < mobius.length; m++) {
      if (!Number.isFinite(mobius[m])) throw new NonFiniteError(`The Möbius coefficient at mask ${m} is ${mobius[m]}; every coefficient must be finite.`);
    }
    return { kind: 'dense', m: mobius, n };
  }
  if (!Array.isArray(mobius)) {
    throw new InvalidInputError('The Möbius expansion must be a Float64Array of 2^n values or an array of { players, value } terms.');
  }
  if (options.n === undefined) throw new InvalidOptionError('options.n is required with sparse Möbius terms (an integer ≥ 0: the number of players).');
  const n = integerIn(options.n, 0, 2 ** 31 - 1, 'options.n');
  const terms = (mobius as readonly MobiusTerm[]).map((term, i) => {
    if (term === null || typeof term !== 'object' || !Array.isArray(term.players)) throw new InvalidInputError(`Möbius term ${i} must be { players: number[], value: number }.`);
    if (typeof term.value !== 'number' || !Number.isFinite(term.value)) throw new NonFiniteError(`Möbius term ${i} has value ${term.value}; every value must be a finite number.`);
    // supports usually come ascending (every term andor makes): copied, not sorted
    const players = isAscending(term.players) ? term.players.slice() : [...term.players].sort((a, b) => a - b);
    players.forEach((p, j) => {
      if (!Number.isInteger(p) || p < 0 || p >= n) throw new InvalidInputError(`Möbius term ${i} names player ${p}; players are integers in 0..${n - 1} (n = ${n}).`);
      if (j > 0 && players[j - 1] === p) throw new InvalidInputError(`Möbius term ${i} lists player ${p} twice; a term is a set of players.`);
    });
    return { players, value: term.value };
  });
  return { kind: 'sparse', terms, n };
}

function isAscending(players: readonly number[]): boolean {
  for (let j = 1; j < players.length; j++) if (!(players[j - 1] < players[j])) return false;
  return true;
}

/** min(options.maxOrder, n): an order above n is exact as n (no set is larger than N, and every index here equals
 *  m at and below its top order when no term is larger). */
function orderOption(options: IndexOptions, n: number): number {
  if (options.maxOrder === undefined) throw new InvalidOptionError('options.maxOrder is required for interaction indices (an integer ≥ 1, e.g. 2 for pairs).');
  return Math.min(integerIn(options.maxOrder, 1, Infinity, 'options.maxOrder'), n);
}

// ---------------------------------------------------------------------------------------------------------------
// The two ways of visiting subsets

/** In place: x[S] ← Σ_{T⊇S} x[T]; bit i of the index = player i; O(n·2^n). */
function zetaSuperset(x: Float64Array): void {
  const size = x.length;
  for (let bit = 1; bit < size; bit <<= 1) {
    for (let base = 0; base < size; base += bit << 1) {
      for (let s = base; s < base + bit; s++) x[s] += x[s + bit];
    }
  }
}

/**
 * Dense: out[S] = Σ_{T⊇S} w(|T|, |S|) m(T) for |S| in the table's sizes (0 elsewhere). One superset zeta per size,
 * O(|sizes|·n·2^n), skipped where a size's weights are [t = s] (then out[S] = m(S)).
 */
function spreadDense(m: Float64Array, n: number, table: WeightTable): Float64Array {
  const size = m.length;
  const order = orderTable(n);
  const out = new Float64Array(size);
  const scratch = new Float64Array(size);
  for (const s of table.sizes) {
    if (s > n) continue;
    const column = Float64Array.from({ length: n + 1 }, (_, t) => table.weight(t, s));
    if (column.every((w, t) => w === identity(t, s))) {
      for (let mask = 0; mask < size; mask++) if (order[mask] === s) out[mask] = m[mask];
      continue;
    }
    for (let mask = 0; mask < size; mask++) scratch[mask] = column[order[mask]] * m[mask];
    zetaSuperset(scratch);
    for (let mask = 0; mask < size; mask++) if (order[mask] === s) out[mask] = scratch[mask];
  }
  return out;
}

/** Calls visit(idx) for every subset of size s of t items, as its positions in colex order (idx ascending; the same
 *  array each time, changed after visit returns). */
function forEachSubset(t: number, s: number, visit: (idx: readonly number[]) => void): void {
  const idx = Array.from({ length: s }, (_, i) => i);
  for (;;) {
    visit(idx);
    // next combination in colex order: bump the lowest position that can move, reset the ones below it
    let j = 0;
    while (j < s && idx[j] + 1 === (j + 1 < s ? idx[j + 1] : t)) j++;
    if (j === s) return;
    idx[j]++;
    for (let i = 0; i < j; i++) idx[i] = i;
  }
}

/** Colex order on sorted player lists: shorter first, then by the largest differing player. */
function compareSets(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** One subset's sums, one per weight table: `seen` has bit j once table j has added to it. */
interface Spread {
  readonly players: number[];
  readonly values: Float64Array;
  seen: number;
}

/**
 * Sparse: the same sums by visiting, for each term T, its subsets of each size s with w(|T|, s) ≠ 0, for several
 * tables at once (every index of allIndices in one visit: each subset's key is made and looked up once). A subset's
 * key is a number, its players + 1 as digits in base n + 1, where every key of the tables' sizes stays below 2^53
 * (pairs up to n ≈ 9·10⁷; sets of 5 up to n ≈ 1500), else its players joined by commas: strings were most of the time
 * of a sparse explanation's indices (4096 terms of order ≤ 5 at n = 49). Each table's sums are added in the order of
 * the terms, as one table alone would add them.
 */
function spreadSparse(terms: readonly MobiusTerm[], tables: readonly WeightTable[], n: number): Map<number | string, Spread> {
  const sizes = [...new Set(tables.flatMap((table) => table.sizes))].sort((a, b) => a - b);
  const count = tables.length;
  /** Per term order t: each size's weights, table by table (0 where a table has no such size or s > t). */
  const rows = new Map<number, Float64Array>();
  const rowOf = (t: number): Float64Array => {
    let row = rows.get(t);
    if (!row) {
      row = new Float64Array(sizes.length * count);
      sizes.forEach((s, k) => tables.forEach((table, j) => (row![k * count + j] = s <= t && table.sizes.includes(s) ? table.weight(t, s) : 0)));
      rows.set(t, row);
    }
    return row;
  };
  /** Whether some table gives terms of order t a non-zero weight at the k-th size. */
  const weighs = (row: Float64Array, k: number): boolean => row.subarray(k * count, (k + 1) * count).some((w) => w !== 0);
  let visits = 0;
  for (const { players } of terms) {
    const row = rowOf(players.length);
    sizes.forEach((s, k) => (visits += weighs(row, k) ? binomial(players.length, s) : 0));
  }
  const refuse = (what: string) =>
    new MemoryLimitError(`The interaction indices to order ${Math.max(0, ...sizes)} ${what} of the Möbius terms, whose largest is of order ${Math.max(0, ...terms.map((t) => t.players.length))}; lower options.indexOrder (0: Shapley and Banzhaf values only) or options.maxOrder.`);
  if (visits > MAX_SPARSE_VISITS) throw refuse(`would visit ${visits.toExponential(2)} subsets (at most ${MAX_SPARSE_VISITS.toExponential(0)})`);
  const numeric = (n + 1) ** Math.max(0, ...sizes) < 2 ** 53;
  const acc = new Map<number | string, Spread>();
  for (const { players, value } of terms) {
    const t = players.length;
    const row = rowOf(t);
    for (let k = 0; k < sizes.length; k++) {
      const s = sizes[k];
      if (!weighs(row, k)) continue;
      const base = k * count;
      forEachSubset(t, s, (idx) => {
        let key: number | string;
        if (numeric) {
          key = 0;
          for (let i = s - 1; i >= 0; i--) key = key * (n + 1) + players[idx[i]] + 1;
        } else {
          key = idx.map((i) => players[i]).join(',');
        }
        let entry = acc.get(key);
        if (!entry) {
          if (acc.size >= MAX_SPARSE_SETS) throw refuse(`would hold more than ${MAX_SPARSE_SETS} sets (2^18)`);
          entry = { players: idx.map((i) => players[i]), values: new Float64Array(count), seen: 0 };
          acc.set(key, entry);
        }
        for (let j = 0; j < count; j++) {
          const w = row[base + j];
          if (w === 0) continue;
          if (entry.seen & (1 << j)) {
            entry.values[j] += w * value;
          } else {
            entry.values[j] = w * value;
            entry.seen |= 1 << j;
          }
        }
      });
    }
  }
  return acc;
}

/** Table j's values per player (its subsets of size 1) from a spread. */
function playerValues(spread: Map<number | string, Spread>, j: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (const { players, values, seen } of spread.values()) if (players.length === 1 && seen & (1 << j)) out[players[0]] = values[j];
  return out;
}

/** Table j's non-zero sums from a spread, in colex order. */
function spreadTerms(spread: Map<number | string, Spread>, j: number): IndexTerm[] {
  const terms: IndexTerm[] = [];
  for (const { players, values } of spread.values()) if (values[j] !== 0) terms.push({ players, value: values[j] });
  return terms.sort((a, b) => compareSets(a.players, b.players));
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

function values(name: ValueName, mobius: MobiusInput, options: IndexOptions): Float64Array {
  return valuesOf(name, parse(mobius, options));
}

function valuesOf(name: ValueName, parsed: Parsed): Float64Array {
  const table = weightTable(name, 1);
  const out = new Float64Array(parsed.n);
  if (parsed.kind === 'dense') {
    const spread = spreadDense(parsed.m, parsed.n, table);
    for (let i = 0; i < parsed.n; i++) out[i] = spread[1 << i];
    return out;
  }
  return playerValues(spreadSparse(parsed.terms, [table], parsed.n), 0, parsed.n);
}

function interactionIndex(name: InteractionIndexName, mobius: MobiusInput, options: IndexOptions): InteractionIndex {
  const parsed = parse(mobius, options);
  return interactionOf(name, parsed, orderOption(options, parsed.n));
}

function interactionOf(name: InteractionIndexName, parsed: Parsed, k: number): InteractionIndex {
  // n = 0 leaves only ∅, whose weight is the same at every order: compute at order 1, report order 0
  const table = weightTable(name, Math.max(k, 1));
  let terms: IndexTerm[] = [];
  if (parsed.kind === 'dense') {
    const spread = spreadDense(parsed.m, parsed.n, table);
    const order = orderTable(parsed.n);
    // bucket by order, masks ascending within one: the colex order the sparse form sorts into
    const byOrder: IndexTerm[][] = Array.from({ length: k + 1 }, () => []);
    for (let mask = 0; mask < spread.length; mask++) {
      if (order[mask] <= k && spread[mask] !== 0) byOrder[order[mask]].push({ players: playersOfMask(mask), value: spread[mask] });
    }
    terms = byOrder.flat();
  } else {
    terms = spreadTerms(spreadSparse(parsed.terms, [table], parsed.n), 0);
  }
  return { index: name, n: parsed.n, maxOrder: k, terms };
}

/** Every index andor reports of one game: the two values per player, and the interaction indices up to `order` as
 *  sparse term lists. */
export interface AllIndices {
  readonly shapley: Float64Array;
  readonly banzhaf: Float64Array;
  readonly order: number;
  readonly sii: readonly IndexTerm[];
  readonly kSii: readonly IndexTerm[];
  readonly stii: readonly IndexTerm[];
  readonly fsii: readonly IndexTerm[];
  readonly bii: readonly IndexTerm[];
  readonly chii: readonly IndexTerm[];
  readonly fbii: readonly IndexTerm[];
}

/**
 * Every index of one Möbius expansion, its input checked once (each of the functions below checks its own).
 * @param mobius - dense f64[2^n] by mask (bit i = player i), or sparse terms
 * @param options - n (required for sparse input); order: the interaction indices' (0: none; above n, n)
 * @param between - called before each index of a dense expansion (each takes about half a second at n = 22): a stop
 *   check that throws, so a worker's cancel is heard between them
 * @returns the values, and the interaction indices' terms at order min(order, n)
 * @throws as {@link shapley}; whatever `between` throws
 */
export function allIndices(mobius: MobiusInput, options: { readonly n?: number; readonly order: number }, between: () => void = () => {}): AllIndices {
  const parsed = parse(mobius, { n: options.n });
  const k = Math.min(integerIn(options.order, 0, Infinity, 'options.order'), parsed.n);
  const interactions: readonly InteractionIndexName[] = k === 0 ? [] : ['sii', 'k-sii', 'stii', 'fsii', 'bii', 'chii', 'fbii'];
  let values: (name: ValueName) => Float64Array;
  let terms: (name: InteractionIndexName) => readonly IndexTerm[];
  if (parsed.kind === 'dense') {
    values = (name) => (between(), valuesOf(name, parsed));
    terms = (name) => (between(), interactionOf(name, parsed, k).terms);
  } else {
    // every index from one visit of the terms' subsets: table j of the spread is names[j]'s
    const names = ['shapley', 'banzhaf', ...interactions] as const;
    const spread = spreadSparse(parsed.terms, names.map((name) => weightTable(name, name === 'shapley' || name === 'banzhaf' ? 1 : k)), parsed.n);
    values = (name) => playerValues(spread, names.indexOf(name), parsed.n);
    terms = (name) => spreadTerms(spread, names.indexOf(name));
  }
  const index = (name: InteractionIndexName) => (k === 0 ? [] : terms(name));
  return {
    shapley: values('shapley'), banzhaf: values('banzhaf'), order: k, sii: index('sii'), kSii: index('k-sii'), stii: index('stii'), fsii: index('fsii'),
    bii: index('bii'), chii: index('chii'), fbii: index('fbii'),
  };
}

function playersOfMask(mask: number): number[] {
  const players: number[] = [];
  for (let i = 0; mask >>> i; i++) if ((mask >>> i) & 1) players.push(i);
  return players;
}

/**
 * Shapley values from a Möbius expansion: φ_i = Σ_{T∋i} m(T)/|T|.
 * @param mobius - dense f64[2^n] by mask (bit i = player i), or sparse terms
 * @param options - n (required for sparse input)
 * @returns φ, f64[n]
 * @throws ShapeMismatchError when a dense length is not 2^n or disagrees with options.n
 * @throws NonFiniteError when a coefficient is NaN or ±Inf
 * @throws InvalidInputError / InvalidOptionError for malformed terms or options
 */
export function shapley(mobius: MobiusInput, options: IndexOptions = {}): Float64Array {
  return values('shapley', mobius, options);
}

/**
 * Banzhaf values from a Möbius expansion: β_i = Σ_{T∋i} m(T)/2^{|T|−1}.
 * @param mobius - dense f64[2^n] by mask, or sparse terms
 * @param options - n (required for sparse input)
 * @returns β, f64[n]
 * @throws as {@link shapley}
 */
export function banzhaf(mobius: MobiusInput, options: IndexOptions = {}): Float64Array {
  return values('banzhaf', mobius, options);
}

/**
 * Shapley interaction index (Grabisch & Roubens 1999) for every |S| ≤ maxOrder: SII(S) = Σ_{T⊇S} m(T)/(|T|−|S|+1).
 * SII(∅) = Σ_T m(T)/(|T|+1) is included (shapiq starts SII at order 1).
 * @param mobius - dense f64[2^n] by mask, or sparse terms
 * @param options - maxOrder (required), n (required for sparse input)
 * @returns the nonzero entries, see {@link InteractionIndex}
 * @throws InvalidOptionError when maxOrder is missing or not an integer ≥ 1; otherwise as {@link shapley}
 */
export function sii(mobius: MobiusInput, options: IndexOptions): InteractionIndex {
  return interactionIndex('sii', mobius, options);
}

/**
 * k-Shapley interaction index (Bordt & von Luxburg 2023, shapiq's "k-SII"): the SII up to order k aggregated with
 * Bernoulli numbers so that the entries of orders 1..k sum to v(N) − v(∅); k-SII(∅) = v(∅).
 * @param mobius - dense f64[2^n] by mask, or sparse terms
 * @param options - maxOrder k (required), n (required for sparse input)
 * @returns the nonzero entries, see {@link InteractionIndex}
 * @throws as {@link sii}
 */
export function kSii(mobius: MobiusInput, options: IndexOptions): InteractionIndex {
  return interactionIndex('k-sii', mobius, options);
}

/**
 * Shapley–Taylor interaction index (Sundararajan et al. 2020): m(S) below order k; at order k each m(T), |T| ≥ k,
 * is split equally over the C(|T|, k) subsets of size k.
 * @param mobius - dense f64[2^n] by mask, or sparse terms
 * @param options - maxOrder k (required), n (required for sparse input)
 * @returns the nonzero entries, see {@link InteractionIndex}
 * @throws as {@link sii}
 */
export function stii(mobius: MobiusInput, options: IndexOptions): InteractionIndex {
  return interactionIndex('stii', mobius, options);
}

/**
 * Faithful Shapley interaction index (Faith-Shap, Tsai et al. 2023): the best order-k additive approximation of v
 * under the Shapley kernel with v(∅) and v(N) matched exactly, in its closed Möbius form.
 * @param mobius - dense f64[2^n] by mask, or sparse terms
 * @param options - maxOrder k (required), n (required for sparse input)
 * @returns the nonzero entries, see {@link InteractionIndex}
 * @throws as {@link sii}
 */
export function fsii(mobius: MobiusInput, options: IndexOptions): InteractionIndex {
  return interactionIndex('fsii', mobius, options);
}

/**
 * Banzhaf interaction index (Grabisch & Roubens 1999) for every |S| ≤ maxOrder: BII(S) = Σ_{T⊇S} m(T)/2^{|T|−|S|}.
 * @throws as {@link sii}
 */
export function bii(mobius: MobiusInput, options: IndexOptions): InteractionIndex {
  return interactionIndex('bii', mobius, options);
}

/**
 * Chaining interaction index (Marichal & Roubens 1999) for 1 ≤ |S| ≤ maxOrder: CHII(S) = Σ_{T⊇S} (|S|/|T|)·m(T); ∅ is v(∅).
 * @throws as {@link sii}
 */
export function chii(mobius: MobiusInput, options: IndexOptions): InteractionIndex {
  return interactionIndex('chii', mobius, options);
}

/**
 * Faithful Banzhaf interaction index (Tsai, Yeh & Ravikumar 2023) at k = maxOrder: the least-squares fit of v by terms
 * of order ≤ k over all 2^n sets, uniformly weighted.
 * @throws as {@link sii}
 */
export function fbii(mobius: MobiusInput, options: IndexOptions): InteractionIndex {
  return interactionIndex('fbii', mobius, options);
}

/**
 * Any index by name.
 * @param name - one of {@link INDEX_NAMES}
 * @param mobius - dense f64[2^n] by mask (bit i = player i), or sparse terms
 * @param options - n (required for sparse input), maxOrder (required for interaction indices, ignored for values)
 * @returns f64[n] for 'shapley' and 'banzhaf', an {@link InteractionIndex} otherwise
 * @throws InvalidOptionError for an unknown name (the message lists the valid ones); otherwise as the named function
 */
export function computeIndex(name: ValueName, mobius: MobiusInput, options?: IndexOptions): Float64Array;
export function computeIndex(name: InteractionIndexName, mobius: MobiusInput, options: IndexOptions): InteractionIndex;
export function computeIndex(name: IndexName, mobius: MobiusInput, options?: IndexOptions): Float64Array | InteractionIndex;
export function computeIndex(name: IndexName, mobius: MobiusInput, options: IndexOptions = {}): Float64Array | InteractionIndex {
  const checked = assertIndexName(name);
  return checked === 'shapley' || checked === 'banzhaf' ? values(checked, mobius, options) : interactionIndex(checked, mobius, options);
}

/**
 * The entries of an interaction index as a dense vector by mask (bit i = player i; sets above maxOrder are 0).
 * @param index - a result of an interaction index
 * @returns f64[2^n]
 * @throws ShapeMismatchError when n is too large for a dense vector
 */
export function indexToDense(index: InteractionIndex): Float64Array {
  playersOf(2 ** index.n, 'The dense index');
  const out = new Float64Array(2 ** index.n);
  for (const { players, value } of index.terms) out[players.reduce((mask, p) => mask | (1 << p), 0)] = value;
  return out;
}

/**
 * The nonzero coefficients of a dense Möbius vector as sparse terms (mask ascending).
 * @param mobius - f64[2^n], bit i of the mask = player i
 * @returns one term per nonzero coefficient
 * @throws ShapeMismatchError when the length is not 2^n
 */
export function mobiusTerms(mobius: Float64Array): MobiusTerm[] {
  playersOf(mobius.length, 'The Möbius vector');
  const terms: MobiusTerm[] = [];
  for (let mask = 0; mask < mobius.length; mask++) if (mobius[mask] !== 0) terms.push({ players: playersOfMask(mask), value: mobius[mask] });
  return terms;
}

/**
 * The Möbius transform (Harsanyi dividends) of a game, plain TS: m(S) = Σ_{T⊆S} (−1)^{|S|−|T|} v(T), O(n·2^n).
 * For hot paths use the kernel 'mobiusSubsetF64' through the kernel host; this copy serves pure analyses and tests.
 * @param v - f64[2^n], bit i of the mask = player i
 * @returns m, f64[2^n]
 * @throws ShapeMismatchError when the length is not 2^n
 * @throws NonFiniteError when v holds NaN or ±Inf
 */
export function mobiusTransform(v: Float64Array): Float64Array {
  playersOf(v.length, 'The game');
  const m = Float64Array.from(v);
  for (let i = 0; i < m.length; i++) if (!Number.isFinite(m[i])) throw new NonFiniteError(`v at mask ${i} is ${m[i]}; every value of the game must be finite.`);
  for (let bit = 1; bit < m.length; bit <<= 1) {
    for (let base = 0; base < m.length; base += bit << 1) {
      for (let s = base; s < base + bit; s++) m[s + bit] -= m[s];
    }
  }
  return m;
}
