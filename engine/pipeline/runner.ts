// Runners evaluate plans on opened models. LocalRunner does it on the calling thread (workers: 0); the piscina pool
// (pool.ts) implements the same interface across worker threads.
import { CancelledError, DisposedError } from '../contracts/errors.js';
import type { BackendAttempt } from '../contracts/errors.js';
import type { SessionHandle, TensorInfo, ExecutionProvider, BackendId } from '../contracts/backend.js';
import { analyzeGame, type AnalysisTask, type GameAnalysis } from '../analysis/game.js';
import type { KernelHost } from '../contracts/kernels.js';
import { evaluateRange, probeFull } from './evaluate.js';
import { BatchBuilder } from './masking.js';
import type { MaskPlan } from './plan.js';
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

/** Options of one evaluation. */
export interface EvaluateOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressCallback;
}

/** Where models run. */
export interface Runner {
  /** Opens (or reuses) a model under `key`. */
  open(key: string, model: Uint8Array, candidates: readonly Candidate[]): Promise<OpenedModel>;
  /** The output row (of plan.reward.output) on the full sample: one model run. */
  probe(key: string, plan: MaskPlan): Promise<Float64Array>;
  /** The reward of every mask 0..2^n−1 of the plan. */
  evaluate(key: string, plan: MaskPlan, options?: EvaluateOptions): Promise<Float64Array>;
  /** Learns the split of a game and analyzes its interactions (decompose + interactions), off the caller's thread
   *  where the runner has workers. */
  analyze(task: AnalysisTask, signal?: AbortSignal): Promise<GameAnalysis>;
  /** Releases one model. */
  close(key: string): Promise<void>;
  /** Releases everything; the runner is unusable afterwards. */
  dispose(): Promise<void>;
  /** Worker threads in use (0 for the local runner). */
  readonly workers: number;
}

/** Runs models on the calling thread. */
export class LocalRunner implements Runner {
  readonly workers = 0;
  private readonly sessions = new Map<string, { session: SessionHandle; opened: OpenedModel }>();
  private readonly opening = new Map<string, Promise<OpenedModel>>();
  /** Batch buffers per plan, reused by repeated evaluations of it. */
  private readonly builders = new WeakMap<MaskPlan, BatchBuilder>();
  private disposed = false;

  constructor(
    private readonly registry: BackendRegistry,
    private readonly threads: number,
    private readonly kernels: KernelHost,
  ) {}

  async analyze(task: AnalysisTask, signal?: AbortSignal): Promise<GameAnalysis> {
    this.assertLive();
    return analyzeGame(this.kernels, task, signal);
  }

  open(key: string, model: Uint8Array, candidates: readonly Candidate[]): Promise<OpenedModel> {
    this.assertLive();
    // concurrent opens of one model share one session creation
    let opening = this.opening.get(key);
    if (!opening) {
      opening = this.registry.open(model, candidates, { intraOpThreads: this.threads, allowSpinning: false }).then(({ session, candidate, attempts }) => {
        const opened: OpenedModel = { key, inputs: session.inputs, outputs: session.outputs, backend: candidate.backend, executionProvider: candidate.provider, attempts };
        this.sessions.set(key, { session, opened });
        return opened;
      });
      this.opening.set(key, opening);
      opening.catch(() => this.opening.delete(key));
    }
    return opening;
  }

  async probe(key: string, plan: MaskPlan): Promise<Float64Array> {
    return probeFull(this.session(key), this.builder(plan));
  }

  async evaluate(key: string, plan: MaskPlan, options: EvaluateOptions = {}): Promise<Float64Array> {
    const session = this.session(key);
    const total = 2 ** plan.n;
    const v = new Float64Array(total);
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new CancelledError();
    await evaluateRange(session, this.builder(plan), 0, total, v, (done) => {
      onProgress?.(done, total);
      return !signal?.aborted && !this.disposed;
    });
    return v;
  }

  async close(key: string): Promise<void> {
    const entry = this.sessions.get(key);
    this.sessions.delete(key);
    this.opening.delete(key);
    await entry?.session.dispose();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const entries = [...this.sessions.values()];
    this.sessions.clear();
    this.opening.clear();
    await Promise.all(entries.map((e) => e.session.dispose()));
  }

  private builder(plan: MaskPlan): BatchBuilder {
    let found = this.builders.get(plan);
    if (!found) this.builders.set(plan, (found = new BatchBuilder(plan)));
    return found;
  }

  private session(key: string): SessionHandle {
    this.assertLive();
    const entry = this.sessions.get(key);
    if (!entry) throw new DisposedError(`Model ${key} is not open (it was closed or never opened).`);
    return entry.session;
  }

  private assertLive(): void {
    if (this.disposed) throw new DisposedError('The engine was disposed; create a new one.');
  }
}
