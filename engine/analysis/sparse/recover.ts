// The two entry points: sparseMobius (AND interactions = Möbius coefficients of v) and sparseOr (OR interactions
// via the complement game). Validates, picks the path (exact when the budget covers 2^n), runs the method, then
// measures faithfulness on held-out masks the method never saw.
import { InvalidInputError } from '../../contracts/errors.js';
import { adaptiveMobius } from './adaptive.js';
import type { SparseMethod } from './budget.js';
import { exactMobius } from './exact.js';
import type { MethodContext, MethodResult, UniformDraw, UniformKind } from './method.js';
import { complementMasks, createMasks, randomMasks } from './masks.js';
import { checkedFitter } from './fits.js';
import { checkAnswer, createOracle, isThenable } from './oracle.js';
import { sparseSettings } from './options.js';
import { createRng } from './random.js';
import { regressionMobius } from './regression.js';
import { aloneShare, type SharedSide } from './shared.js';
import { sortTerms, strongestFirst } from './terms.js';
import type { FitSet, GameFunction, SparseExpansion, SparseOptions, SparseTerm } from './types.js';
import { Validation } from './validation.js';

const METHODS: Record<Exclude<SparseMethod, 'exact'>, (context: MethodContext) => Promise<MethodResult>> = {
  adaptive: adaptiveMobius,
  regression: regressionMobius,
};

/**
 * Recovers the sparse, low-order Möbius expansion v(T) = Σ_{S⊆T} m(S) of a game from at most options.budget
 * evaluations. The AND interactions are the m(S). With budget ≥ 2^n (n ≤ 20) it evaluates every mask and returns the
 * exact transform (method 'exact', faithfulness on all 2^n masks, heldOut 0). Otherwise the method ('adaptive' by
 * default) recovers terms of order ≤ maxOrder, and faithfulness is the R² on options.heldOut uniformly random masks
 * evaluated after the fit (NaN when heldOut = 0).
 * @param game - the game, called with batches of bit-packed masks
 * @param n - players, 0..4096
 * @param options - budget, maxOrder, seed, heldOut, signal, onProgress, method, kernels
 * @returns the terms (strongest first, ∅ included), evaluations used and faithfulness
 * @throws InvalidOptionError for a bad option, n above 4096, or a budget below the method's least (the message
 *   states it; see minimumBudget)
 * @throws InvalidInputError when the game throws (cause attached) or does not return an array
 * @throws ShapeMismatchError when the game returns a wrong number of values
 * @throws NonFiniteError when the game returns NaN or ±Inf
 * @throws CancelledError when options.signal fires
 * @throws MemoryLimitError when the regression design would not fit in memory
 */
export async function sparseMobius(game: GameFunction, n: number, options: SparseOptions, shared?: SharedSide): Promise<SparseExpansion> {
  if (typeof game !== 'function') throw new InvalidInputError(`game must be a function (masks, signal) => Float64Array (got ${typeof game}).`);
  return recover(game, n, options, false, shared);
}

/** Streams of the uniformly random masks, one per kind (the held-out one's as before there were others). */
const UNIFORM_STREAMS: Record<UniformKind, number> = { heldOut: 0x85ebca6b, validation: 0x27d4eb2f, fit: 0x165667b1, radial: 0x9e3779b1 };

/**
 * sparseMobius on a game; complemented: its uniformly random masks are the complements of those a run with the same
 * uniformSeed draws (sparseOr, whose game complements every mask again: the same masks of v).
 */
async function recover(game: GameFunction, n: number, options: SparseOptions, complemented: boolean, shared: SharedSide | undefined): Promise<SparseExpansion> {
  const settings = sparseSettings(n, options);
  const { budget, maxOrder, seed, uniformSeed, heldOut, method, tolerance, signal, onProgress, kernels, fitRandom } = settings;
  const oracle = createOracle(game, n, { budget, signal, onProgress, planned: method === 'exact' ? 2 ** n : budget });
  oracle.throwIfCancelled();
  if (method === 'exact') {
    const expansion = await exactMobius(oracle, n, maxOrder);
    oracle.finish();
    return expansion;
  }
  // each kind from its own stream, so that they do not depend on how much randomness the method drew
  const drawUniform = async ({ kind, want, afford, from = 0, rows, unitRows = 1 }: UniformDraw): Promise<FitSet | undefined> => {
    const request = { want, afford, unitRows };
    const { count, charge } = shared ? await shared.draw(kind, request, signal) : aloneShare(request);
    if (count <= 0) return undefined;
    const stream = randomMasks(n, from + count, createRng(Math.imul(uniformSeed ^ UNIFORM_STREAMS[kind], 0xc2b2ae35) >>> 0));
    const units = createMasks(n, count);
    units.bits.set(stream.bits.subarray(from * stream.words));
    const drawn = complemented ? complementMasks(units) : units;
    const masks = rows ? rows(drawn) : drawn;
    return { masks, values: await oracle.evaluate(masks, charge) };
  };
  const { store, dropAtOrBelow, tolerance: kept, fit, exact } = await METHODS[method]({
    oracle, n, maxOrder, rng: createRng(seed), drawUniform, passUniform: (kind) => shared?.pass(kind), tolerance, kernels,
    // the held-out masks are paid half when they are shared
    get reserve() {
      return shared?.sharing() ? Math.ceil(heldOut / 2) : heldOut;
    },
    ...(fitRandom ? { fitRandom: checkedFitter(fitRandom, n, signal) } : {}),
  });
  const terms = Array.from(strongestFirst(store.view(), dropAtOrBelow), (t): SparseTerm => (exact?.has(t) ? { players: store.players(t), value: store.value(t), exact: true } : { players: store.players(t), value: store.value(t) }));
  let r2 = NaN;
  const held = heldOut > 0 ? await drawUniform({ kind: 'heldOut', want: heldOut, afford: oracle.remaining }) : undefined;
  // scored through per-player bitsets: a tree proxy's expansion holds thousands of terms
  if (held) r2 = new Validation(held).r2(terms);
  oracle.finish();
  // the masks the R² is on: a shared draw makes the larger of the two sides' wants, one alone what is left to pay
  return { n, method, terms, evaluations: oracle.used, faithfulness: { r2, heldOut: held?.masks.count ?? 0 }, ...(kept === undefined ? {} : { tolerance: kept }), ...(fit === undefined ? {} : { fit }) };
}

/**
 * OR interactions via the complement game: runs sparseMobius on u(T) = v(N∖T) and negates the non-empty terms,
 * I_or(S) = −m_u(S) (spec §1.4). The ∅ term is I_or(∅) = Σ_S m_u(S) = û(N), the expansion's estimate of v(∅), so
 * that v(T) ≈ I_or(∅) + Σ_{S≠∅, S∩T≠∅} I_or(S) (exactly v(∅) on the exact path with maxOrder = n). Faithfulness is
 * the R² of u's expansion on held-out masks, which equals that of the OR expansion on their (uniform) complements.
 * To evaluate the OR expansion at masks T with evaluateExpansion, pass the OR terms with the non-empty ones negated
 * back and the ∅ term replaced by m_u(∅), and the complements N∖T.
 * @param game - the game v
 * @param n - players, 0..4096
 * @param options - as for sparseMobius
 * @returns the OR terms, strongest first, ∅ included
 * @throws as sparseMobius
 */
export async function sparseOr(game: GameFunction, n: number, options: SparseOptions, shared?: SharedSide): Promise<SparseExpansion> {
  if (typeof game !== 'function') throw new InvalidInputError(`game must be a function (masks, signal) => Float64Array (got ${typeof game}).`);
  // the answer is checked against the masks the game was given: a non-finite value names the players present there,
  // not in the mask the method asked for (its complement)
  const complement: GameFunction = (masks, signal) => {
    const given = complementMasks(masks);
    const answer = game(given, signal);
    return isThenable(answer) ? Promise.resolve(answer).then((values) => checkAnswer(values, given)) : checkAnswer(answer, given);
  };
  // the complement game's own coefficients (exact path) are not the OR terms': left out
  const { mobius: _complements, ...expansion } = await recover(complement, n, options, true, shared);
  let empty = 0;
  for (const term of expansion.terms) empty += term.value;
  const terms = expansion.terms.map((term) => (term.players.length === 0 ? { players: [], value: empty } : { ...term, value: -term.value }));
  return { ...expansion, terms: sortTerms(terms) };
}
