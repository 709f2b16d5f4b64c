// Faults of the job queue that an adversarial sweep (stop 48) left hanging or crashing, against a real PostgreSQL
// (test/helpers/postgres.ts) and real worker processes: a store whose id is replaced or whose folder is deleted while
// a run's units wait, a model file deleted after a long-lived client put it, and an executor closed under a waiting
// run. Each run that used to hang is raced against a bound here, so a regression fails the test instead of stalling
// the suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectQueue, resolveConnection } from '../../dist/engine/distributed/connection.js';
import {
  CancelledError, DisposedError, FolderStore, InvalidOptionError, ModelStoreError, createEngine, createQueueExecutor, model,
  type BatchRequest, type Engine, type QueueExecutor, type QueueExecutorOptions, type WorkerEvent,
} from '../helpers/index.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { CLI } from '../helpers/cli.js';

/** One test's limit: a worker process starts in about a second on 2 cores; the units here take milliseconds. */
const QUEUE_TEST_MS = 60_000;
/** How long a run that must settle (resolve or reject) may stay pending before the test calls it a hang. */
const SETTLE_MS = 20_000;
const WORKER_FLAGS = ['--workers', '0', '--threads', '1', '--poll-ms', '50', '--heartbeat-ms', '200', '--maintenance-seconds', '1'];
/** Fast units (n = 4, no learned split): the faults, not the decomposition, are the point. */
const QUICK = { model: model('breast-cancer-mlp.onnx'), samples: model('breast-cancer.samples.json'), players: '0-3', preset: 'none', cacheDir: false } as const satisfies BatchRequest;
const STORE_ID = /^[0-9a-f]{32}$/;

/** A worker process and the events it printed. */
interface WorkerProcess {
  readonly child: ChildProcess;
  readonly events: WorkerEvent[];
  readonly exited: Promise<number | null>;
}

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

describe('the job queue under the faults of stop 48', () => {
  let server: TestPostgres;
  let dir: string;
  const engines: Engine[] = [];
  const workers: WorkerProcess[] = [];
  const executors: QueueExecutor[] = [];
  const warnings: string[] = [];

  beforeAll(async () => {
    server = await startPostgres();
    dir = await mkdtemp(join(tmpdir(), 'andor-queue48-'));
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
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function setup() {
    const url = await server.createDatabase();
    const store = join(await mkdtemp(join(dir, 'store-')), 'models');
    return { url, store };
  }

  async function executor(url: string, store: string, extra: Partial<QueueExecutorOptions> = {}): Promise<QueueExecutor> {
    const created = await createQueueExecutor({
      url, store: new FolderStore(store), leaseSeconds: 3, retryLimit: 1, retryDelaySeconds: 0, maintenanceIntervalSeconds: 1,
      pollMs: 20, stateCheckMs: 200, logger: { warn: (m) => warnings.push(m), info: () => undefined }, ...extra,
    });
    executors.push(created);
    return created;
  }

  async function through(queue: QueueExecutor): Promise<Engine> {
    const engine = await createEngine({ workers: 0, threads: 1, queue });
    engines.push(engine);
    return engine;
  }

  function startWorker(url: string, store: string): WorkerProcess {
    const child = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--store', store, ...WORKER_FLAGS], { stdio: ['ignore', 'pipe', 'ignore'] });
    const events: WorkerEvent[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => events.push(JSON.parse(line) as WorkerEvent));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const worker = { child, events, exited };
    workers.push(worker);
    return worker;
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
  const modelFiles = async (store: string) => (await readdir(store)).filter((f) => /^[0-9a-f]{64}$/.test(f));

  it('rejects a run whose store\'s id was deleted and written anew while its units waited, cancelling its jobs; a rerun then runs', async () => {
    // workers gave the units back and stopped ("another folder") while the client waited for ever
    const { url, store } = await setup();
    const client = await executor(url, store);
    const run = (await through(client)).explainBatch({ ...QUICK, rows: '0-1' });
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
    const rerun = await settles((await through(client)).explainBatch({ ...QUICK, rows: '0-1' }), 'the rerun');
    expect(rerun.results!.map((r) => r.sample?.row)).toEqual([0, 1]);
  }, QUEUE_TEST_MS);

  it('rejects a run whose store folder was deleted while its units waited', async () => {
    // workers of the emptied folder gave the units back and stopped; the client waited with no word
    const { url, store } = await setup();
    const client = await executor(url, store);
    const run = (await through(client)).explainBatch({ ...QUICK, rows: '0-1' });
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
    const run = (await through(client)).explainBatch({ ...QUICK, rows: '0-1' });
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
    const first = engine.explainBatch({ ...QUICK, rows: '0', signal: controller.signal });
    await queued(url, 1);
    controller.abort();
    await expect(settles(first, 'the cancelled run')).rejects.toThrowError(CancelledError);
    const [file] = await modelFiles(store);
    await rm(join(store, file));
    startWorker(url, store);
    const batch = await settles(engine.explainBatch({ ...QUICK, rows: '1' }), 'the second run');
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

  it('rejects a run waiting on an executor that is closed with DisposedError and cancels its jobs, before the connection closes', async () => {
    // the run ended in "TypeError: Cannot read properties of undefined (reading 'rows')" from the closed connection
    const { url, store } = await setup();
    const client = await executor(url, store);
    const engine = await through(client);
    const run = engine.explainBatch({ ...QUICK, rows: '0-1' });
    await queued(url, 2);
    await client.close();
    const error = await settles(run.then(() => undefined, (e: unknown) => e), 'the run');
    expect(error).toBeInstanceOf(DisposedError);
    expect((error as Error).message).toMatch(/^The queue executor was closed while this run waited on 2 of its 2 unit\(s\); its queued and running jobs are cancelled/);
    expect(await jobStates(url)).toEqual({ cancelled: 2 });
    await expect(engine.explainBatch({ ...QUICK, rows: '2' })).rejects.toThrowError(DisposedError);
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
