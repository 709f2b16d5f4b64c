// The public types of the sparse Möbius engine: bit-packed mask batches, the game callback, options and the
// recovered expansion. Types only; the functions that use them live in the other files of this folder.
import type { SPARSE_FITS } from '../../contracts/schema/constants.js';
import type { KernelHost } from '../../contracts/kernels.js';

/** Bit-packed masks: row r, player i is present when (bits[r * words + (i >>> 5)] >>> (i & 31)) & 1. words = ceil(n/32). */
export interface MaskBatch {
  readonly n: number;
  readonly count: number;
  readonly words: number;
  readonly bits: Uint32Array;
}

/** A game evaluated on a batch of masks; returns one value per row. May be sync or async. */
export type GameFunction = (masks: MaskBatch, signal?: AbortSignal) => Float64Array | Promise<Float64Array>;

/** Options of sparseMobius and sparseOr. */
export interface SparseOptions {
  /** Most evaluations of the game, held-out masks included. */
  readonly budget: number;
  /** d: largest interaction order recovered. */
  readonly maxOrder: number;
  /** Deterministic given the seed (default 0). */
  readonly seed?: number;
  /**
   * Seed of the uniformly random masks: the held-out masks, and method 'adaptive''s validation masks and random fit
   * masks, each kind from a stream of its own (default: seed). sparseOr draws their complements: given the same
   * uniformSeed as a sparseMobius of the same game, these are the same masks of v, so a game that remembers its
   * answers (recoverAndOr's table) evaluates them once for both expansions.
   */
  readonly uniformSeed?: number;
  /** Random masks kept out of the fit to measure faithfulness (default min(1000, ⌊budget/10⌋)). */
  readonly heldOut?: number;
  /** Cancels between game calls and inside long loops (throws CancelledError). */
  readonly signal?: AbortSignal;
  /** Evaluations done / planned. */
  readonly onProgress?: (done: number, total: number) => void;
  /** One of SPARSE_METHODS (default 'adaptive'). */
  readonly method?: string;
  /**
   * Method 'adaptive': the game is treated as if each value carried noise of σ = tolerance · |v(N) − v(∅)| (or the
   * measured noise, when larger), so residuals up to about 6σ count as zero, and the found terms are refitted by least
   * squares. A deterministic model's dense tail of tiny coefficients is then left out instead of spending the budget
   * on it. 0 treats every non-zero residual as a term. Default (undefined): auto, stages of falling tolerance
   * 1e-2, 1e-3, 1e-4, 0, each kept while it raises the R² on validation masks (docs/math.md, "Sparse method").
   */
  readonly tolerance?: number;
  /**
   * The compiled kernels (the engine passes its own). Method 'adaptive' in auto mode needs them for its low-order
   * completion (the order ≤ 2 terms fitted on random masks beside the found ones); without them it runs no completion.
   */
  readonly kernels?: KernelHost;
  /**
   * Runs method 'adaptive''s fits on random masks (a tree proxy and the low-order completions, fits.ts) elsewhere:
   * the engine passes its runner's, which sends them to a pool worker, so that the AND and the OR expansion fit side
   * by side while the calling thread goes on. The same task gives the same fits wherever it runs. Default: here.
   */
  readonly fitRandom?: RandomFitter;
}

/** One Möbius coefficient. */
export interface SparseTerm {
  /** Sorted ascending. */
  readonly players: readonly number[];
  readonly value: number;
  /** true: the value was computed from v at every subset of the support (the auto search's refinement), so it is
   *  the game's Möbius coefficient up to round-off, not an estimate. On the exact path every term is exact, unmarked. */
  readonly exact?: true;
}

/** A recovered sparse Möbius expansion. */
export interface SparseExpansion {
  readonly n: number;
  readonly method: string;
  /** Möbius coefficients, strongest |value| first; the empty set (players []) included = v(∅). */
  readonly terms: readonly SparseTerm[];
  /** Game evaluations used, held-out included. */
  readonly evaluations: number;
  /** R² of Σ_{S⊆T} m(S) against v(T) on held-out uniformly random masks the method never saw. */
  readonly faithfulness: { readonly r2: number; readonly heldOut: number };
  /** Method 'adaptive': the tolerance of the search stage kept (the one given, or the auto search's last good stage). */
  readonly tolerance?: number;
  /** Method 'adaptive': which expansion was kept (SparseFit). */
  readonly fit?: SparseFit;
  /** Method 'exact' (sparseMobius): every Möbius coefficient of the game by mask (bit i = player i), not only the
   *  terms of order ≤ maxOrder, so that what is computed from the game (its indices) is exact too. */
  readonly mobius?: Float64Array;
}

/**
 * The expansion an adaptive recovery kept: search, the search's terms (exact, or the auto search's best stage);
 * trees, the tree proxy's terms; completion, the search's terms with every term of order ≤ 2, least squares on
 * random masks; completion+trees, that completion with the conjunctions trees found in what it left unexplained;
 * cube+trees, v at every subset of the players that matter (their terms exact) and trees fitted to what those leave.
 */
export type SparseFit = (typeof SPARSE_FITS)[number];

/** Masks and the game's values on them. */
export interface FitSet {
  readonly masks: MaskBatch;
  readonly values: Float64Array;
}

/** Terms as three arrays of their own (term t is flat[offsets[t] .. offsets[t+1]), ascending, value values[t]): what
 *  crosses a worker boundary. */
export interface FlatTerms {
  readonly offsets: Int32Array;
  readonly flat: Int32Array;
  readonly values: Float64Array;
}

/** The fits of an auto search on its random masks (fits.ts): everything crosses a worker boundary as it is. */
export interface RandomFitsTask {
  readonly n: number;
  readonly maxOrder: number;
  /** Seeds the trees' row samples: the same task gives the same fits wherever it runs. */
  readonly seed: number;
  /** The kept search's terms (∅ included). */
  readonly searched: FlatTerms;
  /** The uniformly random masks and the game's values there. */
  readonly fit: FitSet;
  /** Masks of the search's log (evenly spaced, as many as the random ones the trees take), for the trees. */
  readonly logged: FitSet;
  /** The trees learn from the first treeRows random masks at most (default: all); an order-1 completion takes them
   *  all (a dense spread of hundreds of players gains from every one, and its cost grows with the masks less than the
   *  trees' does). */
  readonly treeRows?: number;
  /** The validation masks (the tree proxy is cut to its strongest terms by them). */
  readonly validation: FitSet;
  /** v at every subset of the players that matter (cube.ts): the trees then learn what it leaves. */
  readonly cube?: Cube;
}

/** v at every subset of a few players K, the others absent (cube.ts): value s is v at the players[j] for each bit j
 *  of s. */
export interface Cube {
  /** K, ascending. */
  readonly players: Int32Array;
  /** 2^|K| values. */
  readonly values: Float64Array;
}

/** One expansion fitted on the random masks. */
export interface FittedExpansion {
  readonly fit: SparseFit;
  /** Distinct supports, players ascending (a store's terms). */
  readonly terms: FlatTerms;
  /** R² on the task's validation masks (Validation.r2, the terms strongest first), computed where the fit ran. */
  readonly r2: number;
}

/** Runs a RandomFitsTask somewhere else (SparseOptions.fitRandom). */
export type RandomFitter = (task: RandomFitsTask, signal?: AbortSignal) => Promise<FittedExpansion[]>;
