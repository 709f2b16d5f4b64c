// The JSON form of results (schemas andor.explain/1 and andor.sparse/1), shared by the library, the CLI and the HTTP
// service, and the readable text summary the CLI prints.
import type { DynamicsResult } from '../studies/dynamics.js';
import type { ExplainResult, ExplanationHeader, InputLayout, RewardName } from '../explain/explain.js';
import { isSparseResult, type SparseResult } from '../explain/sparse.js';
import type { Preset } from '../analysis/decompose.js';
import { LP_MAX_PLAYERS } from '../analysis/split-lp.js';
import { BATCH_SCHEMA, DYNAMICS_SCHEMA, RESULT_SCHEMA, SPARSE_SCHEMA } from '../contracts/schema/constants.js';
import type { AggregateGroup, BatchResult } from '../studies/batch.js';
import { InvalidOptionError } from '../contracts/errors.js';
import { preview } from '../inputs/preview.js';

/** Schema ids of results; bumped when a field changes meaning. */
export { RESULT_SCHEMA, DYNAMICS_SCHEMA, BATCH_SCHEMA, SPARSE_SCHEMA };

/** options.arrays, default true: a value that is not a boolean ("no", 0) is refused, never read by its truthiness. */
function arraysOption(options: { arrays?: boolean } | undefined): boolean {
  const arrays: unknown = options?.arrays;
  if (arrays !== undefined && typeof arrays !== 'boolean') throw new InvalidOptionError(`options.arrays must be true or false (got ${preview(arrays)}).`);
  return arrays ?? true;
}

/** The JSON form of an explanation (schema andor.explain/1, ExplainResultSchema): typed arrays become number arrays.
 *  Written out rather than derived, so the package's .d.ts needs no TypeBox; test/types/schema.test-d.ts keeps the
 *  two in step. */
export interface ExplainResultJson {
  readonly schema: typeof RESULT_SCHEMA;
  readonly n: number;
  readonly players: readonly string[];
  readonly model?: { readonly file?: string; readonly sha256: string; readonly backend: string; readonly executionProvider: string; readonly input: string; readonly output: string };
  readonly sample?: { readonly id?: string; readonly label?: number; readonly row: number };
  readonly target?: number;
  readonly targetName?: string;
  readonly reward: RewardName | 'given';
  readonly baseline?: string;
  /** Reward on every mask; index bit i = player i present. */
  readonly v: readonly number[];
  /** Reorganized AND interactions by mask (∅ holds v(∅) + q(∅)). */
  readonly and: readonly number[];
  /** Reorganized OR interactions by mask (zero for |S| ≤ 1). */
  readonly or: readonly number[];
  readonly matching: { readonly maxAbsError: number; readonly relativeError: number; readonly maxAbsNoise: number };
  readonly threshold: number;
  readonly salient: readonly { readonly kind: 'and' | 'or'; readonly players: readonly number[]; readonly names: readonly string[]; readonly mask: number; readonly value: number }[];
  readonly orders: { readonly positive: readonly number[]; readonly negative: readonly number[]; readonly normalized: readonly number[] };
  /** Where the players sit in the masked input (left out with arrays: false). */
  readonly input?: {
    readonly modality: 'tabular' | 'image' | 'text' | 'pointcloud' | 'custom';
    readonly name: string;
    readonly dims: readonly number[];
    readonly values: readonly number[];
    readonly offsets: readonly number[];
    readonly indices: readonly number[];
    readonly tokens?: readonly string[];
  };
  readonly indices: {
    readonly shapley: readonly number[];
    readonly banzhaf: readonly number[];
    readonly order: number;
    readonly sii: readonly IndexTermJson[];
    readonly kSii: readonly IndexTermJson[];
    readonly stii: readonly IndexTermJson[];
    readonly fsii: readonly IndexTermJson[];
    /** Absent in results written before they were added. */
    readonly bii?: readonly IndexTermJson[];
    readonly chii?: readonly IndexTermJson[];
    readonly fbii?: readonly IndexTermJson[];
  };
  readonly decomposition: {
    readonly method: 'and' | 'and-or';
    readonly preset: Preset;
    readonly solver: string;
    readonly iterations: number;
    readonly lr: number;
    readonly qthres: number;
    readonly qBound: number;
    readonly objective: { readonly initial: number; readonly final: number };
    readonly trace: { readonly every: number; readonly values: readonly number[] };
    readonly salientCount: number;
    readonly ms: number;
    readonly diverged: boolean;
    readonly warning?: string;
  };
  readonly timings: Readonly<Record<string, number>>;
}

/** One entry of an interaction index: a set of players and its value. */
export interface IndexTermJson {
  readonly players: readonly number[];
  readonly value: number;
}

/** One term of a sparse expansion in JSON: players (ascending; [] = ∅), their names, the value, and whether it is
 *  exact (SparseTerm.exact). */
export interface SparseTermJson {
  readonly players: readonly number[];
  readonly names: readonly string[];
  readonly value: number;
  readonly exact?: true;
}

/** R² on held-out masks (null when none was held out) and how many. */
interface FaithfulnessJson {
  readonly r2: number | null;
  readonly heldOut: number;
}

/** The JSON form of a sparse explanation (schema andor.sparse/1, SparseResultSchema): term lists instead of 2^n
 *  arrays; salient terms carry no mask (a mask of more than 53 players is no JSON number). Written out, like
 *  ExplainResultJson; test/types/schema.test-d.ts keeps it in step with the schema. */
export interface SparseResultJson {
  readonly schema: typeof SPARSE_SCHEMA;
  readonly n: number;
  readonly players: readonly string[];
  readonly model?: ExplainResultJson['model'];
  readonly sample?: ExplainResultJson['sample'];
  readonly target?: number;
  readonly targetName?: string;
  readonly reward: RewardName | 'given';
  readonly baseline?: string;
  readonly method: 'sparse';
  /** exact: the budget covered all 2^n masks; adaptive: group testing from the budget. */
  readonly recovery: 'adaptive' | 'exact';
  readonly budget: number;
  /** Model evaluations used (distinct masks), held-out masks included. */
  readonly evaluations: number;
  readonly maxOrder: number;
  /** Noise floor of the search, as a share of |v(N) − v(∅)|: requested, and kept per expansion. */
  readonly tolerance: SparseResult['tolerance'];
  /** Which expansion the adaptive recovery kept, per expansion (absent in documents older than this property). */
  readonly fit?: SparseResult['fit'];
  readonly faithfulness: FaithfulnessJson & { readonly or: FaithfulnessJson };
  /** v(∅) and v(N) as evaluated. */
  readonly values: { readonly empty: number; readonly full: number };
  /** AND interactions (Möbius terms of v), strongest first, ∅ included. */
  readonly and: readonly SparseTermJson[];
  /** OR interactions (through the complement game), strongest first, ∅ included. */
  readonly or: readonly SparseTermJson[];
  readonly threshold: number;
  readonly salient: readonly { readonly kind: 'and' | 'or'; readonly players: readonly number[]; readonly names: readonly string[]; readonly value: number }[];
  readonly orders: ExplainResultJson['orders'];
  readonly indices: ExplainResultJson['indices'];
  /** No split is learned by the sparse method. */
  readonly decomposition: { readonly method: 'none' };
  readonly input?: ExplainResultJson['input'];
  readonly timings: Readonly<Record<string, number>>;
}

type Orders = { readonly positive: readonly number[]; readonly negative: readonly number[] };
type Maybe = number | null;
type Tally = { readonly count: readonly number[]; readonly strength: readonly number[] };
interface GeneralizationJson {
  readonly generalizable: readonly number[];
  readonly nonGeneralizable: readonly number[];
  readonly ratio: Maybe;
  readonly loss: Readonly<Record<string, { readonly output: number; readonly salient: number; readonly generalizable: number }>>;
}

/** The JSON form of a dynamics run (schema andor.dynamics/1, DynamicsResultSchema); NaN becomes null. */
export interface DynamicsResultJson {
  readonly schema: typeof DYNAMICS_SCHEMA;
  /** How every pair was explained (absent in runs written before it: exact). */
  readonly method?: 'exact' | 'sparse';
  readonly n: number;
  readonly players: readonly string[];
  readonly samples: { readonly train: number; readonly test: number; readonly ood: number };
  readonly checkpoints: readonly {
    readonly name: string;
    readonly file: string;
    readonly sha256: string;
    readonly epoch?: number;
    readonly orders: Orders;
    readonly normalized: readonly number[];
    readonly kappa: number;
    readonly highOrderShare: number;
    readonly trainLoss?: number;
    readonly testLoss?: number;
    readonly lossGap?: number;
    readonly ood?: { readonly orders: Orders; readonly normalized: readonly number[]; readonly highOrderShare: number };
    readonly jaccard?: readonly Maybe[];
    readonly generalization?: GeneralizationJson;
    readonly theory?: { readonly sigma2: number; readonly error: readonly Maybe[]; readonly distribution: readonly Maybe[] };
    readonly samples: readonly { readonly sample: number; readonly split: string; readonly kappa: Maybe; readonly salient: Maybe; readonly positive: readonly number[]; readonly negative: readonly number[]; readonly diverged?: true }[];
    readonly mixture: { readonly decayWeight: number; readonly rate: Maybe; readonly spindleWeight: number; readonly p: Maybe; readonly decayShare: Maybe; readonly residual: number };
    readonly cancellation: readonly Maybe[];
    readonly pairwise?: readonly number[];
  }[];
  readonly turningPoint: number;
  readonly gapRise: number | null;
  readonly theory: { readonly grid: readonly number[]; readonly sigma2: readonly number[]; readonly error: readonly (readonly Maybe[])[]; readonly ratio: readonly (readonly Maybe[])[] } | null;
  readonly jaccard: readonly Maybe[] | null;
  readonly generalization: { readonly ratio: readonly Maybe[]; readonly last: GeneralizationJson } | null;
  readonly transitions: readonly { readonly from: number; readonly to: number; readonly preserved: Tally; readonly removed: Tally; readonly emerged: Tally }[];
  readonly references: readonly string[];
  readonly pairs: { readonly computed: number; readonly cached: number };
  readonly timings: Readonly<Record<string, number>>;
}

interface AggregateGroupJson {
  readonly count: number;
  readonly orders: { readonly positive: readonly number[]; readonly negative: readonly number[]; readonly normalized: readonly number[] };
  readonly interactions: readonly { readonly kind: 'and' | 'or'; readonly players: readonly number[]; readonly names: readonly string[]; readonly mean: number; readonly std: number; readonly meanAbs: number; readonly salientIn: number }[];
}

/** The JSON form of a batch (schema andor.batch/1, BatchResultSchema). */
export interface BatchResultJson {
  readonly schema: typeof BATCH_SCHEMA;
  /** How every sample was explained (absent in batches written before it: exact). */
  readonly method?: 'exact' | 'sparse';
  readonly n: number;
  readonly players: readonly string[];
  readonly model: { readonly file?: string; readonly sha256: string };
  readonly samples: readonly { readonly row: number; readonly id?: string; readonly label?: number; readonly target: number; readonly targetName?: string; readonly cached: boolean; readonly evaluations?: number; readonly r2?: number | null }[];
  readonly shapley: readonly (readonly number[])[];
  readonly all: AggregateGroupJson;
  readonly classes: Readonly<Record<string, AggregateGroupJson>>;
  readonly classNames?: readonly string[];
  /** Each sample's result (the library and HTTP; the CLI streams them as JSON lines instead). */
  readonly results?: readonly (ExplainResultJson | SparseResultJson)[];
  readonly timings: Readonly<Record<string, number>>;
}

function groupJson(group: AggregateGroup, players: readonly string[]): AggregateGroupJson {
  return {
    count: group.count,
    orders: { positive: Array.from(group.orders.positive), negative: Array.from(group.orders.negative), normalized: Array.from(group.orders.normalized) },
    interactions: group.interactions.map(({ kind, players: ps, mean, std, meanAbs, salientIn }) => ({ kind, players: ps, names: ps.map((p) => players[p]), mean, std, meanAbs, salientIn })),
  };
}

/**
 * Converts a batch to its JSON schema.
 * @param result - a batch result
 * @param options - `arrays: false` leaves v/and/or/input out of each sample's result
 * @throws InvalidOptionError when options.arrays is given and is not a boolean
 */
export function batchToJson(result: BatchResult, options: { arrays?: boolean } = {}): BatchResultJson {
  arraysOption(options);
  const { method, n, players, model, samples, shapley, all, classes, classNames, results, timings } = result;
  return {
    schema: BATCH_SCHEMA,
    method,
    n,
    players,
    model,
    // NaN (an R² with nothing held out) is null in JSON
    samples: samples.map((s) => (s.r2 === undefined ? s : { ...s, r2: Number.isNaN(s.r2) ? null : s.r2 })),
    shapley: shapley.map((row) => Array.from(row)),
    all: groupJson(all, players),
    classes: Object.fromEntries(Object.entries(classes).map(([c, g]) => [c, groupJson(g, players)])),
    ...(classNames ? { classNames } : {}),
    ...(results ? { results: results.map((r) => resultToJson(r, options)) } : {}),
    timings,
  };
}

/** The JSON of what an explanation explained, the same in andor.explain/1 and andor.sparse/1. */
function headerJson(result: ExplanationHeader) {
  const { n, players, model, sample, target, targetName, baseline } = result;
  return { n, players, model, sample, target, targetName, reward: result.reward as RewardName | 'given', baseline };
}

/**
 * Converts a result to its JSON schema (plain arrays, player names on salient interactions): an exact result becomes
 * andor.explain/1, a sparse one andor.sparse/1.
 * @param result - an explain result (exact or sparse)
 * @param options - `arrays: false` leaves v/and/or empty and the input layout out, for large n
 * @throws InvalidOptionError when options.arrays is given and is not a boolean
 */
export function resultToJson(result: ExplainResult, options?: { arrays?: boolean }): ExplainResultJson;
export function resultToJson(result: SparseResult, options?: { arrays?: boolean }): SparseResultJson;
export function resultToJson(result: ExplainResult | SparseResult, options?: { arrays?: boolean }): ExplainResultJson | SparseResultJson;
export function resultToJson(result: ExplainResult | SparseResult, options: { arrays?: boolean } = {}): ExplainResultJson | SparseResultJson {
  if (isSparseResult(result)) return sparseToJson(result, options);
  const arrays = arraysOption(options);
  const list = (a: Float64Array) => (arrays ? Array.from(a) : []);
  return {
    schema: RESULT_SCHEMA,
    ...headerJson(result),
    v: list(result.v),
    and: list(result.and),
    or: list(result.or),
    matching: result.matching,
    threshold: result.threshold,
    salient: result.salient.map((s) => ({ kind: s.kind, players: s.players, names: s.players.map((p) => result.players[p]), mask: s.mask, value: s.value })),
    orders: { positive: Array.from(result.orders.positive), negative: Array.from(result.orders.negative), normalized: Array.from(result.orders.normalized) },
    input: arrays && result.layout ? inputJson(result.layout) : undefined,
    indices: { ...result.indices, shapley: Array.from(result.indices.shapley), banzhaf: Array.from(result.indices.banzhaf) },
    decomposition: { ...result.decomposition, trace: { every: result.decomposition.trace.every, values: Array.from(result.decomposition.trace.values) } },
    timings: result.timings,
  };
}

/**
 * Converts a sparse result to andor.sparse/1: term lists with player names; NaN (an R² with nothing held out) becomes
 * null.
 * @param result - a sparse result
 * @param options - `arrays: false` leaves the input layout out
 * @throws InvalidOptionError when options.arrays is given and is not a boolean
 */
export function sparseToJson(result: SparseResult, options: { arrays?: boolean } = {}): SparseResultJson {
  const arrays = arraysOption(options);
  const named = (terms: SparseResult['and']) => terms.map((t) => ({ players: [...t.players], names: t.players.map((p) => result.players[p]), value: t.value, ...(t.exact ? { exact: true as const } : {}) }));
  const r2 = (x: number) => (Number.isFinite(x) ? x : null);
  const { faithfulness: f } = result;
  return {
    schema: SPARSE_SCHEMA,
    ...headerJson(result),
    method: 'sparse',
    recovery: result.recovery,
    budget: result.budget,
    evaluations: result.evaluations,
    maxOrder: result.maxOrder,
    tolerance: result.tolerance,
    fit: result.fit,
    faithfulness: { r2: r2(f.r2), heldOut: f.heldOut, or: { r2: r2(f.or.r2), heldOut: f.or.heldOut } },
    values: result.values,
    and: named(result.and),
    or: named(result.or),
    threshold: result.threshold,
    salient: result.salient.map((s) => ({ kind: s.kind, players: [...s.players], names: s.players.map((p) => result.players[p]), value: s.value })),
    orders: { positive: Array.from(result.orders.positive), negative: Array.from(result.orders.negative), normalized: Array.from(result.orders.normalized) },
    indices: { ...result.indices, shapley: Array.from(result.indices.shapley), banzhaf: Array.from(result.indices.banzhaf) },
    decomposition: { method: 'none' },
    input: arrays && result.layout ? inputJson(result.layout) : undefined,
    timings: result.timings,
  };
}

function inputJson(layout: InputLayout): NonNullable<ExplainResultJson['input']> {
  const { modality, input, dims, values, offsets, indices, tokens } = layout;
  return { modality, name: input, dims: [...dims], values: Array.from(values), offsets: Array.from(offsets), indices: Array.from(indices), ...(tokens ? { tokens: [...tokens] } : {}) };
}

function fmt(x: number, digits = 4): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(digits - 1) : x.toFixed(digits);
}

/** The players of a summary line: every name up to 24, else the first 20 and a count. */
function playerList(players: readonly string[]): string {
  return players.length <= 24 ? players.join(', ') : `${players.slice(0, 20).join(', ')}, … (${players.length - 20} more)`;
}

/** The per-order lines of a summary. */
function orderLines(orders: { readonly positive: ArrayLike<number>; readonly negative: ArrayLike<number> }, n: number): string[] {
  const lines = ['orders    k:   positive   negative'];
  for (let k = 1; k <= n; k++) {
    const p = orders.positive[k];
    const q = orders.negative[k];
    if (p === 0 && q === 0) continue;
    lines.push(`        ${String(k).padStart(3)}: ${fmt(p).padStart(10)} ${fmt(q).padStart(10)}`);
  }
  return lines;
}

const timeLine = (t: Readonly<Record<string, number>>) => `time      ${Object.entries(t).map(([k, v]) => `${k.replace(/Ms$/, '')} ${v.toFixed(1)} ms`).join(', ')}`;

/** The supports ('0,4,9') of the terms marked exact. */
const exactKeys = (terms: SparseResult['and']): Set<string> => new Set(terms.filter((t) => t.exact).map((t) => t.players.join(',')));

/** A readable summary of a sparse result: evaluations, faithfulness, the strongest terms and the per-order strength. */
function summarizeSparse(result: SparseResult, top: number): string {
  const lines: string[] = [];
  const m = result.model;
  if (m) lines.push(`model     ${m.file ?? '(bytes)'}  [${m.backend}/${m.executionProvider}]  input "${m.input}" → output "${m.output}"`);
  lines.push(`players   n = ${result.n}: ${playerList(result.players)}`);
  const target = result.target === undefined ? '' : `, target class ${result.target}${result.targetName === undefined ? '' : ` (${result.targetName})`}`;
  lines.push(`reward    ${result.reward}${target}; v(∅) = ${fmt(result.values.empty)}, v(N) = ${fmt(result.values.full)}`);
  const f = result.faithfulness;
  const r2 = (x: number, held: number) => (held === 0 ? `${Number.isFinite(x) ? fmt(x) : '–'} on all 2^n masks` : `${Number.isFinite(x) ? fmt(x) : '–'} on ${held} held-out masks`);
  lines.push(`method    sparse (${result.recovery}): ${result.evaluations} of at most ${result.budget} evaluations, orders ≤ ${result.maxOrder}; ${result.and.length} AND and ${result.or.length} OR terms`);
  const { tolerance: t } = result;
  if (t.and !== null) lines.push(`tolerance ${t.requested}${t.requested === 'auto' ? ` (kept: AND ${t.and}, OR ${t.or})` : ''}`);
  if (result.fit.and !== null) lines.push(`fit       AND ${result.fit.and}, OR ${result.fit.or} (the expansion the validation masks kept)`);
  const exact = { and: exactKeys(result.and), or: exactKeys(result.or) };
  if (exact.and.size + exact.or.size > 0) lines.push(`exact     ${exact.and.size} AND and ${exact.or.size} OR values computed from v at every subset of their players; the others are estimates`);
  lines.push(`fidelity  R² AND ${r2(f.r2, f.heldOut)}; OR ${r2(f.or.r2, f.or.heldOut)}`);
  lines.push('split     none: AND = Möbius terms of v, OR = those of the complement game (no AND-OR split is learned)');
  lines.push(`salient   ${result.salient.length} terms with |I| ≥ ${fmt(result.threshold)}; strongest:`);
  for (const s of result.salient.slice(0, top)) {
    const mark = exact[s.kind].has(s.players.join(',')) ? '  exact' : '';
    lines.push(`  ${s.kind.toUpperCase().padEnd(3)} ${fmt(s.value).padStart(10)}  {${s.players.map((p) => result.players[p]).join(' · ')}}${mark}`);
  }
  lines.push(...orderLines(result.orders, result.n));
  lines.push(timeLine(result.timings));
  return lines.join('\n');
}

/**
 * A readable summary: model and reward, matching, top salient interactions and the per-order strength; for a sparse
 * result, the evaluations and faithfulness R² instead of the matching.
 * @param result - an explain result of either method
 * @param top - how many salient interactions to list
 * @param shown - warnings the caller has already shown (left out of the summary; the CLI prints each on stderr)
 */
export function summarize(result: ExplainResult | SparseResult, top = 12, shown: ReadonlySet<string> = new Set()): string {
  if (isSparseResult(result)) return summarizeSparse(result, top);
  const lines: string[] = [];
  const m = result.model;
  if (m) lines.push(`model     ${m.file ?? '(bytes)'}  [${m.backend}/${m.executionProvider}]  input "${m.input}" → output "${m.output}"`);
  lines.push(`players   n = ${result.n}: ${result.players.join(', ')}`);
  const target = result.target === undefined ? '' : `, target class ${result.target}${result.targetName === undefined ? '' : ` (${result.targetName})`}`;
  lines.push(`reward    ${result.reward}${target}; v(∅) = ${fmt(result.v[0])}, v(N) = ${fmt(result.v[result.v.length - 1])}`);
  const d = result.decomposition;
  const learned = d.preset === 'none' ? 'no learning (γ = q = 0)' : `preset ${d.preset} (${d.solver === 'lp' ? 'lp: the exact optimum' : `${d.solver}, ${d.iterations} iterations`}, |q| ≤ ${fmt(d.qBound)})`;
  lines.push(`split     ${d.method}, ${learned}; L1 objective ${fmt(d.objective.initial)} → ${fmt(d.objective.final)}${d.diverged ? '' : stillFalling(d.trace.values, result.n)}`);
  if (d.warning !== undefined && !shown.has(d.warning)) lines.push(`warning   ${d.warning}`);
  lines.push(`matching  max |v − rebuilt| = ${fmt(result.matching.maxAbsError)} (relative ${fmt(result.matching.relativeError)}; v + q rebuilt to ${fmt(result.matching.maxAbsNoise)})`);
  lines.push(`salient   ${result.salient.length} interactions with |I| ≥ ${fmt(result.threshold)}; strongest:`);
  for (const s of result.salient.slice(0, top)) {
    const names = s.players.map((p) => result.players[p]).join(' · ');
    lines.push(`  ${s.kind.toUpperCase().padEnd(3)} ${fmt(s.value).padStart(10)}  {${names}}`);
  }
  lines.push(...orderLines(result.orders, result.n));
  lines.push(timeLine(result.timings));
  return lines.join('\n');
}


/** Typed arrays (at any depth) become number arrays; NaN and ±Inf become null. */
function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as Float64Array, (x) => (Number.isFinite(x) ? x : null));
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** The JSON form of a dynamics result (schema andor.dynamics/1): the same fields with plain arrays. */
export function dynamicsToJson(result: DynamicsResult): DynamicsResultJson {
  return { schema: DYNAMICS_SCHEMA, ...(plain(result) as Omit<DynamicsResultJson, 'schema'>) };
}

/** How much the solver's objective fell over the last tenth of its iterations, when that is over STILL_FALLING (not
 *  asked of a diverged run: it falls back from its blow-up, and its warning's fix is another lr, not more iterations): a run
 *  stopped by its iteration count, far from where more iterations would take it (the default PDHG's 2000 on the
 *  bundled MLP at n = 12–14: 2.3–2.7 %; on an AND and an OR term of 8 players it ends at L1 3.52 where 200 000 reach
 *  1.92). The trace is the result's (every `every` iterations). */
function stillFalling(trace: ArrayLike<number>, n: number): string {
  const k = trace.length;
  if (k < 10) return '';
  const fall = (trace[Math.floor(0.9 * k)] - trace[k - 1]) / Math.abs(trace[k - 1]);
  return fall > STILL_FALLING ? ` (still falling: ${(100 * fall).toFixed(1)} % over the last tenth of the iterations; more --iterations give a closer split${n <= LP_MAX_PLAYERS ? ', --solver lp the least one' : ''})` : '';
}
const STILL_FALLING = 0.01;

/** A readable summary of a dynamics run: one line per checkpoint, then the turning point and the theory fit. */
export function summarizeDynamics(result: DynamicsResult): string {
  const lines: string[] = [];
  const { train, test, ood } = result.samples;
  lines.push(`players   n = ${result.n}: ${result.players.join(', ')}`);
  lines.push(`samples   ${train} train, ${test} test, ${ood} ood; ${result.checkpoints.length} checkpoints; pairs computed ${result.pairs.computed}, cached ${result.pairs.cached}`);
  if (result.method === 'sparse') lines.push('method    sparse: each pair\'s term lists from a budget; no theory fit (its solve is over all 2^n sets)');
  lines.push('checkpoint        κ     high≥3   gap      σ²        gen.share  strength by order (normalized, 1..n)');
  result.checkpoints.forEach((c, t) => {
    const single = result.checkpoints.length < 2;
    const mark = t === result.turningPoint && !single ? '◀ turning point' : t === result.gapRise ? '◀ gap rises' : '';
    const gap = c.lossGap === undefined ? '   –   ' : fmt(c.lossGap, 3).padStart(7);
    const gen = c.generalization ? fmt(c.generalization.ratio, 3).padStart(9) : '     –   ';
    const bars = Array.from(c.normalized.slice(1), (x) => ' ▁▂▃▄▅▆▇█'[Math.min(8, Math.round(x * 16))]).join('');
    lines.push(`${c.name.padEnd(16)} ${fmt(c.kappa, 3).padStart(6)} ${fmt(c.highOrderShare, 3).padStart(7)} ${gap}  ${c.theory ? c.theory.sigma2.toExponential(1).padEnd(9) : '–'.padEnd(9)} ${gen}  ${bars} ${mark}`);
  });
  if (result.checkpoints.length < 2) lines.push('turning   one checkpoint: no turning point (it needs checkpoints after initialization)');
  else lines.push(`turning   checkpoint ${result.turningPoint} (${result.checkpoints[result.turningPoint]?.name}) has the smallest mean order κ after initialization`);
  if (result.gapRise !== null) lines.push(`gap       the loss gap first rises at checkpoint ${result.gapRise} (${result.checkpoints[result.gapRise]?.name})`);
  if (result.jaccard) lines.push(`jaccard   train/test by order at the last checkpoint: ${Array.from(result.jaccard.slice(1), (x) => fmt(x, 2)).join(' ')}`);
  lines.push(`time      ${Object.entries(result.timings).map(([k, v]) => `${k.replace(/Ms$/, '')} ${(v / 1000).toFixed(1)} s`).join(', ')}`);
  return lines.join('\n');
}

/** A readable summary of a batch: how many samples, the strongest interactions overall and per class, and the mean
 *  strength per order. */
export function summarizeBatch(result: BatchResult, top = 8): string {
  const lines: string[] = [];
  const computed = result.samples.filter((s) => !s.cached).length;
  lines.push(`players   n = ${result.n}: ${result.players.join(', ')}`);
  lines.push(`samples   ${result.samples.length} (${computed} computed, ${result.samples.length - computed} from the cache)`);
  if (result.method === 'sparse') {
    const held = result.samples.filter((s) => s.r2 !== undefined && !Number.isNaN(s.r2));
    const worst = held.reduce<(typeof held)[number] | undefined>((w, s) => (w === undefined || s.r2! < w.r2! ? s : w), undefined);
    const evaluations = result.samples.map((s) => s.evaluations ?? 0);
    lines.push(`method    sparse: ${Math.min(...evaluations)}–${Math.max(...evaluations)} evaluations per sample; ${worst ? `held-out R² of the AND expansion ≥ ${fmt(worst.r2!)} (row ${worst.row})` : 'no held-out R² (constant games)'}`);
  }
  const describe = (title: string, group: AggregateGroup) => {
    lines.push(`${title.padEnd(9)} ${group.count} samples; strongest by mean |I| (mean ± std, salient in):`);
    for (const i of group.interactions.slice(0, top)) {
      lines.push(`  ${i.kind.toUpperCase().padEnd(3)} ${fmt(i.mean).padStart(10)} ± ${fmt(i.std).padEnd(8)} ${String(i.salientIn).padStart(4)}×  {${i.players.map((p) => result.players[p]).join(' · ')}}`);
    }
  };
  describe('all', result.all);
  for (const [c, group] of Object.entries(result.classes)) describe(`class ${c}${result.classNames?.[Number(c)] ? ` (${result.classNames[Number(c)]})` : ''}`, group);
  const bars = Array.from(result.all.orders.normalized.slice(1), (x) => ' ▁▂▃▄▅▆▇█'[Math.min(8, Math.round(x * 16))]).join('');
  lines.push(`orders    normalized strength 1..n: ${bars}`);
  lines.push(`time      ${Object.entries(result.timings).map(([k, v]) => `${k.replace(/Ms$/, '')} ${(v / 1000).toFixed(1)} s`).join(', ')}`);
  return lines.join('\n');
}
