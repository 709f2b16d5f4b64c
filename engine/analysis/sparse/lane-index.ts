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

/**
 * Fenwick trees over need 0..n (indices 1..n+1), Σ m and the term count, allocated once per lane slot: the base
 * trees hold the slot's record (every placed term at its need with R empty) from round to round; the lane's trees hold
 * what its R changes, and are emptied when the lane ends. A prediction adds both.
 */
export interface NeedTrees {
  readonly sum: Float64Array;
  readonly count: Int32Array;
  readonly laneSum: Float64Array;
  readonly laneCount: Int32Array;
}

/**
 * Allocates zeroed trees.
 * @param n - players
 * @returns the trees
 */
export function needTrees(n: number): NeedTrees {
  return { sum: new Float64Array(n + 2), count: new Int32Array(n + 2), laneSum: new Float64Array(n + 2), laneCount: new Int32Array(n + 2) };
}

/** A term some of whose players are not placed yet: no prefix the lane has drawn holds it. */
const UNPLACED = -1;

/**
 * What a slot's order has placed of each known term, kept from round to round while the order lasts (its epoch): the
 * players of the term not placed yet, and its need with R empty (1 + the largest position of its players, or
 * UNPLACED). An order only grows, so a term's need is set once, when its last player is placed. The slot's base trees
 * hold these needs with the values of the store's revision; a round then enters only the terms new since the last
 * (all of them again when a value changed, or for a fresh order).
 */
export interface PlacedTerms {
  missing: Int32Array;
  need: Int32Array;
  /** Where touched[t] = lane: term t's need with the lane's R (else it is need[t]). */
  laneNeed: Int32Array;
  touched: Int32Array;
  /** Where inR[i] = lane: player i is in the lane's R (an array of n, allocated by the first lane). */
  inR: Int32Array;
  /** Bumped for each lane, so that the previous lane's touched terms are forgotten without clearing them. */
  lane: number;
  /** Terms 0..known−1 are counted for this epoch, and in the base trees with the values of this revision. */
  known: number;
  epoch: number;
  revision: number;
}

/**
 * An empty record (no term counted).
 * @returns the record
 */
export function placedTerms(): PlacedTerms {
  return { missing: new Int32Array(64), need: new Int32Array(64), laneNeed: new Int32Array(64), touched: new Int32Array(64), inR: new Int32Array(0), lane: 0, known: 0, epoch: -1, revision: -1 };
}

/**
 * The known terms of one lane by need: need(S) = 1 + the largest position of a player of S∖R (0 when S ⊆ R), or
 * UNPLACED while a player of S∖R has no position yet.
 */
export class LaneIndex {
  /**
   * Brings the slot's base trees up to the known terms, O(new terms · log n) (O(terms + n) after a fresh order or a
   * changed value: the linear build), and starts the lane with R (usually empty; then no term is touched).
   * @param trees - the slot's trees; the lane's are zero (a fresh slot, or cleared by the previous lane)
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
    const fresh = placed.epoch !== placement.epoch;
    if (fresh) {
      placed.epoch = placement.epoch;
      placed.known = 0;
    }
    if (placed.need.length < count) {
      const size = Math.max(count, 2 * placed.need.length);
      const grown = (old: Int32Array) => {
        const array = new Int32Array(size);
        array.set(old.subarray(0, placed.known));
        return array;
      };
      placed.missing = grown(placed.missing);
      placed.need = grown(placed.need);
      placed.laneNeed = new Int32Array(size);
      placed.touched = new Int32Array(size);
    }
    placed.lane++;
    if (placed.inR.length < placement.position.length) placed.inR = new Int32Array(placement.position.length);
    for (const player of required) placed.inR[player] = placed.lane;
    const first = placed.known;
    for (let t = first; t < count; t++) this.countTerm(t);
    placed.known = count;
    if (fresh || placed.revision !== view.revision) this.build();
    else for (let t = first; t < count; t++) if (placed.need[t] !== UNPLACED) add(trees.sum, trees.count, placed.need[t], view.values[t], 1);
    placed.revision = view.revision;
    // R's players take their terms' needs down (a lane starts with R empty: not reached in the search)
    if (required.length > 0) for (let t = 0; t < count; t++) this.update(t);
  }

  /** byPlayer.start: player i is held by a known term when holders[i + 1] ≠ holders[i]. */
  get holders(): Int32Array {
    return this.byPlayer.start;
  }

  /**
   * Updates the terms holding a player just placed in the order (at position[player]): the slot's record counts one
   * player less missing, and a term whose last player this is gets its need, in the base trees. With R non-empty the
   * lane's need of each such term is recounted.
   * @param player - the player
   */
  place(player: number): void {
    const { placed, byPlayer, trees } = this;
    const { values } = this.view;
    for (let k = byPlayer.start[player]; k < byPlayer.start[player + 1]; k++) {
      const t = byPlayer.terms[k];
      if (--placed.missing[t] === 0) {
        const need = this.placement.position[player] + 1;
        placed.need[t] = need;
        // untouched until now: with a player unplaced its need is UNPLACED whatever R holds (R's players are placed)
        add(trees.sum, trees.count, need, values[t], 1);
      }
      if (this.required.length > 0) this.update(t);
    }
  }

  /**
   * Updates the terms holding a player just added to R.
   * @param player - the player
   */
  touch(player: number): void {
    this.placed.inR[player] = this.placed.lane;
    for (let k = this.byPlayer.start[player]; k < this.byPlayer.start[player + 1]; k++) this.update(this.byPlayer.terms[k]);
  }

  /**
   * The known terms inside R ∪ order[0..k).
   * @param k - prefix length, 0..n (only placed positions)
   * @param out - receives the sum and the count
   */
  predict(k: number, out: Prediction): void {
    const { sum, count, laneSum, laneCount } = this.trees;
    let total = 0;
    let terms = 0;
    for (let i = k + 1; i > 0; i -= i & -i) {
      total += sum[i] + laneSum[i];
      terms += count[i] + laneCount[i];
    }
    out.sum = total;
    out.count = terms;
  }

  /**
   * Empties the lane's trees for the slot's next lane, O(n) (exact: no round-off left over from taking terms out);
   * the base trees stay. The index is done with: a new round builds a new one.
   */
  clear(): void {
    this.trees.laneSum.fill(0);
    this.trees.laneCount.fill(0);
  }

  /** The base trees from the record, O(terms + n): each need's total at its own node, then every node's total added
   *  to its parent's in ascending order (a Fenwick tree's linear construction). */
  private build(): void {
    const { sum, count } = this.trees;
    sum.fill(0);
    count.fill(0);
    const { need: needs } = this.placed;
    const { values } = this.view;
    for (let t = 0; t < this.view.count; t++) {
      const need = needs[t];
      if (need === UNPLACED) continue;
      sum[need + 1] += values[t];
      count[need + 1]++;
    }
    for (let i = 1; i < sum.length; i++) {
      const parent = i + (i & -i);
      if (parent < sum.length) {
        sum[parent] += sum[i];
        count[parent] += count[i];
      }
    }
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

  /** Term t's need with the lane's R, recounted; the lane's trees move it from its last need (with R, or the base's). */
  private update(t: number): void {
    const { view, placement, placed, trees } = this;
    const { inR, lane } = placed;
    let need = 0;
    for (let j = view.offsets[t]; j < view.offsets[t + 1]; j++) {
      const i = view.flat[j];
      if (inR[i] === lane) continue;
      if (placement.stamp[i] !== placement.epoch) {
        need = UNPLACED;
        break;
      }
      need = Math.max(need, placement.position[i] + 1);
    }
    const was = placed.touched[t] === lane ? placed.laneNeed[t] : placed.need[t];
    if (need === was) return;
    if (was !== UNPLACED) add(trees.laneSum, trees.laneCount, was, -view.values[t], -1);
    if (need !== UNPLACED) add(trees.laneSum, trees.laneCount, need, view.values[t], 1);
    placed.touched[t] = lane;
    placed.laneNeed[t] = need;
  }
}

/** Adds a term (value, count) at a need to Fenwick trees. */
function add(sum: Float64Array, counts: Int32Array, need: number, value: number, count: number): void {
  for (let i = need + 1; i < sum.length; i += i & -i) {
    sum[i] += value;
    counts[i] += count;
  }
}
