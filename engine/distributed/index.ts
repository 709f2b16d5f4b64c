// The distributed layer's public surface: the model store, the queue executor (clients), the worker, and their errors.
// engine/index.ts re-exports from here; the Engine (engine/api) serves the queue with its own context.
export { FolderStore, sha256Of, type ModelStore } from './store.js';
export { createQueueExecutor, type QueueExecutor, type QueueExecutorOptions } from './executor.js';
export { runWorker, type WorkerEvent, type WorkerOptions, type WorkerStats } from './worker.js';
export type { QueueConnectionOptions, QueueLogger } from './connection.js';
export { ModelStoreError, QueueUnavailableError, UnitsFailedError, type UnitFailure } from './errors.js';
