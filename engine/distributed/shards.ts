// Units split by masks: a slow model's unit (or one of large n) is cut into shards of its 2^n masks that workers
// evaluate, and the transforms run where the shards are gathered. The gathering side runs the unit through
// explainModel as a local run would, on a runner whose whole-game evaluation is the shards' rewards; everything else
// (the probe for the predicted class, the decomposition) runs on its own runner. Shards are whole batches of the
// batch that runner would use, so every reward, and the result, is the local run's bit for bit. No I/O here.
import type { ShardSpec } from '../explain/units.js';
import type { EvaluateOptions, Runner } from '../pipeline/runner.js';
import type { MaskPlan } from '../pipeline/plan.js';

/**
 * Cuts 2^n masks into about 2^n / masks shards of whole batches, as even as batches allow (their sizes differ by at
 * most one batch; only the last batch of the game may be short), so that workers finish together.
 * @param n - players (the changing players of the game evaluated: shards range over their masks)
 * @param batch - rows per model run of the whole evaluation
 * @param masks - masks per shard wanted
 * @param target - the class every shard explains
 */
export function planShards(n: number, batch: number, masks: number, target: number): ShardSpec[] {
  const size = 2 ** n;
  const batches = Math.ceil(size / batch);
  const count = Math.max(1, Math.min(batches, Math.ceil(size / masks)));
  return Array.from({ length: count }, (_, i) => {
    const first = Math.floor((batches * i) / count);
    const last = Math.floor((batches * (i + 1)) / count);
    return { start: first * batch, end: Math.min(size, last * batch), batch, target, players: n };
  });
}

/** Evaluates shards elsewhere: their rewards, in the order given. */
export type GatherShards = (shards: readonly ShardSpec[], signal?: AbortSignal) => Promise<Float64Array[]>;

/** A runner whose whole-game evaluation gathers shards evaluated elsewhere; the rest runs on `inner`. */
export class ShardingRunner implements Runner {
  /**
   * @param inner - the runner of this process (open, probe, batches, decomposition)
   * @param masks - masks per shard
   * @param gather - evaluates the shards
   */
  constructor(
    private readonly inner: Runner,
    private readonly masks: number,
    private readonly gather: GatherShards,
  ) {}

  get workers(): number {
    return this.inner.workers;
  }

  async evaluate(key: string, plan: MaskPlan, options: EvaluateOptions = {}): Promise<Float64Array> {
    if (options.range) return this.inner.evaluate(key, plan, options);
    const shards = planShards(plan.n, this.inner.batchFor(plan), this.masks, plan.reward.target);
    const parts = await this.gather(shards, options.signal);
    const v = new Float64Array(2 ** plan.n);
    shards.forEach((shard, i) => v.set(parts[i], shard.start));
    options.onProgress?.(v.length, v.length);
    return v;
  }

  batchFor(plan: MaskPlan): number {
    return this.inner.batchFor(plan);
  }

  open: Runner['open'] = (...args) => this.inner.open(...args);
  probe: Runner['probe'] = (...args) => this.inner.probe(...args);
  evaluateMasks: Runner['evaluateMasks'] = (...args) => this.inner.evaluateMasks(...args);
  analyze: Runner['analyze'] = (...args) => this.inner.analyze(...args);
  fitRandom: Runner['fitRandom'] = (...args) => this.inner.fitRandom(...args);
  close: Runner['close'] = (...args) => this.inner.close(...args);
  /** The inner runner belongs to the engine: disposing this wrapper leaves it alone. */
  dispose = async (): Promise<void> => undefined;
}
