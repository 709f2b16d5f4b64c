// The hot path of evaluation: writes masked copies of one sample straight into reusable batch buffers, finds the
// batch axis of an output, and reads one reward per row back along it. Runs on whichever thread evaluates.
import { ShapeMismatchError } from '../contracts/errors.js';
import type { TensorData, TypedData } from '../contracts/backend.js';
import { allocTyped, type BatchAxis, type MaskPlan, type RewardSpec } from './plan.js';

interface InputBuffer {
  readonly name: string;
  readonly dtype: TensorData['dtype'];
  readonly dims: readonly number[];
  readonly rowSize: number;
  readonly batch: TypedData;
  /** One sample in the input's dtype (background applied), copied into each row. */
  readonly row: TypedData;
  readonly players?: { offsets: Int32Array; indices: Int32Array; baseline: TypedData };
}

function toTyped(dtype: TensorData['dtype'], values: Float64Array): TypedData {
  const out = allocTyped(dtype, values.length);
  if (out instanceof BigInt64Array) for (let i = 0; i < values.length; i++) out[i] = BigInt(Math.round(values[i]));
  else out.set(values);
  return out;
}

/** Builds feeds for ranges of masks from a plan, reusing one set of batch buffers. */
export class BatchBuilder {
  private readonly buffers: InputBuffer[];
  /** The mask each row holds now: rows start as the full sample, and a fill rewrites only the players whose bit
   *  changed since, so background elements are never touched again. */
  private readonly held: Int32Array;

  constructor(readonly plan: MaskPlan) {
    const rows = plan.batchSize;
    this.buffers = plan.inputs.map((input) => {
      const rowSize = input.values.length;
      const row = toTyped(input.dtype, input.values);
      const batch = allocTyped(input.dtype, rowSize * rows);
      for (let r = 0; r < rows; r++) (batch as Float64Array).set(row as Float64Array, r * rowSize);
      const masked = plan.masked.find((m) => m.name === input.name);
      const dims = plan.batchAxis.kind === 'none' ? [...input.sampleDims] : [rows, ...input.sampleDims];
      const players = masked && { offsets: masked.offsets, indices: masked.indices, baseline: toTyped(input.dtype, masked.baseline) };
      return { name: input.name, dtype: input.dtype, dims, rowSize, batch, row, players };
    });
    this.held = new Int32Array(rows).fill(2 ** plan.n - 1);
  }

  /**
   * Fills rows 0..count−1 with the masks start..start+count−1 (bit i set = player i present); rows past count keep
   * their last content (padding for fixed-batch models).
   * @returns the feeds for one model run
   */
  fill(start: number, count: number): Record<string, TensorData> {
    const masked = this.buffers.filter((buf) => buf.players);
    for (let r = 0; r < count; r++) {
      const mask = start + r;
      let changed = this.held[r] ^ mask;
      this.held[r] = mask;
      while (changed !== 0) {
        const i = 31 - Math.clz32(changed & -changed); // lowest changed player
        changed &= changed - 1;
        const present = (mask >>> i) & 1;
        for (const buf of masked) {
          const { offsets, indices, baseline } = buf.players!;
          const batch = buf.batch as Float64Array;
          const source = (present ? buf.row : baseline) as Float64Array;
          const rowStart = r * buf.rowSize;
          for (let k = offsets[i]; k < offsets[i + 1]; k++) {
            const d = indices[k];
            batch[rowStart + d] = source[d];
          }
        }
      }
    }
    const feeds: Record<string, TensorData> = {};
    for (const buf of this.buffers) feeds[buf.name] = { dtype: buf.dtype, data: buf.batch, dims: buf.dims };
    return feeds;
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
function rewardOf(spec: RewardSpec, row: Float64Array): number {
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
