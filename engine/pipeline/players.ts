// Players and baselines per modality: which raw elements of the masked input each player owns, and the baseline
// value of each element (spec §1.1, §1.2). The result feeds MaskPlan.masked; masking itself is in masking.ts.
import { InvalidInputError, InvalidOptionError, NonFiniteError, ShapeMismatchError } from '../contracts/errors.js';
import { indexList } from '../inputs/options.js';
import type { MaskedInput } from './plan.js';
import { preview } from '../inputs/preview.js';

/** Baselines: by name, or one value per element of a sample. */
export type BaselineSpec = 'zero' | 'mean' | 'marginal' | 'blur' | 'centroid' | 'center' | Float64Array;

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
  if (spec === 'mean' || spec === 'marginal') {
    const rows = ctx.reference ?? [];
    if (rows.length === 0) throw new InvalidOptionError(`baseline "${spec}" needs a reference set: pass reference (--reference FILE) with one or more rows.`);
    for (const [i, row] of rows.entries()) if (row.length !== size) throw new ShapeMismatchError(`Reference row ${i} has ${row.length} values; the sample has ${size}.`);
    if (spec === 'marginal') return marginalBaselines(ctx, rows);
    const mean = new Float64Array(size);
    for (const row of rows) for (let d = 0; d < size; d++) mean[d] += row[d] / rows.length;
    // each term is at most the largest float64 over R, but their rounded sum can pass it (three rows of 1.797e308)
    const bad = mean.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw new NonFiniteError(
        `The mean of the reference rows is ${mean[bad]} at element ${bad} of input "${ctx.inputName}": its values (near ±1.8e308) overflow float64 when averaged. Rescale the reference rows, or give the baseline as a vector.`,
      );
    }
    return mean;
  }
  throw new InvalidOptionError(`baseline "${spec}" does not apply here. Expected one of: ${allowed.join(', ')}, or a vector of ${size} values.`);
}

/** Most reference rows of the marginal baseline: each mask is evaluated once per row. */
export const MAX_MARGINAL_ROWS = 10_000;

/**
 * The marginal (interventional) baseline: every reference row, one after the other. A mask is evaluated once per row,
 * its absent players at that row's values, and its reward is the mean over the rows:
 * v(T) = (1/R) Σ_r reward(f(x_T, ref_r,N∖T)), as SHAP's and shapiq's marginal imputers do with background data.
 * @throws InvalidOptionError with --background mask (one background per row is not kept) or above MAX_MARGINAL_ROWS
 */
function marginalBaselines(ctx: LayoutContext, rows: readonly Float64Array[]): Float64Array {
  if (ctx.background === 'mask') {
    throw new InvalidOptionError('baseline "marginal" takes each absent player from every reference row in turn, so elements of no player have no one baseline: use background "keep" (the default), or baseline "mean".');
  }
  if (rows.length > MAX_MARGINAL_ROWS) {
    throw new InvalidOptionError(
      `baseline "marginal" evaluates every mask once per reference row, and the reference has ${rows.length} rows (at most ${MAX_MARGINAL_ROWS}). Give fewer rows (--reference FILE with a sample of them), or use baseline "mean".`,
    );
  }
  const size = ctx.values.length;
  const stacked = new Float64Array(rows.length * size);
  rows.forEach((row, r) => stacked.set(row, r * size));
  return stacked;
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
  const columns = players === undefined ? Array.from({ length: size }, (_, i) => i) : indexList(players, 'options.players', size, 'feature column');
  const baseline = genericBaseline(ctx, ['zero', 'mean', 'marginal']);
  const names = columns.map((c) => ctx.featureNames?.[c] ?? `x${c}`);
  return buildLayout(ctx, columns.map((c) => [c]), names, baseline);
}

/** Parses a grid spec "RxC" (or [R, C]). */
export function parseGrid(value: unknown, height: number, width: number): [number, number] {
  const parts = Array.isArray(value) ? value.map(gridNumber) : typeof value === 'string' ? value.toLowerCase().split('x').map(Number) : [];
  const [rows, cols] = parts;
  if (parts.length !== 2 || !Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new InvalidOptionError(`options.grid must look like "4x4" (rows x columns; got ${preview(value)}).`);
  }
  if (rows > height || cols > width) throw new InvalidOptionError(`options.grid ${rows}x${cols} is finer than the ${height}x${width} image; use at most ${height}x${width}.`);
  return [rows, cols];
}

/** A grid list's item as a number: numbers and numeric strings count; anything else (objects, symbols) is NaN. */
function gridNumber(item: unknown): number {
  return typeof item === 'number' ? item : typeof item === 'string' ? Number(item) : Number.NaN;
}

/** Gaussian tails below this relative weight are dropped: exp(−x²/2) < 2^−60 beyond 9.2σ. */
const GAUSS_CUTOFF_SIGMAS = 9.2;

/**
 * The 1-D Gaussian kernel of σ folded onto one period of a line of n samples under half-sample symmetric edges
 * (… c b a | a b c … z | z y …), whose extension has period 2n: weight[d] = Σ_k g(d + 2nk), normalized to sum 1.
 * Exact for every σ at O(n) cost: direct sums while σ is small next to the period, else the Fourier (theta) series
 * of the periodized Gaussian, which needs a handful of terms there (Poisson summation).
 * see: https://en.wikipedia.org/wiki/Poisson_summation_formula
 * @returns the weights of offsets 0..2n−1, or undefined when they are uniform to double precision (σ ≫ n)
 */
function foldedGaussian(n: number, sigma: number): Float64Array | undefined {
  const period = 2 * n;
  const weights = new Float64Array(period);
  const q = Math.exp((-2 * Math.PI ** 2 * sigma ** 2) / period ** 2);
  if (q < 2 ** -60) return undefined; // every harmonic vanishes: the flat kernel, i.e. the mean
  if (sigma < period / 4) {
    const wraps = Math.ceil((GAUSS_CUTOFF_SIGMAS * sigma) / period) + 1;
    for (let d = 0; d < period; d++) {
      let sum = 0;
      for (let k = -wraps; k <= wraps; k++) sum += Math.exp(-0.5 * ((d + k * period) / sigma) ** 2);
      weights[d] = sum;
    }
  } else {
    // Σ_k g(d + kP) ∝ 1 + 2 Σ_j q^(j²) cos(2πjd/P); q ≤ e^(−π²/8) here, so j ≤ 7 reaches 2^−60
    for (let d = 0; d < period; d++) {
      let sum = 1;
      for (let j = 1, term = q; term > 2 ** -60; j++, term = q ** (j * j)) sum += 2 * term * Math.cos((2 * Math.PI * j * d) / period);
      weights[d] = sum;
    }
  }
  const total = weights.reduce((a, b) => a + b, 0);
  for (let d = 0; d < period; d++) weights[d] /= total;
  return weights;
}

/**
 * Blurs lines of n samples in place along one axis: line l holds values[starts[l] + i·stride], i < n.
 * Cost O(n · min(2·9.2σ + 1, 2n)) per line and O(n) memory; each line's mean when σ ≫ n.
 */
function blurLines(values: Float64Array, n: number, stride: number, starts: readonly number[], sigma: number): void {
  if (n === 1) return;
  const weights = foldedGaussian(n, sigma);
  const period = 2 * n;
  // offsets d ∈ [−reach, reach] cover the kernel; past n, one whole period [−n, n) covers the folded one exactly
  const reach = Math.ceil(GAUSS_CUTOFF_SIGMAS * sigma);
  const [from, to] = reach < n ? [-reach, reach] : [-n, n - 1];
  const taps = weights && Float64Array.from({ length: to - from + 1 }, (_, k) => weights[(from + k + period) % period]);
  // the line mirrored past both ends, so the inner loop is a plain dot product
  const mirror = (p: number) => {
    const r = ((p % period) + period) % period;
    return r < n ? r : period - 1 - r;
  };
  const source = Int32Array.from({ length: n + to - from }, (_, k) => mirror(k + from));
  const line = new Float64Array(n);
  const extended = new Float64Array(source.length);
  for (const start of starts) {
    for (let i = 0; i < n; i++) line[i] = values[start + i * stride];
    if (!taps) {
      const mean = line.reduce((a, b) => a + b, 0) / n;
      for (let i = 0; i < n; i++) values[start + i * stride] = mean;
      continue;
    }
    for (let k = 0; k < source.length; k++) extended[k] = line[source[k]];
    for (let x = 0; x < n; x++) {
      let acc = 0;
      for (let k = 0; k < taps.length; k++) acc += taps[k] * extended[x + k];
      values[start + x * stride] = acc;
    }
  }
}

/**
 * Separable Gaussian blur of each channel of a [C, H, W] image, with half-sample symmetric edges (the image
 * mirrored about its border, edge pixels repeated). Exact for every σ (the kernel is folded onto the mirrored
 * image, not truncated), at a cost that stops growing once σ passes the image size: O(C·H·W·min(σ, H + W)), and
 * O(C·H·W) when σ is so large that the blur is the per-channel mean of the image, its limit as σ → ∞.
 * @param sigma - the Gaussian's standard deviation in pixels (> 0)
 * @returns a new array of the same layout
 * @throws InvalidOptionError when sigma is not a positive finite number
 */
export function blurImage(values: Float64Array, channels: number, height: number, width: number, sigma: number): Float64Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new InvalidOptionError(`blurSigma must be a positive number of pixels (got ${sigma}).`);
  const out = Float64Array.from(values);
  const plane = height * width;
  const rowStarts: number[] = [];
  const columnStarts: number[] = [];
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) rowStarts.push(c * plane + y * width);
    for (let x = 0; x < width; x++) columnStarts.push(c * plane + x);
  }
  blurLines(out, width, 1, rowStarts, sigma);
  blurLines(out, height, width, columnStarts, sigma);
  return out;
}

/** Image options. */
export interface ImageOptions {
  readonly grid?: unknown;
  readonly players?: unknown;
  /** Gaussian σ of the blur baseline, in pixels (default: half the smaller cell side). */
  readonly blurSigma?: number;
}

/**
 * Image patches: a grid of R×C cells over the last two dims (H, W) of the input; each chosen cell is a player and
 * owns its pixels in every channel. Baselines: zero, mean (of the reference images), blur, or a given image.
 */
export function imageLayout(ctx: LayoutContext, options: ImageOptions): PlayerLayout {
  const dims = ctx.dims;
  if (dims.length < 2) throw new ShapeMismatchError(`Image players need an input with at least two dims (H, W); input "${ctx.inputName}" has dims [${dims.join(', ')}].`);
  const height = dims[dims.length - 2];
  const width = dims[dims.length - 1];
  const channels = ctx.values.length / (height * width);
  const [rows, cols] = parseGrid(options.grid ?? '4x4', height, width);
  const cells = options.players === undefined ? Array.from({ length: rows * cols }, (_, i) => i) : indexList(options.players, 'options.players', rows * cols, 'grid cell');
  const owned = cells.map((cell) => {
    const r = Math.floor(cell / cols);
    const c = cell % cols;
    const elements: number[] = [];
    for (let ch = 0; ch < channels; ch++) {
      for (let y = Math.floor((r * height) / rows); y < Math.floor(((r + 1) * height) / rows); y++) {
        for (let x = Math.floor((c * width) / cols); x < Math.floor(((c + 1) * width) / cols); x++) elements.push(ch * height * width + y * width + x);
      }
    }
    return elements;
  });
  let baseline: Float64Array;
  if (ctx.baseline === 'blur') {
    const sigma = options.blurSigma ?? Math.max(0.5, Math.min(height / rows, width / cols) / 2);
    baseline = blurImage(ctx.values, channels, height, width, sigma);
  } else baseline = genericBaseline(ctx, ['zero', 'mean', 'marginal', 'blur']);
  const names = cells.map((cell) => `r${Math.floor(cell / cols)}c${cell % cols}`);
  return buildLayout(ctx, owned, names, baseline);
}

/** Text options. */
export interface TextOptions {
  readonly players?: unknown;
  /** Token id written at absent positions ('token' mode). */
  readonly maskToken?: number;
  /** 'token': replace absent tokens with maskToken; 'attention': zero the attention mask at absent positions. */
  readonly maskMode: 'token' | 'attention';
  readonly tokens?: readonly string[];
}

/**
 * Text tokens: token positions are players. In 'token' mode the masked input holds token ids and absent positions
 * take maskToken; in 'attention' mode the masked input is the attention mask and absent positions take 0.
 */
export function textLayout(ctx: LayoutContext, options: TextOptions): PlayerLayout {
  const length = ctx.values.length;
  // a token string per position: one list of another length names the players wrongly (1 token for 10 positions was
  // taken; an adversarial sweep, stop 43)
  if (options.tokens !== undefined && options.tokens.length !== length) {
    throw new InvalidInputError(`The sample's tokens list ${options.tokens.length} string(s), but the masked input has ${length} token positions; give one token string per position, or no tokens (the players are then named t0, t1, …).`);
  }
  const positions = options.players === undefined ? Array.from({ length }, (_, i) => i) : indexList(options.players, 'options.players', length, 'token position');
  let baseline: Float64Array;
  if (options.maskMode === 'attention') baseline = new Float64Array(length);
  else {
    if (options.maskToken === undefined) throw new InvalidOptionError('Text players in token mode need maskToken (--mask-token ID), the id written at absent positions; or use maskMode "attention".');
    baseline = new Float64Array(length).fill(options.maskToken);
  }
  const names = positions.map((p) => (options.tokens?.[p] !== undefined ? `${options.tokens[p]}@${p}` : `t${p}`));
  return buildLayout(ctx, positions.map((p) => [p]), names, baseline);
}

/** Point-cloud options. */
export interface PointCloudOptions {
  readonly clusters?: number;
  readonly players?: unknown;
}

/** Deterministic k-means: farthest-point seeding from point 0, then Lloyd iterations. Returns a cluster per point. */
export function clusterPoints(points: Float64Array, count: number, k: number, iterations = 20): Int32Array {
  const at = (p: number, c: number) => points[p * 3 + c];
  const dist2 = (p: number, q: Float64Array, j: number) => (at(p, 0) - q[j * 3]) ** 2 + (at(p, 1) - q[j * 3 + 1]) ** 2 + (at(p, 2) - q[j * 3 + 2]) ** 2;
  const centers = new Float64Array(k * 3);
  const nearest = new Float64Array(count).fill(Infinity);
  let next = 0;
  for (let j = 0; j < k; j++) {
    for (let c = 0; c < 3; c++) centers[j * 3 + c] = at(next, c);
    let far = 0;
    for (let p = 0; p < count; p++) {
      nearest[p] = Math.min(nearest[p], dist2(p, centers, j));
      if (nearest[p] > nearest[far]) far = p;
    }
    next = far;
  }
  const assign = new Int32Array(count);
  for (let it = 0; it < iterations; it++) {
    for (let p = 0; p < count; p++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (dist2(p, centers, j) < dist2(p, centers, best)) best = j;
      assign[p] = best;
    }
    const sums = new Float64Array(k * 3);
    const sizes = new Int32Array(k);
    for (let p = 0; p < count; p++) {
      sizes[assign[p]]++;
      for (let c = 0; c < 3; c++) sums[assign[p] * 3 + c] += at(p, c);
    }
    for (let j = 0; j < k; j++) if (sizes[j] > 0) for (let c = 0; c < 3; c++) centers[j * 3 + c] = sums[j * 3 + c] / sizes[j];
  }
  return assign;
}

/**
 * Point clouds: points are grouped into K clusters (deterministic k-means) and each cluster is a player. The input
 * is [N, 3] (or [3, N]). Baselines: centroid (each absent cluster collapses to its own centroid), center (to the
 * cloud's centre), zero, or given.
 */
export function pointCloudLayout(ctx: LayoutContext, options: PointCloudOptions): PlayerLayout {
  const dims = ctx.dims;
  const pointsMajor = dims[dims.length - 1] === 3;
  if (!pointsMajor && dims[0] !== 3) throw new ShapeMismatchError(`Point-cloud players need an input of shape [N, 3] or [3, N]; input "${ctx.inputName}" has dims [${dims.join(', ')}].`);
  const count = ctx.values.length / 3;
  const index = (p: number, c: number) => (pointsMajor ? p * 3 + c : c * count + p);
  const points = new Float64Array(count * 3);
  for (let p = 0; p < count; p++) for (let c = 0; c < 3; c++) points[p * 3 + c] = ctx.values[index(p, c)];
  const k = options.clusters === undefined ? 10 : options.clusters;
  if (!Number.isInteger(k) || k < 1 || k > count) throw new InvalidOptionError(`clusters must be an integer in 1..${count} (the number of points; got ${preview(options.clusters)}).`);
  const assign = clusterPoints(points, count, k);
  const chosen = options.players === undefined ? Array.from({ length: k }, (_, i) => i) : indexList(options.players, 'options.players', k, 'cluster');
  const owned = chosen.map((j) => {
    const elements: number[] = [];
    for (let p = 0; p < count; p++) if (assign[p] === j) for (let c = 0; c < 3; c++) elements.push(index(p, c));
    return elements;
  });
  let baseline: Float64Array;
  if (ctx.baseline === 'centroid' || ctx.baseline === 'center') {
    baseline = new Float64Array(ctx.values.length);
    const centroid = new Float64Array(k * 3);
    const sizes = new Int32Array(k);
    const center = new Float64Array(3);
    for (let p = 0; p < count; p++) {
      sizes[assign[p]]++;
      for (let c = 0; c < 3; c++) {
        centroid[assign[p] * 3 + c] += points[p * 3 + c];
        center[c] += points[p * 3 + c] / count;
      }
    }
    for (let p = 0; p < count; p++) {
      for (let c = 0; c < 3; c++) baseline[index(p, c)] = ctx.baseline === 'center' ? center[c] : centroid[assign[p] * 3 + c] / sizes[assign[p]];
    }
  } else baseline = genericBaseline(ctx, ['centroid', 'center', 'zero', 'mean', 'marginal']);
  const names = chosen.map((j) => `cluster${j}`);
  return buildLayout(ctx, owned, names, baseline);
}

/** A custom layout: the elements each player owns and the baseline of every element (library users). */
export interface CustomLayout {
  /** owners[i] = flat element indices of the masked input owned by player i. */
  readonly owners: readonly (readonly number[])[];
  /** One value per element of the masked input (only owned elements are read); default zero. */
  readonly baseline?: Float64Array | readonly number[];
  readonly names?: readonly string[];
}

/** Custom players: any grouping of input elements with any per-element baseline. */
export function customLayout(ctx: LayoutContext, custom: CustomLayout): PlayerLayout {
  if (!custom || !Array.isArray(custom.owners) || custom.owners.length === 0) throw new InvalidOptionError('custom.owners must list, for each player, the element indices it owns.');
  const size = ctx.values.length;
  custom.owners.forEach((elements, i) => {
    if (!Array.isArray(elements)) throw new InvalidOptionError(`custom.owners[${i}] must be an array of the element indices player ${i} owns (got ${JSON.stringify(elements) ?? typeof elements}).`);
    for (const d of elements) if (!Number.isInteger(d) || d < 0 || d >= size) throw new InvalidOptionError(`custom.owners[${i}] holds ${JSON.stringify(d) ?? typeof d}, not an element index of input "${ctx.inputName}" (an integer in 0..${size - 1}).`);
  });
  const baseline = custom.baseline === undefined ? new Float64Array(size) : Float64Array.from(custom.baseline);
  if (baseline.length !== size) throw new ShapeMismatchError(`custom.baseline has ${baseline.length} values; input "${ctx.inputName}" has ${size} elements.`);
  // Float64Array.from made a string or undefined NaN, and a NaN fed to the model can vanish in a max pool in silence
  const bad = baseline.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    const given = (custom.baseline as ArrayLike<unknown>)[bad];
    if (typeof given !== 'number') throw new InvalidOptionError(`custom.baseline[${bad}] is ${preview(given)}; give one finite number per element of input "${ctx.inputName}".`);
    throw new NonFiniteError(`custom.baseline[${bad}] is ${given}; give one finite number per element of input "${ctx.inputName}".`);
  }
  const names = custom.names ? custom.names.map(String) : custom.owners.map((_, i) => `p${i}`);
  if (names.length !== custom.owners.length) throw new InvalidOptionError(`custom.names lists ${names.length} names for ${custom.owners.length} players.`);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new InvalidOptionError(`custom.names lists "${repeated}" twice; give each player its own name.`);
  return buildLayout(ctx, custom.owners, names, baseline);
}
