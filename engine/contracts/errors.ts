// Typed errors of andor: one subclass per code. Messages say what failed, why, and the valid values or the fix.
// This file imports nothing; errors crossing a worker boundary are rebuilt from {name, code, message} by
// reviveError.

/** Machine-readable error codes, one per subclass of EngineError. */
export type ErrorCode =
  | 'INVALID_OPTION'
  | 'INVALID_INPUT'
  | 'SHAPE_MISMATCH'
  | 'MODEL_LOAD'
  | 'MODEL_RUN'
  | 'NON_FINITE'
  | 'MEMORY_LIMIT'
  | 'BACKEND_UNAVAILABLE'
  | 'KERNEL_TRAP'
  | 'WORKER_CRASHED'
  | 'CANCELLED'
  | 'DISPOSED';

/** Base class of every error andor throws on purpose. */
export class EngineError extends Error {
  /**
   * @param code - the machine-readable code of the subclass
   * @param message - what failed, why, and what to do about it
   * @param options - `cause` of a wrapped foreign error
   */
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An option has a wrong type, range or name (unknown options included). */
export class InvalidOptionError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_OPTION', message, options);
  }
}

/** A data file or value (sample, baseline, values file, sample set) cannot be read or parsed. */
export class InvalidInputError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_INPUT', message, options);
  }
}

/** Lengths or shapes don't fit: the sample against the model input, a values vector against 2^n, a kernel buffer. */
export class ShapeMismatchError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SHAPE_MISMATCH', message, options);
  }
}

/** The ONNX file is missing, malformed or uses something the runtime does not support. */
export class ModelLoadError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_LOAD', message, options);
  }
}

/** The runtime failed while running a loaded model. */
export class ModelRunError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_RUN', message, options);
  }
}

/** The model produced NaN or ±Inf rewards, or a values vector holds them. */
export class NonFiniteError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NON_FINITE', message, options);
  }
}

/** The job would need more memory than the configured limit (too many players, too large a batch). */
export class MemoryLimitError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MEMORY_LIMIT', message, options);
  }
}

/** One attempt to bring up a backend, and why it failed. */
export interface BackendAttempt {
  readonly backend: string;
  readonly reason: string;
}

/** No backend of the priority list could be loaded; `attempts` lists each one and its reason. */
export class BackendUnavailableError extends EngineError {
  readonly attempts: readonly BackendAttempt[];
  constructor(message: string, attempts: readonly BackendAttempt[] = [], options?: { cause?: unknown }) {
    const detail = attempts.map((a) => `\n  - ${a.backend}: ${a.reason}`).join('');
    super('BACKEND_UNAVAILABLE', message + detail, options);
    this.attempts = attempts;
  }
}

/** A WebAssembly kernel trapped (an internal invariant failed, or memory could not grow). */
export class KernelTrapError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('KERNEL_TRAP', message, options);
  }
}

/** A worker thread died, and its task failed again after one retry. */
export class WorkerCrashedError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WORKER_CRASHED', message, options);
  }
}

/** The job was cancelled through its AbortSignal. */
export class CancelledError extends EngineError {
  constructor(message = 'The job was cancelled.', options?: { cause?: unknown }) {
    super('CANCELLED', message, options);
  }
}

/** The engine (or a model handle) was used after dispose(). */
export class DisposedError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DISPOSED', message, options);
  }
}

const CLASSES: Record<ErrorCode, new (message: string) => EngineError> = {
  INVALID_OPTION: InvalidOptionError,
  INVALID_INPUT: InvalidInputError,
  SHAPE_MISMATCH: ShapeMismatchError,
  MODEL_LOAD: ModelLoadError,
  MODEL_RUN: ModelRunError,
  NON_FINITE: NonFiniteError,
  MEMORY_LIMIT: MemoryLimitError,
  BACKEND_UNAVAILABLE: BackendUnavailableError,
  KERNEL_TRAP: KernelTrapError,
  WORKER_CRASHED: WorkerCrashedError,
  CANCELLED: CancelledError,
  DISPOSED: DisposedError,
};

/** The plain form of an error that crosses a thread boundary (classes do not survive structured clone). */
export interface SerializedError {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
  readonly cause?: string;
}

/**
 * Flattens any thrown value into a plain object that survives postMessage.
 * @param error - what was thrown
 * @returns its name, code (for EngineErrors), message and the message of its cause
 */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.message : error.cause === undefined ? undefined : String(error.cause);
    return { name: error.name, code: (error as Partial<EngineError>).code, message: error.message, cause };
  }
  return { name: 'Error', message: String(error) };
}

/**
 * Rebuilds the typed error class of a serialized error (the inverse of serializeError).
 * @param data - the plain object sent across threads
 * @returns an EngineError subclass when data.code is a known code, else a plain Error
 */
export function reviveError(data: SerializedError): Error {
  const Class = data.code !== undefined ? CLASSES[data.code as ErrorCode] : undefined;
  const error = Class ? new Class(data.message) : new Error(data.message);
  if (data.cause !== undefined) Object.defineProperty(error, 'cause', { value: data.cause, enumerable: false });
  if (!Class) error.name = data.name;
  return error;
}
