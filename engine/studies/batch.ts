// Many samples of one model in one run: each sample explained (or taken from the content-addressed cache, so a rerun
// resumes), handed to the caller as soon as it is ready (the CLI streams JSON lines), and aggregated: the mean and
// spread of each salient interaction over samples, overall and per class, per-order strength, and every sample's
// Shapley values. Progress carries an ETA; an AbortSignal stops it with nothing half-written.
import { InvalidInputError } from '../contracts/errors.js';
import { distribution, playersOfMask } from '../analysis/interactions.js';
import { openCache } from '../explain/cache.js';
import { loadModelBytes, type ExplainContext, type ExplainRequest, type ExplainResult } from '../explain/explain.js';
import { isSparseResult, type SparseLimits, type SparseResult } from '../explain/sparse.js';
import { explainUnit, localExecutor, unitWarnings, type UnitExecutor, type UnitResult } from '../explain/units.js';
import { warningSummary } from '../explain/warnings.js';
import { indexList } from '../inputs/options.js';
import { resolveSampleSet, type SampleSet } from '../inputs/samples.js';

/** What a study needs from the engine: the explain context, where units run (default: this process), and the
 *  caller's limits on the sparse method (a service's). */
export type StudyContext = ExplainContext & { readonly executor?: UnitExecutor; readonly sparseLimits?: SparseLimits };

/**
 * The reference rows of a study's units: read once, so every unit (and its key) holds their content, not a path;
 * without them the mean and marginal baselines are over the rows of the sample file, as for one explain (a unit alone
 * sees only its own sample, which made v(∅) = v(N)).
 */
export async function studyReference(reference: ExplainRequest['reference'], baseline: ExplainRequest['baseline'], set: SampleSet): Promise<SampleSet | undefined> {
  if (reference !== undefined) return resolveSampleSet(reference, 'options.reference');
  return baseline === 'mean' || baseline === 'marginal' ? set : undefined;
}

/**
 * The players' names of results over many samples (of one count, checked by the caller): theirs when all agree, else
 * by position. Players are units of the input (columns, cells, positions, clusters) whose names may be each sample's
 * own (a text's tokens: "k@0" here, "d@0" there).
 */
export function namesByPosition(lists: readonly (readonly string[])[]): readonly string[] {
  const [first] = lists;
  return lists.every((names) => names.every((name, k) => name === first[k])) ? first : first.map((_, k) => `player ${k}`);
}

/** Progress of a batch: samples done (cached included), and the time left at the pace of the computed ones. */
export interface BatchProgress {
  readonly done: number;
  readonly total: number;
  readonly cached: number;
  /** Estimated milliseconds left (undefined until one sample has been computed). */
  readonly etaMs?: number;
}

/** Many samples of one model. The explain options apply to every sample; each sample's target is its label (else
 *  its predicted class). With method 'sparse' (or budget, maxOrder or tolerance) every sample is explained by the
 *  sparse method, and the aggregate is taken over their term lists. */
export interface BatchRequest extends Omit<ExplainRequest, 'sample' | 'row' | 'target' | 'onProgress'> {
  /** The samples: a sample file or a SampleSet. */
  readonly samples: string | SampleSet;
  /** Which rows: "all" (default), or a list like "0-99" or "3,5,8-12". */
  readonly rows?: string;
  /** Folder of cached results (default ".andor-cache"); false disables it. */
  readonly cacheDir?: string | false;
  /** Samples in flight (default 2: one sample's evaluation overlaps another's decomposition). */
  readonly concurrency?: number;
  /** Called with each sample's result as soon as it is ready, in completion order. */
  readonly onResult?: (result: UnitResult, item: { readonly index: number; readonly row: number; readonly cached: boolean }) => void | Promise<void>;
  readonly onProgress?: (progress: BatchProgress) => void;
}

/** One interaction over the samples of a group. */
export interface AggregateInteraction {
  readonly kind: 'and' | 'or';
  /** The players' bitmask (exact results only: a sparse result's players may be beyond 31). */
  readonly mask?: number;
  readonly players: readonly number[];
  readonly mean: number;
  readonly std: number;
  readonly meanAbs: number;
  /** Samples in which it is salient. */
  readonly salientIn: number;
}

/** The aggregate of a group of samples. */
export interface AggregateGroup {
  readonly count: number;
  readonly orders: { readonly positive: Float64Array; readonly negative: Float64Array; readonly normalized: Float64Array };
  /** Interactions salient in at least one sample of the group (a class's: also those of the whole batch's list, salient
   *  in it or not), by mean |I|, strongest first (at most 200). */
  readonly interactions: readonly AggregateInteraction[];
}

/** One sample of a batch: where it is, what was explained, and (sparse) what its recovery cost and how faithful it is. */
export interface BatchSample {
  readonly row: number;
  readonly id?: string;
  readonly label?: number;
  readonly target: number;
  readonly targetName?: string;
  readonly cached: boolean;
  /** Sparse: model evaluations the sample's explanation used. */
  readonly evaluations?: number;
  /** Sparse: R² of its AND expansion on masks the recovery never saw (on all 2^n masks where the budget covered them;
   *  NaN where it cannot be measured: a constant game). */
  readonly r2?: number;
}

/** What a batch gives; R is its samples' result type (exact, or sparse with method 'sparse'). */
export interface BatchResult<R extends UnitResult = UnitResult> {
  /** How every sample was explained: exact (2^n masks) or sparse (term lists from a budget). */
  readonly method: 'exact' | 'sparse';
  readonly n: number;
  readonly players: readonly string[];
  readonly model: { readonly file?: string; readonly sha256: string };
  readonly samples: readonly BatchSample[];
  /** Each sample's Shapley values, in the order of samples. */
  readonly shapley: readonly Float64Array[];
  readonly all: AggregateGroup;
  /** The same per target class (key: the class index). */
  readonly classes: Readonly<Record<string, AggregateGroup>>;
  readonly classNames?: readonly string[];
  /** Each sample's result, in the order of samples (the CLI streams them instead of keeping them). */
  readonly results?: readonly R[];
  readonly timings: Readonly<Record<string, number>>;
}

/** Interactions kept per group. */
const TOP_INTERACTIONS = 200;

/** The rows a request selects. */
function rowsOf(rows: string | undefined, set: SampleSet): number[] {
  if (rows === undefined || rows.trim() === 'all') return set.samples.map((_, i) => i);
  return indexList(rows, 'options.rows', set.samples.length, 'row');
}

/**
 * Explains many samples of one model.
 * @param ctx - the engine's runner, kernels and limits
 * @param request - the samples, the rows, the explain options, the cache
 * @param keep - keep every sample's result in the returned BatchResult (the library and HTTP do; the CLI streams)
 * @throws InvalidInputError when the samples disagree on the players; CancelledError when the signal aborts
 */
export async function runBatch(ctx: StudyContext, request: BatchRequest, keep = true): Promise<BatchResult> {
  const started = performance.now();
  const { samples, rows, cacheDir, concurrency = 2, onResult, onProgress, signal, model, ...options } = request;
  const set = await resolveSampleSet(samples, 'options.samples');
  const chosen = rowsOf(rows, set);
  const loaded = await loadModelBytes(model);
  // each kind of warning the samples give said once, and counted (warnings.ts)
  const warnings = warningSummary(ctx.onWarning, 'samples');
  // a unit's own warnings (kinds) are read from its result below, wherever it ran (unitWarnings); the others go on
  const unitCtx: StudyContext = { ...ctx, onWarning: (message, kind) => kind === undefined && warnings.onWarning(message) };
  const executor = unitCtx.executor ?? localExecutor(unitCtx, await openCache(cacheDir, 'options.cacheDir'), ctx.sparseLimits);
  const reference = await studyReference(options.reference, options.baseline, set);
  const shared = { ...options, ...(reference ? { reference } : {}) };
  const names = { ...(set.features ? { features: set.features } : {}), ...(set.classes ? { classes: set.classes } : {}) };
  const units = chosen.map((row) => explainUnit(loaded, set.samples[row], row, shared, names));

  let done = 0;
  let cachedCount = 0;
  let computedMs = 0;
  let last = performance.now();
  const { results, cached } = await executor.run(units, {
    concurrency,
    context: unitCtx,
    signal,
    onResult: async (index, result, fromCache) => {
      for (const [message, kind] of unitWarnings(units[index], result)) warnings.onWarning(message, kind);
      done++;
      const now = performance.now();
      if (fromCache) cachedCount++;
      else computedMs += now - last;
      last = now;
      await onResult?.(result, { index, row: chosen[index], cached: fromCache });
      const computed = done - cachedCount;
      onProgress?.({ done, total: units.length, cached: cachedCount, etaMs: computed > 0 ? (computedMs / computed) * (units.length - done) : undefined });
    },
  });
  warnings.summarize(units.length);
  const aggregateStart = performance.now();
  const batch = aggregateBatch(results, chosen, cached, set);
  return {
    ...batch,
    model: { file: loaded.file, sha256: loaded.sha256 },
    ...(keep ? { results } : {}),
    timings: { explainMs: aggregateStart - started, aggregateMs: performance.now() - aggregateStart, totalMs: performance.now() - started },
  };
}

/**
 * Aggregates per-sample results: every sample's Shapley values, and per group (all, each class) the mean strength per
 * order and the mean and spread of every interaction salient in at least one of its samples.
 * @throws InvalidInputError when the samples do not share one set of players, or were not all explained by one method
 */
export function aggregateBatch(results: readonly UnitResult[], rows: readonly number[], cached: readonly boolean[], set: Pick<SampleSet, 'classes'>): Omit<BatchResult, 'model' | 'results' | 'timings'> {
  if (results.length === 0) throw new InvalidInputError('A batch needs at least one sample.');
  const first = results[0];
  const method = isSparseResult(first) ? 'sparse' : 'exact';
  results.forEach((r, i) => {
    if (r.n !== first.n || r.players.length !== first.players.length) {
      throw new InvalidInputError(`Sample at row ${rows[i]} has players [${r.players.join(', ')}] but the row ${rows[0]} has [${first.players.join(', ')}]; a batch aggregates one set of players.`);
    }
    if (isSparseResult(r) !== (method === 'sparse')) {
      throw new InvalidInputError(`Sample at row ${rows[i]} was explained by the ${isSparseResult(r) ? 'sparse' : 'exact'} method but the row ${rows[0]} by the ${method} one; a batch aggregates one method.`);
    }
  });
  const byClass = new Map<number, UnitResult[]>();
  for (const r of results) byClass.set(r.target ?? -1, [...(byClass.get(r.target ?? -1) ?? []), r]);
  const lookups = new Map(results.flatMap((r) => (isSparseResult(r) ? [[r, lookupOf(r)] as const] : [])));
  const all = aggregateGroup(results, lookups);
  // a class lists the batch's strongest too, salient in it or not: a chart of them per class reads each class's real
  // mean there, not a 0 for "never salient in this class" (an adversarial sweep, stop 34)
  const strongest = all.interactions.map((i): InteractionId => ({ kind: i.kind, players: i.players, key: i.mask ?? keyOf(i.players), ...(i.mask === undefined ? {} : { mask: i.mask }) }));
  return {
    method,
    n: first.n,
    players: namesByPosition(results.map((r) => r.players)),
    samples: results.map((r, i) => ({
      row: rows[i], ...(r.sample?.id !== undefined ? { id: r.sample.id } : {}), ...(r.sample?.label !== undefined ? { label: r.sample.label } : {}),
      target: r.target ?? -1, ...(r.targetName !== undefined ? { targetName: r.targetName } : {}), cached: cached[i],
      ...(isSparseResult(r) ? { evaluations: r.evaluations, r2: r.faithfulness.r2 } : {}),
    })),
    shapley: results.map((r) => r.indices.shapley),
    all,
    classes: Object.fromEntries([...byClass.entries()].sort(([a], [b]) => a - b).map(([c, members]) => [String(c), aggregateGroup(members, lookups, strongest)])),
    ...(set.classes ? { classNames: set.classes } : {}),
  };
}

/** One interaction of a sample: its kind and players, their key within the kind (an exact result's mask, a sparse
 *  one's players joined: joining 2^n sets of every sample of a batch held the service's main thread for seconds), and
 *  (exact results) their mask. */
interface InteractionId {
  readonly kind: 'and' | 'or';
  readonly players: readonly number[];
  readonly key: string | number;
  readonly mask?: number;
}

/** A sparse result's interactions, as the aggregation reads them: the value of any term (0 for one it does not
 *  list), and its salient ones. */
interface SparseLookup {
  readonly value: (id: InteractionId) => number;
  readonly salient: readonly InteractionId[];
}

/** The key of a set of players (ascending). */
const keyOf = (players: readonly number[]) => players.join(',');

/** A sparse result's term lists, by players. */
function lookupOf(r: SparseResult): SparseLookup {
  const tables = { and: new Map(r.and.map((t) => [keyOf(t.players), t.value])), or: new Map(r.or.map((t) => [keyOf(t.players), t.value])) };
  return { salient: r.salient.map((s) => ({ kind: s.kind, players: s.players, key: keyOf(s.players) })), value: (id) => tables[id.kind].get(id.key as string) ?? 0 };
}

/** An interaction of a group, with the samples it is salient in and its mean |I| over them. */
interface Candidate {
  readonly id: InteractionId;
  readonly count: number;
  readonly meanAbs: number;
}

/**
 * The aggregate of a group of samples.
 * @param lookups - each sparse result's term tables (exact results are read by mask)
 * @param also - interactions listed whether or not they are salient in the group (a class: the whole batch's list)
 */
function aggregateGroup(results: readonly UnitResult[], lookups: ReadonlyMap<UnitResult, SparseLookup>, also: readonly InteractionId[] = []): AggregateGroup {
  const n = results[0].n;
  const positive = new Float64Array(n + 1);
  const negative = new Float64Array(n + 1);
  for (const r of results) {
    for (let k = 0; k <= n; k++) {
      positive[k] += r.orders.positive[k] / results.length;
      negative[k] += r.orders.negative[k] / results.length;
    }
  }
  // every (kind, players) salient somewhere, its mean |value| over the group, then the whole entry of the strongest
  // only: an entry for each of 2^n sets of a batch of 40 samples at n = 14 (salientRatio 0) held the service's main
  // thread for seconds
  const valueOf = isSparseResult(results[0])
    ? (r: UnitResult, id: InteractionId) => lookups.get(r)!.value(id)
    : (r: UnitResult, id: InteractionId) => (r as ExplainResult)[id.kind][id.mask!];
  const strongest = isSparseResult(results[0]) ? strongestByKey(results.map((r) => lookups.get(r)!), also) : strongestBySlot(results as readonly ExplainResult[], n, also);
  const interactions = strongest.map(({ id, count, meanAbs }): AggregateInteraction => {
    const values = results.map((r) => valueOf(r, id));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    return { kind: id.kind, ...(id.mask === undefined ? {} : { mask: id.mask }), players: [...id.players], mean, std, meanAbs, salientIn: count };
  });
  return { count: results.length, orders: { positive, negative, normalized: distribution({ positive, negative }).normalized }, interactions };
}

/**
 * The TOP_INTERACTIONS strongest candidates by mean |I|, ties by `tie`: their indices. Only those at or above the
 * TOP_INTERACTIONS-th largest mean are sorted by `tie` (a batch at n = 14 has 2^15 candidates).
 */
function topByMeanAbs(meanAbs: Float64Array, candidates: Int32Array, tie: (a: number, b: number) => number): Int32Array {
  let chosen = candidates;
  if (candidates.length > TOP_INTERACTIONS) {
    const means = Float64Array.from(candidates, (k) => meanAbs[k]).sort();
    const least = means[means.length - TOP_INTERACTIONS];
    chosen = candidates.filter((k) => meanAbs[k] >= least);
  }
  return chosen.sort((a, b) => meanAbs[b] - meanAbs[a] || tie(a, b)).subarray(0, TOP_INTERACTIONS);
}

/** The strongest interactions of exact results salient in some sample of the group (and `also`): counts and sums of
 *  |I| by slot (kind and mask) in typed arrays, read straight off the 2^n arrays; an object per salient set of every
 *  sample held the service's main thread for 0.7 s at 40 samples of 14 players. */
function strongestBySlot(results: readonly ExplainResult[], n: number, also: readonly InteractionId[]): Candidate[] {
  const size = 2 ** n;
  const slot = (kind: 'and' | 'or', mask: number) => (kind === 'and' ? 0 : size) + mask;
  const count = new Int32Array(2 * size);
  for (const r of results) for (const s of r.salient) count[slot(s.kind, s.mask)]++;
  const listed = new Uint8Array(2 * size);
  for (const s of also) listed[slot(s.kind, s.mask!)] = 1;
  // the sum over the samples in their order, then / count: the mean the entries report
  const meanAbs = new Float64Array(2 * size);
  for (const r of results) {
    for (let m = 0; m < size; m++) {
      meanAbs[m] += Math.abs(r.and[m]);
      meanAbs[size + m] += Math.abs(r.or[m]);
    }
  }
  for (let k = 0; k < 2 * size; k++) meanAbs[k] /= results.length;
  const candidates = new Int32Array(2 * size);
  let at = 0;
  for (let k = 0; k < 2 * size; k++) if (count[k] > 0 || listed[k] === 1) candidates[at++] = k;
  // ties by mask, then AND before OR
  const top = topByMeanAbs(meanAbs, candidates.subarray(0, at), (a, b) => (a % size) - (b % size) || a - b);
  return Array.from(top, (k) => ({ id: { kind: k < size ? 'and' : 'or', players: playersOfMask(k % size), key: k % size, mask: k % size }, count: count[k], meanAbs: meanAbs[k] }));
}

/** The same for sparse results, by kind and players. */
function strongestByKey(looks: readonly SparseLookup[], also: readonly InteractionId[]): Candidate[] {
  const salientIn = new Map<string, { id: InteractionId; count: number }>();
  for (const look of looks) {
    for (const s of look.salient) {
      const id = `${s.kind}:${s.key}`;
      const entry = salientIn.get(id);
      if (entry) entry.count++;
      else salientIn.set(id, { id: s, count: 1 });
    }
  }
  for (const s of also) {
    const id = `${s.kind}:${s.key}`;
    if (!salientIn.has(id)) salientIn.set(id, { id: s, count: 0 });
  }
  const entries = [...salientIn.values()];
  const meanAbs = new Float64Array(entries.length);
  entries.forEach(({ id }, i) => {
    let sum = 0;
    for (const look of looks) sum += Math.abs(look.value(id));
    meanAbs[i] = sum / looks.length;
  });
  const tie = (a: number, b: number) => compareSets(entries[a].id.players, entries[b].id.players) || (entries[a].id.kind < entries[b].id.kind ? -1 : 1);
  const top = topByMeanAbs(meanAbs, Int32Array.from(entries, (_, i) => i), tie);
  return Array.from(top, (i) => ({ ...entries[i], meanAbs: meanAbs[i] }));
}

/** Smaller sets first, then by their players (ascending lists). */
function compareSets(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k] - b[k];
  return 0;
}
