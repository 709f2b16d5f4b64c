// The sparse AND-OR decomposition (spec §2): learn γ and q to minimise Σ|I_and| + Σ|I_or| over all 2^n sets,
// with |q| ≤ qbound, entirely inside WASM. The solvers share one forward map and its adjoint:
//   sgdReference — the authors' SGD (momentum 0.9, lr decaying geometrically lr → lr/10, q clamped before each
//                  step, sign(0) = 0); see: sjtu-xai-lab/interaction-concept src/harsanyi/and_or_harsanyi_utils.py
//   sgd          — the same rule, step for step, that also keeps the best iterate (without copying: see sgdF64)
//   adam         — Adam on the same subgradient, lr decaying geometrically to lr·decay
//   pdhg         — diagonally preconditioned primal-dual hybrid gradient for the L1 problem
//                  see: Chambolle & Pock, "A first-order primal-dual algorithm…", JMIV 2011;
//                       Pock & Chambolle, "Diagonal preconditioning for first order primal-dual algorithms", ICCV 2011
// Workspace: SLOTS (16) arrays of f64[2^n] at ws (see the SLOT_* constants). A call runs iterations [tStart, tEnd) of a
// schedule of `iterations`, so tests can step it one iteration at a time; state lives in the workspace and in the
// caller's `state` (f64[STATE]: the best objective, the last objective, the iteration of the best, and for sgdF64 and
// pdhgF64 the pairs of slots that hold the last and the best iterate). No global state.
import { mobiusSubsetF64, mobiusSupersetF64 } from './transforms';

/** Workspace slots, each f64[2^n]. v: the reward (input). gamma, q: the learned split (output). */
export const SLOT_V: i32 = 0;
export const SLOT_GAMMA: i32 = 1;
export const SLOT_Q: i32 = 2;
const SLOT_S1: i32 = 3; // momentum of γ | Adam m(γ) | PDHG dual of AND
const SLOT_S2: i32 = 4; // momentum of q | Adam m(q) | PDHG dual of OR
const SLOT_S3: i32 = 5; // Adam v(γ) | PDHG K x of even iterations (AND)
const SLOT_S4: i32 = 6; // Adam v(q) | PDHG K x of even iterations (OR)
const SLOT_A: i32 = 7; // I_and of the current iterate (PDHG: of odd iterations and the start)
const SLOT_O: i32 = 8; // OR block: superset Möbius of v_or, with slot N holding v_or(∅) (= I_or, reversed)
const SLOT_GA: i32 = 9; // gradient of γ
const SLOT_GO: i32 = 10; // gradient of q
const SLOT_BEST_GAMMA: i32 = 11; // Adam: a copy of the best γ | sgdF64, pdhgF64: γ of the second pair of iterates
const SLOT_BEST_Q: i32 = 12; // Adam: a copy of the best q | sgdF64, pdhgF64: q of the second pair of iterates
const SLOT_TAU: i32 = 13; // PDHG primal steps of γ (q's are tau / qShare)
const SLOT_SIGMA_A: i32 = 14; // PDHG dual steps of the AND rows
const SLOT_SIGMA_O: i32 = 15; // PDHG dual steps of the OR rows
export const SLOTS: i32 = 16;

/** The run state of sgdF64, adamF64 and pdhgF64, f64[STATE] (see the STATE_* offsets, in f64). */
export const STATE: i32 = 5;
const STATE_BEST: i32 = 0; // the best objective seen (+Infinity before the first finite one)
const STATE_LAST: i32 = 1; // the objective of the last iterate evaluated
const STATE_BEST_AT: i32 = 2; // the iteration of the best (−1: PDHG's start)
const STATE_LIVE_PAIR: i32 = 3; // sgdF64, pdhgF64: the pair of the iterate stepped (0: slots 1, 2; 1: slots 11, 12)
const STATE_BEST_PAIR: i32 = 4; // sgdF64, pdhgF64: the pair that holds the best iterate

/** Mode bits. AND_OR: split v into AND and OR parts (else AND only); GAMMA: learn γ; Q: learn q. */
export const MODE_AND_OR: i32 = 1;
export const MODE_GAMMA: i32 = 2;
export const MODE_Q: i32 = 4;


@inline
function slot(ws: usize, k: i32, n: i32): usize {
  return ws + ((<usize>k << n) << 3);
}

/** p ← x over f64[size]. */
@inline
function fill(p: usize, size: usize, x: f64): void {
  const xx = f64x2.splat(x);
  const end = p + (size << 3);
  for (; p < end; p += 16) v128.store(p, xx);
}

/** dst ← src over f64[size]. */
@inline
function copy(dst: usize, src: usize, size: usize): void {
  memory.copy(dst, src, size << 3);
}

/** sign(x) with sign(0) = sign(NaN) = 0, lane-wise. */
@inline
function sign2(x: v128): v128 {
  const zero = f64x2.splat(0);
  const one = f64x2.splat(1);
  return f64x2.sub(v128.and(f64x2.gt(x, zero), one), v128.and(f64x2.lt(x, zero), one));
}

/** q ← clip(q, −bound, bound). */
@inline
function clampQ(q: usize, size: usize, bound: f64): void {
  const hi = f64x2.splat(bound);
  const lo = f64x2.splat(-bound);
  const end = q + (size << 3);
  for (let p = q; p < end; p += 16) v128.store(p, f64x2.max(lo, f64x2.min(hi, v128.load(p))));
}

/**
 * Whether pmin/pmax clip to [−bound, bound] exactly as clampQ's min/max do, for every q but NaN: bound is +0 or
 * positive (decompose's always is), so that no tie between signed zeros reaches them. (On x64, min and max take
 * about 8 instructions each, to order signed zeros and canonicalise NaNs, where pmin and pmax take one.)
 */
@inline
function pminClamps(bound: f64): bool {
  return bound > 0 || reinterpret<u64>(bound) == 0;
}

/** v_and = ½(v+q)+γ and v_or = ½(v+q)−γ (AND_OR), or v_and = v+q (AND only), for the vector at byte offset i. */
@inline
function splitAt(v: usize, g: usize, q: usize, a: usize, o: usize, i: usize, mode: i32): void {
  splitWith(v, g, a, o, i, mode, v128.load(q + i));
}

/** splitAt with q's vector given. */
@inline
function splitWith(v: usize, g: usize, a: usize, o: usize, i: usize, mode: i32, qi: v128): void {
  const vq = f64x2.add(v128.load(v + i), qi); // q stays 0 when it is not learned
  if (mode & MODE_AND_OR) {
    const h = f64x2.mul(f64x2.splat(0.5), vq);
    const gg = v128.load(g + i); // γ stays 0 when it is not learned
    v128.store(a + i, f64x2.add(h, gg));
    v128.store(o + i, f64x2.sub(h, gg));
  } else v128.store(a + i, vq);
}

/** The transforms of the forward map, in place: A ← subset Möbius (I_and); O ← superset Möbius of v_or with slot
 *  N holding v_or(∅). Then I_or(S) = −O[N∖S] for S ≠ ∅ and I_or(∅) = O[N], so Σ|O| = Σ|I_or| with no reversal. */
@inline
function forwardTransforms(a: usize, o: usize, n: i32, mode: i32): void {
  mobiusSubsetF64(a, n);
  if (mode & MODE_AND_OR) {
    const empty = load<f64>(o);
    mobiusSupersetF64(o, n);
    store<f64>(o + ((((<usize>1) << n) - 1) << 3), empty);
  }
}

/**
 * Σ|A| + Σ|O| (Σ|A| when AND only), each summed lane-wise and then across the lanes, and with `signs` the
 * subgradient of that sum, GA ← sign(A) and GO ← sign(O) (sign(0) = 0), in the same sweep.
 */
@inline
function l1Signs(ws: usize, n: i32, mode: i32, signs: bool): f64 {
  const size: usize = <usize>1 << n;
  const a = slot(ws, SLOT_A, n);
  const o = slot(ws, SLOT_O, n);
  const ga = slot(ws, SLOT_GA, n);
  const go = slot(ws, SLOT_GO, n);
  let accA = f64x2.splat(0);
  let accO = f64x2.splat(0);
  for (let i: usize = 0; i < size << 3; i += 16) {
    const ai = v128.load(a + i);
    const oi = (mode & MODE_AND_OR) ? v128.load(o + i) : f64x2.splat(0); // both loads first (see sgdStep)
    accA = f64x2.add(accA, f64x2.abs(ai));
    if (mode & MODE_AND_OR) accO = f64x2.add(accO, f64x2.abs(oi));
    if (signs) {
      v128.store(ga + i, sign2(ai));
      if (mode & MODE_AND_OR) v128.store(go + i, sign2(oi));
    }
  }
  const sumA = f64x2.extract_lane(accA, 0) + f64x2.extract_lane(accA, 1);
  return (mode & MODE_AND_OR) ? sumA + (f64x2.extract_lane(accO, 0) + f64x2.extract_lane(accO, 1)) : sumA;
}

/** The forward map at the workspace's (γ, q): fills A and O and returns the L1 objective Σ|I_and| + Σ|I_or|; with
 *  `signs`, GA and GO receive its subgradient in the (AND, OR-block) space, for `adjoint`. */
@inline
function forward(ws: usize, n: i32, mode: i32, signs: bool): f64 {
  return forwardAt(ws, slot(ws, SLOT_GAMMA, n), slot(ws, SLOT_Q, n), n, mode, false, 0, signs);
}

/**
 * The forward map at (γ, q) = (g, q), f64[2^n] each (any slots of ws). With `clamp`, q is first clipped to
 * [−qbound, qbound] in place with pmin/pmax (pminClamps(qbound) must hold; a NaN q stays as it is), in the sweep of
 * the split: the clipped q is the iterate evaluated.
 */
@inline
function forwardAt(ws: usize, g: usize, q: usize, n: i32, mode: i32, clamp: bool, qbound: f64, signs: bool): f64 {
  const size: usize = <usize>1 << n;
  const v = slot(ws, SLOT_V, n);
  const a = slot(ws, SLOT_A, n);
  const o = slot(ws, SLOT_O, n);
  const hi = f64x2.splat(qbound);
  const lo = f64x2.splat(-qbound);
  for (let i: usize = 0; i < size << 3; i += 16) {
    const x = v128.load(q + i);
    const qi = clamp ? f64x2.pmax(f64x2.pmin(x, hi), lo) : x;
    splitWith(v, g, a, o, i, mode, qi);
    if (clamp) v128.store(q + i, qi); // after every load of the vector (see sgdStep)
  }
  forwardTransforms(a, o, n, mode);
  return l1Signs(ws, n, mode, signs);
}

/** The transforms of the adjoint, in place: GA ← ∂/∂v_and = superset Möbius of GA; GO ← ∂/∂v_or = subset Möbius
 *  of GO with slot N moved to ∅ (the I_or(∅) = v_or(∅) row). */
@inline
function adjointTransforms(ga: usize, go: usize, n: i32, mode: i32): void {
  mobiusSupersetF64(ga, n);
  if (mode & MODE_AND_OR) {
    const last = go + ((((<usize>1) << n) - 1) << 3);
    const empty = load<f64>(last);
    store<f64>(last, 0.0);
    mobiusSubsetF64(go, n);
    store<f64>(go, load<f64>(go) + empty);
  }
}

/** ∂/∂γ = ∂/∂v_and − ∂/∂v_or (AND_OR only). */
@inline
function dGamma(dAnd: v128, dOr: v128): v128 {
  return f64x2.sub(dAnd, dOr);
}

/** ∂/∂q = ½(∂/∂v_and + ∂/∂v_or) (AND_OR), or ∂/∂v_and (AND only). */
@inline
function dQ(dAnd: v128, dOr: v128, mode: i32): v128 {
  return (mode & MODE_AND_OR) ? f64x2.mul(f64x2.splat(0.5), f64x2.add(dAnd, dOr)) : dAnd;
}

/**
 * The adjoint of the forward map, in place: GA, GO hold a vector in the (AND, OR-block) space (a subgradient sign
 * vector); on return GA = the γ component and GO = the q component of Kᵀ(GA, GO). (sgdStep fuses this combine with
 * its update.)
 */
@inline
function adjoint(ws: usize, n: i32, mode: i32): void {
  const size: usize = <usize>1 << n;
  const ga = slot(ws, SLOT_GA, n);
  const go = slot(ws, SLOT_GO, n);
  adjointTransforms(ga, go, n, mode);
  for (let i: usize = 0; i < size << 3; i += 16) {
    const da = v128.load(ga + i);
    const dor = (mode & MODE_AND_OR) ? v128.load(go + i) : f64x2.splat(0);
    v128.store(ga + i, dGamma(da, dor));
    v128.store(go + i, dQ(da, dor, mode));
  }
}

/**
 * The objective at the workspace's (γ, q) and its subgradient: ∂/∂γ in slot GA (9), ∂/∂q in slot GO (10).
 * ws: f64[SLOTS·2^n]; n ≥ 1; mode: MODE_* bits. Returns Σ|I_and| + Σ|I_or|.
 */
export function objectiveGradientF64(ws: usize, n: i32, mode: i32): f64 {
  const objective = forward(ws, n, mode, true);
  adjoint(ws, n, mode);
  return objective;
}

/** The objective alone at the workspace's (γ, q). */
export function objectiveF64(ws: usize, n: i32, mode: i32): f64 {
  return forward(ws, n, mode, false);
}

@inline
function record(trace: usize, every: i32, t: i32, objective: f64): void {
  if (trace != 0 && t % every == 0) store<f64>(trace + (<usize>(t / every) << 3), objective);
}

/** The next momentum buffer of PyTorch SGD (momentum 0.9, dampening 0; see sgdLoop for its start), 0.9·buf + g, for
 *  the vector at p; mu = splat(0.9). The step is then θ ← θ − lr·buf. */
@inline
function momentumAt(p: usize, g: v128, mu: v128): v128 {
  return f64x2.add(f64x2.mul(mu, v128.load(p)), g);
}

/**
 * One step of the authors' SGD from GA, GO after adjointTransforms, in one sweep: the combine of `adjoint` (∂/∂γ,
 * ∂/∂q) and the momentum steps γ → nextG (buffer S1) and q → nextQ (buffer S2) of the parameters learned.
 */
@inline
function sgdStep(ws: usize, n: i32, mode: i32, g: usize, q: usize, nextG: usize, nextQ: usize, lr: f64): void {
  const size: usize = <usize>1 << n;
  const ga = slot(ws, SLOT_GA, n);
  const go = slot(ws, SLOT_GO, n);
  const s1 = slot(ws, SLOT_S1, n);
  const s2 = slot(ws, SLOT_S2, n);
  const mu = f64x2.splat(0.9);
  const rate = f64x2.splat(lr);
  const zero = f64x2.splat(0);
  for (let i: usize = 0; i < size << 3; i += 16) {
    // every load of the vector before its stores: the slots lie 2^n·8 bytes apart, so for n ≥ 9 a load after a store
    // to another slot at the same offset can wait on it (4K aliasing; a few per cent here)
    const da = v128.load(ga + i);
    const dor = (mode & MODE_AND_OR) ? v128.load(go + i) : zero;
    const bg = (mode & MODE_GAMMA) ? momentumAt(s1 + i, dGamma(da, dor), mu) : zero;
    const bq = (mode & MODE_Q) ? momentumAt(s2 + i, dQ(da, dor, mode), mu) : zero;
    const gi = (mode & MODE_GAMMA) ? v128.load(g + i) : zero;
    const qi = (mode & MODE_Q) ? v128.load(q + i) : zero;
    if (mode & MODE_GAMMA) {
      v128.store(s1 + i, bg);
      v128.store(nextG + i, f64x2.sub(gi, f64x2.mul(rate, bg)));
    }
    if (mode & MODE_Q) {
      v128.store(s2 + i, bq);
      v128.store(nextQ + i, f64x2.sub(qi, f64x2.mul(rate, bq)));
    }
  }
}

/**
 * sgdLoop's evaluation: q ← clip(q, −qbound, qbound) in place when q is learned, then the objective at (g, q) with
 * its signs in GA, GO. When pminClamps(qbound) (always, from decompose), the clip takes pmin/pmax in the split's
 * sweep; they agree with clampQ's min/max on every q but a NaN, which they keep as it is where min/max give the
 * engine's NaN. A NaN q makes I_and(N), so the objective, NaN: only then is q clipped again with min/max (which leave
 * the clipped values as they are) and evaluated again, so q and the objective are always those of clampQ.
 */
@inline
function clampedForward(ws: usize, g: usize, q: usize, n: i32, mode: i32, qbound: f64, fast: bool): f64 {
  const size: usize = <usize>1 << n;
  const clamp = (mode & MODE_Q) != 0;
  if (clamp && !fast) clampQ(q, size, qbound);
  const objective = forwardAt(ws, g, q, n, mode, clamp && fast, qbound, true);
  if (!(clamp && fast && isNaN(objective))) return objective;
  clampQ(q, size, qbound);
  return forwardAt(ws, g, q, n, mode, false, qbound, true);
}

/** γ of the pair of slots `pair` (0: slot 1, 1: slot 11). */
@inline
function pairGamma(ws: usize, n: i32, pair: i32): usize {
  return slot(ws, pair ? SLOT_BEST_GAMMA : SLOT_GAMMA, n);
}

/** q of the pair of slots `pair` (0: slot 2, 1: slot 12). */
@inline
function pairQ(ws: usize, n: i32, pair: i32): usize {
  return slot(ws, pair ? SLOT_BEST_Q : SLOT_Q, n);
}

/**
 * The authors' loop (see sgdReferenceF64). With state ≠ 0 it also keeps the best iterate, without copying: the iterate
 * lives in one of two pairs of slots, and when it is the best so far the step writes the next iterate into the other
 * pair (whose old best it supersedes) instead of in place, so the best stays where it was evaluated. The arithmetic
 * is the same either way, so the iterates are bitwise those of the reference.
 */
@inline
function sgdLoop(ws: usize, state: usize, n: i32, mode: i32, iterations: i32, lr: f64, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32): f64 {
  const size: usize = <usize>1 << n;
  const tracking = state != 0;
  const fast = pminClamps(qbound);
  const log10lr = Math.log10(lr);
  let live: i32 = tracking && tStart > 0 ? <i32>load<f64>(state + (<usize>STATE_LIVE_PAIR << 3)) : 0;
  let objective: f64 = 0;
  for (let t = tStart; t < tEnd; t++) {
    const g = pairGamma(ws, n, live);
    const q = pairQ(ws, n, live);
    objective = clampedForward(ws, g, q, n, mode, qbound, fast); // the signs are wasted on the last iteration only
    record(trace, traceEvery, t, objective);
    let next = live;
    if (tracking) {
      if (t == 0) {
        store<f64>(state + (<usize>STATE_BEST << 3), Infinity);
        store<f64>(state + (<usize>STATE_BEST_AT << 3), -1.0);
        store<f64>(state + (<usize>STATE_BEST_PAIR << 3), 0.0);
      }
      store<f64>(state + (<usize>STATE_LAST << 3), objective);
      if (objective < load<f64>(state + (<usize>STATE_BEST << 3))) {
        store<f64>(state + (<usize>STATE_BEST << 3), objective);
        store<f64>(state + (<usize>STATE_BEST_AT << 3), <f64>t);
        store<f64>(state + (<usize>STATE_BEST_PAIR << 3), <f64>live);
        next = live ^ 1;
      }
    }
    if (t + 1 >= iterations) break;
    adjointTransforms(slot(ws, SLOT_GA, n), slot(ws, SLOT_GO, n), n, mode);
    const rate = Math.pow(10, log10lr - <f64>t / <f64>(iterations - 1));
    const nextG = pairGamma(ws, n, next);
    const nextQ = pairQ(ws, n, next);
    if (t == 0) {
      // PyTorch starts with buf ← g; buf ← −0 makes 0.9·buf + g exactly g (x + (−0) = x for every x, NaN included)
      if (mode & MODE_GAMMA) fill(slot(ws, SLOT_S1, n), size, -0.0);
      if (mode & MODE_Q) fill(slot(ws, SLOT_S2, n), size, -0.0);
    }
    sgdStep(ws, n, mode, g, q, nextG, nextQ, rate);
    if (next != live) {
      // a parameter that is not learned (zeros, or its start) is carried over to the other pair
      if (!(mode & MODE_GAMMA)) copy(nextG, g, size);
      if (!(mode & MODE_Q)) copy(nextQ, q, size);
    }
    live = next;
  }
  if (tracking) store<f64>(state + (<usize>STATE_LIVE_PAIR << 3), <f64>live);
  return objective;
}

/**
 * sgdLoop, with the mode a constant in the copies for decompose's two modes ('and-or': AND_OR | GAMMA | Q; 'and':
 * Q), so that their sweeps test no mode bit per vector (1.2× at n = 10); any other mode runs the generic copy. The
 * copies are functions of their own: inlined here, binaryen folds them back into one.
 */
function sgd(ws: usize, state: usize, n: i32, mode: i32, iterations: i32, lr: f64, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32): f64 {
  if (mode == (MODE_AND_OR | MODE_GAMMA | MODE_Q)) return sgdAndOr(ws, state, n, iterations, lr, qbound, tStart, tEnd, trace, traceEvery);
  if (mode == MODE_Q) return sgdAndOnly(ws, state, n, iterations, lr, qbound, tStart, tEnd, trace, traceEvery);
  return sgdLoop(ws, state, n, mode, iterations, lr, qbound, tStart, tEnd, trace, traceEvery);
}

function sgdAndOr(ws: usize, state: usize, n: i32, iterations: i32, lr: f64, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32): f64 {
  return sgdLoop(ws, state, n, MODE_AND_OR | MODE_GAMMA | MODE_Q, iterations, lr, qbound, tStart, tEnd, trace, traceEvery);
}

function sgdAndOnly(ws: usize, state: usize, n: i32, iterations: i32, lr: f64, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32): f64 {
  return sgdLoop(ws, state, n, MODE_Q, iterations, lr, qbound, tStart, tEnd, trace, traceEvery);
}

/**
 * The authors' SGD, iterations [tStart, tEnd) of `iterations`: clamp q, evaluate, and (if t+1 < iterations) step
 * with lr_t = lr·10^(−t/(iterations−1)). Records the objective every traceEvery iterations into trace (0 = none).
 * ws: f64[SLOTS·2^n] (v in slot 0, γ and q in slots 1, 2, updated in place); lr in the units of v.
 * @returns the objective at iteration tEnd−1 (before its step)
 */
export function sgdReferenceF64(ws: usize, n: i32, mode: i32, iterations: i32, lr: f64, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32): f64 {
  return sgd(ws, 0, n, mode, iterations, lr, qbound, tStart, tEnd, trace, traceEvery);
}

/**
 * sgdReferenceF64's iterates exactly, also keeping the best one seen, with no copy per iteration. state: f64[STATE]
 * (best objective, last objective, iteration of the best, pair of the last iterate, pair of the best; pair 0 = slots
 * 1, 2, pair 1 = slots 11, 12). The iterates start in pair 0 (γ, q at t = 0 in slots 1, 2); the caller takes the
 * pair it returns (the reference returns the last unless the run diverged). Each pair holds the clamped q that was
 * evaluated, so the objective of the best pair is exactly state[0].
 * @returns the objective at iteration tEnd−1 (before its step)
 */
export function sgdF64(ws: usize, state: usize, n: i32, mode: i32, iterations: i32, lr: f64, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32): f64 {
  return sgd(ws, state, n, mode, iterations, lr, qbound, tStart, tEnd, trace, traceEvery);
}

/** Adam: keeps a copy of the best iterate seen in slots 11, 12 (every iterate is feasible) and the STATE_BEST,
 *  STATE_LAST and STATE_BEST_AT entries. A NaN or infinite objective is never the best. State lives in the caller's
 *  memory, not in globals, so runs interleaved in chunks on one instance do not mix. */
@inline
function keepBest(ws: usize, n: i32, state: usize, objective: f64, t: i32, reset: bool): void {
  if (reset) {
    store<f64>(state + (<usize>STATE_BEST << 3), Infinity);
    store<f64>(state + (<usize>STATE_BEST_AT << 3), -1.0);
  }
  store<f64>(state + (<usize>STATE_LAST << 3), objective);
  if (objective < load<f64>(state + (<usize>STATE_BEST << 3))) {
    store<f64>(state + (<usize>STATE_BEST << 3), objective);
    store<f64>(state + (<usize>STATE_BEST_AT << 3), <f64>t);
    const size: usize = <usize>1 << n;
    copy(slot(ws, SLOT_BEST_GAMMA, n), slot(ws, SLOT_GAMMA, n), size);
    copy(slot(ws, SLOT_BEST_Q, n), slot(ws, SLOT_Q, n), size);
  }
}

/** Writes the best iterate back into (γ, q) and returns its objective. */
@inline
function restoreBest(ws: usize, n: i32, state: usize): f64 {
  const size: usize = <usize>1 << n;
  copy(slot(ws, SLOT_GAMMA, n), slot(ws, SLOT_BEST_GAMMA, n), size);
  copy(slot(ws, SLOT_Q, n), slot(ws, SLOT_BEST_Q, n), size);
  return load<f64>(state);
}

/** One Adam update of θ (β1 = 0.9, β2 = 0.999, ε = 1e-12 in the scaled units), step number t+1. */
@inline
function adamStep(theta: usize, m: usize, s: usize, grad: usize, size: usize, lr: f64, t: i32): void {
  const b1: f64 = 0.9;
  const b2: f64 = 0.999;
  const c1 = 1 - Math.pow(b1, <f64>(t + 1));
  const c2 = 1 - Math.pow(b2, <f64>(t + 1));
  const vb1 = f64x2.splat(b1), vb1c = f64x2.splat(1 - b1), vb2 = f64x2.splat(b2), vb2c = f64x2.splat(1 - b2);
  const step = f64x2.splat(lr / c1);
  const inv2 = f64x2.splat(1 / c2);
  const eps = f64x2.splat(1e-12);
  for (let i: usize = 0; i < size << 3; i += 16) {
    const g = v128.load(grad + i);
    const mi = f64x2.add(f64x2.mul(vb1, v128.load(m + i)), f64x2.mul(vb1c, g));
    const si = f64x2.add(f64x2.mul(vb2, v128.load(s + i)), f64x2.mul(vb2c, f64x2.mul(g, g)));
    v128.store(m + i, mi);
    v128.store(s + i, si);
    const denom = f64x2.add(f64x2.sqrt(f64x2.mul(si, inv2)), eps);
    v128.store(theta + i, f64x2.sub(v128.load(theta + i), f64x2.div(f64x2.mul(step, mi), denom)));
  }
}

/**
 * Adam, iterations [tStart, tEnd) of `iterations` (state: f64[STATE], see keepBest; entries 3, 4 unused), with lr_t = lr·decay^(t/(iterations−1)); q is projected on the
 * box after each step. Keeps the best iterate; when tEnd = iterations it is written back into (γ, q).
 * @returns the best objective so far
 */
export function adamF64(ws: usize, state: usize, n: i32, mode: i32, iterations: i32, lr: f64, decay: f64, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32): f64 {
  const size: usize = <usize>1 << n;
  const q = slot(ws, SLOT_Q, n);
  for (let t = tStart; t < tEnd; t++) {
    const objective = forward(ws, n, mode, true);
    record(trace, traceEvery, t, objective);
    keepBest(ws, n, state, objective, t, t == 0);
    if (t + 1 >= iterations) break;
    adjoint(ws, n, mode);
    const rate = iterations > 1 ? lr * Math.pow(decay, <f64>t / <f64>(iterations - 1)) : lr;
    if (mode & MODE_GAMMA) adamStep(slot(ws, SLOT_GAMMA, n), slot(ws, SLOT_S1, n), slot(ws, SLOT_S3, n), slot(ws, SLOT_GA, n), size, rate, t);
    if (mode & MODE_Q) {
      adamStep(q, slot(ws, SLOT_S2, n), slot(ws, SLOT_S4, n), slot(ws, SLOT_GO, n), size, rate, t);
      clampQ(q, size, qbound);
    }
  }
  return tEnd >= iterations ? restoreBest(ws, n, state) : load<f64>(state);
}

/** Column sums of |K| for γ at T (AND-OR): 2^{n−|T|} (AND rows) + 2^{|T|} − [T=N] + [T=∅] (OR rows). */
@inline
function columnWeight(i: usize, n: i32, mode: i32): f64 {
  const k = <i32>popcnt(<u32>i);
  const andRows = <f64>(1 << (n - k));
  if (!(mode & MODE_AND_OR)) return andRows;
  const full = (<usize>1 << n) - 1;
  return andRows + <f64>(1 << k) - (i == full ? 1.0 : 0.0) + (i == 0 ? 1.0 : 0.0);
}

/** The pair of slots that receives K x_t + c (I_and, OR block) at PDHG iteration t: A, O (7, 8) for odd t and the
 *  start (t = −1), S3, S4 (5, 6) for even t. The other pair holds K x_{t−1} + c, the "K x_old" of the dual step, so
 *  that no sweep copies it. */
@inline
function pdhgAnd(ws: usize, n: i32, t: i32): usize {
  return slot(ws, (t & 1) ? SLOT_A : SLOT_S3, n);
}

/** The OR block of pdhgAnd's pair. */
@inline
function pdhgOr(ws: usize, n: i32, t: i32): usize {
  return slot(ws, (t & 1) ? SLOT_O : SLOT_S4, n);
}

/** PDHG's start (tStart = 0): the steps, the zero dual (and its copies in GA, GO), and the start x_{−1} = (γ, q) in
 *  pair 0 evaluated as iteration −1, its K x in pdhgAnd(−1). Until an objective is finite the best pair is 1, left as
 *  it was (where the kernel that copied its best kept it). */
@inline
function pdhgStart(ws: usize, state: usize, n: i32, mode: i32, omega: f64): void {
  const size: usize = <usize>1 << n;
  const bytes: usize = size << 3;
  const full = size - 1;
  const tau = slot(ws, SLOT_TAU, n);
  const sigmaA = slot(ws, SLOT_SIGMA_A, n);
  const sigmaO = slot(ws, SLOT_SIGMA_O, n);
  // |coefficient| of γ and q in v_and / v_or: the row weights of K
  const coef: f64 = (mode & MODE_AND_OR) ? ((mode & MODE_GAMMA) ? 1.0 : 0.0) + ((mode & MODE_Q) ? 0.5 : 0.0) : 1.0;
  memory.fill(slot(ws, SLOT_S1, n), 0, bytes);
  memory.fill(slot(ws, SLOT_S2, n), 0, bytes);
  memory.fill(slot(ws, SLOT_GA, n), 0, bytes);
  memory.fill(slot(ws, SLOT_GO, n), 0, bytes);
  for (let i: usize = 0; i < size; i++) {
    const k = <i32>popcnt(<u32>i);
    store<f64>(tau + (i << 3), 1.0 / (omega * columnWeight(i, n, mode)));
    store<f64>(sigmaA + (i << 3), omega / (coef * <f64>(1 << k)));
    store<f64>(sigmaO + (i << 3), omega / (coef * (i == full ? 1.0 : <f64>(1 << (n - k)))));
  }
  store<f64>(state + (<usize>STATE_BEST << 3), Infinity);
  store<f64>(state + (<usize>STATE_BEST_AT << 3), -1.0);
  store<f64>(state + (<usize>STATE_LIVE_PAIR << 3), 0.0);
  store<f64>(state + (<usize>STATE_BEST_PAIR << 3), 1.0);
  pdhgKeep(ws, state, n, mode, forward(ws, n, mode, false), -1, 0); // forward fills A, O = pdhgAnd(−1), pdhgOr(−1)
}

/**
 * Records PDHG's objective at x_t (in pair `live`) in the state, and makes x_t the best if it is below the best so far
 * (a NaN or infinite objective never is). The first best also carries the parameters that are not learned (never
 * written) from pair 0 over to pair 1, so that both pairs hold them wherever the iterates go.
 */
@inline
function pdhgKeep(ws: usize, state: usize, n: i32, mode: i32, objective: f64, t: i32, live: i32): void {
  store<f64>(state + (<usize>STATE_LAST << 3), objective);
  const best = load<f64>(state + (<usize>STATE_BEST << 3));
  if (objective < best) {
    if (best == Infinity) {
      const size: usize = <usize>1 << n;
      if (!(mode & MODE_GAMMA)) copy(pairGamma(ws, n, 1), pairGamma(ws, n, 0), size);
      if (!(mode & MODE_Q)) copy(pairQ(ws, n, 1), pairQ(ws, n, 0), size);
    }
    store<f64>(state + (<usize>STATE_BEST << 3), objective);
    store<f64>(state + (<usize>STATE_BEST_AT << 3), <f64>t);
    store<f64>(state + (<usize>STATE_BEST_PAIR << 3), <f64>live);
  }
}

/**
 * The byte offset of a vector of PDHG's steps (τ, σA, σO) equal to the one at byte offset i. pdhgStart makes an
 * element's steps a function of its popcount and of whether it is ∅ or N, so vector j (elements 2j and 2j + 1, of
 * popcounts k and k + 1 for k = popcount(j)) equals vector 2^k − 1: ∅ is in vector 0 alone (k = 0) and N in vector
 * 2^(n−1) − 1 alone (k = n − 1). The sweeps read these n vectors, which stay in L1, instead of three streams of
 * f64[2^n] (1.05× at n = 10 and 14).
 */
@inline
function stepAt(i: usize): usize {
  return ((<usize>1 << popcnt(i >> 4)) - 1) << 4;
}

/**
 * PDHG's primal step x ← proj(x − τ ∘ Kᵀy) from GA, GO after adjointTransforms, fused with the split of the new x into
 * a, o: reads (g, q), writes the learned parameters into (nextG, nextQ), which are (g, q) or the other pair. With
 * `fast` (pminClamps(qbound) must hold), q is clipped with pmin/pmax: exact but for a NaN, which they keep as it is
 * (see pdhgLoop).
 */
@inline
function pdhgPrimal(ws: usize, n: i32, mode: i32, fast: bool, g: usize, q: usize, nextG: usize, nextQ: usize, a: usize, o: usize, qbound: f64): void {
  const size: usize = <usize>1 << n;
  const v = slot(ws, SLOT_V, n);
  const ga = slot(ws, SLOT_GA, n);
  const go = slot(ws, SLOT_GO, n);
  const tau = slot(ws, SLOT_TAU, n);
  const andOr = (mode & MODE_AND_OR) != 0;
  const qShare: f64 = andOr ? 0.5 : 1.0;
  const qScale = f64x2.splat(1 / qShare);
  const hi = f64x2.splat(qbound);
  const lo = f64x2.splat(-qbound);
  const half = f64x2.splat(0.5);
  const zero = f64x2.splat(0);
  for (let i: usize = 0; i < size << 3; i += 16) {
    const da = v128.load(ga + i);
    const dor = andOr ? v128.load(go + i) : zero;
    const ti = v128.load(tau + stepAt(i));
    const vi = v128.load(v + i);
    const gi = andOr || (mode & MODE_GAMMA) ? v128.load(g + i) : zero; // γ stays as it is when it is not learned
    const qi = v128.load(q + i); // q stays as it is when it is not learned
    const gNext = (mode & MODE_GAMMA) ? f64x2.sub(gi, f64x2.mul(ti, dGamma(da, dor))) : gi;
    let qNext = qi;
    if (mode & MODE_Q) {
      const step = f64x2.sub(qi, f64x2.mul(f64x2.mul(ti, qScale), dQ(da, dor, mode)));
      qNext = fast ? f64x2.pmax(f64x2.pmin(step, hi), lo) : f64x2.max(lo, f64x2.min(hi, step));
    }
    // every load of the vector before its stores (see sgdStep)
    if (mode & MODE_GAMMA) v128.store(nextG + i, gNext);
    if (mode & MODE_Q) v128.store(nextQ + i, qNext);
    const vq = f64x2.add(vi, qNext);
    if (andOr) {
      const h = f64x2.mul(half, vq);
      v128.store(a + i, f64x2.add(h, gNext));
      v128.store(o + i, f64x2.sub(h, gNext));
    } else v128.store(a + i, vq);
  }
}

/**
 * PDHG's dual step y ← clip(y + σ ∘ (2a − za), −1, 1) from a = K x_new + c and za = K x_old + c (and the OR block
 * likewise), with copies of y in GA, GO for the next adjoint; returns the objective Σ|a| + Σ|o| at x_new. With `fast`,
 * the clip takes pmin/pmax, which agree with min/max on every value but a NaN, which they keep as it is: if a NaN
 * came out, y and its copies are clipped again with min/max, which leave the clipped values as they are and give a NaN
 * what min/max give it, so y is always that of min/max.
 */
@inline
function pdhgDual(ws: usize, n: i32, mode: i32, fast: bool, a: usize, o: usize, za: usize, zo: usize): f64 {
  const size: usize = <usize>1 << n;
  const yA = slot(ws, SLOT_S1, n);
  const yO = slot(ws, SLOT_S2, n);
  const ga = slot(ws, SLOT_GA, n);
  const go = slot(ws, SLOT_GO, n);
  const sigmaA = slot(ws, SLOT_SIGMA_A, n);
  const sigmaO = slot(ws, SLOT_SIGMA_O, n);
  const andOr = (mode & MODE_AND_OR) != 0;
  const one = f64x2.splat(1);
  const minusOne = f64x2.splat(-1);
  const two = f64x2.splat(2);
  const zero = f64x2.splat(0);
  let acc = f64x2.splat(0);
  let nan = zero; // all ones in a lane where a NaN came out (fast)
  for (let i: usize = 0; i < size << 3; i += 16) {
    const steps = stepAt(i);
    const ai = v128.load(a + i);
    const zai = v128.load(za + i);
    const yai = v128.load(yA + i);
    const sai = v128.load(sigmaA + steps);
    const oi = andOr ? v128.load(o + i) : zero;
    const zoi = andOr ? v128.load(zo + i) : zero;
    const yoi = andOr ? v128.load(yO + i) : zero;
    const soi = andOr ? v128.load(sigmaO + steps) : zero;
    acc = f64x2.add(acc, f64x2.abs(ai));
    const stepA = f64x2.add(yai, f64x2.mul(sai, f64x2.sub(f64x2.mul(two, ai), zai)));
    const nextA = fast ? f64x2.pmax(f64x2.pmin(stepA, one), minusOne) : f64x2.max(minusOne, f64x2.min(one, stepA));
    v128.store(yA + i, nextA);
    v128.store(ga + i, nextA);
    if (fast) nan = v128.or(nan, f64x2.ne(nextA, nextA));
    if (andOr) {
      acc = f64x2.add(acc, f64x2.abs(oi));
      const stepO = f64x2.add(yoi, f64x2.mul(soi, f64x2.sub(f64x2.mul(two, oi), zoi)));
      const nextO = fast ? f64x2.pmax(f64x2.pmin(stepO, one), minusOne) : f64x2.max(minusOne, f64x2.min(one, stepO));
      v128.store(yO + i, nextO);
      v128.store(go + i, nextO);
      if (fast) nan = v128.or(nan, f64x2.ne(nextO, nextO));
    }
  }
  if (fast && v128.any_true(nan)) {
    for (let i: usize = 0; i < size << 3; i += 16) {
      const nextA = f64x2.max(minusOne, f64x2.min(one, v128.load(yA + i)));
      v128.store(yA + i, nextA);
      v128.store(ga + i, nextA);
      if (andOr) {
        const nextO = f64x2.max(minusOne, f64x2.min(one, v128.load(yO + i)));
        v128.store(yO + i, nextO);
        v128.store(go + i, nextO);
      }
    }
  }
  return f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}

/**
 * PDHG's iterations [tStart, tEnd) (see pdhgF64). The best iterate is kept without copying, as in sgdLoop: x lives in
 * one of two pairs of slots, (γ, q) in slots 1, 2 or 11, 12, and a primal step from the best so far writes the next x
 * into the other pair, so the best stays where it was evaluated. With `fast`, the clips take pmin/pmax; a NaN in the
 * new q, the one value where they differ from min/max, makes v_and, so I_and(N) (the subset Möbius sums every
 * element into it), NaN: only then is q clipped again with min/max and the split and its transforms done again. Every
 * element's arithmetic is that of the kernel before, which copied the best iterate and K x on every iteration, so the
 * iterates, objectives and best iterate are bitwise its.
 */
@inline
function pdhgLoop(ws: usize, state: usize, n: i32, mode: i32, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32, fast: bool): void {
  const size: usize = <usize>1 << n;
  const full = size - 1;
  const ga = slot(ws, SLOT_GA, n);
  const go = slot(ws, SLOT_GO, n);
  let live = <i32>load<f64>(state + (<usize>STATE_LIVE_PAIR << 3));
  for (let t = tStart; t < tEnd; t++) {
    const next = live == <i32>load<f64>(state + (<usize>STATE_BEST_PAIR << 3)) ? live ^ 1 : live;
    const a = pdhgAnd(ws, n, t);
    const o = pdhgOr(ws, n, t);
    adjointTransforms(ga, go, n, mode); // GA, GO hold copies of y
    const nextG = pairGamma(ws, n, next);
    const nextQ = pairQ(ws, n, next);
    pdhgPrimal(ws, n, mode, fast, pairGamma(ws, n, live), pairQ(ws, n, live), nextG, nextQ, a, o, qbound);
    forwardTransforms(a, o, n, mode); // a, o = K x_new + c
    if (fast && (mode & MODE_Q) && isNaN(load<f64>(a + (full << 3)))) {
      clampQ(nextQ, size, qbound);
      for (let i: usize = 0; i < size << 3; i += 16) splitAt(slot(ws, SLOT_V, n), nextG, nextQ, a, o, i, mode);
      forwardTransforms(a, o, n, mode);
    }
    const objective = pdhgDual(ws, n, mode, fast, a, o, pdhgAnd(ws, n, t - 1), pdhgOr(ws, n, t - 1));
    live = next;
    record(trace, traceEvery, t, objective);
    pdhgKeep(ws, state, n, mode, objective, t, live);
  }
  store<f64>(state + (<usize>STATE_LIVE_PAIR << 3), <f64>live);
}

/**
 * pdhgLoop, with the mode a constant in the copies for decompose's two modes and the one-instruction clips (see sgd);
 * any other mode, or a q bound where pmin/pmax would not clip as min/max do, runs the generic copy.
 */
function pdhg(ws: usize, state: usize, n: i32, mode: i32, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32): void {
  if (pminClamps(qbound)) {
    if (mode == (MODE_AND_OR | MODE_GAMMA | MODE_Q)) return pdhgAndOr(ws, state, n, qbound, tStart, tEnd, trace, traceEvery);
    if (mode == MODE_Q) return pdhgAndOnly(ws, state, n, qbound, tStart, tEnd, trace, traceEvery);
  }
  pdhgLoop(ws, state, n, mode, qbound, tStart, tEnd, trace, traceEvery, false);
}

function pdhgAndOr(ws: usize, state: usize, n: i32, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32): void {
  pdhgLoop(ws, state, n, MODE_AND_OR | MODE_GAMMA | MODE_Q, qbound, tStart, tEnd, trace, traceEvery, true);
}

function pdhgAndOnly(ws: usize, state: usize, n: i32, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32): void {
  pdhgLoop(ws, state, n, MODE_Q, qbound, tStart, tEnd, trace, traceEvery, true);
}

/**
 * Diagonally preconditioned PDHG, iterations [tStart, tEnd) (the start is iteration −1; α = 1: τ_j = 1/(ω·Σ_i|K_ij|),
 * σ_i = ω/Σ_j|K_ij|; ω = the primal weight). Duals live in [−1, 1] (the L1 conjugate); every primal iterate is
 * feasible.
 * state: f64[STATE] (best objective, last objective, iteration of the best, pair of the last iterate, pair of the best;
 * pair 0 = slots 1, 2, pair 1 = slots 11, 12; the caller takes the best pair). The best iterate is kept without copying
 * (see pdhgLoop); when tEnd = iterations it is written into both pairs, and both pairs of state become 0. Per
 * iteration: the four transforms and two fused sweeps (primal step + split; dual step + objective).
 * @returns the best objective so far
 */
export function pdhgF64(ws: usize, state: usize, n: i32, mode: i32, iterations: i32, omega: f64, qbound: f64, tStart: i32, tEnd: i32, trace: usize, traceEvery: i32): f64 {
  if (tStart == 0) pdhgStart(ws, state, n, mode, omega);
  pdhg(ws, state, n, mode, qbound, tStart, tEnd, trace, traceEvery);
  if (tEnd >= iterations) {
    const size: usize = <usize>1 << n;
    const best = <i32>load<f64>(state + (<usize>STATE_BEST_PAIR << 3));
    copy(pairGamma(ws, n, best ^ 1), pairGamma(ws, n, best), size);
    copy(pairQ(ws, n, best ^ 1), pairQ(ws, n, best), size);
    store<f64>(state + (<usize>STATE_LIVE_PAIR << 3), 0.0);
    store<f64>(state + (<usize>STATE_BEST_PAIR << 3), 0.0);
  }
  return load<f64>(state + (<usize>STATE_BEST << 3));
}
