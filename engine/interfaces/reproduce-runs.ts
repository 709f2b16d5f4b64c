// The runs behind `npm run reproduce`: every series of the manifest through engine.dynamics under both conventions
// (its claims sample set, losses, reference models and players from the manifest's `dynamics` arguments), and the side
// analyses that test the likely reasons of a failed claim: the per-pair interactions re-read from the shared cache
// (explainBatch with the pair options of the dynamics run hits the same cache entries) and re-thresholded under the
// other salient rule, the unlearned split and the -v0 reward at initialization, and the iteration check of the
// authors' optimizer. Verdicts are not decided here (engine/studies/claims.ts) and nothing is written here.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isSparseResult, loadSampleSet, type DynamicsRequest, type DynamicsResult, type Engine, type ExplainResult, type SampleSet } from '../index.js';
import { distribution, salience } from '../analysis/interactions.js';
import { InvalidOptionError } from '../contracts/errors.js';
import { analysisFields, SOLVER_DEFAULTS } from '../contracts/schema/fields.js';
import { withConventions, type Conventions } from '../explain/conventions.js';
import { turningPoint } from '../studies/dynamics.js';
import { COMMANDS, parseCommand } from './cli-options.js';

/** A `series` entry of models/manifest.json (the fields the reproduction reads). */
export interface SeriesSpec {
  readonly name: string;
  readonly modality: string;
  readonly description?: string;
  readonly checkpoints: readonly { readonly name: string; readonly file: string; readonly epoch: number }[];
  readonly losses: string;
  readonly claims: string;
  readonly players: readonly number[];
  readonly dynamics: readonly string[];
}

/** How the reproduction runs. */
export interface RunSettings {
  /** The package root: manifest paths are relative to it. */
  readonly root: string;
  /** The pair cache shared with `andor dynamics` (false: none). */
  readonly cacheDir: string | false;
  /** Iterations of the authors' optimizer; undefined: the convention's own (their niter, AUTHORS_DEFAULTS). */
  readonly authorsIterations?: number;
  /** Pairs in flight per dynamics run. */
  readonly pairConcurrency: number;
  /** Dynamics runs at once (one run's aggregation on the main thread overlaps another's pairs in the workers). */
  readonly runsInFlight: number;
  readonly log: (line: string) => void;
}

/** The salient ratio r of every run (the schema default; both conventions keep it). */
export const SALIENT_RATIO = Number((analysisFields.salientRatio as { readonly default?: unknown }).default);

/** The conventions every series runs under, andor's first (the document's column order). */
export const CONVENTION_NAMES: readonly Conventions[] = ['andor', 'authors'];

/** The explain options a dynamics pair keeps, in the order engine/studies/dynamics.ts (PAIR_KEYS) builds them: the
 *  order is part of the cache key, so a batch with these options in this order reads the dynamics run's entries. A
 *  mismatch only costs time (the pairs are recomputed, with equal results); the document reports the hit rate. */
const PAIR_KEYS = [
  'names', 'decomposition', 'preset', 'iterations', 'lr', 'qthres', 'solver', 'salientRatio', 'salientIncludeEmpty', 'indexOrder', 'modality', 'players', 'grid', 'blurSigma',
  'maskToken', 'maskMode', 'clusters', 'custom', 'input', 'output', 'baseline', 'reference', 'background', 'reward', 'batchSize',
] as const;

/**
 * Whether player j is the same part of the input in every sample of a series: not when the players are clusters found
 * per sample (`--clusters`, the point clouds), whose index means nothing across samples.
 */
export function playersShared(spec: SeriesSpec): boolean {
  return !spec.dynamics.includes('--clusters');
}

/** Reads the manifest's series. */
export async function loadSeries(root: string): Promise<SeriesSpec[]> {
  const manifest = JSON.parse(await readFile(resolve(root, 'models/manifest.json'), 'utf8')) as { series?: SeriesSpec[] };
  return manifest.series ?? [];
}

/**
 * The dynamics request of a series under a convention: the manifest's `dynamics` arguments (parsed as the CLI parses
 * them) with its claims sample set, paths resolved against the root, the convention's defaults filled, and the
 * reproduction's speed settings: no interaction indices (indexOrder 0: no claim reads them), and the iteration count
 * of the authors' optimizer when one is given (by default their own). Text players get fixed names (their position): the token at a position differs between
 * samples, and dynamics averages over samples that share their players.
 */
export function dynamicsRequest(spec: SeriesSpec, conventions: Conventions, settings: RunSettings): DynamicsRequest {
  const parsed = parseCommand(COMMANDS.dynamics, spec.dynamics) as Record<string, unknown>;
  const at = (path: unknown) => resolve(settings.root, String(path));
  const request: Record<string, unknown> = {
    ...parsed,
    checkpoints: at(parsed.checkpoints),
    samples: at(spec.claims),
    ...(parsed.losses !== undefined ? { losses: at(parsed.losses) } : {}),
    ...(parsed.referenceModels !== undefined ? { referenceModels: String(parsed.referenceModels).split(',').map(at) } : {}),
    ...(spec.modality === 'text' ? { names: spec.players.map((p) => `position ${p}`) } : {}),
    indexOrder: 0,
    conventions,
    ...(conventions === 'authors' && settings.authorsIterations !== undefined ? { iterations: settings.authorsIterations } : {}),
    cacheDir: settings.cacheDir,
    concurrency: settings.pairConcurrency,
  };
  return withConventions(request as unknown as DynamicsRequest);
}

/** A finished dynamics run. */
export interface SeriesRun {
  readonly spec: SeriesSpec;
  readonly conventions: Conventions;
  readonly request: DynamicsRequest;
  readonly result: DynamicsResult;
  readonly wallMs: number;
}

/** Runs `jobs` with at most `limit` in flight, keeping their order. */
async function pooled<T>(jobs: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, worker));
  return out;
}

/**
 * Runs every series under both conventions.
 * @returns the runs, series by series, andor first
 */
export async function runSeries(engine: Engine, specs: readonly SeriesSpec[], settings: RunSettings): Promise<SeriesRun[]> {
  const jobs = specs.flatMap((spec) => CONVENTION_NAMES.map((conventions) => async (): Promise<SeriesRun> => {
    const request = dynamicsRequest(spec, conventions, settings);
    const started = performance.now();
    const result = await engine.dynamics(request);
    const wallMs = performance.now() - started;
    settings.log(`${spec.name} (${conventions}): ${result.pairs.computed} pairs computed, ${result.pairs.cached} cached, ${(wallMs / 1e3).toFixed(1)} s`);
    return { spec, conventions, request, result, wallMs };
  }));
  return pooled(jobs, settings.runsInFlight);
}

// ---------------------------------------------------------------------------------------------------------------
// Per-pair results, re-thresholded

/** Indices of the train and test samples of a set (the "normal" samples of a dynamics run). */
export function normalRows(set: SampleSet): number[] {
  return set.samples.flatMap((s, i) => ((s.split ?? 'test') === 'ood' ? [] : [i]));
}

/** The pair options of a dynamics request, in PAIR_KEYS order. */
function pairOptions(request: DynamicsRequest, overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  const merged = { ...(request as unknown as Record<string, unknown>), ...overrides };
  return Object.fromEntries(PAIR_KEYS.filter((k) => merged[k] !== undefined).map((k) => [k, merged[k]]));
}

/** Results of one checkpoint on some rows, with how many came from the cache. */
export interface PairBatch {
  readonly results: readonly ExplainResult[];
  readonly cached: number;
}

/**
 * One checkpoint's pairs on the given rows: explainBatch with the dynamics run's pair options (and `overrides`), so
 * that pairs the run computed come back from the cache.
 */
export async function pairBatch(engine: Engine, request: DynamicsRequest, set: SampleSet, file: string, rows: readonly number[], overrides: Readonly<Record<string, unknown>> = {}): Promise<PairBatch> {
  const batch = await engine.explainBatch({
    model: file, samples: set, rows: rows.join(','), cacheDir: request.cacheDir, concurrency: request.concurrency,
    ...pairOptions(request, overrides),
  } as never);
  // the dynamics run's pair options are the exact method's
  const results = (batch.results ?? []).map((r) => {
    if (isSparseResult(r)) throw new InvalidOptionError(`The pairs of ${file} came back sparse; the reproduction compares exact results. Leave method, budget, maxOrder and tolerance out of the series' dynamics options.`);
    return r;
  });
  return { results, cached: batch.samples.filter((s) => s.cached).length };
}

/** The normalized distribution and κ of results averaged over samples, under a salient rule. */
export function distributionUnder(results: readonly ExplainResult[], includeEmpty: boolean, salientRatio = SALIENT_RATIO): { normalized: Float64Array; kappa: number } {
  const n = results[0].n;
  const positive = new Float64Array(n + 1);
  const negative = new Float64Array(n + 1);
  for (const r of results) {
    const { orders } = salience(r.and, r.or, n, { salientRatio, salientIncludeEmpty: includeEmpty });
    for (let k = 0; k <= n; k++) {
      positive[k] += orders.positive[k] / results.length;
      negative[k] += orders.negative[k] / results.length;
    }
  }
  return distribution({ positive, negative });
}

/** One decomposition and one salient rule. */
export interface Variant {
  readonly label: string;
  readonly preset: 'default' | 'authors' | 'none' | 'reference';
  readonly includeEmpty: boolean;
  readonly reward?: string;
}

/** The four combinations of the two conventions' optimizer and salient rule (andor = default, ∅ left out). */
export const SWEEP_VARIANTS: readonly Variant[] = [
  { label: 'andor', preset: 'default', includeEmpty: false },
  { label: 'andor + salient max with ∅', preset: 'default', includeEmpty: true },
  { label: 'andor + authors\' optimizer', preset: 'authors', includeEmpty: false },
  { label: 'authors', preset: 'authors', includeEmpty: true },
];

/** κ per checkpoint and the turning point of one variant. */
export interface SweepRow {
  readonly variant: Variant;
  readonly kappa: readonly number[];
  readonly turningPoint: number;
  readonly normalized: readonly Float64Array[];
}

/**
 * κ(t) and the turning point of one series under each combination of the conventions' choices, from the pairs of
 * the two dynamics runs re-read from the cache (normal samples, every checkpoint) and re-thresholded.
 */
export async function conventionSweep(engine: Engine, runs: { readonly andor: SeriesRun; readonly authors: SeriesRun }): Promise<{ rows: SweepRow[]; pairs: number; cached: number }> {
  const set = await loadSampleSet(String(runs.andor.request.samples));
  const rows = normalRows(set);
  const files = runs.andor.result.checkpoints.map((c) => c.file);
  let pairs = 0;
  let cached = 0;
  const byPreset = new Map<string, ExplainResult[][]>();
  for (const [preset, run] of [['default', runs.andor], ['authors', runs.authors]] as const) {
    const perCheckpoint: ExplainResult[][] = [];
    for (const file of files) {
      const batch = await pairBatch(engine, run.request, set, file, rows);
      pairs += batch.results.length;
      cached += batch.cached;
      perCheckpoint.push([...batch.results]);
    }
    byPreset.set(preset, perCheckpoint);
  }
  const out = SWEEP_VARIANTS.map((variant) => {
    const dists = byPreset.get(variant.preset)!.map((results) => distributionUnder(results, variant.includeEmpty));
    const kappa = dists.map((d) => d.kappa);
    return { variant, kappa, turningPoint: turningPoint(kappa), normalized: dists.map((d) => d.normalized) };
  });
  return { rows: out, pairs, cached };
}

/** The variants of the spindle test at initialization: each decomposition under both salient rules, the unlearned
 *  split, and the authors' conventions with the -v0 reward (v(∅) = 0, so the ∅ term is only q(∅)). */
export const INIT_VARIANTS: readonly Variant[] = [
  { label: 'andor (PDHG, max without ∅)', preset: 'default', includeEmpty: false },
  { label: 'PDHG, max with ∅', preset: 'default', includeEmpty: true },
  { label: 'authors (their SGD, max with ∅)', preset: 'authors', includeEmpty: true },
  { label: 'their SGD, max without ∅', preset: 'authors', includeEmpty: false },
  { label: 'unlearned split (γ = q = 0), max without ∅', preset: 'none', includeEmpty: false },
  { label: 'unlearned split (γ = q = 0), max with ∅', preset: 'none', includeEmpty: true },
  { label: 'authors with reward gt-log-odds-v0, max with ∅', preset: 'authors', includeEmpty: true, reward: 'gt-log-odds-v0' },
  { label: `their SGD with their raw lr ${SOLVER_DEFAULTS.sgd.lr.toExponential()} (preset reference), max with ∅`, preset: 'reference', includeEmpty: true },
];

/** One variant's distribution at initialization. */
export interface InitRow {
  readonly variant: Variant;
  readonly normalized: Float64Array;
  readonly kappa: number;
  /** Mean over samples of |∅ term| / max |I| over the non-empty sets. */
  readonly emptyRatio: number;
}

/**
 * The normalized distribution at the first checkpoint of a series under every INIT_VARIANTS entry (normal samples).
 * The default and authors pairs come from the cache of the main runs; the unlearned split and the -v0 reward are
 * computed here.
 */
export async function initVariants(engine: Engine, runs: { readonly andor: SeriesRun; readonly authors: SeriesRun }): Promise<{ rows: InitRow[]; pairs: number; cached: number }> {
  const set = await loadSampleSet(String(runs.andor.request.samples));
  const rows = normalRows(set);
  const file = runs.andor.result.checkpoints[0].file;
  const batches = new Map<string, PairBatch>();
  const key = (v: Variant) => `${v.preset}:${v.reward ?? ''}`;
  for (const v of INIT_VARIANTS) {
    if (batches.has(key(v))) continue;
    const run = v.preset === 'authors' || v.preset === 'reference' ? runs.authors : runs.andor;
    // preset none takes no qthres either (γ = q = 0: no q to bound)
    const replaced = v.preset === 'none' || v.preset === 'reference' ? { preset: v.preset, iterations: undefined, lr: undefined, ...(v.preset === 'none' ? { qthres: undefined } : {}) } : {};
    const overrides = { ...replaced, ...(v.reward ? { reward: v.reward } : {}) };
    batches.set(key(v), await pairBatch(engine, run.request, set, file, rows, overrides));
  }
  const out = INIT_VARIANTS.map((variant) => {
    const { results } = batches.get(key(variant))!;
    const { normalized, kappa } = distributionUnder(results, variant.includeEmpty);
    const emptyRatio = results.reduce((s, r) => {
      let max = 0;
      for (let m = 1; m < r.and.length; m++) max = Math.max(max, Math.abs(r.and[m]), Math.abs(r.or[m]));
      return s + (max === 0 ? 0 : Math.abs(r.and[0] + r.or[0]) / max) / results.length;
    }, 0);
    return { variant, normalized, kappa, emptyRatio };
  });
  const all = [...batches.values()];
  return { rows: out, pairs: all.reduce((s, b) => s + b.results.length, 0), cached: all.reduce((s, b) => s + b.cached, 0) };
}

/** How far each convention's optimizer is from convergence: its objective at its iteration count, at twice it,
 *  and (the authors') at a fifth of it, the cut this check rules out or in. */
export interface ConvergenceCheck {
  readonly checkpoints: readonly string[];
  readonly samples: number;
  /** Per convention and checkpoint: iteration counts (ascending; `base` is the reproduction's), the mean final L1
   *  objective at each, and κ under the convention's salient rule at each. */
  readonly rows: readonly {
    readonly conventions: Conventions;
    readonly checkpoint: string;
    readonly base: number;
    readonly iterations: readonly number[];
    readonly objective: readonly number[];
    readonly kappa: readonly number[];
  }[];
}

/**
 * Runs each convention's optimizer at other iteration counts (andor: 2×; authors: 1/5 and 2×) on the first,
 * turning-point and last checkpoints of a series, `perSplit` train and test samples each; the runs' own pairs come
 * from the cache.
 */
export async function convergenceCheck(engine: Engine, runs: { readonly andor: SeriesRun; readonly authors: SeriesRun }, perSplit: number): Promise<ConvergenceCheck & { pairs: number; cached: number }> {
  const set = await loadSampleSet(String(runs.andor.request.samples));
  const train = set.samples.flatMap((s, i) => (s.split === 'train' ? [i] : [])).slice(0, perSplit);
  const test = set.samples.flatMap((s, i) => (s.split === 'test' ? [i] : [])).slice(0, perSplit);
  const rows = [...train, ...test];
  const cps = runs.andor.result.checkpoints;
  const picks = [...new Set([0, runs.andor.result.turningPoint, cps.length - 1])];
  const objective = (results: readonly ExplainResult[]) => results.reduce((s, r) => s + r.decomposition.objective.final / results.length, 0);
  const out: ConvergenceCheck['rows'][number][] = [];
  let pairs = 0;
  let cached = 0;
  for (const conventions of CONVENTION_NAMES) {
    const run = runs[conventions];
    const includeEmpty = run.request.salientIncludeEmpty === true;
    for (const t of picks) {
      const own = await pairBatch(engine, run.request, set, cps[t].file, rows);
      const base = own.results[0].decomposition.iterations;
      const others = conventions === 'authors' ? [Math.max(1, Math.round(base / 5)), 2 * base] : [2 * base];
      const batches = [{ iterations: base, batch: own }];
      for (const iterations of others) batches.push({ iterations, batch: await pairBatch(engine, run.request, set, cps[t].file, rows, { iterations }) });
      batches.sort((a, b) => a.iterations - b.iterations);
      for (const { batch } of batches) {
        pairs += batch.results.length;
        cached += batch.cached;
      }
      out.push({
        conventions, checkpoint: cps[t].name, base, iterations: batches.map((b) => b.iterations),
        objective: batches.map((b) => objective(b.batch.results)),
        kappa: batches.map((b) => distributionUnder(b.batch.results, includeEmpty).kappa),
      });
    }
  }
  return { checkpoints: picks.map((t) => cps[t].name), samples: rows.length, rows: out, pairs, cached };
}
