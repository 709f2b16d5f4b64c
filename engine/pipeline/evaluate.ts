// Evaluating a range of masks on one session: fill a batch, run, read rewards, repeat. The same loop runs in the
// main thread (LocalRunner) and in each pool worker (worker.ts).
import { CancelledError, ModelRunError, NonFiniteError } from '../contracts/errors.js';
import type { SessionHandle, TensorData } from '../contracts/backend.js';
import { BatchBuilder, readRewards } from './masking.js';

/**
 * Evaluates masks start..end−1 into out[0..end−start).
 * @param session - the model
 * @param builder - batch buffers of this plan (reused across calls)
 * @param start - first mask
 * @param end - one past the last mask
 * @param out - rewards, one per mask
 * @param afterBatch - called with the number of masks done after each batch; return false to stop (cancel)
 * @throws CancelledError when afterBatch returns false
 */
export async function evaluateRange(
  session: SessionHandle,
  builder: BatchBuilder,
  start: number,
  end: number,
  out: Float64Array,
  afterBatch?: (done: number) => boolean,
): Promise<void> {
  const plan = builder.plan;
  const rows = plan.batchSize;
  const tensorRows = plan.batchAxis.kind === 'none' ? 1 : rows;
  for (let first = start; first < end; first += rows) {
    const count = Math.min(rows, end - first);
    const outputs = await session.run(builder.fill(first, count));
    const output = outputs[plan.reward.output] as TensorData;
    readRewards(plan.reward, output, tensorRows, count, out, first - start);
    if (afterBatch && !afterBatch(first + count - start)) throw new CancelledError();
  }
}

/**
 * Checks that every reward is finite.
 * @throws NonFiniteError naming the first bad masks and what to check
 */
export function assertFiniteRewards(v: Float64Array, what = 'The model'): void {
  const bad: number[] = [];
  for (let m = 0; m < v.length && bad.length < 5; m++) if (!Number.isFinite(v[m])) bad.push(m);
  if (bad.length > 0) {
    const shown = bad.map((m) => `v[${m}] = ${v[m]}`).join(', ');
    throw new NonFiniteError(
      `${what} produced non-finite rewards (${shown}${bad.length === 5 ? ', …' : ''}). Check the baseline and the input scaling, ` +
        'or use a reward that cannot overflow (gt-log-odds uses the stable log-sum-exp form).',
    );
  }
}

/**
 * Runs the model once on the full sample (every player present) and returns the row of the reward's output tensor.
 * Used before a job to check that the model takes the plan and to read the output width and predicted class.
 */
export async function probeFull(session: SessionHandle, builder: BatchBuilder): Promise<Float64Array> {
  const plan = builder.plan;
  const outputs = await session.run(builder.fill(2 ** plan.n - 1, 1));
  const output = outputs[plan.reward.output] as TensorData | undefined;
  if (!output) throw new ModelRunError(`The model returned no output "${plan.reward.output}"; it returned: ${Object.keys(outputs).join(', ')}.`);
  const rows = plan.batchAxis.kind === 'none' ? 1 : plan.batchSize;
  const width = output.data.length / rows;
  return Float64Array.from(output.data.subarray(0, width) as ArrayLike<number>, Number);
}
