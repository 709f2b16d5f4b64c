// Units of work: one (model, sample) explanation with its options, named by the content of everything that shapes
// it. Batch explanations and dynamics runs are lists of units; an executor runs them: locally (this process's pool,
// with the disk cache) or elsewhere (a job queue; see engine/distributed/). Results come back in unit order, each
// reported as it finishes; a signal stops the run after the units in flight settle.
import { CancelledError, EngineError, InvalidOptionError, ShapeMismatchError, reviveError } from '../contracts/errors.js';
import { analysisSettings, type AnalysisSettings } from '../analysis/game.js';
import { changingPlayers, keepPlayers } from '../pipeline/null-players.js';
import type { MaskPlan } from '../pipeline/plan.js';
import type { Sample, SampleSet } from '../inputs/samples.js';
import { cacheKey, optionsDigest, sampleDigest, type ResultCache } from './cache.js';
import { withConventions } from './conventions.js';
import { baselineFields, playerFields, rewardFields } from '../contracts/schema/fields.js';
import { checkRequest, explainModel, type ExplainContext, type ExplainRequest, type ExplainResult, type MethodDispatch } from './explain.js';
import { exactMethod, isSparseResult, SPARSE_ONLY, sparseMethod, sparseWarnings, type SparseLimits, type SparseResult } from './sparse.js';
import type { WarningKind } from './warnings.js';
import { restoreResult, storeResult } from './stored-result.js';

/** The options every unit of a run shares: an explain request without its model, sample, row, target and callbacks. */
export type UnitOptions = Omit<ExplainRequest, 'model' | 'sample' | 'row' | 'target' | 'signal' | 'onProgress'>;

/** What a unit gives: an exact result, or a sparse one when its options ask for the sparse method. */
export type UnitResult = ExplainResult | SparseResult;

/** One explanation to run. */
export interface ExplainUnit {
  /** sha256 of everything that shapes the result: the cache key and the queue's job key. */
  readonly key: string;
  readonly model: { readonly bytes: Uint8Array; readonly sha256: string; readonly file?: string };
  readonly sample: Sample;
  readonly row: number;
  /** The class explained (undefined: the sample's predicted class). */
  readonly target?: number;
  readonly options: UnitOptions;
  /** The names a sample file gives (its features and classes), which shape the result's player and class names. */
  readonly names: { readonly features?: readonly string[]; readonly classes?: readonly string[] };
}

/** How a run of units goes. */
export interface UnitRunOptions {
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  /** Called as each unit finishes, in completion order. */
  readonly onResult?: (index: number, result: UnitResult, cached: boolean) => void | Promise<void>;
  /** The caller's engine context: an executor that splits units into shards of masks runs their gathering (and
   *  transforms) in it. */
  readonly context?: ExplainContext;
  /** false: results reach onResult only and are not kept for the returned list (it stays empty), so a caller that
   *  keeps a smaller form of each does not hold every result at once (default true). */
  readonly keep?: boolean;
}

/** Runs units and hands back their results in unit order, with whether each came from a cache. */
export interface UnitExecutor {
  run(units: readonly ExplainUnit[], options: UnitRunOptions): Promise<{ readonly results: UnitResult[]; readonly cached: boolean[] }>;
}

/**
 * Builds a unit, keyed by content.
 * @param model - the model's bytes and hash
 * @param sample - the sample (its values, shape, label and tokens are part of the key)
 * @param row - its row in the sample file (reported in the result, so part of the key)
 * @param options - the shared options (already with reference rows loaded, not paths)
 * @param names - the sample file's feature and class names
 */
export function explainUnit(model: ExplainUnit['model'], sample: Sample, row: number, options: UnitOptions, names: ExplainUnit['names'], target = sample.label): ExplainUnit {
  // the options as the run resolves them; refused ones as given (under another field, so the two never meet)
  const resolved = resolvedUnitOptions(options);
  const keyed = resolved === undefined ? { options } : { resolved };
  const key = cacheKey('explain', model.sha256, sampleDigest(sample), optionsDigest({ ...keyed, names, target: target ?? null }), String(row));
  return { key, model, sample, row, target, options, names };
}

/** A field's documented default (its schema's `default`). */
const defaultOf = (field: object): unknown => (field as { default?: unknown }).default;

/** The reward a request without one reads (explain.ts, explainModel): the schema's documented default. */
const DEFAULT_REWARD = defaultOf(rewardFields.reward);

/** Defaults that only some modalities read, each read there as if left out (explain.ts, buildPlan; players.ts), as the
 *  schema documents them; given to another modality they are refused (explain.ts, MODALITY_OPTIONS), so they are kept
 *  as given there. A test runs both spellings and compares the results. */
const MODALITY_DEFAULTS: readonly (readonly [keyof UnitOptions, unknown, readonly (ExplainRequest['modality'] | undefined)[]])[] = [
  ['baseline', defaultOf(baselineFields.baseline), [undefined, 'tabular', 'image', 'pointcloud']],
  ['grid', defaultOf(playerFields.grid), ['image']],
  ['maskMode', defaultOf(playerFields.maskMode), ['text']],
  ['clusters', defaultOf(playerFields.clusters), ['pointcloud']],
];

/**
 * A unit's options as its run resolves them, for its key: the conventions' defaults filled, the method named
 * ('sparse' or 'exact', as runUnit picks it), the analysis and split settings as analysisSettings resolves them, and a
 * default that is read as if left out (tolerance 'auto' of the sparse method, reward 'gt-log-odds', baseline 'zero'
 * and the others of MODALITY_DEFAULTS) left out. Two spellings of one computation give one form; options that differ
 * in anything the run reads give two: every field not named here is kept as given. Left as given, because the run
 * resolves them from what only it knows: budget (its default depends on the players not at their baseline and the
 * service's maxBudget), maxOrder (min(3, n), and 3 is refused below 3 players), players, modality (left out, the
 * run also refuses an input that is not a vector) and batchSize (automatic).
 * @param options - a unit's options, as given
 * @returns the resolved form, or undefined when the options are refused whatever the sample (the run then refuses
 *   them before computing anything, so nothing is ever stored under their key)
 */
export function resolvedUnitOptions(options: UnitOptions): Record<string, unknown> | undefined {
  let filled: UnitOptions;
  let settings: AnalysisSettings;
  try {
    filled = withConventions(options);
    settings = analysisSettings(filled, 'options');
  } catch (error) {
    if (error instanceof InvalidOptionError) return undefined; // checkRequest refuses them at the start of the run
    throw error;
  }
  const sparse = asksSparse(filled);
  // another method's name, or method 'exact' with an option of the sparse method only: refused (sparse.ts)
  if (![undefined, 'exact', 'sparse'].includes(filled.method)) return undefined;
  if (!sparse && SPARSE_ONLY.some((k) => filled[k] !== undefined)) return undefined;
  const { conventions: _conventions, method: _method, tolerance, reward, decomposition, salientRatio: _ratio, salientIncludeEmpty: _empty, indexOrder: _order, preset, solver, iterations, lr, qthres, ...rest } = filled;
  const kept: Record<string, unknown> = { ...rest, method: sparse ? 'sparse' : 'exact', reward: reward === DEFAULT_REWARD ? undefined : reward };
  for (const [field, value, modalities] of MODALITY_DEFAULTS) if (kept[field] === value && modalities.includes(filled.modality)) kept[field] = undefined;
  const { decomposition: split, learning, ...terms } = settings;
  // the sparse method reads tolerance 'auto' as none (sparse.ts, chooseBudget), and learns no split: a split option
  // given to it is refused by its run, kept as given here
  if (sparse) return { ...kept, tolerance: tolerance === 'auto' ? undefined : tolerance, terms, split: { decomposition, preset, solver, iterations, lr, qthres } };
  return { ...kept, terms, split: { decomposition: split, ...learning } };
}

/** Masks start..end−1 of a unit, evaluated alone: a shard. `batch` is the rows per model run of the whole unit's
 *  evaluation where the shards are gathered (start is a multiple of it), so each reward is the one a local run gives;
 *  `target` is the class the gathering side resolved (a shard never probes the model for it). The masks are those of
 *  the unit's `players` changing players (null-players.ts: players at their baseline are left out, as a local run
 *  leaves them out), whose count both sides must agree on. */
export interface ShardSpec {
  readonly start: number;
  readonly end: number;
  readonly batch: number;
  readonly target: number;
  /** Players the masks range over: the unit's changing players (2^players masks in all). */
  readonly players: number;
}

/** The content key of a unit's shard: the unit's key with the range, the batch and the target. */
export function shardKey(unit: Pick<ExplainUnit, 'key'>, shard: ShardSpec): string {
  return cacheKey('shard', unit.key, String(shard.start), String(shard.end), String(shard.batch), String(shard.target), String(shard.players));
}

/**
 * Evaluates one shard of a unit in this process: the unit's plan (players, baseline, reward) with the shard's target
 * and batch, over the shard's masks only, of its changing players as the gathering side counts them (a local run's
 * game, whose masks leave out the players at their baseline). The transforms run where the shards are gathered.
 * @param ctx - the engine's runner and limits
 * @param unit - the unit
 * @param shard - the masks, batch and target
 * @param signal - cancels it
 * @returns the rewards of masks start..end−1
 * @throws ShapeMismatchError when the range does not fit the unit's masks or is not aligned to the batch, or when this
 *   process finds another count of changing players than the shard was planned for
 */
export async function runShard(ctx: ExplainContext, unit: ExplainUnit, shard: ShardSpec, signal?: AbortSignal): Promise<Float64Array> {
  const { start, end, batch, target, players } = shard;
  const evaluate: MethodDispatch<Float64Array> = {
    takes: () => true,
    run: async (context, prepared) => {
      const whole: MaskPlan = { ...prepared.plan, batchSize: batch, reward: { kind: prepared.kind, target, output: prepared.output } };
      const kept = changingPlayers(whole);
      if (kept.length !== players) {
        throw new ShapeMismatchError(
          `Shard ${start}..${end - 1} of unit ${unit.key} ranges over the masks of ${players} changing players, but this process finds ${kept.length} of ${prepared.layout.n} ` +
            'players not at their baseline: the client and this worker read the sample differently (different andor versions?). Run the same version on both.',
        );
      }
      const size = 2 ** players;
      if (!Number.isInteger(batch) || batch < 1 || start % batch !== 0 || end > size) {
        throw new ShapeMismatchError(`Shard ${start}..${end - 1} of unit ${unit.key} does not fit its ${size} masks in batches of ${batch} rows (start must be a multiple of the batch).`);
      }
      const plan = kept.length < prepared.layout.n ? keepPlayers(whole, kept) : whole;
      return context.runner.evaluate(prepared.model.key, plan, { range: { start, end }, signal });
    },
  };
  // `evaluate` takes every request, so explainModel answers with its rewards
  return withUnitNamed(unit, () => explainModel(ctx, unitRequest(unit, signal), { ...unitSource(unit), other: evaluate }) as Promise<Float64Array>);
}

/** Whether a unit's options ask for the sparse method: method 'sparse', or an option only it takes (budget, maxOrder,
 *  tolerance). Units never switch method on their own (as explain does when 2^n does not fit): what a unit computes
 *  follows from its options, which its key holds. */
export function asksSparse(options: Pick<ExplainRequest, 'method' | (typeof SPARSE_ONLY)[number]>): boolean {
  return options.method === 'sparse' || (options.method === undefined && SPARSE_ONLY.some((k) => options[k] !== undefined));
}

/**
 * Runs one unit in this process.
 * @param ctx - the engine's runner, kernels and limits
 * @param unit - the unit
 * @param signal - cancels it
 * @param limits - the caller's limits on the sparse method (a service's)
 */
export async function runUnit(ctx: ExplainContext, unit: ExplainUnit, signal?: AbortSignal, limits: SparseLimits = {}): Promise<UnitResult> {
  // with method 'exact' given, the sparse dispatch takes nothing and refuses the sparse options under that name; with
  // no method and none of them, the exact method (a unit never switches on its own)
  const other = asksSparse(unit.options) || unit.options.method === 'exact' ? sparseMethod(limits) : exactMethod;
  const request = unitRequest(unit, signal);
  // what is wrong with the options whatever the sample is said as it is, not as this unit's model and row
  checkRequest(request);
  const result = await withUnitNamed(unit, () => explainModel(ctx, request, { ...unitSource(unit), other }));
  return { ...result, model: result.model && { ...result.model, file: unit.model.file } };
}

/**
 * The warnings a unit's result says, read from the result alone, so that a unit says the same wherever it ran (here,
 * on a queue's worker, whose warnings went to its own stderr) and when it is read back from a cache or the queue's
 * results (a queued run said none; an adversarial sweep, stop 44): a decomposition that diverged, and what
 * sparseWarnings reads. The studies say each kind once (warnings.ts) and leave these kinds out of the units' runs.
 * @param unit - the unit (its index order)
 * @param result - its result
 */
export function unitWarnings(unit: ExplainUnit, result: UnitResult): [string, WarningKind][] {
  if (isSparseResult(result)) return sparseWarnings(result, unit.options.indexOrder);
  return result.decomposition.warning === undefined ? [] : [[result.decomposition.warning, 'split-diverged']];
}

/** A unit's sample set, its model as already hashed (the unit's key holds its sha256), and whether its target is its
 *  sample's label (as every batch and dynamics unit's is). */
function unitSource(unit: ExplainUnit): { from: SampleSet; loaded: ExplainUnit['model']; unit: boolean } {
  return { from: { samples: [unit.sample], source: unit.model.file ?? 'unit', ...unit.names }, loaded: unit.model, unit: unit.target === unit.sample.label };
}

function unitRequest(unit: ExplainUnit, signal: AbortSignal | undefined): ExplainRequest {
  return { ...unit.options, model: unit.model.bytes, sample: unit.sample, row: unit.row, ...(unit.target === undefined ? {} : { target: unit.target }), signal };
}

/** Runs fn; an engine error it throws names the unit's model file and row (the model went in as bytes: which
 *  checkpoint among many, which row failed). */
async function withUnitNamed<T>(unit: ExplainUnit, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof EngineError) || error instanceof CancelledError) throw error;
    const named = reviveError({ name: error.name, code: error.code, message: `${unit.model.file ?? `model ${unit.model.sha256.slice(0, 12)}`}, sample row ${unit.row}: ${error.message}` });
    Object.defineProperty(named, 'cause', { value: error, enumerable: false });
    throw named;
  }
}

/**
 * Runs units with a fixed number in flight; the first failure (of a unit, or of onResult on its result) stops the
 * scheduling of new units, and every unit in flight settles before the call returns or throws (so nothing writes
 * after it ends).
 * @param units - what to run
 * @param options - concurrency, signal, onResult
 * @param one - runs one unit: its result and whether it came from a cache
 * @param caching - whether finished units are cached (a cancellation's message says whether a rerun resumes)
 * @throws the first unit's error; CancelledError when the signal aborts
 */
export async function runPool(units: readonly ExplainUnit[], options: UnitRunOptions, one: (unit: ExplainUnit) => Promise<{ result: UnitResult; cached: boolean }>, caching = true) {
  const kept = caching ? 'finished units are cached and a rerun resumes from them' : 'nothing is cached (no cache folder), so a rerun starts again';
  const results: UnitResult[] = new Array(units.length);
  const cached: boolean[] = new Array(units.length).fill(false);
  let next = 0;
  let finished = 0;
  let stop = false;
  const worker = async () => {
    while (next < units.length && !stop) {
      if (options.signal?.aborted) throw new CancelledError(`The run was cancelled; ${kept}.`);
      const index = next++;
      const failing = (error: unknown): never => {
        stop = true;
        throw error;
      };
      const done = await one(units[index]).catch(failing);
      if (options.keep !== false) results[index] = done.result;
      cached[index] = done.cached;
      finished++;
      try {
        await options.onResult?.(index, done.result, done.cached);
      } catch (error) {
        failing(error);
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(options.concurrency, units.length)) }, worker));
  // a cancelled run says so as a whole, whichever unit noticed first
  if (options.signal?.aborted) throw new CancelledError(`The run was cancelled after ${finished} of ${units.length} units; ${kept}.`);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return { results, cached };
}

/** The key a unit's result is cached under here: the unit's, or, where the caller's maxBudget is the budget of a
 *  sparse unit that gives none (sparse.ts, chooseBudget), the unit's with that cap, so that a capped result is never
 *  read back by a run without the cap (or with another one). */
function cachedUnder(unit: ExplainUnit, limits: SparseLimits): string {
  const capped = limits.maxBudget !== undefined && asksSparse(unit.options) && unit.options.budget === undefined;
  return capped ? cacheKey('capped', unit.key, String(limits.maxBudget)) : unit.key;
}

/**
 * The executor of this process: each unit from the disk cache when it is there, else run in the pool and cached. A
 * cache that cannot be written (a read-only folder, a full disk) costs the run its resumability, not its results: it
 * is said once (ctx.onWarning) and the run goes on.
 * @param ctx - the engine's runner, kernels, limits and warnings
 * @param cache - the result cache, or undefined for none
 * @param limits - the caller's limits on the sparse method (a service's)
 */
export function localExecutor(ctx: ExplainContext, cache: ResultCache | undefined, limits: SparseLimits = {}): UnitExecutor {
  let warned = false;
  const unwritable = (error: NodeJS.ErrnoException) => {
    if (warned) return;
    warned = true;
    ctx.onWarning?.(`Cannot write to the cache folder ${cache?.dir} (${error.code ?? error.message}): the run goes on, but its results are not cached and a rerun computes them again. Give a writable folder (--cache DIR) to resume runs.`);
  };
  return {
    run: (units, options) =>
      runPool(units, options, async (unit) => {
        const key = cachedUnder(unit, limits);
        const stored = await cache?.get(key);
        const hit = stored === undefined ? undefined : restoreResult(unit, stored, key);
        if (hit) return { result: hit, cached: true };
        const result = await runUnit(ctx, unit, options.signal, limits);
        await cache?.put(key, storeResult(unit.sample, result, key)).catch(unwritable);
        return { result, cached: false };
      }, cache !== undefined),
  };
}
