// The pool's worker thread, and its composition root: it registers the backends, keeps one session per model (created
// on first use, reused by later tasks, at most MAX_OPEN_MODELS of them: the least recently used is released), one set
// of batch buffers per plan and one kernel instance; it evaluates ranges of masks or of rows of a shared mask list,
// analyzes games (the decomposition) and runs the sparse method's fits on random masks, so the main thread stays free.
// Tasks and replies are plain objects and typed arrays; errors travel as {error: SerializedError}.
import { move } from 'piscina';
import { loadKernels, ortNodeBackend, ortWebBackend } from '../../bindings/index.js';
import { analyzeGame, type AnalysisTask, type GameAnalysis } from '../analysis/game.js';
import { randomFits } from '../analysis/sparse/fits.js';
import type { FittedExpansion, RandomFitsTask } from '../analysis/sparse/types.js';
import type { KernelHost, KernelTarget } from '../contracts/kernels.js';
import { CancelledError, serializeError, type SerializedError } from '../contracts/errors.js';
import type { SessionHandle } from '../contracts/backend.js';
import { evaluateList, evaluateRange, probeFull, workClock } from './evaluate.js';
import { LruCache, MAX_OPEN_MODELS } from './lru.js';
import { BuilderCache, type BatchBuilder } from './masking.js';
import type { MaskPlan } from './plan.js';
import { BackendRegistry, type Candidate } from './registry.js';
import type { OpenedModel } from './runner.js';

/** What every task carries: the model (shared bytes, opened lazily) and how to open it. */
export interface ModelRef {
  readonly key: string;
  readonly bytes: SharedArrayBuffer;
  readonly candidates: readonly Candidate[];
  readonly threads: number;
  /** Keys of models the main thread closed: drop their sessions. */
  readonly closed: readonly string[];
}

/** A mask list the main thread shares with the workers: rows of `words` 32-bit words over a SharedArrayBuffer. */
export interface SharedMasks {
  readonly n: number;
  readonly words: number;
  readonly bits: Uint32Array;
}

/** Tasks of the pool. */
export type WorkerTask =
  | { readonly kind: 'analyze'; readonly task: AnalysisTask; readonly kernels: KernelTarget; readonly control: Int32Array }
  /** The sparse method's fits on random masks; control[0] = cancel flag. */
  | { readonly kind: 'fits'; readonly task: RandomFitsTask; readonly kernels: KernelTarget; readonly control: Int32Array }
  | { readonly kind: 'open'; readonly model: ModelRef }
  /** Diagnostics: the number of sessions this worker holds (after dropping the closed ones). */
  | { readonly kind: 'sessions'; readonly closed: readonly string[] }
  | { readonly kind: 'probe'; readonly model: ModelRef; readonly plan: MaskPlan; readonly planId: string }
  | {
      readonly kind: 'evaluate';
      readonly model: ModelRef;
      readonly plan: MaskPlan;
      readonly planId: string;
      /** First mask (or row of `masks`) and one past the last. */
      readonly start: number;
      readonly end: number;
      /** Int32Array over a SharedArrayBuffer of 16 bytes: [0] = cancel flag, [1] = masks done (progress); bytes 8..15
       *  the µs of work, added to by each task (workClock). */
      readonly control: Int32Array;
      /** Evaluate these rows of a mask list instead of the mask indices start..end−1. */
      readonly masks?: SharedMasks;
      /** Claim units of start..end−1 in turn instead of evaluating all of it (the answer is then the rows evaluated). */
      readonly claim?: Claim;
    };

/**
 * A job's rows start..end−1 (mask indices, or rows of a mask list) cut into `count` units that the workers claim in
 * turn (pool.ts): unit k is rows start + k·rows onwards, `rows` of them, the last one up to end. claims[0] is the
 * next unit to take, and claims[1 + k] is set to 1 once unit k's rewards are in output (index: row − start). One task
 * per worker takes units until none is left, so a worker that starts late takes fewer, and no unit waits for the main
 * thread.
 */
export interface Claim {
  readonly rows: number;
  readonly count: number;
  /** Int32Array over a SharedArrayBuffer of count + 1 elements. */
  readonly claims: Int32Array;
  /** Float64Array over a SharedArrayBuffer, one reward per row start..end−1. */
  readonly output: Float64Array;
}

/** A reply that is not a result. */
export interface WorkerFailure {
  readonly error: SerializedError;
}

type WorkerModel = Promise<{ session: SessionHandle; opened: OpenedModel }>;

/** Releases a session that was dropped; a model that failed to open has nothing to release (its task got the error). */
function release(model: WorkerModel): void {
  void model.then(({ session: s }) => s.dispose(), () => undefined);
}

const registry = new BackendRegistry().register(ortNodeBackend).register(ortWebBackend);
// one task at a time per worker: the session of the running task is the most recently used, never the one evicted
const sessions = new LruCache<WorkerModel>(MAX_OPEN_MODELS, { onEvict: release });
/** Batch builders of the last MAX_PLANS plans (by plan id: a plan and a batch size), their buffers reused by later
 *  plans of the same shape. */
const MAX_PLANS = 4;
const builders = new BuilderCache<string>(MAX_PLANS);
const kernelHosts = new Map<KernelTarget, Promise<KernelHost>>();

function kernels(target: KernelTarget): Promise<KernelHost> {
  let host = kernelHosts.get(target);
  if (!host) kernelHosts.set(target, (host = loadKernels(target)));
  return host;
}

function dropClosed(closed: readonly string[]): void {
  for (const key of closed) {
    const closing = sessions.delete(key);
    if (closing) release(closing);
  }
}

function session(model: ModelRef): WorkerModel {
  dropClosed(model.closed);
  let entry = sessions.get(model.key);
  if (!entry) {
    // ORT rejects SharedArrayBuffer-backed model bytes: copy once per worker and model
    const bytes = new Uint8Array(model.bytes.byteLength);
    bytes.set(new Uint8Array(model.bytes));
    entry = registry.open(bytes, model.candidates, { intraOpThreads: model.threads, allowSpinning: false }).then(({ session: s, candidate, attempts }) => ({
      session: s,
      opened: { key: model.key, inputs: s.inputs, outputs: s.outputs, backend: candidate.backend, executionProvider: candidate.provider, attempts },
    }));
    sessions.set(model.key, entry);
    const failed = entry;
    // a failed open is not kept (the task that asked gets the error); a later task may try again
    failed.catch(() => {
      if (sessions.peek(model.key) === failed) sessions.delete(model.key);
    });
  }
  return entry;
}

/**
 * Handles one task.
 * @returns the opened model's metadata, the probed output row, the rewards of the range (moved, not copied) or the
 *   rows a claim task evaluated, a game's analysis, or the fitted expansions; a WorkerFailure for errors of the task
 *   itself (a rejected promise means the thread failed)
 */
export default async function handle(task: WorkerTask): Promise<OpenedModel | Float64Array | GameAnalysis | FittedExpansion[] | number | WorkerFailure> {
  try {
    if (task.kind === 'sessions') {
      dropClosed(task.closed);
      return sessions.size;
    }
    if (task.kind === 'analyze') {
      const { control } = task;
      // the decomposition polls `aborted` between chunks of iterations; the main thread sets control[0] to cancel
      const signal = { get aborted() { return Atomics.load(control, 0) !== 0; } } as AbortSignal;
      return await analyzeGame(await kernels(task.kernels), task.task, signal);
    }
    if (task.kind === 'fits') {
      const { control } = task;
      // nothing else runs on this thread: the pauses only look at the cancel flag
      const cancelled = () => {
        if (Atomics.load(control, 0) !== 0) throw new CancelledError('The fits on random masks were cancelled.');
      };
      return await randomFits(await kernels(task.kernels), task.task, async () => cancelled());
    }
    const { session: s, opened } = await session(task.model);
    if (task.kind === 'open') return opened;
    // one task at a time: the builder goes back when the task ends
    const batches = builders.acquire(task.planId, task.plan);
    try {
      return await runOn(s, batches, task);
    } finally {
      builders.release(task.planId, batches);
    }
  } catch (error) {
    return { error: serializeError(error) };
  }
}

/** A probe or an evaluation on the session, in the builder's batches. */
async function runOn(s: SessionHandle, batches: BatchBuilder, task: Extract<WorkerTask, { kind: 'probe' | 'evaluate' }>): Promise<Float64Array | number> {
  if (task.kind === 'probe') return await probeFull(s, batches);
  const { start, end, control } = task;
  const began = performance.now();
  const out = new Float64Array(task.claim ? 0 : end - start);
  let reported = 0;
  const afterBatch = (done: number) => {
    Atomics.add(control, 1, done - reported);
    reported = done;
    return Atomics.load(control, 0) === 0;
  };
  const masks = task.masks && { ...task.masks, count: end };
  const rows = (first: number, last: number, into: Float64Array, after: (done: number) => boolean) =>
    masks ? evaluateList(s, batches, masks, first, last, into, after) : evaluateRange(s, batches, first, last, into, after);
  const claimed = task.claim ? await evaluateClaims(rows, start, end, task.claim, afterBatch) : undefined;
  if (!task.claim) await rows(start, end, out, afterBatch);
  // the work itself, for the main thread's estimate of the model's speed (a round trip also counts its waits)
  Atomics.add(workClock(control), 0, BigInt(Math.round(1000 * (performance.now() - began))));
  return claimed ?? (move(out) as unknown as Float64Array);
}

/**
 * Takes units of a job until none is left (Claim), each unit's rewards written to claim.output and then marked done.
 * @param rows - evaluates rows first..last−1 into `into` (evaluateList or evaluateRange), calling `after` as they do
 * @param start - the job's first row; end: one past its last
 * @param afterBatch - progress, as for evaluateList: the rows this task has done so far
 * @returns the rows this task evaluated
 */
async function evaluateClaims(
  rows: (first: number, last: number, into: Float64Array, after: (done: number) => boolean) => Promise<void>,
  start: number,
  end: number,
  claim: Claim,
  afterBatch: (done: number) => boolean,
): Promise<number> {
  let done = 0;
  for (let unit = Atomics.add(claim.claims, 0, 1); unit < claim.count; unit = Atomics.add(claim.claims, 0, 1)) {
    const first = start + unit * claim.rows;
    const last = unit === claim.count - 1 ? end : first + claim.rows;
    const before = done;
    await rows(first, last, claim.output.subarray(first - start, last - start), (d) => afterBatch(before + d));
    Atomics.store(claim.claims, 1 + unit, 1);
    done += last - first;
  }
  return done;
}
