// One switch for whose conventions fill the options a request leaves out: `conventions: 'andor'` (the default: the
// project's decisions, spec interactions.md "Project decisions") or `'authors'` (every choice the authors' code makes).
// Only the defaults live here; each choice is implemented where it always was (analysis/decompose.ts for the
// optimizer and the q bound, analysis/interactions.ts for the salient max, explain.ts for the reward). Options given
// explicitly always win over a convention.
import { CONVENTIONS } from '../contracts/schema/constants.js';
import { oneOf } from '../inputs/options.js';

/** Whose defaults apply: andor's or the authors' code's. */
export type Conventions = (typeof CONVENTIONS)[number];
export { CONVENTIONS };

/**
 * The options `conventions: 'authors'` fills when the request leaves them out. Each entry cites where the authors'
 * code makes the choice (the spec's sections quote the code):
 * - salientIncludeEmpty: their salient threshold is r·max over the whole reorganized [I_and, I_or], ∅ included.
 *   see: sjtu-xai-lab/interaction-concept experiments/exp_utils.py `get_significant_threshold` (spec §3.1)
 * - preset 'authors': their optimizer (SGD, momentum 0.9, lr decaying from lr to lr/10, q clamped before each step,
 *   γ = q = 0 at the start), run on v/s with a learning rate relative to the game's scale (andor's `reference` preset
 *   keeps their raw lr, which does not transfer across checkpoints; spec "Project decisions": scale).
 *   see: interaction-concept src/harsanyi/and_or_harsanyi_utils.py `_train_p_q` (spec §2.2)
 * - qthres 0.04: their bound |q_T| ≤ qthres·|v(N) − v(∅)| (qstd "vN-v0", qthres 0.04 in every experiment folder).
 *   andor's bound is the same formula with the same default (analysis/decompose.ts), so this entry changes nothing
 *   today; it is filled so that the convention stays the authors' if andor's default ever moves.
 *   see: interaction-concept src/harsanyi/and_or_harsanyi.py `_init_q_bound`; README `qthres=0.04_qstd=vN-v0` (§2.1)
 * - reward 'gt-log-odds': the dynamics and generalization papers explain the log-odds of the ground-truth class and
 *   write v(x) = v(x_∅) + Σ I_and + Σ I_or, keeping v(x_∅) (spec §1.3); the three-phase paper's causal test takes the
 *   loss of the output rebuilt from interactions, which needs the raw log-odds. The `-v0` form is the default of
 *   the ICLR-2024 generalizable-interaction code (a different experiment: joint extraction on BERT). Both give the
 *   same interactions for every S ≠ ∅ (the transforms annihilate constants) and the same q bound; they differ only
 *   in the ∅ term, which the ∅-inclusive salient max reads. REPRODUCTION.md tests the -v0 form as well.
 *   see: sjtu-xai-lab.github.io/InteractionDynamics (v = log p/(1−p)); arXiv 2505.06993 (removal test)
 */
export const AUTHORS_CONVENTIONS = Object.freeze({
  salientIncludeEmpty: true,
  preset: 'authors',
  qthres: 0.04,
  reward: 'gt-log-odds',
} as const);

/** The defaults of the learned AND-OR split, which a request for the sparse method does not take. */
const SPLIT_FIELDS: ReadonlySet<string> = new Set(['preset', 'qthres']);

/** The fields a convention may fill. */
export interface ConventionFields {
  readonly conventions?: Conventions;
  readonly method?: string;
  readonly budget?: number;
  readonly maxOrder?: number;
  readonly tolerance?: number | 'auto';
  readonly salientIncludeEmpty?: boolean;
  readonly preset?: string;
  readonly solver?: string;
  readonly qthres?: number;
  readonly reward?: string;
}

/**
 * Fills the defaults of the request's conventions. `andor` (or none) returns the request itself; `authors` returns a
 * copy with AUTHORS_CONVENTIONS filled where the request leaves a field undefined. Four exceptions keep explicit choices
 * coherent: a request that names a `solver` (which only preset `default` takes) keeps andor's preset, a game (a
 * request with `values`, which has no reward) gets no reward, a request for the sparse method (method 'sparse', or
 * budget, maxOrder or tolerance without a method), which learns no split and refuses its options, gets no preset and
 * no qthres, and a request that gives preset 'none' (γ = q = 0: no q to bound, so it refuses a qthres) gets no qthres.
 * @param request - an explain, game, batch or dynamics request
 * @returns the request with the convention's defaults filled
 * @throws InvalidOptionError when conventions is not one of 'andor', 'authors'
 */
export function withConventions<T extends object>(request: T): T {
  const given = request as ConventionFields;
  if (given === null || typeof given !== 'object' || given.conventions === undefined) return request;
  const conventions = oneOf(given.conventions, CONVENTIONS, 'options.conventions');
  if (conventions === 'andor') return request;
  const sparse = given.method === 'sparse' || (given.method === undefined && [given.budget, given.maxOrder, given.tolerance].some((x) => x !== undefined));
  const filled = { ...request } as Record<string, unknown>;
  for (const [field, value] of Object.entries(AUTHORS_CONVENTIONS)) {
    if (filled[field] !== undefined) continue;
    if (field === 'preset' && filled.solver !== undefined) continue;
    if (field === 'reward' && 'values' in request) continue;
    if (sparse && SPLIT_FIELDS.has(field)) continue;
    // preset none (given) learns no split: its q stays 0, and a qthres the request did not give is not refused
    if (field === 'qthres' && filled.preset === 'none') continue;
    filled[field] = value;
  }
  return filled as T;
}
