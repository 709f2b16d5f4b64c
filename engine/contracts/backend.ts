// The Backend contract: what engine/ needs from a model runtime. bindings/ort-node.ts and bindings/ort-web.ts
// implement it; nothing here imports a runtime. Only typed arrays and plain objects appear in these types.

/** Backend ids, in the order `auto` tries them: native CUDA, native CPU, then WebAssembly. */
export type BackendId = 'ort-node' | 'ort-web';

/** Execution providers a session can ask for. `cuda` exists only on ort-node with the CUDA provider installed. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'wasm';

/** Tensor element types andor can feed and read. */
export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool';

/** The typed array that carries each dtype (int64 as BigInt64Array, bool as Uint8Array). */
export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** One model input or output as the ONNX graph declares it; symbolic dimensions are strings. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType | string;
  readonly shape: readonly (number | string)[];
}

/** A tensor crossing the contract: row-major data and its dimensions. */
export interface TensorData {
  readonly dtype: DType;
  readonly data: TypedData;
  readonly dims: readonly number[];
}

/** Options for one session. Threads are per session: keep workers × intraOpThreads ≤ cores. */
export interface SessionOptions {
  readonly executionProvider: ExecutionProvider;
  readonly intraOpThreads: number;
  /** Spin-waiting of the intra-op pool; off when several workers share the cores. */
  readonly allowSpinning: boolean;
  /** CUDA device ordinal (only for executionProvider 'cuda'). */
  readonly deviceId?: number;
}

/** A loaded model, ready to run. Created once and reused; dispose() releases its runtime memory. */
export interface SessionHandle {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** The provider that actually runs the model. */
  readonly executionProvider: ExecutionProvider;
  /**
   * Runs the model once.
   * @param feeds - one tensor per model input, by name
   * @returns every model output, by name
   * @throws ModelRunError (or ShapeMismatchError) wrapping the runtime's error, with a summary of the feeds
   */
  run(feeds: Readonly<Record<string, TensorData>>): Promise<Record<string, TensorData>>;
  dispose(): Promise<void>;
}

/** A model runtime. load() is memoized by the implementation and throws when the runtime is missing. */
export interface Backend {
  readonly id: BackendId;
  /** Execution providers this backend can offer on this machine (after load()). */
  providers(): Promise<readonly ExecutionProvider[]>;
  /**
   * Creates a session from ONNX bytes.
   * @throws ModelLoadError for a malformed or unsupported model; BackendUnavailableError when the provider fails
   */
  createSession(model: Uint8Array, options: SessionOptions): Promise<SessionHandle>;
}
