// Evaluating masks on one session: a range of mask indices (the exact path) or rows of a bit-packed mask list (any
// n): fill a batch, run, find the output's batch axis, read rewards, repeat. The same loop runs in the main thread
// (LocalRunner) and in each pool worker (worker.ts). A NaN or an infinity stops it at the batch that produced it,
// with the output, the element and the mask named.
import { CancelledError, ModelLoadError, ModelRunError, NonFiniteError } from '../contracts/errors.js';
import type { SessionHandle, TensorData, TensorInfo } from '../contracts/backend.js';
import { BatchBuilder, locateRows, readRewards, readRow, type OutputRows } from './masking.js';
import { READABLE_OUTPUT_DTYPES, type MaskList, type MaskPlan } from './plan.js';

/** The reward's output as the model declares it, checked readable before any run. */
function rewardOutput(session: SessionHandle, plan: MaskPlan): TensorInfo {
  const name = plan.reward.output;
  const info = session.outputs.find((o) => o.name === name);
  if (!info) throw new ModelRunError(`The model has no output "${name}"; its outputs are: ${session.outputs.map((o) => o.name).join(', ')}.`);
  if (!READABLE_OUTPUT_DTYPES.includes(info.dtype)) {
    throw new ModelLoadError(
      `The model's output "${name}" has dtype ${info.dtype}, which andor cannot read as numbers. Readable output dtypes: ${READABLE_OUTPUT_DTYPES.join(', ')}. ` +
        `Cast that output to float32 in the model before export, or choose another output (--output).`,
    );
  }
  return info;
}

/** Runs one batch (its feeds filled by the builder, `fed` rows: all of its rows unless a list trimmed it) and
 *  returns the reward's output with the layout of its rows. */
async function runBatch(session: SessionHandle, builder: BatchBuilder, info: TensorInfo, feeds: Record<string, TensorData>, fed = builder.plan.batchSize * builder.perMask): Promise<{ output: TensorData; rows: OutputRows }> {
  const plan = builder.plan;
  const outputs = await session.run(feeds);
  const output = outputs[info.name];
  if (!output) throw new ModelRunError(`The model returned no output "${info.name}"; it returned: ${Object.keys(outputs).join(', ')}.`);
  const masked = session.inputs.find((i) => i.name === plan.masked[0]?.name) ?? session.inputs[0];
  const rows = locateRows({
    output: info.name,
    dims: output.dims,
    declared: info.shape,
    input: masked?.name ?? 'input',
    inputBatchDim: masked?.shape[0],
    rows: plan.batchAxis.kind === 'none' ? 1 : fed,
    batchAxis: plan.batchAxis.kind,
  });
  return { output, rows };
}

/** The players of a mask, for messages: "no player present", "every player present" or "players 1, 4, 7 present"
 *  (the first 12, then a count). */
function presentText(players: readonly number[], n: number): string {
  if (players.length === 0) return 'no player present';
  if (players.length === n) return 'every player present';
  const shown = players.length > 12 ? `${players.slice(0, 12).join(', ')}, … (${players.length} players)` : players.join(', ');
  return `players ${shown} present`;
}

function present(mask: number, n: number): string {
  const players: number[] = [];
  for (let i = 0; i < n; i++) if ((mask >>> i) & 1) players.push(i);
  return presentText(players, n);
}

function presentInList(masks: MaskList, row: number): string {
  const players: number[] = [];
  const base = row * masks.words;
  for (let i = 0; i < masks.n; i++) if ((masks.bits[base + (i >>> 5)] >>> (i & 31)) & 1) players.push(i);
  return presentText(players, masks.n);
}

/** The message part naming the first non-finite element of a row, e.g. `is NaN at element 1`. */
function nonFiniteElement(row: Float64Array): string | undefined {
  const at = row.findIndex((x) => !Number.isFinite(x));
  return at < 0 ? undefined : `is ${row[at]} at element ${at}`;
}

/** What the shared batch loop needs: how to fill a batch of rows first..first+count−1 (the feeds and the rows they
 *  hold), and how to name row k. */
interface RowSource {
  fill(builder: BatchBuilder, first: number, count: number): { feeds: Record<string, TensorData>; rows: number };
  describe(row: number): string;
}

/** Evaluates rows start..end−1 of a source (masks) into out[0..end−start), one batch per model run; with R model rows
 *  per mask (the marginal baseline) a mask's reward is the mean of its rows'. */
async function evaluateRows(session: SessionHandle, builder: BatchBuilder, source: RowSource, start: number, end: number, out: Float64Array, afterBatch?: (done: number) => boolean): Promise<void> {
  const plan = builder.plan;
  const info = rewardOutput(session, plan);
  const masksPerRun = plan.batchSize;
  const per = builder.perMask;
  const rewards = per === 1 ? undefined : new Float64Array(masksPerRun * per);
  for (let first = start; first < end; first += masksPerRun) {
    const count = Math.min(masksPerRun, end - first);
    const batch = source.fill(builder, first, count);
    const { output, rows } = await runBatch(session, builder, info, batch.feeds, batch.rows);
    const bad = rewards ? readRewards(plan.reward, output, rows, count * per, rewards, 0) : readRewards(plan.reward, output, rows, count, out, first - start);
    if (bad >= 0) {
      const element = nonFiniteElement(readRow(output.data, rows, bad, new Float64Array(rows.width)));
      const what = element ? `The model's output "${info.name}" ${element}` : `The reward computed from the model's output "${info.name}" is ${(rewards ?? out)[rewards ? bad : first - start + bad]}`;
      const where = per === 1 ? 'absent players at their baseline' : `absent players at reference row ${bad % per}'s values`;
      throw new NonFiniteError(
        `${what} on ${source.describe(first + Math.floor(bad / per))}, ${where}), so that mask has no reward. ` +
          'Check the baseline (a value the model never saw can give NaN) and the input scaling, or choose another baseline (--baseline).',
      );
    }
    if (rewards) {
      for (let m = 0; m < count; m++) {
        let sum = 0;
        for (let j = 0; j < per; j++) sum += rewards[m * per + j];
        out[first - start + m] = sum / per;
      }
    }
    if (afterBatch && !afterBatch(first + count - start)) throw new CancelledError();
  }
}

/**
 * Evaluates masks start..end−1 into out[0..end−start).
 * @param session - the model
 * @param builder - batch buffers of this plan (reused across calls)
 * @param start - first mask
 * @param end - one past the last mask
 * @param out - rewards, one per mask
 * @param afterBatch - called with the number of masks done after each batch; return false to stop (cancel)
 * @throws CancelledError when afterBatch returns false
 * @throws NonFiniteError at the first batch with a reward that is NaN or infinite, naming the mask and the element
 * @throws ShapeMismatchError when the output's batch axis cannot be told; ModelLoadError for an unreadable dtype
 */
export async function evaluateRange(
  session: SessionHandle,
  builder: BatchBuilder,
  start: number,
  end: number,
  out: Float64Array,
  afterBatch?: (done: number) => boolean,
): Promise<void> {
  const n = builder.plan.n;
  const source: RowSource = { fill: (b, first, count) => ({ feeds: b.fill(first, count), rows: b.plan.batchSize * b.perMask }), describe: (mask) => `mask ${mask} (${present(mask, n)}` };
  await evaluateRows(session, builder, source, start, end, out, afterBatch);
}

/**
 * Evaluates rows start..end−1 of a bit-packed mask list (any n; checked against the plan by assertMaskList) into
 * out[0..end−start): the same batches, progress and cancellation as evaluateRange (a dynamic batch axis runs a short
 * last batch as it is, unpadded).
 * @param session - the model
 * @param builder - batch buffers of this plan (reused across calls)
 * @param masks - the list
 * @param start - first row
 * @param end - one past the last row
 * @param out - rewards, one per row
 * @param afterBatch - called with the number of rows done after each batch; return false to stop (cancel)
 * @throws as evaluateRange, naming the row of the list and its players
 */
export async function evaluateList(
  session: SessionHandle,
  builder: BatchBuilder,
  masks: MaskList,
  start: number,
  end: number,
  out: Float64Array,
  afterBatch?: (done: number) => boolean,
): Promise<void> {
  const source: RowSource = { fill: (b, first, count) => b.fillList(masks, first, count), describe: (row) => `row ${row} of the mask list (${presentInList(masks, row)}` };
  await evaluateRows(session, builder, source, start, end, out, afterBatch);
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
    // a model's rewards come from its masking and reward; given values have neither
    const fix = what === 'The model'
      ? 'Check the baseline and the input scaling, or use a reward that cannot overflow (gt-log-odds uses the stable log-sum-exp form).'
      : 'Every value must be a finite number: replace or drop the NaN and infinite ones where the values were made.';
    throw new NonFiniteError(`${what} ${what === 'The model' ? 'produced non-finite rewards' : 'holds non-finite values'} (${shown}${bad.length === 5 ? ', …' : ''}). ${fix}`);
  }
}

/**
 * Runs the model once on the full sample (every player present) and returns the row of the reward's output tensor.
 * Used before a job to check that the model takes the plan and to read the output width and predicted class.
 * @throws NonFiniteError when an element of that row is NaN or infinite (before anything picks a class from it)
 * @throws ShapeMismatchError when the output's batch axis cannot be told; ModelLoadError for an unreadable dtype
 */
export async function probeFull(session: SessionHandle, builder: BatchBuilder): Promise<Float64Array> {
  const plan = builder.plan;
  const info = rewardOutput(session, plan);
  const { output, rows } = await runBatch(session, builder, info, builder.fillFull());
  const row = readRow(output.data, rows, 0, new Float64Array(rows.width));
  const element = nonFiniteElement(row);
  if (element) {
    throw new NonFiniteError(
      `The model's output "${info.name}" ${element} on the unmasked sample (every player present, before any masking), so no reward or class can be read from it. ` +
        'Check the sample (its values and their scaling are fed as given) and that the model runs correctly on it outside andor.',
    );
  }
  return row;
}

/**
 * The µs of work that an evaluation job's tasks add up, beside its control word (bytes 8..15 of the same shared
 * buffer): a 64-bit count, since a long job's work overflows 32 bits of µs after 36 minutes.
 * @param control - the job's control word over a SharedArrayBuffer of at least 16 bytes ([0] = cancel, [1] = progress)
 * @returns a one-element view for Atomics.add and Atomics.load
 */
export function workClock(control: Int32Array): BigInt64Array {
  return new BigInt64Array(control.buffer, 8, 1);
}
