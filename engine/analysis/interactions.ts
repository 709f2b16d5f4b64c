// From a game v over 2^n masks to interactions: the AND-OR split (γ, q from decomposition), AND and OR transforms,
// reorganization, the universal-matching check, salient interactions and per-order strength (spec §1.4, §3).
import type { KernelHost } from '../contracts/kernels.js';

/** A salient interaction: its kind, its players (indices), its mask and its value. */
export interface SalientInteraction {
  readonly kind: 'and' | 'or';
  readonly players: readonly number[];
  readonly mask: number;
  readonly value: number;
}

/** The learned part of the AND-OR split: v_and = ½(v+q)+γ, v_or = ½(v+q)−γ. Zero arrays mean no learning. */
export interface Split {
  readonly gamma: Float64Array;
  readonly q: Float64Array;
}

/** Options of the interaction analysis. */
export interface AnalysisOptions {
  /** 'and': plain Harsanyi dividends of v + q (OR all zero); 'and-or': the split then reorganize. */
  readonly decomposition: 'and' | 'and-or';
  /** Salient threshold ratio r: |I| ≥ r · max|I| (spec §3.1). */
  readonly salientRatio: number;
  /** Include the ∅ term in the max of the salient threshold (the authors' code does). */
  readonly salientIncludeEmpty: boolean;
}

/** Interactions of one game and the checks on them. */
export interface Analysis {
  readonly and: Float64Array;
  readonly or: Float64Array;
  readonly matching: { readonly maxAbsError: number; readonly relativeError: number; readonly maxAbsNoise: number };
  readonly threshold: number;
  readonly salient: readonly SalientInteraction[];
  readonly orders: { readonly positive: Float64Array; readonly negative: Float64Array };
}

/** order[mask] = popcount(mask), for every mask of n bits. */
export function orderTable(n: number): Uint8Array {
  const size = 1 << n;
  const order = new Uint8Array(size);
  for (let m = 1; m < size; m++) order[m] = order[m >> 1] + (m & 1);
  return order;
}

/** Player indices of a mask (bit i = player i). */
export function playersOfMask(mask: number): number[] {
  const players: number[] = [];
  for (let i = 0; mask >>> i; i++) if ((mask >>> i) & 1) players.push(i);
  return players;
}

/**
 * Computes the interactions of v under a split and checks universal matching on every mask.
 * @param host - kernels
 * @param v - the reward on all 2^n masks
 * @param n - players
 * @param split - γ and q (zeros = no learning); for 'and', γ is ignored and q adds to v
 * @param options - decomposition and salient threshold
 */
export function analyze(host: KernelHost, v: Float64Array, n: number, split: Split | undefined, options: AnalysisOptions): Analysis {
  const size = 1 << n;
  const andBuf = host.alloc(size);
  const orBuf = host.alloc(size);
  const rebuiltBuf = host.alloc(size);
  try {
    // v_and and v_or of the split (spec §1.4)
    {
      const a = host.view(andBuf);
      const o = host.view(orBuf);
      const gamma = split?.gamma;
      const q = split?.q;
      for (let m = 0; m < size; m++) {
        const vq = v[m] + (q ? q[m] : 0);
        if (options.decomposition === 'and') a[m] = vq;
        else {
          const g = gamma ? gamma[m] : 0;
          a[m] = 0.5 * vq + g;
          o[m] = 0.5 * vq - g;
        }
      }
    }
    host.call('mobiusSubsetF64', andBuf.ptr, n);
    if (options.decomposition === 'and-or') host.call('orTransformF64', orBuf.ptr, n);
    reorganize(host.view(andBuf), host.view(orBuf), n);

    // rebuild v' = v + q from the interactions: AND fires on S ⊆ T, OR on S ∩ T ≠ ∅ (and ∅ always)
    const rebuilt = host.view(rebuiltBuf);
    rebuilt.set(host.view(orBuf));
    host.call('orInverseF64', rebuiltBuf.ptr, n);
    const andCopy = host.alloc(size);
    try {
      host.view(andCopy).set(host.view(andBuf));
      host.call('zetaSubsetF64', andCopy.ptr, n);
      const r = host.view(rebuiltBuf);
      const z = host.view(andCopy);
      for (let m = 0; m < size; m++) r[m] += z[m];
    } finally {
      host.free(andCopy);
    }
    const and = host.view(andBuf).slice();
    const or = host.view(orBuf).slice();
    const r = host.view(rebuiltBuf);
    let maxAbsError = 0;
    let maxAbsNoise = 0;
    let maxAbsV = 0;
    for (let m = 0; m < size; m++) {
      const noise = split ? split.q[m] : 0;
      maxAbsError = Math.max(maxAbsError, Math.abs(v[m] - r[m]));
      maxAbsNoise = Math.max(maxAbsNoise, Math.abs(v[m] + noise - r[m]));
      maxAbsV = Math.max(maxAbsV, Math.abs(v[m]));
    }
    const { threshold, salient, orders } = salience(and, or, n, options);
    return { and, or, matching: { maxAbsError, relativeError: maxAbsError / Math.max(maxAbsV, Number.MIN_VALUE), maxAbsNoise }, threshold, salient, orders };
  } finally {
    host.free(andBuf);
    host.free(orBuf);
    host.free(rebuiltBuf);
  }
}

/** For |S| ≤ 1 AND and OR fire on the same masks: move the OR value into AND (spec §1.4 "reorganize"). */
export function reorganize(and: Float64Array, or: Float64Array, n: number): void {
  and[0] += or[0];
  or[0] = 0;
  for (let i = 0; i < n; i++) {
    const m = 1 << i;
    and[m] += or[m];
    or[m] = 0;
  }
}

/**
 * Salient interactions (|I| ≥ r · max over non-empty S of |[I_and, I_or]|) and their per-order positive and
 * negative sums, AND and OR together (spec §3.1, §3.2). Index k of orders = order k; the ∅ term counts only when
 * salientIncludeEmpty is set.
 */
export function salience(and: Float64Array, or: Float64Array, n: number, options: Pick<AnalysisOptions, 'salientRatio' | 'salientIncludeEmpty'>) {
  const size = 1 << n;
  const first = options.salientIncludeEmpty ? 0 : 1;
  let max = 0;
  for (let m = first; m < size; m++) max = Math.max(max, Math.abs(and[m]), Math.abs(or[m]));
  const threshold = options.salientRatio * max;
  const order = orderTable(n);
  const positive = new Float64Array(n + 1);
  const negative = new Float64Array(n + 1);
  const salient: SalientInteraction[] = [];
  if (max > 0) {
    for (const [kind, values] of [['and', and], ['or', or]] as const) {
      for (let m = first; m < size; m++) {
        const value = values[m];
        if (Math.abs(value) < threshold || value === 0) continue;
        salient.push({ kind, players: playersOfMask(m), mask: m, value });
        if (value > 0) positive[order[m]] += value;
        else negative[order[m]] += value;
      }
    }
  }
  salient.sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  return { threshold, salient, orders: { positive, negative } };
}

/** Per-order distribution normalized over orders 1..n (salient positive − negative strength), and its mean order
 *  κ = Σ_k k·I^(k) (spec §3.2, §4.3). */
export function distribution(orders: { readonly positive: ArrayLike<number>; readonly negative: ArrayLike<number> }): { normalized: Float64Array; kappa: number } {
  const n = orders.positive.length - 1;
  let total = 0;
  for (let k = 1; k <= n; k++) total += orders.positive[k] - orders.negative[k];
  const normalized = Float64Array.from(orders.positive, (p, k) => (k === 0 || total === 0 ? 0 : (p - orders.negative[k]) / total));
  const kappa = normalized.reduce((s, x, k) => s + k * x, 0);
  return { normalized, kappa };
}
