// What ort-node.ts and ort-web.ts share: both packages expose the onnxruntime-common API, so the session wrapper,
// tensor conversion and error wrapping are written once here over that API. The runtime module is passed in.
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

/** A one-line summary of feeds for error messages: name:dtype[dims]. */
export function summarizeFeeds(feeds: Readonly<Record<string, TensorData>>): string {
  return Object.entries(feeds)
    .map(([name, t]) => `${name}:${t.dtype}[${t.dims.join(',')}]`)
    .join(', ');
}

/** Builds the ORT session options of andor's SessionOptions (providers are given separately). */
export function ortSessionOptions(options: SessionOptions, providers: string[]): ortTypes.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
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
    throw new ModelLoadError(`The runtime could not load the model (${model.byteLength} bytes): ${firstLine(cause)}. Check that the file is an ONNX model (opset ≤ 21) exported with torch.onnx.export.`, { cause });
  }
  return new OrtSession(ort, session, executionProvider);
}

class OrtSession implements SessionHandle {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];

  constructor(
    private readonly ort: OrtModule,
    private readonly session: ortTypes.InferenceSession,
    readonly executionProvider: ExecutionProvider,
  ) {
    this.inputs = session.inputMetadata.map(describeValue);
    this.outputs = session.outputMetadata.map(describeValue);
  }

  async run(feeds: Readonly<Record<string, TensorData>>): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, ortTypes.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new this.ort.Tensor(t.dtype, t.data as never, t.dims);
    let results: ortTypes.InferenceSession.ReturnType;
    try {
      results = await this.session.run(ortFeeds);
    } catch (cause) {
      const message = `The model failed on inputs ${summarizeFeeds(feeds)}: ${firstLine(cause)}`;
      const isShape = /dimension|shape|rank|type/i.test(String((cause as Error)?.message ?? cause));
      throw isShape ? new ShapeMismatchError(message, { cause }) : new ModelRunError(message, { cause });
    }
    const out: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = { dtype: t.type as DType, data: t.data as TensorData['data'], dims: [...t.dims] };
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** The first line of an error's message (ORT messages carry long native traces). */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim();
}
