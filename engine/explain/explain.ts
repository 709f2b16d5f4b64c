// The explain pipeline: request → model and sample → players and plan → evaluation of all 2^n masks → reward v →
// interactions, matching, salient set and per-order strength. Also explains a given game (v without a model).
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { CancelledError, InvalidInputError, InvalidOptionError, ModelLoadError, ModelRunError, ShapeMismatchError } from '../contracts/errors.js';
import type { DType, TensorInfo } from '../contracts/backend.js';
import type { KernelHost } from '../contracts/kernels.js';
import { MAX_PLAYERS } from '../contracts/limits.js';
import { assertFiniteRewards } from '../pipeline/evaluate.js';
import { rewardOf } from '../pipeline/masking.js';
import { analysisSettings, type AnalysisOptions, type GameAnalysis } from '../analysis/game.js';
import { assertSolverFits } from '../analysis/decompose.js';
import { preview } from '../inputs/preview.js';
import { assertCallbacks, assertValid, didYouMean, watchProgress } from '../inputs/validate.js';
import { ExplainRequestSchema, GameRequestSchema } from '../contracts/schema/requests.js';
import { MODALITIES, REWARDS } from '../contracts/schema/constants.js';
import { assertPlanFits, assertPlayersFit, batchAxisOf, chooseBatchSize, isUnbatched, resolveSampleDims, unbatchedDims, type BatchAxis, type Limits, type MaskPlan, type PlanInput, type RewardSpec } from '../pipeline/plan.js';
import {
  customLayout, imageLayout, pointCloudLayout, tabularLayout, textLayout, type BaselineSpec, type CustomLayout, type LayoutContext, type PlayerLayout,
} from '../pipeline/players.js';
import { changingPlayers, expandGame, keepPlayers } from '../pipeline/null-players.js';
import type { Candidate } from '../pipeline/registry.js';
import type { EvaluateOptions, OpenedModel, Runner } from '../pipeline/runner.js';
import { assertFiniteValues, assertSameLayout, checkSample, flattenNumbers, loadSampleSet, loadValues, pickSample, resolveSampleSet, type Sample, type SampleSet } from '../inputs/samples.js';
import { playersOf } from '../analysis/transforms.js';
import { withConventions } from './conventions.js';
import type { WarningSink } from './warnings.js';

/** Reward functions (spec §1.3); the -v0 variants subtract v(∅). */
export { REWARDS, MODALITIES };
export type RewardName = (typeof REWARDS)[number];
export type Modality = (typeof MODALITIES)[number];

// The request types are written out (with their docs) rather than derived from the schemas, so that the package's
// .d.ts files never load TypeBox's type-level machinery into a consumer's compiler; test/types/schema.test-d.ts
// fails when a type and its schema (ExplainRequestSchema, GameRequestSchema) disagree.

/** Options shared by model explanations and game explanations. */
export interface AnalysisRequest extends AnalysisOptions {
  /** 'and' = Harsanyi dividends (with learned noise q unless preset 'none'); 'and-or' = the AND-OR split (default). */
  readonly decomposition?: 'and' | 'and-or';
  /** Salient ratio r of the threshold r · max|I| (default 0.05). */
  readonly salientRatio?: number;
  /** Count the ∅ term in the salient max (default false, spec "Project decisions"). */
  readonly salientIncludeEmpty?: boolean;
  /** Whose defaults fill the options left out: 'andor' (default) or 'authors' (engine/explain/conventions.ts). */
  readonly conventions?: 'andor' | 'authors';
  /** Largest order of the interaction indices reported (default 2; 0: none). */
  readonly indexOrder?: number;
  /** Player names (default: from the sample set, else x0, x1, …). */
  readonly names?: readonly string[];
}

/** One explanation of a model on a sample. */
export interface ExplainRequest extends AnalysisRequest {
  /** Path of the ONNX file, or its bytes. */
  readonly model: string | Uint8Array;
  /** The sample: a Sample, inline JSON, or a .json/.csv/.npy path. */
  readonly sample: Sample | string;
  /** Row of a multi-sample source (default 0). */
  readonly row?: number;
  /** How players map to input elements (default 'tabular'). */
  readonly modality?: Modality;
  /** Player units ("0-9" or [0, 1, …]): feature columns (tabular), grid cells (image), token positions (text),
   *  clusters (pointcloud). Default: all units. */
  readonly players?: string | readonly number[];
  /** Image: the grid of cells over H×W, "RxC" (default "4x4"). */
  readonly grid?: string | readonly [number, number];
  /** Image: σ in pixels of the blur baseline. */
  readonly blurSigma?: number;
  /** Text: the id written at absent positions (token mode). */
  readonly maskToken?: number;
  /** Text: 'token' (default) replaces absent tokens with maskToken; 'attention' zeroes the attention mask there. */
  readonly maskMode?: 'token' | 'attention';
  /** Point cloud: number of clusters (default 10). */
  readonly clusters?: number;
  /** Custom players (modality 'custom'): element indices per player and a per-element baseline. */
  readonly custom?: CustomLayout;
  /** The model input to mask (default: the first input). */
  readonly input?: string;
  /** The model output to read (default: the first output). */
  readonly output?: string;
  /** zero | mean (of reference rows) | marginal (the reward's mean over the reference rows, each in turn the values
   *  of the absent players: evaluations × rows) | blur (image) | centroid, center (point cloud) | one value per input element |
   *  a SampleSet whose first row is the baseline, read as the sample is (the masked input by name; columns and
   *  layout checked against the sample's). */
  readonly baseline?: 'zero' | 'mean' | 'marginal' | 'blur' | 'centroid' | 'center' | Float64Array | readonly number[] | SampleSet;
  /** Reference rows for the 'mean' and 'marginal' baselines: a SampleSet or a path (default: the sample file's rows). */
  readonly reference?: SampleSet | string;
  readonly background?: 'keep' | 'mask';
  /** Target class (or output element for 'output'); default: the sample's label, else the predicted class. */
  readonly target?: number;
  readonly reward?: RewardName;
  /** Rows per model run (default: automatic; fixed-batch models use their batch size). */
  readonly batchSize?: number;
  /** 'exact': all 2^n masks and the learned split; 'sparse': AND and OR terms up to maxOrder from a budget of
   *  evaluations (engine/explain/sparse.ts). Default: sparse when budget or maxOrder is given or the 2^n arrays do
   *  not fit the memory (maxMemoryMb, the kernels' 4 GiB), else exact. */
  readonly method?: 'exact' | 'sparse';
  /** Sparse: most model evaluations, AND and OR expansions together (default 10 000). */
  readonly budget?: number;
  /** Sparse: largest interaction order recovered (default 3). */
  readonly maxOrder?: number;
  /** Sparse: noise floor of the search, as a share of |v(N) − v(∅)| (σ of a noisy game: residuals under about 6σ are left out; default auto, staged). */
  readonly tolerance?: number | 'auto';
  readonly signal?: AbortSignal;
  readonly onProgress?: EvaluateOptions['onProgress'];
}

/** A game given as values: v on all 2^n masks. */
export interface GameRequest extends AnalysisRequest {
  readonly values: Float64Array | readonly number[] | string;
  /** Cancels the decomposition between chunks of iterations. */
  readonly signal?: AbortSignal;
}

/** What andor reports for one explanation (the library form; resultToJson gives the JSON schema). */
export interface ExplainResult extends Omit<GameAnalysis, 'timings'> {
  readonly n: number;
  readonly players: readonly string[];
  readonly model?: { readonly file?: string; readonly sha256: string; readonly backend: string; readonly executionProvider: string; readonly input: string; readonly output: string };
  readonly sample?: { readonly id?: string; readonly label?: number; readonly row: number };
  readonly target?: number;
  readonly reward: string;
  readonly baseline?: string;
  readonly timings: Readonly<Record<string, number>>;
  /** Where the players sit in the masked input (for drawing them; not part of the JSON schema). */
  readonly layout?: InputLayout;
}

/** What every explanation reports of what it explained, whichever its method. */
export interface ExplanationHeader {
  readonly n: number;
  readonly players: readonly string[];
  readonly model?: { readonly file?: string; readonly sha256: string; readonly backend: string; readonly executionProvider: string; readonly input: string; readonly output: string };
  readonly sample?: { readonly id?: string; readonly label?: number; readonly row: number };
  readonly target?: number;
  /** The target's class name, when the sample set lists its classes. */
  readonly targetName?: string;
  readonly reward: string;
  readonly baseline?: string;
}

/** What andor reports for one explanation (the library form; resultToJson gives the JSON schema). */
export interface ExplainResult extends Omit<GameAnalysis, 'timings'>, ExplanationHeader {
  readonly timings: Readonly<Record<string, number>>;
  /** Where the players sit in the masked input (for drawing them; not part of the JSON schema). */
  readonly layout?: InputLayout;
}

/** The masked input of an explanation and the elements each player owns. */
export interface InputLayout {
  readonly modality: Modality;
  readonly input: string;
  /** Dims of one sample of the masked input. */
  readonly dims: readonly number[];
  /** The sample's values of that input. */
  readonly values: Float64Array;
  /** Player i owns elements indices[offsets[i]..offsets[i+1]). */
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
  readonly tokens?: readonly string[];
}


/** Everything explain needs from the engine. */
export interface ExplainContext {
  readonly runner: Runner;
  readonly kernels: KernelHost;
  readonly candidates: readonly Candidate[];
  readonly limits: Limits;
  /** Called once a model is open, with the attempts that failed before its backend worked. */
  readonly onOpened: (model: OpenedModel) => void;
  /** Called with what went wrong but still gave a result (a decomposition that diverged: its best iterate), and its
   *  kind where the units of a run may each give it (warnings.ts). */
  readonly onWarning?: WarningSink;
}

/** An explanation prepared up to its plan: the model open, the sample, the players and the plan (its reward not yet
 *  targeted). What the sparse method continues from. */
export interface PreparedExplain {
  readonly request: ExplainRequest;
  readonly model: OpenedModel;
  readonly file?: string;
  readonly sha256: string;
  readonly sample: Sample;
  readonly set?: SampleSet;
  readonly row: number;
  readonly rewardName: RewardName;
  readonly kind: RewardSpec['kind'];
  /** The model output the reward reads. */
  readonly output: string;
  readonly plan: MaskPlan;
  readonly layout: PlayerLayout;
  readonly input: InputLayout;
  readonly timings: Record<string, number>;
  /** performance.now() when the explanation started. */
  readonly started: number;
  /** A unit of a batch or dynamics run (ExplainSource.unit). */
  readonly unit?: boolean;
}

/** Another method plugged into explainModel by the API layer (the sparse one: engine/explain/sparse.ts): whether it
 *  takes a request once n is known, and its run from the prepared explanation. */
export interface MethodDispatch<R> {
  takes(request: ExplainRequest, n: number, limits: Limits): boolean;
  run(ctx: ExplainContext, prepared: PreparedExplain): Promise<R>;
}

/** ONNX's limit for one file (a protobuf message is at most 2 GiB). */
const MAX_MODEL_BYTES = 2 ** 31;

/** Reads an ONNX file (or takes its bytes) and its sha256; `option` names where the path came from in messages. */
export async function loadModelBytes(model: string | Uint8Array, option = '--model'): Promise<{ bytes: Uint8Array; sha256: string; file?: string }> {
  let bytes: Uint8Array;
  if (typeof model === 'string') {
    try {
      // a FIFO without a writer would block the read for ever, and a device (/dev/zero) never end it
      const file = await stat(model);
      if (!file.isFile()) throw new ModelLoadError(`The model ${model} is not a regular file (${file.isDirectory() ? 'a folder' : 'a device, pipe or socket'}); give the path of an ONNX file (${option}).`);
      if (file.size > MAX_MODEL_BYTES) throw new ModelLoadError(`The model ${model} is ${(file.size / 2 ** 30).toFixed(1)} GiB, above ONNX's 2 GiB limit for one file; a larger model keeps its weights in external data files, which andor does not read.`);
      bytes = await readFile(model);
    } catch (cause) {
      if (cause instanceof ModelLoadError) throw cause;
      throw new ModelLoadError(`Cannot read the model file ${model}: ${(cause as NodeJS.ErrnoException).code ?? cause}. Check the path (${option}).`, { cause });
    }
  } else if (model instanceof Uint8Array) bytes = model;
  else throw new InvalidOptionError(`options.model must be a path or the bytes of an ONNX file (got ${typeof model}).`);
  if (bytes.byteLength === 0) throw new ModelLoadError(`The model ${typeof model === 'string' ? model : '(bytes)'} is empty; expected an ONNX file.`);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), file: typeof model === 'string' ? model : undefined };
}

function dtypeOf(info: TensorInfo): DType {
  const ok: readonly string[] = ['float32', 'float64', 'int32', 'int64', 'bool'];
  if (!ok.includes(info.dtype)) {
    throw new ModelLoadError(`Input "${info.name}" has dtype ${info.dtype}, which andor cannot feed. Supported: ${ok.join(', ')}.`);
  }
  return info.dtype as DType;
}

/** The values an integer input can hold exactly: int64 as far as a JavaScript number is exact. */
const INTEGER_RANGES: Partial<Record<DType, readonly [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  bool: [0, 1],
};

/**
 * A sample's values fit its input's dtype. For an integer input, integers in its range: 3.5 or 2^32 + 1 would
 * otherwise be rounded (int64), truncated or wrapped (int32) in silence, and the same sample would give other numbers
 * on each twin. For a float32 input, values float32 can hold: 1e39 reached the model as Infinity, and its NaN output
 * was blamed on the model (a sweep, stop 47).
 */
function assertValuesFit(info: TensorInfo, values: Float64Array, what = 'the sample'): void {
  if (info.dtype === 'float32') {
    const at = values.findIndex((x) => !Number.isFinite(Math.fround(x)));
    if (at >= 0) throw new InvalidInputError(`Input "${info.name}" is float32, but ${what} has ${values[at]} at element ${at}, beyond float32's range (±3.4028235e+38): it would reach the model as ${values[at] > 0 ? '' : '-'}Infinity. Rescale the values.`);
    return;
  }
  const range = INTEGER_RANGES[info.dtype as DType];
  if (range === undefined) return;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isInteger(x) || x < range[0] || x > range[1]) {
      throw new InvalidInputError(`Input "${info.name}" is ${info.dtype}, but ${what} has ${x} at element ${i}; give integers in ${range[0]}..${range[1]}.`);
    }
  }
}

/** CancelledError when the signal aborted while a last step that does not hear it ran (a service's job that ended
 *  as its client left; the CLI's Ctrl-C, whose run went on to write its --out). */
function assertNotStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError('The explanation was cancelled.', { cause: signal.reason });
}

/** Resolves the sample (object, inline JSON or file) and the set it came from. */
async function resolveSample(request: ExplainRequest, from?: SampleSet): Promise<{ sample: Sample; set?: SampleSet; row: number }> {
  const row = request.row ?? 0;
  if (from && typeof request.sample === 'object') return { sample: request.sample, set: from, row };
  if (typeof request.sample === 'string') {
    const set = await loadSampleSet(request.sample);
    return { sample: pickSample(set, row), set, row };
  }
  if (request.sample && typeof request.sample === 'object' && 'values' in request.sample) return { sample: checkSample(request.sample, 'options.sample'), row };
  // a sample file's row form ({x}) given as an object: say where each form goes
  const fileRow = request.sample && typeof request.sample === 'object' && 'x' in request.sample;
  throw new InvalidOptionError(`options.sample must be a Sample object ({values}), inline JSON, or the path of a .json, .csv or .npy file.${fileRow ? ' It has "x", the key of a row in a sample file: as an object it is {values: [...]}, or pass the file (or its JSON as a string).' : ''}`);
}

/** Inputs a sample may leave out, filled with 1s: Hugging Face's attention masks (1 = attend). */
const ATTENTION_MASK = /^(attention|input)_?mask$/i;

function sampleValuesFor(sample: Sample, input: TensorInfo, isMasked: boolean, inputs: readonly TensorInfo[]): Float64Array {
  const values = sample.values;
  if (values instanceof Float64Array) {
    if (isMasked || inputs.length === 1) return values;
  } else {
    // a sample that names an input the model does not have is a typo ("attn_mask"): never paper over it, also when
    // every input is given besides it (an extra "input_idz" beside "input_ids" was dropped in silence; a sweep, stop 47)
    const names = inputs.map((i) => i.name);
    const stray = Object.keys(values).find((k) => !names.includes(k));
    if (stray !== undefined) {
      // a close spelling, else the one input the sample leaves out ("attn_mask" is far from "attention_mask")
      const missing = names.filter((name) => !Object.hasOwn(values, name));
      const hint = didYouMean(stray, names) || (missing.length === 1 ? ` Did you mean "${missing[0]}"?` : '');
      throw new ShapeMismatchError(`The sample gives "${stray}", which is not an input of the model.${hint} The model's inputs are: ${names.join(', ')}.`);
    }
    if (values[input.name]) return values[input.name];
    if (ATTENTION_MASK.test(input.name)) {
      // an attention mask the sample leaves out: every position attended
      const any = Object.values(values)[0];
      return new Float64Array(any.length).fill(1);
    }
  }
  const given = values instanceof Float64Array ? 'one array' : `arrays for ${Object.keys(values).join(', ')}`;
  // a mask under another name may mean the opposite (PyTorch's key_padding_mask: true = ignore that position)
  const unlike = /mask/i.test(input.name) ? ` andor fills in only an attention_mask or input_mask (all 1s, every position attended); "${input.name}" may mean something else (PyTorch's key_padding_mask: true = ignored).` : '';
  throw new ShapeMismatchError(`The model needs input "${input.name}", but the sample gives ${given}. Give one array per input, by name: {"${input.name}": [...], ...} (in a sample file, as a sample's "x"; in the library, as its values).${unlike}`);
}

/**
 * One sample read as a set of rows: an 8×8 image given as a nested array (or a 2-D .npy) is 8 samples of 8 values,
 * and "the sample has 8" alone does not say why (an adversarial sweep, stop 34).
 * @throws ShapeMismatchError when the set's rows together hold exactly one sample of the input
 */
function assertNotSplitIntoRows(info: TensorInfo, batchAxis: BatchAxis, sampleSize: number, set: SampleSet | undefined): void {
  const dims = batchAxis.kind === 'none' ? info.shape : info.shape.slice(1);
  if (!set || set.samples.length < 2 || !dims.every((d) => typeof d === 'number' && d > 0)) return;
  const size = (dims as number[]).reduce((a, b) => a * b, 1);
  if (size === sampleSize || set.samples.length * sampleSize !== size) return;
  throw new ShapeMismatchError(
    `${set.source} was read as ${set.samples.length} samples of ${sampleSize} values, but input "${info.name}" takes ${size} values per sample: together its rows are one sample. ` +
      'A nested array (or a .npy of 2 or more dims) is a list of samples, one per row: nest one sample once more ([[…]], x[None]), or give {"samples": [{"x": …}]}.',
  );
}

/** Turns the model's introspected inputs, the sample and the player options into an evaluation plan. */
function buildPlan(model: OpenedModel, modelBytes: number, request: ExplainRequest, sample: Sample, set: SampleSet | undefined, reward: RewardSpec, references: SampleSet | undefined): { plan: MaskPlan; layout: PlayerLayout; input: InputLayout } {
  const inputNames = model.inputs.map((i) => i.name);
  const modality = request.modality ?? 'tabular';
  assertModalityOptions(request, modality);
  assertDependentOptions(request);
  const maskMode = request.maskMode ?? 'token';
  if (model.inputs.length === 0) throw new InvalidInputError('The model takes no input, so there is nothing to mask: give a model whose input is the sample (--model).');
  const maskedInfo = request.input === undefined ? defaultMaskedInput(model.inputs, modality, maskMode) : model.inputs.find((i) => i.name === request.input);
  if (!maskedInfo) throw new InvalidOptionError(`options.input "${request.input}" is not an input of the model. Expected one of: ${inputNames.join(', ')}.`);
  // token masking writes the mask token over absent positions: into an attention mask it wrote 1 (attend), and every
  // mask gave v(N), all interactions 0, in silence (a sweep, stop 47)
  if (modality === 'text' && maskMode === 'token' && /mask/i.test(maskedInfo.name)) {
    const ids = model.inputs.filter((i) => !/mask/i.test(i.name)).map((i) => `"${i.name}"`);
    throw new InvalidOptionError(`options.input "${maskedInfo.name}" is an attention mask, and maskMode "token" writes the mask token over its absent positions. Mask the token ids${ids.length > 0 ? ` (${ids.join(', ')})` : ''} with maskMode "token", or the attention mask with options.maskMode "attention".`);
  }
  const maskedValues = sampleValuesFor(sample, maskedInfo, true, model.inputs);
  assertValuesFit(maskedInfo, maskedValues);
  const batchAxis = batchAxisOf(maskedInfo, maskedValues.length);
  assertNotSplitIntoRows(maskedInfo, batchAxis, maskedValues.length, set);
  const dims = resolveSampleDims(maskedInfo, batchAxis, maskedValues.length);
  const target = `input "${maskedInfo.name}" per sample`;
  if (sample.values instanceof Float64Array && sample.shape) assertSameLayout(sample.shape, dims, 'The sample', target);
  if (request.modality === undefined) assertTabularFits(maskedInfo, dims);
  const background = request.background ?? 'keep';
  // a row of another file, of the masked input by name when it gives several (the first key was taken before: a side
  // input's values when a file listed it first; an adversarial sweep, stop 34), nested in the input's layout
  const rowValues = (row: Sample, what: string) => {
    if (row.values instanceof Float64Array && row.shape) assertSameLayout(row.shape, dims, what, target);
    return sampleValuesFor(row, maskedInfo, true, model.inputs);
  };
  // an integer input is fed a given baseline and the marginal baseline's rows as they are, and the mean of the rows
  // rounded: a value of 2^32 + 5 was wrapped to 5 (int32), and 5.4 became 5, in silence
  const baseline = resolveBaseline(request.baseline, set, rowValues);
  if (baseline instanceof Float64Array) assertValuesFit(maskedInfo, baseline, 'the baseline (options.baseline)');
  const usesRows = request.baseline === 'mean' || request.baseline === 'marginal';
  const reference = references?.samples.map((row, i) => {
    const values = rowValues(row, `Reference row ${i} of ${references.source}`);
    if (usesRows) assertValuesFit(maskedInfo, values, `reference row ${i} of ${references.source}`);
    return values;
  });
  const ctx: LayoutContext = { inputName: maskedInfo.name, dims, values: maskedValues, baseline, reference, background, featureNames: set?.features };
  const layout = layoutFor(modality, ctx, request, maskMode, sample);
  const inputs: PlanInput[] = model.inputs.map((info) => {
    const isMasked = info === maskedInfo;
    const values = isMasked ? layout.values : sampleValuesFor(sample, info, false, model.inputs);
    if (!isMasked) assertValuesFit(info, values);
    if (!isMasked && isUnbatched(info, batchAxis)) return { name: info.name, dtype: dtypeOf(info), sampleDims: unbatchedDims(info, values.length), values, unbatched: true };
    return { name: info.name, dtype: dtypeOf(info), sampleDims: resolveSampleDims(info, batchAxis, values.length), values };
  });
  // the marginal baseline: one model row per reference row and mask (players.ts stacks the rows)
  const perMask = layout.masked.baseline.length / layout.values.length;
  if (perMask > 1 && batchAxis.kind !== 'dynamic') {
    throw new InvalidOptionError(
      `baseline "marginal" runs each mask once per reference row (${perMask} rows) in one batch, but input "${maskedInfo.name}" has ${batchAxis.kind === 'none' ? 'no batch axis' : `a batch fixed at ${batchAxis.size} rows`}. ` +
        `Export the model with a dynamic batch axis (torch.onnx.export(..., dynamic_axes={"${maskedInfo.name}": {0: "batch"}, "<output>": {0: "batch"}})), or use baseline "mean".`,
    );
  }
  const batchSize = chooseBatchSize(batchAxis, inputs, 2 ** layout.n, request.batchSize, modelBytes, undefined, perMask);
  const input: InputLayout = { modality, input: maskedInfo.name, dims, values: maskedValues, offsets: layout.masked.offsets, indices: layout.masked.indices, tokens: sample.tokens };
  return { plan: { n: layout.n, inputs, masked: [layout.masked], reward, batchAxis, batchSize, ...(perMask > 1 ? { rowsPerMask: perMask } : {}) }, layout, input };
}

/** Options that mean something to some modalities only: given to another, they would be ignored in silence. */
const MODALITY_OPTIONS: readonly [keyof ExplainRequest, readonly Modality[]][] = [
  ['grid', ['image']], ['blurSigma', ['image']], ['maskToken', ['text']], ['maskMode', ['text']], ['clusters', ['pointcloud']], ['custom', ['custom']],
  // custom players are given by custom.owners, and their baseline by custom.baseline
  ['players', ['tabular', 'image', 'text', 'pointcloud']],
  // absent tokens take the mask token, or lose their attention: textLayout reads no baseline
  ['baseline', ['tabular', 'image', 'pointcloud']], ['reference', ['tabular', 'image', 'pointcloud']],
];

/**
 * Refuses an option that the request's modality would ignore (a grid on a tabular model, custom players without
 * modality 'custom', players beside custom.owners).
 * @throws InvalidOptionError naming the option and the modalities it applies to
 */
function assertModalityOptions(request: ExplainRequest, modality: Modality): void {
  for (const [key, modalities] of MODALITY_OPTIONS) {
    if (request[key] === undefined || modalities.includes(modality)) continue;
    const instead =
      key === 'custom' ? ` Give modality 'custom' too to explain custom players.`
        : modality === 'custom' ? ` Custom players take ${key === 'players' ? 'their elements from custom.owners' : 'their baseline from custom.baseline'}: leave options.${key} out.`
          : modality === 'text' ? ' Absent tokens take options.maskToken (options.maskMode token) or lose their attention (options.maskMode attention): leave it out.'
            : '';
    throw new InvalidOptionError(`options.${key} applies to modality ${modalities.join(', ')}, not to modality ${modality}, which would ignore it.${instead}`);
  }
}

/** Options read only under another option's value (ignored in silence elsewhere; sweeps, stop 47): the option, when
 *  it is read, and what the request says instead. */
const DEPENDENT_OPTIONS: readonly [keyof ExplainRequest, string, (r: ExplainRequest) => boolean, (r: ExplainRequest) => string][] = [
  ['blurSigma', 'options.baseline "blur"', (r) => r.baseline === 'blur', (r) => baselineOf(r)],
  // reference rows are what the mean and marginal baselines average over
  ['reference', 'options.baseline "mean" or "marginal"', (r) => r.baseline === 'mean' || r.baseline === 'marginal', (r) => baselineOf(r)],
  ['maskToken', 'options.maskMode "token" (the default)', (r) => (r.maskMode ?? 'token') === 'token', (r) => `options.maskMode "${r.maskMode}"`],
];

const baselineOf = (r: ExplainRequest): string => (typeof r.baseline === 'string' ? `options.baseline "${r.baseline}"` : r.baseline === undefined ? 'options.baseline "zero" (the default)' : 'options.baseline given as values');

const ignores = (request: ExplainRequest, key: keyof ExplainRequest, read: (r: ExplainRequest) => boolean) => request[key] !== undefined && !read(request);

/** The options of a request that another of its options makes it ignore (a model's defaults drop them). */
export function ignoredOptions(request: ExplainRequest): string[] {
  return DEPENDENT_OPTIONS.filter(([key, , read]) => ignores(request, key, read)).map(([key]) => key);
}

/**
 * Refuses an option that another option of the request makes it ignore: a blur σ without the blur baseline, reference
 * rows with a baseline that reads none, a mask token where absent tokens lose their attention instead.
 * @throws InvalidOptionError naming both options
 */
function assertDependentOptions(request: ExplainRequest): void {
  for (const [key, when, read, instead] of DEPENDENT_OPTIONS) {
    if (!ignores(request, key, read)) continue;
    throw new InvalidOptionError(`options.${key} is read only with ${when}, and the request has ${instead(request)}: it would be ignored. Give ${when.replace(/ \(the default\)$/, '')}, or leave options.${key} out.`);
  }
}

/** The default (tabular) modality masks elements one by one: on an image, a token sequence or a point cloud that
 *  silently explains its first elements. Refuse it unless the caller chose tabular on purpose. */
function assertTabularFits(input: TensorInfo, dims: readonly number[]): void {
  const integer = input.dtype.startsWith('int') || input.dtype.startsWith('uint') || input.dtype === 'bool';
  if (dims.length <= 1 && !integer) return;
  const what = integer ? `has integer dtype ${input.dtype} (token ids?)` : `holds [${dims.join(', ')}] per sample`;
  throw new InvalidOptionError(
    `Input "${input.name}" ${what}, so the default tabular modality would mask its first elements one by one. Choose the modality: image (grid cells), text (token positions) or pointcloud (point clusters); or give modality tabular to mask single elements on purpose.`,
  );
}

/** The input a modality masks by default: text token mode takes the ids (the first input not named like a mask),
 *  attention mode the attention mask; the others take the first input. */
function defaultMaskedInput(inputs: readonly TensorInfo[], modality: Modality, maskMode: 'token' | 'attention'): TensorInfo {
  if (modality !== 'text') return inputs[0];
  const isMask = (i: TensorInfo) => /mask/i.test(i.name);
  const found = maskMode === 'attention' ? inputs.find(isMask) : inputs.find((i) => !isMask(i));
  if (!found) throw new InvalidOptionError(`Text mask mode "${maskMode}" needs ${maskMode === 'attention' ? 'an attention-mask input' : 'a token-id input'}; the model's inputs are ${inputs.map((i) => i.name).join(', ')}. Name it with options.input.`);
  return found;
}

function layoutFor(modality: Modality, ctx: LayoutContext, request: ExplainRequest, maskMode: 'token' | 'attention', sample: Sample): PlayerLayout {
  switch (modality) {
    case 'tabular':
      return tabularLayout(ctx, request.players);
    case 'image':
      return imageLayout(ctx, { grid: request.grid, players: request.players, blurSigma: request.blurSigma });
    case 'text':
      return textLayout(ctx, { players: request.players, maskMode, maskToken: request.maskToken, tokens: sample.tokens });
    case 'pointcloud':
      return pointCloudLayout(ctx, { clusters: request.clusters, players: request.players });
    case 'custom':
      if (request.custom === undefined) throw new InvalidOptionError('modality "custom" needs options.custom: {owners, baseline?, names?}.');
      return customLayout(ctx, request.custom);
  }
}

/** Whether a baseline is given as a sample set (the CLI's --baseline FILE). */
function isSampleSet(baseline: ExplainRequest['baseline']): baseline is SampleSet {
  return typeof baseline === 'object' && baseline !== null && Array.isArray((baseline as SampleSet).samples);
}

/** The baseline spec; a sample set's first row read by rowValues, once its columns agree with the sample's file. */
function resolveBaseline(baseline: ExplainRequest['baseline'], set: SampleSet | undefined, rowValues: (row: Sample, what: string) => Float64Array): BaselineSpec {
  if (baseline === undefined) return 'zero';
  if (baseline instanceof Float64Array) return assertFiniteValues(baseline, 'options.baseline');
  // another kind of typed array of numbers (a Float32Array of the model's own type) is its values; BigInt arrays and
  // DataViews are not numbers (a Float32Array was read as a keyword: 'baseline "0,0,…" does not apply here')
  if (ArrayBuffer.isView(baseline)) {
    if (baseline instanceof DataView || baseline instanceof BigInt64Array || baseline instanceof BigUint64Array) throw new InvalidOptionError(`options.baseline is a ${baseline.constructor.name}; give one number per input element: a Float64Array (or another typed array of numbers) or a number[].`);
    return assertFiniteValues(Float64Array.from(baseline as unknown as Float32Array), 'options.baseline');
  }
  if (isSampleSet(baseline)) {
    if (baseline.samples.length === 0) throw new InvalidOptionError(`options.baseline${baseline.source ? `: ${baseline.source}` : ''} holds no rows; its first row is the baseline.`);
    assertSameColumns(baseline, set, 'baseline');
    return rowValues(baseline.samples[0], `The baseline ${baseline.source}`);
  }
  if (Array.isArray(baseline)) return flattenNumbers(baseline, 'options.baseline');
  return baseline as BaselineSpec;
}

async function resolveReference(reference: ExplainRequest['reference'], set: SampleSet | undefined): Promise<SampleSet | undefined> {
  const source = reference === undefined ? set : await resolveSampleSet(reference, 'options.reference');
  if (source && source !== set) assertSameColumns(source, set, 'reference');
  return source;
}

/** Reference rows are averaged, and a baseline row read, column by column: when both files name their columns, the
 *  names must agree, or one feature's baseline would be another's (a CSV written with its columns in another order). */
function assertSameColumns(reference: SampleSet, set: SampleSet | undefined, what: 'reference' | 'baseline'): void {
  const [theirs, ours] = [reference.features, set?.features];
  if (!theirs || !ours || theirs.length !== ours.length) return; // a count that differs is refused with the row sizes
  const k = theirs.findIndex((name, i) => name !== ours[i]);
  if (k < 0) return;
  const at = ours.indexOf(theirs[k]);
  throw new ShapeMismatchError(
    `The ${what} ${reference.source} names column ${k} ${preview(theirs[k])}, but the sample's file names it ${preview(ours[k])}${at >= 0 ? ` (its ${preview(theirs[k])} is column ${at})` : ''}; ` +
      (what === 'reference' ? 'the mean baseline averages the reference column by column. Write the reference rows' : 'the baseline is read column by column. Write the baseline row') +
      " with the sample's columns, in its order.",
  );
}

/**
 * Checks the reward's target against the output width and picks it when not given.
 * @param unit - given for a unit of a batch or dynamics run, whose target is its sample's label (there is no
 *   options.target to give): the sample, whose labelSource says where its label was given
 */
export function resolveTarget(rewardKind: RewardSpec['kind'], requested: number | undefined, label: number | undefined, fullOutput: Float64Array, outputName: string, unit?: { readonly labelSource?: string }): number {
  const width = fullOutput.length;
  const classes = width === 1 && rewardKind !== 'output' ? 2 : width;
  let target = requested ?? label;
  if (target === undefined) {
    // the predicted class, by a loop (spreading a 200 000-wide output into Math.max overflows the stack)
    let best = 0;
    for (let c = 1; c < width; c++) if (fullOutput[c] > fullOutput[best]) best = c;
    target = width === 1 ? (fullOutput[0] > 0 ? 1 : 0) : best;
  }
  if (!Number.isInteger(target) || target < 0 || target >= classes) {
    const what = rewardKind === 'output' ? 'output element' : 'class';
    const range = `output "${outputName}" has ${width} value(s) per sample, so valid targets are 0..${classes - 1}`;
    // where the bad value came from: a label that is wrong is fixed in the sample, a target in the options; a unit of
    // a batch or dynamics run takes no options.target (its target is its sample's label), so its label is fixed where
    // the samples were given
    if (unit) {
      const at = unit.labelSource;
      throw new InvalidOptionError(`Target ${what} ${target} (${at ? `${at}, ` : ''}the sample's label) is out of range: ${range}. Fix ${at ?? "the sample's label in options.samples"}.`);
    }
    const from = requested !== undefined ? ' (options.target)' : " (the sample's label)";
    const fix = requested !== undefined ? '' : ` Fix the label, or give options.target to explain another ${what}.`;
    throw new InvalidOptionError(`Target ${what} ${target}${from} is out of range: ${range}.${fix}`);
  }
  return target;
}

/**
 * A sample set's class names, one per class of the model: three names on a two-class output named the target by
 * another class's name, or by none, in silence (a sweep, stop 47). A reward of a raw output element reads no class.
 * @throws InvalidInputError naming both counts
 */
export function assertClassNames(set: Pick<SampleSet, 'classes' | 'source'> | undefined, rewardKind: RewardSpec['kind'], fullOutput: Float64Array, outputName: string): void {
  const names = set?.classes;
  if (!names || rewardKind === 'output') return;
  const classes = fullOutput.length === 1 ? 2 : fullOutput.length;
  if (names.length === classes) return;
  throw new InvalidInputError(`${set.source ?? 'The sample set'} names ${names.length} class(es) (${names.slice(0, 5).map((c) => `"${c}"`).join(', ')}${names.length > 5 ? ', …' : ''}), but output "${outputName}" gives ${classes}${fullOutput.length === 1 ? ' (one logit: two classes)' : ''}: the target would be named by another class's name, or by none. Give one name per class of the model, in its order.`);
}

/** A model's bytes with their sha256 (and the file they were read from). */
export type LoadedModel = Awaited<ReturnType<typeof loadModelBytes>>;

/** Where explainModel's request comes from. */
export interface ExplainSource<R> {
  /** The sample set the request's sample and reference rows are read from. */
  readonly from?: SampleSet;
  /** A method that takes the request once n is known (the sparse method, a shard's evaluation). */
  readonly other?: MethodDispatch<R>;
  /** request.model already read and hashed (a unit's model): its bytes are not hashed again. */
  readonly loaded?: LoadedModel;
  /** The request is a unit of a batch or dynamics run, its target its sample's label: a label out of range is fixed
   *  where the samples were given (a unit takes no options.target). */
  readonly unit?: boolean;
}

/**
 * The checks of a request that hold whatever its model and sample: the conventions filled in, the schema, the
 * callbacks and the analysis options. A batch or dynamics unit runs them before its model and sample, so that their
 * errors are not said as one unit's (units.ts).
 * @param request - the caller's request
 * @returns the request with its conventions filled in, and its analysis settings
 * @throws InvalidOptionError (or the schema's error) naming the option
 */
export function checkRequest(request: ExplainRequest): { request: ExplainRequest; settings: ReturnType<typeof analysisSettings> } {
  const filled = withConventions(request);
  assertValid(ExplainRequestSchema, filled);
  assertCallbacks(filled);
  return { request: filled, settings: analysisSettings(filled, 'options') };
}

/** Explains one sample of a model: evaluation of all masks, then the interaction analysis; or, when `other` takes the
 *  request once n is known (the sparse method), that method's run. */
export async function explainModel<R = never>(ctx: ExplainContext, request: ExplainRequest, { from, other, loaded, unit }: ExplainSource<R> = {}): Promise<ExplainResult | R> {
  const asked = request;
  const checked = checkRequest(request);
  request = checked.request;
  const { settings } = checked;
  const rewardName = request.reward ?? 'gt-log-odds';
  const timings: Record<string, number> = {};
  const started = performance.now();
  const { bytes, sha256, file } = loaded ?? (await loadModelBytes(request.model));
  const model = await ctx.runner.open(sha256, bytes, ctx.candidates);
  ctx.onOpened(model);
  timings.loadMs = performance.now() - started;

  const { sample, set, row } = await resolveSample(request, from);
  const outputInfo = request.output === undefined ? model.outputs[0] : model.outputs.find((o) => o.name === request.output);
  if (!outputInfo) throw new InvalidOptionError(`options.output "${request.output}" is not an output of the model. Expected one of: ${model.outputs.map((o) => o.name).join(', ')}.`);
  const kind = rewardName.replace(/-v0$/, '') as RewardSpec['kind'];
  const reference = await resolveReference(request.reference, set);
  // a baseline given as a set is read as reference rows are (a SampleSet, its values checked finite, or a sample
  // file's parsed JSON): taken as it came, its parsed JSON crashed and a NaN in a Float64Array reached the model
  if (isSampleSet(request.baseline)) request = { ...request, baseline: await resolveSampleSet(request.baseline, 'options.baseline') };
  const provisional: RewardSpec = { kind: 'output', target: 0, output: outputInfo.name };
  const { plan: probePlan, layout, input } = buildPlan(model, bytes.byteLength, request, sample, set, provisional, reference);
  if (request.output === undefined) assertDefaultOutputBatched(model.outputs, probePlan);
  if (other?.takes(request, layout.n, ctx.limits)) {
    // a convention's defaults of the learned split are the exact method's: the sparse one (chosen here when 2^n does
    // not fit) learns no split, and refuses only the split options the caller gave
    if (request !== asked) request = { ...request, preset: asked.preset, qthres: asked.qthres };
    return other.run(ctx, { request, model, file, sha256, sample, set, row, rewardName, kind, output: outputInfo.name, plan: probePlan, layout, input, timings, started, unit }).catch((error: unknown) => {
      throw withMaskTokenHint(error, request);
    });
  }
  assertPlayersFit(layout.n, ctx.limits);
  assertSolverFits(layout.n, settings.learning.solver);
  // the batch buffers of every thread, with the 2^n arrays, against the memory budget: before any model run
  assertPlanFits(probePlan, model.outputs, ctx.limits, ctx.runner.workers);

  // one run on the full sample: checks the model accepts the plan, and gives the output width and predicted class
  // (one row for a dynamic batch axis, not a whole batch)
  const full = await probeSample(ctx.runner, model, probePlan);
  assertClassNames(set, kind, full, outputInfo.name);
  const target = resolveTarget(kind, request.target, sample.label, full, outputInfo.name, unit ? sample : undefined);
  const plan: MaskPlan = { ...probePlan, reward: { kind, target, output: outputInfo.name } };

  const evalStart = performance.now();
  // players already at their baseline change no input: only the masks of the others are evaluated (null-players.ts)
  const kept = changingPlayers(plan);
  const reduced = kept.length < layout.n ? keepPlayers(plan, kept) : plan;
  // an onProgress whose promise rejects ends the run with that (watchProgress)
  const stop = new AbortController();
  const progress = watchProgress(request.onProgress, stop);
  const signal = request.signal ? AbortSignal.any([request.signal, stop.signal]) : stop.signal;
  const evaluated = await ctx.runner.evaluate(model.key, reduced, { signal, onProgress: progress.report }).catch((error: unknown) => {
    throw progress.failure() ?? withMaskTokenHint(error, request);
  });
  // a rejection that came as the last masks ended: the run does not go on as if it had not
  const rejected = progress.failure();
  if (rejected) throw rejected;
  const v = reduced === plan ? evaluated : expandGame(evaluated, kept, layout.n);
  timings.evaluateMs = performance.now() - evalStart;
  assertFiniteRewards(v);
  assertRowsIndependent(rewardOf(plan.reward, full), v[v.length - 1], plan);
  if (rewardName.endsWith('-v0')) {
    const v0 = v[0];
    for (let m = 0; m < v.length; m++) v[m] -= v0;
  }
  const names = request.names ? checkNames(request.names, layout.n) : layout.names;
  const result = await ctx.runner.analyze({ v, n: layout.n, settings }, request.signal);
  assertNotStopped(request.signal);
  if (result.decomposition.warning !== undefined) ctx.onWarning?.(result.decomposition.warning, 'split-diverged');
  Object.assign(timings, result.timings);
  timings.totalMs = performance.now() - started;
  return {
    ...result,
    timings,
    players: names,
    model: { file, sha256, backend: model.backend, executionProvider: model.executionProvider, input: layout.masked.name, output: outputInfo.name },
    sample: { id: sample.id, label: sample.label, row },
    target,
    ...(set?.classes?.[target] !== undefined ? { targetName: String(set.classes[target]) } : {}),
    reward: rewardName,
    baseline: typeof request.baseline === 'string' || request.baseline === undefined ? (request.baseline ?? 'zero') : 'given',
    layout: input,
  };
}

/**
 * The output read by default is the model's first: with a batch axis of variable size it must have an axis of
 * variable size to hold it. One whose declared dims are all fixed (a constant, a per-model statistic) cannot, and the
 * fix is to read another output, not to export the model again.
 * @throws ShapeMismatchError naming the model's other outputs and options.output
 */
function assertDefaultOutputBatched(outputs: readonly TensorInfo[], plan: MaskPlan): void {
  const fixed = (info: TensorInfo) => info.shape.length > 0 && info.shape.every((d) => typeof d === 'number' && d > 0);
  const [first, ...others] = outputs;
  // one row per run (--batch-size 1) reads any output
  if (plan.batchAxis.kind !== 'dynamic' || plan.batchSize === 1 || !first || !fixed(first)) return;
  const describe = (info: TensorInfo) => `"${info.name}" [${info.shape.join(', ')}]`;
  const readable = others.filter((info) => !fixed(info));
  throw new ShapeMismatchError(
    `The model's first output ${describe(first)} has fixed dims, so it cannot hold a batch of masked samples: andor reads the first output unless told otherwise. ` +
      (readable.length > 0 ? `Read another with options.output (--output NAME): ${readable.map(describe).join(', ')}.` : 'No output of the model has a batch axis: export it with dynamic_axes on its outputs too.'),
  );
}

/** An index out of range (Gather, Embedding) as onnxruntime words it. */
const OUT_OF_RANGE = /out of (data )?bounds|out of range|invalid indices|must be within/i;

/**
 * One run on the full sample (one row for a dynamic batch axis): checks the model accepts the plan, and gives the
 * output width and predicted class. An index out of range there is the sample's own (no mask has been written yet):
 * a token id past the vocabulary was a 500 with onnxruntime's words alone (a sweep of the service, stop 47).
 * @throws InvalidInputError for an index out of range on a model with an integer input, naming the inputs
 */
export async function probeSample(runner: Runner, model: OpenedModel, plan: MaskPlan): Promise<Awaited<ReturnType<Runner['probe']>>> {
  try {
    return await runner.probe(model.key, plan.batchAxis.kind === 'dynamic' ? { ...plan, batchSize: 1 } : plan);
  } catch (error) {
    const integer = model.inputs.filter((info) => INTEGER_RANGES[info.dtype as DType] !== undefined && info.dtype !== 'bool');
    if (!(error instanceof ModelRunError) || integer.length === 0 || !OUT_OF_RANGE.test(error.message)) throw error;
    throw new InvalidInputError(
      `The model failed on the sample itself, before any player was masked: ${error.message.replace(/\.?\s*$/, '.')} An index out of range there comes from a value of an integer input (${integer.map((i) => `"${i.name}"`).join(', ')}): ` +
        'a token id past the model\'s vocabulary, or a category past its table. Give values the model can index.',
      { cause: error },
    );
  }
}

/** A model run that failed on an index out of range (Gather), when absent tokens take the mask token: the message
 *  names the option, which is then the likely cause (an id past the vocabulary). */
function withMaskTokenHint(error: unknown, request: ExplainRequest): unknown {
  // token mode requires maskToken (textLayout)
  if (!(error instanceof ModelRunError) || request.modality !== 'text' || (request.maskMode ?? 'token') !== 'token' || request.maskToken === undefined) return error;
  if (!OUT_OF_RANGE.test(error.message)) return error;
  return new ModelRunError(`${error.message} The model ran on the sample, so the mask token written at absent positions (--mask-token ${request.maskToken}) is likely not a token id of the model: give one below its vocabulary size (options.maskToken).`, { cause: error });
}

/** Rewards of one mask run alone and in a batch that agree to this share of their size (float32 kernels for one row
 *  and for many round differently: 1e-6 apart on tokens-40, masking.ts). */
const ROW_AGREEMENT = 1e-4;

/**
 * Checks that the unmasked sample's reward in a batch (v(N) as evaluated) is the probe's, which ran it alone: a model
 * whose rows depend on each other (BatchNorm in training mode, which normalizes by the batch's statistics) or that
 * draws random numbers (Dropout in training mode) gives a game that changes with the batch size and the masks beside
 * each one, and no interaction of it means anything.
 * @param alone - the reward of the probe's one-row run
 * @param batched - v(N) from the evaluation
 * @param plan - the batch size and reward, for the message
 * @throws InvalidInputError when they differ beyond float32 round-off
 */
export function assertRowsIndependent(alone: number, batched: number, plan: MaskPlan): void {
  if (plan.batchAxis.kind !== 'dynamic' || Math.abs(alone - batched) <= ROW_AGREEMENT * Math.max(1, Math.abs(alone), Math.abs(batched))) return;
  throw new InvalidInputError(
    `The model gives the unmasked sample a reward of ${alone} when it runs alone and ${batched} in a batch (of up to ${plan.batchSize} rows): its output for one row depends on the other rows, or on chance. ` +
      'A model exported in training mode does this (BatchNorm normalizes by the batch, Dropout draws at random): export it after model.eval(), e.g. model.eval(); torch.onnx.export(model, ...).',
  );
}

/** Checks a request's player names: one per player. */
export function checkNames(names: readonly string[], n: number): string[] {
  if (!Array.isArray(names) || names.length !== n) throw new InvalidOptionError(`options.names must list ${n} player names, one per player (got ${Array.isArray(names) ? names.length : typeof names}).`);
  const given = names.map(String);
  // an empty name reads as no player in a term ("{a · }"; a sweep, stop 47), as a CSV header's empty column is refused
  const empty = given.findIndex((name) => name.trim() === '');
  if (empty >= 0) throw new InvalidOptionError(`options.names has an empty name for player ${empty}${given.length > 1 ? ` (between ${empty > 0 ? `"${given[empty - 1]}"` : 'the start'} and ${empty < given.length - 1 ? `"${given[empty + 1]}"` : 'the end'})` : ''}; give each player a name.`);
  // an interaction is reported by its players' names: two players of one name would read as one
  const repeated = given.find((name, i) => given.indexOf(name) !== i);
  if (repeated !== undefined) throw new InvalidOptionError(`options.names lists "${repeated}" twice; give each player its own name.`);
  return given;
}

/** Explains a game given as values on all 2^n masks (no model). */
export async function explainGame(ctx: Pick<ExplainContext, 'runner' | 'limits' | 'onWarning'>, request: GameRequest): Promise<ExplainResult> {
  // conventions 'authors' fills the authors' preset and salient rule here as for a model (it was taken and ignored:
  // an adversarial sweep, stop 45)
  request = withConventions(request);
  assertValid(GameRequestSchema, request);
  assertCallbacks(request);
  const settings = analysisSettings(request, 'options');
  // a signal already aborted cancels every preset alike (the analysis looked at it only between its chunks of
  // iterations, which preset none and a short default run never reach; an adversarial sweep)
  if (request.signal?.aborted) throw new CancelledError('The analysis was cancelled before it started.', { cause: request.signal.reason });
  const timings: Record<string, number> = {};
  const started = performance.now();
  let v: Float64Array;
  if (typeof request.values === 'string') v = await loadValues(request.values);
  else if (request.values instanceof Float64Array) v = Float64Array.from(request.values);
  else if (Array.isArray(request.values)) {
    // a nested array or strings are not a game's values: Float64Array.from made them NaN, or numbers in silence
    const at = (request.values as unknown[]).findIndex((x) => typeof x !== 'number');
    if (at >= 0) throw new InvalidOptionError(`options.values[${at}] is ${preview(request.values[at])}; give a flat list of 2^n numbers, v at each mask.`);
    v = Float64Array.from(request.values as number[]);
  }
  else throw new InvalidOptionError('options.values must be a Float64Array, a number array, inline JSON or a file path.');
  // a game needs a player: n from 1 (`--values []` was told "n in 0..30", and then one value refused)
  if (v.length <= 1) throw new ShapeMismatchError(`The values vector has ${v.length === 0 ? 'no value' : '1 value'}: a game needs at least one player (2 values, for ∅ and {0}), 2^n values for some n in 1..${MAX_PLAYERS}.`);
  const n = playersOf(v.length, 'The values vector', 1);
  assertPlayersFit(n, ctx.limits, false);
  assertFiniteRewards(v, 'The values vector');
  timings.loadMs = performance.now() - started;
  const names = request.names ? checkNames(request.names, n) : Array.from({ length: n }, (_, i) => `x${i}`);
  const result = await ctx.runner.analyze({ v, n, settings }, request.signal);
  assertNotStopped(request.signal);
  if (result.decomposition.warning !== undefined) ctx.onWarning?.(result.decomposition.warning, 'split-diverged');
  Object.assign(timings, result.timings);
  timings.totalMs = performance.now() - started;
  return { ...result, timings, players: names, reward: 'given' };
}
