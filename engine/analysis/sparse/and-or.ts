// Both expansions of one game from one budget: the AND terms (sparseMobius on v) and the OR terms (sparseOr, through
// the complement game), recovered side by side, sharing the budget, the count of evaluations, and v(∅) and v(N) as
// evaluated. A table serves masks already evaluated (or being evaluated), so a deterministic game evaluates each mask
// once for both expansions (on the exact path, each of the 2^n masks).
import { CancelledError, InvalidOptionError } from '../../contracts/errors.js';
import type { KernelHost } from '../../contracts/kernels.js';
import { watchProgress } from '../../inputs/validate.js';
import { MAX_EXACT_PLAYERS, minimumBudget } from './budget.js';
import { createMasks } from './masks.js';
import { MaskMemo } from './memo.js';
import { checkAnswer, isThenable, untilCancelled, wrapGameError } from './oracle.js';
import { sparseMobius, sparseOr } from './recover.js';
import { SharedDraws } from './shared.js';
import type { GameFunction, MaskBatch, RandomFitter, SparseExpansion } from './types.js';

/** Options of recoverAndOr. */
export interface AndOrOptions {
  /** Most evaluations of the game, both expansions and their held-out masks together. */
  readonly budget: number;
  readonly maxOrder: number;
  readonly seed?: number;
  /** Noise floor of method 'adaptive', relative to |v(N) − v(∅)| (SparseOptions.tolerance). */
  readonly tolerance?: number;
  /** The compiled kernels, for the auto search's low-order completion (SparseOptions.kernels). */
  readonly kernels?: KernelHost;
  /** Where the auto search's fits on random masks run (SparseOptions.fitRandom). */
  readonly fitRandom?: RandomFitter;
  readonly signal?: AbortSignal;
  /** Distinct evaluations done / planned (the budget, or 2^n on the exact path). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Both expansions of a game. */
export interface AndOrExpansion {
  readonly n: number;
  /** 'exact' when the budget covered all 2^n masks (each evaluated once), else 'adaptive'. */
  readonly recovery: 'exact' | 'adaptive';
  readonly budget: number;
  /** Distinct game evaluations. */
  readonly evaluations: number;
  /** Möbius terms of v up to maxOrder, strongest first, ∅ included. */
  readonly and: SparseExpansion;
  /** OR terms (sparseOr), strongest first, ∅ included. */
  readonly or: SparseExpansion;
  /** v(∅) and v(N) as evaluated. */
  readonly values: { readonly empty: number; readonly full: number };
  /** Milliseconds spent inside the game. */
  readonly gameMs: number;
}

/**
 * The least budget of recoverAndOr: twice the least of one adaptive expansion (each gets half), or 2^n for n ≤ 20
 * when that is less (every mask evaluated once serves both).
 * @param n - players
 * @param maxOrder - d
 * @returns evaluations
 * @throws InvalidOptionError as minimumBudget
 */
export function leastAndOrBudget(n: number, maxOrder: number): number {
  return Math.min(n <= MAX_EXACT_PLAYERS ? 2 ** n : Infinity, 2 * minimumBudget(n, maxOrder));
}

/** Counts distinct evaluations, remembers v(∅) and v(N), and serves masks it has seen, or is evaluating for the
 *  other expansion right now, from a table: for a deterministic game, each mask reaches the game once (the AND and OR
 *  searches meet the same masks, and a staged search retraces its lanes). The first masks asked twice in one call
 *  are evaluated twice (that is how a method measures noise: v(∅) and v(N) repeated); when the two differ the game
 *  is noisy, and from then on every call goes to the game. Masks have slots: for n ≤ 20 the mask's own number, above
 *  that one given in order of first ask (memo.ts). What reaches the game from the two expansions at once goes as one
 *  call (evaluate). */
class CountingGame {
  used = 0;
  gameMs = 0;
  empty: number | undefined;
  full: number | undefined;
  /** Value per slot. */
  private table: Float64Array;
  /** Per slot, 0: not asked yet; 1: in the table; 2: being evaluated (its call is in `pending`). */
  private state: Uint8Array;
  private readonly pending = new Map<number, Promise<unknown>>();
  /** n > 20: the slot of each mask asked so far. */
  private readonly slots: MaskMemo | undefined;
  /** The game answered one mask with two values: nothing is served from the table any more. */
  private noisy = false;
  /** Whether the table serves masks asked again (false once the game turned out noisy). */
  get remembers(): boolean {
    return !this.noisy;
  }
  /** A mask asked twice in one call has reached the game twice once (the noise probe): later repeats in a call are
   *  served once, so that the count of evaluations does not depend on how the two expansions' calls interleave. */
  private probed = false;

  constructor(
    private readonly game: GameFunction,
    private readonly n: number,
    private readonly progress: (done: number) => void,
  ) {
    const size = n <= MAX_EXACT_PLAYERS ? 2 ** n : 1024;
    this.table = new Float64Array(size);
    this.state = new Uint8Array(size);
    if (n > MAX_EXACT_PLAYERS) this.slots = new MaskMemo(n);
  }

  /** The game as the sparse engine calls it (both expansions may call it at once). The caller's game gets masks of
   *  its own (the table's batch, or a copy): one that writes into them cannot change the method's. */
  readonly call: GameFunction = (masks, signal) => (this.noisy ? this.evaluate(copyMasks(masks), signal) : this.callTable(masks, signal));

  /** Game calls in flight, and since when one has been (gameMs is the wall time with at least one in flight). */
  private inFlight = 0;
  private busySince = 0;
  /** A call failed (not by the cancellation): that ends the run, and no later call reaches the game. */
  private failed = false;

  /** Expansions still running: a call waits for theirs (joined) until each has asked, or the event loop's next
   *  turn. */
  private running = 2;
  /** Calls waiting to be joined into one game call. */
  private gathered: Gathered[] = [];
  /** The turn at whose start the gathered calls go to the game (setImmediate), if one is set. */
  private turn: ReturnType<typeof setImmediate> | undefined;

  /** An expansion has ended: it asks nothing more, and the other's calls no longer wait for it. */
  sideDone(): void {
    this.running--;
    if (this.gathered.length > 0 && this.gathered.length >= this.running) this.flush();
  }

  /**
   * A game call of the masks that reach the game, joined with the other expansion's: the two searches take steps in
   * turn, each a small call, and each call is a round trip (a pool task, a remote game's request), so a call waits
   * until every running expansion has asked or until the event loop's next turn (one that waits for something else,
   * a fit in a worker, is not waited for), and the calls go to the game as one batch.
   */
  private evaluate(masks: MaskBatch, signal: AbortSignal | undefined): Promise<Float64Array> {
    return new Promise<Float64Array>((resolve, reject) => {
      this.gathered.push({ masks, signal, resolve, reject });
      if (this.gathered.length >= this.running) this.flush();
      else this.turn ??= setImmediate(() => this.flush());
    });
  }

  /** Sends the gathered calls to the game, one call per signal (both expansions share the run's). */
  private flush(): void {
    if (this.turn !== undefined) clearImmediate(this.turn);
    this.turn = undefined;
    const parts = this.gathered;
    this.gathered = [];
    for (const signal of new Set(parts.map((part) => part.signal))) {
      const joined = parts.filter((part) => part.signal === signal);
      const masks = joined.length === 1 ? joined[0].masks : joinMasks(joined.map((part) => part.masks));
      this.callGame(masks, signal).then(
        (values) => {
          let offset = 0;
          for (const part of joined) {
            part.resolve(joined.length === 1 ? values : values.slice(offset, offset + part.masks.count));
            offset += part.masks.count;
          }
        },
        (error: unknown) => joined.forEach((part) => part.reject(error)),
      );
    }
  }

  private async callGame(masks: MaskBatch, signal: AbortSignal | undefined): Promise<Float64Array> {
    // no game call once the run is cancelled (a call that failed by the cancellation would be asked again)
    if (signal?.aborted) throw new CancelledError('The sparse recovery was cancelled.', { cause: signal.reason });
    // nor once a call has failed: the other expansion, not stopped yet, would ask the game again (the same masks, when
    // it waited for that call's: a joint draw's, past the budget); that call's failure is the one said
    if (this.failed) throw new CancelledError('The sparse recovery was stopped: another game call failed.');
    // before the call: the rows of ∅ and N, whatever the game does with the masks
    const ends = this.endRows(masks);
    if (this.inFlight++ === 0) this.busySince = performance.now();
    try {
      // a synchronous answer is checked (copied) at once: a game may reuse one output buffer across calls, and the
      // other expansion's next call would overwrite it before an await resumed here; a promise's answer is copied
      // as soon as it settles
      const answer = this.game(masks, signal);
      const values = isThenable(answer)
        ? await untilCancelled(Promise.resolve(answer).then((settled) => checkAnswer(settled, masks)), signal)
        : checkAnswer(answer, masks);
      this.used += masks.count;
      this.progress(this.used);
      if (ends.empty >= 0) this.empty = values[ends.empty];
      if (ends.full >= 0) this.full = values[ends.full];
      return values;
    } catch (error) {
      if (!signal?.aborted && !(error instanceof CancelledError)) this.failed = true;
      // the game's own failure names the masks it was given, not the method's batch they came from
      throw wrapGameError(error, masks, signal);
    } finally {
      if (--this.inFlight === 0) this.gameMs += performance.now() - this.busySince;
    }
  }

  /** The last rows of ∅ and of N in a batch (−1: none). */
  private endRows(masks: MaskBatch): { empty: number; full: number } {
    const { words, bits } = masks;
    const last = this.n % 32 === 0 ? 0xffffffff : ((1 << this.n % 32) - 1) >>> 0;
    const ends = { empty: -1, full: -1 };
    for (let r = 0; r < masks.count; r++) {
      let none = true;
      let all = true;
      for (let w = 0; w < words; w++) {
        const word = bits[r * words + w];
        if (word !== 0) none = false;
        if (word !== (w === words - 1 ? last : 0xffffffff)) all = false;
      }
      if (none) ends.empty = r;
      if (all) ends.full = r;
    }
    return ends;
  }

  /** The slot of row r (n > 20: a new one the first time its mask is asked). */
  private slotOf(masks: MaskBatch, r: number): number {
    if (!this.slots) return this.n === 0 ? 0 : masks.bits[r * masks.words];
    const next = this.slots.size;
    const slot = this.slots.getOrSet(masks.bits, r * masks.words, next);
    if (slot === this.table.length) {
      const table = new Float64Array(2 * slot);
      table.set(this.table);
      this.table = table;
      const state = new Uint8Array(2 * slot);
      state.set(this.state);
      this.state = state;
    }
    return slot;
  }

  /** Only masks neither known nor being evaluated go to the game, once each (twice when asked twice in this call). */
  private async callTable(masks: MaskBatch, signal: AbortSignal | undefined): Promise<Float64Array> {
    const slot = new Int32Array(masks.count);
    for (let r = 0; r < masks.count; r++) slot[r] = this.slotOf(masks, r);
    const { state } = this;
    /** Rows of masks asked for the first time, then of masks asked again in this call (their values apart). */
    const fresh: number[] = [];
    const again = new Map<number, number>();
    const others = new Set<Promise<unknown>>();
    for (let r = 0; r < masks.count; r++) {
      const m = slot[r];
      if (state[m] === 0) {
        state[m] = 2;
        fresh.push(r);
      } else if (state[m] === 2 && this.pending.has(m)) others.add(this.pending.get(m)!);
      else if (state[m] === 2 && !this.probed) again.set(r, NaN); // asked twice in this call: a noise probe
    }
    let own: Promise<void> | undefined;
    if (fresh.length > 0) {
      const rows = [...fresh, ...again.keys()];
      const batch = createMasks(this.n, rows.length);
      const { words } = batch;
      for (let k = 0; k < rows.length; k++) for (let w = 0; w < words; w++) batch.bits[k * words + w] = masks.bits[rows[k] * words + w];
      own = this.evaluate(batch, signal).then(
        (values) => {
          fresh.forEach((r, k) => {
            this.table[slot[r]] = values[k];
            this.state[slot[r]] = 1;
          });
          [...again.keys()].forEach((r, k) => {
            const value = values[fresh.length + k];
            again.set(r, value);
            if (value !== this.table[slot[r]]) this.noisy = true;
          });
          if (again.size > 0) this.probed = true;
        },
        (error: unknown) => {
          for (const r of fresh) this.state[slot[r]] = 0;
          throw error;
        },
      ).finally(() => fresh.forEach((r) => this.pending.delete(slot[r])));
      for (const r of fresh) this.pending.set(slot[r], own);
      // it may fail (a cancellation) while this call still waits for the others' masks below: handled here too
      own.catch(() => undefined);
    }
    // masks another call is evaluating: their values once it is done (its failure is that call's to report; the
    // masks are then asked again below, where they are not after a failure other than the cancellation: evaluate)
    await Promise.all([...others].map((other) => other.catch(() => undefined)));
    if (own) await own;
    // the game turned out noisy while this call waited for another's masks: its repeats must be samples of their own
    if (this.noisy && !own && masks.count > 1) return this.evaluate(masks, signal);
    const out = new Float64Array(masks.count);
    for (let r = 0; r < masks.count; r++) {
      if (this.state[slot[r]] !== 1) return this.callTable(masks, signal); // the other call failed: ask again
      out[r] = again.get(r) ?? this.table[slot[r]];
    }
    return out;
  }
}

/**
 * Recovers the AND expansion of v (sparseMobius) and its OR expansion (sparseOr) from one budget, both at once (each
 * search's calls are small and sequential; the two searches' steps reach the game joined, as one call, and one
 * expansion's recovery runs while the other's call is out). With budget ≥ 2^n (n ≤ 20) both take
 * the exact path and every mask is evaluated once. Otherwise each gets half the budget. Their uniformly random masks
 * (held out for the R², validation, the radial design, fit) are drawn once: the OR expansion's are the complements of
 * the AND's (uniformSeed), the same masks of v, which the table evaluates once, and each set is drawn for both at
 * once and paid half by each (shared.ts; for a noisy game, whose every call reaches the game, each pays its own).
 * When one fails, the other is cancelled and awaited before the error is thrown.
 * @param game - the game v, called with bit-packed mask batches
 * @param n - players, 1..4096
 * @param options - budget, maxOrder, seed, signal, onProgress
 * @returns both expansions, the distinct evaluations used, v(∅) and v(N)
 * @throws InvalidOptionError when the budget is below leastAndOrBudget (the message states it)
 * @throws as sparseMobius: InvalidInputError, ShapeMismatchError or NonFiniteError for a bad game, CancelledError
 */
export async function recoverAndOr(game: GameFunction, n: number, options: AndOrOptions): Promise<AndOrExpansion> {
  const { budget, maxOrder, seed = 0, tolerance, kernels, fitRandom, signal, onProgress } = options;
  const least = leastAndOrBudget(n, maxOrder);
  if (!(budget >= least)) {
    throw new InvalidOptionError(
      `options.budget = ${budget} is too small for maxOrder = ${maxOrder} at n = ${n} players: the sparse method needs at least ${least} evaluations ` +
        `(${least === 2 ** n ? 'every one of the 2^n masks' : 'half for the AND expansion of v, half for the OR expansion of the complement game, held-out masks included'}). ` +
        `Raise options.budget to ≥ ${least} or lower options.maxOrder.`,
    );
  }
  const exact = n <= MAX_EXACT_PLAYERS && budget >= 2 ** n;
  const planned = exact ? 2 ** n : budget;
  // one failing expansion stops the other: nothing may run once this call has returned; so does an onProgress whose
  // promise rejects (watchProgress)
  const stop = new AbortController();
  const watched = watchProgress(onProgress, stop);
  // the caller's onProgress runs inside a game call: its failure is said as its own, not as the game's
  const progress = (done: number, total: number) => {
    try {
      watched.report(done, total);
    } catch (error) {
      throw new InvalidOptionError(`options.onProgress threw: ${error instanceof Error ? error.message : String(error)}. It must be a function (done, total) => void that does not throw.`, { cause: error });
    }
  };
  const counting = new CountingGame(game, n, (done) => progress(done, Math.max(planned, done)));
  const both = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  const half = Math.floor(budget / 2);
  // their uniformly random masks are the same masks of v: drawn together, paid half by each (shared.ts)
  const shared = new SharedDraws(() => counting.remembers);
  const runs = [
    sparseMobius(counting.call, n, { budget: exact ? 2 ** n : half, maxOrder, seed, tolerance, kernels, fitRandom, signal: both }, shared.side(0)),
    sparseOr(counting.call, n, { budget: exact ? 2 ** n : budget - half, maxOrder, seed: (seed + 1) % 2 ** 32, uniformSeed: seed, tolerance, kernels, fitRandom, signal: both }, shared.side(1)),
  ];
  runs.forEach((run, side) => {
    // a side that ended draws no more and calls no more: the other does not wait for it
    void run.finally(() => {
      shared.done(side as 0 | 1);
      counting.sideDone();
    }).catch(() => undefined);
    run.catch(() => stop.abort());
  });
  const settled = await Promise.allSettled(runs);
  const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  // the first real failure, not the cancellation it caused in the other run
  // the caller's cancellation, said for the whole budget (each expansion's says its half)
  if (signal?.aborted && failed.some((e) => e instanceof CancelledError)) throw new CancelledError(`The sparse recovery was cancelled after ${counting.used} of at most ${budget} game evaluations.`, { cause: signal.reason });
  if (failed.length > 0) throw watched.failure() ?? failed.find((e) => !(e instanceof CancelledError)) ?? failed[0];
  const [and, or] = settled.map((r) => (r as PromiseFulfilledResult<SparseExpansion>).value);
  if (counting.empty === undefined || counting.full === undefined) {
    // both methods evaluate ∅ and N first; this only runs for a method that does not
    const ends = createMasks(n, 2);
    ends.bits.fill(0xffffffff, ends.words, 2 * ends.words);
    if (n % 32 !== 0) ends.bits[2 * ends.words - 1] = ((1 << n % 32) - 1) >>> 0;
    await counting.call(ends, signal);
  }
  progress(counting.used, counting.used);
  return {
    n, recovery: exact ? 'exact' : 'adaptive', budget, evaluations: counting.used, and, or,
    values: { empty: counting.empty!, full: counting.full! }, gameMs: counting.gameMs,
  };
}

/** A call waiting to be joined (CountingGame.evaluate). */
interface Gathered {
  readonly masks: MaskBatch;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (values: Float64Array) => void;
  readonly reject: (error: unknown) => void;
}

/** Batches of one n, row after row in one batch. */
function joinMasks(batches: readonly MaskBatch[]): MaskBatch {
  const rows = batches.reduce((sum, batch) => sum + batch.count, 0);
  const joined = createMasks(batches[0].n, rows);
  let at = 0;
  for (const batch of batches) {
    joined.bits.set(batch.bits.subarray(0, batch.count * batch.words), at);
    at += batch.count * batch.words;
  }
  return joined;
}

/** A batch's masks in a buffer of their own. */
function copyMasks(masks: MaskBatch): MaskBatch {
  return { n: masks.n, count: masks.count, words: masks.words, bits: masks.bits.slice(0, masks.count * masks.words) };
}
