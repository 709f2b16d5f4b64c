// The onnxruntime-node backend (native CPU, and CUDA where its provider libraries are installed). The package is
// imported lazily, so a machine without the native binding falls back to ort-web with a clear reason.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BackendUnavailableError } from '../engine/contracts/errors.js';
import type { Backend, ExecutionProvider, SessionHandle, SessionOptions } from '../engine/contracts/backend.js';
import { createOrtSession, firstLine, ortSessionOptions, type OrtModule } from './ort-common.js';

type OrtNode = OrtModule & { listSupportedBackends(): { name: string; bundled: boolean }[] };
let loading: Promise<OrtNode> | undefined;

function load(): Promise<OrtNode> {
  loading ??= (import('onnxruntime-node') as Promise<unknown> as Promise<OrtNode>).catch((cause) => {
    loading = undefined;
    throw new BackendUnavailableError('onnxruntime-node could not be loaded.', [{ backend: 'ort-node', reason: firstLine(cause) }], { cause });
  });
  return loading;
}

/** Path of the CUDA provider library that `ONNXRUNTIME_NODE_INSTALL=cuda12` installs next to the binding. */
export function cudaProviderPath(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
}

/**
 * Why CUDA cannot be used here, or undefined when the provider is compiled in and its library is installed
 * (stack-notes §1.5 steps 1–2; step 3, creating a session, is the final word).
 */
export async function cudaUnavailableReason(): Promise<string | undefined> {
  const ort = await load();
  if (!ort.listSupportedBackends().some((b) => b.name === 'cuda')) return 'this onnxruntime-node build has no CUDA execution provider';
  if (!existsSync(cudaProviderPath())) {
    return `the CUDA provider library is not installed (${cudaProviderPath()}); install it with ONNXRUNTIME_NODE_INSTALL=cuda12 (see README, "CUDA")`;
  }
  return undefined;
}

/** onnxruntime-node as an andor Backend. */
export const ortNodeBackend: Backend = {
  id: 'ort-node',
  async providers(): Promise<readonly ExecutionProvider[]> {
    await load();
    return (await cudaUnavailableReason()) === undefined ? ['cuda', 'cpu'] : ['cpu'];
  },
  async createSession(model: Uint8Array, options: SessionOptions): Promise<SessionHandle> {
    const ort = await load();
    if (options.executionProvider === 'cuda') {
      const reason = await cudaUnavailableReason();
      if (reason) throw new BackendUnavailableError('CUDA is not available.', [{ backend: 'ort-node/cuda', reason }]);
      const cuda = { name: 'cuda', deviceId: options.deviceId ?? 0 };
      try {
        return await createOrtSession(ort, model, ortSessionOptions(options, [cuda as never]), 'cuda');
      } catch (cause) {
        // a missing libcudart/cuDNN shows up only here, as a failed provider append
        throw new BackendUnavailableError('CUDA is not available.', [{ backend: 'ort-node/cuda', reason: firstLine((cause as Error).cause ?? cause) }], { cause });
      }
    }
    return createOrtSession(ort, model, ortSessionOptions(options, ['cpu']), 'cpu');
  },
};
