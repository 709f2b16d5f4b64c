// Masked evaluation of explicit mask lists (bit-packed, any n) through the worker pool and on the calling thread: the
// same rewards as the exact path for the same masks, progress, cancellation, and lists that do not fit the plan.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PoolRunner } from '../../dist/engine/pipeline/pool.js';
import { candidatesFor } from '../../dist/engine/pipeline/registry.js';
import type { MaskList, MaskPlan } from '../../dist/engine/pipeline/plan.js';
import { CancelledError, DisposedError, ShapeMismatchError, model, seededRng } from '../helpers/index.js';
import { MLP_BYTES, MLP_N, RUNNERS, localRunner, mlpPlan, mlpRunner } from '../helpers/runners.js';
import type { LocalRunner } from '../../dist/engine/pipeline/runner.js';

const N = MLP_N;
const planOf = mlpPlan;

/** count masks of the n = 10 problem (one word per row), seeded, with repeats. */
function someMasks(count: number, seed: number): MaskList {
  const random = seededRng(seed);
  return { n: N, count, words: 1, bits: Uint32Array.from({ length: count }, () => Math.floor(random() * 2 ** N)) };
}

describe.each(RUNNERS)('mask lists on %s', (_name, create) => {
  const runner = mlpRunner(create);

  it('give the same v as the exact path for the same masks, whatever the list length and batch', async () => {
    const v = await runner().evaluate('mlp', planOf(64));
    for (const [count, batch] of [[1, 64], [7, 64], [300, 64], [1024, 256]] as const) {
      const masks = someMasks(count, count);
      const values = await runner().evaluateMasks('mlp', planOf(batch), masks);
      expect(Array.from(values)).toEqual(Array.from(masks.bits, (m) => v[m]));
      // in memory of its own, not the workers' shared output: a caller can transfer it
      expect(values.buffer).toBeInstanceOf(ArrayBuffer);
      expect(structuredClone(values, { transfer: [values.buffer as ArrayBuffer] })).toHaveLength(count);
    }
    expect(v.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('gives each of several lists evaluated at once on one plan its own values (the AND and OR searches of the sparse method)', async () => {
    const plan = planOf(8);
    const v = await runner().evaluate('mlp', planOf(64));
    const lists = [1, 2, 3, 4].map((seed) => someMasks(200, 100 + seed));
    const values = await Promise.all(lists.map((masks) => runner().evaluateMasks('mlp', plan, masks)));
    lists.forEach((masks, k) => expect(Array.from(values[k])).toEqual(Array.from(masks.bits, (m) => v[m])));
  });

  it('evaluates an empty list without running the model', async () => {
    expect(await runner().evaluateMasks('mlp', planOf(64), { n: N, count: 0, words: 1, bits: new Uint32Array(0) })).toEqual(new Float64Array(0));
  });

  it('reports progress and stops when cancelled', async () => {
    const calls: [number, number][] = [];
    const masks = someMasks(4096, 3);
    await runner().evaluateMasks('mlp', planOf(64), masks, { onProgress: (done, total) => calls.push([done, total]) });
    expect(calls.at(-1)).toEqual([4096, 4096]);
    const controller = new AbortController();
    controller.abort();
    await expect(runner().evaluateMasks('mlp', planOf(64), masks, { signal: controller.signal })).rejects.toThrow(CancelledError);
  });

  it('refuses a list that does not fit the plan', async () => {
    const plan = planOf(64);
    await expect(runner().evaluateMasks('mlp', plan, { n: 11, count: 1, words: 1, bits: new Uint32Array(1) })).rejects.toThrow(ShapeMismatchError);
    await expect(runner().evaluateMasks('mlp', plan, { n: N, count: 2, words: 1, bits: new Uint32Array(1) })).rejects.toThrow(/needs at least 2 entries/);
    await expect(runner().evaluateMasks('mlp', plan, { n: N, count: 1, words: 1, bits: Uint32Array.of(1 << N) })).rejects.toThrow(/sets a bit past player 9/);
  });
});

describe('short mask lists of a fast model on the calling thread', () => {
  const plan = planOf(64);
  const masks = someMasks(1024, 5);

  /** A pool with a calling-thread runner and the MLP open; its first list goes to the workers (the speed is not
   *  known yet) and measures it. */
  async function measured(): Promise<{ local: LocalRunner; runner: PoolRunner; pooled: Float64Array }> {
    const local = (await localRunner()) as LocalRunner;
    const runner = new PoolRunner({ workers: 2, threads: 1, local });
    await runner.open('mlp', MLP_BYTES, candidatesFor('cpu'));
    return { local, runner, pooled: await runner.evaluateMasks('mlp', plan, masks) };
  }

  it('run there once the model\'s speed is known, with the values the workers give; the pool closes and disposes that session', async () => {
    const { local, runner, pooled } = await measured();
    try {
      expect(local.openSessions).toBe(0);
      for (const count of [1, 2, 5]) {
        const values = await runner.evaluateMasks('mlp', plan, { n: N, count, words: 1, bits: masks.bits.slice(0, count) });
        expect(Array.from(values)).toEqual(Array.from(pooled.subarray(0, count)));
      }
      expect(local.openSessions).toBe(1);
      await runner.close('mlp');
      expect(local.openSessions).toBe(0);
      await runner.open('mlp', MLP_BYTES, candidatesFor('cpu'));
      await runner.evaluateMasks('mlp', plan, masks);
      await runner.evaluateMasks('mlp', plan, { n: N, count: 3, words: 1, bits: masks.bits.slice(0, 3) });
      expect(local.openSessions).toBe(1);
    } finally {
      await runner.dispose();
    }
    expect(local.openSessions).toBe(0);
    await expect(local.evaluateMasks('mlp', plan, someMasks(2, 1))).rejects.toThrowError(DisposedError);
  });

  it('leaves no session there when the model is closed while a short list is opening it', async () => {
    const { local, runner } = await measured();
    try {
      // the short list is at the local runner, whose session is still opening, when the model is closed
      const short = runner.evaluateMasks('mlp', plan, someMasks(3, 6));
      await new Promise((resolve) => setImmediate(resolve));
      await runner.close('mlp');
      await short.catch(() => undefined);
      expect(local.openSessions).toBe(0);
    } finally {
      await runner.dispose();
    }
  });
});

describe('mask lists of many players', () => {
  it('evaluate n = 64 masks (two words per row) through the pool, every run at the plan\'s batch size', async () => {
    const runner = new PoolRunner({ workers: 2, threads: 1 });
    try {
      await runner.open('planted', readFileSync(model('planted/planted-64.onnx')), candidatesFor('cpu'));
      const n = 64;
      const plan: MaskPlan = {
        n,
        inputs: [{ name: 'x', dtype: 'float32', sampleDims: [n], values: new Float64Array(n).fill(1) }],
        masked: [{ name: 'x', offsets: Int32Array.from({ length: n + 1 }, (_, i) => i), indices: Int32Array.from({ length: n }, (_, i) => i), baseline: new Float64Array(n) }],
        reward: { kind: 'output', target: 0, output: 'y' },
        batchAxis: { kind: 'dynamic' },
        batchSize: 16,
      };
      const truth = JSON.parse(readFileSync(model('planted/planted-64.json'), 'utf8')).and as { empty: number; terms: { players: number[]; value: number }[] };
      const random = seededRng(64);
      const count = 100;
      const bits = Uint32Array.from({ length: 2 * count }, () => Math.floor(random() * 2 ** 32));
      const has = (r: number, i: number) => ((bits[2 * r + (i >>> 5)] >>> (i & 31)) & 1) === 1;
      const values = await runner.evaluateMasks('planted', plan, { n, count, words: 2, bits });
      for (let r = 0; r < count; r++) {
        const want = truth.terms.reduce((sum, t) => sum + (t.players.every((i) => has(r, i)) ? t.value : 0), truth.empty);
        expect(values[r]).toBe(want);
      }
    } finally {
      await runner.dispose();
    }
  });
});

describe('a mask\'s value does not depend on the call it came in', () => {
  // onnxruntime's one-row matrix kernels round differently from its batched ones: on tokens-40, a mask evaluated alone
  // came out up to 1e-6 away from the same mask in a batch, so a sparse recovery (whose calls the pool splits by
  // measured speed) did not repeat itself. A list's one-row run is fed as two rows.
  it.each(RUNNERS)('tokens-40, 40 positions, on %s: one mask per call equals the same masks in one call', async (_name, create) => {
    const runner = await create();
    try {
      await runner.open('tokens', readFileSync(model('tokens-40.onnx')), candidatesFor('cpu'));
      const n = 40;
      const sample = JSON.parse(readFileSync(model('tokens-40.samples.json'), 'utf8')).samples[0] as { x: number[]; label: number };
      const plan: MaskPlan = {
        n,
        inputs: [{ name: 'input_ids', dtype: 'int64', sampleDims: [n], values: Float64Array.from(sample.x) }],
        masked: [{ name: 'input_ids', offsets: Int32Array.from({ length: n + 1 }, (_, i) => i), indices: Int32Array.from({ length: n }, (_, i) => i), baseline: new Float64Array(n).fill(1) }],
        reward: { kind: 'gt-log-odds', target: sample.label, output: 'logits' },
        batchAxis: { kind: 'dynamic' },
        batchSize: 64,
      };
      const random = seededRng(40);
      const count = 48;
      const bits = Uint32Array.from({ length: 2 * count }, (_, k) => Math.floor(random() * 2 ** 32) & (k % 2 === 1 ? 0xff : 0xffffffff));
      const together = await runner.evaluateMasks('tokens', plan, { n, count, words: 2, bits });
      for (let r = 0; r < count; r++) {
        const alone = await runner.evaluateMasks('tokens', plan, { n, count: 1, words: 2, bits: bits.slice(2 * r, 2 * r + 2) });
        expect(alone[0], `mask ${r}`).toBe(together[r]);
      }
    } finally {
      await runner.dispose();
    }
  });
});
