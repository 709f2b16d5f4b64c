// Players already at their baseline (engine/pipeline/null-players.ts): the exact path evaluates the 2^(n−k) masks of
// the other players and copies v across, where it evaluated all 2^n. Here both, side by side in one run, on the same
// pool: the whole game of the plan (what ran before) against the reduced plan plus the copy (what runs now), for
// digits-cnn rows whose 4×4 grid has k blank cells at the zero baseline; and the check that both give the same v.
//
//   node bench/null-players.bench.js [--quick] [--save]     (about 40 s; --quick: two rows)
import { readFileSync } from 'node:fs';
import { PoolRunner } from '../dist/engine/pipeline/pool.js';
import { candidatesFor } from '../dist/engine/pipeline/registry.js';
import { changingPlayers, expandGame, keepPlayers, nullPlayers } from '../dist/engine/pipeline/null-players.js';
import { busyNote, foreignCpu, progress, runSuite, timeAsync } from './harness.js';

const ROOT = new URL('../', import.meta.url);
const path = (p) => new URL(p, ROOT).pathname;
const ROWS = [0, 3, 1, 5];
const QUICK_ROWS = [0, 5];

/** The engine's plan for a 4×4 grid over one 8×8 digit at the zero baseline (as call-latency.bench.js builds it). */
function digitPlan(sample) {
  const values = Float64Array.from(sample.x.flat(Infinity));
  const owned = [];
  for (let cell = 0; cell < 16; cell++) {
    const r = Math.floor(cell / 4);
    const c = cell % 4;
    const out = [];
    for (let y = 2 * r; y < 2 * r + 2; y++) for (let x = 2 * c; x < 2 * c + 2; x++) out.push(y * 8 + x);
    owned.push(out);
  }
  const offsets = new Int32Array(17);
  owned.forEach((o, i) => (offsets[i + 1] = offsets[i] + o.length));
  return {
    n: 16,
    inputs: [{ name: 'image', dtype: 'float32', sampleDims: [1, 8, 8], values }],
    masked: [{ name: 'image', offsets, indices: Int32Array.from(owned.flat()), baseline: new Float64Array(64) }],
    reward: { kind: 'gt-log-odds', target: sample.label, output: 'logits' },
    batchAxis: { kind: 'dynamic' },
    batchSize: 1024,
  };
}

async function run({ quick }) {
  const foreign = foreignCpu();
  const set = JSON.parse(readFileSync(path('models/digits.samples.json'), 'utf8'));
  const runner = new PoolRunner({ workers: 2, threads: 1 });
  const rows = [];
  try {
    await runner.open('digits', readFileSync(path('models/digits-cnn.onnx')), candidatesFor('cpu'));
    for (const row of quick ? QUICK_ROWS : ROWS) {
      const plan = digitPlan(set.samples[row]);
      const blank = nullPlayers(plan);
      const kept = changingPlayers(plan);
      const reduced = keepPlayers(plan, kept);
      progress(`row ${row}: ${blank.length} blank cells`);
      const all = await timeAsync(() => runner.evaluate('digits', plan), { minMs: 300, rounds: 3 });
      const now = await timeAsync(async () => expandGame(await runner.evaluate('digits', reduced), kept, plan.n), { minMs: 300, rounds: 3 });
      const full = await runner.evaluate('digits', plan);
      const copied = expandGame(await runner.evaluate('digits', reduced), kept, plan.n);
      let differ = 0;
      for (let m = 0; m < full.length; m++) if (full[m] !== copied[m]) differ++;
      rows.push({ row, blank: blank.length, masks: 2 ** kept.length, allMs: all.ms, reducedMs: now.ms, speedup: all.ms / now.ms, differ });
    }
  } finally {
    await runner.dispose();
  }
  return {
    suite: 'null-players',
    args: { quick },
    tables: [{
      title: 'exact path of digits-cnn (4×4 grid, zero baseline, 2 workers): every mask against the masks of the non-blank cells (fastest of 3 rounds)',
      columns: [['row', 'row'], ['blank', 'blank cells k'], ['masks', '2^(16−k)'], ['allMs', 'all 2^16 masks, ms'], ['reducedMs', 'reduced + copy, ms'], ['speedup', 'speed-up'], ['differ', 'v differs at']],
      rows,
      notes: ['v differs at: masks whose v is not bit for bit the same both ways (must be 0).', busyNote(foreign.stop())],
    }],
    targets: [{
      name: 'null players: the reduced evaluation gives the v of every mask, bit for bit',
      goal: '0 masks differ',
      value: rows.map((r) => `row ${r.row} (k = ${r.blank}): ${r.differ} differ, ${r.speedup.toFixed(1)}× faster`).join('; '),
      met: rows.every((r) => r.differ === 0),
    }],
  };
}

await runSuite(run);
