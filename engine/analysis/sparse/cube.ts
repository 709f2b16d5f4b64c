// The players that matter, exactly. A radial design (base masks, each with every player flipped in turn) measures
// each player's total effect, E[(v(T ∪ i) − v(T ∖ i))²] over uniform T; v at every subset of the k strongest (the
// others absent) then gives the Möbius coefficient of every support inside them exactly, since m(S) depends only on
// v at the subsets of S. What is left, r(T) = v(T) − v(T ∩ K), holds only the terms with a player outside K and is
// known wherever v is (T ∩ K is in the cube): the fits learn it instead of v (fits.ts). A trained model's v often
// lives on few of its players (blank image patches, filler tokens): on digits-cnn 4×4, v(T ∩ K) alone has R² 0.974
// over all 2^16 masks with the 10 strongest players (1024 evaluations), and holds the 20 strongest terms.
// see: Saltelli et al., "Variance based sensitivity analysis of model output" (2010), the radial total-effect design.
import { mobiusInPlace } from './exact.js';
import { rSquared } from './expansion.js';
import { createMasks, popcount32, type MutableMaskBatch } from './masks.js';
import type { Cube, FitSet, FlatTerms, MaskBatch } from './types.js';

/**
 * Each base mask, then that mask with player i flipped, for every i: B·(n + 1) rows, each a uniformly random mask
 * when the bases are.
 * @param bases - B masks
 * @returns the design, base b at row b·(n + 1), its flip of player i at row b·(n + 1) + 1 + i
 */
export function radialMasks(bases: MaskBatch): MutableMaskBatch {
  const { n, words } = bases;
  const design = createMasks(n, bases.count * (n + 1));
  for (let b = 0; b < bases.count; b++) {
    const base = bases.bits.subarray(b * words, (b + 1) * words);
    for (let k = 0; k <= n; k++) {
      const row = (b * (n + 1) + k) * words;
      design.bits.set(base, row);
      if (k > 0) design.bits[row + ((k - 1) >>> 5)] ^= 1 << ((k - 1) & 31);
    }
  }
  return design;
}

/** How a radial design and its cube are sized (adaptive.ts, CUBE_SIZING). */
export interface CubeSizing {
  /** Most and least base masks of a design (none below the least). */
  readonly maxBases: number;
  readonly minBases: number;
  /** Most share of the evaluations available that the design may take. */
  readonly designShare: number;
  /** Most share of what is left after the design that the cube may take. */
  readonly cubeShare: number;
  /** Most players of a cube. */
  readonly maxPlayers: number;
  /** The share of the summed total effects that is enough (cubePlayers). */
  readonly cover: number;
  /** The least share of it the cube's players must hold (cubePlayers). */
  readonly mass: number;
}

/**
 * The most players a cube may hold: at most n, maxOrder and sizing.maxPlayers, and 2^k within cubeShare of the
 * evaluations.
 * @param n - players
 * @param maxOrder - d (the cube's terms are all of its orders)
 * @param evaluations - what is left for the cube
 * @param sizing - the shares and caps
 * @returns k ≥ 0
 */
export function cubeDimension(n: number, maxOrder: number, evaluations: number, sizing: CubeSizing): number {
  return Math.max(0, Math.min(n, maxOrder, sizing.maxPlayers, Math.floor(Math.log2(Math.max(1, sizing.cubeShare * evaluations)))));
}

/**
 * The bases of a radial design: at most maxBases, within designShare of the evaluations available and at most what
 * the largest cube it may lead to costs (a cube capped at a low maxOrder on many players is not worth measuring); 0
 * when that is fewer than minBases.
 * @param n - players
 * @param maxOrder - d
 * @param available - evaluations for the design and the cube
 * @param sizing - the shares and caps
 * @returns B (the design is B·(n + 1) masks), or 0
 */
export function radialBases(n: number, maxOrder: number, available: number, sizing: CubeSizing): number {
  const bases = Math.min(sizing.maxBases, Math.floor(Math.min(sizing.designShare * available, 2 ** cubeDimension(n, maxOrder, available, sizing)) / (n + 1)));
  return bases >= sizing.minBases ? bases : 0;
}

/**
 * Each player's total effect from the radial design's values: the mean of (v(base) − v(base with i flipped))².
 * @param values - v on radialMasks(bases), in its order
 * @param n - players
 * @returns n non-negative effects
 */
export function totalEffects(values: Float64Array, n: number): Float64Array {
  const bases = values.length / (n + 1);
  const effects = new Float64Array(n);
  for (let b = 0; b < bases; b++) {
    const base = values[b * (n + 1)];
    for (let i = 0; i < n; i++) effects[i] += (values[b * (n + 1) + 1 + i] - base) ** 2 / bases;
  }
  return effects;
}

/**
 * The players of the cube: the fewest strongest by total effect that hold `cover` of all of it (none without effect),
 * at most `most`, ascending; undefined when they hold less than `mass` of it (the cube would leave most of v to the
 * fits) or there are none.
 * @param effects - totalEffects
 * @param most - the cube's largest dimension
 * @param shares - cover: the share of the summed effects that is enough; mass: the least share they must hold
 * @returns the players, ascending, or undefined
 */
export function cubePlayers(effects: Float64Array, most: number, shares: Pick<CubeSizing, 'cover' | 'mass'>): Int32Array | undefined {
  const ranked = Array.from(effects.keys()).filter((i) => effects[i] > 0).sort((a, b) => effects[b] - effects[a] || a - b);
  let total = 0;
  for (const effect of effects) total += effect;
  const players: number[] = [];
  let held = 0;
  for (const i of ranked) {
    if (players.length >= most || held >= shares.cover * total) break;
    players.push(i);
    held += effects[i];
  }
  return players.length > 0 && held >= shares.mass * total ? Int32Array.from(players).sort() : undefined;
}

/**
 * Every subset of the players, the others absent: row s holds players[j] for each bit j of s.
 * @param players - K, ascending
 * @param n - all players
 * @returns 2^|K| masks
 */
export function cubeMasks(players: Int32Array, n: number): MutableMaskBatch {
  const masks = createMasks(n, 2 ** players.length);
  for (let s = 0; s < masks.count; s++) {
    for (let j = 0; j < players.length; j++) if ((s >>> j) & 1) masks.bits[s * masks.words + (players[j] >>> 5)] |= 1 << (players[j] & 31);
  }
  return masks;
}

/**
 * r(T) = v(T) − v(T ∩ K) on each row of a fit set.
 * @param cube - K and v on its masks
 * @param set - masks and v there
 * @returns the same masks, the residual values
 */
export function cubeResiduals(cube: Cube, set: FitSet): FitSet {
  const { masks, values } = set;
  const residual = new Float64Array(masks.count);
  for (let r = 0; r < masks.count; r++) {
    let s = 0;
    for (let j = 0; j < cube.players.length; j++) s |= ((masks.bits[r * masks.words + (cube.players[j] >>> 5)] >>> (cube.players[j] & 31)) & 1) << j;
    residual[r] = values[r] - cube.values[s];
  }
  return { masks, values: residual };
}

/**
 * The share of v's variance on a set of masks that v(T ∩ K), read off the cube, explains.
 * @param cube - K and v on its masks
 * @param set - masks and v there
 * @returns the R² of v(T ∩ K) against v(T)
 */
export function cubeR2(cube: Cube, set: FitSet): number {
  const residual = cubeResiduals(cube, set).values;
  return rSquared(set.values, set.values.map((value, r) => value - residual[r]));
}

/**
 * Whether a support lies inside the cube's players.
 * @param cube - K
 * @param players - the support, ascending
 * @returns S ⊆ K
 */
export function insideCube(cube: Cube, players: ArrayLike<number>): boolean {
  let j = 0;
  for (let k = 0; k < players.length; k++) {
    while (j < cube.players.length && cube.players[j] < players[k]) j++;
    if (j === cube.players.length || cube.players[j] !== players[k]) return false;
  }
  return true;
}

/**
 * The cube's exact Möbius coefficients (its fast Möbius transform), every support inside K, zeros left out.
 * @param cube - K and v on its masks
 * @returns flat terms, in subset order
 */
export function cubeTerms(cube: Cube): FlatTerms {
  const m = Float64Array.from(cube.values);
  mobiusInPlace(m, cube.players.length);
  let count = 0;
  let size = 0;
  for (let s = 0; s < m.length; s++) {
    if (m[s] === 0 && s !== 0) continue;
    count++;
    size += popcount32(s);
  }
  const terms: FlatTerms = { offsets: new Int32Array(count + 1), flat: new Int32Array(size), values: new Float64Array(count) };
  let t = 0;
  for (let s = 0; s < m.length; s++) {
    if (m[s] === 0 && s !== 0) continue;
    let at = terms.offsets[t];
    for (let j = 0; j < cube.players.length; j++) if ((s >>> j) & 1) terms.flat[at++] = cube.players[j];
    terms.offsets[t + 1] = at;
    terms.values[t++] = m[s];
  }
  return terms;
}
