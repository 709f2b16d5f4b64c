// What every recovery method receives and returns, so that recover.ts can run any of them the same way.
// Types only.
import type { KernelHost } from '../../contracts/kernels.js';
import type { MutableMaskBatch } from './masks.js';
import type { GameOracle } from './oracle.js';
import type { Rng } from './random.js';
import type { TermStore } from './terms.js';
import type { FittedExpansion, RandomFitsTask, SparseFit } from './types.js';

/** The kinds of uniformly random masks drawn from streams of their own (MethodContext.uniform). */
export type UniformKind = 'heldOut' | 'validation' | 'fit' | 'radial';

/** What a recovery method gets. */
export interface MethodContext {
  readonly oracle: GameOracle;
  readonly n: number;
  readonly maxOrder: number;
  readonly rng: Rng;
  /** count uniformly random masks of one kind, from that kind's own stream (SparseOptions.uniformSeed): the OR
   *  expansion's are the complements of the AND expansion's, the same masks of v. */
  readonly uniform: (kind: UniformKind, count: number) => MutableMaskBatch;
  /** Evaluations to leave unused for the held-out masks. */
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
  /** Supports ('0,4,9') whose values are exact: computed from v at every subset (refine.ts). */
  readonly exact?: ReadonlySet<string>;
}
