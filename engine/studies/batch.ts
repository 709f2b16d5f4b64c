// Many samples of one model in one run: each sample explained (or taken from the content-addressed cache, so a rerun
// resumes), handed to the caller as soon as it is ready (the CLI streams JSON lines), and aggregated: the mean and
// spread of each salient interaction over samples, overall and per class, per-order strength, and every sample's
// Shapley values. Progress carries an ETA; an AbortSignal stops it with nothing half-written.
import { InvalidInputError } from '../contracts/errors.js';
import { distribution } from '../analysis/interactions.js';
import { openCache } from '../explain/cache.js';
import { loadModelBytes, type ExplainContext, type ExplainRequest, type ExplainResult } from '../explain/explain.js';
import { explainUnit, localExecutor, type UnitExecutor } from '../explain/units.js';
import { indexList } from '../inputs/options.js';
import { resolveSampleSet, type SampleSet } from '../inputs/samples.js';

/** What a study needs from the engine: the explain context, and where units run (default: this process). */
export type StudyContext = ExplainContext & { readonly executor?: UnitExecutor };

/** Progress of a batch: samples done (cached included), and the time left at the pace of the computed ones. */
export interface BatchProgress {
  readonly done: number;
  readonly total: number;
  readonly cached: number;
  /** Estimated milliseconds left (undefined until one sample has been computed). */
  readonly etaMs?: number;
}

/** Many samples of one model. The explain options apply to every sample; each sample's target is its label (else
 *  its predicted class). */
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
  readonly onResult?: (result: ExplainResult, item: { readonly index: number; readonly row: number; readonly cached: boolean }) => void | Promise<void>;
  readonly onProgress?: (progress: BatchProgress) => void;
}

/** One interaction over the samples of a group. */
export interface AggregateInteraction {
  readonly kind: 'and' | 'or';
  readonly mask: number;
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
  /** Interactions salient in at least one sample of the group, by mean |I|, strongest first (at most 200). */
  readonly interactions: readonly AggregateInteraction[];
}

/** What a batch gives. */
export interface BatchResult {
  readonly n: number;
  readonly players: readonly string[];
  readonly model: { readonly file?: string; readonly sha256: string };
  readonly samples: readonly { readonly row: number; readonly id?: string; readonly label?: number; readonly target: number; readonly targetName?: string; readonly cached: boolean }[];
  /** Each sample's Shapley values, in the order of samples. */
  readonly shapley: readonly Float64Array[];
  readonly all: AggregateGroup;
  /** The same per target class (key: the class index). */
  readonly classes: Readonly<Record<string, AggregateGroup>>;
  readonly classNames?: readonly string[];
  /** Each sample's result, in the order of samples (the CLI streams them instead of keeping them). */
  readonly results?: readonly ExplainResult[];
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
  const executor = ctx.executor ?? localExecutor(ctx, await openCache(cacheDir, 'options.cacheDir'));
  // reference rows are read once, so every unit (and its key) holds their content, not a path
  const reference = options.reference === undefined ? undefined : await resolveSampleSet(options.reference, 'options.reference');
  const shared = { ...options, ...(reference ? { reference } : {}) };
  const names = { ...(set.features ? { features: set.features } : {}), ...(set.classes ? { classes: set.classes } : {}) };
  const units = chosen.map((row) => explainUnit(loaded, set.samples[row], row, shared, names));

  let done = 0;
  let cachedCount = 0;
  let computedMs = 0;
  let last = performance.now();
  const { results, cached } = await executor.run(units, {
    concurrency,
    context: ctx,
    signal,
    onResult: async (index, result, fromCache) => {
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
 * @throws InvalidInputError when the samples do not share one set of players
 */
export function aggregateBatch(results: readonly ExplainResult[], rows: readonly number[], cached: readonly boolean[], set: Pick<SampleSet, 'classes'>): Omit<BatchResult, 'model' | 'results' | 'timings'> {
  if (results.length === 0) throw new InvalidInputError('A batch needs at least one sample.');
  const first = results[0];
  results.forEach((r, i) => {
    if (r.n !== first.n || r.players.join('\u0000') !== first.players.join('\u0000')) {
      throw new InvalidInputError(`Sample at row ${rows[i]} has players [${r.players.join(', ')}] but the row ${rows[0]} has [${first.players.join(', ')}]; a batch aggregates one set of players.`);
    }
  });
  const byClass = new Map<number, ExplainResult[]>();
  for (const r of results) byClass.set(r.target ?? -1, [...(byClass.get(r.target ?? -1) ?? []), r]);
  return {
    n: first.n,
    players: first.players,
    samples: results.map((r, i) => ({
      row: rows[i], ...(r.sample?.id !== undefined ? { id: r.sample.id } : {}), ...(r.sample?.label !== undefined ? { label: r.sample.label } : {}),
      target: r.target ?? -1, ...(r.targetName !== undefined ? { targetName: r.targetName } : {}), cached: cached[i],
    })),
    shapley: results.map((r) => r.indices.shapley),
    all: aggregateGroup(results),
    classes: Object.fromEntries([...byClass.entries()].sort(([a], [b]) => a - b).map(([c, group]) => [String(c), aggregateGroup(group)])),
    ...(set.classes ? { classNames: set.classes } : {}),
  };
}

function aggregateGroup(results: readonly ExplainResult[]): AggregateGroup {
  const n = results[0].n;
  const positive = new Float64Array(n + 1);
  const negative = new Float64Array(n + 1);
  for (const r of results) {
    for (let k = 0; k <= n; k++) {
      positive[k] += r.orders.positive[k] / results.length;
      negative[k] += r.orders.negative[k] / results.length;
    }
  }
  // every (kind, mask) salient somewhere, then its value in every sample of the group (salient there or not)
  const salientIn = new Map<string, number>();
  for (const r of results) for (const s of r.salient) salientIn.set(`${s.kind}:${s.mask}`, (salientIn.get(`${s.kind}:${s.mask}`) ?? 0) + 1);
  const interactions: AggregateInteraction[] = [...salientIn.entries()].map(([id, count]) => {
    const [kind, maskText] = id.split(':') as ['and' | 'or', string];
    const mask = Number(maskText);
    const values = results.map((r) => r[kind][mask]);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    const meanAbs = values.reduce((a, b) => a + Math.abs(b), 0) / values.length;
    const players: number[] = [];
    for (let i = 0; i < n; i++) if ((mask >>> i) & 1) players.push(i);
    return { kind, mask, players, mean, std, meanAbs, salientIn: count };
  });
  interactions.sort((a, b) => b.meanAbs - a.meanAbs || a.mask - b.mask || (a.kind < b.kind ? -1 : 1));
  return { count: results.length, orders: { positive, negative, normalized: distribution({ positive, negative }).normalized }, interactions: interactions.slice(0, TOP_INTERACTIONS) };
}
