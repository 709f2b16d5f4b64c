// The low-order completion of an auto search: a trained model's game holds, beside the strong terms a search finds,
// a dense spread of small terms of order 1 and 2 that no sparse search recovers one by one. Every term of order ≤ 2
// and the found terms are fitted jointly by ridge least squares on uniformly random masks that no search saw; the
// caller keeps the result only where it fits validation masks better.
//
// - Basis. The order ≤ 2 terms are fitted in the parity basis χ_T(x) = Π_{i∈T} (1 − 2x_i), whose columns are
//   orthogonal in expectation over uniform masks. A found term x_S of higher order is nearly collinear with the χ of
//   its own subsets (7/8 of a triple's norm); it enters as x_S minus its order ≤ 2 part, x_S = Σ_{U⊆S}
//   2^{−|S|} (−1)^{|U|} χ_U. Jacobi-preconditioned conjugate gradients then converge in a few dozen steps (three times
//   fewer than with x_S itself).
// - Rare terms. A found term held by fewer than MIN_ROWS of the random masks cannot be estimated from them (an order-12
//   term is in one mask of 4096): it keeps the search's value, and the fit is of what it leaves unexplained. So do the
//   weakest found terms when there are more than the masks have room for.
// - Cost. The Gram entries are popcounts over bitsets of the masks, and the solve a dense SIMD CG, both in the
//   compiled kernels (assembly/kernels/least-squares.ts).
import type { F64Buffer, KernelHost } from '../../contracts/kernels.js';
import type { FitSet, MaskBatch, SparseTerm } from './types.js';
import { popcount32 } from './masks.js';
import { TermStore } from './terms.js';

/** Random masks per unknown of the fit: enough for a well-posed, well-conditioned ridge fit. */
const MASKS_PER_COLUMN = 2;
/** Room for the search's terms beside the low-order ones when the random masks are counted in advance. */
const FOUND_ALLOWANCE = 128;
/** Most unknowns of order ≤ 2: the Gram holds (columns + found)² f32. Beyond it the completion is of order 1, whose
 *  1 + n columns always fit (n ≤ 4096, MAX_SPARSE_PLAYERS: a Gram of 71 MB). */
const MAX_COLUMNS = 2400;
/** A found term held by fewer random masks than this keeps the search's value (as do the weakest found terms when
 *  they are more than the masks can fit, MASKS_PER_COLUMN each). */
const MIN_ROWS = 32;
/** Ridge weight, relative to each column's own squared norm: it only steadies near-collinear columns. */
const RIDGE = 1e-6;
/** The ridge weights (relative as RIDGE's) of an order-1 completion on fewer random masks than MASKS_PER_COLUMN per
 *  unknown, largest first, each solve starting from the one before: least squares there fits the other orders' part
 *  of v as noise (a tanh network of 4096 players, 3500 masks: R² −0.51 on masks it never saw), a ridge weight of
 *  0.1–0.3 of each column's squared norm 0.32–0.49 (3500 and 5000 masks; ad hoc). The caller keeps the weight whose fit its
 *  validation masks score best (fits.ts). */
const RIDGE_PATH = [1, 0.3, 0.1, 0.03];
/** Fewest random masks of such a completion. */
const MIN_RIDGE_ROWS = 64;
/** Conjugate gradients stop at this residual relative to the right-hand side, or after MAX_ITERATIONS: at n = 49
 *  about 40 steps, and the held-out R² the same to 7 digits as at 10⁻¹⁰ (55 steps). */
const RESIDUAL = 1e-7;
const MAX_ITERATIONS = 1000;
/** Most found terms and candidates in the CG's block preconditioner (conjugateGradientsF32): their indicator columns
 *  are nested and correlated (a tree's conjunctions share players), which the diagonal alone left to the iterations:
 *  the second system of a patches-49 fit (1226 low-order columns and 128 conjunctions) took 112–138 steps, 41–42 with
 *  the block (ad hoc, fit tasks dumped from `engine.explain` at 10⁴ evaluations). Its Cholesky factor costs h³/6
 *  products once per solve: at 256 about one matrix-vector step of the largest order-1 completion (2400 columns),
 *  whose found terms past the first 256 keep the diagonal. */
const BLOCK_MAX = 256;
/** Least pivot of that factor, as a share of its diagonal entry: f32 entries carry about 1e-7 relative round-off. */
const PIVOT_FLOOR = 1e-6;
/** Most work of one kernel call, between two pauses (cancellation, other work's turn): 64-bit popcounts of the Gram,
 *  or f32 products of the CG's matrix-vector steps; a few tens of ms. Without it one order-1 Gram at 4096 players
 *  (4225 columns over 16 900 masks) was one call of about 1 s, and an abort waited 2.8–3.2 s for both expansions'
 *  Grams and first solves. */
const CALL_WORK = 5e7;
/** What the solves yield between two kernel calls: the caller's turn to pause. */
const PAUSE = Symbol('pause');

/**
 * The order of a completion of n players: min(2, maxOrder), or 1 where the pairs are more than MAX_COLUMNS (n > 68):
 * a game of hundreds or thousands of players then still gets its first-order spread fitted jointly with the found
 * terms and the trees' conjunctions, which the trees alone fit poorly (a sum of many small effects is no shallow
 * tree: a tanh network of 4096 players, R² 0.03 from the trees, 0.51 with it, at 10⁵ evaluations).
 * @returns the order, or undefined when maxOrder is 0
 */
export function completionOrder(n: number, maxOrder: number): number | undefined {
  const order = Math.min(2, maxOrder);
  if (order < 1) return undefined;
  return order === 2 && lowOrderCount(n, 2) > MAX_COLUMNS ? 1 : order;
}

/**
 * Bytes one completion of n players holds at most in the kernels' memory (solve's buffers): its Gram and the leading
 * block of its first solve (f32 each), the columns' bitsets over at most `rows` masks and their counts, the CG's
 * vectors (right-hand side, solution and five work vectors, f64) and the block preconditioner's factor (at most
 * BLOCK_MAX² f64).
 * @param n - players
 * @param maxOrder - the expansion's order cap
 * @param rows - the fit masks it may be given
 */
export function completionBytes(n: number, maxOrder: number, rows: number): number {
  const order = completionOrder(n, maxOrder);
  if (order === undefined) return 0;
  const high = highColumns(n, order);
  const columns = lowOrderCount(n, order) + high;
  return 8 * columns * columns + columns * 8 * Math.ceil(rows / 64) + 4 * columns + 8 * 7 * columns + 8 * Math.min(BLOCK_MAX, high) ** 2;
}

/**
 * Random masks a completion of n players asks for: MASKS_PER_COLUMN per unknown (every term of order ≤
 * completionOrder, ∅ included, and FOUND_ALLOWANCE found terms).
 * @param n - players
 * @param maxOrder - the expansion's order cap
 * @returns the count, or undefined when there is no completion (completionOrder)
 */
export function completionMasks(n: number, maxOrder: number): number | undefined {
  const order = completionOrder(n, maxOrder);
  return order === undefined ? undefined : MASKS_PER_COLUMN * (lowOrderCount(n, order) + FOUND_ALLOWANCE);
}

/**
 * The random masks a completion of an expansion uses, of the `available` ones: for order 2 its completionMasks (when
 * there are that many); for order 1 all of them, from MIN_RIDGE_ROWS on (fewer than completionMasks: a ridge path
 * without found terms, RIDGE_PATH).
 * @returns the count, or undefined when the completion does not run
 */
export function completionRows(n: number, maxOrder: number, available: number): number | undefined {
  const order = completionOrder(n, maxOrder);
  if (order === undefined) return undefined;
  if (order === 1) return available >= MIN_RIDGE_ROWS ? available : undefined;
  const asked = completionMasks(n, maxOrder)!;
  return available >= asked ? asked : undefined;
}

/** Supports of order ≤ order (1 or 2), ∅ included. */
const lowOrderCount = (n: number, order: number): number => 1 + n + (order >= 2 ? (n * (n - 1)) / 2 : 0);

/** Most found terms and candidates fitted beside the low-order columns: FOUND_ALLOWANCE, or for an order-1 completion
 *  as many as bring its columns to MAX_COLUMNS. A dense game's search finds hundreds of pairs, the order-1
 *  completion's found terms; held at the search's values past 128, they made a larger budget fit worse (a tanh
 *  network of 150 players, 40 000 evaluations: 1113 pairs, R² 0.747, against 0.799 with none; adversarial sweep,
 *  test/unit/sparse/large-n-faults.test.ts). */
const highColumns = (n: number, order: number): number => (order === 1 ? Math.max(FOUND_ALLOWANCE, MAX_COLUMNS - lowOrderCount(n, 1)) : FOUND_ALLOWANCE);

/**
 * The found terms completed with every term of order ≤ completionOrder, fitted by least squares on the fit set.
 * @param kernels - the compiled kernels (Gram and solve)
 * @param found - the search's terms (∅ included or not)
 * @param fit - uniformly random masks and values, unseen by the search
 * @param maxOrder - the order cap of the expansion
 * @param candidates - supports of order > 2 to try beside them (strongest first): fitted while the masks have room
 *   after the found terms, else left out (a candidate has no value of its own to keep)
 * @returns the fitted Möbius terms; undefined when the fit set is too small for them
 * @throws MemoryLimitError when the kernels' memory cannot hold the Gram
 */
export function completeLowOrder(kernels: KernelHost, found: readonly SparseTerm[], fit: FitSet, maxOrder: number, candidates: readonly (readonly number[])[] = []): TermStore | undefined {
  // no validation masks here to choose a ridge weight by: least squares only where the masks are enough for it
  const system = prepare(found, fit, maxOrder, candidates, false);
  if (!system) return undefined;
  let last: TermStore | undefined;
  // synchronous: no pause between the kernel calls
  for (const store of solved(kernels, system)) if (store !== PAUSE) last = store;
  return last;
}

/** The fits of completions. */
export interface Completed {
  /** Without the candidates: one fit, or on an order-1 completion's fewer masks than MASKS_PER_COLUMN per unknown one
   *  per weight of RIDGE_PATH (no found term fitted), for the caller to choose from by validation masks. */
  readonly without: readonly TermStore[];
  /** With the candidates, when any entered. */
  readonly with?: TermStore;
}

/**
 * The completion (completeLowOrder) without the candidates, then with them when any enters: one Gram for both, the
 * first's columns being the second's first (its leading block). An order-1 completion on fewer masks than it asks
 * for (completionRows) is fitted along RIDGE_PATH instead, from the same Gram.
 * @param pause - awaited between the solves (cancellation, other work's turn)
 * @returns the fits; undefined when the fit set is too small
 * @throws MemoryLimitError when the kernels' memory cannot hold the Gram; whatever pause throws
 */
export async function completions(kernels: KernelHost, found: readonly SparseTerm[], fit: FitSet, maxOrder: number, candidates: readonly (readonly number[])[], pause: () => Promise<void>): Promise<Completed | undefined> {
  const system = prepare(found, fit, maxOrder, candidates, true);
  if (!system) return undefined;
  const stores: TermStore[] = [];
  const count = system.sizes.length * system.ridges.length;
  // the solves yield between their kernel calls (PAUSE), and each fit once made
  for (const store of solved(kernels, system)) {
    if (store === PAUSE || stores.push(store) < count) await pause();
  }
  // two systems only with room for candidates, which a ridge path has not: one weight each
  return system.sizes.length > 1 ? { without: stores.slice(0, 1), with: stores[1] } : { without: stores };
}

/** The columns of a completion and what they are fitted to. */
interface System {
  readonly low: readonly number[][];
  /** Found terms kept at their values (rare, or beyond the masks' room). */
  readonly fixed: TermStore;
  /** Found terms, then candidates, fitted beside the low-order ones. */
  readonly high: readonly { readonly players: readonly number[]; readonly bits: Uint32Array }[];
  readonly columns: readonly Uint32Array[];
  readonly parts: readonly LowPart[];
  readonly target: Float64Array;
  /** Columns of each fit: all but the candidates, then all (when any candidate entered). */
  readonly sizes: readonly number[];
  /** The ridge weights each is solved with, in turn: [RIDGE], or RIDGE_PATH. */
  readonly ridges: readonly number[];
}

/** The system of a completion; with `ridgePath`, an order-1 one on fewer masks than MASKS_PER_COLUMN per low-order
 *  column is one along RIDGE_PATH, every found term at its value (else there is none). */
function prepare(found: readonly SparseTerm[], fit: FitSet, maxOrder: number, candidates: readonly (readonly number[])[], ridgePath: boolean): System | undefined {
  const order = completionOrder(fit.masks.n, maxOrder);
  const rows = fit.masks.count;
  if (order === undefined) return undefined;
  const low = lowOrderSupports(fit.masks.n, order);
  // found terms and candidates fitted: as many as the rows have room for, at most highColumns (the Gram's cost is
  // quadratic in the columns)
  const scarce = Math.floor(rows / MASKS_PER_COLUMN) < low.length;
  if (scarce && !(ridgePath && order === 1 && rows >= MIN_RIDGE_ROWS)) return undefined;
  const room = scarce ? 0 : Math.min(highColumns(fit.masks.n, order), Math.floor(rows / MASKS_PER_COLUMN) - low.length);
  const players = playerBits(fit.masks);
  const lowBits = low.map((support) => combine(players, support, rows, 'xor'));
  const fixed = new TermStore();
  const high: { players: readonly number[]; bits: Uint32Array }[] = [];
  // strongest first, so that the weakest are the ones kept at the search's values when there is no room for all
  for (const term of [...found].sort((a, b) => Math.abs(b.value) - Math.abs(a.value))) {
    if (term.players.length <= order) continue;
    const bits = combine(players, term.players, rows, 'and');
    if (high.length < room && popcountAll(bits) >= MIN_ROWS) high.push({ players: term.players, bits });
    else fixed.add(term.players, term.value);
  }
  const foundCount = high.length;
  const known = new Set(found.map((term) => term.players.join(',')));
  for (const support of candidates) {
    if (high.length >= room) break;
    if (support.length <= order || known.has(support.join(','))) continue;
    const bits = combine(players, support, rows, 'and');
    if (popcountAll(bits) >= MIN_ROWS) high.push({ players: support, bits });
  }
  // what the rare terms leave unexplained
  const target = new Float64Array(rows);
  fixed.predict(fit.masks, target);
  for (let r = 0; r < rows; r++) target[r] = fit.values[r] - target[r];
  const columns = [...lowBits, ...high.map((h) => h.bits)];
  const parts = high.map((h) => lowPart(h.players, fit.masks.n, order));
  const sizes = high.length > foundCount ? [low.length + foundCount, columns.length] : [columns.length];
  return { low, fixed, high, columns, parts, target, sizes, ridges: scarce ? RIDGE_PATH : [RIDGE] };
}

/** Each fit of the system as Möbius terms: the fixed terms, then the low-order ones, then the fitted found terms and
 *  candidates. */
function* solved(kernels: KernelHost, system: System): Generator<TermStore | typeof PAUSE> {
  const { low, fixed, high } = system;
  for (const w of solve(kernels, system)) {
    if (w === PAUSE) {
      yield w;
      continue;
    }
    const store = fixed.copy();
    low.forEach((support, c) => addParity(store, support, w[c]));
    high.slice(0, w.length - low.length).forEach((h, j) => store.add(h.players, w[low.length + j]));
    yield store;
  }
}

/** A found term's order ≤ 2 part: x_S = h_S + Σ_U weights·χ_U over the low-order supports U ⊆ S (their indices). */
interface LowPart {
  readonly columns: Int32Array;
  readonly weights: Float64Array;
}

/**
 * Least squares of the first m columns against the target, for each m of `sizes` (ascending; the first lowCount
 * columns are parity columns, the rest indicator columns) and each ridge weight of `ridges`, in that order, each solve
 * from the last one's solution: the Gram of all the columns once by the kernels, turned
 * once into the decoupled basis G' = Tᵀ G T with T = [[I, −C], [0, I]] (each indicator column minus its low-order
 * part), each system's its leading block, solved by the kernels' CG with the found columns' block as preconditioner,
 * and turned back (x_L = x'_L − C x_F). The Gram and each solve run in kernel calls of at most CALL_WORK, PAUSE
 * yielded between them. The kernels' buffers are held between the solves, given back when the generator ends or is
 * left.
 */
function* solve(kernels: KernelHost, system: System): Generator<Float64Array | typeof PAUSE> {
  const { columns, target, parts, sizes } = system;
  const lowCount = system.low.length;
  const m = columns.length;
  const rows = target.length;
  const words64 = Math.ceil(rows / 64);
  const bitsBuffer = kernels.alloc(m * words64);
  const countsBuffer = kernels.alloc(Math.ceil(m / 2));
  const full = kernels.alloc(Math.ceil((m * m) / 2)); // f32[m·m]
  // the systems before the last solve on a copy of their leading block; the last on the Gram itself
  const block = sizes.length > 1 ? kernels.alloc(Math.ceil((sizes[0] * sizes[0]) / 2)) : full;
  const rhs = kernels.alloc(m);
  const x = kernels.alloc(m);
  const work = kernels.alloc(5 * m);
  const factor = kernels.alloc(Math.min(BLOCK_MAX, m - lowCount) ** 2);
  try {
    const memory = kernels.view(bitsBuffer).buffer;
    const bits = new Uint32Array(memory, bitsBuffer.ptr, 2 * m * words64);
    const counts = new Int32Array(memory, countsBuffer.ptr, m);
    columns.forEach((column, c) => {
      bits.set(column, 2 * c * words64);
      counts[c] = popcountAll(column);
    });
    // rows [from, to) of the lower triangle per call: row i costs (i + 1)·words64 popcounts; four rows at a time share
    // their loads
    for (let from = 0; from < m; ) {
      let to = from;
      for (let work = 0; to < m && (to === from || work < CALL_WORK); to += 4) work += 4 * (to + 3) * words64;
      to = Math.min(m, to);
      kernels.call('bitGramF32', bitsBuffer.ptr, countsBuffer.ptr, m, lowCount, words64, rows, full.ptr, from, to);
      from = to;
      if (from < m) yield PAUSE;
    }
    // decoupled once, Xᵀy with it: each system's is the leading block of the whole one's (a found column's decoupling
    // reads the low-order columns only), the same numbers in the same order
    kernels.view(rhs).set(rightHandSide(columns, lowCount, target));
    decouple(kernels, full, rhs, m, lowCount, parts);
    let solvedSize = 0;
    for (const size of sizes) {
      // views made anew: another computation may have grown the kernels' memory while the caller paused
      const now = kernels.view(bitsBuffer).buffer;
      const gram = size === m ? full : block;
      const g = new Float32Array(now, gram.ptr, size * size);
      if (gram !== full) {
        const all = new Float32Array(now, full.ptr, m * m);
        for (let i = 0; i < size; i++) g.set(all.subarray(i * m, i * m + size), i * size);
      }
      const used = parts.slice(0, size - lowCount);
      const blockSize = Math.min(BLOCK_MAX, size - lowCount);
      choleskyBlock(g, size, lowCount, blockSize, kernels.view(factor));
      // at least one matrix-vector step (size² products) a call, up to MAX_ITERATIONS in all
      const steps = Math.max(1, Math.floor(CALL_WORK / (size * size)));
      for (const ridge of system.ridges) {
        // a larger system starts from the smaller one's solution, its new unknowns at 0 (the kernel's resume 2): its
        // leading block is the smaller system itself. A patches-49 fit's second solve took 34–36 steps from there, 42
        // from 0 (ad hoc, fit tasks dumped from `engine.explain` at 10⁴ and 10⁵ evaluations). So does each weight of
        // a ridge path from the larger one's.
        const warm = solvedSize > 0;
        if (warm) kernels.view(x).fill(0, solvedSize, size);
        for (let done = 0; done < MAX_ITERATIONS; ) {
          const taken = kernels.call('conjugateGradientsF32', gram.ptr, rhs.ptr, x.ptr, work.ptr, size, ridge, RESIDUAL, Math.min(steps, MAX_ITERATIONS - done), done > 0 ? 1 : warm ? 2 : 0, lowCount, blockSize, factor.ptr);
          done += taken;
          if (taken < steps) break;
          yield PAUSE;
        }
        solvedSize = size;
        const w = Float64Array.from(kernels.view(x).subarray(0, size));
        used.forEach(({ columns: subsets, weights }, k) => {
          const xf = w[lowCount + k];
          for (let u = 0; u < subsets.length; u++) w[subsets[u]] -= weights[u] * xf;
        });
        yield w;
      }
    }
  } finally {
    for (const buffer of new Set([bitsBuffer, countsBuffer, full, block, rhs, x, work, factor])) kernels.free(buffer);
  }
}

/**
 * A lower Cholesky factor of the block of G + RIDGE·diag(G) on unknowns start .. start + h − 1 (as the CG's operator:
 * a zero diagonal entry counts as 1), into out[0 .. h²) row-major, for the CG's block preconditioner. A pivot that
 * round-off leaves at or below PIVOT_FLOOR of its entry (nearly equal columns) is replaced by the entry itself: any
 * factor with a positive diagonal makes a positive definite preconditioner, and the CG's answer is the system's.
 */
export function choleskyBlock(g: Float32Array, m: number, start: number, h: number, out: Float64Array): void {
  for (let i = 0; i < h; i++) {
    const row = (start + i) * m + start;
    for (let j = 0; j <= i; j++) {
      let s = i === j ? (g[row + j] > 0 ? g[row + j] * (1 + RIDGE) : 1) : g[row + j];
      const entry = s;
      for (let k = 0; k < j; k++) s -= out[i * h + k] * out[j * h + k];
      if (i > j) out[i * h + j] = s / out[j * h + j];
      else out[i * h + i] = Math.sqrt(s > PIVOT_FLOOR * entry ? s : entry);
    }
  }
}

/** G ← Tᵀ G T and b ← Tᵀ b in place, by the kernels (decoupleF32): first every found column (from the unchanged
 *  low-order columns), then every found row (against a found column only the low-order rows' part is taken off: h²
 *  entries, not h·m). The new entries are sums of Gram integers times ±2^−|S|: short dyadic fractions, exact in f32
 *  for the orders the completion sees. In JavaScript it was 10–11 ms of a patches-49 completion's 65–69 (ad hoc). */
function decouple(kernels: KernelHost, g: F64Buffer, b: F64Buffer, m: number, lowCount: number, parts: readonly LowPart[]): void {
  const h = parts.length;
  let total = 0;
  for (const part of parts) total += part.columns.length;
  const indices = kernels.alloc(Math.ceil((h + 1 + total) / 2));
  const weights = kernels.alloc(Math.max(1, total));
  try {
    const memory = kernels.view(indices).buffer;
    const offsets = new Int32Array(memory, indices.ptr, h + 1);
    const columns = new Int32Array(memory, indices.ptr + 4 * (h + 1), total);
    const w = kernels.view(weights);
    parts.forEach((part, k) => {
      offsets[k + 1] = offsets[k] + part.columns.length;
      columns.set(part.columns, offsets[k]);
      w.set(part.weights, offsets[k]);
    });
    kernels.call('decoupleF32', g.ptr, b.ptr, m, lowCount, h, indices.ptr, indices.ptr + 4 * (h + 1), weights.ptr);
  } finally {
    kernels.free(indices);
    kernels.free(weights);
  }
}

/** Xᵀ y: a parity column gives Σy − 2·Σ over its set rows, an indicator column Σ over its set rows. */
function rightHandSide(columns: readonly Uint32Array[], lowCount: number, y: Float64Array): Float64Array {
  let total = 0;
  for (const value of y) total += value;
  return Float64Array.from(columns, (set, c) => {
    let sum = 0;
    for (let w = 0; w < set.length; w++) {
      for (let word = set[w]; word !== 0; word &= word - 1) sum += y[w * 32 + (31 - Math.clz32(word & -word))];
    }
    return c < lowCount ? total - 2 * sum : sum;
  });
}

/** ∅, then every player, then every pair {i < j} row by row (order 2); lowIndex numbers them the same way. */
function lowOrderSupports(n: number, order: number): number[][] {
  const supports: number[][] = [[]];
  for (let i = 0; i < n; i++) supports.push([i]);
  if (order >= 2) for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) supports.push([i, j]);
  return supports;
}

function lowIndex(support: readonly number[], n: number): number {
  if (support.length === 0) return 0;
  if (support.length === 1) return 1 + support[0];
  const [i, j] = support;
  return 1 + n + i * n - (i * (i + 1)) / 2 + (j - i - 1);
}

function lowPart(support: readonly number[], n: number, order: number): LowPart {
  const subsets: number[][] = [[]];
  for (const i of support) for (const subset of subsets.slice()) if (subset.length < order) subsets.push([...subset, i]);
  const scale = 2 ** -support.length;
  return {
    columns: Int32Array.from(subsets, (subset) => lowIndex(subset, n)),
    weights: Float64Array.from(subsets, (subset) => (subset.length % 2 === 0 ? scale : -scale)),
  };
}

/** For each player, the bitset over rows of the rows that hold it (an even number of 32-bit words: whole u64). */
function playerBits(masks: MaskBatch): Uint32Array[] {
  const words = 2 * Math.ceil(masks.count / 64);
  const players = Array.from({ length: masks.n }, () => new Uint32Array(words));
  for (let r = 0; r < masks.count; r++) {
    const base = r * masks.words;
    for (let i = 0; i < masks.n; i++) if ((masks.bits[base + (i >>> 5)] >>> (i & 31)) & 1) players[i][r >>> 5] |= 1 << (r & 31);
  }
  return players;
}

/** The parity (xor: rows with an odd number of the players) or the conjunction (and: rows with all of them). */
function combine(players: readonly Uint32Array[], support: readonly number[], rows: number, how: 'xor' | 'and'): Uint32Array {
  const words = 2 * Math.ceil(rows / 64);
  const out = new Uint32Array(words);
  if (how === 'and') {
    for (let w = 0; w < words; w++) out[w] = w < rows >>> 5 ? 0xffffffff : w === rows >>> 5 ? ((1 << (rows & 31)) - 1) >>> 0 : 0;
    for (const i of support) for (let w = 0; w < words; w++) out[w] &= players[i][w];
  } else {
    for (const i of support) for (let w = 0; w < words; w++) out[w] ^= players[i][w];
  }
  return out;
}

function popcountAll(bits: Uint32Array): number {
  let count = 0;
  for (const x of bits) count += popcount32(x);
  return count;
}

/** Adds w·χ_T in the Möbius basis: χ_T = Π_{i∈T} (1 − 2x_i) = Σ_{U⊆T} (−2)^{|U|} Π_{i∈U} x_i. */
function addParity(store: TermStore, support: readonly number[], w: number): void {
  store.add([], w);
  for (const i of support) store.add([i], -2 * w);
  if (support.length === 2) store.add(support, 4 * w);
}
