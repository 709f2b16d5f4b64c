// The onnxruntime-web backend: the WebAssembly build of ONNX Runtime, the fallback when the native binding cannot
// load or when `--backend wasm` asks for it. Always requests the 'wasm' provider ('cpu' may resolve to the native
// backend when both packages share onnxruntime-common; stack-notes §2).
import { BackendUnavailableError } from '../engine/contracts/errors.js';
import type { Backend, ExecutionProvider, SessionHandle, SessionOptions } from '../engine/contracts/backend.js';
import { createOrtSession, firstLine, ortSessionOptions, type OrtModule } from './ort-common.js';

type OrtWeb = OrtModule & { env: { wasm: { numThreads?: number; proxy?: boolean } } };
let loading: Promise<OrtWeb> | undefined;

function load(): Promise<OrtWeb> {
  loading ??= (import('onnxruntime-web') as Promise<OrtWeb>).catch((cause) => {
    loading = undefined;
    throw new BackendUnavailableError('onnxruntime-web could not be loaded.', [{ backend: 'ort-web', reason: firstLine(cause) }], { cause });
  });
  return loading;
}

/** onnxruntime-web (WASM) as an andor Backend. */
export const ortWebBackend: Backend = {
  id: 'ort-web',
  async providers(): Promise<readonly ExecutionProvider[]> {
    await load();
    return ['wasm'];
  },
  async createSession(model: Uint8Array, options: SessionOptions): Promise<SessionHandle> {
    const ort = await load();
    // env is per package instance; each worker thread has its own, so this sets this thread's WASM thread count
    ort.env.wasm.numThreads = options.intraOpThreads;
    ort.env.wasm.proxy = false;
    return createOrtSession(ort, model, ortSessionOptions(options, ['wasm']), 'wasm');
  },
};
