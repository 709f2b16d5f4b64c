// What a rerun from the disk cache costs: reading entries back, and the aggregation after them. The breast-cancer MLP
// series at n = 14 (features 0–13), preset none: entries of every v, AND and OR value of 2^14 masks, and thousands of
// salient interactions each (2 600 to 19 000 in this series).
//
//   node bench/cache.bench.js            # 8 results for parts 1–2, the whole series for part 3: about 1.5 min
//   node bench/cache.bench.js --quick    # 4 results, part 3 on 2 checkpoints
//
// Part 1: one entry written and read back, through the file system, in the disk cache's format before cache version 5
// (the baseline: a checksum line, then the result as JSON with its typed arrays in base64, cache.ts encodeEntry) and
// in today's (binary-entry.ts: a JSON header and the arrays' bytes, of the result's stored form, stored-result.ts).
// Part 2: the theory's σ² curves (theory.ts theoryCurves) on those results' AND and OR vectors, against the solver
// before b028eaa (Float64Array.from with a map function, one bit per butterfly pass), kept below as the baseline.
// Part 3: engine.dynamics on the series into an empty cache folder, then again from it.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../dist/engine/index.js';
import { decodeBinaryEntry, encodeBinaryEntry } from '../dist/engine/explain/binary-entry.js';
import { decodeEntry, encodeEntry } from '../dist/engine/explain/cache.js';
import { isUnitResult, restoreResult, storeResult } from '../dist/engine/explain/stored-result.js';
import { loadSampleSet } from '../dist/engine/inputs/samples.js';
import { orderTable } from '../dist/engine/analysis/interactions.js';
import { sigma2Grid, theoryCurves } from '../dist/engine/studies/theory.js';
import { busyNote, foreignCpu, progress, runSuite, timeRuns } from './harness.js';

const SERIES = new URL('../models/bc-mlp-series/', import.meta.url).pathname;
const PLAYERS = '0-13';
const SALIENT_RATIO = 0.05;

/** The disk cache's text format before cache version 5: `andor-entry sha256:<hex of the body>`, a newline, the body. */
const V4_PREFIX = 'andor-entry sha256:';
const v4Write = (value) => {
  const body = encodeEntry(value);
  return `${V4_PREFIX}${createHash('sha256').update(body).digest('hex')}\n${body}`;
};
const v4Read = (bytes) => {
  const text = bytes.toString('utf8');
  const newline = text.indexOf('\n');
  const body = text.slice(newline + 1);
  if (text.slice(V4_PREFIX.length, newline) !== createHash('sha256').update(body).digest('hex')) throw new Error('v4 checksum');
  return decodeEntry(body);
};

// ---- the theory solver before b028eaa (the baseline of part 2) ----
const R = 0.5 / Math.SQRT2;
const SPREAD = Math.sqrt(((1 - 0.25) / 2) ** 2 + R * R);
const LAMBDA = [0.625 + SPREAD, 0.625 - SPREAD];
const Q = LAMBDA.map((l) => [R / Math.hypot(R, l - 1), (l - 1) / Math.hypot(R, l - 1)]);
function kroneckerBefore(x, n, a, b, c, d) {
  for (let bit = 0; bit < n; bit++) {
    const h = 1 << bit;
    for (let base = 0; base < x.length; base += 2 * h) {
      for (let i = base; i < base + h; i++) {
        const x0 = x[i];
        const x1 = x[i + h];
        x[i] = a * x0 + b * x1;
        x[i + h] = c * x0 + d * x1;
      }
    }
  }
}
function theoryCurvesBefore(samples, grid, salientRatio) {
  const n = Math.log2(samples[0][0].length);
  const order = orderTable(n);
  const rootD = Float64Array.from(order, (k) => Math.SQRT2 ** k);
  const lambda = Float64Array.from(order, (_k, j) => {
    let l = 1;
    for (let i = 0; i < n; i++) l *= LAMBDA[(j >> i) & 1];
    return l;
  });
  const project = (w) => {
    const y = Float64Array.from(w, (v, j) => v * rootD[j]);
    kroneckerBefore(y, n, Q[0][0], Q[0][1], Q[1][0], Q[1][1]);
    return y;
  };
  const at = (y, sigma2) => {
    const x = Float64Array.from(y, (v, j) => (v * lambda[j]) / (lambda[j] + sigma2));
    kroneckerBefore(x, n, Q[0][0], Q[1][0], Q[0][1], Q[1][1]);
    for (let j = 0; j < x.length; j++) x[j] /= rootD[j];
    return x;
  };
  const strength = grid.map(() => new Float64Array(n + 1));
  const projected = samples.map((vectors) => vectors.map(project));
  grid.forEach((sigma2, g) => {
    projected.forEach((vectors) => {
      const solved = vectors.map((y) => at(y, sigma2));
      let max = 0;
      for (const w of solved) for (let m = 1; m < w.length; m++) max = Math.max(max, Math.abs(w[m]));
      for (const w of solved) for (let m = 1; m < w.length; m++) if (Math.abs(w[m]) >= salientRatio * max) strength[g][order[m]] += Math.abs(w[m]) / samples.length;
    });
  });
  return strength;
}

const ms = (t) => t.medianMs;

async function run({ quick }) {
  const foreign = foreignCpu();
  const engine = await createEngine({});
  const dir = mkdtempSync(join(tmpdir(), 'andor-cache-bench-'));
  try {
    const count = quick ? 4 : 8;
    const set = await loadSampleSet(join(SERIES, 'samples.json'));
    const checkpoint = join(SERIES, 'epoch-0128.onnx');
    progress(`explaining ${count} samples of ${checkpoint} at n = 14, preset none`);
    const results = [];
    for (let row = 0; row < count; row++) {
      results.push(await engine.explain({ model: checkpoint, sample: join(SERIES, 'samples.json'), row, players: PLAYERS, preset: 'none' }));
    }
    const samples = set.samples.slice(0, count);

    // part 1: write and read one entry, both formats, through files
    progress('part 1: entries');
    const rows = [];
    const formats = [
      ['before v5: text, base64 arrays', (k) => v4Write(results[k]), (bytes) => v4Read(bytes)],
      // the stored form holds the key it is stored under (stored-result.ts), and is read back by it
      ['v5: binary, stored form', (k) => encodeBinaryEntry(storeResult(samples[k], results[k], `bench-${k}`)), (bytes, k) => restoreResult({ sample: samples[k], model: { file: checkpoint } }, decodeBinaryEntry(bytes), `bench-${k}`)],
    ];
    const measured = formats.map(([name, write, read]) => {
      const files = results.map((_, k) => join(dir, `${k}-${name.slice(0, 6)}`));
      const writes = timeRuns(() => results.forEach((_, k) => writeFileSync(files[k], write(k))), { runs: 5 });
      const bytes = files.map((f) => readFileSync(f));
      const reads = timeRuns(() => files.forEach((f, k) => {
        const back = read(readFileSync(f), k);
        if (!isUnitResult(back) || back.v[5] !== results[k].v[5] || back.salient.length !== results[k].salient.length) throw new Error(`${name}: entry ${k} did not come back`);
      }), { runs: 5 });
      return { name, writeMs: ms(writes) / count, readMs: ms(reads) / count, kib: bytes.reduce((s, b) => s + b.length, 0) / count / 1024 };
    });
    const [before, after] = measured;
    for (const m of measured) rows.push({ format: m.name, kib: m.kib, writeMs: m.writeMs, readMs: m.readMs, readSpeedup: before.readMs / m.readMs, writeSpeedup: before.writeMs / m.writeMs });
    // every value back equal, in the new format
    for (let k = 0; k < count; k++) {
      const back = restoreResult({ sample: samples[k], model: { file: checkpoint } }, decodeBinaryEntry(encodeBinaryEntry(storeResult(samples[k], results[k], `bench-${k}`))), `bench-${k}`);
      if (encodeEntry(back) !== encodeEntry(results[k])) throw new Error(`entry ${k}: the stored form did not give the result back`);
    }

    // part 2: the theory's curves
    progress('part 2: theory curves');
    const vectors = results.map((r) => [r.and, r.or]);
    const grid = sigma2Grid();
    let curves;
    let baseline;
    const now = timeRuns(() => (curves = theoryCurves(vectors, grid, SALIENT_RATIO)), { runs: 3 });
    const old = timeRuns(() => (baseline = theoryCurvesBefore(vectors, grid, SALIENT_RATIO)), { runs: 3, warmup: false });
    let maxDiff = 0;
    curves.strength.forEach((s, g) => s.forEach((x, k) => (maxDiff = Math.max(maxDiff, Math.abs(x - baseline[g][k]) / Math.max(1e-300, Math.abs(baseline[g][k]))))));
    const theoryRows = [
      { solver: 'before b028eaa (Float64Array.from, one bit per pass)', ms: ms(old), speedup: 1 },
      { solver: 'now (loops, two bits per pass)', ms: ms(now), speedup: ms(old) / ms(now) },
    ];

    // part 3: a dynamics run into an empty cache, then from it
    progress('part 3: dynamics, cold then warm');
    const cacheDir = join(dir, 'cache');
    const request = { checkpoints: quick ? [join(SERIES, 'epoch-0000.onnx'), join(SERIES, 'epoch-0128.onnx')] : SERIES, samples: join(SERIES, 'samples.json'), referenceModels: join(SERIES, 'reference-0.onnx'), players: PLAYERS, preset: 'none', cacheDir };
    const runs = [];
    for (const label of ['cold (empty cache)', 'warm (every pair cached)']) {
      const t0 = performance.now();
      const result = await engine.dynamics(request);
      runs.push({ run: label, pairs: result.pairs.computed + result.pairs.cached, cached: result.pairs.cached, pairsS: result.timings.pairsMs / 1e3, aggregationS: result.timings.theoryMs / 1e3, totalS: (performance.now() - t0) / 1e3 });
    }
    runs[1].speedup = runs[0].totalS / runs[1].totalS;
    runs[0].speedup = 1;
    const busy = busyNote(foreign.stop());
    return {
      suite: 'cache',
      args: { quick },
      tables: [
        {
          title: `part 1: one cache entry written and read back through a file (median of 5 passes over ${count} entries), n = 14, preset none`,
          columns: [['format', 'format'], ['kib', 'KiB'], ['writeMs', 'write ms'], ['readMs', 'read ms'], ['writeSpeedup', 'write ×'], ['readSpeedup', 'read ×']],
          rows,
          notes: ['read: the file, the checksum, the decode and (v5) the stored form back to a result; the speed-ups are against the first row, in this run.', `results of ${count} samples of epoch-0128 (${results[0].salient.length} salient interactions in the first).`],
        },
        {
          title: `part 2: the theory's σ² curves, ${grid.length} σ² × ${count} samples × (AND, OR) at n = 14 (median of 3)`,
          columns: [['solver', 'solver'], ['ms', 'ms'], ['speedup', '×']],
          rows: theoryRows,
          notes: [`largest relative difference between the two, over every order and σ²: ${maxDiff.toExponential(1)}`],
        },
        {
          title: `part 3: engine.dynamics on the breast-cancer series (players ${PLAYERS}, preset none, 1 reference model), into an empty cache and again`,
          columns: [['run', 'run'], ['pairs', 'pairs'], ['cached', 'cached'], ['pairsS', 'pairs s'], ['aggregationS', 'aggregation s'], ['totalS', 'total s'], ['speedup', '× cold']],
          rows: runs,
          notes: ['aggregation: timings.theoryMs, everything after the pairs (the measures and the theory).', busy],
        },
      ],
      targets: [],
    };
  } finally {
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runSuite(run);
