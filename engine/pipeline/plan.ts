// The evaluation plan: everything a thread needs to build masked inputs and turn model outputs into rewards, and
// the limits checked on it before any work (players, the 2^n arrays against the budget and the wasm32 kernel
// memory, the batch buffers of every thread). Plans hold only typed arrays and plain objects, so they cross the
// worker boundary as they are. Built on the main thread from the model's introspected inputs, the sample and players.
import { InvalidOptionError, MemoryLimitError, ShapeMismatchError } from '../contracts/errors.js';
import { MAX_PLAYERS } from '../contracts/limits.js';
import type { DType, TensorInfo, TypedData } from '../contracts/backend.js';
import type { MaskBatch } from '../analysis/sparse/index.js';

/** An explicit list of masks for any n: the sparse engine's MaskBatch. Row r, player i is present when
 *  (bits[r·words + (i >>> 5)] >>> (i & 31)) & 1; words = ⌈n/32⌉; bits past n are 0. */
export type MaskList = MaskBatch;

/** How absent players' raw values are written: per player, the element indices it owns and their baseline values. */
export interface MaskedInput {
  readonly name: string;
  /** offsets[i]..offsets[i+1] index into `indices` for player i (CSR layout, length n+1). */
  readonly offsets: Int32Array;
  /** Flat element indices within one sample of this input. */
  readonly indices: Int32Array;
  /** The baseline value of every element of one sample (only the indices of players are read); for the marginal
   *  baseline, R such vectors one after the other (R = MaskPlan.rowsPerMask), one per reference row. */
  readonly baseline: Float64Array;
}

/** One model input: its dtype, per-sample dims and the sample's values (background already applied). */
export interface PlanInput {
  readonly name: string;
  readonly dtype: DType;
  /** Dims of one sample, without the batch axis (with `unbatched`, the input's whole dims). */
  readonly sampleDims: readonly number[];
  readonly values: Float64Array;
  /** A side input without a batch axis (declared [1], say, beside a masked input of variable batch): fed as it is
   *  declared, the same tensor in every run, whatever the batch size. */
  readonly unbatched?: true;
}

/** The scalar reward read from each output row (spec §1.3). */
export interface RewardSpec {
  readonly kind: 'gt-log-odds' | 'logit' | 'output';
  /** The class (or output element, for 'output') the reward is about. */
  readonly target: number;
  /** The output tensor to read. */
  readonly output: string;
}

/** How the model's batch axis behaves. */
export type BatchAxis = { readonly kind: 'dynamic' } | { readonly kind: 'fixed'; readonly size: number } | { readonly kind: 'none' };

/** Everything needed to evaluate any range of masks. */
export interface MaskPlan {
  readonly n: number;
  readonly inputs: readonly PlanInput[];
  readonly masked: readonly MaskedInput[];
  readonly reward: RewardSpec;
  readonly batchAxis: BatchAxis;
  /** Masks per model run (each mask is rowsPerMask rows of the run). */
  readonly batchSize: number;
  /** Model rows per mask (default 1): the marginal baseline runs each mask once per reference row, its absent players
   *  at that row's values, and the mask's reward is the mean of those R rows' rewards. */
  readonly rowsPerMask?: number;
}

/** Model rows per mask of a plan. */
export const rowsPerMask = (plan: Pick<MaskPlan, 'rowsPerMask'>): number => plan.rowsPerMask ?? 1;


/** f64 arrays of length 2^n that one explain holds at its peak: the 16-slot decomposition workspace, plus v, γ, q,
 *  then AND, OR and the rebuilt game. This is what maxMemoryMb (--max-memory-mb) budgets. */
export const ARRAYS_PER_MASK = 20;

/** f64 arrays of length 2^n the WebAssembly kernels hold at their peak: the decomposition workspace
 *  (engine/analysis/decompose.ts, SLOTS = 16; the interaction analysis after it needs 4). */
export const KERNEL_ARRAYS_PER_MASK = 16;

/** Linear memory a wasm32 module can address: 65536 pages of 64 KiB (bindings/wasm-kernels.ts enforces it). */
export const KERNEL_MEMORY_BYTES = 2 ** 32;

/** Kernel memory kept aside for the module's own data, the solver state and the trace (a few KiB in practice). */
const KERNEL_RESERVE_BYTES = 2 ** 20;

const MIB = 2 ** 20;

/** Limits on one explanation. */
export interface Limits {
  /** Memory budget for its 2^n arrays and batch buffers, in MiB. */
  readonly maxMemoryMb: number;
  /** Most players accepted (a service sets it below what memory allows). */
  readonly maxPlayers: number;
}

/** Bytes of the 2^n arrays of one explanation (ARRAYS_PER_MASK f64 arrays). */
export function arrayBytes(n: number): number {
  return 2 ** n * 8 * ARRAYS_PER_MASK;
}

/** Bytes of WebAssembly memory the kernels need for n players (KERNEL_ARRAYS_PER_MASK f64 arrays plus a reserve). */
export function kernelBytes(n: number): number {
  return 2 ** n * 8 * KERNEL_ARRAYS_PER_MASK + KERNEL_RESERVE_BYTES;
}

/** The most players whose 2^n arrays fit a budget in MiB (0 when none does). */
export function largestPlayersForBudget(maxMemoryMb: number): number {
  let n = 0;
  while (n < MAX_PLAYERS && arrayBytes(n + 1) <= maxMemoryMb * MIB) n++;
  return n;
}

/** The most players the kernels' wasm32 memory holds (24: 16 arrays of 2^25 f64 are 4 GiB, with nothing to spare). */
export function largestPlayersForKernels(): number {
  let n = 0;
  while (n < MAX_PLAYERS && kernelBytes(n + 1) <= KERNEL_MEMORY_BYTES) n++;
  return n;
}

const mib = (bytes: number) => Math.ceil(bytes / MIB);

/** The way out of the 2^n arrays' limits, in both of their messages (a batch or dynamics never switches by itself). */
const SPARSE_FIX = "use method 'sparse' (--method sparse), which evaluates a budget of masks instead of all 2^n";

/**
 * Checks, before any work, that n players fit every limit: maxPlayers, the memory budget of their 2^n arrays, and
 * the 4 GiB a wasm32 kernel module can address (which binds at 24 players whatever the budget).
 * @throws InvalidOptionError for n < 1 or n > maxPlayers
 * @param sparse - whether the sparse method is a way out (a model's players; not a game given as its 2^n values)
 * @throws MemoryLimitError naming the bound that binds (the budget or the kernel memory) and the largest n each allows
 */
export function assertPlayersFit(n: number, { maxMemoryMb, maxPlayers }: Limits, sparse = true): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidOptionError(`The number of players must be at least 1 (got ${n}).`);
  if (n > maxPlayers) {
    // at MAX_PLAYERS (the CLI's and the library's default, and the schema's maximum) the limit cannot be raised
    if (maxPlayers >= MAX_PLAYERS) {
      throw new InvalidOptionError(`${n} players exceed the exact method's limit of ${maxPlayers}. Choose at most ${maxPlayers} players, or use method 'sparse' (--method sparse), which has limits of its own.`);
    }
    throw new InvalidOptionError(`${n} players exceed the limit of ${maxPlayers} (maxPlayers / --max-players). Choose at most ${maxPlayers} players, raise the limit, or use method 'sparse' (--method sparse), which has limits of its own.`);
  }
  const masks = 2 ** n;
  const orSparse = sparse ? `, or ${SPARSE_FIX}` : '';
  const byBudget = largestPlayersForBudget(maxMemoryMb);
  const byKernels = largestPlayersForKernels();
  if (n > byKernels) {
    const budget = n > byBudget ? ` (the memory limit of ${maxMemoryMb} MiB, maxMemoryMb / --max-memory-mb, alone allows at most ${byBudget})` : '';
    throw new MemoryLimitError(
      `${n} players need ${masks} masks and ${mib(kernelBytes(n))} MiB of WebAssembly kernel memory (${KERNEL_ARRAYS_PER_MASK} f64 arrays of 2^${n} for the decomposition), ` +
        `more than the ${KERNEL_MEMORY_BYTES / MIB} MiB a wasm32 module can address: at most ${byKernels} players fit, whatever --max-memory-mb is${budget}. Use at most ${byKernels} players${orSparse}.`,
    );
  }
  if (n > byBudget) {
    const fix = byBudget === 0 ? 'No player fits it; raise' : `Use at most ${byBudget} players, or raise`;
    throw new MemoryLimitError(
      `${n} players need ${masks} masks and about ${mib(arrayBytes(n))} MiB for their 2^n arrays (${ARRAYS_PER_MASK} f64 arrays), over the memory limit of ${maxMemoryMb} MiB (maxMemoryMb / --max-memory-mb), which fits at most ${byBudget} players. ` +
        `${fix} maxMemoryMb (--max-memory-mb) to at least ${mib(arrayBytes(n))} (the kernels' wasm32 memory allows up to ${byKernels} players)${orSparse}.`,
    );
  }
}

/**
 * Whether the 2^n arrays of n players fit the memory: the budget (maxMemoryMb) and the kernels' wasm32 memory
 * (24 players). maxPlayers, a policy limit, is not part of it.
 * @param n - players
 * @param limits - the memory budget
 */
export function masksFitMemory(n: number, limits: Pick<Limits, 'maxMemoryMb'>): boolean {
  return n <= largestPlayersForBudget(limits.maxMemoryMb) && n <= largestPlayersForKernels();
}

/**
 * The masks an evaluation covers: all 2^n, or a range of them, checked.
 * @throws ShapeMismatchError when the range is not integers with 0 ≤ start < end ≤ 2^n
 */
export function maskRange(plan: Pick<MaskPlan, 'n'>, range?: { readonly start: number; readonly end: number }): { start: number; end: number } {
  const size = 2 ** plan.n;
  if (range === undefined) return { start: 0, end: size };
  const { start, end } = range;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > size) {
    throw new ShapeMismatchError(`A mask range must have integers 0 ≤ start < end ≤ 2^n = ${size} (got start ${start}, end ${end}).`);
  }
  return { start, end };
}

/**
 * Checks a mask list against a plan before any model run: its n, its words per row, the length of its bits, and
 * that no bit past n is set.
 * @param plan - the plan the masks are for
 * @param masks - the list
 * @throws ShapeMismatchError saying what disagrees and the expected form
 */
export function assertMaskList(plan: Pick<MaskPlan, 'n'>, masks: MaskList): void {
  const words = (plan.n + 31) >>> 5;
  if (masks === null || typeof masks !== 'object' || !(masks.bits instanceof Uint32Array)) {
    throw new ShapeMismatchError(`A mask list must be {n, count, words, bits: Uint32Array} (got ${masks === null ? 'null' : typeof masks}).`);
  }
  if (masks.n !== plan.n) throw new ShapeMismatchError(`The mask list has n = ${masks.n} players, but the plan has ${plan.n}. Give masks over the plan's ${plan.n} players.`);
  if (!Number.isInteger(masks.count) || masks.count < 0) throw new ShapeMismatchError(`A mask list's count must be an integer ≥ 0 (got ${masks.count}).`);
  if (masks.words !== words) throw new ShapeMismatchError(`A mask list of n = ${plan.n} players must have words = ⌈n/32⌉ = ${words} (got ${masks.words}).`);
  if (masks.bits.length < masks.count * words) {
    throw new ShapeMismatchError(`A mask list of ${masks.count} rows × ${words} words needs at least ${masks.count * words} entries in bits (got ${masks.bits.length}).`);
  }
  const used = plan.n % 32;
  if (used === 0 || words === 0) return;
  const stray = ~(((1 << used) - 1) >>> 0) >>> 0;
  for (let r = 0; r < masks.count; r++) {
    if ((masks.bits[r * words + words - 1] & stray) !== 0) {
      throw new ShapeMismatchError(`Row ${r} of the mask list sets a bit past player ${plan.n - 1}; bits past n must be 0.`);
    }
  }
}

/** Output dtypes andor reads (bindings/ort-common.ts decodes each to numbers; float16 and bfloat16 exactly). */
export const READABLE_OUTPUT_DTYPES: readonly string[] = [
  'float32', 'float64', 'int32', 'int64', 'bool', 'float16', 'bfloat16', 'uint8', 'int8', 'uint16', 'int16', 'uint32', 'uint64',
];

/** Bytes per element of the dtypes a model may declare (0 for those without a fixed size, e.g. string). */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  float64: 8, int64: 8, uint64: 8, float32: 4, int32: 4, uint32: 4, float16: 2, bfloat16: 2, int16: 2, uint16: 2, int8: 1, uint8: 1, bool: 1,
};

/** One term of a plan's batch memory: a tensor, its elements per row and bytes per element. */
export interface BatchTensor {
  readonly name: string;
  readonly role: 'input' | 'output';
  readonly dtype: string;
  readonly elementsPerRow: number;
  readonly bytesPerElement: number;
}

/** The memory a plan's evaluation holds per thread: every input and the reward's output, for one batch. */
export interface BatchMemory {
  readonly rows: number;
  readonly tensors: readonly BatchTensor[];
  /** rows × Σ elementsPerRow × bytesPerElement. */
  readonly bytesPerThread: number;
}

/**
 * The batch buffers of a plan on one thread: rows × elements per row × bytes per element, for every input and for
 * the output the reward reads (from its declared shape; symbolic dims other than the batch count as 1).
 * @param plan - the evaluation plan
 * @param outputs - the model's outputs as introspected
 */
export function batchMemory(plan: MaskPlan, outputs: readonly TensorInfo[]): BatchMemory {
  const rows = plan.batchAxis.kind === 'none' ? 1 : plan.batchSize * rowsPerMask(plan);
  // an unbatched input is one tensor whatever the rows: it counts as one row's worth, to within a few bytes
  const tensors: BatchTensor[] = plan.inputs.filter((input) => !input.unbatched).map((input) => ({
    name: input.name, role: 'input', dtype: input.dtype, elementsPerRow: input.values.length, bytesPerElement: bytesPer(input.dtype),
  }));
  const output = outputs.find((o) => o.name === plan.reward.output);
  if (output) {
    const isFixed = (d: number | string) => typeof d === 'number' && d > 0;
    const symbolic = output.shape.findIndex((d) => !isFixed(d));
    const sized = output.shape.findIndex((d) => d === rows);
    // the batch: none for a model without one; else a symbolic dim (dynamic batch) or the dim of the fixed size
    const batch = plan.batchAxis.kind === 'none' ? -1 : plan.batchAxis.kind === 'dynamic' ? (symbolic >= 0 ? symbolic : sized) : sized >= 0 ? sized : symbolic;
    // symbolic dims other than the batch are unknown before a run: they count as 1
    const elementsPerRow = output.shape.reduce<number>((product, d, axis) => (axis !== batch && isFixed(d) ? product * (d as number) : product), 1);
    tensors.push({ name: output.name, role: 'output', dtype: output.dtype, elementsPerRow, bytesPerElement: DTYPE_BYTES[output.dtype] ?? 0 });
  }
  const bytesPerRow = tensors.reduce((sum, t) => sum + t.elementsPerRow * t.bytesPerElement, 0);
  return { rows, tensors, bytesPerThread: rows * bytesPerRow };
}

/** What a sparse explanation holds besides its batches: bytes(b) at a budget of b evaluations (growing with b). */
export interface SparseMemory {
  readonly bytes: (budget: number) => number;
  readonly budget: number;
  /** The least budget the method takes (a lower one that fits is no fix). */
  readonly least: number;
}

/** The largest budget whose bytes fit `room` (0: none), by bisection over 0..sparse.budget. */
function largestBudget(sparse: SparseMemory, room: number): number {
  let low = 0;
  let high = sparse.budget;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (sparse.bytes(middle) <= room) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * Checks that a sparse explanation of a game given as a function (no batch buffers of andor's) fits the memory limit.
 * @throws MemoryLimitError with the largest budget that fits, or the memory it needs
 */
export function assertSparseFits(limits: Limits, sparse: SparseMemory): void {
  if (sparse.bytes(sparse.budget) > limits.maxMemoryMb * MIB) throw sparseMemoryError(sparse, 0, limits);
}

/** A sparse explanation over the memory limit: its term lists and fits grow with its budget, so a budget that does
 *  not fit is lowered, not the batch; where no budget the method takes fits (the fits' Gram goes only below the
 *  completion's masks, the table of v only with the players), only more memory helps. */
function sparseMemoryError(sparse: SparseMemory, batchBytes: number, limits: Limits): MemoryLimitError {
  const arrays = sparse.bytes(sparse.budget);
  const fitsBudget = largestBudget(sparse, limits.maxMemoryMb * MIB - batchBytes);
  const lower = fitsBudget >= sparse.least ? `Lower the budget (about ${fitsBudget} evaluations fit), or raise` : 'Raise';
  return new MemoryLimitError(
    `A sparse explanation with a budget of ${sparse.budget} evaluations holds about ${mib(arrays)} MiB (each evaluation's value and mask, for the refits, the term lists, and the fits' masks and least-squares Gram)` +
      `${batchBytes > 0 ? `, and its batch buffers ${mib(batchBytes)} MiB` : ''}: over the memory limit of ${limits.maxMemoryMb} MiB (maxMemoryMb / --max-memory-mb). ` +
      `${lower} maxMemoryMb (--max-memory-mb) to at least ${mib(batchBytes + arrays)}.`,
  );
}

/**
 * Checks, before any model run, that the plan's batch buffers on every thread plus its 2^n arrays fit the memory
 * budget: a model with a huge fixed batch (or a huge --batch-size) is refused here, not after minutes of paging.
 * @param plan - the evaluation plan
 * @param outputs - the model's outputs as introspected
 * @param limits - the memory budget
 * @param workers - threads that evaluate (0 = the calling thread, which counts as one)
 * @param sparse - for a sparse explanation (any n, no 2^n arrays): the bytes it holds besides the batch buffers at
 *   its budget (and at a lower one, for the budget the message offers); left out, the 2^n arrays of an exact
 *   explanation count
 * @throws MemoryLimitError giving the numbers and the fix
 */
export function assertPlanFits(plan: MaskPlan, outputs: readonly TensorInfo[], limits: Limits, workers: number, sparse?: SparseMemory): void {
  const sparseBytes = sparse?.bytes(sparse.budget);
  const arrays = sparseBytes ?? arrayBytes(plan.n);
  const threads = Math.max(1, workers);
  const memory = batchMemory(plan, outputs);
  const batchBytes = threads * memory.bytesPerThread;
  const limit = limits.maxMemoryMb * MIB;
  if (batchBytes + arrays <= limit) return;
  const terms = memory.tensors.map((t) => `${t.elementsPerRow * t.bytesPerElement} B of ${t.role} "${t.name}" (${t.elementsPerRow} ${t.dtype})`).join(' + ');
  const masks = sparseBytes === undefined ? 2 ** plan.n : Infinity;
  const rowsThatFit = Math.max(0, Math.floor((limit - arrays) / threads / Math.max(1, memory.bytesPerThread / memory.rows)));
  const fix =
    plan.batchAxis.kind === 'fixed'
      ? `The model's batch axis is fixed at ${memory.rows} rows${memory.rows > masks ? `, more than the ${masks} masks need` : ''}: export it with a dynamic batch axis (torch.onnx.export(..., dynamic_axes={"${plan.masked[0]?.name ?? plan.inputs[0]?.name}": {0: "batch"}, "${plan.reward.output}": {0: "batch"}})) or a fixed batch of at most ${rowsThatFit} rows, use fewer workers (--workers)`
      : `Use a smaller batchSize (--batch-size; at most ${rowsThatFit} rows fit) or fewer workers (--workers)`;
  if (sparse && batchBytes < limit / 2) throw sparseMemoryError(sparse, batchBytes, limits);
  throw new MemoryLimitError(
    `Evaluating ${sparseBytes === undefined ? `${masks} masks` : 'masks'} in batches of ${memory.rows} rows needs about ${mib(batchBytes)} MiB of batch buffers: ${threads} thread(s) × ${memory.rows} rows × (${terms}); ` +
      `with ${mib(arrays)} MiB for ${sparseBytes === undefined ? 'the 2^n arrays' : 'the sparse term lists'} that is over the memory limit of ${limits.maxMemoryMb} MiB (maxMemoryMb / --max-memory-mb). ` +
      `${fix}, or raise maxMemoryMb (--max-memory-mb) to at least ${mib(batchBytes + arrays)}.`,
  );
}

/** Number of elements per sample of an input, resolving symbolic non-batch dims from the sample size. */
export function resolveSampleDims(info: TensorInfo, batchAxis: BatchAxis, sampleSize: number): number[] {
  const dims = batchAxis.kind === 'none' ? [...info.shape] : info.shape.slice(1);
  const fixed = dims.filter((d): d is number => typeof d === 'number' && d > 0);
  const fixedSize = fixed.reduce((a, b) => a * b, 1);
  const symbolic = dims.filter((d) => typeof d !== 'number' || d <= 0).length;
  const describe = `[${info.shape.join(', ')}]`;
  if (symbolic === 0) {
    if (fixedSize !== sampleSize) {
      throw new ShapeMismatchError(
        `Input "${info.name}" of shape ${describe} takes ${fixedSize} values per sample, but the sample has ${sampleSize}. Give a sample of ${fixedSize} values (or pick another input with --input).`,
      );
    }
    return dims as number[];
  }
  if (symbolic > 1 || sampleSize % fixedSize !== 0) {
    throw new ShapeMismatchError(`Input "${info.name}" of shape ${describe} cannot take a sample of ${sampleSize} values: its non-batch dims must be fixed, except at most one.`);
  }
  return dims.map((d) => (typeof d === 'number' && d > 0 ? d : sampleSize / fixedSize));
}

/**
 * Whether a side input (not the masked one) has no batch axis: its first dim is a number while the batch is of
 * variable size, or a number other than a fixed batch's; all its dims are then fixed, and it is fed as declared.
 * @param info - the side input
 * @param batchAxis - the model's batch axis (from the masked input)
 */
export function isUnbatched(info: TensorInfo, batchAxis: BatchAxis): boolean {
  const first = info.shape[0];
  if (batchAxis.kind === 'none' || typeof first !== 'number' || first <= 0) return false;
  return batchAxis.kind === 'dynamic' || first !== batchAxis.size;
}

/** The dims of an unbatched side input, checked against the values the sample gives for it. */
export function unbatchedDims(info: TensorInfo, sampleSize: number): number[] {
  const dims = info.shape.map((d) => (typeof d === 'number' && d > 0 ? d : NaN));
  const size = dims.reduce((a, b) => a * b, 1);
  if (!(size === sampleSize)) {
    throw new ShapeMismatchError(
      `Input "${info.name}" of shape [${info.shape.join(', ')}] has no batch axis (its first dim is fixed), so andor feeds it as it is declared, the same in every run: it takes ${Number.isNaN(size) ? 'fixed dims only' : `${size} value${size === 1 ? '' : 's'}`}, but the sample gives ${sampleSize}.`,
    );
  }
  return dims;
}

/** The batch axis of a model, from its first input: symbolic dim 0 = dynamic, a number = fixed batch, and an
 *  input whose whole shape is one sample (e.g. [30]) = none. */
export function batchAxisOf(info: TensorInfo, sampleSize: number): BatchAxis {
  const first = info.shape[0];
  if (info.shape.length === 0) return { kind: 'none' };
  if (typeof first !== 'number' || first <= 0) return { kind: 'dynamic' };
  const total = info.shape.reduce<number>((a, d) => a * (typeof d === 'number' && d > 0 ? d : NaN), 1);
  if (first !== 1 && total === sampleSize) return { kind: 'none' };
  return { kind: 'fixed', size: first };
}

/** Rows per run of a big model's automatic batch: at most this many bytes of weights × rows... */
const WEIGHT_ROW_BYTES = 2 * 2 ** 30;
/** ...but never fewer than this many rows. */
const MIN_AUTO_ROWS = 8;

/**
 * Chooses rows per run: the fixed batch size, the requested one, or, for a dynamic axis, about `budgetBytes` of input
 * per run, at most max(8, 2 GiB / model bytes) rows. A big model's activations, not its inputs, fill memory and
 * caches: 256 rows of a 64-token DistilBERT are 16 KiB of ids but hundreds of MB of activations, and 8 rows ran 10–20 %
 * cheaper per row than 32 in both ONNX Runtime and PyTorch (bench/real-size.bench.js); a ResNet-18 (45 MB) is not
 * capped below its 27 rows of 16 MiB of input, and small models are not capped at all. With R rows per mask (the
 * marginal baseline) a run holds the masks of about as many rows (at least one mask), and a requested size counts rows.
 * @returns masks per run
 */
export function chooseBatchSize(batchAxis: BatchAxis, inputs: readonly PlanInput[], masks: number, requested?: number, modelBytes = 0, budgetBytes = 16 * 2 ** 20, perMask = 1): number {
  if (batchAxis.kind === 'fixed') return batchAxis.size;
  if (batchAxis.kind === 'none') return 1;
  if (requested !== undefined) return Math.max(1, Math.min(Math.floor(requested / perMask), masks));
  const rowBytes = inputs.reduce((sum, input) => sum + (input.unbatched ? 0 : input.values.length * bytesPer(input.dtype)), 0);
  const weightCap = modelBytes > 0 ? Math.max(MIN_AUTO_ROWS, Math.floor(WEIGHT_ROW_BYTES / modelBytes)) : Infinity;
  return Math.max(1, Math.min(masks, Math.floor(Math.min(1024, weightCap, Math.floor(budgetBytes / rowBytes)) / perMask)));
}

/** Bytes per element of a dtype. */
export function bytesPer(dtype: DType): number {
  return dtype === 'float64' || dtype === 'int64' ? 8 : dtype === 'bool' ? 1 : 4;
}

/** Allocates a typed array of the dtype. */
export function allocTyped(dtype: DType, length: number): TypedData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'bool':
      return new Uint8Array(length);
  }
}
