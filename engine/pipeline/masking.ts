// The hot path of evaluation: writes masked copies of one sample straight into reusable batch buffers (from a range
// of mask indices, or from rows of a bit-packed mask list, for any n), finds the batch axis of an output, and reads
// one reward per row back along it. Runs on whichever thread evaluates.
import { ShapeMismatchError } from '../contracts/errors.js';
import type { TensorData, TypedData } from '../contracts/backend.js';
import { allocTyped, rowsPerMask, type BatchAxis, type MaskList, type MaskPlan, type RewardSpec } from './plan.js';

interface InputBuffer {
  readonly name: string;
  readonly dtype: TensorData['dtype'];
  readonly dims: readonly number[];
  readonly rowSize: number;
  readonly batch: TypedData;
  /** One sample in the input's dtype (background applied), copied into each row. */
  readonly row: TypedData;
  readonly players?: { offsets: Int32Array; indices: Int32Array; baseline: TypedData };
  /** Fed as it is, whatever the rows (PlanInput.unbatched). */
  readonly unbatched: boolean;
}

/** Values as the model is fed them: in the input's dtype (rounded to integers for integer inputs). */
export function toTyped(dtype: TensorData['dtype'], values: Float64Array): TypedData {
  const out = allocTyped(dtype, values.length);
  // a derived value (a mean baseline) rounds to the nearest integer for int32 as for int64; set() would truncate it
  if (out instanceof BigInt64Array) for (let i = 0; i < values.length; i++) out[i] = BigInt(Math.round(values[i]));
  else if (out instanceof Int32Array) for (let i = 0; i < values.length; i++) out[i] = Math.round(values[i]);
  else out.set(values);
  return out;
}

/** A masked input as the fill loop reads it: player i owns elements indices[offsets[i]..offsets[i+1]). A class (it
 *  was an object spread): V8 then deoptimized setWord and fillList in the workers with "wrong map" here, about once a
 *  run (15 such deopts over 2 exact and 10 sparse runs of digits-cnn, 3 with the class; `--trace-deopt`, ad hoc). */
class MaskedBuffer {
  constructor(
    readonly offsets: Int32Array,
    readonly indices: Int32Array,
    /** Absent players' values (R baselines one after the other: row r takes baseline r mod R), present ones', and
     *  the batch, all in the input's dtype. */
    readonly baseline: TypedData,
    readonly row: TypedData,
    readonly batch: TypedData,
    readonly rowSize: number,
  ) {}
}

/** Builds feeds for ranges of masks, or rows of a mask list, from a plan, reusing one set of batch buffers. A mask
 *  takes R = rowsPerMask(plan) consecutive rows of a run (the marginal baseline: one per reference row); row r's absent
 *  players take baseline r mod R, so that a row keeps its baseline from run to run and only changed players are
 *  rewritten. */
export class BatchBuilder {
  private readonly buffers: InputBuffer[];
  /** The masked inputs (those with players), flattened for the hot loop of setWord. */
  private readonly masked: MaskedBuffer[];
  /** 32-bit words per mask: ⌈n/32⌉ (at least 1). */
  private readonly words: number;
  /** The mask each row holds now, bit-packed (rows × words): rows start as the full sample, and a fill rewrites only
   *  the players whose bit changed since, so background elements are never touched again. */
  private readonly held: Uint32Array;
  /** The full mask, one row of words. */
  private readonly full: Uint32Array;
  /** Rows per mask. */
  readonly perMask: number;

  /**
   * @param plan - the masks' inputs, players and batch
   * @param alloc - where the batch buffers come from (BuilderCache: a retired builder's); every row is written here
   */
  constructor(
    readonly plan: MaskPlan,
    alloc: (dtype: TensorData['dtype'], length: number) => TypedData = allocTyped,
  ) {
    this.perMask = rowsPerMask(plan);
    const rows = plan.batchSize * this.perMask;
    this.buffers = plan.inputs.map((input) => {
      const rowSize = input.values.length;
      const row = toTyped(input.dtype, input.values);
      const unbatched = input.unbatched === true;
      if (unbatched) return { name: input.name, dtype: input.dtype, dims: [...input.sampleDims], rowSize, batch: row, row, unbatched };
      const batch = alloc(input.dtype, rowSize * rows);
      for (let r = 0; r < rows; r++) (batch as Float64Array).set(row as Float64Array, r * rowSize);
      const masked = plan.masked.find((m) => m.name === input.name);
      const dims = plan.batchAxis.kind === 'none' ? [...input.sampleDims] : [rows, ...input.sampleDims];
      const players = masked && { offsets: masked.offsets, indices: masked.indices, baseline: toTyped(input.dtype, masked.baseline) };
      return { name: input.name, dtype: input.dtype, dims, rowSize, batch, row, players, unbatched };
    });
    this.masked = this.buffers.flatMap((buf) => (buf.players ? [new MaskedBuffer(buf.players.offsets, buf.players.indices, buf.players.baseline, buf.row, buf.batch, buf.rowSize)] : []));
    this.words = Math.max(1, (plan.n + 31) >>> 5);
    this.full = new Uint32Array(this.words).fill(0xffffffff);
    if (plan.n % 32 !== 0) this.full[this.words - 1] = ((1 << (plan.n % 32)) - 1) >>> 0;
    this.held = new Uint32Array(rows * this.words);
    for (let r = 0; r < rows; r++) this.held.set(this.full, r * this.words);
  }

  /**
   * Fills rows 0..count−1 with the masks start..start+count−1 (bit i of the index set = player i present; n ≤ 31);
   * rows past count keep their last content (padding: every run has the plan's batch size).
   * @returns the feeds for one model run
   */
  fill(start: number, count: number): Record<string, TensorData> {
    const per = this.perMask;
    for (let m = 0; m < count; m++) for (let j = 0; j < per; j++) this.setWord(m * per + j, 0, (start + m) >>> 0);
    return this.feeds();
  }

  /**
   * Fills rows 0..count−1 with rows first..first+count−1 of a bit-packed mask list (any n; its n and words are the
   * plan's, checked by assertMaskList). A dynamic batch axis runs exactly those count rows (a list's short calls are
   * not padded to the batch size: padding 8 masks to 64 rows costs 8 times the model's work), but never one row alone
   * when the batch holds two: onnxruntime's one-row matrix kernels round differently from its batched ones (on
   * tokens-40, outputs 1e-6 apart), so a mask's value would depend on the call it came in, and a sparse recovery,
   * whose calls the pool splits by measured speed, would not repeat itself. A fixed axis is padded.
   * @returns the feeds for one model run, and the rows they hold
   */
  fillList(masks: MaskList, first: number, count: number): { feeds: Record<string, TensorData>; rows: number } {
    const { words, bits } = masks;
    const per = this.perMask;
    for (let m = 0; m < count; m++) {
      const base = (first + m) * words;
      for (let j = 0; j < per; j++) for (let w = 0; w < words; w++) this.setWord(m * per + j, w, bits[base + w]);
    }
    const axis = this.plan.batchAxis.kind;
    const all = this.plan.batchSize * per;
    if (axis !== 'dynamic' || count === this.plan.batchSize) return { feeds: this.feeds(), rows: axis === 'none' ? 1 : all };
    const rows = Math.max(count * per, Math.min(2, all));
    return { feeds: this.feeds(rows), rows };
  }

  /** The batch buffers written rows into (not an unbatched input's), with their dtypes: a BuilderCache hands them to
   *  the next builder of the same shape once this one is dropped. */
  batchBuffers(): { readonly dtype: TensorData['dtype']; readonly batch: TypedData }[] {
    return this.buffers.filter((buf) => !buf.unbatched).map(({ dtype, batch }) => ({ dtype, batch }));
  }

  /** Fills row 0 with the full mask (every player present). @returns the feeds for one model run */
  fillFull(): Record<string, TensorData> {
    for (let w = 0; w < this.words; w++) this.setWord(0, w, this.full[w]);
    return this.feeds();
  }

  /** Row r takes `word` as its mask bits 32·w..32·w+31: the players whose bit changed are rewritten. The hot loop
   *  of a mask list (random masks change about n/2 players per row): plain indexed loops, no allocation. */
  private setWord(r: number, w: number, word: number): void {
    const at = r * this.words + w;
    const changed = this.held[at] ^ word;
    if (changed === 0) return;
    this.held[at] = word;
    const masked = this.masked;
    // the row's own baseline: baseline r mod R starts at that many sample sizes
    const reference = this.perMask === 1 ? 0 : r % this.perMask;
    for (let b = 0; b < masked.length; b++) {
      const { offsets, indices } = masked[b];
      const batch = masked[b].batch as Float64Array;
      const row = masked[b].row as Float64Array;
      const baseline = masked[b].baseline as Float64Array;
      const rowStart = r * masked[b].rowSize;
      const baseStart = reference * masked[b].rowSize;
      let left = changed;
      while (left !== 0) {
        const bit = 31 - Math.clz32(left & -left); // lowest changed player of this word
        left &= left - 1;
        const i = 32 * w + bit;
        if ((word >>> bit) & 1) {
          for (let k = offsets[i], end = offsets[i + 1]; k < end; k++) {
            const d = indices[k];
            batch[rowStart + d] = row[d];
          }
        } else {
          for (let k = offsets[i], end = offsets[i + 1]; k < end; k++) {
            const d = indices[k];
            batch[rowStart + d] = baseline[baseStart + d];
          }
        }
      }
    }
  }

  /** The batch buffers as feeds: every row, or (a dynamic batch axis) only the first `rows`, as views. */
  private feeds(rows?: number): Record<string, TensorData> {
    const feeds: Record<string, TensorData> = {};
    for (const buf of this.buffers) {
      feeds[buf.name] = rows === undefined || buf.unbatched
        ? { dtype: buf.dtype, data: buf.batch, dims: buf.dims }
        : { dtype: buf.dtype, data: buf.batch.subarray(0, rows * buf.rowSize) as TypedData, dims: [rows, ...buf.dims.slice(1)] };
    }
    return feeds;
  }
}

/** Batch buffers a BuilderCache keeps from dropped builders at most, and their bytes at most: the last dropped plans'
 *  inputs (a text model feeds two or three of one shape), within twice the input of one model run that the batch
 *  size aims at (plan.ts, about 16 MiB): idle builders and spares together hold a few runs' worth per thread. */
const SPARE_BUFFERS = 4;
const SPARE_BYTES = 32 * 2 ** 20;

/**
 * Batch builders by plan, each handed to one evaluation at a time (acquire, then release), for at most `plans` plans:
 * the least recently acquired plan's idle builders are dropped past that. A dropped builder's batch buffers go to the
 * next new builders of the same dtype and length (the most recently dropped, within SPARE_BUFFERS and SPARE_BYTES),
 * which write every row of them anew: each explanation makes plans of its own, and a fresh buffer's first writes fault
 * its pages in (a 3.2 MB batch of patches-49, 1024 rows of 28×28, took 9–16 ms to build in each worker at each run on
 * the project's VMs, 0.06–0.2 ms into pages already touched: ad hoc, `new BatchBuilder` timed in the workers).
 */
export class BuilderCache<K> {
  private readonly idle = new Map<K, BatchBuilder[]>();
  /** Batch buffers of dropped builders, the most recently dropped last. */
  private readonly spare: { readonly shape: string; readonly batch: TypedData }[] = [];

  /** @param plans - plans whose idle builders are kept */
  constructor(private readonly plans: number) {}

  /** A builder of the plan (key names its contents) that no other evaluation holds until it is released. */
  acquire(key: K, plan: MaskPlan): BatchBuilder {
    const list = this.idle.get(key) ?? [];
    // most recently acquired last: the first entry is the one dropped
    this.idle.delete(key);
    this.idle.set(key, list);
    for (const [old, builders] of this.idle) {
      if (this.idle.size <= this.plans) break;
      this.idle.delete(old);
      builders.forEach((builder) => this.drop(builder));
    }
    return list.pop() ?? new BatchBuilder(plan, (dtype, length) => this.take(`${dtype}:${length}`) ?? allocTyped(dtype, length));
  }

  /** Gives a builder back once its evaluation has ended: kept for its plan, or dropped if the plan was. */
  release(key: K, builder: BatchBuilder): void {
    const list = this.idle.get(key);
    if (list) list.push(builder);
    else this.drop(builder);
  }

  /** A spare buffer of that shape, taken out of the spares. */
  private take(shape: string): TypedData | undefined {
    for (let at = this.spare.length - 1; at >= 0; at--) if (this.spare[at].shape === shape) return this.spare.splice(at, 1)[0].batch;
    return undefined;
  }

  private drop(builder: BatchBuilder): void {
    for (const { dtype, batch } of builder.batchBuffers()) this.spare.push({ shape: `${dtype}:${batch.length}`, batch });
    let bytes = this.spare.reduce((sum, { batch }) => sum + batch.byteLength, 0);
    while (this.spare.length > SPARE_BUFFERS || bytes > SPARE_BYTES) bytes -= this.spare.shift()!.batch.byteLength;
  }
}

/** Where the rows of an output lie: the tensor is [outer…, rows, inner…] around its batch axis, so element j of row r
 *  sits at ((j div inner)·rows + r)·inner + j mod inner. A model without a batch axis has one row: the whole tensor. */
export interface OutputRows {
  /** The batch axis (−1 when the whole tensor is one row). */
  readonly axis: number;
  readonly rows: number;
  /** Values per row: the product of the other dims. */
  readonly width: number;
  /** Product of the dims before the batch axis. */
  readonly outer: number;
  /** Product of the dims after the batch axis. */
  readonly inner: number;
}

/** What locateRows needs to know about the model and the batch it was fed. */
export interface RowsQuery {
  /** The output's name, for messages. */
  readonly output: string;
  /** Its dims in this run. */
  readonly dims: readonly number[];
  /** Its declared shape (symbolic dims are names); empty or undefined when unknown. */
  readonly declared?: readonly (number | string)[];
  /** The masked input's name and declared batch dim (dim 0): a name for a dynamic batch, a number for a fixed one. */
  readonly input: string;
  readonly inputBatchDim?: number | string;
  /** Rows fed in this run. */
  readonly rows: number;
  readonly batchAxis: BatchAxis['kind'];
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
const isFixedDim = (d: number | string | undefined) => typeof d === 'number' && d > 0;

/**
 * Finds the batch axis of an output: the axis declared under the input's batch name; else, among the axes whose
 * size equals the rows fed, the one the declared shape allows (a symbolic dim for a dynamic batch, a matching size
 * for a fixed one). With one row fed there is nothing to find.
 * @throws ShapeMismatchError when no axis, or more than one, can be the batch, saying how to export the model
 */
export function locateRows(query: RowsQuery): OutputRows {
  const { output, dims, input, rows } = query;
  const total = product(dims);
  if (query.batchAxis === 'none' || rows === 1) return { axis: -1, rows: 1, width: total, outer: 1, inner: total };
  const declared = query.declared && query.declared.length === dims.length ? query.declared : undefined;
  let candidates = dims.map((_, axis) => axis).filter((axis) => dims[axis] === rows);
  const batchName = query.inputBatchDim;
  const named = typeof batchName === 'string' && batchName !== '' && declared ? candidates.filter((axis) => declared[axis] === batchName) : [];
  if (named.length > 0) candidates = named;
  else if (declared) {
    candidates = candidates.filter((axis) => (query.batchAxis === 'dynamic' ? !isFixedDim(declared[axis]) : !isFixedDim(declared[axis]) || declared[axis] === rows));
  }
  const shape = `dims [${dims.join(', ')}]${declared ? ` (declared [${declared.join(', ')}])` : ''}`;
  const howToExport =
    `Export the model with the batch axis first in every output, named like the input's: ` +
    `torch.onnx.export(..., dynamic_axes={"${input}": {0: "batch"}, "${output}": {0: "batch"}}) (or dynamic_shapes with the dynamo exporter).`;
  if (candidates.length === 0) {
    throw new ShapeMismatchError(
      `The model's output "${output}" has ${shape} for a batch of ${rows} rows, but no axis of it can hold the batch, so andor cannot tell which values belong to which masked sample. ${howToExport}`,
    );
  }
  if (candidates.length > 1) {
    throw new ShapeMismatchError(
      `The model's output "${output}" has ${shape} for a batch of ${rows} rows: axes ${candidates.join(' and ')} could each be the batch axis, so andor cannot tell which values belong to which masked sample. ${howToExport}`,
    );
  }
  const axis = candidates[0];
  const outer = product(dims.slice(0, axis));
  const inner = product(dims.slice(axis + 1));
  return { axis, rows, width: outer * inner, outer, inner };
}

/**
 * Copies row r of an output into `into` (length width), as numbers.
 * @param data - the output's values
 * @param layout - where its rows lie
 */
export function readRow(data: TypedData, layout: OutputRows, r: number, into: Float64Array): Float64Array {
  const { rows, outer, inner } = layout;
  let j = 0;
  for (let o = 0; o < outer; o++) {
    const base = (o * rows + r) * inner;
    for (let i = 0; i < inner; i++) into[j++] = Number(data[base + i]);
  }
  return into;
}

/** The scalar reward of one output row (spec §1.3); gt-log-odds in the stable form z_y − logsumexp_{c≠y} z_c. */
export function rewardOf(spec: RewardSpec, row: Float64Array): number {
  const y = spec.target;
  const width = row.length;
  if (spec.kind === 'output') return row[y];
  if (width === 1) return spec.kind === 'logit' || y === 1 ? row[0] : -row[0];
  if (spec.kind === 'logit') return row[y];
  if (width === 2) return row[y] - row[1 - y]; // logsumexp of one logit is itself
  let max = -Infinity;
  for (let c = 0; c < width; c++) if (c !== y && row[c] > max) max = row[c];
  let sum = 0;
  for (let c = 0; c < width; c++) if (c !== y) sum += Math.exp(row[c] - max);
  return row[y] - max - Math.log(sum);
}

/**
 * Reads one reward per row from an output tensor into out[offset..offset+count), along its batch axis.
 * @param spec - the reward
 * @param output - the output tensor
 * @param layout - where its rows lie (locateRows), or a row count for an output whose batch axis is its first
 * @param count - rows to read (the rest are padding)
 * @returns the first row whose reward is not finite, or −1
 */
export function readRewards(spec: RewardSpec, output: TensorData, layout: OutputRows | number, count: number, out: Float64Array, offset: number): number {
  const rows = typeof layout === 'number' ? { axis: 0, rows: layout, width: output.data.length / layout, outer: 1, inner: output.data.length / layout } : layout;
  const row = new Float64Array(rows.width);
  let firstBad = -1;
  for (let r = 0; r < count; r++) {
    const v = rewardOf(spec, readRow(output.data, rows, r, row));
    out[offset + r] = v;
    if (firstBad < 0 && !Number.isFinite(v)) firstBad = r;
  }
  return firstBad;
}
