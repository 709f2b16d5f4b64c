// The fits of an auto search on its random masks (adaptive.ts), as one task of typed arrays and plain objects: it
// runs where the caller says (the engine's runner sends it to a pool worker, so that the AND and the OR expansion
// fit side by side while the main thread goes on) or here, with the same result for the same task.
import { EngineError, InvalidInputError } from '../../contracts/errors.js';
import type { KernelHost } from '../../contracts/kernels.js';
import { SPARSE_FITS } from '../../contracts/schema/constants.js';
import { completeLowOrder, completionMasks } from './completion.js';
import { fitProxy } from './proxy.js';
import { createRng } from './random.js';
import { SampleLog } from './sample-log.js';
import { TermStore } from './terms.js';
import type { FitSet, FittedExpansion, RandomFitsTask, RandomFitter } from './types.js';
import { Validation } from './validation.js';

/** A tree proxy keeps its strongest terms, as few as lose at most PRUNE_LOSS of validation R² (from PRUNE_FIRST). */
const PRUNE_LOSS = 1e-3;
const PRUNE_FIRST = 256;
/** The completion tries at most this many of the trees' terms of order > 2 (its masks have room for 128 found
 *  terms). */
const CONJUNCTIONS = 128;

/**
 * The expansions fitted on the random masks, for the validation masks to choose from:
 * - the tree proxy (proxy.ts), its strongest terms: a dense game of many orders that is a simple function of the
 *   players present;
 * - the search's terms with every term of order ≤ 2 beside them (completion.ts): a trained model's dense low-order
 *   spread, which no search finds term by term;
 * - that completion again with the conjunctions it missed: the trees' strongest terms of order > 2 (CONJUNCTIONS),
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
  // found terms
  const trees = await fitProxy(kernels, joined(fit, task.logged), maxOrder, rng, pause);
  if (trees) fits.push({ fit: 'trees', terms: strongestEnough(trees, new Validation(task.validation)).toFlat() });
  await pause();
  // the completion on as many masks as it asks for: more rows would make room for more found terms, at a cost
  // quadratic in them
  const low = completionMasks(n, maxOrder);
  if (low === undefined || fit.masks.count < low) return fits;
  const rows = firstRows(fit, low);
  const completed = completeLowOrder(kernels, searched, rows, maxOrder);
  if (!completed) return fits;
  fits.push({ fit: 'completion', terms: completed.toFlat() });
  await pause();
  // toTerms gives them strongest first
  const conjunctions = (trees?.toTerms() ?? []).filter((t) => t.players.length > 2).slice(0, CONJUNCTIONS);
  const again = conjunctions.length > 0 ? completeLowOrder(kernels, searched, rows, maxOrder, conjunctions.map((t) => t.players)) : undefined;
  if (again) fits.push({ fit: 'completion+trees', terms: again.toFlat() });
  return fits;
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
 * of all the store's: a tree proxy's expansion holds thousands of terms, most of them tiny.
 */
function strongestEnough(store: TermStore, validation: Validation): TermStore {
  const terms = store.toTerms().sort((a, b) => (a.players.length === 0 ? -1 : b.players.length === 0 ? 1 : Math.abs(b.value) - Math.abs(a.value)));
  const counts: number[] = [];
  for (let count = PRUNE_FIRST; count < terms.length; count *= 2) counts.push(count);
  const r2 = validation.prefixR2(terms, counts);
  const all = r2[counts.length];
  const enough = counts.findIndex((_, k) => r2[k] >= all - PRUNE_LOSS);
  const kept = new TermStore();
  for (const term of enough < 0 ? terms : terms.slice(0, counts[enough])) kept.add(term.players, term.value);
  return kept;
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
 * values, supports ascending.
 * @param fitted - the answer
 * @param n - players
 * @returns the answer
 * @throws InvalidInputError naming what is wrong (a fitter given as options.fitRandom)
 */
function checkFitted(fitted: unknown, n: number): FittedExpansion[] {
  const fail = (what: string): never => {
    throw new InvalidInputError(`options.fitRandom returned ${what}; it must resolve to a list of {fit, terms: {offsets, flat, values}} (the engine's runner gives one).`);
  };
  if (!Array.isArray(fitted)) fail(`${fitted === null ? 'null' : typeof fitted} instead of a list`);
  for (const [k, candidate] of (fitted as unknown[]).entries()) {
    const { fit, terms } = (candidate ?? {}) as Partial<FittedExpansion>;
    if (!(SPARSE_FITS as readonly unknown[]).includes(fit)) fail(`an unknown fit at ${k} (${String(fit)})`);
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
