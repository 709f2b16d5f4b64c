// Up-front validation of sparseMobius's arguments: every field's type and range, unknown keys, the player limit,
// the method name, and whether the budget covers the method (the message states the least sufficient budget).
import { InvalidOptionError } from '../../contracts/errors.js';
import { assertKnownKeys, integerIn, oneOf } from '../../inputs/options.js';
import { DEFAULT_METHOD, MAX_EXACT_PLAYERS, MAX_REGRESSION_TERMS, MAX_SPARSE_PLAYERS, SPARSE_METHODS, defaultHeldOut, fitBudget, termCount, withHeldOut, type SparseMethod } from './budget.js';
import type { KernelHost } from '../../contracts/kernels.js';
import type { RandomFitter, SparseOptions } from './types.js';
import { preview } from '../../inputs/preview.js';

/** Validated, frozen options; `method` is what will run ('exact' whenever the budget covers 2^n). */
export interface SparseSettings {
  readonly n: number;
  readonly budget: number;
  readonly maxOrder: number;
  readonly seed: number;
  readonly uniformSeed: number;
  readonly heldOut: number;
  readonly method: SparseMethod;
  /** undefined: auto (staged). */
  readonly tolerance?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
  readonly kernels?: KernelHost;
  readonly fitRandom?: RandomFitter;
}

const KNOWN = ['budget', 'maxOrder', 'seed', 'uniformSeed', 'heldOut', 'signal', 'onProgress', 'method', 'tolerance', 'kernels', 'fitRandom'];

/**
 * Validates n and the options of sparseMobius.
 * @param n - players
 * @param options - the caller's options
 * @returns frozen settings
 * @throws InvalidOptionError naming the field, what it got, and the valid values
 */
export function sparseSettings(n: number, options: SparseOptions): SparseSettings {
  if (!Number.isInteger(n) || n < 0) throw new InvalidOptionError(`n must be a non-negative integer number of players (got ${preview(n)}).`);
  if (n > MAX_SPARSE_PLAYERS) {
    throw new InvalidOptionError(
      `n = ${n} players is above the sparse engine's limit of ${MAX_SPARSE_PLAYERS} players. Group players (e.g. larger image patches or token spans) so that n ≤ ${MAX_SPARSE_PLAYERS}.`,
    );
  }
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(`options must be an object with budget and maxOrder (got ${preview(options)}).`);
  assertKnownKeys(options, KNOWN, 'options');
  const budget = integerIn(options.budget, 1, Infinity, 'options.budget');
  const maxOrder = integerIn(options.maxOrder, 0, n, `options.maxOrder (at most n = ${n})`);
  const seed = options.seed === undefined ? 0 : integerIn(options.seed, 0, 0xffffffff, 'options.seed');
  const uniformSeed = options.uniformSeed === undefined ? seed : integerIn(options.uniformSeed, 0, 0xffffffff, 'options.uniformSeed');
  const tolerance = options.tolerance === undefined ? undefined : fractionIn(options.tolerance, 'options.tolerance');
  const requested = options.method === undefined ? DEFAULT_METHOD : oneOf(options.method, SPARSE_METHODS, 'options.method');
  if (options.signal !== undefined && typeof options.signal?.aborted !== 'boolean') {
    throw new InvalidOptionError('options.signal must be an AbortSignal (e.g. new AbortController().signal).');
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new InvalidOptionError(`options.onProgress must be a function (done, total) => void (got ${typeof options.onProgress}).`);
  }
  if (options.kernels !== undefined && (typeof options.kernels?.call !== 'function' || typeof options.kernels?.alloc !== 'function')) {
    throw new InvalidOptionError(`options.kernels must be the compiled kernels (a KernelHost from loadKernels; the engine passes its own), got ${preview(options.kernels)}.`);
  }
  if (options.fitRandom !== undefined && typeof options.fitRandom !== 'function') {
    throw new InvalidOptionError(`options.fitRandom must be a function (task, signal) => Promise of the fitted expansions (the engine passes its runner's), got ${preview(options.fitRandom)}.`);
  }
  const heldOutOption = options.heldOut === undefined ? undefined : integerIn(options.heldOut, 0, budget - 1, 'options.heldOut');
  // the exact path answers every question the sparse methods do, exactly, once the budget covers all 2^n masks
  const exact = requested === 'exact' || (n <= MAX_EXACT_PLAYERS && budget >= 2 ** n);
  const method: SparseMethod = exact ? 'exact' : requested;
  const heldOut = exact ? 0 : (heldOutOption ?? defaultHeldOut(budget));
  assertBudget(n, maxOrder, budget, method, heldOutOption);
  return Object.freeze({ n, budget, maxOrder, seed, uniformSeed, heldOut, method, tolerance, signal: options.signal, onProgress: options.onProgress, kernels: options.kernels, fitRandom: options.fitRandom });
}

/** A number in [0, 1). */
function fractionIn(value: unknown, field: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) throw new InvalidOptionError(`${field} must be a number in [0, 1), such as 0.001 (got ${preview(value)}).`);
  return value;
}

/** Throws unless the budget covers the method at this n and order. */
function assertBudget(n: number, maxOrder: number, budget: number, method: SparseMethod, heldOut: number | undefined): void {
  if (method === 'exact') {
    if (n > MAX_EXACT_PLAYERS) {
      throw new InvalidOptionError(`options.method 'exact' evaluates all 2^n masks and supports n ≤ ${MAX_EXACT_PLAYERS} (got n = ${n}). Use method 'adaptive'.`);
    }
    if (budget < 2 ** n) {
      throw new InvalidOptionError(`options.budget = ${budget} is too small for method 'exact' at n = ${n}: it needs at least 2^${n} = ${2 ** n} evaluations. Raise options.budget or use method 'adaptive'.`);
    }
    return;
  }
  if (method === 'regression' && termCount(n, maxOrder) > MAX_REGRESSION_TERMS) {
    throw new InvalidOptionError(
      `options.method 'regression' fits every term of order ≤ maxOrder: ${termCount(n, maxOrder)} terms at n = ${n}, maxOrder = ${maxOrder}, above its limit of ${MAX_REGRESSION_TERMS}. ` +
        "Lower options.maxOrder or use method 'adaptive'.",
    );
  }
  // 2^n evaluations (the exact path) also answer, when that is less
  const least = Math.min(withHeldOut(fitBudget(n, maxOrder, 1, method), heldOut), n <= MAX_EXACT_PLAYERS ? 2 ** n : Infinity);
  if (budget < least) {
    const held = heldOut === undefined ? 'default held-out masks included' : `${heldOut} held-out masks included`;
    throw new InvalidOptionError(
      `options.budget = ${budget} is too small for maxOrder = ${maxOrder} at n = ${n} players with method '${method}': ` +
        `it needs at least ${least} evaluations (${held}; see minimumBudget). Raise options.budget to ≥ ${least} or lower options.maxOrder.`,
    );
  }
}
