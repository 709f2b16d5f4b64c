// The one file that knows the benchmark harness (benchmark.js 2.1.4) and the clock: swap it here (e.g. tinybench).
// Also the plumbing every suite shares: argv, machine info, tables, targets and the results JSON. Suites stay free of
// timing code; nothing here imports the engine.
import Benchmark from 'benchmark';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = fileURLToPath(new URL('results/', import.meta.url));

/**
 * Mean time of a µs–ms function with benchmark.js (many calls per sample). fn is called by reference: no setup or
 * teardown is passed, so benchmark.js never decompiles it (stack-notes §5), and closures keep working.
 * @returns { ms, rme (± % at 95 %), samples, method }
 */
export function measureOps(fn, { maxTimeS = 0.5, minSamples = 10 } = {}) {
  const bench = new Benchmark(fn, { maxTime: maxTimeS, minSamples, initCount: 1 });
  bench.run();
  if (bench.error) throw bench.error;
  return { ms: bench.stats.mean * 1e3, rme: bench.stats.rme, samples: bench.stats.sample.length, method: 'benchmark.js' };
}

/**
 * Times `runs` single calls of a long (ms–s) function with performance.now, after one untimed warm-up call.
 * before() runs untimed before every call (e.g. to restore the input). Reports the fastest call (the least
 * disturbed by the machine) and the median.
 * @returns { ms (min), medianMs, runs, method }
 */
export function timeRuns(fn, { runs = 5, before = () => {}, warmup = true } = {}) {
  if (warmup) {
    before();
    fn();
  }
  const times = [];
  for (let r = 0; r < runs; r++) {
    before();
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[0], medianMs: times[times.length >> 1], runs, method: 'single runs' };
}

/**
 * Times an async call of µs–s length (a masked evaluation, a whole run): `warmup` untimed calls, then `rounds` rounds,
 * each repeating the call until the round has taken at least minMs (at least one call); no new round starts once all
 * rounds so far have taken budgetMs (slow calls). Reports the time per call of the fastest round (the least disturbed
 * by the machine) and of the median round.
 * @returns { ms (per call, best round), medianMs, calls (in the best round), rounds, totalMs (all rounds), method }
 */
export async function timeAsync(fn, { minMs = 500, rounds = 3, warmup = 1, budgetMs = Infinity } = {}) {
  for (let w = 0; w < warmup; w++) await fn();
  const perCall = [];
  let best = { ms: Infinity, calls: 0 };
  let totalMs = 0;
  for (let r = 0; r < rounds && totalMs < budgetMs; r++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      await fn();
      calls++;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    totalMs += elapsed;
    perCall.push(elapsed / calls);
    if (elapsed / calls < best.ms) best = { ms: elapsed / calls, calls };
  }
  return { ms: best.ms, medianMs: median(perCall), calls: best.calls, rounds: perCall.length, totalMs, method: 'async rounds' };
}

/** CPU seconds the whole machine has been busy (Linux /proc/stat, USER_HZ = 100); undefined elsewhere. */
function machineBusyS() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return (total - fields[3] - fields[4]) / 100; // minus idle and iowait
  } catch {
    return undefined;
  }
}

/**
 * Starts counting the CPU time other processes use while a benchmark runs (the machine's busy time minus this
 * process's, workers and native threads included). stop() returns { foreignS, share } (share of all cores over the
 * wall time), or undefined where /proc/stat is missing. A share above a few % means the numbers are disturbed.
 */
export function foreignCpu() {
  const busy = machineBusyS();
  const own = process.cpuUsage();
  const start = performance.now();
  return {
    stop() {
      if (busy === undefined) return undefined;
      const ownS = (() => {
        const u = process.cpuUsage(own);
        return (u.user + u.system) / 1e6;
      })();
      const foreignS = Math.max(0, machineBusyS() - busy - ownS);
      return { foreignS, share: foreignS / (((performance.now() - start) / 1e3) * os.cpus().length) };
    },
  };
}

/** Table notes about foreign CPU use during a suite (from foreignCpu().stop()). */
export function busyNote(foreign, limit = 0.05) {
  if (!foreign) return [];
  const line = `other processes used ${foreign.foreignS.toFixed(1)} CPU s (${(foreign.share * 100).toFixed(1)} % of the cores) during this suite`;
  return [foreign.share > limit ? `WARNING: ${line}: the machine was shared, rerun on a quiet machine before quoting.` : `${line}.`];
}

/** One progress line on stderr, so long suites show life without cluttering the tables on stdout. */
export const progress = (message) => process.stderr.write(`  · ${message}\n`);

/** Times one call with performance.now; returns [result, ms]. */
export function timeOnce(fn) {
  const start = performance.now();
  const result = fn();
  return [result, performance.now() - start];
}

/** timeOnce for an async function: returns [awaited result, ms]. */
export async function timeOnceAsync(fn) {
  const start = performance.now();
  const result = await fn();
  return [result, performance.now() - start];
}

/** timeRuns for an async function (each call awaited; the same warm-up, fastest and median). */
export async function timeRunsAsync(fn, { runs = 5, before = () => {}, warmup = true } = {}) {
  if (warmup) {
    before();
    await fn();
  }
  const times = [];
  for (let r = 0; r < runs; r++) {
    before();
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[0], medianMs: times[times.length >> 1], runs, method: 'single runs' };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Deterministic uniform numbers in [−1, 1) (mulberry32), so every run benchmarks the same inputs. */
export function seededRandom(seed, length) {
  let state = seed >>> 0;
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

/** Command line of a suite: positional integers (sizes), --quick, --save, --json=<path> (used by run.js). */
export function parseArgs(argv = process.argv.slice(2)) {
  const sizes = argv.filter((a) => /^\d+$/.test(a)).map(Number);
  const json = argv.find((a) => a.startsWith('--json='))?.slice('--json='.length);
  return { sizes: sizes.length ? sizes : undefined, quick: argv.includes('--quick'), save: argv.includes('--save'), json };
}

/** Node, CPU, cores, memory, and what runs the kernels. */
export function machineInfo() {
  return {
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    threads: 1,
    backend: 'andor WASM kernels (release build, SIMD128), single-threaded',
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    host: os.hostname(),
    platform: `${os.platform()} ${os.arch()}`,
  };
}

export function printMachine(info = machineInfo()) {
  const threads = info.threadsNote ?? `kernels on ${info.threads} thread`;
  console.log(`Node ${info.node} | ${info.cpu} | ${info.cores} cores, ${threads} | ${info.memoryGiB} GiB | ${info.backend}`);
}

const cell = (x) => (typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(3)) : String(x ?? ''));

/** Prints { title, columns: [[key, header]], rows, notes } as an aligned text table. */
export function printTable({ title, columns, rows, notes = [] }) {
  const head = columns.map(([, h]) => h);
  const body = rows.map((row) => columns.map(([k]) => cell(row[k])));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(`\n${title}\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of body) console.log(line(r));
  for (const note of notes) console.log(`  ${note}`);
}

/** Prints targets [{ name, goal, value, met }]. */
export function printTargets(targets) {
  console.log('\nTargets');
  for (const t of targets) console.log(`  [${t.met ? 'met' : 'NOT met'}] ${t.name}: ${t.goal}; measured ${t.value}`);
}

/** bench/results/<YYYY-MM-DD>-<host>.json */
export function resultsPath(date = new Date()) {
  return `${RESULTS_DIR}${date.toISOString().slice(0, 10)}-${os.hostname()}.json`;
}

/** Writes JSON (creating bench/results/). */
export function writeJson(path, value) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 1)}\n`);
}

/** Merges one suite's result into today's results file (keeps the other suites' latest entries). */
export function saveSuite(result) {
  const path = resultsPath();
  const file = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : { machine: machineInfo(), suites: {} };
  file.suites[result.suite] = result;
  writeJson(path, file);
  return path;
}

/**
 * The command-line entry of a suite: runs it, prints its tables and targets, then hands the result to run.js
 * (--json=<path>) or, alone with --save, merges it into today's results file (so a trial run never overwrites
 * the full run's entry).
 */
export async function runSuite(run, machine = {}) {
  const args = parseArgs();
  const info = { ...machineInfo(), ...machine };
  printMachine(info);
  const result = { ...(await run(args)) };
  if (Object.keys(machine).length > 0) result.machine ??= info; // a suite that runs on other threads or backends says so
  for (const table of result.tables) printTable(table);
  printTargets(result.targets);
  if (args.json) writeJson(args.json, result);
  else if (args.save) console.log(`\nSaved ${saveSuite(result)}`);
}

/**
 * Starts the built `andor serve` in its own process on a free port, over models/ (the service suites' server).
 * @param args - more serve flags
 * @returns its URL and process
 */
export function startServe(args) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, [`${root}dist/engine/interfaces/cli.js`, 'serve', '--models', `${root}models`, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      const url = /on (http:\/\/\S+)/.exec(d.toString())?.[1];
      if (url) resolve({ url, child });
    });
    child.on('exit', (code) => reject(new Error(`andor serve exited with ${code} before listening`)));
  });
}
