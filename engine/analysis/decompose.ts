// The sparse AND-OR decomposition (spec §2) around the WASM solvers: presets, validation, scaling (every solver but
// `reference` works on v/s, s = mean |I| of the unlearned split; spec "Project decisions"), the q bound, the
// objective trace, and the learned γ and q in the caller's units.
import { CancelledError, InvalidOptionError, ShapeMismatchError } from '../contracts/errors.js';
import type { F64Buffer, KernelHost } from '../contracts/kernels.js';
import { integerIn, numberIn, oneOf } from '../inputs/options.js';
import type { Split } from './interactions.js';
import { DEFAULT_SOLVER, PRESETS, SOLVER_DEFAULTS, SOLVERS } from '../contracts/schema/constants.js';

/** Presets: `none` (γ = q = 0), `reference` (the authors' SGD, raw lr), `default` (the measured-best solver). */
export { PRESETS, SOLVERS, DEFAULT_SOLVER };
export type Preset = (typeof PRESETS)[number];
/** Solvers behind the presets. */
export type Solver = (typeof SOLVERS)[number];

/** Workspace slots of the kernels (assembly/kernels/decompose.ts). */
const SLOTS = 16;
const SLOT_GAMMA = 1;
const SLOT_Q = 2;
const MODE_AND_OR = 1;
const MODE_GAMMA = 2;
const MODE_Q = 4;
/** Points kept in the objective trace. */
const TRACE_POINTS = 200;

/** Options of the decomposition, as the user gives them. */
export interface DecompositionRequest {
  readonly preset?: Preset;
  /** Iterations (the authors' niter for `reference`: iterations − 1 updates). */
  readonly iterations?: number;
  /** Learning rate: raw for `reference` (lr_t = lr·10^(−t/(iterations−1))), on v/s for Adam, primal weight for PDHG. */
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
  /** Objective every `traceEvery` iterations. */
  readonly trace: Float64Array;
  readonly traceEvery: number;
  readonly ms: number;
}

/** Defaults per solver: iterations and lr. `reference` uses the authors' README values. */
const DEFAULTS: Record<Solver, { readonly iterations: number; readonly lr: number }> = SOLVER_DEFAULTS;
/** Adam's lr decays geometrically to lr·ADAM_DECAY over the run. */
const ADAM_DECAY = 0.01;

/**
 * Validates decomposition options.
 * @throws InvalidOptionError naming the field (non-positive iterations, lr ≤ 0, negative qthres, unknown preset)
 */
export function decompositionSettings(request: DecompositionRequest, where = 'options'): DecompositionSettings {
  const preset = request.preset === undefined ? 'default' : oneOf(request.preset, PRESETS, `${where}.preset`);
  if (request.solver !== undefined && preset !== 'default') throw new InvalidOptionError(`${where}.solver applies only to preset "default" (got preset "${preset}").`);
  const solver: Solver | 'none' = preset === 'none' ? 'none' : preset === 'reference' ? 'sgd' : request.solver === undefined ? DEFAULT_SOLVER : oneOf(request.solver, SOLVERS, `${where}.solver`);
  const defaults = solver === 'none' ? { iterations: 0, lr: 0 } : DEFAULTS[solver];
  const iterations = request.iterations === undefined ? defaults.iterations : integerIn(request.iterations, 1, 10_000_000, `${where}.iterations`);
  const lr = request.lr === undefined ? defaults.lr : numberIn(request.lr, 0, Infinity, `${where}.lr`, true);
  const qthres = request.qthres === undefined ? 0.04 : numberIn(request.qthres, 0, Infinity, `${where}.qthres`);
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

/** Wall time of one chunk of solver iterations between yields to the event loop (ms). */
const CHUNK_MS = 10;

/**
 * Learns γ and q for v (spec §2) with the chosen preset, inside the WASM kernels. The iterations run in chunks of
 * about CHUNK_MS, yielding to the event loop between chunks, so a service stays responsive and `signal` cancels.
 * @param host - kernels
 * @param v - the reward on all 2^n masks (finite)
 * @param n - players (≥ 1)
 * @param method - 'and-or' learns γ and q; 'and' learns the noise q of an AND-only model
 * @param settings - validated options
 * @param signal - aborts between chunks with CancelledError
 */
export async function decompose(host: KernelHost, v: Float64Array, n: number, method: 'and' | 'and-or', settings: DecompositionSettings, signal?: AbortSignal): Promise<DecompositionReport> {
  if (!Number.isInteger(n) || n < 1 || v.length !== 2 ** n) throw new ShapeMismatchError(`The decomposition needs v of length 2^n with n ≥ 1 (got length ${v.length}, n = ${n}).`);
  const started = performance.now();
  const size = 2 ** n;
  const mode = method === 'and-or' ? MODE_AND_OR | MODE_GAMMA | MODE_Q : MODE_Q;
  const qBound = settings.qthres * Math.abs(v[size - 1] - v[0]);
  const ws = host.alloc(SLOTS * size);
  const state = host.alloc(2);
  const traceEvery = Math.max(1, Math.ceil(settings.iterations / TRACE_POINTS));
  const trace = host.alloc(Math.max(1, Math.ceil(settings.iterations / traceEvery)));
  try {
    host.view(ws).set(v);
    const initial = host.call('objectiveF64', ws.ptr, n, mode);
    if (settings.solver === 'none') {
      return { split: undefined, ...settings, qBound, objective: { initial, final: initial }, trace: new Float64Array(0), traceEvery, ms: performance.now() - started };
    }
    // every solver but the reference works on v/s (the problem is 1-homogeneous in v and the q bound)
    const reference = settings.preset === 'reference';
    const scale = reference ? 1 : initial / ((method === 'and-or' ? 2 : 1) * size) || 1;
    if (scale !== 1) host.call('affineF64', ws.ptr, size, 1 / scale, 0);
    if (!reference && method === 'and-or') startOnBestLine(host, ws, n, mode);
    const bound = qBound / scale;
    const { iterations, lr, solver } = settings;
    const run = (tStart: number, tEnd: number): number => {
      if (solver === 'sgd') return host.call('sgdReferenceF64', ws.ptr, n, mode, iterations, lr, bound, tStart, tEnd, trace.ptr, traceEvery);
      if (solver === 'adam') return host.call('adamF64', ws.ptr, state.ptr, n, mode, iterations, lr, ADAM_DECAY, bound, tStart, tEnd, trace.ptr, traceEvery);
      return host.call('pdhgF64', ws.ptr, state.ptr, n, mode, iterations, lr, bound, tStart, tEnd, trace.ptr, traceEvery);
    };
    let final = 0;
    let chunk = Math.max(1, Math.round(2 ** 16 / size));
    for (let t = 0; t < iterations; ) {
      const tEnd = Math.min(iterations, t + chunk);
      const chunkStart = performance.now();
      final = run(t, tEnd);
      const elapsed = performance.now() - chunkStart;
      chunk = Math.max(1, Math.min(4 * chunk, Math.round((chunk * CHUNK_MS) / Math.max(elapsed, 0.05))));
      t = tEnd;
      if (t < iterations) {
        await new Promise((resolveYield) => setImmediate(resolveYield));
        if (signal?.aborted) throw new CancelledError('The decomposition was cancelled.');
      }
    }
    const view = host.view(ws);
    const gamma = view.slice(SLOT_GAMMA * size, (SLOT_GAMMA + 1) * size);
    const q = view.slice(SLOT_Q * size, (SLOT_Q + 1) * size);
    if (scale !== 1) {
      for (let i = 0; i < size; i++) {
        gamma[i] *= scale;
        q[i] *= scale;
      }
    }
    const traced = host.view(trace).map((x) => x * scale);
    return { split: { gamma, q }, ...settings, qBound, objective: { initial, final: final * scale }, trace: traced, traceEvery, ms: performance.now() - started };
  } finally {
    host.free(trace);
    host.free(state);
    host.free(ws);
  }
}
