// Runners evaluate plans on opened models. LocalRunner does it on the calling thread (workers: 0); the piscina pool
// (pool.ts) implements the same interface across worker threads. Both keep at most MAX_OPEN_MODELS models open.
import { CancelledError, DisposedError } from '../contracts/errors.js';
import type { BackendAttempt } from '../contracts/errors.js';
import type { SessionHandle, TensorInfo, ExecutionProvider, BackendId } from '../contracts/backend.js';
import { analyzeGame, type AnalysisTask, type GameAnalysis } from '../analysis/game.js';
import { randomFits } from '../analysis/sparse/fits.js';
import { createPause } from '../analysis/sparse/pause.js';
import type { FittedExpansion, RandomFitsTask } from '../analysis/sparse/types.js';
import type { KernelHost } from '../contracts/kernels.js';
import { evaluateList, evaluateRange, probeFull } from './evaluate.js';
import { LruCache, MAX_OPEN_MODELS } from './lru.js';
import { BuilderCache, type BatchBuilder } from './masking.js';
import { assertMaskList, maskRange, type MaskList, type MaskPlan } from './plan.js';
import type { BackendRegistry, Candidate } from './registry.js';

/** A model as the runner opened it. */
export interface OpenedModel {
  readonly key: string;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly backend: BackendId;
  readonly executionProvider: ExecutionProvider;
  /** Candidates that failed before the one that worked. */
  readonly attempts: readonly BackendAttempt[];
}

/** Progress of one evaluation: masks done out of total. */
export type ProgressCallback = (done: number, total: number) => void;

/** Masks start..end−1 of a plan. */
export interface MaskRange {
  readonly start: number;
  readonly end: number;
}

/** Options of one evaluation. */
export interface EvaluateOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
  /** Evaluate only these masks (a shard of the game), in model runs of exactly plan.batchSize rows that start at
   *  `start`: with start a multiple of batchFor(plan) and the plan's batchSize set to it, each mask's reward is the
   *  one the whole evaluation gives. Default: every mask 0..2^n−1. */
  readonly range?: MaskRange;
}

/** Where models run. */
export interface Runner {
  /** Opens (or reuses) a model under `key`. */
  open(key: string, model: Uint8Array, candidates: readonly Candidate[]): Promise<OpenedModel>;
  /** The output row (of plan.reward.output) on the full sample: one model run. */
  probe(key: string, plan: MaskPlan): Promise<Float64Array>;
  /** The reward of every mask 0..2^n−1 of the plan (or of options.range: start..end−1, in that order). */
  evaluate(key: string, plan: MaskPlan, options?: EvaluateOptions): Promise<Float64Array>;
  /** The rows per model run that evaluate(plan) uses (it depends on the plan and on this runner's workers only). */
  batchFor(plan: MaskPlan): number;
  /** The reward of every row of an explicit mask list (any n, bit-packed), in row order; every model run has the
   *  plan's batch size, so a mask's reward does not depend on the list it came in. */
  evaluateMasks(key: string, plan: MaskPlan, masks: MaskList, options?: EvaluateOptions): Promise<Float64Array>;
  /** Learns the split of a game and analyzes its interactions (decompose + interactions), off the caller's thread
   *  where the runner has workers. */
  analyze(task: AnalysisTask, signal?: AbortSignal): Promise<GameAnalysis>;
  /** The sparse method's fits on random masks (engine/analysis/sparse/fits.ts), off the caller's thread where the
   *  runner has workers; the same fits wherever they run. */
  fitRandom(task: RandomFitsTask, signal?: AbortSignal): Promise<FittedExpansion[]>;
  /** Releases one model. */
  close(key: string): Promise<void>;
  /** Releases everything; the runner is unusable afterwards. */
  dispose(): Promise<void>;
  /** Worker threads in use (0 for the local runner). */
  readonly workers: number;
}

/** Plans whose idle batch builders a LocalRunner keeps (BuilderCache), as a pool worker does: an explanation's probe
 *  plan and its own, and those of the one before. */
const MAX_PLANS = 4;

/** A model open on the calling thread; `busy` counts the probes and evaluations running on its session. */
interface LocalModel {
  readonly session: SessionHandle;
  readonly opened: OpenedModel;
  busy: number;
  /** 'retired': closed or evicted while busy, released when its last use ends. */
  state: 'open' | 'retired' | 'released';
}

/**
 * Runs models on the calling thread. It keeps at most MAX_OPEN_MODELS sessions (least recently used evicted and
 * released; explain opens its model again on demand), and dispose() stops a running evaluation or decomposition
 * within one batch or one chunk of iterations, the caller getting a CancelledError.
 */
export class LocalRunner implements Runner {
  readonly workers = 0;
  private readonly models: LruCache<LocalModel>;
  private readonly opening = new Map<string, Promise<OpenedModel>>();
  /** Idle batch buffers per plan, reused by later evaluations of it. An evaluation holds its own until it ends:
   *  two at once (the sparse method's AND and OR searches) on one buffer overwrote each other's batches. */
  private readonly builders = new BuilderCache<MaskPlan>(MAX_PLANS);
  /** Work in flight (opens, probes, evaluations, analyses): dispose() waits for it to stop. */
  private readonly running = new Set<Promise<unknown>>();
  private readonly disposing = new AbortController();
  private live = 0;
  private disposed = false;

  /**
   * @param registry - the backends
   * @param threads - intra-op threads per session
   * @param kernels - this thread's kernel instance (for analyze)
   */
  constructor(
    private readonly registry: BackendRegistry,
    private readonly threads: number,
    private readonly kernels: KernelHost,
  ) {
    this.models = new LruCache<LocalModel>(MAX_OPEN_MODELS, { onEvict: (model) => void this.retire(model), isBusy: (model) => model.busy > 0 });
  }

  /** Sessions open now (diagnostics and tests): at most MAX_OPEN_MODELS, plus any closed while still in use. */
  get openSessions(): number {
    return this.live;
  }

  async analyze(task: AnalysisTask, signal?: AbortSignal): Promise<GameAnalysis> {
    this.assertLive();
    const stop = signal ? AbortSignal.any([signal, this.disposing.signal]) : this.disposing.signal;
    return this.track(
      analyzeGame(this.kernels, task, stop).catch((error: unknown) => {
        throw this.disposed && error instanceof CancelledError ? disposedWhileRunning(error) : error;
      }),
    );
  }

  async fitRandom(task: RandomFitsTask, signal?: AbortSignal): Promise<FittedExpansion[]> {
    this.assertLive();
    const stop = signal ? AbortSignal.any([signal, this.disposing.signal]) : this.disposing.signal;
    const cancelled = () => {
      if (stop.aborted) throw this.disposed ? disposedWhileRunning(new CancelledError()) : new CancelledError('The fits on random masks were cancelled.');
    };
    // on this thread: pausing between the steps lets the other expansion's game calls go on
    return this.track(randomFits(this.kernels, task, createPause(cancelled)));
  }

  open(key: string, model: Uint8Array, candidates: readonly Candidate[]): Promise<OpenedModel> {
    this.assertLive();
    const open = this.models.get(key);
    if (open) return Promise.resolve(open.opened);
    // concurrent opens of one model share one session creation
    let opening = this.opening.get(key);
    if (!opening) {
      opening = this.track(
        this.registry.open(model, candidates, { intraOpThreads: this.threads, allowSpinning: false }).then(async ({ session, candidate, attempts }) => {
          this.live++;
          const opened: OpenedModel = { key, inputs: session.inputs, outputs: session.outputs, backend: candidate.backend, executionProvider: candidate.provider, attempts };
          const entry: LocalModel = { session, opened, busy: 0, state: 'open' };
          if (this.disposed) {
            await this.release(entry);
            throw new DisposedError('The engine was disposed while the model was opening; create a new one.');
          }
          this.models.set(key, entry);
          return opened;
        }),
      );
      const settled = () => this.opening.delete(key);
      opening.then(settled, settled);
      this.opening.set(key, opening);
    }
    return opening;
  }

  async probe(key: string, plan: MaskPlan): Promise<Float64Array> {
    return this.use(key, (model) => this.withBuilder(plan, (builder) => probeFull(model.session, builder)));
  }

  batchFor(plan: MaskPlan): number {
    return plan.batchSize;
  }

  async evaluate(key: string, plan: MaskPlan, options: EvaluateOptions = {}): Promise<Float64Array> {
    const { start, end } = maskRange(plan, options.range);
    const total = end - start;
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new CancelledError();
    return this.use(key, async (model) => {
      const v = new Float64Array(total);
      await this.withBuilder(plan, (builder) =>
        evaluateRange(model.session, builder, start, end, v, (done) => {
          if (this.disposed) throw disposedWhileRunning();
          onProgress?.(done, total);
          return !signal?.aborted;
        }),
      );
      return v;
    });
  }

  async evaluateMasks(key: string, plan: MaskPlan, masks: MaskList, options: EvaluateOptions = {}): Promise<Float64Array> {
    assertMaskList(plan, masks);
    const total = masks.count;
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new CancelledError();
    return this.use(key, async (model) => {
      const v = new Float64Array(total);
      await this.withBuilder(plan, (builder) =>
        evaluateList(model.session, builder, masks, 0, total, v, (done) => {
          if (this.disposed) throw disposedWhileRunning();
          onProgress?.(done, total);
          return !signal?.aborted;
        }),
      );
      return v;
    });
  }

  async close(key: string): Promise<void> {
    const model = this.models.delete(key);
    if (model) await this.retire(model);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.disposing.abort();
    // every evaluation stops after its current batch, every decomposition after its current chunk
    await Promise.allSettled([...this.running]);
    await Promise.all(this.models.clear().map((model) => this.retire(model)));
  }

  /** Runs fn with a batch builder of the plan that no other evaluation uses meanwhile. */
  private async withBuilder<T>(plan: MaskPlan, fn: (builder: BatchBuilder) => Promise<T>): Promise<T> {
    const builder = this.builders.acquire(plan, plan);
    try {
      return await fn(builder);
    } finally {
      this.builders.release(plan, builder);
    }
  }

  /** Runs fn on an open model's session; the model is not evicted, nor its session released, while fn runs. */
  private async use<T>(key: string, fn: (model: LocalModel) => Promise<T>): Promise<T> {
    this.assertLive();
    const model = this.models.get(key);
    if (!model) {
      throw new DisposedError(
        `Model ${key} is not open: it was closed, or evicted because ${this.models.capacity} other models were used since (a runner keeps the ${this.models.capacity} most recently used open). Open it again.`,
      );
    }
    model.busy++;
    try {
      return await this.track(fn(model));
    } finally {
      model.busy--;
      if (model.state === 'retired' && model.busy === 0) await this.release(model);
      this.models.trim();
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const done = () => this.running.delete(work);
    work.then(done, done);
    return work;
  }

  /** Releases an evicted or closed model's session now, or when its last use ends. */
  private async retire(model: LocalModel): Promise<void> {
    if (model.state === 'released') return;
    model.state = 'retired';
    if (model.busy === 0) await this.release(model);
  }

  private async release(model: LocalModel): Promise<void> {
    if (model.state === 'released') return;
    model.state = 'released';
    this.live--;
    await model.session.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new DisposedError('The engine was disposed; create a new one.');
  }
}

/** The CancelledError of work stopped by dispose(). */
function disposedWhileRunning(cause?: unknown): CancelledError {
  return new CancelledError('The engine was disposed while the job ran.', cause === undefined ? undefined : { cause });
}
