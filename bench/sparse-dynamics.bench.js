// Dynamics by the sparse method (engine.dynamics({ method: 'sparse' })) on two bundled checkpoint series (12
// checkpoints each; 4 train, 4 test and 2 OOD samples; one reference model; the losses): the breast-cancer MLP over
// features 0-15 and the digits CNN over the 16 cells of a 4x4 grid.
//   (1) At n = 16, a budget of 10 % of 2^n against the same run with a budget of 2^n, where every mask is evaluated and
//       every Möbius term is exact: the curves the report draws (κ per checkpoint, the turning point, train/test
//       Jaccard per order, the generalizable share) and the wall time of both, side by side in one run.
//   (2) The MLP's 30 features, beyond the exact method (2^30 masks per pair), at budget 1500, maxOrder 3: wall time.
// Usage: node bench/sparse-dynamics.bench.js [--quick] [--save]    (--quick: 4 checkpoints, about 2 min; full: 5 min)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../dist/engine/index.js';
import { busyNote, foreignCpu, progress, runSuite } from './harness.js';

const MODELS = new URL('../models/', import.meta.url).pathname;
const EPOCHS = ['0000', '0001', '0002', '0004', '0008', '0016', '0032', '0064', '0128', '0256', '0512', '1024'];
const QUICK_EPOCHS = ['0000', '0016', '0064', '1024'];
/** The two series at n = 16: their folders and the options that make 16 players. */
const SERIES = [
  { name: 'bc-mlp-series, features 0-15', folder: 'bc-mlp-series', options: { players: '0-15' } },
  { name: 'digits-cnn-series, 4x4 grid', folder: 'digits-cnn-series', options: { modality: 'image', grid: '4x4', players: '0-15', baseline: 'zero' } },
];
const N = 16;
/** Share of 2^n the sparse run may spend per pair (as in sparse-real.bench.js, part 1). */
const SHARE = 0.1;

/** The first train, test and OOD samples of a series, written to a temporary file. */
function sampleFile(folder, dir) {
  const set = JSON.parse(readFileSync(join(MODELS, folder, 'samples.json'), 'utf8'));
  const pick = (split, count) => set.samples.filter((s) => s.split === split).slice(0, count);
  const file = join(dir, `${folder}.samples.json`);
  writeFileSync(file, JSON.stringify({ ...set, samples: [...pick('train', 4), ...pick('test', 4), ...pick('ood', 2)] }));
  return file;
}

/** A series' dynamics request without the method's options. */
function requestOf(folder, dir, quick) {
  return {
    checkpoints: (quick ? QUICK_EPOCHS : EPOCHS).map((e) => join(MODELS, folder, `epoch-${e}.onnx`)), samples: sampleFile(folder, dir),
    losses: join(MODELS, folder, 'losses.json'), referenceModels: [join(MODELS, folder, 'reference-0.onnx')], method: 'sparse', cacheDir: false, indexOrder: 0,
  };
}

const maxAbsDiff = (a, b) => Math.max(...Array.from(a, (x, i) => (Number.isFinite(x) && Number.isFinite(b[i]) ? Math.abs(x - b[i]) : 0)));

async function run({ quick }) {
  const dir = mkdtempSync(join(tmpdir(), 'andor-sparse-dyn-bench-'));
  const engine = await createEngine({});
  const suiteCpu = foreignCpu();
  try {
    const timed = async (label, request) => {
      progress(`sparse dynamics: ${label}`);
      const cpu = foreignCpu();
      const start = performance.now();
      const result = await engine.dynamics(request);
      return { result, wallS: (performance.now() - start) / 1e3, busyPct: (cpu.stop()?.share ?? 0) * 100 };
    };
    const pairs = (r) => r.pairs.computed + r.pairs.cached;
    const row = (series, label, { result, wallS, busyPct }, budget, reference) => ({
      series, run: label, n: result.n, budget, pairs: pairs(result), wallS, msPerPair: (1e3 * wallS) / pairs(result), turningPoint: result.turningPoint,
      kappa: result.checkpoints.map((c) => c.kappa.toFixed(2)).join(' '),
      ...(reference
        ? {
            speedup: reference.wallS / wallS,
            kappaDiff: maxAbsDiff(result.checkpoints.map((c) => c.kappa), reference.result.checkpoints.map((c) => c.kappa)),
            jaccardDiff: maxAbsDiff(result.jaccard.slice(1, 4), reference.result.jaccard.slice(1, 4)),
            generalizationDiff: maxAbsDiff(result.generalization.ratio, reference.result.generalization.ratio),
          }
        : {}),
      busyPct,
    });
    const rows = [];
    const compared = [];
    for (const series of SERIES) {
      const base = { ...requestOf(series.folder, dir, quick), ...series.options };
      // warm-up: the first run of a process pays for compiling the recovery's code
      await engine.dynamics({ ...base, checkpoints: base.checkpoints.slice(0, 1), budget: Math.floor(SHARE * 2 ** N), maxOrder: N });
      const full = await timed(`${series.name}, budget 2^${N} (every mask)`, { ...base, budget: 2 ** N, maxOrder: N });
      const sparse = await timed(`${series.name}, budget ${SHARE * 100} % of 2^${N}`, { ...base, budget: Math.floor(SHARE * 2 ** N), maxOrder: N });
      rows.push(row(series.name, `budget 2^${N}: every mask (the reference)`, full, 2 ** N), row(series.name, `budget ${SHARE * 100} % of 2^${N}`, sparse, Math.floor(SHARE * 2 ** N), full));
      compared.push({ series, full, sparse, row: rows.at(-1) });
    }
    const all = await timed('bc-mlp-series, all 30 features, budget 1500, maxOrder 3', { ...requestOf('bc-mlp-series', dir, quick), budget: 1500, maxOrder: 3 });
    rows.push(row('bc-mlp-series, all 30 features', 'budget 1500, maxOrder 3', all, 1500));
    const foreign = suiteCpu.stop();
    return {
      suite: 'sparse-dynamics',
      args: { quick, checkpoints: (quick ? QUICK_EPOCHS : EPOCHS).length },
      foreignCpu: foreign,
      tables: [
        {
          title: `sparse dynamics (${(quick ? QUICK_EPOCHS : EPOCHS).length} checkpoints × 10 samples + 1 reference model × 8 per series; one run each, wall = the dynamics call)`,
          columns: [
            ['series', 'series'], ['run', 'run'], ['n', 'n'], ['budget', 'budget/pair'], ['pairs', 'pairs'], ['wallS', 'wall s'], ['msPerPair', 'ms/pair'], ['speedup', 'reference / this'],
            ['turningPoint', 'turning pt'], ['kappaDiff', 'κ max diff'], ['jaccardDiff', 'Jaccard 1-3 max diff (last)'], ['generalizationDiff', 'gen. share max diff'], ['busyPct', 'other %'], ['kappa', 'κ per checkpoint'],
          ],
          rows,
          notes: [
            `The reference spends 2^${N} evaluations per pair: every Möbius term of v and of its complement, exact; the ${SHARE * 100} % run recovers them`,
            'from a tenth (maxOrder n, tolerance auto). Both have no AND-OR split and no theory (theory: null). Diffs: max |this − reference| over',
            'the checkpoints (κ, generalizable share) or over orders 1-3 of the last checkpoint\'s train/test Jaccard.',
            'other %: CPU share of other processes during the run (/proc/stat); above a few % the row is disturbed.',
            ...busyNote(foreign),
          ],
        },
      ],
      targets: compared.map(({ series, full, sparse, row: r }) => ({
        name: `sparse dynamics on ${series.name} at ${SHARE * 100} % of 2^${N} per pair finds the turning point of the run that evaluates every mask`,
        goal: 'the same checkpoint (no target in the issue: a check of the sparse path\'s curves)',
        value: `${sparse.result.turningPoint} vs ${full.result.turningPoint}; κ max diff ${r.kappaDiff.toFixed(3)}; ${r.speedup.toFixed(1)}× faster`,
        met: sparse.result.turningPoint === full.result.turningPoint,
      })),
    };
  } finally {
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runSuite(run, {
  threadsNote: 'default engine: one worker per core; recovery on the main thread, fits in the workers',
  backend: 'onnxruntime-node CPU EP; andor WASM kernels (release, SIMD128)',
});
