// Runs every bench/*.bench.js, each in its own Node process (so one suite's memory and JIT state cannot colour the
// next), lets each print its tables, then writes bench/results/<YYYY-MM-DD>-<host>.json and lists every target.
// Usage: node bench/run.js [--quick]   (--quick: small sizes, a smoke run; nothing is saved)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineInfo, parseArgs, printMachine, printTargets, resultsPath, writeJson } from './harness.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

const { quick } = parseArgs();
const machine = machineInfo();
printMachine(machine);
const suites = {};
const started = performance.now();
for (const file of readdirSync(BENCH_DIR).filter((f) => f.endsWith('.bench.js')).sort()) {
  const name = file.slice(0, -'.bench.js'.length);
  const json = `${BENCH_DIR}results/${name}.tmp.json`;
  console.log(`\n=== ${file}${quick ? ' --quick' : ''}`);
  const child = spawnSync(process.execPath, [`${BENCH_DIR}${file}`, `--json=${json}`, ...(quick ? ['--quick'] : [])], { stdio: 'inherit' });
  if (child.status !== 0) throw new Error(`${file} failed (exit ${child.status ?? child.signal}); see its output above.`);
  suites[name] = JSON.parse(readFileSync(json, 'utf8'));
  rmSync(json);
}
const minutes = (performance.now() - started) / 60e3;
console.log(`\n=== all suites (${minutes.toFixed(1)} min)`);
printTargets(Object.values(suites).flatMap((s) => s.targets));
if (quick) console.log('\n--quick: smoke run, results not saved');
else {
  const path = resultsPath();
  writeJson(path, { machine, date: new Date().toISOString(), minutes, suites });
  console.log(`\nSaved ${path}`);
}
