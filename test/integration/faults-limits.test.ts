// Limits checked before any work, with the true bound in the message: maxPlayers is an invalid option; the 2^n
// arrays meet either the memory budget or the 4 GiB of a wasm32 kernel module, whichever binds first; and the batch
// buffers of every thread count against the budget (a model with a huge fixed batch is refused up front).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, MemoryLimitError, createEngine, model, type Engine } from '../helpers/index.js';

const MLP = model('breast-cancer-mlp.onnx');
const SAMPLES = model('breast-cancer.samples.json');
const HUGE = model('faults/huge-batch.onnx');
/** Four features for the faults models (make.py). */
const SAMPLE = { values: Float64Array.of(2, 1, 3, 1) };
/** A refusal comes before any evaluation: well under the time a single batch of the refused job would take. */
const UP_FRONT_MS = 5_000;
const SLOW_TEST_MS = 60_000;

async function refusal(job: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await job().then(() => undefined, (e: unknown) => e);
  return { error, ms: performance.now() - started };
}

describe('player limits', () => {
  it('maxPlayers is an invalid option, not a memory limit', async () => {
    const engine = await createEngine({ workers: 0, maxPlayers: 16 });
    const { error } = await refusal(() => engine.explain({ model: MLP, sample: SAMPLES, players: '0-19' }));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toBe('20 players exceed the limit of 16 (maxPlayers / --max-players). Choose at most 16 players, raise the limit, or use method \'sparse\' (--method sparse), which has limits of its own.');
    await engine.dispose();
  });

  it('25 players are refused up front by the kernels\' wasm32 memory, whatever --max-memory-mb allows', async () => {
    // 8192 MiB covers the 2^25 arrays (5120 MiB), but 16 kernel arrays of 2^25 f64 are the whole 4 GiB of wasm32
    const engine = await createEngine({ workers: 0, maxMemoryMb: 8192 });
    const { error, ms } = await refusal(() => engine.explain({ model: MLP, sample: SAMPLES, players: '0-24' }));
    expect(error).toBeInstanceOf(MemoryLimitError);
    expect((error as Error).message).toBe(
      '25 players need 33554432 masks and 4097 MiB of WebAssembly kernel memory (16 f64 arrays of 2^25 for the decomposition), more than the 4096 MiB a wasm32 module can address: ' +
        'at most 24 players fit, whatever --max-memory-mb is. Use at most 24 players, or use method \'sparse\' (--method sparse), which evaluates a budget of masks instead of all 2^n.',
    );
    expect(ms).toBeLessThan(UP_FRONT_MS);
    await engine.dispose();
  }, SLOW_TEST_MS);

  it('when both bind, the message gives the largest n of each', async () => {
    const engine = await createEngine({ workers: 0, maxMemoryMb: 1024 });
    const { error } = await refusal(() => engine.explain({ model: MLP, sample: SAMPLES, players: '0-25' }));
    expect((error as Error).message).toMatch(/at most 24 players fit, whatever --max-memory-mb is \(the memory limit of 1024 MiB, maxMemoryMb \/ --max-memory-mb, alone allows at most 22\)\. Use at most 24 players, or use method 'sparse' \(--method sparse\)/);
    await engine.dispose();
  });

  it('below the kernel bound the budget binds, and the message says how far to raise it', async () => {
    const engine = await createEngine({ workers: 0, maxMemoryMb: 1024 });
    const { error, ms } = await refusal(() => engine.explain({ model: MLP, sample: SAMPLES, players: '0-23' }));
    expect(error).toBeInstanceOf(MemoryLimitError);
    expect((error as Error).message).toBe(
      '24 players need 16777216 masks and about 2560 MiB for their 2^n arrays (20 f64 arrays), over the memory limit of 1024 MiB (maxMemoryMb / --max-memory-mb), which fits at most 22 players. ' +
        'Use at most 22 players, or raise maxMemoryMb (--max-memory-mb) to at least 2560 (the kernels\' wasm32 memory allows up to 24 players), or use method \'sparse\' (--method sparse), which evaluates a budget of masks instead of all 2^n.',
    );
    expect(ms).toBeLessThan(UP_FRONT_MS);
    await engine.dispose();
  });
});

describe('player limits of many samples and of a game', () => {
  it('a batch of more players than the 2^n arrays allow is refused naming the sparse method, which a batch never switches to by itself', async () => {
    const engine = await createEngine({ workers: 0 });
    const { error, ms } = await refusal(() => engine.explainBatch({ model: MLP, samples: SAMPLES, rows: '0', cacheDir: false }));
    expect(error).toBeInstanceOf(MemoryLimitError);
    expect((error as Error).message).toMatch(/30 players need .* Use at most 24 players, or use method 'sparse' \(--method sparse\)/);
    expect(ms).toBeLessThan(UP_FRONT_MS);
    await engine.dispose();
  });

  it('a game given as its 2^n values is not told to use the sparse method, which does not take one', async () => {
    const engine = await createEngine({ workers: 0, maxMemoryMb: 1 });
    const { error } = await refusal(() => engine.explainValues({ values: new Float64Array(1 << 18) }));
    expect(error).toBeInstanceOf(MemoryLimitError);
    expect((error as Error).message).not.toMatch(/sparse/);
    await engine.dispose();
  });
});

describe('batch memory of a model with a huge fixed batch (2^21 rows)', () => {
  let reference: Float64Array;
  beforeAll(async () => {
    const engine = await createEngine({ workers: 0 });
    reference = (await engine.explain({ model: model('faults/batch-first.onnx'), sample: SAMPLE, preset: 'none' })).v;
    await engine.dispose();
  });

  it('is refused up front when the workers\' batches exceed --max-memory-mb, with the numbers and the fix', async () => {
    const engine = await createEngine({ workers: 2, threads: 1, maxMemoryMb: 64 });
    const { error, ms } = await refusal(() => engine.explain({ model: HUGE, sample: SAMPLE, preset: 'none' }));
    expect(error).toBeInstanceOf(MemoryLimitError);
    // per row: 4 float32 in (16 B) + 2 float32 out (8 B); 2 workers × 2^21 rows × 24 B = 96 MiB
    expect((error as Error).message).toMatch(
      /^Evaluating 16 masks in batches of 2097152 rows needs about 96 MiB of batch buffers: 2 thread\(s\) × 2097152 rows × \(16 B of input "features" \(4 float32\) \+ 8 B of output "logits" \(2 float32\)\); with 1 MiB for the 2\^n arrays that is over the memory limit of 64 MiB/,
    );
    expect((error as Error).message).toMatch(/fixed at 2097152 rows, more than the 16 masks need: export it with a dynamic batch axis .* or raise maxMemoryMb \(--max-memory-mb\) to at least 97\./);
    expect(ms).toBeLessThan(UP_FRONT_MS);
    await engine.dispose();
  }, SLOW_TEST_MS);

  it('runs, with the right rewards, when one thread\'s batch fits', async () => {
    const engine = await createEngine({ workers: 0, maxMemoryMb: 64 });
    const result = await engine.explain({ model: HUGE, sample: SAMPLE, preset: 'none' });
    expect(Array.from(result.v)).toEqual(Array.from(reference));
    await engine.dispose();
  }, SLOW_TEST_MS);
});

describe('a requested batch size counts too', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0, maxMemoryMb: 16 });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('refuses a --batch-size whose buffers and the 2^n arrays exceed the budget, saying how many rows fit', async () => {
    // n = 16: 10 MiB of 2^n arrays; 2^16 rows × (30 float32 in + 2 float32 out = 128 B) = 8 MiB more; 6 MiB / 128 B = 49152 rows fit
    const { error } = await refusal(() => engine.explain({ model: MLP, sample: SAMPLES, players: '0-15', batchSize: 65536, preset: 'none' }));
    expect(error).toBeInstanceOf(MemoryLimitError);
    expect((error as Error).message).toBe(
      'Evaluating 65536 masks in batches of 65536 rows needs about 8 MiB of batch buffers: 1 thread(s) × 65536 rows × (120 B of input "features" (30 float32) + 8 B of output "logits" (2 float32)); ' +
        'with 10 MiB for the 2^n arrays that is over the memory limit of 16 MiB (maxMemoryMb / --max-memory-mb). ' +
        'Use a smaller batchSize (--batch-size; at most 49152 rows fit) or fewer workers (--workers), or raise maxMemoryMb (--max-memory-mb) to at least 18.',
    );
  });

  it('runs the same job with the automatic batch size', async () => {
    const result = await engine.explain({ model: MLP, sample: SAMPLES, players: '0-15', preset: 'none' });
    expect(result.v.length).toBe(65536);
  }, SLOW_TEST_MS);
});
