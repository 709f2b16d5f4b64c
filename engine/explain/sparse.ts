// The sparse explain path: AND and OR terms of a model's reward (explainModel's preparation continued through
// sparseMethod, masks evaluated by Runner.evaluateMasks) or of a game given as a function, for up to 4096 players,
// from a budget of evaluations, as term lists (andor.sparse/1). No AND-OR split is learned: the AND terms are the
// Möbius terms of v, the OR terms those of the complement game.
import { CancelledError, DisposedError, InvalidOptionError, MemoryLimitError } from '../contracts/errors.js';
import type { KernelHost } from '../contracts/kernels.js';
import { DEFAULT_INDEX_ORDER, DEFAULT_MAX_ORDER, DEFAULT_SPARSE_BUDGET } from '../contracts/schema/constants.js';
import { FunctionRequestSchema } from '../contracts/schema/requests.js';
import type { GameIndices } from '../analysis/game.js';
import { analyzeTerms, fitBytes, leastAndOrBudget, MAX_EXACT_PLAYERS, MAX_SPARSE_PLAYERS, recoverAndOr, type AndOrExpansion, type GameFunction, type MaskBatch, type RandomFitter, type SparseFit, type SparseSalient, type SparseTerm } from '../analysis/sparse/index.js';
import { LP_MAX_PLAYERS } from '../analysis/split-lp.js';
import { bool, numberIn } from '../inputs/options.js';
import { assertCallbacks, assertValid } from '../inputs/validate.js';
import { assertPlanFits, assertSparseFits, masksFitMemory, type Limits, type MaskPlan, type SparseMemory } from '../pipeline/plan.js';
import { rewardOf } from '../pipeline/masking.js';
import { changingPlayers, keepPlayers, nullPlayers } from '../pipeline/null-players.js';
import type { Runner } from '../pipeline/runner.js';
import { LOW_FAITHFULNESS, type WarningKind, type WarningSink } from './warnings.js';
import { assertClassNames, assertRowsIndependent, checkNames, probeSample, resolveTarget, type ExplainContext, type ExplainRequest, type ExplanationHeader, type InputLayout, type MethodDispatch, type PreparedExplain } from './explain.js';

/** Bytes a sparse explanation holds per evaluation of its budget besides the masks' bits (values, term lists,
 *  held-out masks), for the memory check: generous, since the term lists of 4096 players are small anyway; and the
 *  copies it keeps of each evaluated mask's bits (the method's log, the game's table above 20 players). */
const BYTES_PER_EVALUATION = 512;
const MASK_COPIES = 2;
/** The options that tune the learned AND-OR split, which the sparse method does not learn. */
const SPLIT_OPTIONS = ['decomposition', 'preset', 'solver', 'iterations', 'lr', 'qthres'] as const;

/** Tighter limits a caller (the HTTP service) puts on one sparse explanation. */
export interface SparseLimits {
  /** Most players (default and ceiling: 4096). */
  readonly maxSparsePlayers?: number;
  /** Most model evaluations one request may ask for; a request without a budget gets at most this. */
  readonly maxBudget?: number;
}

/** One term of a sparse result: its players (ascending; [] = ∅) and value. */
export type SparseResultTerm = SparseTerm;

/** What the sparse method reports (the library form; sparseToJson gives andor.sparse/1). */
export interface SparseResult extends ExplanationHeader {
  readonly method: 'sparse';
  /** 'exact' when the budget covered all 2^n masks (each evaluated once), else 'adaptive' (group testing). */
  readonly recovery: 'adaptive' | 'exact';
  readonly budget: number;
  /** Model (or game) evaluations used: distinct masks, held-out masks included. */
  readonly evaluations: number;
  readonly maxOrder: number;
  /** Noise floor of the search, as a share of |v(N) − v(∅)|: as requested ('auto': staged), and as kept per
   *  expansion (null: no search ran, the budget covered 2^n). */
  readonly tolerance: { readonly requested: number | 'auto'; readonly and: number | null; readonly or: number | null };
  /** Which expansion each kept (SparseFit; null: no search ran, the budget covered 2^n). */
  readonly fit: { readonly and: SparseFit | null; readonly or: SparseFit | null };
  /** R² of each expansion on masks it never saw (on all 2^n masks, heldOut 0, on the exact path). */
  readonly faithfulness: { readonly r2: number; readonly heldOut: number; readonly or: { readonly r2: number; readonly heldOut: number } };
  /** v(∅) and v(N) as evaluated (after −v0 for the -v0 rewards). */
  readonly values: { readonly empty: number; readonly full: number };
  /** AND interactions: Möbius terms of v up to maxOrder, strongest first, ∅ included: v(∅) where the kept expansion
   *  holds it exactly (the exact path, a deterministic game's search, a cube), else the fit's intercept, which also
   *  carries the mean part of the terms the fit leaves out (values.empty is v(∅) as evaluated). */
  readonly and: readonly SparseResultTerm[];
  /** OR interactions: the negated non-empty Möbius terms of u(T) = v(N∖T), strongest first; ∅ = the expansion's v(∅). */
  readonly or: readonly SparseResultTerm[];
  readonly threshold: number;
  readonly salient: readonly SparseSalient[];
  readonly orders: { readonly positive: Float64Array; readonly negative: Float64Array; readonly normalized: Float64Array };
  /** Indices of v: from all 2^n Möbius coefficients when the budget covered every mask (recovery 'exact'), whatever
   *  maxOrder; else from its recovered AND expansion. */
  readonly indices: GameIndices;
  /** No split is learned by the sparse method. */
  readonly decomposition: { readonly method: 'none' };
  readonly timings: Readonly<Record<string, number>>;
  /** Where the players sit in the masked input (for drawing them). */
  readonly layout?: InputLayout;
}

/** A game given as a function of bit-packed masks (engine.explainFunction). */
export interface FunctionRequest {
  /** The game: one value per row of the batch (row r, player i present when (bits[r·words + (i>>>5)] >>> (i&31)) & 1).
   *  It may be called again before an earlier call has settled: a synchronous game may return one output buffer it
   *  reuses across calls (it is copied at once); an async game must resolve to values it does not write again. */
  readonly game: (masks: MaskBatch, signal?: AbortSignal) => Float64Array | Promise<Float64Array>;
  /** Players, 1..4096. */
  readonly n: number;
  /** Most evaluations of the game, AND and OR expansions together (default 10 000). */
  readonly budget?: number;
  /** Largest interaction order recovered (default 3). */
  readonly maxOrder?: number;
  /** Noise floor of the search, as a share of |v(N) − v(∅)| (default and 'auto': staged; 0: every non-zero residual is a term). */
  readonly tolerance?: number | 'auto';
  /** Player names (default x0, x1, …). */
  readonly names?: readonly string[];
  /** Salient ratio r of the threshold r · max|I| (default 0.05). */
  readonly salientRatio?: number;
  /** Count the ∅ terms in the salient max (default false). */
  readonly salientIncludeEmpty?: boolean;
  /** Largest order of the interaction indices reported (default 2; 0: none). */
  readonly indexOrder?: number;
  /** Cancels between game calls (CancelledError), and a game call that has not settled: without it, a game that never
   *  settles holds the run (AbortSignal.timeout(ms) bounds it). */
  readonly signal?: AbortSignal;
  /** Evaluations done / planned. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Whether a value is a sparse result (the library form), e.g. what engine.explain returns when 2^n does not fit.
 * @param result - an explain result of either method
 */
export function isSparseResult(result: unknown): result is SparseResult {
  return typeof result === 'object' && result !== null && (result as { method?: unknown }).method === 'sparse' && Array.isArray((result as { and?: unknown }).and);
}

/** The runner's fits on random masks, as the sparse method takes them (in a pool worker where it has workers). */
const fitsOn = (runner: Runner): RandomFitter => (task, signal) => runner.fitRandom(task, signal);

/** What explainFunction takes from the engine. */
export interface FunctionContext {
  readonly runner?: Runner;
  readonly stop?: AbortSignal;
  readonly limits?: Limits;
  readonly onWarning?: WarningSink;
}

/** Below this held-out R², an exact search's (tolerance 0) terms are not all the game's: it says so. */
const EXACT_SEARCH_R2 = 0.999;

/**
 * What a sparse result says of itself, read from it alone: where it ran (here, on a worker) or when it was read back
 * (a cache, the queue's results), each unit's result says the same (a queued run said none of them: an adversarial
 * sweep, stop 44).
 * - An expansion that explains little of v on the masks it never saw: its terms are then a poor account of the model,
 *   however they look in the report.
 * - An exact search (tolerance 0) whose held-out R² is under EXACT_SEARCH_R2: it claims every term it keeps is exact,
 *   so it has missed terms (above maxOrder, or noise).
 * - Indices given to a lower order than asked (analyzeFitting).
 * @param result - the result
 * @param indexOrder - the index order asked (default DEFAULT_INDEX_ORDER)
 * @returns the warnings, each with its kind
 */
export function sparseWarnings(result: Pick<SparseResult, 'n' | 'faithfulness' | 'recovery' | 'evaluations' | 'tolerance' | 'indices'>, indexOrder: number | undefined): [string, WarningKind][] {
  const said: [string, WarningKind][] = [];
  const and = result.faithfulness.r2;
  const or = result.faithfulness.or.r2;
  const tolerance = result.tolerance.requested === 'auto' ? undefined : result.tolerance.requested;
  if (tolerance === 0 && result.recovery !== 'exact' && Math.min(and, or) < EXACT_SEARCH_R2 && Math.min(and, or) >= LOW_FAITHFULNESS) {
    said.push([
      `The exact search (tolerance 0) rebuilds the model's output on masks it never saw with held-out R² ${and.toFixed(3)} for the AND terms and ${or.toFixed(3)} for the OR terms, below ${EXACT_SEARCH_R2}: ` +
        "some of its terms are not the game's (terms above maxOrder, or noise). Leave the tolerance to auto (its expansions are chosen on validation masks), or raise maxOrder.",
      'sparse-unfaithful',
    ]);
  } else if (Math.min(and, or) < LOW_FAITHFULNESS) {
    // a budget of 2^n: every mask was evaluated, and the R² is on all of them; what is missing is beyond maxOrder, or noise
    said.push(
      result.recovery === 'exact'
        ? [
            `The sparse expansions explain little of the model's output on its ${result.evaluations} masks, all evaluated (R² ${and.toFixed(3)} for the AND terms, ${or.toFixed(3)} for the OR terms, below ${LOW_FAITHFULNESS}): ` +
              `the terms above maxOrder, or noise in the game's values (which a Möbius coefficient of order d sums 2^d times), carry the rest. Raise maxOrder, or read the terms as a rough account.`,
            'sparse-unfaithful',
          ]
        : [
            `The sparse expansions explain little of the model's output on masks they never saw (held-out R² ${and.toFixed(3)} for the AND terms, ${or.toFixed(3)} for the OR terms, below ${LOW_FAITHFULNESS}): ` +
              `read their terms as a rough account, not as the model's interactions. Raise the budget (${result.evaluations} evaluations were used)` +
              `${tolerance !== undefined ? ', leave the tolerance to auto (a given tolerance fits no random masks)' : ''}, or group the players into fewer, larger ones.`,
            'sparse-unfaithful',
          ],
    );
  }
  const asked = Math.min(indexOrder ?? DEFAULT_INDEX_ORDER, result.n);
  if (result.indices.order < asked) {
    said.push([
      `The interaction indices to order ${asked} would not fit (more than 2^18 sets, or 2·10⁷ visits, for the subsets of the recovered terms up to that size): they are given to order ${result.indices.order} instead (indices.order), the highest that fits, and the expansions are kept. ` +
        `Give options.indexOrder ≤ ${result.indices.order}, or a lower options.maxOrder, to ask for what fits.`,
      'sparse-indices-lowered',
    ]);
  }
  return said;
}

/**
 * What a sparse explanation holds besides andor's batch buffers, at its budget or a lower one: per evaluation its
 * value and mask (and the mask's copies), the table of v over all 2^n masks at n ≤ 20, and the fits of both
 * expansions at once (pool workers): their masks and the completion's Gram (71 MB at 4096 players).
 * @param n - players
 * @param k - players the recovery runs on (those not at their baseline already)
 * @param choice - budget and maxOrder
 */
function sparseMemory(n: number, k: number, choice: SparseChoice): SparseMemory {
  const perEvaluation = BYTES_PER_EVALUATION + MASK_COPIES * 4 * Math.ceil(n / 32);
  // a budget of 2^k or more evaluates each of the 2^k masks once (recoverAndOr's exact recovery): no more is held
  const bytes = (asked: number) => {
    const budget = k <= MAX_EXACT_PLAYERS ? Math.min(asked, 2 ** k) : asked;
    return budget * perEvaluation + (n <= 20 ? 9 * 2 ** n : 0) + 2 * fitBytes(k, choice.maxOrder, budget);
  };
  return { bytes, budget: choice.budget, least: leastAndOrBudget(k, choice.maxOrder) };
}

/** Options of the sparse method only: given with method 'exact' they are refused; given without a method they choose
 *  the sparse method. */
export const SPARSE_ONLY = ['budget', 'maxOrder', 'tolerance'] as const;

/** The resolved budget and order of one sparse explanation. */
interface SparseChoice {
  readonly budget: number;
  /** The recovery's: min(requested, k). */
  readonly maxOrder: number;
  /** The caller's (or the default), as the result reports it. */
  readonly requested: number;
  /** undefined: auto. */
  readonly tolerance?: number;
}

/**
 * Validates budget and maxOrder for n players against the limits, and fills the defaults. The recovery runs on the k
 * players that change the input (the others are at their baseline: null players), so the least budget, the service's
 * budget ceiling and the default budget are those of k players, at order min(maxOrder, k); the player limit and
 * maxOrder ≤ n are checked against all n, as the caller gave them.
 * @param k - the players the recovery runs on; n when none is at its baseline
 * @param idle - the players at their baseline (n − k, or n when all are: the recovery then keeps one, k = 1)
 * @returns the choice: the recovery's maxOrder, min(maxOrder, k), and the requested one the result reports
 * @throws InvalidOptionError naming the field, the limit and the fix
 */
function chooseBudget(request: { readonly budget?: number; readonly maxOrder?: number; readonly tolerance?: number | 'auto' }, n: number, limits: SparseLimits, k = n, idle = n - k): SparseChoice {
  const maxPlayers = Math.min(MAX_SPARSE_PLAYERS, limits.maxSparsePlayers ?? MAX_SPARSE_PLAYERS);
  if (n > maxPlayers) {
    throw new InvalidOptionError(
      limits.maxSparsePlayers !== undefined && limits.maxSparsePlayers < MAX_SPARSE_PLAYERS
        ? `${n} players exceed this service's limit of ${maxPlayers} players for the sparse method (maxSparsePlayers / --max-sparse-players). Choose at most ${maxPlayers} players (fewer units, a coarser grid or fewer clusters).`
        : `${n} players are above the sparse method's limit of ${MAX_SPARSE_PLAYERS}. Group players (larger image patches, token spans or point clusters) so that n ≤ ${MAX_SPARSE_PLAYERS}.`,
    );
  }
  const requested = request.maxOrder ?? Math.min(DEFAULT_MAX_ORDER, n);
  if (requested > n) throw new InvalidOptionError(`options.maxOrder = ${requested} is above the number of players (n = ${n}); give a maxOrder in 1..${n}.`);
  const maxOrder = Math.min(requested, k);
  const least = leastAndOrBudget(k, maxOrder);
  const ceiling = limits.maxBudget ?? Infinity;
  if (request.budget !== undefined && request.budget > ceiling) {
    throw new InvalidOptionError(`options.budget = ${request.budget} is above this service's limit of ${ceiling} evaluations (maxBudget / --max-budget). Ask for at most ${ceiling}.`);
  }
  const players = k === n
    ? `n = ${n} players`
    : idle === n
      ? `the one player the recovery keeps of the ${n} (all ${n} are at their baseline already: every mask is the same input)`
      : `the ${k} of the ${n} players not at their baseline already (the other ${idle} change no input and need no evaluation)`;
  // the order asked for, and the one the recovery runs at when fewer players are left; lowering maxOrder helps only
  // below the latter (an adversarial sweep, stop 45: "maxOrder = 1" named for a request of 64)
  const order = maxOrder < requested ? `maxOrder = ${requested} (order ${maxOrder} on ${k === 1 ? 'that player' : `those ${k}`})` : `maxOrder = ${maxOrder}`;
  if (least > ceiling) {
    throw new InvalidOptionError(
      `${order} at ${players} needs at least ${least} evaluations, above this service's limit of ${ceiling} (maxBudget / --max-budget). Lower maxOrder${maxOrder < requested ? ` below ${maxOrder}` : ''} or the number of players.`,
    );
  }
  if (request.budget !== undefined && request.budget < least && k < n) {
    // recoverAndOr would name n = k, a count the caller never gave
    const who = idle === n
      ? `all ${n} players are at their baseline already (the sample equals its baseline there: every mask is the same input), and the recovery runs on one of them, which needs at least ${least} evaluations`
      : `of the ${n} players, ${idle} are at their baseline already (they change no input), and the other ${k} need at least ${least} evaluations`;
    const every = least === 2 ** k ? ` (every one of ${k === 1 ? 'its 2' : `their 2^${k}`} masks)` : '';
    const lower = maxOrder > 1 ? ` or lower options.maxOrder${maxOrder < requested ? ` below ${maxOrder}` : ''}` : '';
    throw new InvalidOptionError(`options.budget = ${request.budget} is too small for ${order}: ${who}${every}. Raise options.budget to ≥ ${least}${lower}.`);
  }
  const wanted = Math.max(DEFAULT_SPARSE_BUDGET, least);
  const budget = request.budget ?? Math.min(ceiling, k <= 20 ? Math.min(2 ** k, wanted) : wanted);
  // recoverAndOr checks budget ≥ least when k = n and states the least in its message
  return { budget, maxOrder, requested, tolerance: request.tolerance === 'auto' ? undefined : request.tolerance };
}

/** Throws when a request tunes the learned split, which the sparse method does not learn. */
function assertNoSplitOptions(request: object, why: string): void {
  const given = SPLIT_OPTIONS.filter((k) => (request as Record<string, unknown>)[k] !== undefined);
  if (given.length === 0) return;
  throw new InvalidOptionError(
    `options.${given.join(', options.')} ${given.length === 1 ? 'tunes' : 'tune'} the learned AND-OR split, which the sparse method does not learn (${why}; its AND terms are the Möbius terms of v and its OR terms those of the complement game: decomposition none). ` +
      `Leave them out, or use method 'exact' on at most the players 2^n allows${(request as { solver?: unknown }).solver === 'lp' ? ` (solver "lp": at most ${LP_MAX_PLAYERS})` : ''}.`,
  );
}

/** Salient ratio, ∅ in the max, index order: as the exact path validates them. */
function termOptions(request: { readonly salientRatio?: number; readonly salientIncludeEmpty?: boolean; readonly indexOrder?: number }) {
  return {
    salientRatio: request.salientRatio === undefined ? 0.05 : numberIn(request.salientRatio, 0, 1, 'options.salientRatio'),
    salientIncludeEmpty: request.salientIncludeEmpty === undefined ? false : bool(request.salientIncludeEmpty, 'options.salientIncludeEmpty'),
    indexOrder: request.indexOrder ?? DEFAULT_INDEX_ORDER,
  };
}

/** Analysis of the game of the kept players (player j = kept[j]) as the game of all n: the others' terms and index
 *  values are 0 (null players: no term of v holds one). The indices' order is min(indexOrder, n), the whole game's:
 *  each index equals its value at any order from the largest term's on, and no term is larger than the kept count. */
function liftAnalysis(analysis: ReturnType<typeof analyzeTerms>, kept: readonly number[], n: number, indexOrder: number): ReturnType<typeof analyzeTerms> {
  const lift = <T extends { readonly players: readonly number[] }>(terms: readonly T[]) => terms.map((t) => ({ ...t, players: t.players.map((j) => kept[j]) }));
  const scatter = (values: Float64Array) => {
    const out = new Float64Array(n);
    kept.forEach((i, j) => (out[i] = values[j]));
    return out;
  };
  const pad = (perOrder: Float64Array) => {
    const out = new Float64Array(n + 1);
    out.set(perOrder);
    return out;
  };
  const { indices, orders } = analysis;
  return {
    ...analysis,
    salient: lift(analysis.salient),
    orders: { positive: pad(orders.positive), negative: pad(orders.negative), normalized: pad(orders.normalized) },
    indices: {
      ...indices, order: Math.min(indexOrder, n), shapley: scatter(indices.shapley), banzhaf: scatter(indices.banzhaf),
      sii: lift(indices.sii), kSii: lift(indices.kSii), stii: lift(indices.stii), fsii: lift(indices.fsii), bii: lift(indices.bii), chii: lift(indices.chii), fbii: lift(indices.fbii),
    },
  };
}

/**
 * analyzeTerms at the asked index order, or else at the highest lower one whose sets fit (indices.ts refuses sets
 * that would exhaust the heap; sparseWarnings says so): the expansions cost the budget's evaluations, and a refusal after
 * them lost those (one term of order 50 at index order 6: 200 000 evaluations, then MemoryLimitError; stop 43).
 * Order 0 (Shapley and Banzhaf values only) visits each term's players once, and always fits.
 */
function analyzeFitting(and: readonly SparseTerm[], or: readonly SparseTerm[], n: number, options: ReturnType<typeof termOptions>, mobius: Float64Array | undefined): ReturnType<typeof analyzeTerms> {
  for (let order = Math.min(options.indexOrder, n); ; order--) {
    try {
      return analyzeTerms(and, or, n, { ...options, indexOrder: order }, mobius);
    } catch (error) {
      if (!(error instanceof MemoryLimitError) || order === 0) throw error;
    }
  }
}

/** The parts of a sparse result computed from the two expansions and the choice that ran them, shifted by v0 for the
 *  -v0 rewards. The expansions may be of the kept players only (player j = kept[j]; the others are null players). */
function fromExpansions(recovered: AndOrExpansion, choice: SparseChoice, n: number, v0: number, options: ReturnType<typeof termOptions>, kept?: readonly number[]) {
  const shift = (terms: readonly SparseTerm[]) => terms.map((t) => (t.players.length === 0 ? { players: t.players, value: t.value - v0 } : t));
  const started = performance.now();
  // the indices of an exact recovery come from its 2^n Möbius coefficients: shifted too (a copy, ∅ at index 0)
  const mobius = recovered.and.mobius && v0 !== 0 ? recovered.and.mobius.slice() : recovered.and.mobius;
  if (mobius && v0 !== 0) mobius[0] -= v0;
  const reduced = analyzeFitting(shift(recovered.and.terms), shift(recovered.or.terms), recovered.n, options, mobius);
  // lifted to all n players: at the asked order, unless it was lowered to fit
  const lowered = reduced.indices.order < Math.min(options.indexOrder, recovered.n);
  const analysis = kept ? liftAnalysis(reduced, kept, n, lowered ? reduced.indices.order : options.indexOrder) : reduced;
  const toPlayers = (terms: readonly SparseTerm[]) => (kept ? terms.map((t) => ({ ...t, players: t.players.map((j) => kept[j]) })) : terms);
  const and = toPlayers(shift(recovered.and.terms));
  const or = toPlayers(shift(recovered.or.terms));
  const { and: a, or: o } = recovered;
  return {
    method: 'sparse' as const,
    n,
    recovery: recovered.recovery,
    budget: recovered.budget,
    evaluations: recovered.evaluations,
    maxOrder: choice.requested,
    tolerance: { requested: choice.tolerance ?? ('auto' as const), and: a.tolerance ?? null, or: o.tolerance ?? null },
    fit: { and: a.fit ?? null, or: o.fit ?? null },
    faithfulness: { r2: a.faithfulness.r2, heldOut: a.faithfulness.heldOut, or: { r2: o.faithfulness.r2, heldOut: o.faithfulness.heldOut } },
    values: { empty: recovered.values.empty - v0, full: recovered.values.full - v0 },
    and,
    or,
    ...analysis,
    decomposition: { method: 'none' as const },
    interactionsMs: performance.now() - started,
  };
}

/**
 * The sparse method for explainModel: takes a request with method 'sparse', with a budget or maxOrder, or (no
 * method given) whose 2^n arrays do not fit the memory (maxMemoryMb, the kernels' 4 GiB: 24 players). maxPlayers
 * stays the exact method's limit: beyond it and within memory, the exact method refuses and names method sparse.
 * @param limits - the service's tighter limits, if any
 * @returns the dispatch explainModel calls once n is known
 */
/** The exact method only: refuses the sparse method's options, so a library call stays exact (explain's default). */
export const exactMethod: MethodDispatch<SparseResult> = {
  takes(request: ExplainRequest): boolean {
    const stray = SPARSE_ONLY.filter((k) => request[k] !== undefined);
    if (stray.length > 0) throw new InvalidOptionError(`options.${stray.join(' and options.')} ${stray.length === 1 ? 'applies' : 'apply'} to method 'sparse' only; give method: 'sparse' with ${stray.length === 1 ? 'it' : 'them'}, or leave ${stray.length === 1 ? 'it' : 'them'} out.`);
    return false;
  },
  run: () => {
    throw new InvalidOptionError('The exact method does not run sparse explanations.');
  },
};

export function sparseMethod(limits: SparseLimits = {}): MethodDispatch<SparseResult> {
  return {
    takes(request: ExplainRequest, n: number, exactLimits: Limits): boolean {
      if (request.method === 'exact') {
        const stray = SPARSE_ONLY.filter((k) => request[k] !== undefined);
        if (stray.length > 0) throw new InvalidOptionError(`options.${stray.join(' and options.')} ${stray.length === 1 ? 'applies' : 'apply'} to method 'sparse' only; leave ${stray.length === 1 ? 'it' : 'them'} out with method 'exact', or use method 'sparse'.`);
        return false;
      }
      if (request.method === 'sparse') return true;
      return SPARSE_ONLY.some((k) => request[k] !== undefined) || !masksFitMemory(n, exactLimits);
    },
    run: (ctx, prepared) => explainSparse(ctx, prepared, limits),
  };
}

/** The sparse explanation of a prepared model explanation: probe and target, the game through the runner, both
 *  expansions, and the report. */
async function explainSparse(ctx: ExplainContext, prepared: PreparedExplain, limits: SparseLimits): Promise<SparseResult> {
  const { request, model, layout, timings, started } = prepared;
  const n = layout.n;
  const given = SPARSE_ONLY.filter((k) => request[k] !== undefined);
  assertNoSplitOptions(
    request,
    request.method === 'sparse'
      ? "method 'sparse'"
      : given.length > 0
        ? `options.${given.join(' and options.')} ${given.length === 1 ? 'is' : 'are'} given, so method sparse was chosen`
        : `the 2^${n} masks do not fit the memory limit, so method sparse was chosen`,
  );
  const options = termOptions(request);
  const names = request.names ? checkNames(request.names, n) : layout.names;
  // the game's calls are small (8–64 masks per search step of the adaptive method): with a dynamic batch axis the
  // runner runs each as it is, unpadded, in batches of at most the plan's size
  const probePlan = prepared.plan;
  // players already at their baseline change no input (null-players.ts): the recovery runs on the game of the others,
  // with their budget (all 2^(n−k) masks when that is within it), and their terms are mapped back
  const kept = changingPlayers(probePlan);
  const choice = chooseBudget(request, n, limits, kept.length, nullPlayers(probePlan).length);
  assertPlanFits(probePlan, model.outputs, ctx.limits, ctx.runner.workers, sparseMemory(n, kept.length, choice));
  const full = await probeSample(ctx.runner, model, probePlan);
  assertClassNames(prepared.set, prepared.kind, full, prepared.output);
  const target = resolveTarget(prepared.kind, request.target, prepared.sample.label, full, prepared.output, prepared.unit ? prepared.sample : undefined);
  const plan: MaskPlan = { ...probePlan, reward: { kind: prepared.kind, target, output: prepared.output } };
  const reduced = kept.length < n ? keepPlayers(plan, kept) : plan;
  const game: GameFunction = (masks, signal) => ctx.runner.evaluateMasks(model.key, reduced, masks, { signal });

  const recoverStart = performance.now();
  const recovered = await recoverAndOr(game, reduced.n, { ...choice, kernels: ctx.kernels, fitRandom: fitsOn(ctx.runner), signal: request.signal, onProgress: request.onProgress });
  const recoverMs = performance.now() - recoverStart;
  assertRowsIndependent(rewardOf(plan.reward, full), recovered.values.full, plan);
  const v0 = prepared.rewardName.endsWith('-v0') ? recovered.values.empty : 0;
  const { interactionsMs, ...report } = fromExpansions(recovered, choice, n, v0, options, reduced === plan ? undefined : kept);
  for (const [message, kind] of sparseWarnings(report, request.indexOrder)) ctx.onWarning?.(message, kind);
  const set = prepared.set;
  return {
    ...report,
    players: names,
    model: { file: prepared.file, sha256: prepared.sha256, backend: model.backend, executionProvider: model.executionProvider, input: layout.masked.name, output: prepared.output },
    sample: { id: prepared.sample.id, label: prepared.sample.label, row: prepared.row },
    target,
    ...(set?.classes?.[target] !== undefined ? { targetName: String(set.classes[target]) } : {}),
    reward: prepared.rewardName,
    baseline: typeof request.baseline === 'string' || request.baseline === undefined ? (request.baseline ?? 'zero') : 'given',
    timings: { ...timings, evaluateMs: recovered.gameMs, recoverMs: recoverMs - recovered.gameMs, interactionsMs, totalMs: performance.now() - started },
    layout: prepared.input,
  };
}

/**
 * Explains a game given as a function of bit-packed masks, by the sparse method: for models evaluated elsewhere.
 * @param request - the game, n, budget, maxOrder, names, salient and index options, signal, onProgress
 * @param kernels - the engine's compiled kernels (the auto search's low-order completion)
 * @param engine - the engine's runner (the auto search's fits on random masks run there, a pool worker; default
 *   here), its own stop (its dispose(): cancels the run as the request's signal does), its memory limit (the term
 *   lists and fits must fit it) and its warnings (a low faithfulness)
 * @returns the sparse result (reward 'given', no model or sample)
 * @throws InvalidOptionError for a bad option or a budget below the least (stated); InvalidInputError when the game
 *   throws (cause attached) or returns no array; ShapeMismatchError for a wrong count; NonFiniteError for NaN or ±Inf;
 *   CancelledError when the signal fires; DisposedError when the engine is disposed meanwhile; MemoryLimitError
 */
export async function explainFunction(request: FunctionRequest, kernels: KernelHost, engine: FunctionContext = {}): Promise<SparseResult> {
  const { runner, stop, limits } = engine;
  assertValid(FunctionRequestSchema, request);
  if (typeof request.game !== 'function') throw new InvalidOptionError(`options.game must be a function (masks, signal) => Float64Array, one value per mask row (got ${typeof request.game}).`);
  assertCallbacks(request);
  const started = performance.now();
  const { n } = request;
  const options = termOptions(request);
  const choice = chooseBudget(request, n, {});
  if (limits) assertSparseFits(limits, sparseMemory(n, n, choice));
  const names = request.names ? checkNames(request.names, n) : Array.from({ length: n }, (_, i) => `x${i}`);
  const signal = stop && request.signal ? AbortSignal.any([request.signal, stop]) : (stop ?? request.signal);
  const recovered = await recoverAndOr(request.game, n, {
    ...choice, kernels, ...(runner ? { fitRandom: fitsOn(runner) } : {}), signal, onProgress: request.onProgress,
  }).catch((error: unknown) => {
    // the engine's dispose() ends the run as it ends a model's, with DisposedError (the recovery says it was cancelled)
    if (stop?.aborted && !request.signal?.aborted && error instanceof CancelledError) throw new DisposedError('The engine was disposed while the explanation ran.', { cause: error });
    throw error;
  });
  const recoverMs = performance.now() - started;
  const { interactionsMs, ...report } = fromExpansions(recovered, choice, n, 0, options);
  for (const [message, kind] of sparseWarnings(report, request.indexOrder)) engine.onWarning?.(message, kind);
  return {
    ...report,
    players: names,
    reward: 'given',
    timings: { evaluateMs: recovered.gameMs, recoverMs: recoverMs - recovered.gameMs, interactionsMs, totalMs: performance.now() - started },
  };
}
