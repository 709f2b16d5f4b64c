// Checks every real-size model of models/.large/manifest.json in onnxruntime-node: runs its check dump (a batch of
// masked input rows written by the export script) and compares the logits with PyTorch's, within 1e-3 relative to the
// largest |logit|. Run by models/large/export.py after the exports; exits 1 on a mismatch. Uses the engine's session
// options (graph optimisation 'all', 1 intra-op thread), so what is checked is the graph andor runs.
// Usage: node models/large/check-ort.mjs [NAME ...]
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const LARGE_DIR = new URL('../.large/', import.meta.url);
const RELATIVE_TOLERANCE = 1e-3;
const ARRAYS = { float32: Float32Array, int64: BigInt64Array, int32: Int32Array, float64: Float64Array };

function loadTensor({ dtype, dims, file }) {
  const bytes = readFileSync(new URL(file, LARGE_DIR));
  const Array = ARRAYS[dtype];
  if (!Array) throw new Error(`${file}: dtype ${dtype} is not supported. Expected one of: ${Object.keys(ARRAYS).join(', ')}.`);
  const copy = new Uint8Array(bytes); // aligned, offset 0
  return new ort.Tensor(dtype, new Array(copy.buffer, 0, copy.byteLength / Array.BYTES_PER_ELEMENT), dims);
}

const manifest = JSON.parse(readFileSync(new URL('manifest.json', LARGE_DIR), 'utf8'));
const wanted = process.argv.slice(2);
let failed = 0;
for (const entry of manifest.models.filter((m) => wanted.length === 0 || wanted.includes(m.name))) {
  const check = JSON.parse(readFileSync(new URL(`${entry.name}.check.json`, LARGE_DIR), 'utf8'));
  const started = performance.now();
  const session = await ort.InferenceSession.create(new URL(check.model, LARGE_DIR).pathname, {
    executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3,
  });
  const createMs = performance.now() - started;
  const feeds = Object.fromEntries(Object.entries(check.inputs).map(([name, t]) => [name, loadTensor(t)]));
  const runStart = performance.now();
  const output = (await session.run(feeds))[session.outputNames[0]];
  const runMs = performance.now() - runStart;
  const expected = loadTensor(check.expected).data;
  let scale = 0;
  let error = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    error = Math.max(error, Math.abs(output.data[i] - expected[i]));
  }
  const sameDims = output.dims.join(',') === check.expected.dims.join(',');
  const ok = sameDims && error <= RELATIVE_TOLERANCE * scale;
  if (!ok) failed++;
  const rows = Object.values(check.inputs)[0].dims[0];
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${entry.name}: ${rows} masked rows, output [${output.dims.join(',')}] (PyTorch [${check.expected.dims.join(',')}]), ` +
      `max |ORT - PyTorch| = ${error.toExponential(2)} (max |logit| ${scale.toFixed(3)}, tolerance ${RELATIVE_TOLERANCE} relative); ` +
      `session ${createMs.toFixed(0)} ms, run ${runMs.toFixed(0)} ms`,
  );
  await session.release();
}
process.exit(failed === 0 ? 0 : 1);
