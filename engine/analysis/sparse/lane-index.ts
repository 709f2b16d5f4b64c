// Fast residual prediction for one search lane: Σ m(S) over the known terms S ⊆ R ∪ order[0..k), for any k, in
// O(log n). Each term's "need" (the prefix length that first holds S∖R) sits in Fenwick trees over 0..n, so a
// query is a prefix sum; placing a player in the order or adding it to R updates only the terms that hold it.
// see: Fenwick, "A new data structure for cumulative frequency tables", Softw. Pract. Exper. 24(3), 1994.
import type { TermView } from './terms.js';

/** Terms by player, in compressed rows: the terms holding player i are terms[start[i] .. start[i+1]). */
export interface TermsByPlayer {
  readonly start: Int32Array;
  readonly terms: Int32Array;
}

/**
 * Indexes a term view by player.
 * @param view - the known terms
 * @param n - players
 * @returns the index
 */
export function termsByPlayer(view: TermView, n: number): TermsByPlayer {
  const start = new Int32Array(n + 1);
  const used = view.offsets[view.count];
  for (let k = 0; k < used; k++) start[view.flat[k] + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const fill = start.slice(0, n);
  const terms = new Int32Array(used);
  for (let t = 0; t < view.count; t++) for (let k = view.offsets[t]; k < view.offsets[t + 1]; k++) terms[fill[view.flat[k]]++] = t;
  return { start, terms };
}

/** What a prediction returns: Σ m(S) and how many terms. */
export interface Prediction {
  sum: number;
  count: number;
}

/** Where a lane's order has placed each player: position[i] is valid when stamp[i] = epoch. */
export interface Placement {
  readonly position: Int32Array;
  readonly stamp: Int32Array;
  readonly epoch: number;
  /** How many players are placed. */
  readonly placed: number;
}

/** Fenwick trees over need 0..n (indices 1..n+1): Σ m and the term count. Allocated once per lane slot. */
export interface NeedTrees {
  readonly sum: Float64Array;
  readonly count: Int32Array;
}

/**
 * Allocates zeroed trees.
 * @param n - players
 * @returns the trees
 */
export function needTrees(n: number): NeedTrees {
  return { sum: new Float64Array(n + 2), count: new Int32Array(n + 2) };
}

/** A term some of whose players are not placed yet: no prefix the lane has drawn holds it. */
const UNPLACED = -1;

/**
 * What a slot's order has placed of each known term, kept from round to round while the order lasts (its epoch): the
 * players of the term not placed yet, and its need with R empty (1 + the largest position of its players, or
 * UNPLACED). An order only grows, so a term's need is set once, when its last player is placed; a round's index then
 * starts from these needs instead of looking at every player of every term.
 */
export interface PlacedTerms {
  missing: Int32Array;
  need: Int32Array;
  /** The lane's own needs (with its R), rewritten by each lane: reused, as allocating a typed array of a few hundred
   *  entries costs microseconds. */
  lane: Int32Array;
  /** Terms 0..known−1 are counted for this epoch. */
  known: number;
  epoch: number;
}

/**
 * An empty record (no term counted).
 * @returns the record
 */
export function placedTerms(): PlacedTerms {
  return { missing: new Int32Array(64), need: new Int32Array(64), lane: new Int32Array(64), known: 0, epoch: -1 };
}

/**
 * The known terms of one lane by need: need(S) = 1 + the largest position of a player of S∖R (0 when S ⊆ R), or
 * UNPLACED while a player of S∖R has no position yet.
 */
export class LaneIndex {
  private readonly need: Int32Array;

  /**
   * Enters the known terms into the (empty) trees, O(terms + n): their needs with R empty come from the slot's
   * record (counted for the terms new since its last round), R's players are then taken out.
   * @param trees - the slot's trees, all zero (a fresh slot, or cleared by the previous lane)
   * @param placement - the lane's placed players
   * @param view - the known terms (frozen for the round)
   * @param byPlayer - the same terms by player
   * @param required - R (usually empty)
   * @param placed - the slot's record of its placed terms
   */
  constructor(
    private readonly trees: NeedTrees,
    private readonly placement: Placement,
    private readonly view: TermView,
    private readonly byPlayer: TermsByPlayer,
    private readonly required: readonly number[],
    private readonly placed: PlacedTerms,
  ) {
    const { count } = view;
    if (placed.epoch !== placement.epoch) {
      placed.epoch = placement.epoch;
      placed.known = 0;
    }
    if (placed.need.length < count) {
      const size = Math.max(count, 2 * placed.need.length);
      const missing = new Int32Array(size);
      missing.set(placed.missing.subarray(0, placed.known));
      const need = new Int32Array(size);
      need.set(placed.need.subarray(0, placed.known));
      placed.missing = missing;
      placed.need = need;
      placed.lane = new Int32Array(size);
    }
    for (let t = placed.known; t < count; t++) this.countTerm(t);
    placed.known = count;
    this.need = placed.lane;
    // the trees built in O(terms + n): each need's total at its own node, then every node's total added to its
    // parent's, in ascending order (a Fenwick tree's linear construction), instead of O(log n) adds per term
    const { sum } = trees;
    const counts = trees.count;
    const { need: needs, lane } = placed;
    const { values } = view;
    for (let t = 0; t < count; t++) {
      const need = needs[t];
      lane[t] = need;
      if (need === UNPLACED) continue;
      sum[need + 1] += values[t];
      counts[need + 1]++;
    }
    for (let i = 1; i < sum.length; i++) {
      const parent = i + (i & -i);
      if (parent < sum.length) {
        sum[parent] += sum[i];
        counts[parent] += counts[i];
      }
    }
    // R's players take their terms' needs down (a lane starts with R empty: not reached in the search)
    if (required.length > 0) for (let t = 0; t < count; t++) this.update(t);
  }

  /** byPlayer.start: player i is held by a known term when holders[i + 1] ≠ holders[i]. */
  get holders(): Int32Array {
    return this.byPlayer.start;
  }

  /**
   * Updates the terms holding a player just placed in the order (at position[player]): the slot's record counts one
   * player less missing, and a term whose last player this is gets its need. A lane places players only while R is
   * empty (its bisection stays inside the drawn prefix once R has a player); otherwise the terms are recounted.
   * @param player - the player
   */
  place(player: number): void {
    const { placed, byPlayer } = this;
    for (let k = byPlayer.start[player]; k < byPlayer.start[player + 1]; k++) {
      const t = byPlayer.terms[k];
      if (--placed.missing[t] === 0) placed.need[t] = this.placement.position[player] + 1;
      if (this.required.length > 0) this.update(t);
      else if (placed.missing[t] === 0) {
        this.need[t] = placed.need[t];
        this.add(placed.need[t], this.view.values[t], 1);
      }
    }
  }

  /**
   * Updates the terms holding a player just added to R.
   * @param player - the player
   */
  touch(player: number): void {
    for (let k = this.byPlayer.start[player]; k < this.byPlayer.start[player + 1]; k++) this.update(this.byPlayer.terms[k]);
  }

  /**
   * The known terms inside R ∪ order[0..k).
   * @param k - prefix length, 0..n (only placed positions)
   * @param out - receives the sum and the count
   */
  predict(k: number, out: Prediction): void {
    const { sum, count } = this.trees;
    let total = 0;
    let terms = 0;
    for (let i = k + 1; i > 0; i -= i & -i) {
      total += sum[i];
      terms += count[i];
    }
    out.sum = total;
    out.count = terms;
  }

  /**
   * Empties the trees for the slot's next lane, O(n) (exact: no round-off left over from taking terms out). The
   * index is done with: a new round builds a new one.
   */
  clear(): void {
    this.trees.sum.fill(0);
    this.trees.count.fill(0);
  }

  /** The slot's record of term t, counted afresh (a fresh order places no player: nothing to look up). */
  private countTerm(t: number): void {
    const { view, placement, placed } = this;
    const order = view.offsets[t + 1] - view.offsets[t];
    let missing = placement.placed === 0 ? order : 0;
    let need = 0;
    if (placement.placed > 0) {
      for (let j = view.offsets[t]; j < view.offsets[t + 1]; j++) {
        const i = view.flat[j];
        if (placement.stamp[i] !== placement.epoch) missing++;
        else need = Math.max(need, placement.position[i] + 1);
      }
    }
    placed.missing[t] = missing;
    placed.need[t] = missing > 0 ? UNPLACED : need;
  }

  private update(t: number): void {
    const { view, placement, required } = this;
    let need = 0;
    for (let j = view.offsets[t]; j < view.offsets[t + 1]; j++) {
      const i = view.flat[j];
      if (required.includes(i)) continue;
      if (placement.stamp[i] !== placement.epoch) {
        need = UNPLACED;
        break;
      }
      need = Math.max(need, placement.position[i] + 1);
    }
    if (need === this.need[t]) return;
    if (this.need[t] !== UNPLACED) this.add(this.need[t], -view.values[t], -1);
    if (need !== UNPLACED) this.add(need, view.values[t], 1);
    this.need[t] = need;
  }

  private add(need: number, value: number, count: number): void {
    const { sum } = this.trees;
    const counts = this.trees.count;
    for (let i = need + 1; i < sum.length; i += i & -i) {
      sum[i] += value;
      counts[i] += count;
    }
  }
}
