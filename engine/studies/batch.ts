// Many samples of one model in one run: each sample explained (or taken from the content-addressed cache, so a rerun
// resumes), handed to the caller as soon as it is ready (the CLI streams JSON lines), and aggregated: the mean and
// spread of each salient interaction over samples, overall and per class, per-order strength, and every sample's
// Shapley values. Progress carries an ETA; an AbortSignal stops it with nothing half-written.
import { CancelledError, InvalidInputError } from '../contracts/errors.js';
import { distribution } from '../analysis/interactions.js';
import { cacheKey, openCache, optionsDigest, sampleDigest } from '../explain/cache.js';
import { explainModel, loadModelBytes, type ExplainContext, type ExplainRequest, type ExplainResult } from '../explain/explain.js';
import { indexList } from '../inputs/options.js';
import { loadSampleSet, type SampleSet } from '../inputs/samples.js';

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

/** A decoded cache entry that is a whole explain result. */
function isExplainResult(value: unknown): value is ExplainResult {
  const r = value as Partial<ExplainResult> | undefined;
  return !!r && r.v instanceof Float64Array && r.and instanceof Float64Array && r.or instanceof Float64Array && r.v.length === r.and.length && r.v.length === 2 ** (r.n ?? -1) && Array.isArray(r.salient) && Array.isArray(r.players) && typeof r.target === 'number';
}

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
export async function runBatch(ctx: ExplainContext, request: BatchRequest, keep = true): Promise<BatchResult> {
  const started = performance.now();
  const { samples, rows, cacheDir, concurrency = 2, onResult, onProgress, signal, model, ...options } = request;
  const set = typeof samples === 'string' ? await loadSampleSet(samples) : samples;
  const chosen = rowsOf(rows, set);
  const loaded = await loadModelBytes(model);
  const cache = await openCache(cacheDir, 'options.cacheDir');
  const reference = typeof options.reference === 'string' ? await loadSampleSet(options.reference) : options.reference;
  const shared = { ...options, ...(reference ? { reference } : {}) };
  const optionsKey = optionsDigest({ options: shared, features: set.features ?? null, classes: set.classes ?? null });

  const results: (ExplainResult | undefined)[] = new Array(chosen.length);
  const cachedFlags: boolean[] = new Array(chosen.length).fill(false);
  let next = 0;
  let done = 0;
  let cachedCount = 0;
  let computedMs = 0;
  let stop = false;
  const worker = async () => {
    while (next < chosen.length && !stop) {
      if (signal?.aborted) throw new CancelledError('The batch was cancelled; finished samples are cached and a rerun resumes from them.');
      const index = next++;
      const row = chosen[index];
      const sample = set.samples[row];
      const key = cacheKey('explain', loaded.sha256, sampleDigest(sample), optionsKey, String(row));
      const t0 = performance.now();
      let result = await cache?.get(key, isExplainResult);
      const cached = result !== undefined;
      if (!result) {
        result = await explainModel(ctx, { ...shared, model: loaded.bytes, sample, row, ...(sample.label === undefined ? {} : { target: sample.label }), signal }, set).catch((error) => {
          stop = true;
          throw error;
        });
        result = { ...result, model: result.model && { ...result.model, file: loaded.file } };
        await cache?.put(key, result);
        computedMs += performance.now() - t0;
      } else cachedCount++;
      results[index] = result;
      cachedFlags[index] = cached;
      done++;
      await onResult?.(result, { index, row, cached });
      const computed = done - cachedCount;
      onProgress?.({ done, total: chosen.length, cached: cachedCount, etaMs: computed > 0 ? (computedMs / computed) * (chosen.length - done) : undefined });
    }
  };
  // settle every sample in flight before returning or throwing: nothing writes to the cache after the call ends
  const settled = await Promise.allSettled(Array.from({ length: Math.min(concurrency, chosen.length) }, worker));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const all = results as ExplainResult[];
  const aggregateStart = performance.now();
  const batch = aggregateBatch(all, chosen, cachedFlags, set);
  return {
    ...batch,
    model: { file: loaded.file, sha256: loaded.sha256 },
    ...(keep ? { results: all } : {}),
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
