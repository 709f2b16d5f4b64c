// The bindings' public surface, imported only by the composition roots engine/index.ts and engine/worker.ts.
export { ortNodeBackend, cudaUnavailableReason } from './ort-node.js';
export { ortWebBackend } from './ort-web.js';
export { loadKernels } from './wasm-kernels.js';
