// Players and baselines per modality: which raw elements of the masked input each player owns, and the baseline
// value of each element (spec §1.1, §1.2). The result feeds MaskPlan.masked; masking itself is in masking.ts.
import { InvalidOptionError, ShapeMismatchError } from './contracts/errors.js';
import { indexList } from './options.js';
import type { MaskedInput } from './plan.js';

/** Baselines: by name, or one value per element of a sample. */
export type BaselineSpec = 'zero' | 'mean' | 'blur' | 'centroid' | 'center' | Float64Array;

/** Where absent players' values come from and which elements are players, for one masked input. */
export interface PlayerLayout {
  readonly n: number;
  readonly names: readonly string[];
  readonly masked: MaskedInput;
  /** The sample with background convention (b) applied (elements of no player set to the baseline). */
  readonly values: Float64Array;
}

/** What the layout functions know about the input and the sample. */
export interface LayoutContext {
  readonly inputName: string;
  /** Dims of one sample of the masked input (no batch axis). */
  readonly dims: readonly number[];
  readonly values: Float64Array;
  readonly baseline: BaselineSpec;
  /** Rows of a reference set (for the 'mean' baseline). */
  readonly reference?: readonly Float64Array[];
  /** 'keep': elements of no player keep their value (default); 'mask': they always take the baseline. */
  readonly background: 'keep' | 'mask';
  readonly featureNames?: readonly string[];
}

/** The baseline vector for the generic names (zero, mean, given); modality layouts handle their own names. */
export function genericBaseline(ctx: LayoutContext, allowed: readonly string[]): Float64Array {
  const size = ctx.values.length;
  const spec = ctx.baseline;
  if (spec instanceof Float64Array) {
    if (spec.length !== size) throw new ShapeMismatchError(`The baseline has ${spec.length} values but the sample of input "${ctx.inputName}" has ${size}. Give one baseline value per input element.`);
    return spec;
  }
  if (spec === 'zero') return new Float64Array(size);
  if (spec === 'mean') {
    const rows = ctx.reference ?? [];
    if (rows.length === 0) throw new InvalidOptionError('baseline "mean" needs a reference set: pass reference (--reference FILE) with one or more rows.');
    const mean = new Float64Array(size);
    for (const [i, row] of rows.entries()) {
      if (row.length !== size) throw new ShapeMismatchError(`Reference row ${i} has ${row.length} values; the sample has ${size}.`);
      for (let d = 0; d < size; d++) mean[d] += row[d] / rows.length;
    }
    return mean;
  }
  throw new InvalidOptionError(`baseline "${spec}" does not apply here. Expected one of: ${allowed.join(', ')}, or a vector of ${size} values.`);
}

/** Builds the CSR layout of players → element indices, and applies the background convention. */
export function buildLayout(ctx: LayoutContext, owned: readonly (readonly number[])[], names: readonly string[], baseline: Float64Array): PlayerLayout {
  const offsets = new Int32Array(owned.length + 1);
  owned.forEach((elements, i) => (offsets[i + 1] = offsets[i] + elements.length));
  const indices = Int32Array.from(owned.flat());
  const values = Float64Array.from(ctx.values);
  if (ctx.background === 'mask') {
    const isPlayer = new Uint8Array(values.length);
    for (const d of indices) isPlayer[d] = 1;
    for (let d = 0; d < values.length; d++) if (!isPlayer[d]) values[d] = baseline[d];
  }
  return { n: owned.length, names, masked: { name: ctx.inputName, offsets, indices, baseline }, values };
}

/**
 * Tabular players: each chosen feature column is a player; other columns are background.
 * @param players - column indices ("0-9", [0, 3, 5]); default: every column
 */
export function tabularLayout(ctx: LayoutContext, players: unknown): PlayerLayout {
  const size = ctx.values.length;
  const columns = players === undefined ? Array.from({ length: size }, (_, i) => i) : indexList(players, 'players', size, 'feature column');
  const baseline = genericBaseline(ctx, ['zero', 'mean']);
  const names = columns.map((c) => ctx.featureNames?.[c] ?? `x${c}`);
  return buildLayout(ctx, columns.map((c) => [c]), names, baseline);
}
