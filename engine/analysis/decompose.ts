// The sparse AND-OR decomposition (spec §2) around the WASM solvers: presets, validation, scaling (every solver but
// `reference` works on v/s, s = mean |I| of the unlearned split; spec "Project decisions"), the q bound, the
// objective trace, divergence detection (a run that ends above its start is flagged and returns its best iterate),
// and the learned γ and q in the caller's units. No solver arithmetic lives here: that is assembly/kernels/decompose.ts.
import { CancelledError, InvalidOptionError, NonFiniteError, ShapeMismatchError } from '../contracts/errors.js';
import type { F64Buffer, KernelHost } from '../contracts/kernels.js';
import { integerIn, numberIn, oneOf } from '../inputs/options.js';
import type { Split } from './interactions.js';
import { LP_MAX_PLAYERS, splitProgram } from './split-lp.js';
import { DEFAULT_SOLVER, PRESETS, SOLVER_DEFAULTS, SOLVERS } from '../contracts/schema/constants.js';

/** Presets: `none` (γ = q = 0), `reference` (the authors' SGD, raw lr), `authors` (the authors' SGD on v/s with a
 *  learning rate relative to the game's scale and size), `default` (the measured-best solver). */
export { PRESETS, SOLVERS, DEFAULT_SOLVER };
export type Preset = (typeof PRESETS)[number];
/** Solvers behind the presets. */
export type Solver = (typeof SOLVERS)[number];

/** Workspace slots of the kernels (assembly/kernels/decompose.ts). */
const SLOTS = 16;
const SLOT_GAMMA = 1;
const SLOT_Q = 2;
const SLOT_BEST_GAMMA = 11;
const SLOT_BEST_Q = 12;
/** The kernels' run state, f64[5]: the best objective, the last objective, the iteration of the best, and (sgdF64,
 *  pdhgF64) the pair of slots of the last iterate and of the best one (0: slots 1, 2; 1: slots 11, 12). */
const STATE_LENGTH = 5;
const MODE_AND_OR = 1;
const MODE_GAMMA = 2;
const MODE_Q = 4;
/** Points kept in the objective trace. */
const TRACE_POINTS = 200;

/** Options of the decomposition, as the user gives them. */
export interface DecompositionRequest {
  readonly preset?: Preset;
  /** Iterations (the authors' niter for `reference` and `authors`: iterations − 1 updates). */
  readonly iterations?: number;
  /** Learning rate: raw for `reference` (lr_t = lr·10^(−t/(iterations−1))); for `authors` relative (the step on v/s is
   *  lr·2^−n); on v/s for Adam; the primal weight for PDHG. */
  readonly lr?: number;
  /** q bound ratio: |q_T| ≤ qthres·|v(N) − v(∅)| (default 0.04). */
  readonly qthres?: number;
  /** The solver of the `default` preset (default: the benchmark's pick). */
  readonly solver?: Solver;
}

/** The validated settings. */
export interface DecompositionSettings {
  readonly preset: Preset;
  readonly solver: Solver | 'none';
  readonly iterations: number;
  readonly lr: number;
  readonly qthres: number;
}

/** What a decomposition reports. */
export interface DecompositionReport {
  readonly split: Split | undefined;
  readonly preset: Preset;
  readonly solver: Solver | 'none';
  readonly iterations: number;
  readonly lr: number;
  readonly qthres: number;
  readonly qBound: number;
  /** L1 norm of all AND and OR interactions, in the units of v: before learning and at the returned split. */
  readonly objective: { readonly initial: number; readonly final: number };
  /** The objective at the solver's last iterate (equal to `objective.final` unless the best iterate was returned in
   *  its place); NaN or ±Infinity when the run blew up. */
  readonly lastObjective: number;
  /** The run ended above its start (by more than rounding) or not finite: the split returned is then the best
   *  iterate seen, never the last. */
  readonly diverged: boolean;
  /** What happened and what to do, when `diverged`. */
  readonly warning?: string;
  /** Objective every `traceEvery` iterations, up to the first value that is not finite (a diverged run's trace can
   *  be shorter than iterations / traceEvery). */
  readonly trace: Float64Array;
  readonly traceEvery: number;
  readonly ms: number;
}

/** Defaults per solver: iterations and lr. `reference` uses the authors' README values. */
const DEFAULTS: Record<Exclude<Solver, 'lp'>, { readonly iterations: number; readonly lr: number }> = SOLVER_DEFAULTS;
/**
 * Defaults of preset `authors`: the authors' niter, and the relative learning rate. On v/s (mean |I| = 1) the kernel
 * steps with lr·2^−n: the subgradient of γ_T and q_T sums signs over the 2^{n−|T|} supersets of T (up to 2^n at
 * T = ∅), and one step of γ_∅ moves all 2^n AND interactions, so lr·2^−n bounds the largest move of one interaction
 * per step by about lr (×10 with momentum 0.9), whatever n and the scale of v (the subgradient does not depend on
 * it). Measured (bench/authors.bench.js; breast-cancer MLP at n = 8…16, bc-mlp-series at n = 10, 10 000 iterations):
 * the objective falls on every game for lr in [0.003, 0.1] and is lowest near 0.03–0.1; it rises from lr ≈ 1 up to
 * n = 14, from 0.3 at n = 16, and (1000 iterations) from about 0.15 at n = 20, where lr 0.03 is also the best: past
 * n ≈ 12 the safe step shrinks by about 0.76 per player, as 2^n/φ^{2n} would (φ^{2n}: the squared spectral norm of
 * the Möbius transform). 0.03 keeps a margin of 5× or more up to n = 20, and at n = 8…16 reaches within 5 % of
 * the best lr of the sweep (geometric mean over the games; 13 % at worst, n = 12).
 */
export const AUTHORS_DEFAULTS = { iterations: 10_000, lr: 0.03 } as const;
/** Adam's lr decays geometrically to lr·ADAM_DECAY over the run. */
const ADAM_DECAY = 0.01;
/** A power of two that lifts a subnormal scale back into the normal range (decompose: v/s for |v| ≲ 1e-306). */
const LIFT = 2 ** 600;
/** A last objective above the initial one by more than this (relative) is divergence, not rounding. */
const DIVERGENCE_RTOL = 1e-9;

/**
 * Validates decomposition options.
 * @throws InvalidOptionError naming the field (non-positive iterations, lr ≤ 0, negative qthres, unknown preset)
 */
export function decompositionSettings(request: DecompositionRequest, where = 'options'): DecompositionSettings {
  const preset = request.preset === undefined ? 'default' : oneOf(request.preset, PRESETS, `${where}.preset`);
  if (request.solver !== undefined && preset !== 'default') throw new InvalidOptionError(`${where}.solver applies only to preset "default" (got preset "${preset}").`);
  // preset none runs no solver: its tuning would be ignored, and would change the cache key for nothing (qthres too: it
  // bounds the learned q, and q stays 0)
  const tuning = (['iterations', 'lr', 'qthres'] as const).filter((k) => request[k] !== undefined);
  if (preset === 'none' && tuning.length > 0) throw new InvalidOptionError(`${where}.${tuning.join(` and ${where}.`)} ${tuning.length === 1 ? 'tunes' : 'tune'} the solver, which preset "none" (γ = q = 0) does not run: leave ${tuning.length === 1 ? 'it' : 'them'} out, or choose another preset.`);
  const solver: Solver | 'none' = preset === 'none' ? 'none' : preset === 'reference' || preset === 'authors' ? 'sgd' : request.solver === undefined ? DEFAULT_SOLVER : oneOf(request.solver, SOLVERS, `${where}.solver`);
  const qthres = request.qthres === undefined ? 0.04 : numberIn(request.qthres, 0, Infinity, `${where}.qthres`);
  if (solver === 'lp') {
    const stray = (['iterations', 'lr'] as const).filter((k) => request[k] !== undefined);
    if (stray.length > 0) throw new InvalidOptionError(`${where}.${stray.join(` and ${where}.`)} ${stray.length === 1 ? 'tunes' : 'tune'} an iterative solver; solver "lp" solves the split's linear program exactly and takes neither: leave ${stray.length === 1 ? 'it' : 'them'} out, or choose solver "pdhg".`);
    return { preset, solver, iterations: 0, lr: 0, qthres };
  }
  const defaults = solver === 'none' ? { iterations: 0, lr: 0 } : preset === 'authors' ? AUTHORS_DEFAULTS : DEFAULTS[solver];
  const iterations = request.iterations === undefined ? defaults.iterations : integerIn(request.iterations, 1, 10_000_000, `${where}.iterations`);
  const lr = request.lr === undefined ? defaults.lr : numberIn(request.lr, 0, Infinity, `${where}.lr`, true);
  return { preset, solver, iterations: solver === 'none' ? 0 : iterations, lr, qthres };
}

/**
 * Starts γ at α·v/2 for the α in [−1, 1] that minimises the objective (golden-section search; the objective is convex
 * in α). α = 1 puts all of v in the AND part, −1 in the OR part, 0 splits it evenly (the authors' start). First-order
 * solvers move slowly between these representations: on a model that computes a pure AND (the bundled token
 * transformer), PDHG from α = 0 stalled at 54 after 100 000 iterations where α = 1 reached 33.
 */
function startOnBestLine(host: KernelHost, ws: F64Buffer, n: number, mode: number): void {
  const size = 2 ** n;
  const at = (alpha: number) => {
    const view = host.view(ws);
    for (let i = 0; i < size; i++) view[SLOT_GAMMA * size + i] = 0.5 * alpha * view[i];
    return host.call('objectiveF64', ws.ptr, n, mode);
  };
  const phi = (Math.sqrt(5) - 1) / 2;
  let [lo, hi] = [-1, 1];
  let x1 = hi - phi * (hi - lo);
  let x2 = lo + phi * (hi - lo);
  let f1 = at(x1);
  let f2 = at(x2);
  for (let k = 0; k < 16; k++) {
    if (f1 <= f2) {
      [hi, x2, f2] = [x2, x1, f1];
      x1 = hi - phi * (hi - lo);
      f1 = at(x1);
    } else {
      [lo, x1, f1] = [x1, x2, f2];
      x2 = lo + phi * (hi - lo);
      f2 = at(x2);
    }
  }
  const candidates: [number, number][] = [[at(0), 0], [at(1), 1], [at(-1), -1], [f1, x1], [f2, x2]];
  candidates.sort((a, b) => a[0] - b[0]);
  at(candidates[0][1]);
}

/** Relative round-off of an objective computed on v/s and scaled back, against one computed on v. */
const ROUND_OFF = 1e-12;

/** Wall time of one chunk of solver iterations between yields to the event loop (ms). */
const CHUNK_MS = 10;

/** A number for a message: 4 significant digits, exponent form outside [1e-3, 1e7). */
function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e7) ? Number(x.toPrecision(4)).toExponential() : String(Number(x.toPrecision(4)));
}

/** What a diverged run did, and what to do instead (spec "Project decisions": scale). */
function divergenceWarning(settings: DecompositionSettings, n: number, initial: number, last: number, best: number, bestUpdates: number, blewUpBy: number): string {
  const { preset, solver, iterations, lr } = settings;
  const what = Number.isFinite(last)
    ? `the objective rose from ${fmt(initial)} to ${fmt(last) === fmt(initial) ? `${fmt(initial)} + ${fmt(last - initial)}` : fmt(last)} in ${iterations} iterations`
    : `the objective stopped being finite by iteration ${blewUpBy} (it started at ${fmt(initial)}) and the run stopped`;
  const kept = `The best iterate seen is returned (objective ${fmt(best)}, ${bestUpdates <= 0 ? 'the start' : `after ${bestUpdates} updates`}).`;
  let fix: string;
  if (preset === 'reference') fix = `lr ${fmt(lr)} is too large for n = ${n}: the authors' raw learning rate does not shrink with 2^n (the size of the gradient) nor with the scale of v. Use --preset authors (the authors' optimizer with a learning rate relative to the game's scale and size) or the default preset.`;
  else if (preset === 'authors') fix = `the relative lr ${fmt(lr)} is too large for this game (n = ${n}). Lower --lr (default ${AUTHORS_DEFAULTS.lr}) or use the default preset.`;
  else if (solver === 'pdhg') fix = `PDHG's last iterate has not settled with primal weight ω = ${fmt(lr)}. Try another --lr (default ${DEFAULTS.pdhg.lr}) or more --iterations.`;
  else fix = `lr ${fmt(lr)} is too large for this game (n = ${n}). Lower --lr (default ${DEFAULTS[solver as Exclude<Solver, 'lp'>].lr}), or use --preset authors or the default preset.`;
  // no iterate below a finite start: the start may be the optimum already (a game whose L1 no split lowers), which no
  // lr or iteration count changes
  // (an iterate below the start by round-off alone, from the scaling of v, is no improvement)
  const improved = bestUpdates > 0 && best < initial * (1 - ROUND_OFF);
  if (!improved && Number.isFinite(last) && last <= 2 * initial) return `${what}, and no iterate improved on the start: either the start is optimal already (then the split returned is right, and no --lr or --iterations changes it), or ${/^[A-Z][a-z]/.test(fix) ? fix.charAt(0).toLowerCase() + fix.slice(1) : fix} ${kept}`;
  return `${what}: ${fix} ${kept}`;
}

/** γ and q of the workspace (slots 1, 2), in the caller's units; q clipped to ±qBound, which the product by the
 *  scale can pass by a rounding step (2e-16 relative; a caller checking |q| ≤ qBound would see it). */
function learnedSplit(view: Float64Array, size: number, scale: number, qBound: number): Split {
  const gamma = view.slice(SLOT_GAMMA * size, (SLOT_GAMMA + 1) * size);
  const q = view.slice(SLOT_Q * size, (SLOT_Q + 1) * size);
  for (let i = 0; i < size; i++) {
    gamma[i] *= scale;
    q[i] = Math.min(qBound, Math.max(-qBound, q[i] * scale));
  }
  return { gamma, q };
}

/** The objective at the returned split, computed on v/s and scaled back; the unlearned split's own (γ = q = 0, the
 *  start of the authors' SGD) is `initial` exactly, which the scaled one can miss by round-off (1 ulp above it). */
function objectiveOf(split: Split, scaled: number, initial: number): number {
  return split.gamma.every((g) => g === 0) && split.q.every((x) => x === 0) ? initial : scaled;
}

/**
 * Refuses solver 'lp' for more than LP_MAX_PLAYERS players; explain calls it once n is known, before the 2^n
 * evaluations (at n = 24 they took 18 s and 3 GiB before the decomposition refused).
 * @param n - players
 * @param solver - the settings' solver
 * @throws InvalidOptionError for solver 'lp' and n above LP_MAX_PLAYERS
 */
export function assertSolverFits(n: number, solver: DecompositionSettings['solver']): void {
  if (solver === 'lp' && n > LP_MAX_PLAYERS) {
    throw new InvalidOptionError(`solver "lp" takes at most ${LP_MAX_PLAYERS} players (its linear program grows as n·2^n: one solve took about 2 s at 10 players, 257 s at 11). Use solver "pdhg" (the default) for n = ${n}, or fewer players.`);
  }
}

/** Seconds solver 'lp' may take before it is stopped (at n = 10 it takes about 2). */
const LP_TIME_LIMIT_S = 120;

/**
 * Solver 'lp': the split of least objective, from the split's linear program (split-lp.ts), written into the
 * workspace's γ and q (slots 1, 2) on its scale. The solve holds its thread (about 2 s at n = 10): the signal is
 * checked before it, and after it once the event loop has turned.
 * @throws InvalidOptionError for n above LP_MAX_PLAYERS, or when the solver stops short of the optimum
 * @throws CancelledError when the signal aborts
 */
async function solveExactly(host: KernelHost, ws: F64Buffer, n: number, mode: number, bound: number, signal: AbortSignal | undefined): Promise<void> {
  assertSolverFits(n, 'lp');
  // the least objective is 0 and γ = q = 0 reaches it: v in {0, ±5e-324}, whose halves round to 0, where HiGHS fails
  // (status −1) on a program whose right-hand sides are all that small
  if (host.call('objectiveF64', ws.ptr, n, mode) === 0) return;
  const size = 2 ** n;
  const solver = await host.linearSolver();
  if (signal?.aborted) throw new CancelledError('The decomposition was cancelled.');
  const { program, split } = splitProgram(host.view(ws).slice(0, size), n, (mode & MODE_AND_OR) !== 0, bound);
  const solution = solver.solve(program, LP_TIME_LIMIT_S);
  // an abort that came during the solve (a timer, SIGINT) is only delivered once the event loop turns: on the calling
  // thread the check right after the solve never saw it, and the run returned its result seconds after the cancel
  await new Promise((resolveYield) => setImmediate(resolveYield));
  if (signal?.aborted) throw new CancelledError('The decomposition was cancelled.');
  if (solution.status !== 'optimal') {
    throw new InvalidOptionError(`solver "lp" stopped before the optimum at n = ${n} (${solution.status}${solution.status === 'time limit' ? `: ${LP_TIME_LIMIT_S} s` : ''}). Use solver "pdhg" (the default), or fewer players.`);
  }
  const { gamma, q } = split(solution.colValue);
  const view = host.view(ws);
  view.set(gamma, SLOT_GAMMA * size);
  // the solver meets the box to its feasibility tolerance (1e-7): clipped, the split meets it on the solver's scale
  // (back in the caller's units, to the rounding of one product, as the iterative solvers' do)
  view.set(q.map((x) => Math.min(bound, Math.max(-bound, x))), SLOT_Q * size);
}

/**
 * Learns γ and q for v (spec §2) with the chosen preset, inside the WASM kernels. The iterations run in chunks of
 * about CHUNK_MS, yielding to the event loop between chunks, so a service stays responsive and `signal` cancels.
 *
 * Every solver keeps its best iterate inside the kernel (at every iteration). A run whose last objective is above
 * the initial one, or not finite, is diverged: the report says so (`diverged`, `warning`) and the split returned is
 * the best iterate. Otherwise `reference` returns its last iterate, as the authors' code does, and the other solvers
 * their best. `objective.final` is always recomputed at the returned split, and the split is always finite.
 * @param host - kernels
 * @param v - the reward on all 2^n masks (finite)
 * @param n - players (≥ 1)
 * @param method - 'and-or' learns γ and q; 'and' learns the noise q of an AND-only model
 * @param settings - validated options
 * @param signal - aborts between chunks with CancelledError
 * @throws ShapeMismatchError when v is not of length 2^n
 * @throws NonFiniteError when the interactions of v overflow float64 (no learning can start from there)
 * @throws CancelledError when `signal` aborts
 */
export async function decompose(host: KernelHost, v: Float64Array, n: number, method: 'and' | 'and-or', settings: DecompositionSettings, signal?: AbortSignal): Promise<DecompositionReport> {
  if (!Number.isInteger(n) || n < 1 || v.length !== 2 ** n) throw new ShapeMismatchError(`The decomposition needs v of length 2^n with n ≥ 1 (got length ${v.length}, n = ${n}).`);
  const started = performance.now();
  const size = 2 ** n;
  const mode = method === 'and-or' ? MODE_AND_OR | MODE_GAMMA | MODE_Q : MODE_Q;
  const range = Math.abs(v[size - 1] - v[0]);
  // a range past float64 is v's fault, whatever qthres (0 and preset none too: "0 · Infinity" was blamed on qthres,
  // as a bad option; an adversarial sweep, stop 45)
  if (!Number.isFinite(range)) throw new NonFiniteError(`v(N) − v(∅) overflows float64 (v(∅) = ${fmt(v[0])}, v(N) = ${fmt(v[size - 1])}): the noise bound qthres·|v(N) − v(∅)| and the reported q rest on it. Rescale v.`);
  const qBound = settings.qthres * range;
  // a bound past float64 would be written as null, a result andor report then refuses
  if (!Number.isFinite(qBound)) throw new InvalidOptionError(`options.qthres = ${settings.qthres} makes the noise bound qthres·|v(N) − v(∅)| = ${settings.qthres} · ${fmt(Math.abs(v[size - 1] - v[0]))} overflow float64; give a smaller qthres (default 0.04).`);
  const ws = host.alloc(SLOTS * size);
  const state = host.alloc(STATE_LENGTH);
  const traceEvery = Math.max(1, Math.ceil(settings.iterations / TRACE_POINTS));
  const trace = host.alloc(Math.max(1, Math.ceil(settings.iterations / traceEvery)));
  try {
    host.view(ws).set(v);
    const initial = host.call('objectiveF64', ws.ptr, n, mode);
    if (!Number.isFinite(initial)) throw new NonFiniteError(`The interactions of v overflow float64 (objective ${initial} at γ = q = 0; max |v| = ${fmt(v.reduce((m, x) => Math.max(m, Math.abs(x)), 0))}). Rescale v.`);
    if (settings.solver === 'none') {
      return { split: undefined, ...settings, qBound, objective: { initial, final: initial }, lastObjective: initial, diverged: false, trace: new Float64Array(0), traceEvery, ms: performance.now() - started };
    }
    // every solver but the reference works on v/s (the problem is 1-homogeneous in v and the q bound), s about the
    // mean |I| of the unlearned split, where ∅'s |v(∅)| counts for at most as much as all the other entries: with all
    // of it, a large v(∅) made s large and every interaction small on the solver's scale, and the split worse (PDHG
    // 1.8–4.2 % above the optimum at v(∅) = 10⁴ over interactions of about 1, 11.9–17.4 % at 10⁶, where it was
    // 0–0.54 % at 0; the LP 50 % above at 10⁹; an adversarial sweep, stop 44; docs/math.md, "Why solving on v/s")
    const reference = settings.preset === 'reference';
    const others = Math.max(0, initial - Math.abs(v[0]));
    const s = reference ? 1 : (others + Math.min(Math.abs(v[0]), others)) / ((method === 'and-or' ? 2 : 1) * size);
    const scale = s > 0 && Number.isFinite(s) ? s : 1;
    if (scale !== 1 && Number.isFinite(1 / scale)) host.call('affineF64', ws.ptr, size, 1 / scale, 0);
    else if (scale !== 1) {
      // |v| ≲ 1e-306: 1/s overflows, so v/s in two exact-enough steps (a power of two first), not the solve on raw
      // subnormal values (which gave another split, or "diverged", where v × 10^300 gave the same as v)
      host.call('affineF64', ws.ptr, size, LIFT, 0);
      host.call('affineF64', ws.ptr, size, 1 / (scale * LIFT), 0);
    }
    const start = host.call('objectiveF64', ws.ptr, n, mode); // = initial / scale, the divergence threshold
    const bound = qBound / scale;
    if (settings.solver === 'lp') {
      await solveExactly(host, ws, n, mode, bound, signal);
      const split = learnedSplit(host.view(ws), size, scale, qBound);
      const final = objectiveOf(split, host.call('objectiveF64', ws.ptr, n, mode) * scale, initial);
      return { split, ...settings, qBound, objective: { initial, final }, lastObjective: final, diverged: false, trace: new Float64Array(0), traceEvery, ms: performance.now() - started };
    }
    if (!reference && settings.preset !== 'authors' && method === 'and-or') startOnBestLine(host, ws, n, mode);
    const { iterations, solver } = settings;
    // `authors`: the relative lr becomes lr·2^−n on v/s (see AUTHORS_DEFAULTS)
    const lr = settings.preset === 'authors' ? settings.lr / size : settings.lr;
    const run = (tStart: number, tEnd: number): void => {
      if (solver === 'sgd') host.call('sgdF64', ws.ptr, state.ptr, n, mode, iterations, lr, bound, tStart, tEnd, trace.ptr, traceEvery);
      else if (solver === 'adam') host.call('adamF64', ws.ptr, state.ptr, n, mode, iterations, lr, ADAM_DECAY, bound, tStart, tEnd, trace.ptr, traceEvery);
      else host.call('pdhgF64', ws.ptr, state.ptr, n, mode, iterations, lr, bound, tStart, tEnd, trace.ptr, traceEvery);
    };
    let stoppedAt = iterations;
    let chunk = Math.max(1, Math.round(2 ** 16 / size));
    for (let t = 0; t < iterations; ) {
      const tEnd = Math.min(iterations, t + chunk);
      const chunkStart = performance.now();
      run(t, tEnd);
      const elapsed = performance.now() - chunkStart;
      chunk = Math.max(1, Math.min(4 * chunk, Math.round((chunk * CHUNK_MS) / Math.max(elapsed, 0.05))));
      t = tEnd;
      // a run that is no longer finite stays so (the iterate is NaN or past float64): stop, keep the best
      if (!Number.isFinite(host.view(state)[1])) {
        stoppedAt = t;
        break;
      }
      if (t < iterations) {
        await new Promise((resolveYield) => setImmediate(resolveYield));
        if (signal?.aborted) throw new CancelledError('The decomposition was cancelled.');
      }
    }
    const [best, last, bestAt, lastPair, bestPair] = host.view(state);
    const diverged = !(last <= start * (1 + DIVERGENCE_RTOL));
    const view = host.view(ws);
    // the pair of slots to return: SGD's best or last pair, PDHG's best pair; Adam keeps a copy of its best in pair 1
    // (after a full run Adam and PDHG have written their best into both pairs, so copying again is harmless)
    const pair = solver === 'adam' ? 1 : diverged || !reference ? bestPair : lastPair;
    if (pair === 1) {
      view.copyWithin(SLOT_GAMMA * size, SLOT_BEST_GAMMA * size, (SLOT_BEST_GAMMA + 1) * size);
      view.copyWithin(SLOT_Q * size, SLOT_BEST_Q * size, (SLOT_BEST_Q + 1) * size);
    }
    let finalScaled = host.call('objectiveF64', ws.ptr, n, mode);
    if (!Number.isFinite(finalScaled) || !Number.isFinite(best)) {
      // unreachable while the start is finite (it is an iterate the kernels keep); the unlearned split is the fallback
      view.fill(0, SLOT_GAMMA * size, (SLOT_Q + 1) * size);
      finalScaled = host.call('objectiveF64', ws.ptr, n, mode);
    }
    const recorded = host.view(trace).subarray(0, Math.ceil(stoppedAt / traceEvery));
    const finiteUntil = recorded.findIndex((x) => !Number.isFinite(x));
    const traced = recorded.slice(0, finiteUntil < 0 ? recorded.length : finiteUntil).map((x) => x * scale);
    // the first traced iteration that was not finite, else the end of the chunk where the run stopped
    const blewUpBy = finiteUntil < 0 ? stoppedAt : finiteUntil * traceEvery;
    const split = learnedSplit(view, size, scale, qBound);
    const final = objectiveOf(split, finalScaled * scale, initial);
    const report = { split, ...settings, qBound, objective: { initial, final }, lastObjective: last * scale, diverged, trace: traced, traceEvery, ms: 0 };
    if (!diverged) return { ...report, ms: performance.now() - started };
    const bestUpdates = solver === 'pdhg' ? bestAt + 1 : bestAt;
    const warning = divergenceWarning(settings, n, initial, last * scale, final, bestUpdates, blewUpBy);
    return { ...report, warning, ms: performance.now() - started };
  } finally {
    host.free(trace);
    host.free(state);
    host.free(ws);
  }
}
