// The adaptive group-testing recovery ('adaptive', the default): v(∅), v(N) and the noise level, then rounds of
// search lanes (lanes.ts), each finding one Möbius term as a minimal mask with a non-zero residual, until random
// probes find nothing left; a noisy game's values are refitted by least squares at the end. Without a tolerance the
// search is staged (exact first, then falling noise floors kept by validation R², then fits on random masks kept the
// same way: a tree proxy and a low-order completion; then, for a deterministic game, exact values for the strongest
// terms, refine.ts; adaptiveMobius). see: Erginbas, Kang, Polito, Ramchandran,
// "Adaptive Sparse Möbius Transforms for Learning Polynomials" (arXiv 2602.06246), FASMT.
import { affordableTerms } from './budget.js';
import { collect, createLanes, runLanes, type LaneSlot } from './lanes.js';
import { completionBytes, completionMasks, completionOrder, completionRows } from './completion.js';
import { cubeDimension, cubeMasks, cubePlayers, insideCube, radialBases, radialMasks, totalEffects, type CubeSizing } from './cube.js';
import { randomFits } from './fits.js';
import { MIN_PROXY_ROWS, proxyBytes } from './proxy.js';
import { createMasks, fillRow, type MutableMaskBatch } from './masks.js';
import type { MethodContext, MethodResult } from './method.js';
import { refinable, refineTerms } from './refine.js';
import { predictRows, refitTerms } from './refit.js';
import { Validation, worseBeyondChance } from './validation.js';
import { SampleLog } from './sample-log.js';
import { TermStore } from './terms.js';
import type { Cube, FitSet, FlatTerms, RandomFitsTask, SparseTerm } from './types.js';

/** Repeats of v(∅) and v(N) used to estimate evaluation noise when the first two pairs disagree. */
const NOISE_REPEATS = 8;
/** Residuals below z·σ̂·√(1 + terms in the mask) count as zero: z = 6 keeps false alarms below 1e-8 per test. */
const NOISE_Z = 6;
/** Residuals below this share of the magnitudes involved count as round-off (≈ 45 000 ulps: a residual sums at
 *  most a few thousand terms). */
const ROUND_OFF = 1e-11;
/** Lanes of the first round, and bounds. */
const FIRST_LANES = 8;
const MIN_LANES = 2;
const MAX_LANES = 64;
/** Random start masks of a probe round (when v(N) shows no residual, or the last round found nothing new);
 *  from the third unproductive round on, FINAL_PROBES. */
const PROBES = 8;
const FINAL_PROBES = 32;
/** Each unproductive round shrinks the density of the probe masks by this factor. */
const PROBE_SHRINK = 0.7;
/** The search stops after this many rounds in a row found nothing new. */
const IDLE_ROUNDS = 3;
/** ... unless it is exact (no noise) and has budget left: then up to CERTIFY_ROUNDS more rounds of MAX_LANES probes,
 *  at most 1/CERTIFY_SHARE of what is left, at the densities of CERTIFY_DENSITIES in turn. Two terms that cancel on
 *  the masks that hold both (S and S minus one player, of opposite values: the AND terms of an OR game, the OR terms
 *  of a unanimity game) show only on masks that hold the smaller and lack the other player, a share p^(|S|−1)·(1 − p)
 *  of the masks of density p (1/16 at order 4 and p = 1/2): the idle rounds' 80 probes, ever sparser, missed such a
 *  pair in 2 of 50 planted games at tolerance 0 (n = 64, budget 30 000, 1930 evaluations used; an adversarial sweep,
 *  stop 45). 512 probes more at densities from 0.19 to 0.95 leave a pair of order 4 unseen with probability about
 *  e^−26 (a share 0.052 of the probes, on average over those densities, shows such a pair). */
const CERTIFY_ROUNDS = 8;
const CERTIFY_SHARE = 8;
const CERTIFY_DENSITIES = [1, 0.7, 0.5, 0.35];
/** An auto search (no tolerance given) first searches exactly on at most this share of its budget: nearly all of it,
 *  since a dense game stops it early (DENSE_TERMS) and an exactly sparse one below the budget formula needs it all.
 *  At 0.5 with the tail rule below, the sparse games of bench/sparse-auto.bench.js came back exact in 10 and 20 of 24
 *  at budgets 800 and 1500 (3 and 20 without it; tolerance 0: 23 and 24); at 0.8, 19 and 24; at 0.9, 19 and 24 (the
 *  worst held-out R² of the others 0.706 against 0.597); at 0.95, 20 and 24, with less left to the fits. The bundled
 *  models' searches stop on DENSE_TERMS well before (at most 2372 evaluations of 26 214). */
const EXACT_SHARE = 0.9;
/** It stops early once it holds more than DENSE_TERMS times the terms the budget is sized for (affordableTerms): the
 *  budget formula promises no exact recovery of a game that dense, and the fits gain from what it leaves. 2: the
 *  OR expansion of a sparse AND game holds every subset of its supports (95 terms of order ≤ 4 where the formula's
 *  sparsity is 88 on the bundled planted-64 model). Over seeds of recoverAndOr, 2, 4 and 8 gave digits-cnn a median
 *  R² of 0.973, 0.974 and 0.971 (0.962 without the stop), and tokens-40 at 10³ evaluations a worst of 0.988, 0.923
 *  and 0.923 (0.894 without). */
const DENSE_TERMS = 2;
/** ... but only when one of the terms it found is a tail term: under TAIL_SHARE of |v(N) − v(∅)| (the first staged
 *  tolerance, whose noise floor leaves such terms out; a noisy game stops on the count alone). At that stop the
 *  bundled models' searches held 4–178 such terms of 7–279 (digits-cnn, the MLP at n = 18, tokens-40 and patches-49
 *  at 10³–10⁴ evaluations); of the 96 searches of bench/sparse-auto.bench.js's exactly sparse games, 76 went past the
 *  stop and 3 held one such term at their end (README, "Budget"). */
const TAIL_SHARE = 1e-2;
/** Then, when that search did not end, the tolerances of its stages, coarse to fine. */
const TOLERANCES = [1e-2, 1e-3, 1e-4];
/** Validation masks of an auto search: at most this many, and at most 1/VALIDATION_SHARE of the fit's budget; with
 *  fewer than MIN_VALIDATION_MASKS the search runs once, at tolerance 0. */
const VALIDATION_MASKS = 256;
const VALIDATION_SHARE = 16;
const MIN_VALIDATION_MASKS = 16;
/** An ended exact stage is the answer when its terms rebuild the validation masks within this many σ̂ (the
 *  evaluation noise) plus this share of the largest |v| (round-off). */
const EXPLAINED_NOISE = 3;
const EXPLAINED_ROUND_OFF = 1e-9;
/** When an auto search's exact stage did not end, up to this share of what is left goes to uniformly random masks for
 *  the fits of randomFits: as many as the low-order completion asks for (completionMasks) or RANDOM_MASKS, whichever
 *  is more. The fits, not the staged searches, were kept on every bundled model, and they gain from more masks (0.6,
 *  then 0.8 before the exact stage's early stop: docs/math.md, "Fits on random masks"). */
const RANDOM_SHARE = 0.9;
/** The staged searches run after the fit masks are drawn only when what is left is at least this share of them (or
 *  when there are no fits); otherwise what is left goes to more fit masks (up to fitMasks) and the rest stays unspent.
 *  On every bundled model a fit was kept, not a stage, but at large budgets the stages' terms feed the completion
 *  (patches-49 at 10⁵ evaluations: R² 0.9996 with them, 0.9982 without). Below that they fitted no better, in
 *  hundreds of small game calls, each a round trip to the pool (ad hoc, `engine.explain` at 10 % of 2^n, R² on all
 *  2^n masks, the stages skipped whenever the fits ran: the MLP at n = 18, rows 0–2, 549, 211 and 234 game calls →
 *  64–67 and R² 0.99859, 0.99974, 0.99893 → 0.99883, 0.99977, 0.99906; digits-cnn row 0 56 → 38 calls, 0.99556 →
 *  0.99528; tokens-40 at 16 positions 102–113 → 35–40 calls, R² 1; the patches-49 figures from `node
 *  bench/sparse-real.bench.js` part 2 with the same skip, not saved). */
const STAGED_SHARE = 1;
/** 2048 before the exact stage's early stop: the MLP at n = 18 (budget 26 214) then gave R² 0.996 with the staged
 *  search, and 0.998 with the trees on 8192 (bench/sparse-real.bench.js). */
const RANDOM_MASKS = 8192;
/** ... or this many per player, whichever is more: the trees' first split alone weighs n players, and a dense game of
 *  many players needs more masks than one of few. With the cap at 8192 whatever n, a larger budget went to the staged
 *  searches, which no dense game keeps, and fitted no better: patches-49 cut into 14×14 and 28×28 cells (n = 196, 784)
 *  gave an AND R² of 0.924 and 0.58 at 10⁴ evaluations, 0.898 and 0.39 at 5·10⁴ (OR: 0.86 and −0.03); with this rule
 *  and the trees' floor (proxy.ts, MIN_TREES), 0.921 and 0.705, then 0.940 and 0.774 (OR 0.935 and 0.746). At 160 it
 *  leaves every n ≤ 51 (the bundled models) as it was. Up to FIT_CELLS mask·player cells: the trees' work grows
 *  with rows · n (proxy.ts, MIN_TREES), and at 4096 players 160 per player would be 655 360 masks and minutes of
 *  trees; within it, `node bench/sparse-real.bench.js` part 5 (run 35) spends 6.6 s outside the game calls on a
 *  function game of 1024 players at 10⁵ evaluations, 8.1 s at 4096. */
const FIT_MASKS_PER_PLAYER = 160;
const FIT_CELLS = 2 ** 25;
/** ... but an order-1 completion (n > 68, or maxOrder 1) takes up to this many per order-1 term (1 + n), the trees
 *  still only the masks above: its Gram and solve grow with the masks, not minutes of trees, and a dense first-order
 *  spread gains from every one. A tanh network of 4096 players (`node bench/sparse-real.bench.js` part 5's own, scored
 *  on 2000 masks; ad hoc) had R² 0.63 from 10⁵ evaluations, of which 8450 fit masks (what the completion asks for;
 *  FIT_CELLS / n is 8192) and 76 737 evaluations spent; with 4, 8 and 16 per term 0.75, 0.80 and 0.81. Least squares
 *  of order 1 on r masks carries about (1 + n) / r of what it leaves unexplained as noise of its own: at 32 per term,
 *  3 %. It changes nothing below 1024 players, where FIT_CELLS / n is more. */
const ORDER1_MASKS_PER_TERM = 32;
/** A deterministic game's players that matter (cube.ts), when its exact stage did not end and the kernels are there
 *  for the fits: a radial design of 8–32 base masks, on at most 20 % of what the refinement leaves and at most what
 *  the largest cube costs, measures each player's total effect (radialBases); then v at every subset of the fewest
 *  strongest that hold 99.9 % of the summed effects (cover), at most as many as 95 % of what is left pays for,
 *  maxOrder and 16 (cubeDimension: 2^16 masks and terms; a larger budget goes to the fits, and at n ≤ 20 a budget of
 *  2^n takes the exact path), when they hold at least 80 % of it (mass). Over 6 seeds of recoverAndOr (docs/math.md,
 *  "The players that matter"): digits-cnn R² 0.974 → 0.991 and top-20 recall 0.2 → 0.95–1, the MLP at n = 18
 *  0.998 → 0.9993. 16 bases (or 10 % of the budget) left digits-cnn one seed of six at
 *  recall 0.7; every player the budget pays for (no cover) and 4 bases at least cost tokens-40 at 3·10³ and
 *  patches-49 at 10⁴, maxOrder 10, 0.00006 and 0.0003 of R² against no cube (with them: no loss). The share was 60 %:
 *  a cube one player larger (twice the masks) fitted better than the random masks it took, whose place the
 *  refinement's share (unspent on these dense games) takes: 95 % gave R² on all 2^n masks (engine.explain at 10 % of
 *  2^n, the rows that reach the cube) digits-cnn row 0 0.99574 → 0.99678, the MLP rows 0, 2, 3 0.99883, 0.99906,
 *  0.99869 → 0.99920, 0.99927, 0.99880 (row 1 keeps the completion), tokens-40 at positions 0–15 rows 1 and 3
 *  0.99981, 0.99996 → 0.99988, 0.99996; 17–18 % more evaluations where the cube grew (4094 → 4432, 18 057 → 21 233). */
export const CUBE_SIZING: CubeSizing = { maxBases: 32, minBases: 8, designShare: 0.2, cubeShare: 0.95, maxPlayers: 16, cover: 0.999, mass: 0.8 };
/** A search without validation masks (a tolerance given) holds every HOLD_OUT-th logged mask out of its refits, to
 *  choose between them (refit). */
const HOLD_OUT = 8;
/** An auto stage's refit over every mask is kept only when its rms residual falls to the explaining level (2 noise
 *  floors): it gives up after this many CGLS iterations above it. Where it was kept (the noisy planted games of
 *  bench/sparse.bench.js --quick, the bundled models' runs of bench/sparse-real.bench.js --quick), the residual was
 *  there after one iteration; where it was not (patches-49 at 10^5 evaluations), it ran 141 and 166 iterations
 *  (0.6 s each) and ended 5–7 times above it. */
const EXPLAIN_ITERATIONS = 16;
/** Share of what is left after the exact stage that a deterministic game keeps for refineTerms: reserved until the
 *  staged searches are done, then released to the fits when the best expansion so far has no sparse top
 *  (refinable), and left unspent when the kept one has none. */
const REFINE_SHARE = 0.15;
/** Least share worth keeping: below it the fits need every evaluation more (an order-6 lattice alone is 64). */
const MIN_REFINE = 64;
/** Validation R² the exact values may cost: a least-squares expansion (the completion) leans on its estimates, so
 *  its fit often gets worse beyond chance with the true values of its strongest terms, but by a few 10⁻⁶ of R². */
const REFINE_LOSS = 1e-4;

/**
 * Recovers the Möbius terms of order ≤ maxOrder by adaptive group testing. A deterministic game's values are the
 * residuals measured on each term's own support (exact); a noisy game's are refitted by least squares.
 *
 * With a tolerance, one search treats the game as noisy with σ = max(σ̂, tolerance · |v(N) − v(∅)|). Without one
 * (auto), an exact search (tolerance 0) runs first on at most EXACT_SHARE of the budget: an exactly sparse game
 * ends it with budget to spare, and its terms are the answer. A game whose search is still finding terms when that
 * share is spent, or once it has found more than DENSE_TERMS times the terms the budget is sized for
 * (affordableTerms) and one of them is under TAIL_SHARE of |v(N) − v(∅)| (a trained model's dense tail of tiny
 * coefficients), goes on to fits on random masks. With the kernels, uniformly random masks are drawn (RANDOM_SHARE
 * of what is left, at most fitMasks: the most of RANDOM_MASKS, FIT_MASKS_PER_PLAYER · n and what the completion asks
 * for, and for an order-1 completion ORDER1_MASKS_PER_TERM per order-1 term; the trees take at most the first
 * treeMasks of them). Where what is left then is at least STAGED_SHARE of them, or there are no fits, the game is
 * searched again from scratch in stages of falling tolerance (TOLERANCES), each continuing from the last, while each raises the R²
 * on validation masks that no search or refit sees; the best of the exact search and these stages on those masks is
 * kept; otherwise what is left goes to more random masks. Then the expansions fitted on the random masks (randomFits:
 * a tree proxy, the low-order completion, the completion with the conjunctions it missed) compete with the search's
 * on the validation masks.
 * Before those masks, a deterministic game measures the total effect of each player and, when a few hold most of it,
 * evaluates v at every subset of them (measureCube, cube.ts): their terms are then exact, and trees fitted to what
 * they leave compete too ('cube+trees'). A deterministic game keeps REFINE_SHARE of what the exact search left (when
 * that is at least MIN_REFINE) for the last step; when the stages ran and the best expansion after them has many
 * salient terms (not refinable) that share goes to more random masks instead (and what they do not take to the stage
 * the budget stopped). Otherwise the kept expansion's
 * strongest terms get exact values, computed from v at every subset of their supports, and the salient supports their
 * exact extensions by one player (refine.ts); that expansion is kept unless it fits the validation masks worse beyond
 * chance (Validation.worse) and by more than REFINE_LOSS of R², else the best other expansion as good as the kept one
 * is refined instead. An expansion without a sparse top is not refined (the share is then left unspent).
 * The validation, radial and random fit masks come from context.drawUniform (the OR expansion's: the AND's complements,
 * drawn with them and paid half each when both expansions run together: shared.ts).
 * @param context - oracle, n, maxOrder, randomness, held-out reserve, tolerance
 * @returns the terms, the threshold below which a value is noise or round-off, and the tolerance of the kept search
 * @throws whatever the oracle throws (cancellation, game errors)
 */
export async function adaptiveMobius(context: MethodContext): Promise<MethodResult> {
  const { oracle, n, maxOrder, rng, tolerance } = context;
  // a log of every evaluated mask, for the refits (the first masks before the noise is known)
  let log: SampleLog | undefined = new SampleLog(n);
  const spend = () => oracle.remaining - context.reserve;
  const record = (batch: MutableMaskBatch, values: Float64Array): Float64Array => {
    log?.append(batch, values);
    return values;
  };
  const evaluate = (batch: MutableMaskBatch): Float64Array | Promise<Float64Array> => {
    const answer = oracle.evaluate(batch);
    return answer instanceof Float64Array ? record(batch, answer) : answer.then((values) => record(batch, values));
  };
  /** A stage's own limit: at most `evaluations` from now, within the budget. */
  const capped = (evaluations: number) => {
    const stop = oracle.remaining - evaluations;
    return () => Math.min(spend(), oracle.remaining - stop);
  };

  // the most terms this fit budget is sized for (budget.ts: the baseline and validation masks are part of it)
  const affordable = affordableTerms(n, maxOrder, spend());
  const baseline = await measureBaseline(evaluate, n, spend());
  const store = new TermStore();
  store.add([], baseline.empty);
  if (n === 0 || maxOrder === 0) return { store, dropAtOrBelow: 0, tolerance: tolerance ?? 0, fit: 'search' };
  // validation masks (auto only): evaluated outside the log, so that no search or refit sees them
  const validationCount = Math.min(VALIDATION_MASKS, Math.floor(spend() / VALIDATION_SHARE));
  const validationSet =
    tolerance === undefined && validationCount >= MIN_VALIDATION_MASKS ? await context.drawUniform({ kind: 'validation', want: validationCount, afford: validationCount }) : undefined;
  if (!validationSet) context.passUniform('validation');
  const validation = validationSet && new Validation(validationSet);
  const sigma = baseline.sigma;
  const range = Math.abs(baseline.full - baseline.empty);
  const stage = async (into: TermStore, stageTolerance: number, limit: () => number, idleRounds: number, mostTerms = Infinity) => {
    const noise = Math.max(sigma, stageTolerance * range);
    const finished = await search(into, { n, maxOrder, rng, spend: limit, evaluate, baseline, noise, idleRounds, mostTerms, range: sigma > 0 ? undefined : range, lattice: !validation, pause: oracle.pause });
    if (log && noise > 0) refit(into, log, maxOrder, noise, finished, () => oracle.throwIfCancelled(), !validation);
    return { finished, noise, dropAtOrBelow: dropLevel(into, noise) };
  };

  if (!validation) {
    const only = tolerance ?? 0;
    if (sigma === 0 && only === 0) log = undefined;
    const { dropAtOrBelow } = await stage(store, only, spend, IDLE_ROUNDS);
    return { store, dropAtOrBelow, tolerance: only, fit: 'search' };
  }
  // it stops early once it holds more than DENSE_TERMS times the terms the budget is sized for (affordableTerms), one
  // of them a tail term: a game that dense is not recovered exactly from this budget, and the fits gain from every
  // evaluation it leaves
  const exact = await stage(store, 0, capped(Math.floor(EXACT_SHARE * spend())), IDLE_ROUNDS, DENSE_TERMS * affordable);
  // an exactly sparse game's search ends, and its terms rebuild the validation masks to the noise level; one whose
  // terms beyond maxOrder the search cannot see ends too, but leaves them unexplained
  if (exact.finished && explains(store.toTerms(exact.dropAtOrBelow), validation, sigma)) return { store, dropAtOrBelow: exact.dropAtOrBelow, tolerance: 0, fit: 'search' };
  // a deterministic game's share for the exact values of the strongest terms at the end (refine.ts), reserved until
  // the staged searches have shown whether the game has a sparse top that the refinement can make exact
  const share = Math.floor(REFINE_SHARE * spend());
  let refinement = sigma === 0 && share >= MIN_REFINE ? share : 0;
  const fitting = () => spend() - refinement;
  // a deterministic game's players that matter, exactly (cube.ts): the trees then learn only what the cube leaves
  const cube = await measureCube(context, sigma === 0 && context.kernels !== undefined, record, evaluate, fitting);
  // the random masks: RANDOM_SHARE of what the refinement leaves, but as many as the completion needs
  // (completionMasks) where RANDOM_SHARE of all that is left pays for them
  const needed = completionMasks(n, maxOrder) ?? 0;
  let fit = await fitSet(context, Math.min(Math.floor(RANDOM_SHARE * spend()), Math.max(Math.floor(RANDOM_SHARE * fitting()), needed)));
  let best = { store, dropAtOrBelow: exact.dropAtOrBelow, tolerance: 0, r2: validationR2(store, validation, exact.dropAtOrBelow) };
  const staged = new TermStore();
  staged.add([], baseline.empty);
  let previous = -Infinity;
  /** The stage the budget stopped, to go on with if budget comes free. */
  let stopped: { readonly tolerance: number; readonly idleRounds: number } | undefined;
  const staging = async (stageTolerance: number, idleRounds: number): Promise<boolean> => {
    const { dropAtOrBelow } = await stage(staged, stageTolerance, fitting, idleRounds);
    const r2 = validationR2(staged, validation, dropAtOrBelow);
    if (r2 > best.r2) best = { store: copyOf(staged, dropAtOrBelow), dropAtOrBelow, tolerance: stageTolerance, r2 };
    stopped = fitting() <= 0 ? { tolerance: stageTolerance, idleRounds } : undefined;
    // a finer stage that fits the validation masks worse has started to chase the tail
    const better = r2 >= previous;
    previous = r2;
    return better && !stopped;
  };
  // the staged searches where the fits do not run, or where what is left after the fit masks is at least
  // STAGED_SHARE of them; else what is left goes to more fit masks, as many as they take (STAGED_SHARE)
  const stages = !fit || !context.kernels || fitting() >= STAGED_SHARE * fit.masks.count;
  if (stages) {
    for (const [k, stageTolerance] of TOLERANCES.entries()) if (!(await staging(stageTolerance, k === TOLERANCES.length - 1 ? IDLE_ROUNDS : 0))) break;
  } else {
    fit = await fitSet(context, fitting(), fit);
  }
  // a dense game (more salient terms in the best stage than the refinement takes: the bundled CNN and MLP) gets no
  // refinement; its share goes to more random masks for its fits (as many as they take), the rest to the stage that
  // the budget stopped. Without the stages the share waits for the fits: the exact stage stopped early is no guide
  // (a test game of refine.test.ts lost its refinement to it), and the refinement below takes only a fit with a
  // sparse top
  if (stages && refinement > 0 && !refinable(best.store.toTerms(best.dropAtOrBelow))) {
    refinement = 0;
    if (fit) fit = await fitSet(context, spend(), fit);
    else context.passUniform('fit');
    if (stopped && spend() > 0) await staging(stopped.tolerance, stopped.idleRounds);
  } else {
    context.passUniform('fit');
  }
  // fits on the random masks, each kept where it fits the validation masks better (randomFits)
  let kept: MethodResult = { store: best.store, dropAtOrBelow: best.dropAtOrBelow, tolerance: best.tolerance, fit: 'search' };
  let keptR2 = best.r2;
  /** The expansions not kept, for the refinement: the search's, then the fits' (flat, a store made when needed). */
  const others: { readonly r2: number; readonly result: () => MethodResult }[] = [];
  if (fit && context.kernels) {
    // the trees learn from the search's masks too (evenly spaced, as many as the random ones they take)
    const treeRows = treeMasks(n, maxOrder);
    const task: RandomFitsTask = {
      n, maxOrder, seed: rng.uint32(), searched: copyOf(best.store, best.dropAtOrBelow).toFlat(), fit,
      logged: evenRows(log ?? new SampleLog(n), Math.min(fit.masks.count, treeRows)), validation: validation.set, treeRows, ...(cube ? { cube } : {}),
    };
    // elsewhere when the caller can (a pool worker: the other expansion's calls go on meanwhile), else here, pausing
    // between the steps for them
    const fitted = context.fitRandom ? await context.fitRandom(task) : await randomFits(context.kernels, task, () => oracle.pause());
    // each scored on the validation masks where it was fitted (FittedExpansion.r2); a store only for the one kept
    for (const { fit: kind, terms, r2 } of fitted) {
      const result = (): MethodResult => ({
        store: TermStore.fromDistinct(terms), dropAtOrBelow: 0, tolerance: best.tolerance, fit: kind,
        ...(cube && kind === 'cube+trees' ? { exact: supportsInside(cube, terms) } : {}),
      });
      if (r2 > keptR2) {
        const before = kept;
        others.push({ r2: keptR2, result: () => before });
        kept = result();
        keptR2 = r2;
      } else {
        others.push({ r2, result });
      }
    }
  }
  if (refinement === 0 || !log) return kept;
  // exact values are kept unless they fit the validation masks worse than the kept estimates did, beyond chance and
  // by more than REFINE_LOSS of R²; then the best other expansion that the validation masks cannot tell from the kept
  // one is refined instead, by the same rule. An expansion without a sparse top is not refined: a fit may show the
  // game dense where the search's expansion did not (a stage's noise floor leaves out the tail: on digits-cnn and
  // the MLP the best stage had a sparse top, the trees did not, and the exact values of the trees' strongest terms
  // fitted worse), and then the share is left unspent
  const keptTerms = kept.store.toTerms(kept.dropAtOrBelow);
  const fitsAsWell = (terms: readonly SparseTerm[]) => !validation.worse(keptTerms, terms) || validation.r2(terms) >= keptR2 - REFINE_LOSS;
  // the others' stores are made only when the kept one's exact values do not pass
  for (const make of [() => kept, ...others.sort((a, b) => b.r2 - a.r2).map((other) => other.result)]) {
    const candidate = make();
    const terms = candidate === kept ? keptTerms : candidate.store.toTerms(candidate.dropAtOrBelow);
    if (!refinable(terms) || (candidate !== kept && !fitsAsWell(terms))) continue;
    const known = [{ masks: log.masks(), values: log.values() }, ...(fit ? [fit] : [])];
    const refined = await refineTerms(candidate.store, terms, candidate.dropAtOrBelow, { n, maxOrder, budget: spend(), known, evaluate, throwIfCancelled: () => oracle.throwIfCancelled() });
    // the refined store keeps the candidate's indices (its new terms come after them)
    if (refined && fitsAsWell(refined.store.toTerms(candidate.dropAtOrBelow))) return { ...candidate, store: refined.store, exact: new Set([...(candidate.exact ?? []), ...refined.exact]) };
  }
  return kept;
}

/**
 * The cube of the players that matter (cube.ts), or undefined when the radial design is not affordable or the
 * strongest players hold too little of the total effect (the design's masks are logged either way: uniformly random
 * masks, for the trees).
 * @param context - n, maxOrder, and the radial design's stream (the OR expansion's: the AND's complements, the same
 *   masks of v)
 * @param evaluate - v, logged
 * @param available - evaluations for the design and the cube
 * @returns K and v at each of its subsets
 */
async function measureCube(
  context: MethodContext,
  wanted: boolean,
  record: (batch: MutableMaskBatch, values: Float64Array) => void,
  evaluate: (batch: MutableMaskBatch) => Float64Array | Promise<Float64Array>,
  available: () => number,
): Promise<Cube | undefined> {
  const { n, maxOrder } = context;
  const bases = wanted ? radialBases(n, maxOrder, available(), CUBE_SIZING) : 0;
  const design = bases > 0 ? await context.drawUniform({ kind: 'radial', want: bases, afford: available(), rows: radialMasks, unitRows: n + 1 }) : undefined;
  if (!design) {
    if (bases === 0) context.passUniform('radial');
    return undefined;
  }
  record(design.masks, design.values);
  const effects = totalEffects(design.values, n);
  const players = cubePlayers(effects, cubeDimension(n, maxOrder, available(), CUBE_SIZING), CUBE_SIZING);
  return players && { players, values: await evaluate(cubeMasks(players, n)) };
}

/** The indices of the non-empty terms inside the cube: their values are exact. */
function supportsInside(cube: Cube, terms: FlatTerms): Set<number> {
  const inside = new Set<number>();
  for (let t = 0; t < terms.values.length; t++) {
    const players = terms.flat.subarray(terms.offsets[t], terms.offsets[t + 1]);
    if (players.length > 0 && insideCube(cube, players)) inside.add(t);
  }
  return inside;
}

/** Whether the terms rebuild the validation masks within EXPLAINED_NOISE·σ plus round-off (EXPLAINED_ROUND_OFF of
 *  the largest |v|). */
function explains(terms: readonly SparseTerm[], validation: Validation, sigma: number): boolean {
  const { rms, scale } = validation.residual(terms);
  return rms <= EXPLAINED_NOISE * sigma + EXPLAINED_ROUND_OFF * scale;
}

/** At most count logged masks, evenly spaced, with their values. */
function evenRows(log: SampleLog, count: number): FitSet {
  const masks = log.masks();
  const values = log.values();
  const take = Math.min(masks.count, count);
  const rows = createMasks(masks.n, take);
  const picked = new Float64Array(take);
  for (let k = 0; k < take; k++) {
    const r = Math.floor((k * masks.count) / take);
    rows.bits.set(masks.bits.subarray(r * masks.words, (r + 1) * masks.words), k * masks.words);
    picked[k] = values[r];
  }
  return { masks: rows, values: picked };
}

/** The terms of a store above dropAtOrBelow (∅ always), in a new store. */
function copyOf(store: TermStore, dropAtOrBelow: number): TermStore {
  const copy = new TermStore();
  for (const term of store.toTerms(dropAtOrBelow)) copy.add(term.players, term.value);
  return copy;
}

/** What one search stage needs. */
interface SearchContext {
  readonly n: number;
  readonly maxOrder: number;
  readonly rng: MethodContext['rng'];
  readonly spend: () => number;
  readonly evaluate: (batch: MutableMaskBatch) => Float64Array | Promise<Float64Array>;
  readonly baseline: Baseline;
  /** σ of this stage: residuals within NOISE_Z·σ·√(1 + terms in the mask) count as zero. */
  readonly noise: number;
  /** Rounds in a row without a new term that end the stage (0 for the coarse stages of an auto search: the finer
   *  stages probe after them). */
  readonly idleRounds: number;
  /** The stage stops (unfinished) once the store holds more terms than this besides ∅, one of them a tail term. */
  readonly mostTerms: number;
  /** |v(N) − v(∅)|, the scale of a tail term (hasTail). A noisy game's found terms are all above its noise floor,
   *  so none can show as a tail: its stop needs none (range undefined). */
  readonly range: number | undefined;
  /** Whether an exact search (no noise) evaluates every subset of each support it finds, for their exact values
   *  (lanes.ts, lattice): where no validation masks check its terms (a tolerance given, or a budget too small for
   *  them). An auto search's validation masks choose against a set that is no term; the lattice there cost the
   *  bundled models R² (digits-cnn at 10 % of 2^16 0.99678 → 0.99536, the MLP at n = 16 rows 0 and 2 0.99918,
   *  0.99942 → 0.99883, 0.99908; ad hoc, stop 44). */
  readonly lattice: boolean;
  /** Between the lanes' steps (LaneContext.pause). */
  readonly pause: () => Promise<void>;
}

/**
 * Rounds of search lanes from the terms in store until the budget is spent or random probes find nothing new.
 * @returns true when the search ended for want of new terms, false when its budget ran out first
 */
async function search(store: TermStore, context: SearchContext): Promise<boolean> {
  const { n, maxOrder, rng, spend, evaluate, baseline, noise, idleRounds, mostTerms, range, lattice, pause } = context;
  // round-off scale: the magnitudes summed in a residual are at most |v| + Σ|m| over every known term
  let magnitude = 0;
  const threshold = (value: number, predicted: number, contained: number): number =>
    Math.max(ROUND_OFF * (Math.abs(value) + Math.abs(predicted) + magnitude), NOISE_Z * noise * Math.sqrt(1 + contained));

  let lanes = FIRST_LANES;
  let idle = 0;
  const slots: LaneSlot[] = [];
  const full = createMasks(n, 1);
  fillRow(full, 0);
  const fullPrediction = new Float64Array(1);
  const fullCount = new Int32Array(1);
  const fullMagnitude = new Float64Array(1);
  // certification rounds still to run once the idle rounds are over (an exact search with budget left)
  let certify = 0;
  while (spend() > 0 && !(store.size - 1 > mostTerms && (range === undefined || hasTail(store, range)))) {
    if (idle > idleRounds) {
      if (certify === 0) break;
      certify--;
    }
    // v(N) is known: its residual says without a new evaluation whether the whole set still holds an unknown term
    store.predict(full, fullPrediction, fullCount, fullMagnitude);
    magnitude = fullMagnitude[0];
    const residualN = baseline.full - fullPrediction[0];
    const fromFull = idle === 0 && Math.abs(residualN) > threshold(baseline.full, fullPrediction[0], fullCount[0]);
    // after a round without new terms, probe ever smaller random masks: a term of order t survives a mask of
    // density q with probability q^t, so small masks reach low-order terms hidden behind terms beyond maxOrder
    const round = fromFull
      ? createLanes(slots, lanes, n, rng, residualN)
      : idle > idleRounds
        ? createLanes(slots, MAX_LANES, n, rng, undefined, (k) => CERTIFY_DENSITIES[k % CERTIFY_DENSITIES.length])
        : createLanes(slots, idle < 2 ? PROBES : FINAL_PROBES, n, rng, undefined, PROBE_SHRINK ** idle);
    await runLanes(round, rng, { n, maxOrder, store, evaluate, spend, threshold, check: baseline.sigma > 0 ? 'verify' : noise === 0 && lattice ? 'lattice' : 'none', pause });
    const { fresh, finders } = collect(round, store);
    idle = fresh > 0 ? 0 : idle + 1;
    if (idle === idleRounds + 1 && noise === 0) certify = Math.min(CERTIFY_ROUNDS, Math.floor(spend() / (CERTIFY_SHARE * MAX_LANES)));
    // twice the lanes while every lane finds its own term; each lane that found a term another lane also found
    // (a sign that few terms are left in reach) takes one lane off
    if (fromFull) lanes = Math.min(MAX_LANES, Math.max(MIN_LANES, 2 * fresh - (finders - fresh)));
  }
  return idle > idleRounds;
}

/** Whether a term besides ∅ is a tail term: under TAIL_SHARE of the range |v(N) − v(∅)| or of the largest term (a
 *  range that is small by chance, the terms cancelling at N, does not hide a tail). */
function hasTail(store: TermStore, range: number): boolean {
  let largest = range;
  let smallest = Infinity;
  for (let t = 1; t < store.size; t++) {
    const size = Math.abs(store.value(t));
    largest = Math.max(largest, size);
    smallest = Math.min(smallest, size);
  }
  return smallest < TAIL_SHARE * largest;
}

/** Terms at or below this are noise or round-off: after a refit, a term found from noise or as a sum of others is
 *  left near zero. */
function dropLevel(store: TermStore, noise: number): number {
  let largest = 0;
  for (let t = 0; t < store.size; t++) largest = Math.max(largest, Math.abs(store.value(t)));
  return Math.max(ROUND_OFF * largest, 3 * noise);
}

/** The random masks of randomFits, drawn before the staged search: fitMasks of them, and as many as `most`
 *  evaluations pay for (what the other expansion pays with this one's share, when they draw them together:
 *  shared.ts); none without the kernels or when `most` pays for fewer than MIN_PROXY_ROWS. With `drawn`, the first
 *  masks of the same stream, already evaluated: only the rest are drawn, at most `most` evaluations' worth. */
async function fitSet(context: MethodContext, most: number, drawn?: FitSet): Promise<FitSet | undefined> {
  const { n, maxOrder, kernels } = context;
  const want = fitMasks(n, maxOrder) - (drawn?.masks.count ?? 0);
  if (!kernels || want <= 0 || (!drawn && Math.min(most, want) < MIN_PROXY_ROWS) || (drawn && most <= 0)) {
    context.passUniform('fit');
    return drawn;
  }
  const more = await context.drawUniform({ kind: 'fit', want, afford: most, from: drawn?.masks.count ?? 0 });
  if (!drawn || !more) return more ?? drawn;
  const joined = new SampleLog(n, drawn.masks.count + more.masks.count);
  joined.append(drawn.masks, drawn.values);
  joined.append(more.masks, more.values);
  return { masks: joined.masks(), values: joined.values() };
}

/** The random masks the trees of an expansion learn from at most (the first ones; RandomFitsTask.treeRows): as many as
 *  the completion asks for, RANDOM_MASKS or FIT_MASKS_PER_PLAYER · n (at most FIT_CELLS / n), whichever is most. */
const treeMasks = (n: number, maxOrder: number): number => Math.max(completionMasks(n, maxOrder) ?? 0, RANDOM_MASKS, Math.min(FIT_MASKS_PER_PLAYER * n, Math.floor(FIT_CELLS / n)));

/** The random masks of an expansion's fits at most (fitSet): the trees', or for an order-1 completion
 *  ORDER1_MASKS_PER_TERM per order-1 term where that is more. */
const fitMasks = (n: number, maxOrder: number): number => Math.max(treeMasks(n, maxOrder), completionOrder(n, maxOrder) === 1 ? ORDER1_MASKS_PER_TERM * (1 + n) : 0);

/**
 * Bytes the fits of one expansion hold at most in the kernels' memory (randomFits in a worker, or here): the trees'
 * copy of their masks (the random ones and as many logged, each within the budget) with a few numbers per mask, their
 * work buffer and trees (proxyBytes), and the completion's Gram where the budget pays for its masks.
 * @param n - players
 * @param maxOrder - the expansion's order cap
 * @param budget - the expansion's evaluations
 */
export function fitBytes(n: number, maxOrder: number, budget: number): number {
  const random = Math.min(fitMasks(n, maxOrder), budget);
  const completion = completionRows(n, maxOrder, random) === undefined ? 0 : completionBytes(n, maxOrder, 2 * random);
  return 2 * random * (4 * Math.ceil(n / 32) + 40) + proxyBytes(n, maxOrder) + completion;
}

/** R² of the store's terms above dropAtOrBelow on the validation masks. */
function validationR2(store: TermStore, validation: Validation, dropAtOrBelow: number): number {
  return validation.r2(store.toTerms(dropAtOrBelow));
}

/**
 * Least-squares refit in two steps. First on the masks of ≤ d players only: no term beyond maxOrder touches them,
 * so the values stay the game's true Möbius coefficients when the found terms hold every term of order ≤ d there
 * (an exactly sparse game). Then on every evaluated mask: kept when the search ended for want of new terms and its
 * residual is at the noise level, i.e. when the game looks fully explained by the found terms; otherwise terms beyond
 * maxOrder would leak into the low-order values.
 *
 * An auto search's stage (judged = false) stops there: its validation masks judge the whole expansion, and a search
 * stopped by its budget skips the second step (in the bench's planted noisy games and patches-49 runs it was kept in
 * none of 28 such cases, and it is the costly one: a trained model's stage holds up to thousands of terms). A search
 * that ended runs it, but gives up once EXPLAIN_ITERATIONS iterations leave its residual above the explaining level.
 *
 * A search given a tolerance has no validation masks (judged = true). On a dense game its noise floor leaves terms
 * of order ≤ d unfound, and the first step then loads their mass onto the found terms that hold them: on patches-49
 * (tolerance 0.01, 10^5 evaluations) it gave order-5 terms of about +50 whose Möbius coefficients are about −5, and
 * an R² of −10 on held-out masks. So every HOLD_OUT-th logged mask is kept out of both steps, and the second step's
 * values are kept where the first's predict those masks worse beyond chance (a paired test). The small masks' refit,
 * when kept, is then redone on every mask, as is a refit over every mask kept because it explains the game; one kept
 * by the held-out masks stays as fitted (a dense game's, the costly one, where an eighth more masks moves little).
 */
function refit(store: TermStore, log: SampleLog, maxOrder: number, noise: number, finished: boolean, throwIfCancelled: () => void, judged: boolean): void {
  // with d ≥ n every mask is a small one: the two steps are one
  const two = maxOrder < log.n;
  if (judged && !two) return refitOnce(store, log, throwIfCancelled);
  const skip = judged && two ? heldOut : undefined;
  refitTerms(store, log, throwIfCancelled, { maxPlayers: maxOrder, skip });
  if (!two || (!finished && !judged)) return;
  const local = valuesOf(store);
  let scale = 0;
  for (const value of log.values()) scale = Math.max(scale, Math.abs(value));
  const explaining = 2 * noise + ROUND_OFF * scale;
  // an auto stage's step is kept only if it explains the game: it gives up when it is not close by then
  const global = refitTerms(store, log, throwIfCancelled, { skip, ...(judged ? {} : { target: { rms: explaining, within: EXPLAIN_ITERATIONS } }) });
  const rms = global.residualNorm / Math.sqrt(Math.max(1, global.rows));
  const explained = finished && rms <= explaining;
  const keepGlobal = explained || (judged && predictsBetter(store, local, log, throwIfCancelled));
  if (!keepGlobal) setValues(store, local);
  // the kept step again on every mask, from its values (not a refit over every mask that the held-out masks chose)
  if (judged && (explained || !keepGlobal)) refitTerms(store, log, throwIfCancelled, { maxPlayers: keepGlobal ? Infinity : maxOrder });
}

/**
 * A judged refit's one step (d ≥ n): on every logged mask but the held-out ones, then kept (and redone on every mask)
 * unless the values the search found predict the held-out masks better beyond chance. The same leak as the first
 * step's of two (above) loads a dense game's unfound terms onto the found ones: on the MLP at n = d = 18, tolerance
 * 0.01, 10 % of 2^n, one seed of six gave terms of ±144 in a game of |v| ≤ 14 and a held-out R² of −50.
 */
function refitOnce(store: TermStore, log: SampleLog, throwIfCancelled: () => void): void {
  const found = valuesOf(store);
  refitTerms(store, log, throwIfCancelled, { skip: heldOut });
  const fitted = valuesOf(store);
  setValues(store, found);
  if (log.count >= HOLD_OUT && predictsBetter(store, fitted, log, throwIfCancelled)) return;
  setValues(store, fitted);
  refitTerms(store, log, throwIfCancelled);
}

/** The logged rows a judged refit holds out. */
const heldOut = (row: number): boolean => row % HOLD_OUT === HOLD_OUT - 1;

/** Whether the store's values predict the held-out logged masks better, beyond chance, than the other values do (the
 *  store keeps its values). */
function predictsBetter(store: TermStore, other: Float64Array, log: SampleLog, throwIfCancelled: () => void): boolean {
  const rows = Int32Array.from({ length: Math.floor(log.count / HOLD_OUT) }, (_, k) => HOLD_OUT * k + HOLD_OUT - 1);
  const logged = log.values();
  const values = Float64Array.from(rows, (row) => logged[row]);
  const own = valuesOf(store);
  const mine = predictRows(store, log, rows, throwIfCancelled);
  setValues(store, other);
  const theirs = predictRows(store, log, rows, throwIfCancelled);
  setValues(store, own);
  return worseBeyondChance(values, mine, theirs);
}

/** A store's values, in index order. */
function valuesOf(store: TermStore): Float64Array {
  return Float64Array.from({ length: store.size }, (_, t) => store.value(t));
}

function setValues(store: TermStore, values: Float64Array): void {
  for (let t = 0; t < values.length; t++) store.setValue(t, values[t]);
}

/** v(∅), v(N) and the noise level σ̂ (0 for a deterministic game). */
interface Baseline {
  readonly empty: number;
  readonly full: number;
  readonly sigma: number;
}

/**
 * Evaluates ∅ and N twice; if either pair differs (a noisy game), NOISE_REPEATS times each, and pools the
 * sample variances.
 */
async function measureBaseline(evaluate: (batch: MutableMaskBatch) => Float64Array | Promise<Float64Array>, n: number, available: number): Promise<Baseline> {
  const pairs = Math.max(1, Math.min(2, Math.floor(available / 2)));
  const first = await evaluate(baselineBatch(n, pairs));
  const empties = [first[0]];
  const fulls = first.length > 1 ? [first[1]] : [first[0]];
  if (pairs === 2) {
    empties.push(first[2]);
    fulls.push(first[3]);
  }
  const noisy = empties.some((x) => x !== empties[0]) || fulls.some((x) => x !== fulls[0]);
  const more = Math.min(NOISE_REPEATS - pairs, Math.floor((available - 2 * pairs) / 2));
  if (noisy && more > 0) {
    const extra = await evaluate(baselineBatch(n, more));
    for (let k = 0; k < more; k++) {
      empties.push(extra[2 * k]);
      fulls.push(extra[2 * k + 1]);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const squares = (xs: number[]) => xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0);
  const dof = empties.length + fulls.length - 2;
  const sigma = noisy && dof > 0 ? Math.sqrt((squares(empties) + squares(fulls)) / dof) : 0;
  return { empty: mean(empties), full: mean(fulls), sigma };
}

/** Rows ∅, N, ∅, N, … (pairs pairs; n = 0 has only ∅). */
function baselineBatch(n: number, pairs: number): MutableMaskBatch {
  const batch = createMasks(n, 2 * pairs);
  for (let k = 0; k < pairs; k++) fillRow(batch, 2 * k + 1);
  return batch;
}
