// The Engine: validated, frozen options; one kernel instance; one runner (local or pool) that keeps sessions open
// across calls; a lifecycle state. Built by createEngine in index.ts, which supplies the backends and kernels.
import { CancelledError, DisposedError, InvalidOptionError } from '../contracts/errors.js';
import { preview } from '../inputs/preview.js';
import type { TensorInfo } from '../contracts/backend.js';
import type { KernelHost, KernelTarget } from '../contracts/kernels.js';
import { runDynamics, type DynamicsRequest, type DynamicsResult } from '../studies/dynamics.js';
import { runBatch, type BatchRequest, type BatchResult, type StudyContext } from '../studies/batch.js';
import type { UnitExecutor } from '../explain/units.js';
import { runWorker, type WorkerOptions, type WorkerStats } from '../distributed/index.js';
import { assertValid } from '../inputs/validate.js';
import { BatchRequestSchema } from '../contracts/schema/requests.js';
import { explainGame, explainModel, loadModelBytes, type ExplainContext, type ExplainRequest, type ExplainResult, type GameRequest } from '../explain/explain.js';
import { exactMethod, explainFunction, sparseMethod, type FunctionRequest, type SparseLimits, type SparseResult } from '../explain/sparse.js';
import { transform, type TransformName } from '../analysis/transforms.js';
import { candidatesFor, type BackendChoice } from '../pipeline/registry.js';
import type { OpenedModel, Runner } from '../pipeline/runner.js';

/** A model as openModel describes it. */
export interface ModelInfo {
  readonly file?: string;
  readonly sha256: string;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly backend: string;
  readonly executionProvider: string;
}

/** Lifecycle of an engine. */
export type EngineState = 'idle' | 'loading' | 'ready' | 'failed' | 'disposed';

/** Where the engine's messages go; the CLI prints them to stderr, the library default drops them. */
export interface Logger {
  warn(message: string): void;
  info(message: string): void;
}

/** Options of createEngine, all optional. */
export interface EngineOptions {
  /** Where models run: 'auto' tries CUDA, then CPU, then WASM (default 'auto'). */
  readonly backend?: BackendChoice;
  /** Worker threads for masked evaluation; 0 runs on the calling thread (default: one per core, at most 8). */
  readonly workers?: number;
  /** Intra-op threads per session (default: cores / max(1, workers), i.e. 1 with the default workers). */
  readonly threads?: number;
  /** Kernel build: 'release' or 'debug' (asserts on). */
  readonly kernels?: KernelTarget;
  /** Memory budget for one explanation's 2^n arrays, in MiB (default 4096). */
  readonly maxMemoryMb?: number;
  /** Most players one explanation may have (default 30; the memory budget usually binds first). */
  readonly maxPlayers?: number;
  /** Where the engine's warnings go (a backend fallback, a decomposition that diverged); default: nowhere. */
  readonly logger?: Logger;
  /** An executor from createQueueExecutor: explainBatch and dynamics send their units through it, to the workers
   *  that serve its queue, instead of running them here (default: here). The caller closes it. */
  readonly queue?: UnitExecutor;
}

/** Options of Engine.serveQueue: runWorker's, less the engine context, which is the engine's own. */
export type ServeQueueOptions = Omit<WorkerOptions, 'context'>;

/** EngineOptions after validation, with defaults filled in. */
export interface ResolvedEngineOptions {
  readonly backend: BackendChoice;
  readonly workers: number;
  readonly threads: number;
  readonly kernels: KernelTarget;
  readonly maxMemoryMb: number;
  readonly maxPlayers: number;
}

/** The andor engine. Create with createEngine; call dispose() when done. */
export class Engine {
  private state_: EngineState = 'ready';
  private lastBackend: string | undefined;
  private warned = new Set<string>();
  /** Aborted by dispose(): stops the runs that do not go through the runner (explainFunction's game calls). */
  private readonly disposing = new AbortController();

  constructor(
    readonly options: ResolvedEngineOptions,
    private readonly kernels: KernelHost,
    private readonly runner: Runner,
    private readonly logger: Logger,
    private readonly queue?: UnitExecutor,
  ) {}

  /** Current lifecycle state. */
  get state(): EngineState {
    return this.state_;
  }

  /** The backend and provider of the most recently opened model, e.g. "ort-node/cpu" (undefined before any). */
  get backend(): string | undefined {
    return this.lastBackend;
  }

  /**
   * Explains one sample of an ONNX model. The exact method (the default) evaluates all 2^n masks and learns the AND-OR
   * split; method 'sparse' recovers the AND and OR terms up to maxOrder from a budget of evaluations, for up to 4096
   * players. The result's type follows the method asked for; a request too large for the exact method is a
   * MemoryLimitError that says to use method 'sparse' (explainAuto switches by itself, as the CLI and the service do).
   * @param request - model, sample, players, baseline, reward, analysis options; method, budget, maxOrder
   * @param limits - tighter limits on the sparse method (the HTTP service's maxSparsePlayers and maxBudget)
   * @returns exact: v, the interactions, matching error, salient interactions, per-order strength, indices and
   *   timings; sparse: the terms, evaluations, faithfulness R², salient terms, per-order strength and indices
   * @throws InvalidOptionError (budget or maxOrder without method 'sparse'; a budget below the least states it; n
   *   above the sparse limit), ShapeMismatchError, ModelLoadError, NonFiniteError, MemoryLimitError, CancelledError
   */
  async explain(request: ExplainRequest & { readonly method?: 'exact' }, limits?: SparseLimits): Promise<ExplainResult>;
  async explain(request: ExplainRequest & { readonly method: 'sparse' }, limits?: SparseLimits): Promise<SparseResult>;
  async explain(request: ExplainRequest, limits?: SparseLimits): Promise<ExplainResult | SparseResult>;
  async explain(request: ExplainRequest, limits: SparseLimits = {}): Promise<ExplainResult | SparseResult> {
    this.assertLive();
    // a library call never changes method (and result type) behind its caller's back
    return this.unlessDisposed(request, explainModel(this.context(), request, { other: request?.method === 'sparse' ? sparseMethod(limits) : exactMethod }));
  }

  /**
   * explain with the rule of the CLI and the service: the sparse method when asked for, when a budget or maxOrder is
   * given, or when the 2^n arrays do not fit the memory limit; else the exact method.
   * @param request - as explain's
   * @param limits - as explain's
   * @returns an ExplainResult or a SparseResult (isSparseResult tells them apart)
   * @throws as explain
   */
  async explainAuto(request: ExplainRequest, limits: SparseLimits = {}): Promise<ExplainResult | SparseResult> {
    this.assertLive();
    return this.unlessDisposed(request, explainModel(this.context(), request, { other: sparseMethod(limits) }));
  }

  /**
   * Explains a game given as a function of bit-packed masks by the sparse method, for models evaluated elsewhere:
   * the game gets MaskBatch {n, count, words, bits} (row r, player i at bit (bits[r·words + (i>>>5)] >>> (i&31)) & 1)
   * and returns one value per row.
   * @param request - game, n (≤ 4096), budget, maxOrder, names, salient and index options, signal, onProgress
   * @returns the AND and OR terms, evaluations, faithfulness R², salient terms, per-order strength and indices
   * @throws InvalidOptionError for a bad option or a budget below the least (stated); InvalidInputError when the game
   *   throws (cause attached); ShapeMismatchError for a wrong count; NonFiniteError for NaN; CancelledError;
   *   MemoryLimitError when its term lists and fits pass maxMemoryMb (with the budget that fits)
   */
  async explainFunction(request: FunctionRequest): Promise<SparseResult> {
    this.assertLive();
    const { maxMemoryMb, maxPlayers } = this.options;
    return explainFunction(request, this.kernels, { runner: this.runner, stop: this.disposing.signal, limits: { maxMemoryMb, maxPlayers }, onWarning: (message) => this.logger.warn(message) });
  }

  /**
   * Opens a model (or returns it if already open) and describes it, without explaining anything. Explanations of the
   * same file or bytes reuse the session.
   * @param model - path of an ONNX file, or its bytes
   * @returns its sha256, inputs and outputs (names, dtypes, shapes) and the backend that runs it
   * @throws ModelLoadError for a missing or malformed file; BackendUnavailableError when no backend runs it
   */
  async openModel(model: string | Uint8Array): Promise<ModelInfo> {
    this.assertLive();
    const { bytes, sha256, file } = await loadModelBytes(model);
    const opened = await this.runner.open(sha256, bytes, candidatesFor(this.options.backend));
    this.noteOpened(opened);
    return { file, sha256, inputs: opened.inputs, outputs: opened.outputs, backend: opened.backend, executionProvider: opened.executionProvider };
  }

  /**
   * Interactions across the checkpoints of a training run: per-order strength, κ, the turning point, the theory fit,
   * train/test Jaccard, OOD strength and generalizable interactions (pairs cached on disk; a rerun resumes).
   * With method 'sparse' (or budget, maxOrder or tolerance), every pair is explained by the sparse method; its term
   * lists serve every measure but the theory, whose solve is over all 2^n sets (theory: null).
   * @param request - checkpoints, samples (split train/test/ood), losses, reference models and explain options
   * @throws InvalidInputError for missing files or unlabelled samples; CancelledError when signal aborts
   */
  async dynamics(request: DynamicsRequest): Promise<DynamicsResult> {
    this.assertLive();
    return this.unlessDisposed(request, runDynamics(this.context(), request));
  }

  /**
   * Explains many samples of one model: each sample's result (from the content-addressed cache when it is there, so a
   * rerun resumes), and their aggregate: every sample's Shapley values, and the mean and spread of each salient
   * interaction and the per-order strength, overall and per class.
   * With method 'sparse' (or budget, maxOrder or tolerance), every sample is explained by the sparse method and the
   * aggregate is taken over their term lists; a batch never switches method on its own, as explain does when 2^n does
   * not fit.
   * @param request - the model, the samples and rows, the explain options, the cache, onResult for streaming
   * @param limits - tighter limits on the sparse method (a service's)
   * @returns the aggregate, with every sample's result unless onResult takes them as they come
   * @throws InvalidOptionError, InvalidInputError when the samples disagree on the players, CancelledError
   */
  async explainBatch(request: BatchRequest & ExactRequest, limits?: SparseLimits): Promise<BatchResult<ExplainResult>>;
  async explainBatch(request: BatchRequest & { readonly method: 'sparse' }, limits?: SparseLimits): Promise<BatchResult<SparseResult>>;
  async explainBatch(request: BatchRequest, limits?: SparseLimits): Promise<BatchResult>;
  async explainBatch(request: BatchRequest, limits: SparseLimits = {}): Promise<BatchResult> {
    this.assertLive();
    assertValid(BatchRequestSchema, request);
    return this.unlessDisposed(request, runBatch({ ...this.context(), sparseLimits: limits }, request, request.onResult === undefined));
  }

  /**
   * Computes interactions of a game given as v on all 2^n masks (bit i of the index = player i).
   * @param request - the values (array, Float64Array, inline JSON or a .json / raw float64 file) and analysis options
   * @throws ShapeMismatchError when the length is not a power of two; NonFiniteError for NaN/Inf values
   */
  async explainValues(request: GameRequest): Promise<ExplainResult> {
    this.assertLive();
    return this.unlessDisposed(request, explainGame(this.context(), request));
  }

  /** Subset Möbius transform (Harsanyi dividends) of f64[2^n]; returns a new array. */
  async mobius(x: Float64Array): Promise<Float64Array> {
    return this.transform('mobiusSubsetF64', x);
  }

  /** Subset zeta transform (sum over subsets) of f64[2^n]. */
  async zeta(x: Float64Array): Promise<Float64Array> {
    return this.transform('zetaSubsetF64', x);
  }

  /** Superset Möbius transform of f64[2^n] (the adjoint of mobius). */
  async mobiusSuperset(x: Float64Array): Promise<Float64Array> {
    return this.transform('mobiusSupersetF64', x);
  }

  /** Superset zeta transform of f64[2^n] (the adjoint of zeta). */
  async zetaSuperset(x: Float64Array): Promise<Float64Array> {
    return this.transform('zetaSupersetF64', x);
  }

  /** OR interactions of a game v_or (spec §1.4, with I_or(∅) = v_or(∅)). */
  async orTransform(x: Float64Array): Promise<Float64Array> {
    return this.transform('orTransformF64', x);
  }

  /** The inverse of orTransform: the game rebuilt from OR interactions. */
  async orInverse(x: Float64Array): Promise<Float64Array> {
    return this.transform('orInverseF64', x);
  }

  /**
   * Serves a job queue: takes the units that clients with the same queue (`queue` option, `--queue URL`) send, runs
   * each with this engine, and stores its result in the queue's database, until options.signal aborts (running units
   * finish first). A worker that dies loses nothing: its units go to another worker once their lease runs out.
   * @param options - the database URL, the model store, concurrency, the stop signal and onEvent
   * @returns the counts of units completed, found already stored, failed and aborted
   * @throws InvalidOptionError for a bad option; QueueUnavailableError when the database stays unreachable
   */
  async serveQueue(options: ServeQueueOptions): Promise<WorkerStats> {
    this.assertLive();
    return runWorker({ ...options, context: this.context() });
  }

  /** Releases sessions, workers and kernel memory. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.state_ === 'disposed') return;
    this.state_ = 'disposed';
    this.disposing.abort(new DisposedError('The engine was disposed while the explanation ran.'));
    await this.runner.dispose();
  }

  /** A job's CancelledError that dispose() caused, not the caller's signal, as DisposedError: every method ends so
   *  (an exact explain on the pool said 'The decomposition was cancelled.' where explainFunction said disposed; an
   *  adversarial sweep, stop 48). */
  private async unlessDisposed<T>(request: { readonly signal?: AbortSignal } | undefined, job: Promise<T>): Promise<T> {
    try {
      return await job;
    } catch (error) {
      if (error instanceof CancelledError && this.state_ === 'disposed' && !request?.signal?.aborted) throw new DisposedError('The engine was disposed while the job ran.', { cause: error });
      throw error;
    }
  }

  private context(): StudyContext {
    const { maxMemoryMb, maxPlayers } = this.options;
    const context: ExplainContext = { runner: this.runner, kernels: this.kernels, candidates: candidatesFor(this.options.backend), limits: { maxMemoryMb, maxPlayers }, onOpened: (model) => this.noteOpened(model), onWarning: (message) => this.logger.warn(message) };
    return this.queue === undefined ? context : { ...context, executor: this.queue };
  }

  private transform(name: TransformName, x: Float64Array): Float64Array {
    this.assertLive();
    if (!(x instanceof Float64Array)) throw new InvalidOptionError(`The transforms take a Float64Array of 2^n values, one per mask (got ${preview(x)}).`);
    return transform(this.kernels, name, x);
  }

  /** Records the backend in use; a fallback the user should know about is logged once per reason. */
  private noteOpened(model: OpenedModel): void {
    this.lastBackend = `${model.backend}/${model.executionProvider}`;
    if (model.attempts.length === 0) return;
    const reasons = model.attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ');
    const wanted = this.options.backend === 'cuda' ? 'CUDA was requested but cannot be used' : 'The preferred backends cannot be used';
    const message = `${wanted} (${reasons}). Running on ${this.lastBackend}.`;
    if (this.warned.has(message)) return;
    this.warned.add(message);
    // asking for CUDA, or losing the native runtime, deserves a warning; auto skipping a missing CUDA is routine
    const routine = this.options.backend === 'auto' && model.backend === 'ort-node';
    if (routine) this.logger.info(message);
    else this.logger.warn(message);
  }

  private assertLive(): void {
    if (this.state_ === 'disposed') throw new DisposedError('This engine was disposed; create a new one with createEngine().');
  }
}

/** A batch request that asks for the exact method: no method 'sparse' and none of the options only it takes. */
type ExactRequest = { readonly method?: 'exact'; readonly budget?: undefined; readonly maxOrder?: undefined; readonly tolerance?: undefined };

