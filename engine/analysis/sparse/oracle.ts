// The one gate between a recovery method and the caller's game: counts evaluations against the budget, reports
// progress, honours the AbortSignal, wraps a throwing game once, and checks the length and finiteness of every
// answer. Methods never call the game directly.
import { CancelledError, EngineError, InvalidInputError, InvalidOptionError, NonFiniteError, ShapeMismatchError } from '../../contracts/errors.js';
import { preview } from '../../inputs/preview.js';
import { rowPlayers } from './masks.js';
import { createPause } from './pause.js';
import type { GameFunction, MaskBatch } from './types.js';

/** A game behind the budget, progress and cancellation checks. */
export interface GameOracle {
  readonly n: number;
  /** Most evaluations allowed in all. */
  readonly budget: number;
  /** Evaluations done so far. */
  readonly used: number;
  /** budget − used. */
  readonly remaining: number;
  /**
   * Evaluates the game on a batch: synchronously when the game answers synchronously (no microtask per call), else
   * through the game's promise.
   * @param batch - the masks
   * @param charge - evaluations charged to the budget (default batch.count; less for masks the other expansion
   *   pays part of, shared.ts)
   * @returns one finite value per row
   * @throws CancelledError, InvalidInputError (the game threw), ShapeMismatchError, NonFiniteError
   */
  evaluate(batch: MaskBatch, charge?: number): Float64Array | Promise<Float64Array>;
  /** @throws CancelledError when the signal has fired */
  throwIfCancelled(): void;
  /**
   * A point between the steps of a long computation: after a few milliseconds of work it lets other work run (the
   * other expansion's game calls and their answers, the abort signal) before resolving (pause.ts).
   * @throws CancelledError when the signal has fired
   */
  pause(): Promise<void>;
  /** Reports done = total = used (the last progress call). */
  finish(): void;
}

/** What the oracle needs besides the game. */
export interface OracleSettings {
  readonly budget: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
  /** Evaluations the method plans (progress total); default the budget. */
  readonly planned?: number;
}

/**
 * Wraps a game function.
 * @param game - the caller's game
 * @param n - players
 * @param settings - budget, signal, progress
 * @returns the oracle
 */
export function createOracle(game: GameFunction, n: number, settings: OracleSettings): GameOracle {
  const { budget, signal, onProgress } = settings;
  const planned = Math.min(budget, settings.planned ?? budget);
  let used = 0;
  const throwIfCancelled = (): void => {
    if (signal?.aborted) {
      throw new CancelledError(`The sparse Möbius recovery was cancelled after ${used} of at most ${budget} game evaluations.`, { cause: signal.reason });
    }
  };
  const pause = createPause(throwIfCancelled);
  return {
    n,
    budget,
    get used() {
      return used;
    },
    get remaining() {
      return budget - used;
    },
    throwIfCancelled,
    pause,
    evaluate(batch, charge = batch.count) {
      throwIfCancelled();
      if (used + charge > budget) {
        throw new InvalidOptionError(`options.budget = ${budget} is exhausted: ${used} evaluations done and ${charge} more asked for. Raise options.budget.`);
      }
      const accept = (answer: unknown): Float64Array => {
        const values = checkAnswer(answer, batch);
        throwIfCancelled();
        used += charge;
        onProgress?.(used, Math.max(planned, used));
        return values;
      };
      let answer: unknown;
      try {
        answer = game(batch, signal);
      } catch (error) {
        throw wrapGameError(error, batch, signal);
      }
      if (!isThenable(answer)) return accept(answer);
      return untilCancelled(answer, signal).then(accept, (error: unknown) => {
        throw wrapGameError(error, batch, signal);
      });
    },
    finish() {
      onProgress?.(used, used);
    },
  };
}

/** What a throwing game becomes: CancelledError once the signal fired, andor's own errors as they are, else
 *  InvalidInputError naming the batch the game was given (the AND-OR table wraps its own calls: it gives the game
 *  only the masks it does not know yet, fewer than the method asked for). */
export function wrapGameError(error: unknown, batch: MaskBatch, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return new CancelledError('The sparse Möbius recovery was cancelled while the game was running.', { cause: error });
  // andor's own errors (a model that failed to run, a cancelled job) keep their class: they are wrapped already
  if (error instanceof EngineError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new InvalidInputError(
    `The game function threw on a batch of ${batch.count} masks of ${batch.n} players: ${reason}. ` +
      'Fix the game function: it must return one finite number per mask row.',
    { cause: error },
  );
}

/** Whether a game's answer is a promise (or any thenable). */
export const isThenable = (x: unknown): x is PromiseLike<unknown> => typeof (x as PromiseLike<unknown> | null)?.then === 'function';

/**
 * A game's answer, or a CancelledError as soon as the signal fires: a game that never settles (or does not look at
 * its signal) cannot hold a cancelled run. Its answer or failure, if it comes later, is dropped.
 * @param answer - the game's answer (a promise or a value)
 * @param signal - the run's signal
 * @returns the answer, settled as the game settles it unless the signal fires first
 */
export function untilCancelled<T>(answer: T | PromiseLike<T>, signal: AbortSignal | undefined): Promise<T> {
  const settled = Promise.resolve(answer);
  if (!signal) return settled;
  // once cancelled, the game's late failure is dropped with its answer (not an unhandled rejection)
  settled.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError('The sparse Möbius recovery was cancelled while the game was running.', { cause: signal.reason }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    settled.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Largest |v| a game may return: the paired test of two fits squares squared errors (v⁴), which overflows above
 *  about 1e77; below this the method is scale-covariant (a game times 2^k gives its terms times 2^k). */
export const MAX_GAME_MAGNITUDE = 1e75;

/**
 * A game's answer as a Float64Array of finite values, one per row of the batch.
 * @param answer - what the game returned
 * @param batch - the masks it was asked for
 * @returns the values, always a copy: a game may reuse its output array across calls (`out.subarray(0, count)`),
 *   and the methods keep what they are given
 * @throws InvalidInputError when it is not an array; ShapeMismatchError for a wrong length; NonFiniteError for NaN or ±Inf,
 *   or a value beyond ±MAX_GAME_MAGNITUDE
 */
export function checkAnswer(answer: unknown, batch: MaskBatch): Float64Array {
  const isList = Array.isArray(answer) || (ArrayBuffer.isView(answer) && !(answer instanceof DataView));
  if (!isList) {
    throw new InvalidInputError(`The game function returned ${describe(answer)} for ${batch.count} masks; it must return a Float64Array with one value per mask row.`);
  }
  const list = answer as ArrayLike<unknown>;
  if (list.length !== batch.count) {
    throw new ShapeMismatchError(
      `The game function returned ${list.length} values for a batch of ${batch.count} masks; it must return exactly one value per mask row (batch.count).`,
    );
  }
  // a plain array's entries must be numbers: strings ("1.5", a CSV read as text) are a bug to say, not to convert
  if (Array.isArray(list)) {
    const at = list.findIndex((x) => typeof x !== 'number');
    if (at >= 0) throw new InvalidInputError(`The game function returned ${describe(list[at])} at row ${at} of a batch of ${batch.count} masks; every value must be a number (a Float64Array, or an array of numbers).`);
  }
  const values = answer instanceof Float64Array ? answer.slice() : Float64Array.from(list as ArrayLike<number>, Number);
  for (let r = 0; r < values.length; r++) {
    if (Number.isFinite(values[r]) && Math.abs(values[r]) > MAX_GAME_MAGNITUDE) {
      throw new NonFiniteError(
        `The game function returned ${values[r]} at row ${r} of a batch of ${batch.count} masks: beyond ±1e75 (MAX_GAME_MAGNITUDE), the sums of squared (and squared squared) ` +
          'errors the sparse method compares overflow to Infinity, and its fits and R² come out wrong. Divide the game by a constant (its interactions scale with it).',
      );
    }
    if (!Number.isFinite(values[r])) {
      const players = rowPlayers(batch, r);
      const shown = players.length > 12 ? `${players.slice(0, 12).join(', ')}, … (${players.length} players)` : players.join(', ');
      throw new NonFiniteError(
        `The game function returned ${values[r]} at row ${r} of a batch of ${batch.count} masks (players present: ${shown || 'none'}). ` +
          'Every value must be finite; fix the game (for example clamp or replace non-finite model outputs).',
      );
    }
  }
  return values;
}

const describe = (x: unknown): string => {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return 'an array';
  const kind = typeof x === 'object' ? (x.constructor?.name ?? 'object') : typeof x;
  // "an Object", "a string"; a value of a primitive type is shown too (preview: at most a few dozen characters)
  const article = /^[aeiou]/i.test(kind) ? 'an' : 'a';
  return typeof x === 'object' || typeof x === 'function' ? `${article} ${kind}` : `${article} ${kind} (${preview(x)})`;
};
