// What every recovery method receives and returns, so that recover.ts can run any of them the same way.
// Types only.
import type { KernelHost } from '../../contracts/kernels.js';
import type { MutableMaskBatch } from './masks.js';
import type { GameOracle } from './oracle.js';
import type { Rng } from './random.js';
import type { TermStore } from './terms.js';
import type { FitSet, FittedExpansion, RandomFitsTask, SparseFit } from './types.js';

/** The kinds of uniformly random masks drawn from streams of their own (MethodContext.drawUniform). */
export type UniformKind = 'heldOut' | 'validation' | 'fit' | 'radial';

/** A draw from a uniform stream (MethodContext.drawUniform). */
export interface UniformDraw {
  readonly kind: UniformKind;
  /** Units the method would use. */
  readonly want: number;
  /** Most evaluations it can pay. */
  readonly afford: number;
  /** Units of the stream drawn before (the draw starts after them; default 0). */
  readonly from?: number;
  /** The masks each unit becomes (radial: a base and its n flips); default the unit's mask. */
  readonly rows?: (units: MutableMaskBatch) => MutableMaskBatch;
  /** Masks per unit (as `rows` makes them); default 1. */
  readonly unitRows?: number;
}

/** What a recovery method gets. */
export interface MethodContext {
  readonly oracle: GameOracle;
  readonly n: number;
  readonly maxOrder: number;
  readonly rng: Rng;
  /**
   * Uniformly random masks of one kind, from that kind's own stream (SparseOptions.uniformSeed), evaluated: the OR
   * expansion's are the complements of the AND expansion's, the same masks of v, and when both expansions run
   * together (recoverAndOr) each such set is drawn once for both and its cost split between them (shared.ts). A side
   * alone draws min(want, afford) units. undefined when no unit is drawn.
   */
  readonly drawUniform: (draw: UniformDraw) => Promise<FitSet | undefined>;
  /** The method skips its next draw of this kind (where the other expansion may draw: it does not wait for this one). */
  readonly passUniform: (kind: UniformKind) => void;
  /** Evaluations to leave unused for the held-out masks (their share of them, when they are shared: it can fall
   *  once the game is known to be deterministic). */
  readonly reserve: number;
  /** Relative noise floor of method 'adaptive' (SparseOptions.tolerance); undefined: auto. */
  readonly tolerance?: number;
  /** The compiled kernels: method 'adaptive' completes its auto search with them (completion.ts). */
  readonly kernels?: KernelHost;
  /** Runs the auto search's fits on random masks elsewhere (fits.ts; SparseOptions.fitRandom, bound to the signal). */
  readonly fitRandom?: (task: RandomFitsTask) => Promise<FittedExpansion[]>;
}

/** What a recovery method returns. */
export interface MethodResult {
  readonly store: TermStore;
  /** Terms with |value| at or below this are noise or round-off and are dropped. */
  readonly dropAtOrBelow: number;
  /** Method 'adaptive': the tolerance of the search stage that was kept. */
  readonly tolerance?: number;
  /** Method 'adaptive': which expansion was kept. */
  readonly fit?: SparseFit;
  /** Indices of the store's terms whose values are exact: computed from v at every subset of their supports (a cube's,
   *  cube.ts; refine.ts). */
  readonly exact?: ReadonlySet<number>;
}
