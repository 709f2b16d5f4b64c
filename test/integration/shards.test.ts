// Shards of a game's masks, without a queue: a range of masks evaluated alone gives the whole evaluation's rewards bit
// for bit (on the pool and on the calling thread, in the batches the gathering runner would use), shards cover the
// masks in whole batches, and a ShardingRunner that gathers shards evaluated on another runner gives the v of its own.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PoolRunner } from '../../dist/engine/pipeline/pool.js';
import { candidatesFor } from '../../dist/engine/pipeline/registry.js';
import { ShardingRunner, planShards } from '../../dist/engine/distributed/shards.js';
import { CancelledError, ShapeMismatchError } from '../helpers/index.js';
import { MLP_BYTES, RUNNERS, localRunner, mlpPlan, mlpRunner } from '../helpers/runners.js';

const BYTES = MLP_BYTES;
const planOf = mlpPlan;

describe.each(RUNNERS)('mask ranges on %s', (_name, create) => {
  const runner = mlpRunner(create);

  it('give the whole evaluation\'s rewards bit for bit, in its batches', async () => {
    const plan = planOf(256);
    const batch = runner().batchFor(plan);
    const whole = await runner().evaluate('mlp', plan);
    const sized = { ...plan, batchSize: batch };
    for (const [start, end] of [[0, batch], [batch, 3 * batch], [1024 - batch, 1024], [2 * batch, 1024 - 5]]) {
      const part = await runner().evaluate('mlp', sized, { range: { start, end } });
      expect(part).toHaveLength(end - start);
      expect(Array.from(part)).toEqual(Array.from(whole.subarray(start, end)));
    }
  });

  it('report progress over the range and stop when cancelled', async () => {
    const calls: [number, number][] = [];
    await runner().evaluate('mlp', planOf(64), { range: { start: 64, end: 512 }, onProgress: (done, total) => calls.push([done, total]) });
    expect(calls.at(-1)).toEqual([448, 448]);
    const controller = new AbortController();
    controller.abort();
    await expect(runner().evaluate('mlp', planOf(64), { range: { start: 0, end: 64 }, signal: controller.signal })).rejects.toThrow(CancelledError);
  });

  it('refuse a range outside 0..2^n or empty', async () => {
    for (const range of [{ start: 0, end: 1025 }, { start: 64, end: 64 }, { start: -64, end: 64 }, { start: 0.5, end: 64 }, { start: 0, end: Number.NaN }]) {
      await expect(runner().evaluate('mlp', planOf(64), { range })).rejects.toThrow(ShapeMismatchError);
    }
  });
});

describe('shards', () => {
  it('cover the 2^n masks in order in about 2^n / masks shards of whole batches, their sizes within one batch', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 5000 }), (n, batch, masks) => {
        const size = 2 ** n;
        const shards = planShards(n, batch, masks, 3);
        expect(shards).toHaveLength(Math.max(1, Math.min(Math.ceil(size / batch), Math.ceil(size / masks))));
        let next = 0;
        const counts = shards.map((s) => {
          expect(s).toMatchObject({ start: next, batch, target: 3, players: n });
          expect(s.start % batch).toBe(0);
          expect(s.end).toBeGreaterThan(s.start);
          next = s.end;
          return Math.ceil((s.end - s.start) / batch);
        });
        expect(next).toBe(size);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('gathered by a ShardingRunner from another runner give its own whole evaluation, bit for bit', async () => {
    const client = new PoolRunner({ workers: 2, threads: 1 });
    const elsewhere = await localRunner();
    try {
      await client.open('mlp', BYTES, candidatesFor('cpu'));
      await elsewhere.open('mlp', BYTES, candidatesFor('cpu'));
      const seen: [number, number][] = [];
      const sharding = new ShardingRunner(client, 100, (shards, signal) =>
        Promise.all(shards.map((s) => {
          seen.push([s.start, s.end]);
          return elsewhere.evaluate('mlp', { ...planOf(1024), batchSize: s.batch }, { range: s, signal });
        })),
      );
      const plan = planOf(1024);
      const v = await sharding.evaluate('mlp', plan);
      expect(Array.from(v)).toEqual(Array.from(await client.evaluate('mlp', plan)));
      const batch = client.batchFor(plan);
      expect(seen).toEqual(Array.from({ length: 1024 / batch }, (_, i) => [i * batch, (i + 1) * batch]));
    } finally {
      await client.dispose();
      await elsewhere.dispose();
    }
  });
});
