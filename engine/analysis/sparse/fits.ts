// The fits of an auto search on its random masks (adaptive.ts), as one task of typed arrays and plain objects: it
// runs where the caller says (the engine's runner sends it to a pool worker, so that the AND and the OR expansion
// fit side by side while the main thread goes on) or here, with the same result for the same task.
import { EngineError, InvalidInputError } from '../../contracts/errors.js';
import type { KernelHost } from '../../contracts/kernels.js';
import { SPARSE_FITS } from '../../contracts/schema/constants.js';
import { completionOrder, completionRows, completions } from './completion.js';
import { cubeR2, cubeResiduals, cubeTerms, insideCube } from './cube.js';
import { fitProxy } from './proxy.js';
import { createRng } from './random.js';
import { SampleLog } from './sample-log.js';
import { strongestFirst, TermStore } from './terms.js';
import type { Cube, FitSet, FittedExpansion, FlatTerms, RandomFitsTask, RandomFitter, SparseFit } from './types.js';
import { Validation } from './validation.js';

/** A tree proxy keeps its strongest terms, as few as lose at most PRUNE_LOSS of validation R² (from PRUNE_FIRST). */
const PRUNE_LOSS = 1e-3;
const PRUNE_FIRST = 256;
/** With a cube whose values alone explain at least this share of v's variance on the validation masks, no trees are
 *  fitted to v itself, only to what the cube leaves (digits-cnn 0.97, the MLP 0.98, tokens-40 at 16 positions 1.00:
 *  with both, the cube's were kept on the first two in every seed, and tokens-40 had R² 1.0000 either way;
 *  docs/math.md, "The players that matter"). */
const CUBE_EXPLAINS = 0.9;
/** The completion tries at most this many of the trees' terms of order above its own (its masks have room for 128
 *  found terms). */
const CONJUNCTIONS = 128;

/**
 * The expansions fitted on the random masks, for the validation masks to choose from:
 * - the tree proxy (proxy.ts), its strongest terms: a dense game of many orders that is a simple function of the
 *   players present;
 * - with a cube (cube.ts), trees of what the cube leaves, its exact terms replacing theirs inside it ('cube+trees');
 *   the trees of v are then left out when the cube alone explains CUBE_EXPLAINS of v on the validation masks;
 * - the search's terms with every term of order ≤ 2 beside them (completion.ts; order 1 above 68 players, on every
 *   fit mask): a trained model's dense low-order spread, which no search finds term by term;
 * - that completion again with the conjunctions it missed: the trees' strongest terms of order above the
 *   completion's (CONJUNCTIONS),
 *   fitted jointly with the rest while the masks have room, else left out. (Trees fitted to what the completion
 *   leaves unexplained found them in one seed of four on the test's game: a conjunction less its order ≤ 2 part is a
 *   parity, which no single split of a greedy tree reduces; the trees of v itself rank them first.)
 * @param kernels - the compiled kernels of this thread
 * @param task - the masks, values and terms
 * @param pause - awaited between the steps and the trees (cancellation; other work's turn)
 * @returns the fits that could be made, in that order
 * @throws MemoryLimitError when the kernels' memory cannot hold the masks; whatever pause throws
 */
export async function randomFits(kernels: KernelHost, task: RandomFitsTask, pause: () => Promise<void>): Promise<FittedExpansion[]> {
  const { n, maxOrder, fit } = task;
  const rng = createRng(task.seed);
  const searched = TermStore.fromFlat(task.searched).toTerms();
  await pause();
  const fits: FittedExpansion[] = [];
  // the trees learn from the search's masks too: they need no uniform sample, and those masks sit where the search
  // found terms; from the first treeRows random masks at most
  const rows = joined(firstRows(fit, Math.min(fit.masks.count, task.treeRows ?? Infinity)), task.logged);
  const validation = new Validation(task.validation);
  // scored here, where the fit ran, over the flat terms in the order of toTerms: the caller's thread only compares
  const scored = (fit: SparseFit, terms: FlatTerms): FittedExpansion => ({ fit, terms, r2: validation.r2({ terms, order: strongestFirst(terms) }) });
  const { cube } = task;
  // the trees of v, unless a cube explains most of v on its own (then the trees of what it leaves do better)
  const trees = cube && cubeR2(cube, task.validation) >= CUBE_EXPLAINS ? undefined : await fitProxy(kernels, rows, maxOrder, rng, pause);
  if (trees) fits.push(scored('trees', strongestEnough(trees, validation)));
  let cubed: TermStore | undefined;
  if (cube) {
    await pause();
    // the trees' gains as shares of v's variance: what the cube leaves is a small part of it
    const residual = await fitProxy(kernels, cubeResiduals(cube, rows), maxOrder, rng, pause, variance(rows.values));
    cubed = residual && withCube(residual, cube);
    if (cubed) fits.push(scored('cube+trees', strongestEnough(cubed, validation)));
  }
  await pause();
  // the completion on as many masks as it asks for: more rows would make room for more found terms, at a cost
  // quadratic in them; one of order 1 (maxOrder 1, or n > 68) on all of them: its columns are few (completion.ts,
  // highColumns), and a game of hundreds of players needs the rows (fewer than it asks for: a ridge path, whose
  // weights the validation masks choose between)
  const low = completionRows(n, maxOrder, fit.masks.count);
  if (low === undefined) return fits;
  // strongest first, ranked over the flat terms (no object per term) of the trees of v, or else of the cube's terms
  // and the trees of what it leaves
  const proxy = trees ?? cubed;
  const order = completionOrder(n, maxOrder) ?? 0;
  const conjunctions = proxy ? Array.from(strongestFirst(proxy.view())).filter((t) => proxy.order(t) > order).slice(0, CONJUNCTIONS).map((t) => proxy.players(t)) : [];
  // both from one Gram (completions); with conjunctions none of which entered, the second is the first
  const completed = await completions(kernels, searched, firstRows(fit, low), maxOrder, conjunctions, pause);
  if (!completed) return fits;
  // the best on the validation masks of the fits without the conjunctions (several along a ridge path)
  const plain = completed.without.map((store) => scored('completion', store.toFlat())).reduce((best, next) => (next.r2 > best.r2 ? next : best));
  fits.push(plain);
  if (conjunctions.length > 0) fits.push(completed.with ? scored('completion+trees', completed.with.toFlat()) : { ...plain, fit: 'completion+trees' });
  return fits;
}

/** The trees of r(T) = v(T) − v(T ∩ K) outside the cube, its exact terms inside it. */
function withCube(trees: TermStore, cube: Cube): TermStore {
  const kept: [FlatTerms, number][] = [];
  const outside = trees.view();
  const inside = cubeTerms(cube);
  const support = (terms: FlatTerms, t: number) => terms.flat.subarray(terms.offsets[t], terms.offsets[t + 1]);
  for (let t = 0; t < outside.count; t++) if (!insideCube(cube, support(outside, t))) kept.push([outside, t]);
  for (let t = 0; t < inside.values.length; t++) kept.push([inside, t]);
  const offsets = new Int32Array(kept.length + 1);
  for (const [k, [terms, t]] of kept.entries()) offsets[k + 1] = offsets[k] + support(terms, t).length;
  const flat = new Int32Array(offsets[kept.length]);
  const values = new Float64Array(kept.length);
  for (const [k, [terms, t]] of kept.entries()) {
    flat.set(support(terms, t), offsets[k]);
    values[k] = terms.values[t];
  }
  return TermStore.fromDistinct({ offsets, flat, values });
}

/** The first count rows of a fit set. */
function firstRows(fit: FitSet, count: number): FitSet {
  const { masks, values } = fit;
  return { masks: { ...masks, count, bits: masks.bits.subarray(0, count * masks.words) }, values: values.subarray(0, count) };
}

/** Two fit sets as one. */
function joined(a: FitSet, b: FitSet): FitSet {
  const log = new SampleLog(a.masks.n, a.masks.count + b.masks.count);
  log.append(a.masks, a.values);
  log.append(b.masks, b.values);
  return { masks: log.masks(), values: log.values() };
}

/**
 * The fewest strongest terms (∅ always; counts doubling from PRUNE_FIRST) whose validation R² is within PRUNE_LOSS
 * of all the store's: a tree proxy's expansion holds thousands of terms, most of them tiny. Sorted and scored over
 * the flat arrays: no object per term.
 * @returns the kept terms, ∅ first, then strongest first
 */
function strongestEnough(store: TermStore, validation: Validation): FlatTerms {
  const view = store.view();
  const ranked = strongestFirst(view);
  // ∅ first, the others as ranked
  const order = new Int32Array(ranked.length);
  let at = 0;
  for (const t of ranked) if (view.offsets[t + 1] === view.offsets[t]) order[at++] = t;
  for (const t of ranked) if (view.offsets[t + 1] !== view.offsets[t]) order[at++] = t;
  const counts: number[] = [];
  for (let count = PRUNE_FIRST; count < order.length; count *= 2) counts.push(count);
  const r2 = validation.prefixR2({ terms: view, order }, counts);
  const all = r2[counts.length];
  const enough = counts.findIndex((_, k) => r2[k] >= all - PRUNE_LOSS);
  return pick(view, order.subarray(0, enough < 0 ? order.length : counts[enough]));
}

/** The given terms of a view, in that order, as flat terms of their own. */
function pick(view: FlatTerms, order: Int32Array): FlatTerms {
  const offsets = new Int32Array(order.length + 1);
  for (let k = 0; k < order.length; k++) offsets[k + 1] = offsets[k] + view.offsets[order[k] + 1] - view.offsets[order[k]];
  const flat = new Int32Array(offsets[order.length]);
  const values = new Float64Array(order.length);
  for (let k = 0; k < order.length; k++) {
    flat.set(view.flat.subarray(view.offsets[order[k]], view.offsets[order[k] + 1]), offsets[k]);
    values[k] = view.values[order[k]];
  }
  return { offsets, flat, values };
}

/**
 * A caller's fitter behind the checks: its failures other than andor's own errors (cancellation, a runner's) become
 * InvalidInputError, and what it returns is checked (checkFitted).
 * @param fitter - options.fitRandom
 * @param n - players
 * @param signal - passed on to the fitter
 * @returns the checked fitter
 */
export function checkedFitter(fitter: RandomFitter, n: number, signal: AbortSignal | undefined): (task: RandomFitsTask) => Promise<FittedExpansion[]> {
  return async (task) => {
    let fitted: unknown;
    try {
      fitted = await fitter(task, signal);
    } catch (error) {
      if (error instanceof EngineError) throw error;
      throw new InvalidInputError(`options.fitRandom failed: ${error instanceof Error ? error.message : String(error)}.`, { cause: error });
    }
    return checkFitted(fitted, n);
  };
}

/**
 * What a RandomFitter returned, checked: a list of fits, each of its kinds and terms of players below n with finite
 * values, supports ascending, and its validation R².
 * @param fitted - the answer
 * @param n - players
 * @returns the answer
 * @throws InvalidInputError naming what is wrong (a fitter given as options.fitRandom)
 */
function checkFitted(fitted: unknown, n: number): FittedExpansion[] {
  const fail = (what: string): never => {
    throw new InvalidInputError(`options.fitRandom returned ${what}; it must resolve to a list of {fit, terms: {offsets, flat, values}, r2} (the engine's runner gives one).`);
  };
  if (!Array.isArray(fitted)) fail(`${fitted === null ? 'null' : typeof fitted} instead of a list`);
  for (const [k, candidate] of (fitted as unknown[]).entries()) {
    const { fit, terms, r2 } = (candidate ?? {}) as Partial<FittedExpansion>;
    if (!(SPARSE_FITS as readonly unknown[]).includes(fit)) fail(`an unknown fit at ${k} (${String(fit)})`);
    if (typeof r2 !== 'number') fail(`no validation R² (a number) at fit ${k}`);
    const { offsets, flat, values } = (terms ?? {}) as Partial<FittedExpansion['terms']>;
    if (!(offsets instanceof Int32Array && flat instanceof Int32Array && values instanceof Float64Array)) fail(`terms at ${k} that are not Int32Array, Int32Array and Float64Array`);
    const count = values!.length;
    if (offsets!.length !== count + 1 || offsets![0] !== 0 || offsets![count] !== flat!.length) fail(`terms at ${k} whose offsets do not frame their players`);
    for (let t = 0; t < count; t++) {
      if (!Number.isFinite(values![t])) fail(`a value of ${values![t]} at fit ${k}, term ${t}`);
      if (!(offsets![t + 1] >= offsets![t])) fail(`offsets that fall at fit ${k}, term ${t}`);
      for (let j = offsets![t]; j < offsets![t + 1]; j++) {
        const player = flat![j];
        if (!(player >= 0 && player < n) || (j > offsets![t] && !(player > flat![j - 1]))) fail(`a support that is not ascending players below n = ${n} at fit ${k}, term ${t}`);
      }
    }
  }
  return fitted as FittedExpansion[];
}

/** The population variance of the values. */
function variance(values: Float64Array): number {
  let mean = 0;
  for (const value of values) mean += value;
  mean /= values.length;
  let sum = 0;
  for (const value of values) sum += (value - mean) ** 2;
  return sum / values.length;
}
