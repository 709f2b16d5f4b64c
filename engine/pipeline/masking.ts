// The hot path of evaluation: writes masked copies of one sample straight into reusable batch buffers, and reads
// one reward per row back from the model's outputs. Runs on whichever thread evaluates (worker or main).
import type { TensorData, TypedData } from '../contracts/backend.js';
import { allocTyped, type MaskPlan, type RewardSpec } from './plan.js';

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

/**
 * Reads one reward per row from an output tensor of `rows` rows (spec §1.3) into out[offset..offset+count).
 * gt-log-odds is computed in the stable form z_y − logsumexp_{c≠y} z_c; a single-logit output gives ±z.
 */
export function readRewards(spec: RewardSpec, output: TensorData, rows: number, count: number, out: Float64Array, offset: number): void {
  const data = output.data as Float64Array;
  const width = data.length / rows;
  const y = spec.target;
  for (let r = 0; r < count; r++) {
    const at = r * width;
    let v: number;
    if (spec.kind === 'output') v = Number(data[at + y]);
    else if (width === 1) {
      const z = Number(data[at]);
      v = spec.kind === 'logit' || y === 1 ? z : -z;
    } else if (spec.kind === 'logit') v = Number(data[at + y]);
    else if (width === 2) v = Number(data[at + y]) - Number(data[at + 1 - y]); // logsumexp of one logit is itself
    else {
      let max = -Infinity;
      for (let c = 0; c < width; c++) if (c !== y && data[at + c] > max) max = Number(data[at + c]);
      let sum = 0;
      for (let c = 0; c < width; c++) if (c !== y) sum += Math.exp(Number(data[at + c]) - max);
      v = Number(data[at + y]) - max - Math.log(sum);
    }
    out[offset + r] = v;
  }
}
