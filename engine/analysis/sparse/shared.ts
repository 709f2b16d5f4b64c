// The uniformly random masks the AND and the OR expansion of one game share (recoverAndOr): their streams give the
// same masks of v (the OR expansion draws the complements, and its game complements them back), which the table of
// and-or.ts evaluates once. Each such set is drawn jointly, and its cost is split between the two budgets: a side
// waits at each draw until the other reaches the same draw, or has gone past it (then it draws alone, at full
// price). Both sides draw in the same order (validation, radial design, fit masks, their extension, held-out), so
// the rendezvous is deterministic: what each side draws and pays depends only on the two sides' requests, not on
// how their calls interleave.
import { CancelledError } from '../../contracts/errors.js';
import type { UniformKind } from './method.js';

/** What one side asks of a stream. */
export interface DrawRequest {
  /** Units the side would use (masks, or radial base masks). */
  readonly want: number;
  /** Most evaluations the side can pay. */
  readonly afford: number;
  /** Evaluations per unit (a radial base is n + 1 masks). */
  readonly unitRows: number;
}

/** What a side draws and pays. */
export interface DrawShare {
  /** Units drawn. */
  readonly count: number;
  /** Evaluations charged to this side's budget. */
  readonly charge: number;
}

/** One side's view of the shared draws. */
export interface SharedSide {
  /**
   * Waits for the other side's request for the same draw (or until it has gone past it) and returns this side's share.
   * @throws CancelledError when the signal fires while waiting
   */
  draw(kind: UniformKind, request: DrawRequest, signal?: AbortSignal): Promise<DrawShare>;
  /** This side skips its next draw of this kind: a draw the other side waits at there is made alone. */
  pass(kind: UniformKind): void;
  /** Whether draws are shared now (not for a noisy game, each of whose calls reaches the game). */
  sharing(): boolean;
}

/** The order of the draws on each side. */
const KIND_ORDER: Record<UniformKind, number> = { validation: 0, radial: 1, fit: 2, heldOut: 3 };
/** Draws of one kind per side at most (the fit masks are drawn, then extended once). */
const ROUNDS = 16;

/**
 * What one side draws alone: as many units as it wants and can pay for.
 * @param request - the side's request
 * @returns its count and charge
 */
export function aloneShare(request: DrawRequest): DrawShare {
  const count = Math.max(0, Math.min(request.want, Math.floor(request.afford / request.unitRows)));
  return { count, charge: count * request.unitRows };
}

/**
 * A draw both sides make: the larger of the two wants, as far as the two budgets together pay for it, charged half to
 * each, the rest to the other where one side cannot pay its half.
 * @returns the two sides' shares, in the order of the requests
 */
export function jointShares(a: DrawRequest, b: DrawRequest): [DrawShare, DrawShare] {
  const unitRows = a.unitRows;
  const count = Math.max(0, Math.min(Math.max(a.want, b.want), Math.floor((a.afford + b.afford) / unitRows)));
  const rows = count * unitRows;
  let first = Math.min(a.afford, Math.ceil(rows / 2));
  let second = rows - first;
  if (second > b.afford) {
    second = b.afford;
    first = rows - second;
  }
  return [
    { count, charge: first },
    { count, charge: second },
  ];
}

interface Waiting {
  readonly position: number;
  readonly request: DrawRequest;
  readonly resolve: (share: DrawShare) => void;
}

interface SideState {
  /** Position of the last draw asked (−1: none yet). */
  position: number;
  /** Draws asked per kind. */
  readonly rounds: Map<UniformKind, number>;
  done: boolean;
  waiting?: Waiting;
}

/** The two sides' shared draws. */
export class SharedDraws {
  private readonly states: [SideState, SideState] = [
    { position: -1, rounds: new Map(), done: false },
    { position: -1, rounds: new Map(), done: false },
  ];

  /** @param joint - whether draws may be shared now (false for a noisy game: each of its calls reaches the game) */
  constructor(private readonly joint: () => boolean) {}

  /** Side 0 (AND) or 1 (OR). */
  side(index: 0 | 1): SharedSide {
    return { draw: (kind, request, signal) => this.draw(index, kind, request, signal), pass: (kind) => this.pass(index, kind), sharing: this.joint };
  }

  /** The side will draw no more (its recovery ended or failed): a draw the other side waits at is made alone. */
  done(index: 0 | 1): void {
    this.states[index].done = true;
    this.release(1 - index);
  }

  /** Moves a side to its next draw of a kind. @returns that draw's position */
  private advance(index: 0 | 1, kind: UniformKind): number {
    const own = this.states[index];
    const round = own.rounds.get(kind) ?? 0;
    own.rounds.set(kind, round + 1);
    own.position = KIND_ORDER[kind] * ROUNDS + Math.min(round, ROUNDS - 1);
    return own.position;
  }

  private pass(index: 0 | 1, kind: UniformKind): void {
    this.advance(index, kind);
    this.release(1 - index);
  }

  private draw(index: 0 | 1, kind: UniformKind, request: DrawRequest, signal: AbortSignal | undefined): Promise<DrawShare> {
    const own = this.states[index];
    const other = this.states[1 - index];
    const position = this.advance(index, kind);
    if (other.waiting?.position === position) {
      const waiting = other.waiting;
      other.waiting = undefined;
      const [mine, theirs] = index === 0 ? jointShares(request, waiting.request) : jointShares(waiting.request, request).reverse();
      waiting.resolve(theirs);
      return Promise.resolve(mine);
    }
    // the other side has gone past this draw (or waits at a later one), or will draw no more
    this.release(1 - index);
    if (!this.joint() || other.done || other.position >= position) return Promise.resolve(aloneShare(request));
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    return new Promise<DrawShare>((resolve, reject) => {
      const onAbort = () => {
        own.waiting = undefined;
        reject(cancelled(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      own.waiting = {
        position,
        request,
        resolve: (share) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(share);
        },
      };
    });
  }

  /** A side's waiting draw, made alone once the other side has reached it without drawing there (a pass; a draw there
   *  is joint and taken before this), gone past it, or is done. */
  private release(index: number): void {
    const state = this.states[index];
    const other = this.states[1 - index];
    const waiting = state.waiting;
    if (!waiting || !(other.done || other.position >= waiting.position)) return;
    state.waiting = undefined;
    waiting.resolve(aloneShare(waiting.request));
  }
}

const cancelled = (signal: AbortSignal) => new CancelledError('The sparse recovery was cancelled.', { cause: signal.reason });
