// The evaluation plan: everything a thread needs to build masked inputs and turn model outputs into rewards.
// Plans hold only typed arrays and plain objects, so they cross the worker boundary as they are. Built on the
// main thread from the model's introspected inputs, the sample and the players (players.ts).
import { InvalidOptionError, MemoryLimitError, ShapeMismatchError } from '../contracts/errors.js';
import { MAX_PLAYERS } from '../contracts/limits.js';
import type { DType, TensorInfo, TypedData } from '../contracts/backend.js';

/** How absent players' raw values are written: per player, the element indices it owns and their baseline values. */
export interface MaskedInput {
  readonly name: string;
  /** offsets[i]..offsets[i+1] index into `indices` for player i (CSR layout, length n+1). */
  readonly offsets: Int32Array;
  /** Flat element indices within one sample of this input. */
  readonly indices: Int32Array;
  /** The baseline value of every element of one sample (only the indices of players are read). */
  readonly baseline: Float64Array;
}

/** One model input: its dtype, per-sample dims and the sample's values (background already applied). */
export interface PlanInput {
  readonly name: string;
  readonly dtype: DType;
  /** Dims of one sample, without the batch axis. */
  readonly sampleDims: readonly number[];
  readonly values: Float64Array;
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
  /** Rows per model run. */
  readonly batchSize: number;
}


/** f64 arrays of length 2^n that one explain holds at its peak: the 16-slot decomposition workspace, plus v, γ, q,
 *  then AND, OR and the rebuilt game. */
export const ARRAYS_PER_MASK = 20;

/** Limits on one explanation. */
export interface Limits {
  /** Memory budget for its 2^n arrays, in MiB. */
  readonly maxMemoryMb: number;
  /** Most players accepted (a service sets it below what memory allows). */
  readonly maxPlayers: number;
}

/**
 * Checks that 2^n masks fit the limits.
 * @throws MemoryLimitError naming the limit and the largest n that fits
 */
export function assertPlayersFit(n: number, { maxMemoryMb, maxPlayers }: Limits): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidOptionError(`The number of players must be at least 1 (got ${n}).`);
  if (n > maxPlayers) throw new MemoryLimitError(`${n} players exceed the limit of ${maxPlayers} set by maxPlayers (--max-players). Choose at most ${maxPlayers} players.`);
  const bytes = 2 ** n * 8 * ARRAYS_PER_MASK;
  const limit = maxMemoryMb * 2 ** 20;
  if (n > MAX_PLAYERS || bytes > limit) {
    const largest = Math.min(MAX_PLAYERS, Math.floor(Math.log2(limit / (8 * ARRAYS_PER_MASK))));
    throw new MemoryLimitError(
      `${n} players need ${2 ** n} masks and about ${Math.ceil(bytes / 2 ** 20)} MiB, over the memory limit of ${maxMemoryMb} MiB. ` +
        `Use at most ${largest} players, or raise maxMemoryMb (--max-memory-mb).`,
    );
  }
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

/** Chooses rows per run: the fixed batch size, or about `budgetBytes` of input per run for a dynamic axis. */
export function chooseBatchSize(batchAxis: BatchAxis, inputs: readonly PlanInput[], masks: number, requested?: number, budgetBytes = 16 * 2 ** 20): number {
  if (batchAxis.kind === 'fixed') return batchAxis.size;
  if (batchAxis.kind === 'none') return 1;
  if (requested !== undefined) return Math.min(requested, masks);
  const rowBytes = inputs.reduce((sum, input) => sum + input.values.length * bytesPer(input.dtype), 0);
  return Math.max(1, Math.min(masks, 1024, Math.floor(budgetBytes / rowBytes)));
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
