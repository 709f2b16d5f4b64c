// `dynamics`: interactions of every (checkpoint, sample) pair of a training run, aggregated per checkpoint into the
// two-phase picture (per-order strength, normalized distribution, mean order κ, loss gap), the turning point, the
// theory fit (σ²(t)), train/test Jaccard, OOD strength and generalizable vs non-generalizable interactions. Pairs are
// cached on disk by model hash and options, so an interrupted run resumes where it stopped.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InvalidInputError, InvalidOptionError, MemoryLimitError, ModelLoadError } from '../contracts/errors.js';
import type { TensorInfo } from '../contracts/backend.js';
import type { OpenedModel } from '../pipeline/runner.js';
import type { KernelHost } from '../contracts/kernels.js';
import { cacheKey, openCache, type ResultCache } from '../explain/cache.js';
import { explainUnit, localExecutor, unitWarnings, type UnitResult } from '../explain/units.js';
import { warningSummary } from '../explain/warnings.js';
import { isSparseResult, type SparseResult } from '../explain/sparse.js';
import { withConventions } from '../explain/conventions.js';
import type { FlatTerms } from '../analysis/sparse/index.js';
import { namesByPosition, studyReference, type StudyContext } from './batch.js';
import { loadModelBytes, type ExplainRequest, type ExplainResult } from '../explain/explain.js';
import { generalization, setIndexOf, trainTestJaccard, type GeneralizationReport, type SampleInteractions, type SetIndex } from './generalization.js';
import { distribution } from '../analysis/interactions.js';
import { assertValid, misspelledKey } from '../inputs/validate.js';
import { DynamicsRequestSchema } from '../contracts/schema/requests.js';
import { parseJson, resolveSampleSet, type Sample, type SampleSet } from '../inputs/samples.js';
import { fitSigma2, sigma2Grid, theoryCurves } from './theory.js';
import { cancellationRatio, checkpointTransitions, fitDecaySpindle, multiOrderPairwise } from './measures.js';
import { previewJson } from '../inputs/preview.js';

/** Explain options that apply to every pair (the model, sample and signal come from the run). */
export type PairOptions = Omit<ExplainRequest, 'model' | 'sample' | 'row' | 'signal' | 'onProgress' | 'target'>;

/** Train/test losses per checkpoint, matched by name. */
export interface LossTable {
  readonly checkpoints: readonly { readonly name: string; readonly trainLoss: number; readonly testLoss: number; readonly epoch?: number }[];
}

/** Progress of a dynamics run. */
export interface DynamicsProgress {
  readonly done: number;
  readonly total: number;
  readonly cached: number;
  readonly model: string;
}

/** A dynamics run. */
export interface DynamicsRequest extends PairOptions {
  /** A folder (its epoch-*.onnx files, else all *.onnx, sorted by name) or an ordered list of ONNX files. */
  readonly checkpoints: string | readonly string[];
  /** Samples labelled with split 'train', 'test' or 'ood' (a sample set file or object). */
  readonly samples: string | SampleSet;
  /** Train/test loss per checkpoint: a JSON file, inline JSON or an object {checkpoints: [{name, trainLoss, testLoss}]}. */
  readonly losses?: string | LossTable;
  /** K models trained on the test split, to judge which interactions generalize. */
  readonly referenceModels?: string | readonly string[];
  /** Folder of cached pairs (default ".andor-cache"); false disables the cache. */
  readonly cacheDir?: string | false;
  /** Rise of the loss gap over its running minimum that marks over-fitting (default 0.02). */
  readonly gapTolerance?: number;
  /** Pairs evaluated at once (default 2: evaluation in workers overlaps the decomposition on this thread). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: DynamicsProgress) => void;
}

/** One checkpoint's aggregate. */
export interface CheckpointReport {
  readonly name: string;
  readonly file: string;
  readonly sha256: string;
  readonly epoch?: number;
  /** Salient strength per order of the normal (train + test) samples, averaged. */
  readonly orders: { readonly positive: Float64Array; readonly negative: Float64Array };
  readonly normalized: Float64Array;
  readonly kappa: number;
  readonly trainLoss?: number;
  readonly testLoss?: number;
  readonly lossGap?: number;
  /** The same for OOD samples, and the share of strength at orders ≥ 3 for normal and OOD samples. */
  readonly ood?: { readonly orders: { readonly positive: Float64Array; readonly negative: Float64Array }; readonly normalized: Float64Array; readonly highOrderShare: number };
  readonly highOrderShare: number;
  readonly jaccard?: Float64Array;
  readonly generalization?: GeneralizationReport;
  readonly theory?: { readonly sigma2: number; readonly error: Float64Array; readonly distribution: Float64Array };
  /** Each sample at this checkpoint (every split): its mean order κ, salient count and strength per order. */
  readonly samples: readonly SampleReport[];
  /** The normal samples' |strength| per order fitted as a decay-shaped plus a spindle-shaped part (arXiv 2502.10162). */
  readonly mixture: { readonly decayWeight: number; readonly rate: number; readonly spindleWeight: number; readonly p: number; readonly decayShare: number; readonly residual: number };
  /** |Σ I| / Σ |I| per order over the normal samples (arXiv 2606.08129); NaN where an order has no interaction. */
  readonly cancellation: Float64Array;
  /** Mean |I^(m)(i, j)| over pairs, per order m = 0..n−2, averaged over the normal samples (arXiv 2512.18607). */
  readonly pairwise?: Float64Array;
}

/** One sample at one checkpoint. */
export interface SampleReport {
  readonly sample: number;
  readonly split: string;
  readonly kappa: number;
  readonly salient: number;
  readonly positive: Float64Array;
  readonly negative: Float64Array;
  /** The pair's learned split diverged: its interactions are those of the best iterate (absent: it did not). */
  readonly diverged?: true;
}

/** What changed between consecutive checkpoints (arXiv 2605.17967): salient interactions kept (same kind and sign),
 *  removed and newly emerged, counted and summed per order over the normal samples. */
export interface TransitionReport {
  readonly from: number;
  readonly to: number;
  readonly preserved: { readonly count: Float64Array; readonly strength: Float64Array };
  readonly removed: { readonly count: Float64Array; readonly strength: Float64Array };
  readonly emerged: { readonly count: Float64Array; readonly strength: Float64Array };
}

/** The result of a dynamics run (schema andor.dynamics/1 once serialized). */
export interface DynamicsResult {
  /** How every pair was explained: exact (2^n arrays) or sparse (term lists from a budget; no theory). */
  readonly method: 'exact' | 'sparse';
  readonly n: number;
  readonly players: readonly string[];
  readonly samples: { readonly train: number; readonly test: number; readonly ood: number };
  readonly checkpoints: readonly CheckpointReport[];
  /** The checkpoint after initialization with the smallest κ (spec "Project decisions"). */
  readonly turningPoint: number;
  /** The first checkpoint where the loss gap exceeds its running minimum by more than gapTolerance; null if never. */
  readonly gapRise: number | null;
  /** The theory's fit (null for a sparse run: its solve is over all 2^n sets, which a sparse run does not hold). */
  readonly theory: {
    readonly grid: readonly number[];
    readonly sigma2: readonly number[];
    readonly error: readonly Float64Array[];
    /** r(k) = Σ_{|T|≤k}|ŵ| / Σ_{|T|>k}|ŵ| per σ² of the grid (rows) and k (columns). */
    readonly ratio: readonly Float64Array[];
  } | null;
  /** Train/test Jaccard per order at the last checkpoint (per checkpoint in checkpoints[].jaccard). */
  readonly jaccard: Float64Array | null;
  /** Generalizable share per checkpoint, and the last checkpoint's split. */
  readonly generalization: { readonly ratio: readonly number[]; readonly last: GeneralizationReport } | null;
  /** Interactions preserved, removed and emerged between consecutive checkpoints. */
  readonly transitions: readonly TransitionReport[];
  readonly references: readonly string[];
  readonly pairs: { readonly computed: number; readonly cached: number };
  readonly timings: Readonly<Record<string, number>>;
}

/** What a pair keeps: enough for every aggregate, small enough to cache. */
export interface PairRecord extends SampleInteractions {
  readonly positive: Float64Array;
  readonly negative: Float64Array;
  readonly output: number;
  readonly players: readonly string[];
  /** v on every mask (for the multi-order pairwise interactions); absent in synthetic series. */
  readonly v?: Float64Array;
  readonly salientCount?: number;
  /** The learned split diverged (decomposition.diverged). */
  readonly diverged?: true;
}

const PAIR_KEYS = [
  'names',
  'decomposition', 'preset', 'iterations', 'lr', 'qthres', 'solver', 'salientRatio', 'salientIncludeEmpty', 'indexOrder', 'modality', 'players', 'grid', 'blurSigma',
  'maskToken', 'maskMode', 'clusters', 'custom', 'input', 'output', 'baseline', 'reference', 'background', 'reward', 'batchSize',
  'method', 'budget', 'maxOrder', 'tolerance',
] as const;

/** The checkpoint files of a folder or list. */
export async function resolveCheckpoints(checkpoints: string | readonly string[]): Promise<string[]> {
  if (Array.isArray(checkpoints)) return nonEmpty(checkpoints.map(String), 'options.checkpoints');
  const spec = String(checkpoints);
  if (spec.includes(',')) return nonEmpty(listOf(spec), `options.checkpoints "${spec}"`);
  let isDir = false;
  try {
    isDir = (await stat(spec)).isDirectory();
  } catch (cause) {
    throw new InvalidInputError(`Cannot read the checkpoints ${spec}: ${(cause as NodeJS.ErrnoException).code ?? cause}. Give a folder of ONNX files or a comma-separated list.`, { cause });
  }
  if (!isDir) return [spec];
  // natural order: epoch-12 before epoch-1024, whatever the zero padding
  const onnx = (await readdir(spec)).filter((f) => f.endsWith('.onnx')).sort(new Intl.Collator('en', { numeric: true }).compare);
  const epochs = byEpochNumber(onnx.filter((f) => f.startsWith('epoch-')), spec);
  const files = (epochs.length > 0 ? epochs : onnx).map((f) => join(spec, f));
  if (files.length === 0) throw new InvalidInputError(`The folder ${spec} holds no .onnx checkpoints.`);
  return files;
}

/** The number of an epoch-<number>.onnx name: 16 for epoch-0016, 1.25 for epoch-1.25; NaN for another name. */
const epochOfName = (file: string): number => Number(/^epoch-(\d+(?:\.\d+)?)\.onnx$/.exec(basename(file))?.[1] ?? Number.NaN);

/**
 * A folder's epoch-<number> checkpoints by their number when every name has one: the natural order of names read
 * epoch-1.5 before epoch-1.25 (and epoch-0.5 before epoch-0), and ran the study out of training order in silence (a
 * sweep, stop 47). Two names of one number (epoch-1, epoch-01) are refused: which comes first is not known.
 * @param names - the folder's epoch-* files, in natural order (kept when a name has no number)
 * @throws InvalidInputError naming two files of one epoch
 */
function byEpochNumber(names: readonly string[], folder: string): string[] {
  const numbered = names.map((name) => ({ name, epoch: epochOfName(name) }));
  if (numbered.some((c) => Number.isNaN(c.epoch))) return [...names];
  numbered.sort((a, b) => a.epoch - b.epoch);
  const twin = numbered.findIndex((c, i) => i > 0 && c.epoch === numbered[i - 1].epoch);
  if (twin > 0) throw new InvalidInputError(`The folder ${folder} holds ${numbered[twin - 1].name} and ${numbered[twin].name}, both epoch ${numbered[twin].epoch}: dynamics reads one checkpoint per epoch, in training order. Remove one, or list the checkpoints to read.`);
  return numbered.map((c) => c.name);
}

/** The names of a comma-separated list, trimmed, empty ones left out. */
const listOf = (spec: string): string[] => spec.split(',').map((s) => s.trim()).filter(Boolean);

/** A list of checkpoint files that is not empty. */
function nonEmpty(files: string[], what: string): string[] {
  if (files.length === 0) throw new InvalidInputError(`${what} names no checkpoint; give a folder of ONNX files or a comma-separated list of them.`);
  return files;
}

/** The keys of a losses entry that andor reads. */
const LOSS_KEYS = ['name', 'trainLoss', 'testLoss', 'epoch'];

/** Reads and checks the losses before any pair is computed: a bad table must not cost a whole run. */
async function loadLosses(losses: DynamicsRequest['losses'], files: readonly string[]): Promise<LossTable | undefined> {
  if (losses === undefined) return undefined;
  // inline JSON as samples take it (a string starting with "{" or "["; '[1,2]' was read as a file name: ENOENT)
  const inline = typeof losses === 'string' && /^\s*[[{]/.test(losses);
  const source = inline ? 'the inline losses (options.losses)' : typeof losses === 'string' ? losses : 'options.losses';
  const table = (typeof losses !== 'string' ? losses : parseJson(inline ? losses : await readFile(losses, 'utf8').catch((cause) => {
    throw new InvalidInputError(`Cannot read the losses file ${losses}: ${(cause as NodeJS.ErrnoException).code ?? cause}. Give a JSON file, inline JSON or an object {"checkpoints": [...]}.`, { cause });
  }), source)) as LossTable;
  if (!table || !Array.isArray(table.checkpoints)) throw new InvalidInputError(`${source} must be {"checkpoints": [{"name", "trainLoss", "testLoss"}, ...]}.`);
  table.checkpoints.forEach((c, i) => {
    // a misspelt key was read as absent: "Epoch" lost the epochs in silence, "train_loss" said only that trainLoss
    // was missing (other keys, such as a run's accuracies, are the file's own)
    const typo = c && typeof c === 'object' ? misspelledKey(c as unknown as Record<string, unknown>, LOSS_KEYS) : undefined;
    if (typo) throw new InvalidInputError(`${source}: checkpoints[${i}] has the key "${typo.key}", which andor does not read, and no "${typo.field}": did you mean "${typo.field}"? An entry is {"name", "trainLoss", "testLoss", "epoch"?}.`);
    const ok = c && typeof c.name === 'string' && Number.isFinite(c.trainLoss) && Number.isFinite(c.testLoss) && (c.epoch === undefined || Number.isFinite(c.epoch));
    if (!ok) {
      // a number JSON cannot write (1e999 reads as Infinity) is named as read: the entry's JSON showed it as null
      const odd = c && typeof c === 'object' ? (['trainLoss', 'testLoss', 'epoch'] as const).filter((k) => typeof c[k] === 'number' && !Number.isFinite(c[k])).map((k) => `${k} is ${c[k]}`) : [];
      throw new InvalidInputError(`${source}: checkpoints[${i}] must be {"name": string, "trainLoss": number, "testLoss": number, "epoch"?: number} with finite numbers (got ${previewJson(c)}${odd.length > 0 ? `: ${odd.join(', ')}` : ''}).`);
    }
    // the gap is what the run reads: two finite losses can still be ±1.8e308 apart (found only after every pair ran)
    if (!Number.isFinite(c.testLoss - c.trainLoss)) throw new InvalidInputError(`${source}: checkpoints[${i}] (${previewJson(c.name)}) has losses whose gap testLoss − trainLoss overflows to ${c.testLoss - c.trainLoss}; give losses of a training run.`);
  });
  const names = new Set<string>();
  table.checkpoints.forEach((c, i) => {
    // the last entry of a name would win over the first, in silence
    if (names.has(c.name)) throw new InvalidInputError(`${source}: checkpoints[${i}] names ${previewJson(c.name)} again; give each checkpoint one entry.`);
    names.add(c.name);
  });
  const unmatched = files.map((f) => basename(f).replace(/\.onnx$/, '')).filter((name) => !names.has(name));
  if (unmatched.length > 0) {
    const entries = names.size === 0 ? 'it has no entries' : `its entries are named ${[...names].slice(0, 6).join(', ')}${names.size > 6 ? ', …' : ''}`;
    throw new InvalidInputError(`${source} has no losses for the checkpoint(s) ${unmatched.join(', ')}; ${entries}. Name each entry after its checkpoint file.`);
  }
  return table;
}

/**
 * Checkpoints checked to be in training order, by the epochs the losses give every one of them, else by the numbers
 * of their epoch-<number> names: the curves, the turning point and the transitions read the list's order as time, and
 * a list written backwards ran in silence (with losses that give no epochs too; sweeps, stops 46 and 47).
 * @throws InvalidInputError naming the first checkpoint listed after a later one, or two of one epoch
 */
function assertTrainingOrder(files: readonly string[], losses: LossTable | undefined, what: string): void {
  const names = files.map((f) => basename(f).replace(/\.onnx$/, ''));
  // a name given twice is refused as such, after this (one file listed twice, or two checkpoints of one name)
  if (new Set(names).size < names.length) return;
  const given = new Map(losses?.checkpoints.map((c) => [c.name, c.epoch]));
  const byLosses = names.every((name) => given.get(name) !== undefined);
  const epochs = names.map((name) => (byLosses ? (given.get(name) as number) : epochOfName(`${name}.onnx`)));
  if (epochs.some(Number.isNaN)) return;
  const k = epochs.findIndex((e, i) => i > 0 && !(e > epochs[i - 1]));
  if (k < 0) return;
  const source = byLosses ? 'the losses give' : 'their names give';
  const [before, after] = [names[k - 1], names[k]];
  if (epochs[k] === epochs[k - 1]) throw new InvalidInputError(`${what}: ${source} ${before} and ${after} both epoch ${epochs[k]}; dynamics reads one checkpoint per epoch, in training order. ${byLosses ? 'Give each its own epoch in the losses file.' : 'Give one of them.'}`);
  throw new InvalidInputError(`${what} lists ${after} (epoch ${epochs[k]}) after ${before} (epoch ${epochs[k - 1]}); dynamics reads the checkpoints in training order, one per epoch. List them by epoch, or give their folder (sorted by ${byLosses ? "the losses' epochs" : 'the numbers in their names'}).`);
}

/** A model's inputs or outputs as the runtime declares them. */
interface Signature {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
}

/** A cached signature: lists of {name, dtype, shape} for inputs and outputs. */
function isSignature(value: unknown): value is Signature {
  const infos = (list: unknown) => Array.isArray(list) && list.every((i) => typeof i?.name === 'string' && typeof i?.dtype === 'string' && Array.isArray(i?.shape) && i.shape.every((d: unknown) => typeof d === 'number' || typeof d === 'string'));
  return typeof value === 'object' && value !== null && infos((value as Signature).inputs) && infos((value as Signature).outputs);
}

/** A static dim: a size the graph fixes. A symbolic one (a string such as "batch", or a negative size) fixes none. */
const isStatic = (dim: number | string): dim is number => typeof dim === 'number' && dim >= 0;

/** Two shapes that may be one: the same rank, and equal sizes wherever both fix one. A symbolic dim tells nothing, so
 *  it matches any (one export of a network fixes its batch axis, another names it). */
const shapesAgree = (a: readonly (number | string)[], b: readonly (number | string)[]): boolean =>
  a.length === b.length && a.every((d, k) => !isStatic(d) || !isStatic(b[k]) || d === b[k]);

/**
 * How two models' inputs and outputs differ: their names (in order: the first output is the one read by default),
 * then each one's dtype and shape.
 * @returns one phrase per difference ('output "logits" is [batch, 3] in a.onnx but [batch, 2] in b.onnx (width 3 vs
 *   2)'); empty when the signatures agree
 */
function signatureDifferences(a: Signature, b: Signature, [nameA, nameB]: readonly [string, string]): string[] {
  const differences: string[] = [];
  const shape = (info: TensorInfo) => `[${info.shape.join(', ')}]`;
  for (const role of ['input', 'output'] as const) {
    const [x, y] = [a[`${role}s`], b[`${role}s`]];
    const names = (list: readonly TensorInfo[]) => list.map((i) => `"${i.name}"`).join(', ');
    if (names(x) !== names(y)) {
      const described = (list: readonly TensorInfo[]) => (list.length === 0 ? 'none' : list.map((i) => `"${i.name}" ${i.dtype} ${shape(i)}`).join(', '));
      differences.push(`the ${role}s are ${described(x)} in ${nameA} but ${described(y)} in ${nameB}`);
      continue;
    }
    x.forEach((info, k) => {
      const other = y[k];
      if (info.dtype !== other.dtype) differences.push(`${role} "${info.name}" is ${info.dtype} in ${nameA} but ${other.dtype} in ${nameB}`);
      if (shapesAgree(info.shape, other.shape)) return;
      const [last, otherLast] = [info.shape.at(-1), other.shape.at(-1)];
      const width = role === 'output' && info.shape.length === other.shape.length && last !== undefined && otherLast !== undefined && isStatic(last) && isStatic(otherLast) && last !== otherLast ? ` (width ${last} vs ${otherLast})` : '';
      differences.push(`${role} "${info.name}" is ${shape(info)} in ${nameA} but ${shape(other)} in ${nameB}${width}`);
    });
  }
  return differences;
}

/**
 * Checkpoints checked to be one network before any pair runs: a folder that mixed a 3-class and a 2-class model ran
 * and compared unlike things in silence (an adversarial sweep). Checkpoints of one network differ only in weights, so
 * each must declare the first's inputs and outputs (names, dtypes, static dims), as the runtime reads them on opening
 * it. The first stays open for the first pairs; the others are closed again, so the check leaves the sessions as it
 * found them (at most MAX_OPEN_MODELS open; the pairs open each in turn).
 * @param models - the checkpoints, in order, with their bytes
 * @param signal - the run's: once it aborts the check stops, and the run says the cancellation as a whole
 * @throws InvalidInputError naming the first checkpoint whose inputs or outputs differ from the first one's, how,
 *   and the fix
 */
async function assertOneNetwork(ctx: StudyContext, models: readonly { readonly file: string; readonly bytes: Uint8Array; readonly sha256: string; readonly role: 'checkpoint' | 'reference' }[], cache: ResultCache | undefined, signal: AbortSignal | undefined): Promise<void> {
  let first: { readonly file: string; readonly signature: Signature } | undefined;
  for (const m of models) {
    if (signal?.aborted) return;
    // a checkpoint's signature is kept in the cache by its sha256: a rerun read from the cache opens no model (each
    // checkpoint of a series of large models took a session's start)
    const key = cacheKey('signature', m.sha256);
    let signature = await cache?.get(key, isSignature);
    if (signature === undefined) {
      let opened: OpenedModel;
      try {
        opened = await ctx.runner.open(m.sha256, m.bytes, ctx.candidates);
      } catch (error) {
        // a file the runtime cannot read is refused by its first pair, named with its file and row as a run always
        // did (test/integration/faults-regressions.test.ts, 9g); there is no signature of it to compare
        if (error instanceof ModelLoadError) continue;
        throw error;
      }
      ctx.onOpened(opened);
      signature = { inputs: opened.inputs, outputs: opened.outputs };
      // best effort: a cache that cannot be written costs the next run a session's start, nothing else
      await cache?.put(key, signature).catch(() => undefined);
      // the first stays open for the first pairs
      if (first !== undefined) await ctx.runner.close(m.sha256);
    }
    if (first === undefined) {
      first = { file: m.file, signature };
      continue;
    }
    const differences = signatureDifferences(first.signature, signature, [basename(first.file), basename(m.file)]);
    if (differences.length > 0) {
      // a reference model (trained on the test split) is the same network too: its interactions are compared with
      // the checkpoints' set by set (the generalization measures)
      throw new InvalidInputError(
        m.role === 'checkpoint'
          ? `The checkpoints ${first.file} and ${m.file} are not one network saved at two epochs: ${differences.join('; ')}. ` +
              'Every checkpoint must be the same network saved at another epoch of one training run (the same input and output names, dtypes and shapes; only the weights differ): give the checkpoints of one run (--checkpoints), without other models.'
          : `The reference model ${m.file} is not the network of the checkpoint ${first.file}: ${differences.join('; ')}. ` +
              'A reference model is the same network trained on the test split (the same input and output names, dtypes and shapes; only the weights differ): give such models (--reference-models), or leave them out.',
      );
    }
  }
}

/** A sparse pair until every pair is in: its term lists as flat arrays (a result's term objects take several times
 *  the bytes, and a run holds every pair's at once) and what its record needs besides. */
interface SparsePair extends Omit<PairRecord, 'and' | 'or' | 'sets' | 'v'> {
  readonly kind: 'sparse';
  readonly n: number;
  readonly and: FlatTerms;
  readonly or: FlatTerms;
}

/** What a run keeps of each pair's result as it arrives: an exact pair's record, or a sparse pair's flat terms. */
type PairData = PairRecord | SparsePair;

const isSparsePair = (pair: PairData): pair is SparsePair => (pair as SparsePair).kind === 'sparse';

/** A result's term list as flat arrays: term t's players are flat[offsets[t]..offsets[t+1]). */
function flatTerms(terms: SparseResult['and']): FlatTerms {
  const offsets = new Int32Array(terms.length + 1);
  terms.forEach((t, k) => (offsets[k + 1] = offsets[k] + t.players.length));
  const flat = new Int32Array(offsets[terms.length]);
  terms.forEach((t, k) => flat.set(t.players, offsets[k]));
  return { offsets, flat, values: Float64Array.from(terms, (t) => t.value) };
}

/** What a run keeps of one pair's result. */
function pairData(result: UnitResult): PairData {
  if (!isSparseResult(result)) return exactRecord(result);
  const r = result;
  return {
    kind: 'sparse', n: r.n, and: flatTerms(r.and), or: flatTerms(r.or), threshold: r.threshold, positive: r.orders.positive, negative: r.orders.negative,
    output: r.values.full, players: r.players, salientCount: r.salient.length,
  };
}

/**
 * Every pair's record. An exact pair's vectors are its 2^n arrays. A sparse pair's are its term lists laid over one
 * index of every set that some pair of the run holds (entry 0: ∅; numbered in the pairs' order, so a rerun lays them
 * alike), so that one entry is one set in every pair and the measures read both alike; a set a pair does not list is
 * 0 there.
 * @param memoryMb - the engine's memory budget for the run's arrays (maxMemoryMb)
 * @throws MemoryLimitError when the sparse vectors (sets × pairs × 16 bytes) do not fit it
 */
function toRecords(pairs: readonly PairData[], memoryMb: number): PairRecord[] {
  const sparse = pairs.filter(isSparsePair);
  if (sparse.length === 0) return pairs as PairRecord[];
  if (sparse.length !== pairs.length) throw new InvalidInputError('The pairs of a dynamics run came back from both methods; give every pair the same method options.');
  const ids = new Map<string, number>([['', 0]]);
  const orders: number[] = [0];
  const keyOf = ({ offsets, flat }: FlatTerms, t: number) => flat.subarray(offsets[t], offsets[t + 1]).join(',');
  for (const pair of sparse) {
    for (const terms of [pair.and, pair.or]) {
      for (let t = 0; t < terms.values.length; t++) {
        const key = keyOf(terms, t);
        if (ids.has(key)) continue;
        ids.set(key, ids.size);
        orders.push(terms.offsets[t + 1] - terms.offsets[t]);
      }
    }
  }
  const bytes = ids.size * 16 * sparse.length;
  if (bytes > memoryMb * 2 ** 20) {
    throw new MemoryLimitError(`The sparse pairs of this run hold ${ids.size} distinct sets; laid over them, the ${sparse.length} pairs' AND and OR vectors need ${Math.ceil(bytes / 2 ** 20)} MiB, over the ${memoryMb} MiB limit (maxMemoryMb). Lower maxOrder or the budget, explain fewer samples or checkpoints, or raise maxMemoryMb.`);
  }
  const sets: SetIndex = { n: sparse[0].n, order: Uint16Array.from(orders) };
  const lay = (terms: FlatTerms) => {
    const vector = new Float64Array(ids.size);
    for (let t = 0; t < terms.values.length; t++) vector[ids.get(keyOf(terms, t))!] = terms.values[t];
    return vector;
  };
  return sparse.map(({ kind: _kind, n: _n, and, or, ...rest }) => ({ ...rest, and: lay(and), or: lay(or), sets, whole: true as const }));
}

function exactRecord(result: ExplainResult): PairRecord {
  return {
    and: result.and, or: result.or, threshold: result.threshold, positive: result.orders.positive, negative: result.orders.negative,
    output: result.v[result.v.length - 1], players: result.players, v: result.v, salientCount: result.salient.length,
    ...(result.decomposition.diverged ? { diverged: true as const } : {}),
  };
}

/** Samples by split (each has one: dynamics refuses a sample without); normal = train + test. */
function splits(samples: readonly Sample[]) {
  const by = (split: string) => samples.map((s, i) => ({ s, i })).filter(({ s }) => s.split === split);
  const [train, test, ood] = [by('train'), by('test'), by('ood')];
  return { train, test, ood, normal: [...train, ...test] };
}

function mean(arrays: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(arrays[0]?.length ?? 0);
  for (const a of arrays) for (let i = 0; i < a.length; i++) out[i] += a[i] / arrays.length;
  return out;
}

function highOrderShare(normalized: Float64Array): number {
  return normalized.reduce((s, x, k) => (k >= 3 ? s + x : s), 0);
}

/**
 * Runs the dynamics analysis over a training run.
 * @param ctx - the engine's runner and kernels
 * @param request - checkpoints, samples, losses, reference models, and the explain options of every pair
 */
export async function runDynamics(ctx: StudyContext & { kernels: KernelHost }, request: DynamicsRequest): Promise<DynamicsResult> {
  assertValid(DynamicsRequestSchema, request);
  // the conventions fill the pairs' options (and so their cache keys) as they do a single explain's
  request = withConventions(request);
  const started = performance.now();
  const gapTolerance = request.gapTolerance ?? 0.02;
  const concurrency = request.concurrency ?? 2;
  const files = await resolveCheckpoints(request.checkpoints);
  const set = await resolveSampleSet(request.samples, 'options.samples');
  const references = request.referenceModels === undefined ? [] : typeof request.referenceModels === 'string' ? listOf(request.referenceModels) : [...request.referenceModels];
  if (typeof request.referenceModels === 'string' && references.length === 0) throw new InvalidInputError(`options.referenceModels "${request.referenceModels}" names no model; give a comma-separated list of ONNX files, or leave it out.`);
  const losses = await loadLosses(request.losses, files);
  // a folder's checkpoints go in training order: by the losses' epochs when they give them
  if (losses && typeof request.checkpoints === 'string' && !request.checkpoints.includes(',')) {
    const epoch = new Map(losses.checkpoints.map((c) => [c.name, c.epoch]));
    const of = (f: string) => epoch.get(basename(f).replace(/\.onnx$/, ''));
    if (files.every((f) => of(f) !== undefined)) files.sort((a, b) => (of(a) as number) - (of(b) as number));
  }
  assertTrainingOrder(files, losses, 'options.checkpoints');
  const reference = await studyReference(request.reference, request.baseline, set);
  const options: PairOptions = { ...Object.fromEntries(PAIR_KEYS.filter((k) => request[k] !== undefined).map((k) => [k, request[k]])), ...(reference ? { reference } : {}) };
  const names = { ...(set.features ? { features: set.features } : {}), ...(set.classes ? { classes: set.classes } : {}) };

  // each sample says its split, as each says its label: one without was counted as test in silence (an adversarial
  // sweep, stop 43)
  const unsplit = set.samples.filter((s) => s.split === undefined).length;
  if (unsplit > 0) throw new InvalidInputError(`${unsplit} sample(s) of ${set.source} have no "split"; dynamics compares train, test and ood samples: give each "split": "train" | "test" | "ood".`);
  const { normal, train, test } = splits(set.samples);
  if (normal.length === 0) throw new InvalidInputError(`${set.source} has no samples with split "train" or "test"; label samples with "split": "train" | "test" | "ood".`);
  const unlabelled = set.samples.filter((s) => s.label === undefined).length;
  if (unlabelled > 0) throw new InvalidInputError(`${unlabelled} sample(s) of ${set.source} have no "label"; dynamics explains each sample's labelled class.`);
  // the train/test Jaccard compares a class's train and test samples: with no class in both it is NaN at every order,
  // which the summary printed with no reason (an adversarial sweep, stop 34); the other measures stand
  const [trainClasses, testClasses] = [train, test].map((list) => [...new Set(list.map(({ s }) => s.label as number))].sort((a, b) => a - b));
  if (train.length > 0 && test.length > 0 && !trainClasses.some((c) => testClasses.includes(c))) {
    ctx.onWarning?.(`No class of ${set.source} has both train and test samples (train: classes ${trainClasses.join(', ')}; test: ${testClasses.join(', ')}): the train/test Jaccard is per class, so it is NaN at every order. Give train and test samples of the same classes for it.`);
  }

  const models = [...files.map((file) => ({ file, role: 'checkpoint' as const })), ...references.map((file) => ({ file, role: 'reference' as const }))];
  const loaded = await Promise.all(models.map(async (m) => ({ ...m, ...(await loadModelBytes(m.file, m.role === 'checkpoint' ? '--checkpoints' : '--reference-models')) })));
  // a checkpoint twice (by path or by content) would be two points of training that are one
  const seen = new Map<string, string>();
  for (const m of loaded.filter((l) => l.role === 'checkpoint')) {
    const earlier = seen.get(m.sha256);
    if (earlier !== undefined) throw new InvalidInputError(`The checkpoints ${earlier} and ${m.file} are ${earlier === m.file ? 'one file listed twice' : 'the same model (sha256 ' + m.sha256.slice(0, 12) + '…)'}; give each checkpoint of the training run once.`);
    seen.set(m.sha256, m.file);
  }
  // ... and two checkpoints of one name would be told apart nowhere: the losses are matched by name, and the result
  // and the report name each checkpoint by it (a/epoch-0000.onnx and b/epoch-0000.onnx both took epoch-0000's losses;
  // an adversarial sweep, stop 45)
  const byName = new Map<string, string>();
  for (const m of loaded.filter((l) => l.role === 'checkpoint')) {
    const name = basename(m.file).replace(/\.onnx$/, '');
    const earlier = byName.get(name);
    if (earlier !== undefined) throw new InvalidInputError(`The checkpoints ${earlier} and ${m.file} are both named "${name}": the losses, the result and the report tell checkpoints apart by their file names. Rename one (e.g. epoch-0064.onnx).`);
    byName.set(name, m.file);
  }
  // the local run's cache (a queue's client keeps none): the pairs' results, and the checkpoints' signatures
  const cache = ctx.executor ? undefined : await openCache(request.cacheDir, 'options.cacheDir');
  // the checkpoints first (the first is the network the others are compared with), then the reference models
  await assertOneNetwork(ctx, loaded, cache, request.signal);
  // every checkpoint on every sample; reference models on the normal samples only
  const jobs = loaded.flatMap((m, mi) => (m.role === 'checkpoint' ? set.samples.map((_, si) => ({ mi, si })) : normal.map(({ i }) => ({ mi, si: i }))));
  const units = jobs.map(({ mi, si }) => explainUnit(loaded[mi], set.samples[si], si, options, names));
  // each kind of warning the pairs give said once, and counted (warnings.ts)
  const warnings = warningSummary(ctx.onWarning, 'pairs');
  // a pair's own warnings (kinds) are read from its result below, wherever it ran or was read from (unitWarnings)
  const unitCtx: StudyContext = { ...ctx, onWarning: (message, kind) => kind === undefined && warnings.onWarning(message) };
  const executor = unitCtx.executor ?? localExecutor(unitCtx, cache);
  let done = 0;
  let cachedCount = 0;
  // each pair's result is kept in the smaller form the aggregation reads, as it arrives
  const kept: PairData[] = new Array(units.length);
  const { cached } = await executor.run(units, {
    concurrency,
    context: unitCtx,
    signal: request.signal,
    keep: false,
    onResult: (index, result, fromCache) => {
      // the order distributions (κ, the decay-spindle mixture, the theory) need orders 1..n with n ≥ 2: said at the
      // first pair, not after all of them
      if (result.n < 2) throw new InvalidOptionError(`Dynamics needs at least 2 players: its measures compare interactions of different orders, and these options give ${result.n} (${result.players.join(', ')}). Give more players (--players).`);
      kept[index] = pairData(result);
      for (const [message, kind] of unitWarnings(units[index], result)) warnings.onWarning(message, kind);
      done++;
      if (fromCache) cachedCount++;
      request.onProgress?.({ done, total: units.length, cached: cachedCount, model: basename(loaded[jobs[index].mi].file) });
    },
  });
  warnings.summarize(units.length);
  const pairs = toRecords(kept, ctx.limits.maxMemoryMb);
  const records = new Map<string, PairRecord>(jobs.map(({ mi, si }, index) => [`${mi}:${si}`, pairs[index]]));
  const computedCount = cached.filter((c) => !c).length;
  const evaluatedMs = performance.now() - started;

  const result = aggregateDynamics({
    checkpoints: loaded.slice(0, files.length).map((m, mi) => ({ file: m.file, sha256: m.sha256, records: set.samples.map((_, si) => records.get(`${mi}:${si}`)) })),
    references: references.map((_, ri) => set.samples.map((_, si) => records.get(`${files.length + ri}:${si}`))),
    samples: set.samples,
    losses,
    gapTolerance,
    salientRatio: request.salientRatio ?? 0.05,
  });
  return {
    ...result,
    references,
    pairs: { computed: computedCount, cached: units.length - computedCount },
    timings: { pairsMs: evaluatedMs, theoryMs: performance.now() - started - evaluatedMs, totalMs: performance.now() - started },
  };
}

/** What the aggregation needs: per checkpoint and per reference model, one record per sample (undefined where a
 *  pair was not computed, e.g. reference models on OOD samples). */
export interface AggregateInput {
  readonly checkpoints: readonly { readonly file: string; readonly sha256: string; readonly records: readonly (PairRecord | undefined)[] }[];
  readonly references: readonly (readonly (PairRecord | undefined)[])[];
  readonly samples: readonly Sample[];
  readonly losses?: LossTable;
  readonly gapTolerance: number;
  readonly salientRatio: number;
}

/**
 * Aggregates per-sample interactions of every checkpoint into the run's report (no model evaluation: testable on
 * synthetic series).
 */
export function aggregateDynamics(input: AggregateInput): Omit<DynamicsResult, 'references' | 'pairs' | 'timings'> {
  const { references } = input;
  const { train, test, ood, normal } = splits(input.samples);
  const get = (mi: number, si: number) => input.checkpoints[mi].records[si]!;
  const first = get(0, normal[0].i);
  const { n } = setIndexOf(first);
  // a sparse run's records index the sets its expansions hold: the theory's solve needs all 2^n
  const sparse = first.sets !== undefined;
  // averaging across samples needs one number of players: a pair with more or fewer would be mixed in silently.
  // Their names may differ (a text's tokens, a point cloud's clusters name each sample's own parts): namesByPosition
  for (const [kind, list] of [['checkpoint', input.checkpoints.map((c) => c.records)], ['reference model', references]] as const) {
    list.forEach((records, mi) => records.forEach((r, si) => {
      if (!r) return;
      if (r.players.length !== first.players.length || r.and.length !== first.and.length) {
        throw new InvalidInputError(`Sample ${si} on ${kind} ${mi} has ${r.players.length} players [${r.players.join(', ')}], but sample ${normal[0].i} has ${n} [${first.players.join(', ')}]; dynamics averages over samples with the same players.`);
      }
    }));
  }
  const players = namesByPosition([...input.checkpoints.map((c) => c.records), ...references].flat().flatMap((r) => (r ? [r.players] : [])));
  const withLabel = (mi: number, list: typeof normal) => list.map(({ s, i }) => ({ ...get(mi, i), label: s.label as number }));
  const last = input.checkpoints.length - 1;

  // theory: w* = the last checkpoint's salient AND and OR interactions of the normal samples (its sparse AND-OR
  // model, Theorem 2), measured like the real curves (salient only)
  const salientOnly = (values: Float64Array, threshold: number) => values.map((x, m) => (m > 0 && Math.abs(x) >= threshold ? x : 0));
  const targets = normal.map(({ i }) => [get(last, i)].flatMap((r) => [salientOnly(r.and, r.threshold), salientOnly(r.or, r.threshold)]));
  const curves = sparse ? undefined : theoryCurves(targets, sigma2Grid(), input.salientRatio);
  const lossByName = new Map(input.losses?.checkpoints.map((c) => [c.name, c]) ?? []);
  const checkpoints: CheckpointReport[] = input.checkpoints.map((m, mi) => {
    const name = basename(m.file).replace(/\.onnx$/, '');
    const normalRecords = normal.map(({ i }) => get(mi, i));
    const orders = { positive: mean(normalRecords.map((r) => r.positive)), negative: mean(normalRecords.map((r) => r.negative)) };
    const { normalized, kappa } = distribution(orders);
    const fit = curves && fitSigma2(curves, normalized);
    const loss = lossByName.get(name);
    const oodRecords = ood.map(({ i }) => get(mi, i));
    const oodOrders = oodRecords.length ? { positive: mean(oodRecords.map((r) => r.positive)), negative: mean(oodRecords.map((r) => r.negative)) } : undefined;
    const oodNormalized = oodOrders ? distribution(oodOrders).normalized : undefined;
    const jaccard = train.length && test.length ? trainTestJaccard(withLabel(mi, train), withLabel(mi, test), n) : undefined;
    const gen = references.length
      ? generalization(normal.map(({ s, i }) => ({ ...get(mi, i), split: s.split!, references: references.map((r) => r[i]!) })), n)
      : undefined;
    const samples = input.samples.map((sample, si) => {
      const r = get(mi, si);
      return { sample: si, split: sample.split!, kappa: distribution(r).kappa, salient: r.salientCount ?? NaN, positive: r.positive, negative: r.negative, ...(r.diverged ? { diverged: true as const } : {}) };
    });
    const strength = Float64Array.from(orders.positive, (p, k) => (k === 0 ? 0 : p - orders.negative[k]));
    const fitted = fitDecaySpindle(strength);
    const mixture = { decayWeight: fitted.decay.weight, rate: fitted.decay.rate, spindleWeight: fitted.spindle.weight, p: fitted.spindle.p, decayShare: fitted.decayShare, residual: fitted.residual };
    const pairwise = normalRecords.every((r) => r.v) && n >= 2 ? mean(normalRecords.map((r) => multiOrderPairwise(r.v!).strength)) : undefined;
    return {
      name, file: m.file, sha256: m.sha256, epoch: loss?.epoch,
      samples, mixture, cancellation: cancellationRatio(normalRecords), pairwise,
      orders, normalized, kappa, highOrderShare: highOrderShare(normalized),
      trainLoss: loss?.trainLoss, testLoss: loss?.testLoss, lossGap: loss ? loss.testLoss - loss.trainLoss : undefined,
      ood: oodOrders && oodNormalized ? { orders: oodOrders, normalized: oodNormalized, highOrderShare: highOrderShare(oodNormalized) } : undefined,
      jaccard, generalization: gen,
      ...(curves && fit ? { theory: { sigma2: fit.sigma2, error: fit.error, distribution: curves.normalized[fit.index] } } : {}),
    };
  });
  if (input.losses && checkpoints.some((c) => c.lossGap === undefined)) {
    const missing = checkpoints.filter((c) => c.lossGap === undefined).map((c) => c.name);
    throw new InvalidInputError(`The losses have no entry for checkpoint(s) ${missing.join(', ')}; entries are matched by "name" (the file name without .onnx).`);
  }
  return {
    method: sparse ? 'sparse' : 'exact',
    n, players,
    samples: { train: train.length, test: test.length, ood: ood.length },
    checkpoints,
    turningPoint: turningPoint(checkpoints.map((c) => c.kappa)),
    gapRise: input.losses ? gapRise(checkpoints.map((c) => c.lossGap as number), input.gapTolerance) : null,
    theory: curves ? { grid: curves.grid, sigma2: checkpoints.map((c) => c.theory!.sigma2), error: checkpoints.map((c) => c.theory!.error), ratio: curves.ratio } : null,
    jaccard: checkpoints[last].jaccard ?? null,
    generalization: references.length ? { ratio: checkpoints.map((c) => c.generalization!.ratio), last: checkpoints[last].generalization! } : null,
    transitions: checkpointTransitions(input.checkpoints.map((_, mi) => normal.map(({ i }) => get(mi, i)))).map(({ from, to, preserved, removed, emerged }) => ({
      from, to, preserved: { count: preserved.count, strength: preserved.strength }, removed: { count: removed.count, strength: removed.strength }, emerged: { count: emerged.count, strength: emerged.strength },
    })),
  };
}

/** The index after initialization (≥ 1) with the smallest mean order κ among the checkpoints that have salient
 *  interactions (κ = 0 means none: every |I| under the threshold, e.g. a salient max that includes a large ∅ term;
 *  such a checkpoint has no distribution, not one of order 0); 1 when none after initialization has any; 0 with a
 *  single checkpoint. */
export function turningPoint(kappa: readonly number[]): number {
  if (kappa.length < 2) return 0;
  let best = -1;
  for (let t = 1; t < kappa.length; t++) if (kappa[t] > 0 && (best < 0 || kappa[t] < kappa[best])) best = t;
  return best < 0 ? 1 : best;
}

/** The first index whose loss gap exceeds the running minimum of the earlier gaps by more than `tolerance`. */
export function gapRise(gaps: readonly number[], tolerance: number): number | null {
  if (gaps.some((g) => !Number.isFinite(g))) throw new InvalidOptionError('Every loss gap must be a finite number.');
  let low = gaps[0];
  for (let t = 1; t < gaps.length; t++) {
    if (gaps[t] - low > tolerance) return t;
    low = Math.min(low, gaps[t]);
  }
  return null;
}
