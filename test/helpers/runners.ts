// Runners on the bundled breast-cancer MLP for the pipeline's tests: a hand-built plan (players 0..9 = features 0..9
// of one sample, absent at 0, reward gt-log-odds of class 1) and the runners that evaluate it (the pool, the calling
// thread, and the pool with a calling-thread runner for short lists, as the engine builds it).
import { readFileSync } from 'node:fs';
import { PoolRunner } from '../../dist/engine/pipeline/pool.js';
import { LocalRunner, type Runner } from '../../dist/engine/pipeline/runner.js';
import { afterAll, beforeAll } from 'vitest';
import { BackendRegistry, candidatesFor } from '../../dist/engine/pipeline/registry.js';
import type { MaskPlan } from '../../dist/engine/pipeline/plan.js';
import { loadKernels, ortNodeBackend, ortWebBackend } from '../../dist/bindings/index.js';
import { model } from './index.js';

/** The plan's players. */
export const MLP_N = 10;
/** The model's bytes (open them under any key). */
export const MLP_BYTES = readFileSync(model('breast-cancer-mlp.onnx'));
const X = Float64Array.from(JSON.parse(readFileSync(model('breast-cancer.samples.json'), 'utf8')).samples[0].x as number[]);

/** The MLP plan with this batch size. */
export function mlpPlan(batchSize: number): MaskPlan {
  return {
    n: MLP_N,
    inputs: [{ name: 'features', dtype: 'float32', sampleDims: [30], values: X }],
    masked: [{ name: 'features', offsets: Int32Array.from({ length: MLP_N + 1 }, (_, i) => i), indices: Int32Array.from({ length: MLP_N }, (_, i) => i), baseline: new Float64Array(30) }],
    reward: { kind: 'gt-log-odds', target: 1, output: 'logits' },
    batchAxis: { kind: 'dynamic' },
    batchSize,
  };
}

/** A runner on the calling thread (one intra-op thread, release kernels). */
export async function localRunner(): Promise<Runner> {
  return new LocalRunner(new BackendRegistry().register(ortNodeBackend).register(ortWebBackend), 1, await loadKernels('release'));
}

/** The runners, named for describe.each. */
export const RUNNERS: [string, () => Promise<Runner>][] = [
  ['the pool (2 workers)', async () => new PoolRunner({ workers: 2, threads: 1 })],
  ['the calling thread', localRunner],
  // the engine's default: short lists of a fast model run on the calling thread
  ['the pool with a local runner (2 workers)', async () => new PoolRunner({ workers: 2, threads: 1, local: await localRunner() })],
];

/** In a describe block: creates a runner with the MLP open under key 'mlp' before its tests and disposes of it
 *  after them. Returns a getter of the runner. */
export function mlpRunner(create: () => Promise<Runner>): () => Runner {
  let runner: Runner | undefined;
  beforeAll(async () => {
    runner = await create();
    await runner.open('mlp', MLP_BYTES, candidatesFor('cpu'));
  });
  afterAll(async () => {
    await runner?.dispose();
  });
  return () => runner!;
}
