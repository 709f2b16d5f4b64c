// The public entry point of andor and its composition root: the only engine file that imports bindings/. It
// validates options, registers the backends, loads the kernels and builds the runner.
import { availableParallelism } from 'node:os';
import { loadKernels, ortNodeBackend, ortWebBackend } from '../bindings/index.js';
import { Engine, type EngineOptions, type Logger, type ResolvedEngineOptions } from './api/engine.js';
import { InvalidOptionError } from './contracts/errors.js';
import { assertValid } from './inputs/validate.js';
import { EngineOptionsSchema } from './contracts/schema/requests.js';
import { MAX_PLAYERS } from './contracts/limits.js';
import { BackendRegistry } from './pipeline/registry.js';
import { PoolRunner } from './pipeline/pool.js';
import { LocalRunner } from './pipeline/runner.js';

export * from './contracts/errors.js';
export type { DType, TensorInfo, BackendId, ExecutionProvider } from './contracts/backend.js';
export type { KernelTarget } from './contracts/kernels.js';
export { Engine, type EngineOptions, type EngineState, type Logger, type ModelInfo, type ResolvedEngineOptions } from './api/engine.js';
export type { ExplainRequest, ExplainResult, GameRequest, AnalysisRequest, RewardName, Modality, InputLayout } from './explain/explain.js';
export type { DecompositionSummary } from './analysis/game.js';
export type { CustomLayout } from './pipeline/players.js';
export type { SalientInteraction } from './analysis/interactions.js';
export type { Sample, SampleSet } from './inputs/samples.js';
export { loadSampleSet, loadValues } from './inputs/samples.js';
export type { BackendChoice } from './pipeline/registry.js';
export { resultToJson, dynamicsToJson, batchToJson, RESULT_SCHEMA, DYNAMICS_SCHEMA, BATCH_SCHEMA, type ExplainResultJson, type DynamicsResultJson, type BatchResultJson } from './api/result.js';
export type { BatchRequest, BatchResult, BatchProgress, AggregateGroup, AggregateInteraction } from './studies/batch.js';
export type { GameIndices } from './analysis/game.js';
export { renderReport, chartsOf, type ReportableResult } from './report/index.js';
export { assertReportable } from './report/check.js';
export type { IndexTerm } from './analysis/indices.js';
export type { DynamicsRequest, DynamicsResult, CheckpointReport, LossTable, DynamicsProgress } from './studies/dynamics.js';
export { isSparseResult, type SparseResult, type SparseResultTerm, type SparseLimits, type FunctionRequest } from './explain/sparse.js';
export { sparseToJson, SPARSE_SCHEMA, type SparseResultJson, type SparseTermJson } from './api/result.js';
export { FolderStore, createQueueExecutor, ModelStoreError, QueueUnavailableError, UnitsFailedError, type ModelStore, type QueueExecutor, type QueueExecutorOptions, type QueueConnectionOptions, type QueueLogger, type UnitFailure, type WorkerEvent, type WorkerStats } from './distributed/index.js';
export type { ServeQueueOptions } from './api/engine.js';
export { leastAndOrBudget, MAX_SPARSE_PLAYERS, type MaskBatch, type GameFunction, type SparseSalient } from './analysis/sparse/index.js';

const SILENT: Logger = { warn: () => {}, info: () => {} };
/** Default pool size cap: each worker holds its own session (model weights and arena). */
const DEFAULT_MAX_WORKERS = 8;

/**
 * Validates every option, then loads the kernels and prepares the runner.
 * @param options - see EngineOptions
 * @returns a ready Engine; call dispose() when done
 * @throws InvalidOptionError naming the bad field and the valid values; KernelTrapError when the kernels are not built
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const resolved = resolveOptions(options);
  const logger = options.logger ?? SILENT;
  const registry = new BackendRegistry().register(ortNodeBackend).register(ortWebBackend);
  const kernels = await loadKernels(resolved.kernels);
  const local = new LocalRunner(registry, resolved.threads, kernels);
  const runner = resolved.workers === 0 ? local : new PoolRunner({ workers: resolved.workers, threads: resolved.threads, kernels: resolved.kernels, local });
  return new Engine(resolved, kernels, runner, logger, options.queue);
}

function resolveOptions(options: EngineOptions): ResolvedEngineOptions {
  assertValid(EngineOptionsSchema, options);
  const cores = availableParallelism();
  // one worker per core (at most DEFAULT_MAX_WORKERS), one intra-op thread each: the fastest configuration on
  // every model where evaluation takes ≥ 10 ms (bench/evaluate.bench.js), and it keeps the main thread free
  const workers = options.workers ?? Math.min(cores, DEFAULT_MAX_WORKERS);
  const threads = options.threads ?? Math.max(1, Math.floor(cores / Math.max(1, workers)));
  if (options.logger !== undefined && (typeof options.logger?.warn !== 'function' || typeof options.logger?.info !== 'function')) {
    throw new InvalidOptionError('options.logger must have warn(message) and info(message) functions.');
  }
  if (options.queue !== undefined && typeof options.queue?.run !== 'function') {
    throw new InvalidOptionError('options.queue must be an executor from createQueueExecutor({ url, store }) (an object with run(units, options)).');
  }
  return Object.freeze({
    backend: options.backend ?? 'auto',
    workers,
    threads,
    kernels: options.kernels ?? 'release',
    maxMemoryMb: options.maxMemoryMb ?? 4096,
    maxPlayers: options.maxPlayers ?? MAX_PLAYERS,
  });
}
