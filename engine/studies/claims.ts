// The seed papers' claims about training dynamics and generalization, and their verdicts on measured series: one pure
// function per claim over plain numbers (per-order distributions, κ per checkpoint, losses), so each is unit-tested
// on synthetic series with a known answer. No model runs, files or formatting here (engine/interfaces/reproduce*.ts
// runs the series and writes REPRODUCTION.md). The thresholds are the project's reading of the papers' wording
// ("almost only", "shortly after", "within 0.03–0.05"): each is a named constant with its reason.

/** How a claim fares on one series. */
export type Verdict = 'reproduced' | 'partly' | 'not reproduced' | 'contradicted';

/** Verdicts in the order of the document's summary. */
export const VERDICTS: readonly Verdict[] = ['reproduced', 'partly', 'not reproduced', 'contradicted'];

/** A verdict and the numbers behind it (null where a number does not exist on this series). */
export interface ClaimCheck {
  readonly verdict: Verdict;
  readonly numbers: Readonly<Record<string, number | null>>;
  /** One line: the numbers that decided the verdict, in words. */
  readonly because: string;
}

/** A claim of a seed paper. */
export interface Claim {
  readonly id: ClaimId;
  /** A short name for tables. */
  readonly title: string;
  readonly statement: string;
  /** arXiv id of the paper that makes it. */
  readonly paper: string;
  /** Where in the paper (figure or section) and in the spec. */
  readonly source: string;
}

/** The claims' ids, one per section of REPRODUCTION.md. */
export type ClaimId = 'spindle' | 'phase1' | 'phase2' | 'gap' | 'theory' | 'jaccard' | 'ood' | 'generalizable' | 'shapes' | 'removal';

/** The claims, in the document's order. */
export const CLAIMS: readonly Claim[] = [
  // see: arXiv 2405.10262 Fig. 3 (first column), Fig. 1; spec interactions.md §4.2
  { id: 'spindle', title: 'Spindle at initialization', paper: '2405.10262', source: 'Fig. 3 col. 1; spec §4.2', statement: 'At initialization the interactions are spindle-shaped over orders: the strength peaks at a medium order (about 6 for n = 10), with little at orders 1–2 and n−1..n.' },
  // see: arXiv 2405.10262 Fig. 3 cols. 2–3; spec §4.2
  { id: 'phase1', title: 'Phase 1 removes the mid and high orders', paper: '2405.10262', source: 'Fig. 3 cols. 2–3; spec §4.2', statement: 'Phase 1 removes the medium- and high-order interactions: at its end (the turning point) almost only orders 1–2 remain.' },
  // see: arXiv 2405.10262 Fig. 3 cols. 4–5; spec §4.2
  { id: 'phase2', title: 'Phase 2 raises the order', paper: '2405.10262', source: 'Fig. 3 cols. 4–5; spec §4.2', statement: 'Phase 2 learns interactions of gradually increasing order: the mean order κ rises after the turning point.' },
  // see: arXiv 2405.10262 Fig. 3 ("starting point" arrows) and title; spec §3.7, §4.3
  { id: 'gap', title: 'Turning point against the first rise of the loss gap', paper: '2405.10262', source: 'Fig. 3 last column; spec §3.7, §4.3', statement: 'The train–test loss gap starts to rise shortly after the turning point (the start of phase 2 is the start of over-fitting).' },
  // see: arXiv 2407.19198 Fig. 4 (project page sjtu-xai-lab.github.io/InteractionDynamics); spec §5.3
  { id: 'theory', title: 'Theory against real in phase 2', paper: '2407.19198', source: 'Fig. 4; spec §5.1–5.3', statement: 'In phase 2 the theory ŵ(σ²) predicts the real normalized distribution per order within about 0.03–0.05, with σ² falling over training.' },
  // see: arXiv 2405.10262 Fig. 5; spec §3.5
  { id: 'jaccard', title: 'Train/test Jaccard falls with the order', paper: '2405.10262', source: 'Fig. 5; spec §3.5', statement: 'Train/test similarity (weighted Jaccard per order) falls with the order: low-order interactions generalize, high-order ones do not.' },
  // see: arXiv 2405.10262 Fig. 6 and the project page; spec §3.6
  { id: 'ood', title: 'OOD samples carry more high-order strength', paper: '2405.10262', source: 'Fig. 6; spec §3.6', statement: 'On OOD (mislabeled, memorized) samples the network encodes more high-order interactions than on normal samples.' },
  // see: arXiv 2505.06993 abstract; spec §6.1
  { id: 'generalizable', title: 'Generalizable share over the three phases', paper: '2505.06993', source: 'abstract; spec §6.1', statement: 'Phase 1 removes non-generalizable interactions (the generalizable share rises); the later phases learn increasingly non-generalizable ones (the share falls).' },
  // see: arXiv 2502.10162 abstract; spec §6.2
  { id: 'shapes', title: 'Decay-shaped generalizable, spindle-shaped non-generalizable', paper: '2502.10162', source: 'abstract; spec §6.2', statement: 'Generalizable interactions are decay-shaped over orders; non-generalizable ones are spindle-shaped (peak at a medium order).' },
  // see: arXiv 2505.06993 abstract ("removing non-generalizable interactions … narrows the gap"); spec §6.1
  { id: 'removal', title: 'Removing the non-generalizable interactions narrows the gap', paper: '2505.06993', source: 'abstract; spec §6.1', statement: 'Removing the non-generalizable interactions from the output narrows the train–test loss gap (the causal claim).' },
];

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers

/** Orders 1..n of a per-order array (index 0 is the ∅ term and never counts). */
function orders(values: ArrayLike<number>): number[] {
  return Array.from({ length: Math.max(0, values.length - 1) }, (_, k) => Number(values[k + 1]));
}

/** The order (1..n) with the largest value; 0 for an empty or all-NaN array. */
export function peakOrder(values: ArrayLike<number>): number {
  let best = 0;
  orders(values).forEach((x, k) => {
    if (Number.isFinite(x) && (best === 0 || x > Number(values[best]))) best = k + 1;
  });
  return best;
}

/** Σ_{k ∈ [from, to]} values[k]. */
function share(values: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let k = Math.max(1, from); k <= Math.min(to, values.length - 1); k++) s += Number(values[k]);
  return s;
}

/** Whether a normalized distribution has no salient interaction at all (every |I| under the threshold: its orders
 *  sum to 0). Such a checkpoint has no shape and no κ; analysis/interactions.ts `distribution` reports κ = 0 there. */
export function isEmptyDistribution(normalized: ArrayLike<number>): boolean {
  const total = share(normalized, 1, normalized.length - 1);
  return !(total > 0);
}

/** Spearman's rank correlation of two equally long lists (average ranks for ties); NaN with fewer than 2 points or
 *  no spread. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length < 2) return NaN;
  const rank = (x: readonly number[]) => {
    const idx = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(x.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
      for (let t = i; t <= j; t++) r[idx[t][1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const [ra, rb] = [rank(a), rank(b)];
  const mean = (r: number[]) => r.reduce((s, x) => s + x, 0) / r.length;
  const [ma, mb] = [mean(ra), mean(rb)];
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return da === 0 || db === 0 ? NaN : num / Math.sqrt(da * db);
}

const f2 = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(2));
const f3 = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(3));

// ---------------------------------------------------------------------------------------------------------------
// 1. The spindle at initialization

/**
 * The normalized order distribution of interactions of a game whose v on the 2^n masks are i.i.d. noise:
 * Var I(S) = 2^{|S|}·s², so the order-k strength grows as C(n,k)·2^{k/2} (spec §4.2; for n = 10 it peaks at k = 6).
 * see: arXiv 2405.10262 ("the spindle-shaped distribution of random interactions"); spec §4.2 (arithmetic)
 * @param n - players (≥ 1)
 * @returns f64[n+1], index 0 = 0, orders 1..n summing to 1
 */
export function randomGameDistribution(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  let binom = 1;
  for (let k = 1; k <= n; k++) {
    binom = (binom * (n - k + 1)) / k;
    out[k] = binom * 2 ** (k / 2);
  }
  const total = share(out, 1, n);
  return out.map((x) => x / total);
}

/** Ties in "monotone non-increasing": a rise smaller than this (share of the total) does not count. */
const MONOTONE_TOLERANCE = 0.01;

/**
 * The spindle at initialization. Reproduced: the peak order is within one order of the random game's mode (6 for
 * n = 10; the paper's peak is 5–7). Partly: the peak is at a medium order (3..n−2) elsewhere. Contradicted: the
 * distribution is decay-shaped (peak at order 1, non-increasing within MONOTONE_TOLERANCE). Not reproduced: anything
 * else (a peak at order 2, or at order 1 with a bump at higher orders), or no salient interaction at all.
 * see: arXiv 2405.10262 Fig. 3 col. 1; spec §4.2
 * @param normalized - the normalized distribution at the first checkpoint (index = order, index 0 ignored)
 */
export function checkSpindle(normalized: ArrayLike<number>): ClaimCheck {
  const n = normalized.length - 1;
  const reference = randomGameDistribution(n);
  const mode = peakOrder(reference);
  if (isEmptyDistribution(normalized)) {
    return { verdict: 'not reproduced', numbers: { peak: null, mode, kappa: null, lowShare: null, distance: null }, because: 'no salient interaction at the first checkpoint (every |I(S)| is under the threshold), so there is no shape to compare' };
  }
  const peak = peakOrder(normalized);
  const values = orders(normalized);
  const decay = peak === 1 && values.every((x, k) => k === 0 || x <= values[k - 1] + MONOTONE_TOLERANCE);
  const low = share(normalized, 1, 2);
  const kappa = values.reduce((s, x, k) => s + (k + 1) * x, 0);
  const distance = values.reduce((s, x, k) => s + Math.abs(x - reference[k + 1]), 0);
  const verdict: Verdict = peak > 0 && Math.abs(peak - mode) <= 1 ? 'reproduced' : peak >= 3 && peak <= n - 2 ? 'partly' : decay ? 'contradicted' : 'not reproduced';
  return {
    verdict,
    numbers: { peak, mode, kappa, lowShare: low, distance },
    because: `peak at order ${peak} (random game: ${mode}), κ ${f2(kappa)}, share at orders 1–2 ${f2(low)}, L1 distance to the random-game spindle ${f2(distance)}${decay ? '; decay-shaped' : ''}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Phase 1

/** "Almost only orders 1–2 remain": their share at the turning point is at least this. */
const ALMOST_ONLY = 0.8;
/** Changes of a share smaller than this are no change. */
const SHARE_TOLERANCE = 0.05;

/**
 * Phase 1 removes the medium and high orders. Reproduced: the share at orders ≥ 3 at the turning point is at most
 * half its value at initialization and orders 1–2 hold ≥ ALMOST_ONLY. Partly: the share at orders ≥ 3 falls by more
 * than SHARE_TOLERANCE. Contradicted: it rises by more than that. Not reproduced: otherwise (or no phase 1: the
 * turning point is the first checkpoint; or no salient interaction at initialization).
 * see: arXiv 2405.10262 Fig. 3 cols. 2–3; spec §4.2
 * @param initial - normalized distribution at initialization
 * @param turning - normalized distribution at the turning point
 */
export function checkPhase1(initial: ArrayLike<number>, turning: ArrayLike<number>, turningPoint: number): ClaimCheck {
  const n = initial.length - 1;
  const [high0, highT, lowT] = [share(initial, 3, n), share(turning, 3, n), share(turning, 1, 2)];
  const numbers = { highInitial: high0, highTurning: highT, lowTurning: lowT };
  const because = `share at orders ≥ 3: ${f2(high0)} at initialization → ${f2(highT)} at the turning point; orders 1–2 hold ${f2(lowT)} there`;
  if (turningPoint < 1) return { verdict: 'not reproduced', numbers, because: `no phase 1 (the turning point is the first checkpoint); ${because}` };
  if (isEmptyDistribution(initial)) return { verdict: 'not reproduced', numbers, because: 'no salient interaction at initialization (every |I(S)| is under the threshold), so there is nothing for phase 1 to remove' };
  const verdict: Verdict = highT <= high0 / 2 && lowT >= ALMOST_ONLY ? 'reproduced' : highT < high0 - SHARE_TOLERANCE ? 'partly' : highT > high0 + SHARE_TOLERANCE ? 'contradicted' : 'not reproduced';
  return { verdict, numbers, because };
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Phase 2

/** A rise of κ from the turning point to the last checkpoint of at least this is a clear rise (orders). */
const KAPPA_RISE = 0.5;
/** A smaller rise down to this counts as partly. */
const KAPPA_SOME = 0.2;
/** Steps of κ smaller than this (either way) count as flat, not as falls. */
const KAPPA_STEP_TOLERANCE = 0.05;

/**
 * Phase 2 raises the order. Reproduced: κ(last) − κ(turning point) ≥ KAPPA_RISE and κ does not fall (beyond
 * KAPPA_STEP_TOLERANCE) in at least two thirds of the steps after the turning point. Partly: a rise ≥ KAPPA_SOME.
 * Contradicted: κ falls by more than KAPPA_SOME (impossible while the turning point is the smallest κ, kept for
 * series with a given turning point). Not reproduced: otherwise, or no checkpoint after the turning point.
 * see: arXiv 2405.10262 Fig. 3 cols. 4–5; spec §4.2
 * @param kappa - κ per checkpoint
 * @param turningPoint - index of the turning point
 */
export function checkPhase2(kappa: readonly number[], turningPoint: number): ClaimCheck {
  const after = kappa.slice(turningPoint);
  const rise = after.length > 1 ? after[after.length - 1] - after[0] : NaN;
  const steps = after.slice(1).map((k, i) => k - after[i]);
  const upward = steps.length === 0 ? NaN : steps.filter((d) => d >= -KAPPA_STEP_TOLERANCE).length / steps.length;
  const numbers = { kappaTurning: after[0] ?? null, kappaLast: after[after.length - 1] ?? null, rise: Number.isFinite(rise) ? rise : null, upwardSteps: Number.isFinite(upward) ? upward : null };
  if (!(after.length > 1)) return { verdict: 'not reproduced', numbers, because: 'no checkpoint after the turning point' };
  const verdict: Verdict = rise >= KAPPA_RISE && upward >= 2 / 3 ? 'reproduced' : rise >= KAPPA_SOME ? 'partly' : rise <= -KAPPA_SOME ? 'contradicted' : 'not reproduced';
  return { verdict, numbers, because: `κ ${f2(after[0])} at the turning point → ${f2(after[after.length - 1])} at the last checkpoint (${rise >= 0 ? '+' : ''}${f2(rise)}); κ does not fall in ${Math.round(upward * 100)} % of the ${steps.length} steps` };
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Turning point against the loss gap

/** "Shortly after": the gap rises at most this many checkpoints after the turning point (the bundled series save
 *  checkpoints at doubling epochs, so 2 checkpoints = a factor 4 in epochs). */
const SHORTLY = 2;

/**
 * The loss gap starts to rise shortly after the turning point. With Δ = gap-rise index − turning-point index:
 * reproduced when 0 ≤ Δ ≤ SHORTLY; partly when Δ = −1 or Δ = SHORTLY + 1; contradicted when Δ ≤ −2 (the gap rises
 * while phase 1 still removes interactions); not reproduced when the gap never rises or rises later.
 * see: arXiv 2405.10262 Fig. 3 ("starting point"); spec §3.7, §4.3
 * @param turningPoint - index of the turning point
 * @param gapRise - index of the first rise of the loss gap, or null
 */
export function checkGap(turningPoint: number, gapRise: number | null): ClaimCheck {
  const delta = gapRise === null ? null : gapRise - turningPoint;
  const numbers = { turningPoint, gapRise, delta };
  if (delta === null) return { verdict: 'not reproduced', numbers, because: 'the loss gap never rises by more than the tolerance' };
  const verdict: Verdict = delta >= 0 && delta <= SHORTLY ? 'reproduced' : delta === -1 || delta === SHORTLY + 1 ? 'partly' : delta <= -2 ? 'contradicted' : 'not reproduced';
  const where = delta === 0 ? 'at the turning point' : delta > 0 ? `${delta} checkpoint${delta === 1 ? '' : 's'} after the turning point` : `${-delta} checkpoint${delta === -1 ? '' : 's'} before the turning point`;
  return { verdict, numbers, because: `the gap first rises ${where}` };
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Theory against real

/** The paper's agreement per bar (Fig. 4: 0.03–0.05): the upper end. */
const THEORY_GOOD = 0.05;
/** Twice that still counts as partly. */
const THEORY_LOOSE = 0.1;
/** σ² rising by more than this factor over phase 2 goes against the theory's mechanism (σ² falls in training). */
const SIGMA2_RISE = 10;

/**
 * The theory's per-order error in phase 2. The error at a checkpoint is max_k |theory_k − real_k|; the claim is judged
 * on the median over the phase-2 checkpoints before the last one (the last is w* itself, fitted exactly by σ² → 0).
 * Reproduced: median ≤ THEORY_GOOD and σ² does not rise. Partly: median ≤ THEORY_LOOSE, or ≤ THEORY_GOOD with σ²
 * rising. Contradicted: σ² rises by more than SIGMA2_RISE and the median exceeds THEORY_LOOSE. Not reproduced:
 * otherwise, or no phase-2 checkpoint before the last.
 * see: arXiv 2407.19198 Fig. 4 (project page); spec §5.3
 * @param errors - per checkpoint, theory − real per order (index 0 ignored)
 * @param sigma2 - fitted σ² per checkpoint
 * @param turningPoint - index of the turning point (phase 2 starts there)
 */
export function checkTheory(errors: readonly ArrayLike<number>[], sigma2: readonly number[], turningPoint: number): ClaimCheck {
  const last = errors.length - 1;
  const phase2 = errors.map((e, t) => ({ e, t })).filter(({ t }) => t >= turningPoint && t < last);
  const maxAbs = phase2.map(({ e }) => Math.max(...orders(e).map(Math.abs)));
  const sorted = [...maxAbs].sort((a, b) => a - b);
  const median = sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const sigmaRatio = sigma2[last] / sigma2[turningPoint];
  const within = maxAbs.filter((x) => x <= THEORY_GOOD).length;
  const numbers = { median: Number.isFinite(median) ? median : null, atTurning: maxAbs[0] ?? null, within, checkpoints: maxAbs.length, sigma2Turning: sigma2[turningPoint] ?? null, sigma2Last: sigma2[last] ?? null };
  if (maxAbs.length === 0) return { verdict: 'not reproduced', numbers, because: 'no phase-2 checkpoint before the last' };
  const rising = sigmaRatio > 1;
  const verdict: Verdict = median <= THEORY_GOOD && !rising ? 'reproduced' : median <= THEORY_LOOSE ? 'partly' : sigmaRatio > SIGMA2_RISE ? 'contradicted' : 'not reproduced';
  return {
    verdict,
    numbers,
    because: `largest per-order error: median ${f3(median)} over ${maxAbs.length} phase-2 checkpoints (${f3(maxAbs[0])} at the turning point; ${within} of ${maxAbs.length} within ${THEORY_GOOD}); σ² ${sigma2[turningPoint]?.toExponential(1)} → ${sigma2[last]?.toExponential(1)}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 6. Train/test Jaccard per order

/** Orders judged: the highest orders have few sets (C(n, n) = 1) and few samples per class, so their Jaccard is noise. */
const JACCARD_ORDERS = 5;

/**
 * Train/test similarity falls with order, over orders 1..min(JACCARD_ORDERS, n). Reproduced: Spearman ρ(k, J_k) ≤
 * −0.9 and J_1 ≥ 2·J_3. Partly: J_1 > J_3 or ρ ≤ −0.5. Contradicted: J_1 < J_3 and ρ ≥ 0.5 (similarity rises with
 * order). Not reproduced: otherwise.
 * see: arXiv 2405.10262 Fig. 5; spec §3.5
 * @param jaccard - per order (index 0 ignored); NaN where no class has both splits
 */
export function checkJaccard(jaccard: ArrayLike<number>): ClaimCheck {
  const top = Math.min(JACCARD_ORDERS, jaccard.length - 1);
  const ks = Array.from({ length: top }, (_, i) => i + 1);
  const js = ks.map((k) => Number(jaccard[k]));
  const rho = spearman(ks, js);
  const [j1, j3] = [js[0], js[2] ?? NaN];
  const numbers = { j1, j2: js[1] ?? null, j3: Number.isFinite(j3) ? j3 : null, rho: Number.isFinite(rho) ? rho : null };
  const verdict: Verdict = rho <= -0.9 && j1 >= 2 * j3 ? 'reproduced' : j1 > j3 || rho <= -0.5 ? 'partly' : j1 < j3 && rho >= 0.5 ? 'contradicted' : 'not reproduced';
  return { verdict, numbers, because: `Jaccard at orders 1–${top}: ${js.map(f2).join(', ')} (Spearman ρ with the order ${f2(rho)})` };
}

// ---------------------------------------------------------------------------------------------------------------
// 7. OOD samples

/** The raw high-order strength of OOD samples must differ from the normal samples' by this factor to count. */
const OOD_RATIO = 1.2;

/**
 * OOD samples carry more high-order interactions. Two measures at the checkpoint judged (the last one): the share of
 * strength at orders ≥ 3, and the raw salient strength at orders ≥ 3 (the papers' Fig. 6 plots raw strength). Reproduced: OOD is higher on both
 * (share by ≥ SHARE_TOLERANCE, raw by ≥ OOD_RATIO×). Partly: higher on one. Contradicted: lower on both. Not
 * reproduced: otherwise.
 * see: arXiv 2405.10262 Fig. 6; spec §3.6
 * @param normal - normal samples: share at orders ≥ 3 and raw strength there
 * @param ood - the same for the OOD samples
 */
export function checkOod(normal: { readonly share: number; readonly strength: number }, ood: { readonly share: number; readonly strength: number }): ClaimCheck {
  const diff = ood.share - normal.share;
  const ratio = ood.strength / normal.strength;
  const shareUp = diff >= SHARE_TOLERANCE;
  const rawUp = ratio >= OOD_RATIO;
  const shareDown = diff <= -SHARE_TOLERANCE;
  const rawDown = ratio <= 1 / OOD_RATIO;
  const verdict: Verdict = shareUp && rawUp ? 'reproduced' : shareUp || rawUp ? 'partly' : shareDown && rawDown ? 'contradicted' : 'not reproduced';
  return {
    verdict,
    numbers: { normalShare: normal.share, oodShare: ood.share, normalStrength: normal.strength, oodStrength: ood.strength, ratio },
    because: `share at orders ≥ 3: OOD ${f2(ood.share)} vs normal ${f2(normal.share)}; raw strength there: OOD ${f2(ood.strength)} vs normal ${f2(normal.strength)} (×${f2(ratio)})`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 8. Generalizable share over the phases

/** A change of the generalizable share smaller than this is no change. */
const RATIO_TOLERANCE = 0.1;

/**
 * Phase 1 raises the generalizable share (initialization → turning point) and the later phases lower it (turning
 * point → last checkpoint). Reproduced: both by more than RATIO_TOLERANCE. Partly: one of them (also when the other
 * cannot be judged: a share is NaN where no interaction is salient). Contradicted: both the other way. Not
 * reproduced: otherwise.
 * see: arXiv 2505.06993 (three-phase dynamics); spec §6.1
 * @param ratio - generalizable share per checkpoint
 * @param turningPoint - index of the turning point
 */
export function checkGeneralizable(ratio: readonly number[], turningPoint: number): ClaimCheck {
  const [r0, rT, rL] = [ratio[0], ratio[turningPoint], ratio[ratio.length - 1]];
  const up = rT - r0;
  const down = rT - rL;
  const numbers = { initial: r0, turning: rT, last: rL, peak: Math.max(...ratio.filter(Number.isFinite)) };
  const [rises, falls] = [up > RATIO_TOLERANCE, down > RATIO_TOLERANCE];
  const verdict: Verdict = rises && falls ? 'reproduced' : rises || falls ? 'partly' : up < -RATIO_TOLERANCE && down < -RATIO_TOLERANCE ? 'contradicted' : 'not reproduced';
  const undefinedAt = ([[r0, 'initialization'], [rT, 'the turning point']] as const).filter(([r]) => !Number.isFinite(r)).map(([, where]) => where);
  const note = undefinedAt.length ? ` (no salient interaction at ${undefinedAt.join(' and ')}, so no share there: that half of the claim cannot be judged)` : '';
  return { verdict, numbers, because: `generalizable share ${f2(r0)} at initialization → ${f2(rT)} at the turning point → ${f2(rL)} at the last checkpoint${note}` };
}

// ---------------------------------------------------------------------------------------------------------------
// 9. Decay-shaped generalizable, spindle-shaped non-generalizable interactions

/**
 * Generalizable strength is decay-shaped (peak at order 1, non-increasing within MONOTONE_TOLERANCE of its total)
 * and non-generalizable strength spindle-shaped (peak at order ≥ 2, below n). Reproduced: both. Partly: one.
 * Contradicted: the generalizable peak is at a higher order than the non-generalizable one. Not reproduced: otherwise.
 * see: arXiv 2502.10162 (decay vs spindle); spec §6.2
 * @param generalizable - mean strength per order of the generalizable interactions (index 0 ignored)
 * @param nonGeneralizable - the same for the non-generalizable ones
 */
export function checkShapes(generalizable: ArrayLike<number>, nonGeneralizable: ArrayLike<number>): ClaimCheck {
  const n = generalizable.length - 1;
  const g = orders(generalizable);
  const total = g.reduce((s, x) => s + x, 0) || 1;
  const [pg, pn] = [peakOrder(generalizable), peakOrder(nonGeneralizable)];
  const decay = pg === 1 && g.every((x, k) => k === 0 || x <= g[k - 1] + MONOTONE_TOLERANCE * total);
  const spindle = pn >= 2 && pn < n;
  const verdict: Verdict = decay && spindle ? 'reproduced' : decay || spindle ? 'partly' : pg > pn ? 'contradicted' : 'not reproduced';
  return { verdict, numbers: { generalizablePeak: pg, nonGeneralizablePeak: pn }, because: `generalizable strength peaks at order ${pg}${decay ? ' and decays' : ''}; non-generalizable at order ${pn}` };
}

// ---------------------------------------------------------------------------------------------------------------
// 10. Removing the non-generalizable interactions

/** Losses of one split: from the output v(N), from the salient interactions, and from the generalizable ones only. */
export interface SplitLoss {
  readonly output: number;
  readonly salient: number;
  readonly generalizable: number;
}

/** The gap must change by this share of its size to count as narrower or wider. */
const GAP_CHANGE = 0.1;

/**
 * Removing the non-generalizable interactions narrows the gap. With gap = test − train loss, from the output (G0)
 * and from the generalizable interactions only (G1): reproduced when G1 ≤ G0 − GAP_CHANGE·|G0| and the test loss does
 * not rise (the gap narrows because test predictions improve, not only because the train fit worsens); partly when
 * it narrows that much but the test loss rises; contradicted when G1 ≥ G0 + GAP_CHANGE·|G0|; not reproduced otherwise.
 * see: arXiv 2505.06993 (causal test); spec §6.1
 * @param train - losses of the train samples
 * @param test - losses of the test samples
 */
export function checkRemoval(train: SplitLoss, test: SplitLoss): ClaimCheck {
  const g0 = test.output - train.output;
  const g1 = test.generalizable - train.generalizable;
  const margin = GAP_CHANGE * Math.abs(g0);
  const narrows = g1 <= g0 - margin;
  const testDown = test.generalizable <= test.output;
  const verdict: Verdict = narrows && testDown ? 'reproduced' : narrows ? 'partly' : g1 >= g0 + margin ? 'contradicted' : 'not reproduced';
  return {
    verdict,
    numbers: { gapOutput: g0, gapGeneralizable: g1, trainOutput: train.output, trainGeneralizable: train.generalizable, testOutput: test.output, testGeneralizable: test.generalizable },
    because: `gap ${f3(g0)} from the output → ${f3(g1)} with only the generalizable interactions (train ${f3(train.output)} → ${f3(train.generalizable)}, test ${f3(test.output)} → ${f3(test.generalizable)})`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// All claims on one series

/** Positive and negative salient strength per order (index = order). */
export interface OrderStrength {
  readonly positive: ArrayLike<number>;
  readonly negative: ArrayLike<number>;
}

/** What the verdicts read of one checkpoint: a structural subset of CheckpointReport (studies/dynamics.ts), so a
 *  DynamicsResult, its JSON form or a synthetic series all fit. */
export interface CheckpointMeasures {
  readonly normalized: ArrayLike<number>;
  readonly kappa: number;
  readonly orders: OrderStrength;
  readonly lossGap?: number;
  readonly ood?: { readonly orders: OrderStrength; readonly highOrderShare: number };
  readonly highOrderShare: number;
  readonly jaccard?: ArrayLike<number>;
  readonly generalization?: {
    readonly ratio: number;
    readonly generalizable: ArrayLike<number>;
    readonly nonGeneralizable: ArrayLike<number>;
    readonly loss: Readonly<Record<string, SplitLoss>>;
  };
  readonly theory?: { readonly sigma2: number; readonly error: ArrayLike<number> };
}

/** What the verdicts read of one series. */
export interface SeriesMeasures {
  readonly turningPoint: number;
  readonly gapRise: number | null;
  readonly checkpoints: readonly CheckpointMeasures[];
}

/** Σ_{k ≥ 3} (positive − negative): the raw salient strength at orders ≥ 3. */
export function highOrderStrength(orders: OrderStrength): number {
  let s = 0;
  for (let k = 3; k < orders.positive.length; k++) s += Number(orders.positive[k]) - Number(orders.negative[k]);
  return s;
}

/** How a series is judged. */
export interface EvaluateOptions {
  /** The checkpoint at which OOD samples are compared (default: the last). */
  readonly oodAt?: number;
  /** Whether player j is the same part of the input in every sample (default true). False for per-sample players
   *  (the point-cloud clusters): the Jaccard compares sets S by index across samples, so it is not testable. */
  readonly playersShared?: boolean;
}

/**
 * Every claim that the series' measures can test: the OOD claim needs OOD samples, the generalization claims need
 * reference models, the Jaccard claim needs train and test samples and players shared across samples, the gap claim
 * needs losses.
 * @param series - the measures of one dynamics run
 * @param options - the OOD checkpoint and whether players are shared across samples
 * @returns one check per testable claim
 */
export function evaluateClaims(series: SeriesMeasures, options: EvaluateOptions = {}): Partial<Record<ClaimId, ClaimCheck>> {
  const cps = series.checkpoints;
  const oodAt = options.oodAt ?? cps.length - 1;
  const tp = series.turningPoint;
  const first = cps[0];
  const last = cps[cps.length - 1];
  const out: Partial<Record<ClaimId, ClaimCheck>> = {
    spindle: checkSpindle(first.normalized),
    phase1: checkPhase1(first.normalized, cps[tp].normalized, tp),
    phase2: checkPhase2(cps.map((c) => c.kappa), tp),
  };
  if (cps.every((c) => c.theory)) out.theory = checkTheory(cps.map((c) => c.theory!.error), cps.map((c) => c.theory!.sigma2), tp);
  if (cps.every((c) => c.lossGap !== undefined)) out.gap = checkGap(tp, series.gapRise);
  if (last.jaccard && options.playersShared !== false) out.jaccard = checkJaccard(last.jaccard);
  const at = cps[oodAt];
  if (at?.ood) out.ood = checkOod({ share: at.highOrderShare, strength: highOrderStrength(at.orders) }, { share: at.ood.highOrderShare, strength: highOrderStrength(at.ood.orders) });
  if (cps.every((c) => c.generalization)) {
    out.generalizable = checkGeneralizable(cps.map((c) => c.generalization!.ratio), tp);
    out.shapes = checkShapes(last.generalization!.generalizable, last.generalization!.nonGeneralizable);
    const { train, test } = last.generalization!.loss;
    if (train && test) out.removal = checkRemoval(train, test);
  }
  return out;
}
