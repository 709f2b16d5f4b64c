// What ort-node.ts and ort-web.ts share: both packages expose the onnxruntime-common API, so the session wrapper,
// tensor conversion (decoding every output dtype the runtime can hand over into numbers) and error wrapping are
// written once here over that API. The runtime module is passed in.
import type * as ortTypes from 'onnxruntime-common';
import { ModelLoadError, ModelRunError, ShapeMismatchError } from '../engine/contracts/errors.js';
import type { DType, ExecutionProvider, SessionHandle, SessionOptions, TensorData, TensorInfo } from '../engine/contracts/backend.js';

/** The part of an onnxruntime package that andor uses. */
export interface OrtModule {
  readonly InferenceSession: typeof ortTypes.InferenceSession;
  readonly Tensor: typeof ortTypes.Tensor;
}

function describeValue(meta: ortTypes.InferenceSession.ValueMetadata): TensorInfo {
  if (!meta.isTensor) return { name: meta.name, dtype: 'non-tensor', shape: [] };
  return { name: meta.name, dtype: meta.type, shape: [...meta.shape] };
}

/** ONNX TensorProto type codes, for naming the dtype in onnxruntime's "Unsupported data type: N" errors. */
const ONNX_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
  17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4', 23: 'float4e2m1',
};

/**
 * IEEE 754 binary16 bit patterns to numbers (exact: every half is a float64).
 * @param bits - one uint16 per element, as onnxruntime returns float16 data
 * @returns the decoded values
 */
export function decodeFloat16(bits: Uint16Array): Float64Array {
  const out = new Float64Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    const sign = b & 0x8000 ? -1 : 1;
    const exponent = (b >>> 10) & 0x1f;
    const fraction = b & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24; // zero and subnormals: fraction · 2^(−14−10)
    else if (exponent === 0x1f) out[i] = fraction === 0 ? sign * Infinity : NaN;
    else out[i] = sign * (1024 + fraction) * 2 ** (exponent - 25); // (1 + fraction/2^10) · 2^(exponent−15)
  }
  return out;
}

/**
 * bfloat16 bit patterns to numbers: a bfloat16 is the top 16 bits of a float32 (exact).
 * @param bits - one uint16 per element
 * @returns the decoded values
 */
export function decodeBfloat16(bits: Uint16Array): Float64Array {
  const words = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) words[i] = bits[i] << 16;
  return Float64Array.from(new Float32Array(words.buffer));
}

type Decoder = (data: ortTypes.Tensor['data']) => { dtype: DType; data: TensorData['data'] };
const asIs = (dtype: DType): Decoder => (data) => ({ dtype, data: data as TensorData['data'] });
const toFloat64: Decoder = (data) => ({ dtype: 'float64', data: Float64Array.from(data as ArrayLike<number>, Number) });
// a runtime on a Node with Float16Array may hand float16 over as numbers rather than bit patterns
const half = (decode: (bits: Uint16Array) => Float64Array): Decoder => (data) => ({ dtype: 'float64', data: data instanceof Uint16Array ? decode(data) : Float64Array.from(data as ArrayLike<number>, Number) });

/**
 * How each output dtype the runtime can hand over becomes numbers: the contract's dtypes pass through, the others
 * widen to float64 (exact for every value, except uint64 above 2^53, which rounds to the nearest float64). Outputs
 * of any other dtype (string, int4/uint4, which onnxruntime-node 1.30 cannot even copy out without aborting the
 * process) are never fetched. engine/pipeline/plan.ts READABLE_OUTPUT_DTYPES lists the same names.
 */
const DECODERS: Readonly<Record<string, Decoder>> = {
  float32: asIs('float32'),
  float64: asIs('float64'),
  int32: asIs('int32'),
  int64: asIs('int64'),
  bool: asIs('bool'),
  float16: half(decodeFloat16),
  bfloat16: half(decodeBfloat16),
  uint8: toFloat64,
  int8: toFloat64,
  uint16: toFloat64,
  int16: toFloat64,
  uint32: toFloat64,
  uint64: toFloat64,
};

/** The output dtypes this binding decodes (the keys of its decoder table). */
export const DECODED_OUTPUT_DTYPES: readonly string[] = Object.keys(DECODERS);

/**
 * One output tensor as contract TensorData, decoded to numbers.
 * @throws ModelRunError for a dtype without a decoder (never fetched, so a bug if reached)
 */
export function decodeOutput(name: string, tensor: Pick<ortTypes.Tensor, 'type' | 'data' | 'dims'>): TensorData {
  const decode = Object.hasOwn(DECODERS, tensor.type) ? DECODERS[tensor.type] : undefined;
  if (!decode) throw new ModelRunError(`Output "${name}" has dtype ${tensor.type}, which andor cannot read. Readable: ${DECODED_OUTPUT_DTYPES.join(', ')}.`);
  return { ...decode(tensor.data), dims: [...tensor.dims] };
}

/** A one-line summary of feeds for error messages: name:dtype[dims]. */
export function summarizeFeeds(feeds: Readonly<Record<string, TensorData>>): string {
  return Object.entries(feeds)
    .map(([name, t]) => `${name}:${t.dtype}[${t.dims.join(',')}]`)
    .join(', ');
}

/** What onnxruntime says when a model loaded from bytes names external data: node (path validation, or an empty
 *  model path) and web (no mounted files), in 1.30. */
const EXTERNAL_DATA = /external data|model_path must not be empty|MountedFiles/i;

/** Builds the ORT session options of andor's SessionOptions (providers are given separately). */
export function ortSessionOptions(options: SessionOptions, providers: string[]): ortTypes.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // onnxruntime's memory pattern stays on (its default): off, a fresh session's warm-up was halved
    // (`node bench/session-warmup.bench.js`), but a service that replaced 15 sessions grew by more than 5 sessions'
    // worth of RSS (test/integration/faults-slow.test.ts)
    // fatal only: andor reports every error itself, in one line (at 3 onnxruntime printed its own, in red, first)
    logSeverityLevel: 4,
    extra: { session: { intra_op: { allow_spinning: options.allowSpinning ? '1' : '0' } } },
  };
}

/**
 * Creates a session and wraps it as a SessionHandle; load failures become ModelLoadError.
 * @param ort - the onnxruntime package
 * @param model - ONNX bytes
 * @param sessionOptions - ORT options, providers included
 * @param executionProvider - the provider the options ask for, reported back on the handle
 */
export async function createOrtSession(
  ort: OrtModule,
  model: Uint8Array,
  sessionOptions: ortTypes.InferenceSession.SessionOptions,
  executionProvider: ExecutionProvider,
): Promise<SessionHandle> {
  let session: ortTypes.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, sessionOptions);
  } catch (cause) {
    const code = /unsupported data type: (\d+)/i.exec(firstLine(cause))?.[1];
    if (code !== undefined) {
      const dtype = ONNX_TYPE_NAMES[Number(code)] ?? `ONNX type ${code}`;
      throw new ModelLoadError(
        `The runtime could not load the model (${model.byteLength} bytes): an input or output of the graph has dtype ${dtype} (ONNX type ${code}), which onnxruntime's JavaScript API cannot pass in or out. ` +
          `Make every graph input and output float32 (or another dtype that API supports: float64, float16, int8 to int64, uint8 to uint64, bool): e.g. return logits.float() from forward() before torch.onnx.export, or add a Cast to float32 after that output.`,
        { cause },
      );
    }
    if (EXTERNAL_DATA.test(String((cause as Error)?.message ?? cause))) {
      const initializer = /initializer:? "?([\w./:-]*\w)/i.exec(String((cause as Error)?.message ?? cause))?.[1];
      throw new ModelLoadError(
        `The model keeps its weights${initializer ? ` (initializer ${initializer} at least)` : ''} in an external data file beside the .onnx file, which andor does not read: it loads a model from its bytes alone. ` +
          'Save the model with its weights inside the file (under 2 GB): onnx.save_model(onnx.load("model.onnx"), "inside.onnx", save_as_external_data=False).',
        { cause },
      );
    }
    throw new ModelLoadError(`The runtime could not load the model (${model.byteLength} bytes): ${firstLine(cause)}. Check that the file is an ONNX model (opset ≤ 21) exported with torch.onnx.export.`, { cause });
  }
  const handle = new OrtSession(ort, session, executionProvider);
  if (handle.fetches.length === 0) {
    await handle.dispose();
    const outputs = handle.outputs.map((o) => `${o.name} (${o.dtype})`).join(', ');
    throw new ModelLoadError(`The model has no output andor can read: ${outputs}. Readable output dtypes: ${DECODED_OUTPUT_DTYPES.join(', ')}. Cast an output to float32 in the model before export.`);
  }
  return handle;
}

class OrtSession implements SessionHandle {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** The outputs run() asks for: those of a dtype this file decodes (the others are left in the runtime). */
  readonly fetches: readonly string[];
  private released = false;

  constructor(
    private readonly ort: OrtModule,
    private readonly session: ortTypes.InferenceSession,
    readonly executionProvider: ExecutionProvider,
  ) {
    this.inputs = session.inputMetadata.map(describeValue);
    this.outputs = session.outputMetadata.map(describeValue);
    this.fetches = this.outputs.filter((o) => Object.hasOwn(DECODERS, o.dtype)).map((o) => o.name);
  }

  async run(feeds: Readonly<Record<string, TensorData>>): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, ortTypes.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new this.ort.Tensor(t.dtype, t.data as never, t.dims);
    let results: ortTypes.InferenceSession.ReturnType;
    try {
      results = await this.session.run(ortFeeds, this.fetches);
    } catch (cause) {
      const message = `The model failed on inputs ${summarizeFeeds(feeds)}: ${firstLine(cause)}`;
      const isShape = /dimension|shape|rank|type/i.test(String((cause as Error)?.message ?? cause));
      throw isShape ? new ShapeMismatchError(message, { cause }) : new ModelRunError(message, { cause });
    }
    const out: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(results)) out[name] = decodeOutput(name, t);
    return out;
  }

  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/** The first line of an error's message (ORT messages carry long native traces). */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim();
}
