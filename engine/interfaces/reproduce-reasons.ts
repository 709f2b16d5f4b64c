// Why a claim is not reproduced on a series: for each claim, the alternatives the reproduction can test (the other
// conventions, the other salient rule, the unlearned split and the -v0 reward at initialization, the loss gap from the
// clean labels, another checkpoint for the OOD and Jaccard comparisons, the salient-only loss baseline), each judged
// with the claim's own verdict function, and the sentence that follows from them. Text only: the runs live in
// reproduce-runs.ts, the verdicts in engine/studies/claims.ts.
import type { Conventions } from '../explain/conventions.js';
import { gapRise } from '../studies/dynamics.js';
import {
  checkGap, checkGeneralizable, checkJaccard, checkOod, checkRemoval, checkShapes, checkSpindle, highOrderStrength, isEmptyDistribution, randomGameDistribution, type ClaimCheck,
  type ClaimId,
} from '../studies/claims.js';
import { SOLVER_DEFAULTS } from '../contracts/schema/fields.js';
import { SALIENT_RATIO, type InitRow, type SeriesRun } from './reproduce-runs.js';

/** One row of a series' losses.json (the fields the reasons read). */
export interface LossRow {
  readonly name: string;
  readonly trainLoss: number;
  readonly testLoss: number;
  readonly trainCleanLoss?: number;
  readonly flippedMemorised?: number;
}

/** Everything the reasons of one series read. */
export interface SeriesEvidence {
  readonly runs: Readonly<Record<Conventions, SeriesRun>>;
  readonly checks: Readonly<Record<Conventions, Partial<Record<ClaimId, ClaimCheck>>>>;
  readonly init: readonly InitRow[];
  readonly losses: readonly LossRow[];
}

/** The gap tolerance of the dynamics runs (their default). */
const GAP_TOLERANCE = 0.02;
/** Share of the flipped labels memorised at which the OOD samples are "being memorised". */
const MEMORISING = 0.5;

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const epochOf = (run: SeriesRun, t: number) => run.result.checkpoints[t]?.epoch ?? t;

/** The sentence about the other conventions, when they give another verdict. */
function otherConventions(id: ClaimId, e: SeriesEvidence, failing: Conventions): string {
  const other: Conventions = failing === 'andor' ? 'authors' : 'andor';
  const check = e.checks[other][id];
  if (!check) return '';
  return check.verdict === 'reproduced'
    ? ` Under the ${other} conventions it is reproduced (${check.because}), so the difference comes from the conventions.`
    : ` Under the ${other} conventions too: ${check.verdict} (${check.because}).`;
}

/** L1 distance between two normalized distributions over orders 1..n. */
function l1(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let k = 1; k < a.length; k++) d += Math.abs(a[k] - b[k]);
  return d;
}

/** The ∅-term note: how large the ∅ term is at initialization under the authors' decomposition, and what a salient
 *  max that includes it leaves. */
function emptyTermNote(e: SeriesEvidence): string {
  const withEmpty = e.init.find((r) => r.variant.preset === 'authors' && r.variant.includeEmpty && !r.variant.reward);
  if (!withEmpty) return '';
  const floor = SALIENT_RATIO * withEmpty.emptyRatio;
  const keeps = floor >= 1 ? 'keeps no interaction at all' : `keeps only interactions above ${f2(floor)} of the largest one`;
  return ` With the raw log-odds reward the ∅ term (v(∅) + q_∅) is on average ${f2(withEmpty.emptyRatio)}× the largest interaction at initialization, so a salient max that includes ∅ ${keeps}.`;
}

function spindleReason(e: SeriesEvidence): string {
  const judged = e.init.map((r) => ({ r, check: checkSpindle(r.normalized) }));
  const isSpindle = (j: (typeof judged)[number]) => j.check.verdict === 'reproduced' || j.check.verdict === 'partly';
  const good = judged.filter(isSpindle);
  const bad = judged.filter((j) => !isSpindle(j));
  const n = e.init[0].normalized.length - 1;
  const randomHigh = randomGameDistribution(n).slice(3).reduce((a, b) => a + b, 0);
  const peaks = (list: typeof judged) => list.map((j) => `${j.r.variant.label}: ${j.check.numbers.peak === null ? 'nothing salient' : `order ${j.check.numbers.peak}`}`).join('; ');
  const none = e.init.find((r) => r.variant.preset === 'none' && r.variant.includeEmpty);
  const raw = e.init.find((r) => r.variant.preset === 'reference');
  const rawNote = none && raw && !isEmptyDistribution(raw.normalized) && !isEmptyDistribution(none.normalized)
    ? ` With their raw lr (preset reference) the split at initialization stays at L1 distance ${f2(l1(raw.normalized, none.normalized))} from the unlearned one (v varies little there, so a fixed lr barely moves γ and q in their ${SOLVER_DEFAULTS.sgd.iterations} steps).`
    : '';
  if (good.length > 0) {
    return `Tested: the distribution peaks at a medium order under ${good.map((g) => `${g.r.variant.label} (peak ${g.check.numbers.peak})`).join('; ')}, and not under ${peaks(bad)}. So the spindle is there in v, and the learned sparse split moves that strength to low orders: the shape at initialization depends on how far the optimizer gets, not only on the network.${rawNote}${emptyTermNote(e)}`;
  }
  const unlearned = e.init.find((r) => r.variant.preset === 'none' && !r.variant.includeEmpty);
  return `Tested: no variant gives a spindle (${peaks(judged)}). The unlearned split (γ = q = 0) too peaks at a low order, so the learned split is not what removes it: this network at initialization is not the i.i.d. random game the papers' spindle assumes (its share at orders ≥ 3 is ${f2(unlearned ? unlearned.normalized.slice(3).reduce((a, b) => a + b, 0) : NaN)}, against ${f2(randomHigh)} for the random game). Most likely (not tested here): a freshly initialized network is smooth in its input, so masking players changes v nearly additively.${emptyTermNote(e)}`;
}

function phase1Reason(e: SeriesEvidence, c: Conventions): string {
  const check = e.checks[c].phase1!;
  if (isEmptyDistribution(e.runs[c].result.checkpoints[0].normalized)) {
    const without = e.init.find((r) => r.variant.preset === (c === 'authors' ? 'authors' : 'default') && !r.variant.includeEmpty && !r.variant.reward);
    const high = without ? without.normalized.slice(3).reduce((a, b) => a + b, 0) : NaN;
    return `Tested: nothing is salient at initialization under this salient rule.${emptyTermNote(e)} With the same decomposition and the salient max without ∅ the share at orders ≥ 3 at initialization is ${f2(high)} (the spindle table above).${otherConventions('phase1', e, c)}`;
  }
  const high0 = Number(check.numbers.highInitial);
  const n = e.runs[c].result.n;
  const randomHigh = randomGameDistribution(n).slice(3).reduce((a, b) => a + b, 0);
  const lowT = Number(check.numbers.lowTurning);
  const parts = [`Tested on the run itself: at initialization the share at orders ≥ 3 is ${f2(high0)} (the random game: ${f2(randomHigh)})`];
  if (high0 < randomHigh / 2) parts.push(', so there is less to remove than the papers start from');
  parts.push(`; at the turning point orders 1–2 hold ${f2(lowT)}, short of "almost only" (≥ 0.8).`);
  return parts.join('') + otherConventions('phase1', e, c);
}

function phase2Reason(e: SeriesEvidence, c: Conventions): string {
  const run = e.runs[c];
  const after = run.result.checkpoints.length - 1 - run.result.turningPoint;
  return `The turning point is epoch ${epochOf(run, run.result.turningPoint)}, ${after} checkpoint(s) before the end; κ rises by ${f2(Number(e.checks[c].phase2!.numbers.rise))}.${otherConventions('phase2', e, c)}`;
}

function gapReason(e: SeriesEvidence, c: Conventions): string {
  const run = e.runs[c];
  const byName = new Map(e.losses.map((l) => [l.name, l]));
  const rows = run.result.checkpoints.map((cp) => byName.get(cp.name));
  let clean = '';
  if (rows.every((r) => r && Number.isFinite(r.trainCleanLoss))) {
    const rise = gapRise(rows.map((r) => r!.testLoss - r!.trainCleanLoss!), GAP_TOLERANCE);
    const check = checkGap(run.result.turningPoint, rise);
    clean = ` Tested: with the train loss on the clean labels (trainCleanLoss, so that the noisy labels do not make the early gap negative) the gap first rises at ${rise === null ? 'no checkpoint' : `epoch ${epochOf(run, rise)}`}: ${check.verdict}.`;
  }
  const tp = run.result.turningPoint;
  const gr = run.result.gapRise;
  return `The turning point is epoch ${epochOf(run, tp)}; the gap (test − noisy-label train loss) first rises at ${gr === null ? 'no checkpoint' : `epoch ${epochOf(run, gr)}`}.${clean}${otherConventions('gap', e, c)}`;
}

function theoryReason(e: SeriesEvidence, c: Conventions): string {
  const run = e.runs[c];
  // the reproduction's runs are exact: they have a theory fit
  const { grid } = run.result.theory!;
  const [lo, hi] = [Math.min(...grid), Math.max(...grid)];
  const tp = run.result.turningPoint;
  const phase2 = run.result.checkpoints.slice(tp, -1);
  const top = phase2.filter((cp) => cp.theory!.sigma2 >= hi * (1 - 1e-9)).length;
  const bottom = phase2.filter((cp) => cp.theory!.sigma2 <= lo * (1 + 1e-9)).length;
  const order1 = phase2.map((cp) => cp.theory!.error[1]);
  const under = order1.filter((x) => x < -0.05).length;
  return `Tested on the fit: in ${under} of ${phase2.length} phase-2 checkpoints before the last the theory puts at least 0.05 less at order 1 than the network has; near the turning point the network is more concentrated on order 1 than the theory's shape allows (it saturates for large σ², spec §5.2). σ² is at the largest value of its grid in ${top} and at the smallest in ${bottom} of them (at the smallest, ŵ is w* itself: no σ² fits better than the last checkpoint's own distribution).${otherConventions('theory', e, c)}`;
}

function jaccardReason(e: SeriesEvidence, c: Conventions): string {
  const run = e.runs[c];
  const tp = run.result.turningPoint;
  const at = run.result.checkpoints[tp].jaccard;
  const alt = at ? checkJaccard(at) : undefined;
  return `Tested at the turning point (epoch ${epochOf(run, tp)}) instead of the last checkpoint: ${alt ? `${alt.verdict} (${alt.because})` : 'no Jaccard'}.${otherConventions('jaccard', e, c)}`.trim();
}

function oodReason(e: SeriesEvidence, c: Conventions): string {
  const run = e.runs[c];
  const byName = new Map(e.losses.map((l) => [l.name, l]));
  const t = run.result.checkpoints.findIndex((cp) => (byName.get(cp.name)?.flippedMemorised ?? 0) >= MEMORISING);
  const cp = run.result.checkpoints[t];
  const alt = cp?.ood ? checkOod({ share: cp.highOrderShare, strength: highOrderStrength(cp.orders) }, { share: cp.ood.highOrderShare, strength: highOrderStrength(cp.ood.orders) }) : undefined;
  const last = run.result.checkpoints[run.result.checkpoints.length - 1];
  const memorised = byName.get(last.name)?.flippedMemorised;
  return `Likely: at the last checkpoint the network has memorised ${memorised === undefined ? 'the' : `${Math.round(memorised * 100)} % of the`} flipped labels and fits every training sample, so memorised and normal samples are encoded alike. Tested at the first checkpoint where at least half of the flipped labels are memorised (${cp ? `epoch ${cp.epoch ?? t}` : 'none'}), while they are being learned: ${alt ? `${alt.verdict} (${alt.because})` : 'no such checkpoint'}.${otherConventions('ood', e, c)}`;
}

function removalReason(e: SeriesEvidence, c: Conventions): string {
  const last = e.runs[c].result.checkpoints.at(-1)!;
  const loss = last.generalization?.loss;
  let salient = '';
  if (loss?.train && loss.test) {
    const alt = checkRemoval({ ...loss.train, output: loss.train.salient }, { ...loss.test, output: loss.test.salient });
    salient = ` Tested against the output rebuilt from all salient interactions (so that only the removal of the non-generalizable ones differs): ${alt.verdict} (${alt.because.replace('from the output', 'from the salient interactions')}).`;
  }
  const check = e.checks[c].removal!;
  const testUp = Number(check.numbers.testGeneralizable) > Number(check.numbers.testOutput);
  const why = testUp ? ' The test loss rises too: the non-generalizable interactions also carry much of the correct test predictions, so removing them hurts test samples as well as train samples.' : '';
  return `${why}${salient}${otherConventions('removal', e, c)}`.trim();
}

function generalizableReason(e: SeriesEvidence, c: Conventions): string {
  const run = e.runs[c];
  const ratio = run.result.checkpoints.map((cp) => cp.generalization?.ratio ?? NaN);
  const empty = run.result.checkpoints.map((cp) => isEmptyDistribution(cp.normalized));
  if (empty[0]) {
    const firstSalient = empty.indexOf(false);
    return `Nothing is salient at initialization under this salient rule, so there is no generalizable share there (the first checkpoint with salient interactions is epoch ${epochOf(run, firstSalient)}).${emptyTermNote(e)}${otherConventions('generalizable', e, c)}`;
  }
  let peak = 0;
  ratio.forEach((r, t) => { if (r > ratio[peak]) peak = t; });
  const alt = checkGeneralizable(ratio, peak);
  const tp = run.result.turningPoint;
  return `The share peaks at epoch ${epochOf(run, peak)} (${f2(ratio[peak])}); the turning point is epoch ${epochOf(run, tp)}. Tested with the peak as the end of phase 1: ${alt.verdict} (${alt.because}).${otherConventions('generalizable', e, c)}`;
}

function shapesReason(e: SeriesEvidence, c: Conventions): string {
  const run = e.runs[c];
  const tp = run.result.turningPoint;
  const g = run.result.checkpoints[tp].generalization;
  const alt = g ? checkShapes(g.generalizable, g.nonGeneralizable) : undefined;
  return `Tested at the turning point (epoch ${epochOf(run, tp)}) instead of the last checkpoint: ${alt ? `${alt.verdict} (${alt.because})` : 'no reference models'}.${otherConventions('shapes', e, c)}`;
}

/**
 * Why a claim cannot be tested on a series (evaluateClaims left it out).
 * @param id - the claim
 * @param modality - the series' modality
 * @returns one sentence
 */
export function untestableReason(id: ClaimId, modality: string): string {
  if (id === 'jaccard' && modality === 'pointcloud') {
    return 'Its players are k-means clusters found per sample in a randomly rotated cloud, so player j is not the same part in two samples, and the Jaccard compares the sets S of train and test samples by index.';
  }
  return 'The run has no measure for it (no losses, OOD samples, reference models or train and test samples).';
}

/**
 * The most likely reason a claim is not reproduced on a series under some conventions, with what was tested.
 * @param id - the claim
 * @param e - the series' runs, checks, initialization variants and losses
 * @param c - the conventions under which it failed
 * @returns markdown text (one paragraph)
 */
export function reasonFor(id: ClaimId, e: SeriesEvidence, c: Conventions): string {
  switch (id) {
    case 'spindle': return spindleReason(e);
    case 'phase1': return phase1Reason(e, c);
    case 'phase2': return phase2Reason(e, c);
    case 'gap': return gapReason(e, c);
    case 'theory': return theoryReason(e, c);
    case 'jaccard': return jaccardReason(e, c);
    case 'ood': return oodReason(e, c);
    case 'removal': return removalReason(e, c);
    case 'generalizable': return generalizableReason(e, c);
    case 'shapes': return shapesReason(e, c);
  }
}
