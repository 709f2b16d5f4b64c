// The whole `npm run reproduce` (every series of models/manifest.json under both conventions, the side analyses,
// figures and REPRODUCTION.md) into a temporary folder from a COLD pair cache, against the 10-minute target on a
// 2-core machine; then the same run again on the warm cache it left (the baseline: what a rerun costs, nothing
// recomputed). The repository's REPRODUCTION.md and docs/reproduction/ are not touched.
// Usage: node bench/reproduce.bench.js [--quick]   (--quick: only the first series, bc-mlp-series)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { reproduce } from '../dist/engine/interfaces/reproduce.js';
import { busyNote, foreignCpu, progress, runSuite } from './harness.js';

const MANIFEST = JSON.parse(readFileSync(new URL('../models/manifest.json', import.meta.url), 'utf8'));
/** Wall-time target of a cold run (all four series, both conventions) on a 2-core machine. */
const TARGET_S = 600;

async function run({ quick }) {
  const series = quick ? [MANIFEST.series[0].name] : MANIFEST.series.map((s) => s.name);
  const out = mkdtempSync(join(os.tmpdir(), 'andor-reproduce-'));
  const cache = join(out, 'cache');
  const rows = [];
  const suiteCpu = foreignCpu();
  try {
    for (const label of ['cold cache', 'warm cache (rerun)']) {
      progress(`reproduce: ${label}, ${series.length} series`);
      const cpu = foreignCpu();
      const own = process.cpuUsage();
      const { doc, wallS } = await reproduce({ out, cacheDir: cache, series, quiet: true });
      const used = process.cpuUsage(own);
      const verdicts = doc.series.flatMap((s) => Object.values(s.evidence.checks.andor).map((c) => c.verdict));
      rows.push({
        run: label,
        series: series.length,
        runs: series.length * 2,
        wallS,
        cpuS: (used.user + used.system) / 1e6,
        computed: doc.pairs.computed,
        sidePairs: doc.sidePairs.pairs,
        sideCached: doc.sidePairs.cached,
        reproduced: verdicts.filter((v) => v === 'reproduced').length,
        claims: verdicts.length,
        busyPct: (cpu.stop()?.share ?? 0) * 100,
      });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const [cold, warm] = rows;
  warm.warmOverCold = warm.wallS / cold.wallS;
  const foreign = suiteCpu.stop();
  const full = !quick;
  return {
    suite: 'reproduce',
    args: { quick, series },
    foreignCpu: foreign,
    tables: [
      {
        title: `reproduce: ${series.join(', ')} under both conventions (the authors' optimizer at its 10 000 iterations), into a temporary folder`,
        columns: [
          ['run', 'run'], ['series', 'series'], ['runs', 'dynamics runs'], ['wallS', 'wall s'], ['cpuS', 'CPU s (all threads)'], ['computed', 'pairs computed'], ['sidePairs', 'side pairs'], ['sideCached', 'from cache'],
          ['reproduced', 'reproduced (andor)'], ['claims', 'claims judged'], ['warmOverCold', 'warm / cold'], ['busyPct', 'other %'],
        ],
        rows,
        notes: [
          'cold cache: a fresh, empty pair cache; warm: the same run again on the cache the cold run filled (the baseline).',
          'CPU s: this process and its worker threads. other %: CPU share of other processes during the run (/proc/stat).',
          ...busyNote(foreign),
        ],
      },
    ],
    targets: [
      {
        name: `npm run reproduce from a cold cache (${series.length} series × 2 conventions)`,
        goal: `< ${TARGET_S} s on 2 cores${full ? '' : ' (full run only; --quick runs one series)'}`,
        value: `${cold.wallS.toFixed(0)} s (${cold.cpuS.toFixed(0)} CPU s; other processes ${cold.busyPct.toFixed(0)} % of the cores)`,
        met: cold.wallS < TARGET_S,
      },
    ],
  };
}

await runSuite(run, { threadsNote: 'engine defaults: one worker per core, 1 intra-op thread each; aggregation on the main thread', backend: 'onnxruntime-node CPU EP; andor WASM kernels (release, SIMD128)' });
