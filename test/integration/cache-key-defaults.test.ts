// The cache key of a unit (engine/explain/units.ts, explainUnit) holds its options as the run resolves them: options
// with their defaults spelled out and the same options without them share one key (property-based), a change to any
// option that shapes the result gives another (property-based), and a default the run resolves from what only it
// knows (budget, maxOrder, modality) keeps its spelling. End to end: `andor explain --samples --cache` with
// `--tolerance auto` and without it is one computation, read back from the cache the second time.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_INDEX_ORDER, DEFAULT_SOLVER, SOLVER_DEFAULTS } from '../../dist/engine/contracts/schema/constants.js';
import { AUTHORS_DEFAULTS } from '../../dist/engine/analysis/decompose.js';
import { explainUnit, type UnitOptions } from '../../dist/engine/explain/units.js';
import { createEngine, model, resultToJson, type Engine } from '../helpers/index.js';
import { runCli } from '../helpers/cli.js';
import { PROPERTY_MS, RUNS } from '../unit/inputs/support.js';

/** A CLI run that explains two rows by the sparse method (cold: it starts the pool and evaluates ~900 masks). */
const CLI_MS = 120_000;

type Options = Record<string, unknown>;

const MODEL = { bytes: Uint8Array.of(1, 2, 3), sha256: 'a'.repeat(64) };
const SAMPLE = { values: Float64Array.of(0.5, -1, 2, 3) };
const keyOf = (options: Options) => explainUnit(MODEL, SAMPLE, 0, options as UnitOptions, {}).key;

/** A value or nothing (the option left out). */
const maybe = (...values: readonly unknown[]) => fc.constantFrom<unknown>(undefined, ...values);

/** Options every unit takes, with each modality's own options. */
const common = fc.record({
  conventions: maybe('andor', 'authors'),
  reward: maybe('gt-log-odds', 'gt-log-odds-v0', 'logit', 'output'),
  salientRatio: maybe(0.05, 0.1),
  salientIncludeEmpty: maybe(false, true),
  indexOrder: maybe(0, DEFAULT_INDEX_ORDER, 3),
  players: maybe('0-3', '1,2'),
  batchSize: maybe(8, 64),
  names: maybe(['a', 'b', 'c', 'd']),
});
const modal = fc.oneof(
  fc.record({ modality: maybe('tabular'), baseline: maybe('zero', 'mean', Float64Array.of(1, 2, 3, 4)) }),
  fc.record({ modality: fc.constant('image'), baseline: maybe('zero', 'blur'), grid: maybe('4x4', '2x2') }),
  fc.record({ modality: fc.constant('text'), maskMode: maybe('token', 'attention') }),
  fc.record({ modality: fc.constant('pointcloud'), baseline: maybe('zero', 'centroid'), clusters: maybe(10, 4) }),
);
/** The exact method's split: a preset, and the solver and tuning it takes. */
const exact = fc.oneof(
  fc.record({ method: maybe('exact'), decomposition: maybe('and', 'and-or'), preset: maybe('default'), solver: maybe('pdhg', 'adam', 'sgd'), qthres: maybe(0.04, 0.1), iterations: maybe(500), lr: maybe(0.5) }),
  fc.record({ method: maybe('exact'), decomposition: maybe('and'), preset: maybe('default'), solver: fc.constant('lp'), qthres: maybe(0.04, 0.1) }),
  fc.record({ method: maybe('exact'), decomposition: maybe('and'), preset: fc.constant('none') }),
  fc.record({ method: maybe('exact'), preset: fc.constantFrom('reference', 'authors'), qthres: maybe(0.04, 0.2), iterations: maybe(300), lr: maybe(0.01) }),
);
/** The sparse method: named, or chosen by one of its options. */
const sparse = fc
  .record({ method: maybe('sparse'), budget: maybe(600, 10_000), maxOrder: maybe(2, 3), tolerance: maybe('auto', 0, 0.01) })
  .filter((o) => o.method === 'sparse' || o.budget !== undefined || o.maxOrder !== undefined || o.tolerance !== undefined);

/** Valid options of one unit, with undefined fields dropped. */
const unitOptions = fc.tuple(common, modal, fc.oneof(exact, sparse)).map(([a, b, c]) => defined({ ...a, ...b, ...c }));

function defined(options: Options): Options {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

function isSparse(o: Options): boolean {
  return o.method === 'sparse' || (o.method === undefined && ['budget', 'maxOrder', 'tolerance'].some((k) => o[k] !== undefined));
}

/**
 * The defaults a run reads for the options a request leaves out, written from the documented defaults (the options'
 * docs in engine/explain/explain.ts and conventions.ts, the schema's constants), independently of the key's code:
 * only those that read the same given as left out, for this request's method, modality and conventions.
 */
function defaultsFor(o: Options): Options {
  const authors = o.conventions === 'authors';
  const modality = o.modality ?? 'tabular';
  const out: Options = {
    conventions: 'andor',
    method: isSparse(o) ? 'sparse' : 'exact',
    reward: 'gt-log-odds',
    salientRatio: 0.05,
    salientIncludeEmpty: authors,
    indexOrder: DEFAULT_INDEX_ORDER,
    ...(['tabular', 'image', 'pointcloud'].includes(modality as string) ? { baseline: 'zero' } : {}),
    ...(modality === 'image' ? { grid: '4x4' } : {}),
    ...(modality === 'text' ? { maskMode: 'token' } : {}),
    ...(modality === 'pointcloud' ? { clusters: 10 } : {}),
  };
  if (authors) delete out.conventions; // 'andor' is the default of conventions, not what this request says
  if (isSparse(o)) return { ...out, tolerance: 'auto' };
  // the authors' convention fills preset 'authors' unless a solver is named (conventions.ts)
  const preset = o.preset ?? (authors && o.solver === undefined ? 'authors' : 'default');
  const solver = preset === 'default' ? (o.solver ?? DEFAULT_SOLVER) : undefined;
  const tuning = preset === 'authors' ? AUTHORS_DEFAULTS : preset === 'reference' ? SOLVER_DEFAULTS.sgd : solver === undefined || solver === 'lp' ? undefined : SOLVER_DEFAULTS[solver as keyof typeof SOLVER_DEFAULTS];
  return {
    ...out,
    decomposition: 'and-or',
    preset,
    // naming the solver under the authors' convention would turn its preset to 'default'
    ...(solver !== undefined && !(authors && o.preset === undefined) ? { solver } : {}),
    ...(preset === 'none' ? {} : { qthres: 0.04 }),
    ...(tuning ? { iterations: tuning.iterations, lr: tuning.lr } : {}),
  };
}

/** The options with the defaults that `pick` chooses spelled out, in an order `order` shuffles. */
function spellOut(o: Options, pick: readonly boolean[], order: readonly number[]): Options {
  const extra = Object.entries(defaultsFor(o)).filter(([k], i) => o[k] === undefined && pick[i % pick.length]);
  const entries = [...Object.entries(o), ...extra];
  return Object.fromEntries(entries.map((e, i) => [e, order[i % order.length] ?? 0] as const).sort((a, b) => a[1] - b[1]).map(([e]) => e));
}

/** Another valid value of one option that shapes the result, different from what the options read there now. */
function changes(o: Options): [string, unknown][] {
  const sparseRun = isSparse(o);
  const modality = o.modality ?? 'tabular';
  const d = defaultsFor(o);
  const now = (k: string) => o[k] ?? d[k];
  const other = (k: string, ...values: unknown[]) => values.filter((v) => v !== now(k)).map((v) => [k, v] as [string, unknown]);
  const list: [string, unknown][] = [
    ...other('reward', 'gt-log-odds', 'logit-v0', 'output'),
    ...other('salientRatio', 0.05, 0.2),
    ...other('salientIncludeEmpty', false, true),
    ...other('indexOrder', 1, DEFAULT_INDEX_ORDER, 4),
    // players and batchSize are keyed as given: a change between two given values (left out, all players or an
    // automatic batch may be the same computation as one given)
    ['players', o.players === '1,2' ? '0-3' : '1,2'],
    ...(o.batchSize === undefined ? [] : [['batchSize', o.batchSize === 8 ? 16 : 8] as [string, unknown]]),
    ['names', ['w', 'x', 'y', 'z']],
  ];
  if (modality === 'image') list.push(...other('grid', '4x4', '3x3'), ...other('baseline', 'zero', 'blur'));
  if (modality === 'text') list.push(...other('maskMode', 'token', 'attention'));
  if (modality === 'pointcloud') list.push(...other('clusters', 10, 5), ...other('baseline', 'zero', 'center'));
  if (modality === 'tabular') list.push(...other('baseline', 'zero', 'mean'));
  if (sparseRun) {
    list.push(...other('tolerance', 'auto', 0, 0.001), ...other('budget', 700, 2000), ...other('maxOrder', 1, 4));
    // the exact method instead: every sparse option left out
    list.push(['method', 'exact']);
  } else {
    list.push(...other('decomposition', 'and', 'and-or'), ...other('qthres', 0.04, 0.3).filter(() => now('preset') !== 'none'));
    if (now('preset') === 'default' && o.solver !== 'lp' && !(o.conventions === 'authors' && o.preset === undefined)) list.push(...other('iterations', 100, 2_000), ...other('lr', 0.2, 5));
    list.push(['method', 'sparse']);
  }
  return list;
}

/** The options with one changed: to the sparse method by its name, or to the exact method with its options gone. */
function withChange(o: Options, [key, value]: [string, unknown]): Options {
  if (key === 'method' && value === 'exact') return defined({ ...o, method: 'exact', budget: undefined, maxOrder: undefined, tolerance: undefined });
  if (key === 'method' && value === 'sparse') return defined({ ...o, method: 'sparse', decomposition: undefined, preset: undefined, solver: undefined, iterations: undefined, lr: undefined, qthres: undefined });
  return { ...o, [key]: value };
}

describe('the cache key of a unit', () => {
  it('is the same with the defaults spelled out, in any key order, as without them', () => {
    const spelling = fc.tuple(unitOptions, fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }));
    fc.assert(
      fc.property(spelling, ([o, pick, order]) => {
        expect(keyOf(spellOut(o, pick, order)), JSON.stringify(spellOut(o, pick, order))).toBe(keyOf(o));
        // every default at once
        expect(keyOf(spellOut(o, [true], []))).toBe(keyOf(o));
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('changes with any option that shapes the result', () => {
    const changed = unitOptions.chain((o) => fc.tuple(fc.constant(o), fc.constantFrom(...changes(o))));
    fc.assert(
      fc.property(changed, fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }), ([o, change], pick) => {
        const after = withChange(o, change);
        expect(keyOf(after), `${JSON.stringify(o)} with ${change[0]} = ${JSON.stringify(change[1])}`).not.toBe(keyOf(o));
        // spelled out or not, on either side
        expect(keyOf(spellOut(after, pick, []))).not.toBe(keyOf(spellOut(o, pick, [])));
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('keeps apart a default that the run resolves from the model, the sample or the service', () => {
    // the sparse budget's default depends on the players not at their baseline and on a service's maxBudget
    expect(keyOf({ method: 'sparse', budget: 10_000 })).not.toBe(keyOf({ method: 'sparse' }));
    // maxOrder defaults to min(3, n), and 3 is refused below 3 players
    expect(keyOf({ method: 'sparse', maxOrder: 3 })).not.toBe(keyOf({ method: 'sparse' }));
    // the default modality refuses an input that is not a vector; modality tabular takes it
    expect(keyOf({ modality: 'tabular' })).not.toBe(keyOf({}));
    // tolerance auto without a method asks for the sparse method; nothing asks for the exact one
    expect(keyOf({ tolerance: 'auto' })).not.toBe(keyOf({}));
    expect(keyOf({ tolerance: 'auto' })).toBe(keyOf({ method: 'sparse' }));
  });

  it('keeps options that a run refuses as given, apart from any it takes', () => {
    // the exact method refuses the sparse options; the sparse one refuses a learned split's options
    expect(keyOf({ method: 'exact', tolerance: 'auto' })).not.toBe(keyOf({ method: 'exact' }));
    expect(keyOf({ method: 'sparse', decomposition: 'and-or' })).not.toBe(keyOf({ method: 'sparse' }));
    // a text model takes no baseline, an image's grid is not a tabular option, preset none runs no solver
    expect(keyOf({ modality: 'text', baseline: 'zero' })).not.toBe(keyOf({ modality: 'text' }));
    expect(keyOf({ grid: '4x4' })).not.toBe(keyOf({}));
    expect(keyOf({ preset: 'none', qthres: 0.04 })).not.toBe(keyOf({ preset: 'none' }));
    expect(keyOf({ salientRatio: 2 })).not.toBe(keyOf({}));
  });
});

describe('options with their defaults spelled out', () => {
  const MLP = model('breast-cancer-mlp.onnx');
  const SAMPLES = model('breast-cancer.samples.json');
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 1, threads: 1 });
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  /** A batch's results as JSON, without their timings (wall-clock times differ from run to run). */
  const resultsOf = async (options: Options) => {
    const batch = await engine.explainBatch({ model: MLP, samples: SAMPLES, rows: '0-1', cacheDir: false, ...options });
    return JSON.stringify(batch.results!.map((r) => resultToJson(r, { arrays: true })), (k, v: unknown) => (k === 'timings' || k === 'ms' ? undefined : v));
  };

  // what the keys' property test takes as one computation is one: computed twice, without a cache
  it.each([
    ['the exact method', { players: '0-5' }],
    ["the exact method under the authors' conventions", { players: '0-5', conventions: 'authors' }],
    ['the sparse method', { players: '0-9', method: 'sparse', budget: 600, maxOrder: 2 }],
  ])('compute what leaving them out computes (%s)', async (_name, options: Options) => {
    const spelled = spellOut(options, [true], []);
    expect(Object.keys(spelled).length).toBeGreaterThan(Object.keys(options).length + 5);
    expect(keyOf(spelled)).toBe(keyOf(options));
    expect(await resultsOf(spelled)).toBe(await resultsOf(options));
  }, CLI_MS);
});

describe('andor explain --samples --cache with the sparse method', () => {
  const MLP = model('breast-cancer-mlp.onnx');
  const SAMPLES = model('breast-cancer.samples.json');
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andor-cache-key-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The per-sample lines and the batch line of an --out file, without their timings. */
  const linesOf = async (file: string) => {
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Options);
    // the per-sample lines come in completion order (two samples in flight): compared by row
    const rowOf = (r: Options) => (r.sample as { row: number }).row;
    const results = lines.slice(0, -1).map(({ timings: _t, ...rest }) => rest).sort((a, b) => rowOf(a) - rowOf(b));
    return { results, batch: lines[lines.length - 1] as { samples: { cached: boolean }[] } };
  };

  it('reads a run with --tolerance auto back for the same run without it, and the same result', async () => {
    const cache = join(dir, 'cache');
    // n = 10 players, a budget below 2^10: the adaptive search, which the tolerance steers
    const flags = ['explain', '--model', MLP, '--samples', SAMPLES, '--rows', '0-1', '--players', '0-9', '--method', 'sparse', '--budget', '600', '--max-order', '2', '--cache', cache];
    const first = await runCli([...flags, '--tolerance', 'auto', '--out', join(dir, 'auto.jsonl')]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/samples {3}2 \(2 computed, 0 from the cache\)/);
    const second = await runCli([...flags, '--out', join(dir, 'default.jsonl')]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/samples {3}2 \(0 computed, 2 from the cache\)/);
    const [auto, left] = await Promise.all([linesOf(join(dir, 'auto.jsonl')), linesOf(join(dir, 'default.jsonl'))]);
    expect(auto.batch.samples.map((s) => s.cached)).toEqual([false, false]);
    expect(left.batch.samples.map((s) => s.cached)).toEqual([true, true]);
    expect(left.results).toHaveLength(2);
    expect(left.results).toEqual(auto.results);
    expect(left.results[0]).toMatchObject({ method: 'sparse', tolerance: { requested: 'auto' } });
    // another tolerance is another computation
    const other = await runCli([...flags, '--tolerance', '0.01', '--out', join(dir, 'other.jsonl')]);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toMatch(/samples {3}2 \(2 computed, 0 from the cache\)/);
  }, CLI_MS);
});
