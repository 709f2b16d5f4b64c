// Generalization measures over interactions of many samples (spec §3.5, §3.6, §6): train/test weighted Jaccard per
// order and class, per-order strength of sample groups (normal vs OOD), and generalizable vs non-generalizable
// interactions judged by reference models trained on the test split, with the loss of the output without the
// non-generalizable ones.
import { orderTable } from '../analysis/interactions.js';
import { playersOf } from '../analysis/transforms.js';

/** The sets that the AND and OR vectors of a sample index: entry m is a set of order[m] of n players, entry 0 is ∅.
 *  An exact result's vectors index all 2^n sets by mask; a sparse run's index the sets its expansions hold, numbered
 *  once for the whole run (studies/dynamics.ts), so that one entry is one set in every sample. */
export interface SetIndex {
  readonly n: number;
  readonly order: Uint8Array | Uint16Array;
}

/** The interactions of one sample under one model (reorganized AND and OR over the sets of `sets`, by default all 2^n
 *  sets by mask). */
export interface SampleInteractions {
  readonly and: Float64Array;
  readonly or: Float64Array;
  /** The salient threshold of this sample. */
  readonly threshold: number;
  /** The sets the vectors index (default: every mask of log2(length) players). */
  readonly sets?: SetIndex;
  /** The AND and the OR vector are each a whole expansion of v (a sparse pair: the Möbius terms of v, and those of the
   *  complement game), not the two parts of one split: each sums to v(N), so v is rebuilt from their mean. */
  readonly whole?: true;
}

/** The index of every mask of the last n asked for (a series checks each sample's: one table, not one per sample). */
let masksIndex: SetIndex | undefined;

/**
 * The sets a sample's vectors index: its own index, or every mask of n players when its vectors hold 2^n values.
 * @returns an index to read, not to change (the masks' one is shared)
 * @throws ShapeMismatchError when a vector without an index does not hold 2^n values
 */
export function setIndexOf(sample: SampleInteractions, what = 'The AND vector'): SetIndex {
  if (sample.sets) return sample.sets;
  const n = playersOf(sample.and.length, what);
  if (masksIndex?.n !== n) masksIndex = { n, order: orderTable(n) };
  return masksIndex;
}

/** The lab's weighted Jaccard with the positive/negative split (spec §3.5). */
export function weightedJaccard(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const [ap, an, bp, bn] = [Math.max(a[i], 0), Math.max(-a[i], 0), Math.max(b[i], 0), Math.max(-b[i], 0)];
    num += Math.min(ap, bp) + Math.min(an, bn);
    den += Math.max(ap, bp) + Math.max(an, bn);
  }
  return num / (den + 1e-7);
}

/** Per order k, the vector [I_and(S), I_or(S)] over |S| = k, averaged over samples. */
function meanOrderVectors(samples: readonly SampleInteractions[], { n, order }: SetIndex): Float64Array[] {
  const counts = new Int32Array(n + 1);
  for (let m = 0; m < order.length; m++) counts[order[m]]++;
  const out = Array.from({ length: n + 1 }, (_, k) => new Float64Array(2 * counts[k]));
  const slot = new Int32Array(order.length);
  const seen = new Int32Array(n + 1);
  for (let m = 0; m < order.length; m++) slot[m] = seen[order[m]]++;
  for (const s of samples) {
    for (let m = 0; m < order.length; m++) {
      const k = order[m];
      out[k][slot[m]] += s.and[m] / samples.length;
      out[k][counts[k] + slot[m]] += s.or[m] / samples.length;
    }
  }
  return out;
}

/**
 * Train/test similarity per order: for each class, the weighted Jaccard between the mean order-k interaction vectors
 * of its train and its test samples, averaged over the classes that have both (spec "Project decisions").
 * @returns per order k = 0..n (index 0 is the ∅ term); NaN where no class has both splits, and at orders of which the
 *   sets' index holds no set (a sparse run's orders above its maxOrder)
 */
export function trainTestJaccard(train: readonly (SampleInteractions & { label: number })[], test: readonly (SampleInteractions & { label: number })[], n: number): Float64Array {
  const classes = [...new Set(train.map((s) => s.label))].filter((c) => test.some((s) => s.label === c));
  const out = new Float64Array(n + 1).fill(classes.length === 0 ? NaN : 0);
  const sets = train.length > 0 ? setIndexOf(train[0]) : { n, order: orderTable(n) };
  for (const c of classes) {
    const a = meanOrderVectors(train.filter((s) => s.label === c), sets);
    const b = meanOrderVectors(test.filter((s) => s.label === c), sets);
    for (let k = 0; k <= n; k++) out[k] += weightedJaccard(a[k], b[k]) / classes.length;
  }
  // an order the index holds no set of (a sparse run's orders above maxOrder) has no similarity, not 0
  const held = new Uint8Array(n + 1);
  for (const k of sets.order) held[k] = 1;
  return out.map((x, k) => (held[k] ? x : NaN));
}

/** Generalizable against non-generalizable interactions of one model over samples (spec §6.1). */
export interface GeneralizationReport {
  /** Per order: mean over samples of Σ |I| of salient interactions that some reference model shares (same kind, sign). */
  readonly generalizable: Float64Array;
  readonly nonGeneralizable: Float64Array;
  /** Σ generalizable / Σ (generalizable + non-generalizable). */
  readonly ratio: number;
  /** Mean cross-entropy of the label from v(N) (the model's output), from the salient interactions only, and from the
   *  generalizable ones only (the non-generalizable removed), per split. */
  readonly loss: Readonly<Record<string, { readonly output: number; readonly salient: number; readonly generalizable: number }>>;
}

/** −log σ(v): the cross-entropy of the target class when v is its log-odds. */
export function logOddsLoss(v: number): number {
  return v > 0 ? Math.log1p(Math.exp(-v)) : -v + Math.log1p(Math.exp(v));
}

/**
 * Splits each sample's salient interactions by whether a reference model encodes them too: salient in at least one
 * reference with the same kind and sign (spec "Project decisions"; K = 3 references by default).
 * @param samples - the target model's interactions, with v(N), split and the references' interactions per sample
 */
export function generalization(
  samples: readonly (SampleInteractions & { output: number; split: string; references: readonly SampleInteractions[] })[],
  n: number,
): GeneralizationReport {
  const { order } = samples.length > 0 ? setIndexOf(samples[0]) : { order: orderTable(n) };
  const generalizable = new Float64Array(n + 1);
  const nonGeneralizable = new Float64Array(n + 1);
  const sums: Record<string, { count: number; output: number; salient: number; generalizable: number }> = {};
  for (const s of samples) {
    // a sparse pair's AND and OR terms are two expansions of v, each of it all: their mean rebuilds v (preset none's
    // split, halves of each), their sum would rebuild 2v
    const part = s.whole ? 0.5 : 1;
    let vSalient = part * (s.and[0] + s.or[0]);
    let vGeneral = vSalient;
    for (const kind of ['and', 'or'] as const) {
      const values = s[kind];
      for (let m = 1; m < values.length; m++) {
        const v = values[m];
        if (v === 0 || Math.abs(v) < s.threshold) continue;
        const shared = s.references.some((r) => Math.abs(r[kind][m]) >= r.threshold && r[kind][m] !== 0 && Math.sign(r[kind][m]) === Math.sign(v));
        (shared ? generalizable : nonGeneralizable)[order[m]] += Math.abs(v) / samples.length;
        vSalient += part * v;
        if (shared) vGeneral += part * v;
      }
    }
    const acc = (sums[s.split] ??= { count: 0, output: 0, salient: 0, generalizable: 0 });
    acc.count++;
    acc.output += logOddsLoss(s.output);
    acc.salient += logOddsLoss(vSalient);
    acc.generalizable += logOddsLoss(vGeneral);
  }
  const total = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  const all = total(generalizable) + total(nonGeneralizable);
  const loss = Object.fromEntries(Object.entries(sums).map(([split, a]) => [split, { output: a.output / a.count, salient: a.salient / a.count, generalizable: a.generalizable / a.count }]));
  return { generalizable, nonGeneralizable, ratio: all === 0 ? NaN : total(generalizable) / all, loss };
}
