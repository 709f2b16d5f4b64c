// The piscina worker pool behind Runner: a fixed set of long-lived workers, one session per worker and model, and per
// job one task per worker that claims units of the job (mask indices, or rows of a mask list shared with the
// workers) and writes their rewards to shared memory; batches are built in the worker into reusable buffers.
// Progress and cooperative cancellation go through a small SharedArrayBuffer; a worker that dies is replaced by
// piscina and its task retried once. The pool keeps the bytes of at most MAX_OPEN_MODELS models (least recently used
// evicted), and each worker at most as many sessions.
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { CancelledError, DisposedError, WorkerCrashedError, reviveError } from '../contracts/errors.js';
import type { AnalysisTask, GameAnalysis } from '../analysis/game.js';
import type { FittedExpansion, RandomFitsTask } from '../analysis/sparse/types.js';
import type { KernelTarget } from '../contracts/kernels.js';
import { workClock } from './evaluate.js';
import { LruCache, MAX_OPEN_MODELS } from './lru.js';
import { assertMaskList, maskRange, type MaskList, type MaskPlan } from './plan.js';
import type { Candidate } from './registry.js';
import type { EvaluateOptions, OpenedModel, Runner } from './runner.js';
import type { Claim, ModelRef, SharedMasks, WorkerFailure, WorkerTask } from './worker.js';

/** How often the main thread reads the workers' progress counter (ms). */
const PROGRESS_MS = 100;
/** The workers' Node options: the process's that a worker takes, with require(esm) off where Node has it on (see the
 *  constructor; exported for tests). */
export const WORKER_EXEC_ARGV = (process.features as { require_module?: boolean }).require_module ? workerOptions([...process.execArgv, '--no-experimental-require-module']) : undefined;

/**
 * The options of `wanted` that a worker takes. A worker refuses V8's and the process's own options given to it
 * (--max-old-space-size, --expose-gc, --stack-size: they hold for every thread of the process anyway), and a pool
 * constructed with them threw ERR_WORKER_INVALID_EXEC_ARGV: no engine with workers, nor `andor serve`, started under
 * `node --max-old-space-size=…` (an adversarial sweep, stop 43). The Worker constructor's own check names them before
 * it starts a thread; a probe it passes (the process had options) is terminated at once.
 */
function workerOptions(wanted: readonly string[]): string[] {
  const probe = (options: string[]): unknown => {
    try {
      void new Worker('', { eval: true, execArgv: options }).terminate();
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_WORKER_INVALID_EXEC_ARGV') return error;
      throw error;
    }
  };
  const own = wanted.slice(process.execArgv.length);
  if (process.execArgv.length === 0) return own;
  const refusal = probe([...wanted]);
  if (refusal === undefined) return [...wanted];
  // the message lists them: "Initiated Worker with invalid execArgv flags: --a=1, --b"; a value given apart from its
  // flag would stay behind, so a list the worker still refuses falls back to our own options
  const refused = new Set(String((refusal as Error).message).replace(/^.*?flags:\s*/, '').split(/,\s*/));
  const kept = wanted.filter((flag) => !refused.has(flag));
  return probe(kept) === undefined ? kept : own;
}
/** Masks per unit (and rows per batch) at most. */
const MAX_TASK_MASKS = 16_384;
/** Work per unit of the exact path's masks once a model's speed is known (units of whole batches; it was the work per
 *  task when each unit was a task of its own, long enough to keep the ~0.4 ms round trip of a task under 10 %). */
const TASK_MS = 5;
/** Work per unit of a mask list once a model's speed is known, and units per worker before (listUnits). */
const UNIT_MS = 2;
const UNITS_PER_WORKER = 4;
/** A mask list of at least this much work (ms, at the model's measured speed) is spread over the workers: two tasks'
 *  round trips (0.1–0.4 ms each) then cost less than the half of the work they save. A shorter one runs on one
 *  thread: the calling thread when the pool has a local runner, else one worker. The calling thread runs it as fast,
 *  without the round trip: waking a worker took 0.15–0.6 ms and its answer 0.1–0.5 ms more in a patches-49 run here
 *  (timestamps in the tasks, ad hoc). With the calling thread only under 0.25 ms of work, sparse runs took (median µs
 *  per evaluation, 10–15 runs each way alternating in one process, ad hoc): patches-49 at 10⁴ evaluations 18.8 and
 *  20.8 against 17.0 and 17.3 under 1 ms, digits-cnn 4×4 7.33 against 6.99, the MLP at n = 18 0.98 against 0.80. */
const SPLIT_MS = 1;
/** dispose() first stops the jobs in flight (their cancel words) and waits up to this long for their tasks and the
 *  calling thread's own runs to end: a worker terminated while onnxruntime ran in it, or a session released under a
 *  run, aborted the whole process ("terminate called after throwing an instance of 'Napi::Error'": 14 of 20
 *  disposals 185–280 ms into an exact explanation of the MLP; an adversarial sweep, stop 43). A batch or a kernel
 *  call ends in milliseconds, opening a session in under a second. */
const DRAIN_MS = 10_000;
/** Fewest rows per batch (unless the job is smaller): smaller batches waste the runtime's per-run overhead. */
const MIN_TASK_MASKS = 64;
/** Keys of closed or evicted models remembered for the workers (each task tells them to release those sessions);
 *  a worker that misses one still bounds its sessions by its own LRU. */
const MAX_CLOSED_KEYS = 64;

interface PoolModel {
  readonly bytes: SharedArrayBuffer;
  opened: Promise<OpenedModel>;
  candidates: readonly Candidate[];
  /** Probes and evaluations in flight: the model is not evicted while they run. */
  busy: number;
}

/** Pool options. */
export interface PoolOptions {
  readonly workers: number;
  /** Intra-op threads per worker session. */
  readonly threads: number;
  /** Worker module URL (default: worker.js next to this file). */
  readonly filename?: string;
  /** The kernel build the workers load for analyses (default release). */
  readonly kernels?: KernelTarget;
  /** A runner on the calling thread (a LocalRunner of the same threads) for mask lists shorter than a task's round
   *  trip: a sparse search's small calls on a fast model. It opens its own session of a model on first use; the pool
   *  closes and disposes it with its own. */
  readonly local?: Runner;
}

function isFailure(value: unknown): value is WorkerFailure {
  return typeof value === 'object' && value !== null && 'error' in value && !(value instanceof Float64Array);
}

/** Evaluates plans on a piscina pool of `workers` threads. */
export class PoolRunner implements Runner {
  readonly workers: number;
  private readonly pool: Piscina;
  private readonly models: LruCache<PoolModel>;
  private readonly closed = new Set<string>();
  /** Masks per millisecond of one worker's own work on each model (moving average over jobs): the size of later
   *  units, and which short lists run on the calling thread. */
  private readonly rates = new Map<string, number>();
  private readonly planIds = new WeakMap<MaskPlan, number>();
  /** Models the local runner has opened (or is opening), by key. */
  private readonly openedHere = new Map<string, Promise<OpenedModel>>();
  private nextPlanId = 1;
  private disposed = false;
  /** The cancel words of the jobs and kernel tasks in flight, and what runs now (pool tasks, the calling thread's
   *  evaluations): dispose() stops the first and waits for the second (DRAIN_MS). */
  private readonly cancels = new Set<Int32Array>();
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly options: PoolOptions) {
    this.workers = options.workers;
    this.models = new LruCache<PoolModel>(MAX_OPEN_MODELS, { onEvict: (_model, key) => void this.forget(key), isBusy: (model) => model.busy > 0 });
    this.pool = new Piscina({
      filename: options.filename ?? new URL('./worker.js', import.meta.url).href,
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: Infinity,
      // one task per worker at a time: the pool never oversubscribes the cores it was sized for
      concurrentTasksPerWorker: 1,
      // a small young generation collects the ArrayBuffers of model outputs promptly (they are external memory)
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
      // piscina loads the worker module with require() first; on Node 20.19+ that is require(esm), which at times
      // met the module half-loaded and aborted the process (V8: "IsGraphAsync must be used on an instantiated
      // module": 3 of 120 CLI runs, 6 at once). Without it, piscina's fallback import() loads the module
      ...(WORKER_EXEC_ARGV ? { execArgv: WORKER_EXEC_ARGV } : {}),
    });
    // a crashed worker surfaces as the rejection of its task; piscina replaces the thread
    this.pool.on('error', () => undefined);
  }

  /** The worker threads (diagnostics and tests). */
  get threads(): readonly { terminate(): Promise<number> }[] {
    return this.pool.threads;
  }

  /** Models whose bytes the pool holds now (diagnostics and tests): at most MAX_OPEN_MODELS, plus any in use. */
  get openModels(): number {
    return this.models.size;
  }

  /**
   * Sessions open in the worker that takes this task (diagnostics and tests; with one worker, its count).
   * @returns at most MAX_OPEN_MODELS
   */
  async workerSessions(): Promise<number> {
    this.assertLive();
    return (await this.runTask({ kind: 'sessions', closed: [...this.closed] }, 'counting sessions')) as number;
  }

  open(key: string, model: Uint8Array, candidates: readonly Candidate[]): Promise<OpenedModel> {
    this.assertLive();
    const existing = this.models.get(key);
    if (existing) return existing.opened;
    const bytes = new SharedArrayBuffer(model.byteLength);
    new Uint8Array(bytes).set(model);
    const entry: PoolModel = { bytes, candidates, opened: Promise.resolve(undefined as never), busy: 0 };
    this.closed.delete(key);
    entry.opened = this.runTask({ kind: 'open', model: this.ref(key, entry) }, 'opening the model').then((opened) => {
      // every worker must use the backend the first one found working
      const chosen = opened as OpenedModel;
      entry.candidates = [{ backend: chosen.backend, provider: chosen.executionProvider }];
      return chosen;
    });
    this.models.set(key, entry);
    // a model that fails to open is not kept (the caller gets the error); a later open tries again
    entry.opened.catch(() => {
      if (this.models.peek(key) !== entry) return;
      this.models.delete(key);
      this.forget(key);
    });
    return entry.opened;
  }

  async probe(key: string, plan: MaskPlan): Promise<Float64Array> {
    return this.use(key, (entry) => this.runTask({ kind: 'probe', model: this.ref(key, entry), plan, planId: `${this.planId(plan)}/${plan.batchSize}` }, 'probing the model') as Promise<Float64Array>);
  }

  async evaluate(key: string, plan: MaskPlan, options: EvaluateOptions = {}): Promise<Float64Array> {
    return this.use(key, (entry) => this.evaluateOn(key, entry, plan, options));
  }

  async evaluateMasks(key: string, plan: MaskPlan, masks: MaskList, options: EvaluateOptions = {}): Promise<Float64Array> {
    assertMaskList(plan, masks);
    return this.use(key, (entry) => this.evaluateListOn(key, entry, plan, masks, options));
  }

  batchFor(plan: MaskPlan): number {
    return this.taskSize(plan, 2 ** plan.n, undefined).batch;
  }

  private async evaluateOn(key: string, entry: PoolModel, plan: MaskPlan, options: EvaluateOptions): Promise<Float64Array> {
    const { start, end } = maskRange(plan, options.range);
    // a range runs batches of exactly the plan's batch size from its start (see EvaluateOptions.range); the whole game
    // runs the batch taskSize picks for it
    const sized = this.taskSize(plan, end - start, this.rates.get(key));
    const batch = options.range ? plan.batchSize : sized.batch;
    const chunk = options.range ? Math.max(1, Math.round(sized.chunk / batch)) * batch : sized.chunk;
    const taskPlan: MaskPlan = batch === plan.batchSize ? plan : { ...plan, batchSize: batch };
    // workers cache batch buffers by plan id: the id names the plan and its batch size
    const count = Math.ceil((end - start) / chunk);
    return this.runTasks(key, entry, taskPlan, `${this.planId(plan)}/${taskPlan.batchSize}`, start, end, { units: { rows: chunk, count, workers: Math.min(this.workers, count) } }, options);
  }

  private async evaluateListOn(key: string, entry: PoolModel, plan: MaskPlan, masks: MaskList, options: EvaluateOptions): Promise<Float64Array> {
    const total = masks.count;
    if (total === 0) {
      if (options.signal?.aborted) throw new CancelledError();
      return new Float64Array(0);
    }
    const rate = this.rates.get(key);
    const { local } = this.options;
    if (local && rate !== undefined && total / rate < SPLIT_MS) {
      // the same runtime, threads and batch rule as a worker's session: a mask's reward does not depend on where it ran
      if (!this.openedHere.has(key)) {
        // onnxruntime-node takes no view of shared memory: the session gets its own copy of the bytes
        const opening = local.open(key, new Uint8Array(entry.bytes).slice(), entry.candidates);
        this.openedHere.set(key, opening);
        // a failed open is not remembered (the next short list tries again), unless another took its place
        opening.catch(() => {
          if (this.openedHere.get(key) === opening) this.openedHere.delete(key);
        });
      }
      await this.openedHere.get(key);
      this.assertLive();
      return this.tracked(local.evaluateMasks(key, plan, masks, options));
    }
    // the batch stays the plan's whatever the list's length (a short last batch runs unpadded), so the workers reuse
    // one set of buffers across lists
    return this.runTasks(key, entry, plan, `${this.planId(plan)}/${plan.batchSize}`, 0, total, { masks: sharedMasks(masks), units: listUnits(total, this.workers, rate) }, options);
  }

  /**
   * Runs one job over rows first..last−1 (mask indices, or rows of a shared mask list): one task per worker taking
   * part claims its units in turn (Claim), and a unit claimed by a worker that died (its retried task takes only the
   * units left) runs afterwards as a task of its own. The answer holds row first at index 0, in an ArrayBuffer of its
   * own.
   */
  private async runTasks(key: string, entry: PoolModel, taskPlan: MaskPlan, planId: string, first: number, last: number, job: { units: ClaimUnits; masks?: SharedMasks }, options: EvaluateOptions): Promise<Float64Array> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new CancelledError();
    const control = new Int32Array(new SharedArrayBuffer(16));
    const total = last - first;
    const { masks, units } = job;
    // the rewards, written by the workers in place
    const claim: Claim = { rows: units.rows, count: units.count, claims: new Int32Array(new SharedArrayBuffer(4 * (units.count + 1))), output: new Float64Array(new SharedArrayBuffer(8 * total)) };
    const v = claim.output;

    const onAbort = () => Atomics.store(control, 0, 1);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.cancels.add(control);
    const timer = onProgress ? setInterval(() => onProgress(Math.min(total, Atomics.load(control, 1)), total), PROGRESS_MS) : undefined;
    let firstError: unknown;
    const what = masks ? 'rows' : 'masks';
    const runRange = async ([start, end, claim]: Range) => {
      if (firstError !== undefined || Atomics.load(control, 0) !== 0) return;
      try {
        const part = await this.runTask(
          { kind: 'evaluate', model: this.ref(key, entry), plan: taskPlan, planId, start, end, control, ...(masks ? { masks } : {}), ...(claim ? { claim } : {}) },
          `evaluating ${what} ${start}..${end - 1}`,
        );
        if (part instanceof Float64Array) v.set(part, start - first);
      } catch (error) {
        firstError ??= error;
        Atomics.store(control, 0, 1); // stop the other workers at their next batch
      }
    };
    // at most one task in flight per worker: cancellation then stops within one batch per worker
    const drain = (queue: Range[]) =>
      Promise.all(Array.from({ length: Math.min(this.workers, queue.length) }, async () => {
        for (let range = queue.shift(); range; range = queue.shift()) await runRange(range);
      }));
    try {
      await drain(Array.from({ length: units.workers }, (): Range => [first, last, claim]));
      await drain(unclaimed(claim, first, last));
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.cancels.delete(control);
      if (timer) clearInterval(timer);
    }
    if (signal?.aborted || this.disposed) throw new CancelledError();
    if (firstError !== undefined) throw firstError;
    // the model's speed: rows per ms of the workers' own work (a task's round trip would also count the waits for
    // this thread, which runs the sparse searches)
    const rate = total / Math.max(0.05, Number(Atomics.load(workClock(control), 0)) / 1000);
    const known = this.rates.get(key);
    this.rates.set(key, known === undefined ? rate : 0.7 * known + 0.3 * rate);
    onProgress?.(total, total);
    // a copy in ordinary memory: a caller may transfer the answer's buffer (postMessage), which shared memory refuses
    return v.slice();
  }

  async analyze(task: AnalysisTask, signal?: AbortSignal): Promise<GameAnalysis> {
    return (await this.kernelTask((control) => ({ kind: 'analyze', task, kernels: this.options.kernels ?? 'release', control }), 'analyzing a game', signal)) as GameAnalysis;
  }

  async fitRandom(task: RandomFitsTask, signal?: AbortSignal): Promise<FittedExpansion[]> {
    return (await this.kernelTask((control) => ({ kind: 'fits', task, kernels: this.options.kernels ?? 'release', control }), 'fitting on random masks', signal)) as FittedExpansion[];
  }

  /** A task on a worker's kernels, cancelled through its control word ([0] = cancel flag, polled by the task). */
  private async kernelTask(task: (control: Int32Array) => WorkerTask, what: string, signal: AbortSignal | undefined): Promise<unknown> {
    this.assertLive();
    if (signal?.aborted) throw new CancelledError();
    const control = new Int32Array(new SharedArrayBuffer(8));
    const onAbort = () => Atomics.store(control, 0, 1);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.cancels.add(control);
    try {
      return await this.runTask(task(control), what);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.cancels.delete(control);
    }
  }

  async close(key: string): Promise<void> {
    // forget() starts closing the local session; a model evicted before has been forgotten already
    await (this.models.delete(key) !== undefined ? this.forget(key) : this.closeHere(key));
  }

  /** Closes the local runner's session of a model once its opening (if any) has settled, unless the model was
   *  opened there again meanwhile. */
  private async closeHere(key: string): Promise<void> {
    const opening = this.openedHere.get(key);
    this.openedHere.delete(key);
    await opening?.catch(() => undefined);
    if (!this.openedHere.has(key)) await this.options.local?.close(key);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.models.clear();
    // the jobs stop at their next batch or kernel call; nothing is terminated or released under a run (DRAIN_MS)
    for (const control of this.cancels) Atomics.store(control, 0, 1);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.allSettled([...this.running]), new Promise((resolve) => (timer = setTimeout(resolve, DRAIN_MS)))]);
    clearTimeout(timer);
    await this.options.local?.dispose();
    // terminates the workers: their sessions go with them, and running tasks end in CancelledError (runTask)
    await this.pool.destroy();
  }

  /** A run, in `running` until it settles (dispose() waits for it). */
  private tracked<T>(run: Promise<T>): Promise<T> {
    this.running.add(run);
    void run.then(
      () => this.running.delete(run),
      () => this.running.delete(run),
    );
    return run;
  }

  private ref(key: string, entry: PoolModel): ModelRef {
    return { key, bytes: entry.bytes, candidates: entry.candidates, threads: this.options.threads, closed: [...this.closed] };
  }

  /** A closed or evicted model: its bytes are dropped, the next tasks tell the workers to release its sessions, and
   *  its local session is closed. @returns when that local session is closed */
  private forget(key: string): Promise<void> {
    this.rates.delete(key);
    this.closed.delete(key);
    this.closed.add(key);
    if (this.closed.size > MAX_CLOSED_KEYS) this.closed.delete(this.closed.values().next().value as string);
    return this.closeHere(key);
  }

  /** Runs fn on an open model; the model is not evicted while fn runs. */
  private async use<T>(key: string, fn: (entry: PoolModel) => Promise<T>): Promise<T> {
    this.assertLive();
    const entry = this.models.get(key);
    if (!entry) {
      throw new DisposedError(
        `Model ${key} is not open: it was closed, or evicted because ${MAX_OPEN_MODELS} other models were used since (the pool keeps the ${MAX_OPEN_MODELS} most recently used open). Open it again.`,
      );
    }
    entry.busy++;
    try {
      await entry.opened;
      return await fn(entry);
    } finally {
      entry.busy--;
      this.models.trim();
    }
  }

  private planId(plan: MaskPlan): number {
    let id = this.planIds.get(plan);
    if (id === undefined) {
      id = this.nextPlanId++;
      this.planIds.set(plan, id);
    }
    return id;
  }

  /**
   * The batch size (rows per model run) and the masks per unit (Claim). The batch depends only on the plan, the job
   * size and the pool size, never on timing, so the same job gives the same rewards bit for bit (a runtime's results
   * can depend on the batch shape); it is a power of two (few shapes for onnxruntime to keep state for) that gives
   * every worker at least two units. Units are whole batches: before the model's speed is known, two units per
   * worker; after, about TASK_MS of work each (a tiny model's small job is then a single unit on one worker instead
   * of a round trip per worker).
   */
  private taskSize(plan: MaskPlan, total: number, masksPerMs: number | undefined): { batch: number; chunk: number } {
    const spread = Math.ceil(total / (2 * this.workers));
    let batch = plan.batchSize;
    if (plan.batchAxis.kind === 'dynamic') {
      batch = Math.min(plan.batchSize, MAX_TASK_MASKS, Math.max(Math.min(MIN_TASK_MASKS, total), 2 ** Math.ceil(Math.log2(spread))));
    }
    const wanted = masksPerMs === undefined ? spread : masksPerMs * TASK_MS;
    const batches = Math.max(1, Math.min(Math.floor(MAX_TASK_MASKS / batch), Math.round(wanted / batch)));
    return { batch, chunk: Math.min(total, batches * batch) };
  }

  /**
   * Runs a task, retrying once if its worker dies; task errors come back typed.
   * @throws the task's own error (revived), or WorkerCrashedError after a second crash
   */
  private async runTask(task: WorkerTask, what: string): Promise<unknown> {
    let lastCrash: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.disposed) throw new CancelledError('The engine was disposed while the job ran.');
      let reply: unknown;
      try {
        reply = await this.tracked(this.pool.run(task));
      } catch (crash) {
        lastCrash = crash;
        continue; // piscina has replaced the dead worker; try once more
      }
      if (isFailure(reply)) throw reviveError(reply.error);
      return reply;
    }
    throw new WorkerCrashedError(`A worker thread died twice while ${what}: ${(lastCrash as Error)?.message ?? lastCrash}. The model may exhaust memory or crash the runtime; try fewer workers (--workers) or a smaller --batch-size.`, { cause: lastCrash });
  }

  private assertLive(): void {
    if (this.disposed) throw new DisposedError('The engine was disposed; create a new one.');
  }
}

/** A mask list's bits in shared memory, so that every task reads them in place (copied once when not shared yet). */
function sharedMasks(masks: MaskList): SharedMasks {
  const length = masks.count * masks.words;
  if (masks.bits.buffer instanceof SharedArrayBuffer) return { n: masks.n, words: masks.words, bits: masks.bits.subarray(0, length) };
  const bits = new Uint32Array(new SharedArrayBuffer(Math.max(4, 4 * length)), 0, length);
  bits.set(masks.bits.subarray(0, length));
  return { n: masks.n, words: masks.words, bits };
}

/** How a job's rows are cut for the workers to claim (Claim): units of `rows` rows, `count` of them (the last one
 *  shorter, or for a mask list up to rows + 1 long), taken by `workers` tasks. */
export interface ClaimUnits {
  readonly rows: number;
  readonly count: number;
  readonly workers: number;
}

/**
 * The units of a mask list (Claim). Before the model's speed is known, UNITS_PER_WORKER units per worker of at
 * least MIN_TASK_MASKS rows; after, units of about UNIT_MS of work (a claim costs no round trip, so a unit need not
 * be long: the last one decides how long the first worker to finish waits), and a list of less than SPLIT_MS of work
 * goes to one worker. At most MAX_TASK_MASKS rows a unit and no more than a worker's share, evened out so that their
 * count is about a multiple of the workers' (a list of 512 masks went as 270 + 242 rows), and at least two rows: a
 * unit of one row runs two (BatchBuilder.fillList keeps onnxruntime off its one-row kernels), which doubled the cost
 * of every evaluation of a slow model (ResNet-18 at 3×32×32, where 5 ms of work is one mask); a last row left alone
 * joins the unit before it. Units need not be whole batches: a unit's short last batch runs unpadded.
 * Before claims, a list went as tasks of about 5 ms from a queue, each posted by the main thread when a worker was
 * free: a worker woken late (up to 3 ms at times on 2 cores) or a result read late left the other one idle, and a
 * 4096-mask list of digits-cnn took 3.90 µs a mask alone and 8.92 beside a busy calling thread, 3.45 and 6.71 with
 * claims (`node bench/call-latency.bench.js`, bench/results/2026-12-03-call-latency-claims.json).
 * @param total - rows of the list (at least 1)
 * @param workers - the pool's workers
 * @param masksPerMs - one worker's measured speed on the model, when known
 */
export function listUnits(total: number, workers: number, masksPerMs: number | undefined): ClaimUnits {
  let rows: number;
  let used = workers;
  if (masksPerMs === undefined) {
    rows = Math.max(MIN_TASK_MASKS, Math.ceil(total / (UNITS_PER_WORKER * workers)));
  } else {
    rows = Math.round(masksPerMs * UNIT_MS);
    if (total / masksPerMs < SPLIT_MS) used = 1;
  }
  rows = Math.max(Math.min(2, total), Math.min(rows, MAX_TASK_MASKS, Math.ceil(total / used)));
  // units of one size, a multiple of the workers' count of them, so that the workers' last units end together
  rows = Math.max(Math.min(2, total), Math.ceil(total / (used * Math.ceil(total / (used * rows)))));
  let count = Math.ceil(total / rows);
  if (count > 1 && total - (count - 1) * rows === 1) count--;
  return { rows, count, workers: Math.min(used, count) };
}

/** A job's task: rows start..end−1, and with a claim, the job's units to claim among them. */
type Range = [start: number, end: number, claim?: Claim];

/** The units of rows first..last−1 that are not done once every claim task has ended, as tasks of their own. */
function unclaimed(claim: Claim, first: number, last: number): Range[] {
  const ranges: Range[] = [];
  for (let unit = 0; unit < claim.count; unit++) {
    if (Atomics.load(claim.claims, 1 + unit) === 1) continue;
    const start = first + unit * claim.rows;
    ranges.push([start, unit === claim.count - 1 ? last : start + claim.rows]);
  }
  return ranges;
}
