// The lab's newer measures over checkpoint series (spec large-n-and-scale.md §2): generalization ratio, interactions
// preserved / removed / emerged, cancellation per order, multi-order pairwise I^(m)(i, j), decay + spindle fit.
// Pure functions over typed arrays (no I/O, kernels or model runs). The papers' full texts were not available: each
// definition is the project's reading of them, stated where it is implemented.
import { InvalidInputError, InvalidOptionError, NonFiniteError, ShapeMismatchError } from '../contracts/errors.js';
import { mobiusTransform } from '../analysis/indices.js';
import { playersOfMask } from '../analysis/interactions.js';
import { playersOf } from '../analysis/transforms.js';
import { setIndexOf, type SampleInteractions, type SetIndex } from './generalization.js';
import { preview } from '../inputs/preview.js';

/** One model's (a checkpoint's or a reference model's) interactions: one entry per sample, in the same sample order
 *  for every model of a series. */
export type ModelInteractions = readonly SampleInteractions[];

/** 1 or −1 when I_kind(mask) is salient (|I| ≥ the sample's threshold and I ≠ 0), else 0 (spec §3.1; the same test
 *  as generalization.ts). */
function salientSign(values: Float64Array, mask: number, threshold: number): number {
  const value = values[mask];
  return value !== 0 && Math.abs(value) >= threshold ? Math.sign(value) : 0;
}

/** Checks that every sample of every model holds AND and OR vectors over one index of sets (by default 2^n masks)
 *  and a usable threshold, and that all models have the same number of samples; returns that index (n = 0 when there
 *  is no sample at all). */
function assertAligned(models: readonly ModelInteractions[], what: string): SetIndex {
  let sets: SetIndex | undefined;
  models.forEach((samples, t) => {
    if (!Array.isArray(samples)) throw new InvalidInputError(`${what} ${t} must be an array of per-sample interactions.`);
    if (samples.length !== models[0].length) {
      throw new ShapeMismatchError(`${what} ${t} has ${samples.length} samples but ${what} 0 has ${models[0].length}; every model must be explained on the same samples, in the same order.`);
    }
    samples.forEach((s, i) => {
      if (!(s?.and instanceof Float64Array) || !(s.or instanceof Float64Array)) throw new InvalidInputError(`${what} ${t}, sample ${i}: "and" and "or" must be Float64Arrays over the 2^n sets.`);
      const own = setIndexOf(s, `${what} ${t}, sample ${i}: the AND vector`);
      sets ??= own;
      if (own.n !== sets.n || own.order.length !== sets.order.length || s.and.length !== sets.order.length || s.or.length !== s.and.length) {
        throw new ShapeMismatchError(`${what} ${t}, sample ${i}: AND and OR vectors of length ${s.and.length} and ${s.or.length}; every vector of a series must hold ${s.sets ? `one value per set of the run's index (${sets.order.length})` : `2^${sets.n} = ${2 ** sets.n} values`}.`);
      }
      if (typeof s.threshold !== 'number' || !(s.threshold >= 0) || !Number.isFinite(s.threshold)) {
        throw new InvalidInputError(`${what} ${t}, sample ${i}: the salient threshold must be a finite number ≥ 0 (got ${s.threshold}).`);
      }
      for (const values of [s.and, s.or]) {
        for (let m = 0; m < values.length; m++) if (!Number.isFinite(values[m])) throw new NonFiniteError(`${what} ${t}, sample ${i}: interaction at mask ${m} is ${values[m]}.`);
      }
    });
  });
  return sets ?? { n: 0, order: new Uint8Array(1) };
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Generalization ratio per checkpoint

/** The generalization ratio of each checkpoint and its per-order parts. */
export interface GeneralizationSeries {
  /** Per checkpoint: Σ|I·G| / Σ|I| over the salient AND and OR interactions (∅ excluded) of all samples, G = 1 when
   *  a reference model shares the interaction. NaN where no sample has a salient interaction (0/0). */
  readonly ratio: Float64Array;
  /** Per checkpoint, per order k = 0..n (index 0 is always 0): mean over samples of Σ|I| of the shared ones. */
  readonly generalizable: readonly Float64Array[];
  /** Per checkpoint, per order: mean over samples of Σ|I| of all salient interactions. */
  readonly strength: readonly Float64Array[];
}

/**
 * The generalization ratio Σ|I·G| / Σ|I| per checkpoint, where G(S) = 1 when at least one reference model has the
 * same set salient, of the same kind (AND/OR) and with the same sign.
 * see: Zhang, Cheng, Zhang, Cai, Xu, Zhang, arXiv 2605.17967 (SFT through interactions: generalization ratio);
 * arXiv 2505.06993 and spec "Project decisions" (G by K = 3 reference
 * models trained on the test split, same kind and sign). Pooled over samples: ratio = Σ_x Σ|I·G| / Σ_x Σ|I|, which is
 * the same as GeneralizationReport.ratio of generalization.ts for one checkpoint.
 * @param checkpoints - per checkpoint, its interactions on each sample
 * @param references - per reference model, its interactions on the same samples
 * @returns the ratio and the shared / total salient strength per order, per checkpoint
 * @throws InvalidInputError when there is no reference model or a record is malformed
 * @throws ShapeMismatchError when sample counts or vector lengths differ
 * @throws NonFiniteError when an interaction is NaN or ±Inf
 */
export function generalizationSeries(checkpoints: readonly ModelInteractions[], references: readonly ModelInteractions[]): GeneralizationSeries {
  if (!Array.isArray(references) || references.length === 0) {
    throw new InvalidInputError('The generalization ratio needs at least one reference model (the project default is K = 3 models trained on the test split).');
  }
  const { n, order } = assertAligned([...checkpoints, ...references], 'model');
  const ratio = new Float64Array(checkpoints.length);
  const generalizable: Float64Array[] = [];
  const strength: Float64Array[] = [];
  checkpoints.forEach((samples, t) => {
    const shared = new Float64Array(n + 1);
    const all = new Float64Array(n + 1);
    samples.forEach((s, x) => {
      for (const kind of ['and', 'or'] as const) {
        const values = s[kind];
        for (let m = 1; m < values.length; m++) {
          const sign = salientSign(values, m, s.threshold);
          if (sign === 0) continue;
          const abs = Math.abs(values[m]) / samples.length;
          all[order[m]] += abs;
          if (references.some((r) => salientSign(r[x][kind], m, r[x].threshold) === sign)) shared[order[m]] += abs;
        }
      }
    });
    const total = all.reduce((a, b) => a + b, 0);
    ratio[t] = total === 0 ? NaN : shared.reduce((a, b) => a + b, 0) / total;
    generalizable.push(shared);
    strength.push(all);
  });
  return { ratio, generalizable, strength };
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Preserved, removed and emerged interactions between consecutive checkpoints

/** Per order k = 0..n (index 0 always 0): mean count per sample and mean Σ|I| per sample. */
export interface OrderTally {
  readonly count: Float64Array;
  readonly strength: Float64Array;
}

/** What changed from checkpoint `from` to checkpoint `to` = from + 1. */
export interface CheckpointTransition {
  readonly from: number;
  readonly to: number;
  /** Salient in both, same kind and sign; strength = |I| at `to`. */
  readonly preserved: OrderTally & {
    /** The same interactions' |I| at `from`. */
    readonly strengthBefore: Float64Array;
  };
  /** Salient at `from` but not salient with the same sign at `to`; strength = |I| at `from`. */
  readonly removed: OrderTally;
  /** Salient at `to` but not salient with the same sign at `from`; strength = |I| at `to`. */
  readonly emerged: OrderTally;
}

/**
 * Interactions preserved, removed and newly emerged between each pair of consecutive checkpoints, with their count
 * and strength per order, AND and OR together, averaged over samples.
 * see: arXiv 2605.17967 (SFT removes noise-like interactions and rarely acquires new reliable ones: preserved /
 * removed / emerged interactions between checkpoints). A salient interaction whose sign flips counts as removed (at `from`) and emerged (at `to`). So preserved.strength + emerged.strength is the salient
 * strength at `to`, and preserved.strengthBefore + removed.strength the salient strength at `from`.
 * @param checkpoints - per checkpoint, its interactions on each sample (the same samples in the same order)
 * @returns one transition per consecutive pair: [] for an empty series or a single checkpoint
 * @throws ShapeMismatchError when sample counts or vector lengths differ
 * @throws InvalidInputError / NonFiniteError for a malformed record
 */
export function checkpointTransitions(checkpoints: readonly ModelInteractions[]): CheckpointTransition[] {
  const { n, order } = assertAligned(checkpoints, 'checkpoint');
  const tally = () => ({ count: new Float64Array(n + 1), strength: new Float64Array(n + 1) });
  const out: CheckpointTransition[] = [];
  for (let t = 1; t < checkpoints.length; t++) {
    const preserved = { ...tally(), strengthBefore: new Float64Array(n + 1) };
    const removed = tally();
    const emerged = tally();
    const samples = checkpoints[t].length;
    checkpoints[t].forEach((after, x) => {
      const before = checkpoints[t - 1][x];
      for (const kind of ['and', 'or'] as const) {
        for (let m = 1; m < after[kind].length; m++) {
          const a = salientSign(before[kind], m, before.threshold);
          const b = salientSign(after[kind], m, after.threshold);
          const k = order[m];
          if (a !== 0 && a === b) {
            preserved.count[k] += 1 / samples;
            preserved.strength[k] += Math.abs(after[kind][m]) / samples;
            preserved.strengthBefore[k] += Math.abs(before[kind][m]) / samples;
            continue;
          }
          if (a !== 0) {
            removed.count[k] += 1 / samples;
            removed.strength[k] += Math.abs(before[kind][m]) / samples;
          }
          if (b !== 0) {
            emerged.count[k] += 1 / samples;
            emerged.strength[k] += Math.abs(after[kind][m]) / samples;
          }
        }
      }
    });
    out.push({ from: t - 1, to: t, preserved, removed, emerged });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Cancellation per order

/** Options of cancellationRatio. */
export interface CancellationOptions {
  /** Count only salient interactions (default false: every interaction, as they all add up to the output). */
  readonly salientOnly?: boolean;
}

/**
 * Cancellation per order: |Σ I| / Σ |I| over the order-k AND and OR interactions of a sample, pooled over samples as
 * Σ_x |Σ_{op,|S|=k} I_op(S|x)| / Σ_x Σ_{op,|S|=k} |I_op(S|x)|. 1 = all of one sign (nothing cancels), near 0 = the
 * order's interactions cancel in the output v(N) = Σ I_and + Σ I_or.
 * see: Lou et al., "Cross-LLM Consistency in Inference: Evidence from Shared Interactions", arXiv 2606.08129 (shared
 * interactions show weaker positive–negative cancellation; Σ|I| against |Σ I| per order). The per-sample sum is the project's choice: the
 * signed sum of one sample's order-k terms is that order's share of its output; sums across samples have no meaning.
 * @param samples - one model's interactions on each sample
 * @param options - salientOnly
 * @returns f64[n+1] by order; NaN where Σ|I| = 0 (no interaction of that order) and at index 0 (∅ is not an
 *   interaction); an empty array when there is no sample
 * @throws InvalidOptionError when salientOnly is not a boolean
 * @throws ShapeMismatchError / InvalidInputError / NonFiniteError for malformed records
 */
export function cancellationRatio(samples: ModelInteractions, options: CancellationOptions = {}): Float64Array {
  const salientOnly = options.salientOnly ?? false;
  if (typeof salientOnly !== 'boolean') throw new InvalidOptionError(`options.salientOnly must be true or false (got ${preview(salientOnly)}).`);
  if (samples.length === 0) return new Float64Array(0);
  const { n, order } = assertAligned([samples], 'model');
  const net = new Float64Array(n + 1);
  const gross = new Float64Array(n + 1);
  const signed = new Float64Array(n + 1);
  for (const s of samples) {
    signed.fill(0);
    for (const kind of ['and', 'or'] as const) {
      const values = s[kind];
      for (let m = 1; m < values.length; m++) {
        if (salientOnly && salientSign(values, m, s.threshold) === 0) continue;
        signed[order[m]] += values[m];
        gross[order[m]] += Math.abs(values[m]);
      }
    }
    for (let k = 1; k <= n; k++) net[k] += Math.abs(signed[k]);
  }
  return Float64Array.from(net, (x, k) => (k === 0 || gross[k] === 0 ? NaN : x / gross[k]));
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Multi-order pairwise interactions

/** I^(m)(i, j) for every pair and every context size m, from one game. */
export interface PairwiseInteractions {
  readonly n: number;
  /** values[m][pairIndex(i, j, n)] = I^(m)(i, j) for m = 0..n−2 (empty when n < 2). */
  readonly values: readonly Float64Array[];
  /** strength[m] = mean over the C(n, 2) pairs of |I^(m)(i, j)|. */
  readonly strength: Float64Array;
}

/**
 * The position of the pair {i, j} in PairwiseInteractions.values[m]: pairs in lexicographic order (0,1), (0,2), …,
 * (0,n−1), (1,2), …
 * @param i - one player
 * @param j - another player (order does not matter)
 * @param n - players
 * @returns the index in 0..C(n,2)−1
 * @throws InvalidInputError when i = j or either is outside 0..n−1
 */
export function pairIndex(i: number, j: number, n: number): number {
  if (!Number.isInteger(i) || !Number.isInteger(j) || i === j || i < 0 || j < 0 || i >= n || j >= n) {
    throw new InvalidInputError(`A pair needs two different players in 0..${n - 1} (got ${i}, ${j}).`);
  }
  if (i > j) [i, j] = [j, i];
  return (i * (2 * n - i - 1)) / 2 + (j - i - 1);
}

/**
 * Multi-order pairwise interactions I^(m)(i, j) = E_{S⊆N∖{i,j}, |S|=m} [v(S∪{i,j}) − v(S∪{i}) − v(S∪{j}) + v(S)].
 * see: Deng, Ren, et al., "The Interaction Bottleneck of Deep Neural Networks: Discovery, Proof, and Modulation",
 *      arXiv 2512.18607 (this definition and J^(m)); Deng et al., "Discovering and Explaining the Representation
 *      Bottleneck of DNNs", ICLR 2022 (where the bottleneck was first reported).
 * Through the Möbius coefficients: Δ_ij v(S) = Σ_{T⊆S} m(T∪{i,j}), and a fixed T (|T| = t ≤ m) lies inside a uniform
 * m-subset of the n−2 other players with probability C(n−2−t, m−t)/C(n−2, m) = Π_{r<t} (m−r)/(n−2−r). So
 * I^(m)(i,j) = Σ_t c_ij(t) · ω(m, t), with c_ij(t) = Σ_{U⊇{i,j}, |U|=t+2} m(U). Building every c_ij(t) visits each
 * pair of each mask with a nonzero coefficient once: C(n,2)·2^{n−2} steps at most, the same order as averaging the
 * contexts directly, but in one sequential pass that skips the zero coefficients of sparse games.
 * @param v - the game on all 2^n masks (bit i = player i)
 * @returns I^(m)(i, j) for m = 0..n−2 and every pair, and the mean |I^(m)| over pairs
 * @throws ShapeMismatchError when v.length is not 2^n
 * @throws NonFiniteError when v holds NaN or ±Inf
 */
export function multiOrderPairwise(v: Float64Array): PairwiseInteractions {
  const mobius = mobiusTransform(v);
  const n = playersOf(v.length, 'The game');
  if (n < 2) return { n, values: [], strength: new Float64Array(0) };
  const pairs = (n * (n - 1)) / 2;
  const orders = n - 1;
  // c[pair·orders + t] = Σ_{U⊇pair, |U|=t+2} m(U)
  const c = new Float64Array(pairs * orders);
  for (let mask = 3; mask < mobius.length; mask++) {
    const value = mobius[mask];
    if (value === 0 || (mask & (mask - 1)) === 0) continue;
    const members = playersOfMask(mask);
    const t = members.length - 2;
    for (let a = 0; a < members.length; a++) {
      const base = (members[a] * (2 * n - members[a] - 1)) / 2 - members[a] - 1;
      for (let b = a + 1; b < members.length; b++) c[(base + members[b]) * orders + t] += value;
    }
  }
  // ω[m·orders + t] = C(n−2−t, m−t) / C(n−2, m), as a product of ratios ≤ 1 (no overflow at any n)
  const omega = new Float64Array(orders * orders);
  for (let m = 0; m < orders; m++) {
    let w = 1;
    for (let t = 0; t <= m; t++) {
      omega[m * orders + t] = w;
      w *= (m - t) / (n - 2 - t);
    }
  }
  const values = Array.from({ length: orders }, () => new Float64Array(pairs));
  const strength = new Float64Array(orders);
  for (let p = 0; p < pairs; p++) {
    for (let m = 0; m < orders; m++) {
      let sum = 0;
      for (let t = 0; t <= m; t++) sum += c[p * orders + t] * omega[m * orders + t];
      values[m][p] = sum;
      strength[m] += Math.abs(sum) / pairs;
    }
  }
  return { n, values, strength };
}

/**
 * The relative strength J^(m) = E_x E_{i,j}|I^(m)(i,j|x)| / E_{m'} E_x E_{i,j}|I^(m')(i,j|x)| (arXiv 2512.18607):
 * above 1 where an order carries more than the average order. Orders are m = 0..n−2; m/n is the context's share.
 * see: Deng, Ren, et al., arXiv 2512.18607 (J^(m) with S^(m)(x) = E_{i,j}|I^(m)(i,j|x)|).
 * @param strengths - PairwiseInteractions.strength of each sample (all of one length)
 * @returns f64[n−1]; NaN everywhere when every strength is 0; empty for no samples
 * @throws ShapeMismatchError when the lengths differ
 * @throws NonFiniteError when a strength is NaN or ±Inf
 */
export function relativePairwiseStrength(strengths: readonly ArrayLike<number>[]): Float64Array {
  if (strengths.length === 0) return new Float64Array(0);
  const length = strengths[0].length;
  const mean = new Float64Array(length);
  strengths.forEach((s, x) => {
    if (s.length !== length) throw new ShapeMismatchError(`Sample ${x} has ${s.length} orders but sample 0 has ${length}; the samples must come from games of one n.`);
    for (let m = 0; m < length; m++) {
      if (!Number.isFinite(s[m])) throw new NonFiniteError(`Sample ${x}: the strength at order ${m} is ${s[m]}.`);
      mean[m] += s[m] / strengths.length;
    }
  });
  const average = mean.reduce((a, b) => a + b, 0) / length;
  return mean.map((x) => (average === 0 ? NaN : x / average));
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Decay + spindle mixture of a per-order distribution

/** Options of the mixture fit. */
export interface DecaySpindleOptions {
  /** Bounds of the decay rate λ in e^{−λ(k−1)} (default [0.05, 10]; λ > 0 keeps the shape decreasing). */
  readonly rate?: readonly [number, number];
  /** Bounds of the spindle's binomial p (default [0.2, 0.8]: the mode (n+1)p stays inside the orders, away from
   *  the ends where a binomial turns into a decay and the two shapes stop being identifiable). */
  readonly p?: readonly [number, number];
  /** Grid points per parameter before refinement (default 41). */
  readonly gridPoints?: number;
}

/** The fitted mixture d_k ≈ a·D_k(λ) + b·P_k(p), k = 1..n, each shape summing to 1 over k = 1..n. */
export interface DecaySpindleFit {
  /** a (the decay part's total strength), λ, and its contribution a·D_k (index 0 = 0). */
  readonly decay: { readonly weight: number; readonly rate: number; readonly curve: Float64Array };
  /** b (the spindle part's total strength), p, and its contribution b·P_k (index 0 = 0). */
  readonly spindle: { readonly weight: number; readonly p: number; readonly curve: Float64Array };
  /** a·D + b·P, index 0 = 0. */
  readonly fitted: Float64Array;
  /** Σ_{k=1..n} (d_k − fitted_k)². */
  readonly residual: number;
  /** a/(a+b): the share of strength the fit gives the decay (generalizable) shape. */
  readonly decayShare: number;
}

/** D_k(λ) ∝ e^{−λ(k−1)}, k = 1..n, normalized over k = 1..n (index 0 = 0). */
function decayShape(n: number, rate: number): Float64Array {
  const d = Float64Array.from({ length: n + 1 }, (_, k) => (k === 0 ? 0 : Math.exp(-rate * (k - 1))));
  const total = d.reduce((a, b) => a + b, 0);
  return d.map((x) => x / total);
}

/** P_k(p) ∝ C(n,k) p^k (1−p)^{n−k}, k = 1..n, normalized over k = 1..n (index 0 = 0); in logs, so large n is safe. */
function spindleShape(n: number, p: number): Float64Array {
  const logs = new Float64Array(n + 1);
  let logBinom = 0;
  for (let k = 1; k <= n; k++) {
    logBinom += Math.log((n - k + 1) / k);
    logs[k] = logBinom + k * Math.log(p) + (n - k) * Math.log1p(-p);
  }
  let max = -Infinity;
  for (let k = 1; k <= n; k++) max = Math.max(max, logs[k]);
  const s = Float64Array.from(logs, (l, k) => (k === 0 ? 0 : Math.exp(l - max)));
  const total = s.reduce((a, b) => a + b, 0);
  return s.map((x) => x / total);
}

const dot = (a: Float64Array, b: ArrayLike<number>) => {
  let s = 0;
  for (let k = 1; k < a.length; k++) s += a[k] * b[k];
  return s;
};

/** The non-negative least-squares weights of two shapes (closed form, with the boundary cases) and the residual. */
function weightsFor(d: ArrayLike<number>, decay: Float64Array, spindle: Float64Array): { a: number; b: number; residual: number } {
  const [dd, ss, ds, yd, ys] = [dot(decay, decay), dot(spindle, spindle), dot(decay, spindle), dot(decay, d), dot(spindle, d)];
  const residual = (a: number, b: number) => {
    let r = 0;
    for (let k = 1; k < decay.length; k++) r += (d[k] - a * decay[k] - b * spindle[k]) ** 2;
    return r;
  };
  const candidates: [number, number][] = [[Math.max(0, yd / dd), 0], [0, Math.max(0, ys / ss)]];
  const det = dd * ss - ds * ds;
  // the unconstrained optimum, when both weights come out ≥ 0 (else the optimum lies on a boundary)
  if (det > 1e-14 * dd * ss) {
    const a = (yd * ss - ys * ds) / det;
    const b = (ys * dd - yd * ds) / det;
    if (a >= 0 && b >= 0) candidates.push([a, b]);
  }
  let best = { a: 0, b: 0, residual: residual(0, 0) };
  for (const [a, b] of candidates) {
    const r = residual(a, b);
    if (r < best.residual) best = { a, b, residual: r };
  }
  return best;
}

function boundsOption(value: readonly [number, number] | undefined, fallback: [number, number], low: number, high: number, field: string): [number, number] {
  if (value === undefined) return fallback;
  const ok = Array.isArray(value) && value.length === 2 && value.every((x) => typeof x === 'number' && Number.isFinite(x)) && value[0] > low && value[0] <= value[1] && value[1] < high;
  if (!ok) throw new InvalidOptionError(`${field} must be [min, max] with ${low} < min ≤ max < ${high} (got ${preview(value)}).`);
  return [value[0], value[1]];
}

/**
 * Fits a per-order strength distribution as a decay-shaped plus a spindle-shaped component:
 * d_k ≈ a·D_k(λ) + b·P_k(p), D_k ∝ e^{−λ(k−1)}, P_k ∝ C(n,k) p^k (1−p)^{n−k} (k = 1..n, each normalized to sum 1, so
 * a and b are the strengths the two parts carry), a, b ≥ 0, by least squares: a grid over (log λ, p), the weights in
 * closed form at each point, then a compass search around the best point down to steps of 1e-9.
 * see: Cheng, Zhang, Ren, Zhang, arXiv 2502.10162 (generalizable interactions decay with order, non-generalizable
 * ones are spindle-shaped); spec interactions.md §6.2. The spindle C(n,k)·α^k of spec §6.2 is this P with
 * α = p/(1−p); the exponential decay stands in for the paper's decay model, whose exact form is not public.
 * @param distribution - d_k by order, index 0 (∅) ignored; raw strengths or a normalized distribution (k = 1..n, n ≥ 2)
 * @param options - bounds of λ and p, grid size
 * @returns the weights, shape parameters, fitted curves and residual. For an all-zero distribution both weights are
 *   0, the residual is 0, and rate, p and decayShare are NaN (no shape to identify)
 * @throws ShapeMismatchError when there are fewer than 2 orders
 * @throws InvalidInputError when a value is negative; NonFiniteError when one is NaN or ±Inf
 * @throws InvalidOptionError for bad bounds or grid size
 */
export function fitDecaySpindle(distribution: ArrayLike<number>, options: DecaySpindleOptions = {}): DecaySpindleFit {
  const n = distribution.length - 1;
  if (!(n >= 2)) throw new ShapeMismatchError(`The distribution has ${distribution.length} entries; it needs orders 0..n with n ≥ 2 (index 0, the ∅ term, is ignored).`);
  for (let k = 1; k <= n; k++) {
    if (!Number.isFinite(distribution[k])) throw new NonFiniteError(`The distribution at order ${k} is ${distribution[k]}.`);
    if (distribution[k] < 0) throw new InvalidInputError(`The distribution at order ${k} is ${distribution[k]}; strengths are ≥ 0 (sum |I| per order, not signed sums).`);
  }
  const [rateMin, rateMax] = boundsOption(options.rate, [0.05, 10], 0, Infinity, 'options.rate');
  const [pMin, pMax] = boundsOption(options.p, [0.2, 0.8], 0, 1, 'options.p');
  const points = options.gridPoints ?? 41;
  if (!Number.isInteger(points) || points < 2 || points > 1000) throw new InvalidOptionError(`options.gridPoints must be an integer in 2..1000 (got ${preview(options.gridPoints)}).`);
  const zero = new Float64Array(n + 1);
  if (dot(Float64Array.from(distribution), distribution) === 0) {
    return { decay: { weight: 0, rate: NaN, curve: zero }, spindle: { weight: 0, p: NaN, curve: zero.slice() }, fitted: zero.slice(), residual: 0, decayShare: NaN };
  }

  // search in (log λ, p): the decay's effect is roughly multiplicative in λ
  const [u0, u1] = [Math.log(rateMin), Math.log(rateMax)];
  const evaluate = (u: number, p: number) => weightsFor(distribution, decayShape(n, Math.exp(u)), spindleShape(n, p)).residual;
  let best = { u: u0, p: pMin, r: Infinity };
  for (let i = 0; i < points; i++) {
    for (let j = 0; j < points; j++) {
      const u = u0 + ((u1 - u0) * i) / (points - 1);
      const p = pMin + ((pMax - pMin) * j) / (points - 1);
      const r = evaluate(u, p);
      if (r < best.r) best = { u, p, r };
    }
  }
  let [du, dp] = [(u1 - u0) / (points - 1), (pMax - pMin) / (points - 1)];
  for (let iteration = 0; iteration < 2000 && (du > 1e-9 || dp > 1e-9); iteration++) {
    let moved = false;
    for (const [su, sp] of [[du, 0], [-du, 0], [0, dp], [0, -dp]]) {
      const u = Math.min(u1, Math.max(u0, best.u + su));
      const p = Math.min(pMax, Math.max(pMin, best.p + sp));
      const r = evaluate(u, p);
      if (r < best.r) {
        best = { u, p, r };
        moved = true;
        break;
      }
    }
    if (!moved) [du, dp] = [du / 2, dp / 2];
  }
  const rate = Math.exp(best.u);
  const decay = decayShape(n, rate);
  const spindle = spindleShape(n, best.p);
  const { a, b, residual } = weightsFor(distribution, decay, spindle);
  const decayCurve = decay.map((x) => a * x);
  const spindleCurve = spindle.map((x) => b * x);
  return {
    decay: { weight: a, rate, curve: decayCurve },
    spindle: { weight: b, p: best.p, curve: spindleCurve },
    fitted: decayCurve.map((x, k) => x + spindleCurve[k]),
    residual,
    decayShare: a + b === 0 ? NaN : a / (a + b),
  };
}
