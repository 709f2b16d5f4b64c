// The search lanes of the adaptive method: each lane bisects prefixes of its own random player order for a minimal
// mask whose residual is non-zero, i.e. one unknown Möbius term. All active lanes of a round step together, one
// game call per step. see: Erginbas, Kang, Polito, Ramchandran, arXiv 2602.06246 (FASMT), adaptive group testing.
import { LaneIndex, needTrees, placedTerms, termsByPlayer, type NeedTrees, type PlacedTerms, type Prediction } from './lane-index.js';
import { mobiusInPlace } from './exact.js';
import { addPlayers, createMasks, wordsFor, type MutableMaskBatch } from './masks.js';
import type { Rng } from './random.js';
import type { TermStore } from './terms.js';

/** How a lane stands. */
const enum Phase {
  /** Test the start prefix. */
  Start,
  /** Test the required players alone. */
  Check,
  /** Bisect the prefix length. */
  Bisect,
  Done,
}

/**
 * What a lane keeps between rounds: its random player order (kept while the lane finds new terms, redrawn after a
 * round without one) and arrays allocated once per run. The order is drawn lazily (Fisher–Yates, one position at
 * a time) only as far as the lane's queries reach, so a lane that finds its term early costs less than n draws.
 */
export interface LaneSlot {
  /** order[0..placed) is drawn; order[placed..n) holds the players still to draw, in no particular order. */
  readonly order: Int32Array;
  /** position[i] is player i's place in the order, valid where stamp[i] = epoch. */
  readonly position: Int32Array;
  readonly stamp: Int32Array;
  placed: number;
  /** Bumped at each fresh order, so that old positions become invalid without clearing them. */
  epoch: number;
  readonly trees: NeedTrees;
  /** What the order has placed of each known term (lane-index.ts). */
  readonly placedTerms: PlacedTerms;
  /** The mask of order[0..prefixLength): moved by toggling players as the queried prefix moves. */
  readonly prefix: Uint32Array;
  prefixLength: number;
  /** Draw a fresh order before the next round. */
  stale: boolean;
}

/**
 * One search: the required players R, the pool = order[0..hi), with f(lo) false and f(hi) true, where f(k) means
 * "R ∪ order[0..k) holds an unknown term" (|residual| above the threshold). Each lane has its own random order:
 * lanes sharing one order find the same few terms.
 */
export interface Lane {
  readonly slot: LaneSlot;
  readonly required: number[];
  lo: number;
  hi: number;
  /** Residual measured at prefix hi. */
  residualAtHi: number;
  phase: Phase;
  /** The known terms by need, for O(log n) residuals (built when the round starts). */
  index: LaneIndex | undefined;
  /** The value of the term found (required = its support), or undefined. */
  found: number | undefined;
  /** Deterministic games: the exact values of the found support's subsets (lattice), which replace `found`. */
  exact: { readonly supports: number[][]; readonly values: number[] } | undefined;
}

/** When a residual counts as non-zero, given the value, the prediction, and how many known terms the mask holds. */
export type Threshold = (value: number, predicted: number, contained: number) => number;

/** What runLanes needs. */
export interface LaneContext {
  readonly n: number;
  readonly maxOrder: number;
  readonly store: TermStore;
  readonly evaluate: (batch: MutableMaskBatch) => Float64Array | Promise<Float64Array>;
  /** Evaluations still allowed. */
  readonly spend: () => number;
  readonly threshold: Threshold;
  /** How each new support S is checked: 'verify', a noisy game's, evaluates S∖{e} for every e ∈ S (see verify);
   *  'lattice', an exact search's (a deterministic game, no noise floor) without validation masks, every subset of S,
   *  for the exact values of all of them (see lattice); 'none' otherwise: an auto search's exact stage, whose terms
   *  validation masks check (adaptive.ts, SearchContext.lattice), and a deterministic game's search above a noise
   *  floor (a tolerance), whose found terms are refitted by least squares (with the lattice, digits-cnn at tolerance
   *  0.01 fell from R² 0.92 to 0.73). */
  readonly check: 'verify' | 'lattice' | 'none';
  /** Awaited after each step (GameOracle.pause): a synchronous game answers without a promise, and a search of
   *  thousands of players then held the thread for seconds, its abort signal's timer unheard. */
  readonly pause: () => Promise<void>;
}

/**
 * Lanes on the first count slots (created as needed; a stale slot draws a fresh random order). With residualN
 * given, every lane starts from the whole set (known to hold a term); otherwise each lane first tests a random
 * prefix of density·(55–95 %) of the players.
 * @param slots - the run's slots (grown in place)
 * @param count - lanes
 * @param n - players
 * @param rng - the stream
 * @param residualN - the residual of N when it is known to hold a term
 * @param density - share of the players a probe prefix holds (scaled by 55–95 %)
 * @returns the lanes
 */
export function createLanes(slots: LaneSlot[], count: number, n: number, rng: Rng, residualN: number | undefined, density: number | ((lane: number) => number) = 1): Lane[] {
  const lanes: Lane[] = [];
  for (let k = 0; k < count; k++) {
    if (k === slots.length) {
      const order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      const position = new Int32Array(n);
      const stamp = new Int32Array(n);
      slots.push({ order, position, stamp, placed: 0, epoch: 0, trees: needTrees(n), placedTerms: placedTerms(), prefix: new Uint32Array(wordsFor(n)), prefixLength: 0, stale: true });
    }
    const slot = slots[k];
    if (slot.stale) {
      // any arrangement of the undrawn players gives a uniform order once drawn: no reset of order needed
      slot.epoch++;
      slot.placed = 0;
      slot.prefix.fill(0);
      slot.prefixLength = 0;
      slot.stale = false;
    }
    const full = residualN !== undefined;
    const hi = full ? n : Math.max(1, Math.round(n * (typeof density === 'number' ? density : density(k)) * (0.55 + 0.4 * rng.uniform())));
    // every field set here, in one order: lanes share one hidden class, so the hot loops' property loads stay monomorphic
    lanes.push({ slot, required: [], lo: 0, hi, residualAtHi: full ? residualN : NaN, phase: full ? Phase.Bisect : Phase.Start, index: undefined, found: undefined, exact: undefined });
  }
  return lanes;
}

/**
 * Steps every lane to its end, one game call per step for all active lanes (dropping lanes past the budget). The
 * known terms are frozen for the round: a term found by one lane becomes known at the next round.
 * @param lanes - the round's lanes
 * @param rng - draws the lanes' orders
 * @param context - game, store, budget, threshold
 */
export async function runLanes(lanes: Lane[], rng: Rng, context: LaneContext): Promise<void> {
  const { n, maxOrder, store, evaluate, spend, threshold } = context;
  const view = store.view();
  const byPlayer = termsByPlayer(view, n);
  for (const lane of lanes) {
    lane.index = new LaneIndex(lane.slot.trees, lane.slot, view, byPlayer, lane.required, lane.slot.placedTerms);
    settle(lane, maxOrder, rng);
  }
  const prediction: Prediction = { sum: 0, count: 0 };
  let active = lanes.filter((lane) => lane.phase !== Phase.Done);
  while (active.length > 0 && spend() > 0) {
    if (active.length > spend()) active.length = spend();
    const batch = createMasks(n, active.length);
    for (let row = 0; row < active.length; row++) {
      const lane = active[row];
      const length = queryLength(lane);
      // a check asks about R alone: leave the prefix mask where it is, the next bisection starts near it
      if (length > 0) {
        draw(lane, length, rng);
        movePrefix(lane.slot, length);
        batch.bits.set(lane.slot.prefix, row * batch.words);
      }
      addPlayers(batch, row, lane.required);
    }
    const answer = evaluate(batch);
    // a synchronous game answers without a promise: no microtask per step
    const values = answer instanceof Float64Array ? answer : await answer;
    let kept = 0;
    for (let row = 0; row < active.length; row++) {
      const lane = active[row];
      lane.index!.predict(queryLength(lane), prediction);
      const residual = values[row] - prediction.sum;
      const positive = Math.abs(residual) > threshold(values[row], prediction.sum, prediction.count);
      advance(lane, positive, residual, maxOrder, rng);
      if (lane.phase !== Phase.Done) active[kept++] = lane;
    }
    active.length = kept;
    await context.pause();
  }
  for (const lane of lanes) lane.index!.clear();
  if (context.check === 'verify') await verify(lanes, context);
  else if (context.check === 'lattice') await lattice(lanes, context);
}

/** The largest support whose every subset a deterministic game's search evaluates (2^4 masks). */
const LATTICE_ORDER = 4;

/**
 * Deterministic games: the exact values of each new support S of 2..LATTICE_ORDER players and of all its subsets,
 * from v at every subset of S (m(T) for T ⊆ S depends on those values only). The search's proof that each player
 * of S is needed rests on masks whose residual read as zero, and unknown terms whose values cancel exactly pass for
 * none there. A complement game has such terms by construction: an AND term d·x₄x₁₇ of v is d·(1 − y₄)(1 − y₁₇) in
 * u(T) = v(N∖T), whose terms {4} (−d) and {4, 17} (+d) cancel in every mask that holds both once {17} is known; so
 * a lane could end on a set that is no term, or on a term while one of its subsets was unknown, and take the residual
 * of all of them for its value (the OR expansion of a planted game of 24 players kept {1, 4, 10}, no term of u, with
 * R² 0.76 on held-out masks; an adversarial sweep, stop 44). A lane's S is kept only where m(S) is not zero, and the
 * subsets' exact values come with it (collect). Costs at most 2^|S| evaluations per new support, fewer where the
 * game's table already holds them.
 */
async function lattice(lanes: Lane[], context: LaneContext): Promise<void> {
  const { n, evaluate, spend, threshold } = context;
  const supports = new Map<string, number[]>();
  for (const lane of lanes) {
    if (lane.found === undefined || lane.required.length < 2 || lane.required.length > LATTICE_ORDER) continue;
    const support = [...lane.required].sort((a, b) => a - b);
    supports.set(support.join(','), support);
  }
  const rows = [...supports.values()].reduce((total, support) => total + 2 ** support.length, 0);
  if (rows === 0 || rows > spend()) return;
  const batch = createMasks(n, rows);
  let row = 0;
  for (const support of supports.values()) {
    for (let subset = 0; subset < 2 ** support.length; subset++) addPlayers(batch, row++, support.filter((_, j) => (subset >>> j) & 1));
  }
  const answer = evaluate(batch);
  const values = answer instanceof Float64Array ? answer : await answer;
  const exact = new Map<string, { supports: number[][]; values: number[] }>();
  row = 0;
  for (const [key, support] of supports) {
    const k = support.length;
    const m = values.slice(row, row + 2 ** k);
    let largest = 0;
    for (const x of m) largest = Math.max(largest, Math.abs(x));
    mobiusInPlace(m, k);
    row += 2 ** k;
    const found = { supports: [] as number[][], values: [] as number[] };
    // every non-empty subset whose coefficient is not round-off (∅ is the baseline's, known)
    for (let subset = 1; subset < 2 ** k; subset++) {
      if (Math.abs(m[subset]) <= threshold(largest, 0, 2 ** k)) continue;
      found.supports.push(support.filter((_, j) => (subset >>> j) & 1));
      found.values.push(m[subset]);
    }
    exact.set(key, found);
  }
  for (const lane of lanes) {
    if (lane.found === undefined || lane.required.length < 2 || lane.required.length > LATTICE_ORDER) continue;
    lane.exact = exact.get([...lane.required].sort((a, b) => a - b).join(','));
  }
}

/**
 * Drops found supports that are not minimal. The search's proof that each player of R is needed rests on masks
 * whose residual read as zero; with noise, two unknown terms whose values nearly cancel (|m₁ + m₂| below the noise
 * threshold) can pass for no term and let a superset of the true term through. S∖{e} are small masks, where such
 * a cancellation is unlikely: a residual there means S is not a term. Costs |S| evaluations per new support.
 */
async function verify(lanes: Lane[], context: LaneContext): Promise<void> {
  const { n, store, evaluate, spend, threshold } = context;
  const supports = new Map<string, number[]>();
  for (const lane of lanes) {
    if (lane.found === undefined || lane.required.length < 2) continue;
    const support = [...lane.required].sort((a, b) => a - b);
    if (store.find(support) === undefined) supports.set(support.join(','), support);
  }
  const rows = [...supports.values()].reduce((total, support) => total + support.length, 0);
  if (rows === 0) return;
  const rejected = new Set<string>();
  if (rows <= spend()) {
    const batch = createMasks(n, rows);
    let row = 0;
    for (const support of supports.values()) for (const e of support) addPlayers(batch, row++, support.filter((i) => i !== e));
    const answer = evaluate(batch);
    const values = answer instanceof Float64Array ? answer : await answer;
    const predicted = new Float64Array(rows);
    const contained = new Int32Array(rows);
    store.predict(batch, predicted, contained);
    row = 0;
    for (const [key, support] of supports) {
      for (let k = 0; k < support.length; k++, row++) {
        if (Math.abs(values[row] - predicted[row]) > threshold(values[row], predicted[row], contained[row])) rejected.add(key);
      }
    }
  } else for (const key of supports.keys()) rejected.add(key); // no budget left to check them: keep none
  for (const lane of lanes) {
    if (lane.found !== undefined && rejected.has([...lane.required].sort((a, b) => a - b).join(','))) lane.found = undefined;
  }
}

/** Draws the lane's order up to position length (exclusive), telling the index where each new player lands. */
function draw(lane: Lane, length: number, rng: Rng): void {
  const { slot } = lane;
  if (slot.placed >= length) return;
  // hot loop: fields in locals, and the index only hears about players that some known term holds
  const { order, position, stamp, epoch } = slot;
  const index = lane.index!;
  const holders = index.holders;
  const n = order.length;
  for (let p = slot.placed; p < length; p++) {
    const j = p + rng.below(n - p);
    const player = order[j];
    order[j] = order[p];
    order[p] = player;
    position[player] = p;
    stamp[player] = epoch;
    if (holders[player + 1] !== holders[player]) index.place(player);
  }
  slot.placed = length;
}

/** What a round yielded. */
export interface RoundYield {
  /** Distinct supports unknown before the round. */
  readonly fresh: number;
  /** Lanes that found one of them (fresh plus the lanes that found the same support again). */
  readonly finders: number;
}

/**
 * Adds every found term to the store (a support found twice in a round counts once). A lane keeps its order when
 * it found a term unknown before the round (next round it finds the next term of that order); one that found
 * nothing, a term beyond maxOrder or an old term gets a fresh order: its order would lead it there again.
 * @param lanes - the finished round
 * @param store - receives the terms (a known support adds the residual to its value)
 * @returns the new supports and the lanes that found them
 */
export function collect(lanes: Lane[], store: TermStore): RoundYield {
  const before = store.size;
  let fresh = 0;
  let finders = 0;
  for (const lane of lanes) {
    if (lane.found === undefined) {
      lane.slot.stale = true;
      continue;
    }
    if (lane.exact) {
      // exact values of the support's subsets (lattice): set, whatever the store held; fresh where unknown before
      let isNew = false;
      lane.exact.supports.forEach((players, k) => {
        const support = Int32Array.from(players).sort();
        const known = store.find(support);
        if (known === undefined) {
          store.add(support, lane.exact!.values[k]);
          fresh++;
          isNew = true;
        } else {
          if (known >= before) isNew = true;
          store.setValue(known, lane.exact!.values[k]);
        }
      });
      lane.slot.stale = !isNew;
      if (isNew) finders++;
      continue;
    }
    const support = Int32Array.from(lane.required).sort();
    const known = store.find(support);
    const isNew = known === undefined || known >= before;
    lane.slot.stale = !isNew;
    if (isNew) finders++;
    // the first lane to find a support this round sets its value; the others measured the same residual
    if (known === undefined) {
      store.add(support, lane.found);
      fresh++;
    } else if (!isNew) store.add(support, lane.found);
  }
  return { fresh, finders };
}

/** Moves a slot's prefix mask to order[0..length), toggling only the players in between. */
function movePrefix(slot: LaneSlot, length: number): void {
  const { order, prefix } = slot;
  const from = Math.min(length, slot.prefixLength);
  const to = Math.max(length, slot.prefixLength);
  for (let k = from; k < to; k++) prefix[order[k] >>> 5] ^= 1 << (order[k] & 31);
  slot.prefixLength = length;
}

/** The prefix length a lane asks about next. */
function queryLength(lane: Lane): number {
  if (lane.phase === Phase.Start) return lane.hi;
  if (lane.phase === Phase.Check) return 0;
  return (lane.lo + lane.hi) >>> 1;
}

/** Takes one answer: positive = the queried mask holds an unknown term. */
function advance(lane: Lane, positive: boolean, residual: number, maxOrder: number, rng: Rng): void {
  switch (lane.phase) {
    case Phase.Start:
      if (!positive) {
        lane.phase = Phase.Done;
        return;
      }
      lane.residualAtHi = residual;
      lane.phase = Phase.Bisect;
      break;
    case Phase.Check:
      if (positive) {
        lane.found = residual;
        lane.phase = Phase.Done;
        return;
      }
      lane.phase = Phase.Bisect;
      break;
    case Phase.Bisect: {
      const mid = (lane.lo + lane.hi) >>> 1;
      if (positive) {
        lane.hi = mid;
        lane.residualAtHi = residual;
      } else lane.lo = mid;
      break;
    }
    case Phase.Done:
      return;
  }
  settle(lane, maxOrder, rng);
}

/**
 * When the bisection has closed (hi = lo + 1), order[hi−1] is required: every term in R ∪ order[0..hi) holds it.
 * The pool shrinks to order[0..hi−1); an empty pool means R itself is the term, with the residual measured at hi.
 * Each player e added leaves R∖{e} inside a mask already seen to hold no term, so the final R is a minimal set
 * holding a term: the term itself (FASMT's group-testing argument).
 */
function settle(lane: Lane, maxOrder: number, rng: Rng): void {
  while (lane.phase === Phase.Bisect && lane.hi - lane.lo === 1) {
    draw(lane, lane.hi, rng);
    const player = lane.slot.order[lane.hi - 1];
    lane.required.push(player);
    lane.index!.touch(player);
    if (lane.required.length > maxOrder) {
      lane.phase = Phase.Done; // the term found here is beyond maxOrder
      return;
    }
    const pool = lane.hi - 1;
    if (pool === 0) {
      lane.found = lane.residualAtHi;
      lane.phase = Phase.Done;
      return;
    }
    lane.lo = 0;
    lane.hi = pool;
    lane.phase = Phase.Check;
  }
}
