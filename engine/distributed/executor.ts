// The client side of the queue: a UnitExecutor that reads each unit's stored result when there is one, queues the rest
// as pg-boss jobs (model bytes into the store, one job per content key), then gathers results by polling the results
// table, reporting each as it lands. A unit of a slow model is queued as shards of its masks instead (shards.ts): it
// runs here on a runner that gathers them, and its result is stored like a worker's. Failed-for-good units are
// collected and thrown together once the rest finish; the signal cancels this run's jobs (workers notice at their
// next lease renewal and stop), and so does close() or a store that stopped being the jobs' (another id, or none).
// Workers: worker.ts.
import { randomUUID } from 'node:crypto';
import { CancelledError, DisposedError, InvalidOptionError, reviveError, serializeError } from '../contracts/errors.js';
import { decodeEntry } from '../explain/cache.js';
import type { ExplainContext } from '../explain/explain.js';
import { asksSparse, runUnit, shardKey, type ExplainUnit, type ShardSpec, type UnitExecutor, type UnitResult } from '../explain/units.js';
import { connectQueue, integerOption, reconnecting, resolveConnection, sleep, type QueueConnection, type QueueConnectionOptions } from './connection.js';
import { isDeterministic, maskPassword, ModelStoreError, UnitsFailedError, type UnitFailure } from './errors.js';
import { LIVE_STATES, ensureQueue, jobsById, liveJobsByKey, type JobRow } from './jobs.js';
import { INLINE_SAMPLE_BYTES, PayloadEncoder, type UnitPayload } from './payload.js';
import { decodeResult, encodeResult } from './result-codec.js';
import { deleteResult, ensureResultsTable, readResults, storeResult } from './results.js';
import { ShardingRunner, type GatherShards } from './shards.js';
import type { ModelStore } from './store.js';

/** Options of createQueueExecutor. */
export interface QueueExecutorOptions extends QueueConnectionOptions {
  /** Where models go by hash; every worker must reach the same store. */
  readonly store: ModelStore;
  /** Seconds a running unit's job stays claimed without a renewal: a worker that stops renewing (killed, cut off from
   *  the database) loses its unit to another worker after about this long plus the maintenance interval (default 60). */
  readonly leaseSeconds?: number;
  /** Tries after the first one before a unit fails for good (default 2). */
  readonly retryLimit?: number;
  /** Seconds between a failed try and the next (default 1). */
  readonly retryDelaySeconds?: number;
  /** First interval between looks for finished units, in ms; it doubles while none finish, up to an eighth of the
   *  mean time between results that landed, and to maxPollMs (default 50). */
  readonly pollMs?: number;
  /** Longest interval between looks for finished units, in ms (default 1000). */
  readonly maxPollMs?: number;
  /** How often the states of unfinished jobs are read (failures, jobs cancelled by others), in ms (default 1000). */
  readonly stateCheckMs?: number;
  /** Samples whose encoding is longer than this many bytes go through the store instead of the job (default 64 KiB:
   *  an image sample is MBs, which the job table would carry through every update and into pg-boss's archive). */
  readonly inlineSampleBytes?: number;
  /** Masks per shard: each unit is queued as shards of about this many of its masks (whole batches), evaluated by
   *  the workers, and its transforms run here once they are gathered (default 0: whole units). Worth it when one
   *  unit is long: a slow model or a large n (a ResNet-18 sample at n = 10 is ~30 s on one core; 256 spreads it over
   *  4 workers). Shards need the run's context (explainBatch and dynamics pass it); without one, units go whole. */
  readonly shardMasks?: number;
  /** After this long with none of a run's units taken by a worker, the logger says so once: no `andor worker` may
   *  be serving the queue (default 30000 ms). */
  readonly idleWarnMs?: number;
}

/** A UnitExecutor over a job queue; close() releases its connection. */
export interface QueueExecutor extends UnitExecutor {
  /** The queue's name and the store's location. */
  readonly queue: string;
  readonly store: ModelStore;
  /** Stops the runs in flight (each rejects with DisposedError, its jobs cancelled), then closes the connection; runs
   *  may not start afterwards. */
  close(): Promise<void>;
}

/** Jobs inserted per statement at most: pg-boss sends them as one JSON parameter... */
const INSERT_CHUNK = 200;
/** ...of about this many bytes at most (an image sample is MBs). */
const INSERT_BYTES = 4 << 20;
/** Job ids or keys per read. */
const READ_IDS = 5000;
/** Results read per statement (each is tens of KB to MBs). */
const READ_CHUNK = 200;
/** Resends of one unit whose job others cancelled or removed, before the unit is reported failed. */
const MAX_RESENDS = 3;
/** Polls per interval between landings, at least, once results land: bounds the latency of the last one. */
const POLLS_PER_LANDING = 8;
/** Sharded units gathered here at once, at least (each has all its shards queued). */
const GATHERED_UNITS_IN_FLIGHT = 8;
/** What pg-boss writes as the output of a job whose lease ran out. */
const EXPIRED_MESSAGE = 'job failed by timeout in active state';

/**
 * Connects to the queue and returns an executor that runs units on whichever workers serve it.
 * @param options - the database URL, the model store, the lease and retry settings
 * @returns the executor; call close() when done
 * @throws InvalidOptionError naming a bad option; QueueUnavailableError when the database stays unreachable
 */
export async function createQueueExecutor(options: QueueExecutorOptions): Promise<QueueExecutor> {
  const connection = resolveConnection(options);
  const store = options.store;
  if (!store || typeof store.put !== 'function' || typeof store.get !== 'function' || typeof store.has !== 'function' || (store.id !== undefined && typeof store.id !== 'function')) {
    throw new InvalidOptionError('options.store must be a ModelStore (put, get, has, and optionally id), e.g. new FolderStore(dir).');
  }
  const settings = {
    leaseSeconds: integerOption(options.leaseSeconds, 'options.leaseSeconds', 2, 7 * 24 * 3600, 60),
    retryLimit: integerOption(options.retryLimit, 'options.retryLimit', 0, 100, 2),
    retryDelaySeconds: integerOption(options.retryDelaySeconds, 'options.retryDelaySeconds', 0, 3600, 1),
    pollMs: integerOption(options.pollMs, 'options.pollMs', 1, 60_000, 50),
    maxPollMs: integerOption(options.maxPollMs, 'options.maxPollMs', 1, 600_000, 1000),
    stateCheckMs: integerOption(options.stateCheckMs, 'options.stateCheckMs', 10, 600_000, 1000),
    inlineSampleBytes: integerOption(options.inlineSampleBytes, 'options.inlineSampleBytes', 0, 256 << 20, INLINE_SAMPLE_BYTES),
    shardMasks: integerOption(options.shardMasks, 'options.shardMasks', 0, 2 ** 30, 0),
    idleWarnMs: integerOption(options.idleWarnMs, 'options.idleWarnMs', 10, 86_400_000, 30_000),
  };
  const db = await connectQueue(connection, 'client');
  try {
    await reconnecting(connection, 'preparing the queue', async () => {
      await ensureQueue(db);
      await ensureResultsTable(db.sql);
    });
  } catch (error) {
    await db.close();
    throw error;
  }
  // close() stops the runs in flight first (each cancels its jobs while the connection is still open), then closes it:
  // closing the connection under a waiting run ended it in a TypeError from pg-boss (an adversarial sweep, stop 48)
  const closing = new AbortController();
  const active = new Set<Promise<unknown>>();
  let closed: Promise<void> | undefined;
  const run: QueueRunContext = { db, store, settings, closing: closing.signal };
  return {
    queue: connection.queue,
    store,
    run: (units, runOptions) => {
      if (closing.signal.aborted) return Promise.reject(new DisposedError('This queue executor was closed; create another with createQueueExecutor().'));
      const running = new QueueRun(run, units.map((unit) => unitJob(run, unit, runOptions.context)), runOptions).run();
      active.add(running);
      const settle = () => active.delete(running);
      running.then(settle, settle);
      return running;
    },
    close() {
      closed ??= (async () => {
        closing.abort();
        await Promise.allSettled(active);
        await db.close();
      })();
      return closed;
    },
  };
}

type Settings = { leaseSeconds: number; retryLimit: number; retryDelaySeconds: number; pollMs: number; maxPollMs: number; stateCheckMs: number; inlineSampleBytes: number; shardMasks: number; idleWarnMs: number };

/** What every run of one executor shares: its connection, store and settings, and the signal of its close(). */
interface QueueRunContext {
  readonly db: QueueConnection;
  readonly store: ModelStore;
  readonly settings: Settings;
  /** Aborted by close(): runs in flight reject with DisposedError (their jobs cancelled) before the connection closes. */
  readonly closing: AbortSignal;
}

/** One job of a run: a unit, or a shard of one; its stored result read back as T. */
interface RunJob<T> {
  readonly key: string;
  readonly unit: ExplainUnit;
  readonly shard?: ShardSpec;
  /** The stored text's value, or undefined when it is not one (the job then runs again). */
  decode(text: string): T | undefined;
  /** Computes the value here, with the text to store, instead of queueing the job (a sharded unit). */
  readonly local?: (signal: AbortSignal) => Promise<{ value: T; text: string }>;
}

/** How a run goes: the unit runs' options, with results of any kind. */
interface RunOptions<T> {
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  readonly onResult?: (index: number, value: T, cached: boolean) => void | Promise<void>;
  /** false: values reach onResult only, and the returned results stay empty (UnitRunOptions.keep). */
  readonly keep?: boolean;
}

/** A unit's job: queued whole, or (with shards and a context to gather them in) run here over queued shards. */
function unitJob(run: QueueRunContext, unit: ExplainUnit, context: ExplainContext | undefined): RunJob<UnitResult> {
  const job = { key: unit.key, unit, decode: (text: string) => decodeResult(unit, text) };
  const masks = run.settings.shardMasks;
  // a sparse unit's masks are chosen as its search goes: it is queued whole
  if (masks === 0 || !context || asksSparse(unit.options)) return job;
  const gather: GatherShards = async (shards, signal) => {
    const jobs = shards.map((shard): RunJob<Float64Array> => ({ key: shardKey(unit, shard), unit, shard, decode: (text) => shardRewards(text, shard) }));
    return (await new QueueRun(run, jobs, { concurrency: 1, signal }).run()).results;
  };
  return {
    ...job,
    local: async (signal) => {
      const value = await runUnit({ ...context, runner: new ShardingRunner(context.runner, masks, gather) }, unit, signal);
      return { value, text: encodeResult(unit, value) };
    },
  };
}

/** Whether an error says the run's store no longer answers the id its jobs were queued under. */
function isStoreReplaced(error: unknown): error is ModelStoreError {
  return error instanceof ModelStoreError && error.reason === 'replaced';
}

/** A shard's stored rewards, when they are well-formed. */
function shardRewards(text: string, shard: ShardSpec): Float64Array | undefined {
  const value = decodeEntry(text);
  return value instanceof Float64Array && value.length === shard.end - shard.start ? value : undefined;
}

/** One run of jobs through the queue. */
class QueueRun<T> {
  private readonly id = randomUUID();
  private readonly encoder: PayloadEncoder;
  /** Job indices by content key (jobs with the same key are one queued job). */
  private readonly byKey = new Map<string, number[]>();
  private readonly results: T[];
  private readonly cached: boolean[];
  /** Keys without a result or a final failure yet. */
  private readonly pending = new Set<string>();
  /** The job each pending key waits on (this run's, or another client's it joined). */
  private readonly watched = new Map<string, string>();
  /** Jobs this run inserted: the ones it cancels. */
  private readonly mine = new Set<string>();
  private readonly failures = new Map<string, UnitFailure>();
  private readonly resends = new Map<string, number>();
  private readonly payloads = new Map<string, UnitPayload>();
  /** Stops the jobs that run here when the run fails. */
  private readonly stopLocal = new AbortController();
  /** When the run started, and whether it has said that no worker took a unit (once). */
  private readonly startedAt = performance.now();
  private idleWarned = false;
  /** A fault of the whole run met by a job run here (its store changed id): the run rejects with it. */
  private fault: Error | undefined;

  private readonly db: QueueConnection;
  private readonly store: ModelStore;
  private readonly settings: Settings;
  /** The executor's close(). */
  private readonly closing: AbortSignal;

  constructor(
    { db, store, settings, closing }: QueueRunContext,
    private readonly jobs: readonly RunJob<T>[],
    private readonly options: RunOptions<T>,
  ) {
    this.db = db;
    this.store = store;
    this.settings = settings;
    this.closing = closing;
    this.encoder = new PayloadEncoder(this.id, settings.inlineSampleBytes);
    this.results = new Array(jobs.length);
    this.cached = new Array(jobs.length).fill(false);
    jobs.forEach((job, index) => {
      const indices = this.byKey.get(job.key);
      if (indices) indices.push(index);
      else this.byKey.set(job.key, [index]);
    });
  }

  async run(): Promise<{ results: T[]; cached: boolean[] }> {
    const { signal } = this.options;
    if (signal?.aborted) throw this.cancelledError(0);
    if (this.closing.aborted) throw this.closedError();
    // the waits end on the caller's signal and on the executor's close()
    const wake = signal ? AbortSignal.any([signal, this.closing]) : this.closing;
    for (const key of this.byKey.keys()) this.pending.add(key);
    let local: Promise<void> = Promise.resolve();
    try {
      await this.collect(true);
      const queued = this.queuedPending();
      const here = [...this.pending].filter((key) => this.jobOf(key).local);
      if (queued.length > 0) {
        await this.putModels(queued);
        await this.submit(queued);
      }
      local = this.runHere(here);
      let waitMs = this.settings.pollMs;
      let lastCheck = performance.now();
      const polling = performance.now();
      let landedHere = 0;
      while (this.queuedPending().length > 0) {
        await sleep(waitMs, wake);
        if (signal?.aborted) throw await this.cancel(local);
        if (this.closing.aborted) throw this.closedError();
        if (this.fault) throw this.fault;
        const landed = await this.collect(false, this.queuedPending());
        landedHere += landed;
        // the interval grows to a fraction of the time between landings (at most maxPollMs): the last result is read
        // soon after it lands, however long the run, for one indexed read per poll
        const cap = landedHere === 0 ? this.settings.maxPollMs : Math.min(this.settings.maxPollMs, Math.max(this.settings.pollMs, (performance.now() - polling) / landedHere / POLLS_PER_LANDING));
        waitMs = landed > 0 ? this.settings.pollMs : Math.min(waitMs * 2, cap);
        if (performance.now() - lastCheck >= this.settings.stateCheckMs) {
          lastCheck = performance.now();
          await this.checkStore();
          await this.checkJobs();
        }
      }
      await local;
      if (signal?.aborted) throw await this.cancel(local);
      if (this.fault) throw this.fault;
      if (this.closing.aborted && this.pending.size > 0) throw this.closedError();
    } catch (error) {
      if (!(error instanceof CancelledError)) await this.cancelAfter(error, local);
      throw error;
    }
    if (this.failures.size > 0) {
      const failures = [...this.failures.values()].sort((a, b) => a.index - b.index);
      // every unit failed on the same fault of the request (a bad option, a memory limit): that error, as a local run
      // gives it, not "units failed for good"
      const [first] = failures;
      if (this.failures.size === new Set(this.jobs.map((j) => j.key)).size && isDeterministic(first.code) && failures.every((f) => f.code === first.code)) {
        throw reviveError({ name: first.name, code: first.code, message: first.reason });
      }
      throw new UnitsFailedError(failures, this.jobs.length);
    }
    return { results: this.results, cached: this.cached };
  }

  private get conn() {
    return this.db.options;
  }

  private jobOf(key: string): RunJob<T> {
    return this.jobs[this.byKey.get(key)![0]];
  }

  /** Pending keys whose results come from the queue (not computed here). */
  private queuedPending(): string[] {
    return [...this.pending].filter((key) => !this.jobOf(key).local);
  }

  /** Reports a key's value for each of its jobs. */
  private async land(key: string, value: T, fromCache: boolean): Promise<void> {
    this.pending.delete(key);
    for (const index of this.byKey.get(key)!) {
      if (this.options.keep !== false) this.results[index] = value;
      this.cached[index] = fromCache;
      await this.options.onResult?.(index, value, fromCache);
    }
  }

  /**
   * Reads the stored results of pending keys and reports them.
   * @param fromCache - whether they count as cached (stored before this run queued anything)
   * @returns how many landed
   */
  private async collect(fromCache: boolean, keys: readonly string[] = [...this.pending]): Promise<number> {
    let landed = 0;
    for (let start = 0; start < keys.length; start += READ_CHUNK) {
      // a read returns a bounded number of bytes (results.ts): the rest of the chunk's stored results come in the next
      for (let chunk = keys.slice(start, start + READ_CHUNK), more = true; more && chunk.length > 0; ) {
        const read = await reconnecting(this.conn, 'reading results', () => readResults(this.db.sql, chunk, READ_CHUNK));
        more = read.more;
        const got = new Set(read.rows.map(([key]) => key));
        chunk = chunk.filter((key) => !got.has(key));
        landed += await this.take(read.rows, fromCache);
      }
    }
    return landed;
  }

  /** Reports results read from the table; one that does not decode is removed and its job queued again. */
  private async take(rows: readonly [string, string][], fromCache: boolean): Promise<number> {
    let landed = 0;
    for (const [key, text] of rows) {
      if (!this.pending.has(key)) continue;
      const value = this.jobOf(key).decode(text);
      if (value === undefined) {
        // a row that does not decode is never trusted: it goes, and the job runs again (as the disk cache does)
        await reconnecting(this.conn, 'removing an unreadable result', () => deleteResult(this.db.sql, key));
        this.conn.logger.warn(`andor queue: the stored result of ${key} could not be decoded; it was removed and its job runs again.`);
        if (!fromCache) await this.submit([key]);
        continue;
      }
      landed++;
      await this.land(key, value, fromCache);
    }
    return landed;
  }

  /**
   * Runs the jobs computed here (at most `concurrency` at once) and stores each result; a failure is recorded as the
   * job's, and a job stopped by the run's end is not.
   */
  private async runHere(keys: readonly string[]): Promise<void> {
    const { signal } = this.options;
    const stop = AbortSignal.any([this.stopLocal.signal, this.closing, ...(signal ? [signal] : [])]);
    const queue = [...keys];
    const one = async (key: string) => {
      try {
        const { value, text } = await this.jobOf(key).local!(stop);
        await reconnecting(this.conn, 'storing a result', () => storeResult(this.db.sql, key, text));
        if (this.pending.has(key)) await this.land(key, value, false);
      } catch (error) {
        // the store of a sharded unit's shards changed id: no unit of this run can finish, as for queued units
        const fault = [error, (error as { cause?: unknown } | undefined)?.cause].find(isStoreReplaced);
        if (fault) {
          this.fault ??= fault;
          this.stopLocal.abort();
          return;
        }
        if (stop.aborted) return;
        this.pending.delete(key);
        this.failures.set(key, this.failureFromError(key, error));
      }
    };
    // a unit gathered here waits on its shards most of the time: more in flight keep more workers busy
    const inFlight = Math.max(this.options.concurrency, GATHERED_UNITS_IN_FLIGHT);
    await Promise.all(Array.from({ length: Math.min(inFlight, queue.length) }, async () => {
      for (let key = queue.shift(); key !== undefined && !stop.aborted; key = queue.shift()) await one(key);
    }));
  }

  /** Puts the models of these keys' jobs into the store (once per model). */
  private async putModels(keys: readonly string[]): Promise<void> {
    // the store's id goes into every payload: a worker of another store gives the units back instead of failing them
    this.encoder.store ??= await this.store.id?.(true);
    const models = new Map<string, Uint8Array>();
    for (const key of keys) {
      const { unit } = this.jobOf(key);
      models.set(unit.model.sha256, unit.model.bytes);
    }
    for (const [sha256, bytes] of models) {
      const stored = await this.store.put(bytes);
      if (stored !== sha256) throw new InvalidOptionError(`The store ${this.store.location} filed model ${sha256} as ${stored}; a ModelStore must key models by their sha256.`);
    }
  }

  /** A key's payload; a large sample goes into the store first (once per run). */
  private async payloadOf(key: string): Promise<UnitPayload> {
    let payload = this.payloads.get(key);
    if (!payload) {
      const job = this.jobOf(key);
      const encoded = this.encoder.encode(job.unit, job.shard);
      if (encoded.blob) await this.store.put(encoded.blob);
      this.payloads.set(key, (payload = encoded.payload));
    }
    return payload;
  }

  /** Queues one job per key; a key that already has a queued job (another client's) joins that job instead. Jobs go
   *  in as they are encoded, a few MB per statement, so workers start on the first ones while the rest are encoded. */
  private async submit(keys: readonly string[]): Promise<void> {
    const { boss } = this.db;
    const { queue } = this.conn;
    const ids = new Map<string, string>();
    let chunk: { id: string; name: string; data: object; singletonKey: string; expireInSeconds: number; retryLimit: number; retryDelay: number }[] = [];
    let chunkBytes = 0;
    const flush = async () => {
      const jobs = chunk;
      chunk = [];
      chunkBytes = 0;
      // the ids are chosen here, so a retry after a lost reply inserts nothing twice
      if (jobs.length > 0) await reconnecting(this.conn, 'queueing units', () => boss.insert(jobs));
    };
    for (const key of keys) {
      const payload = await this.payloadOf(key);
      const id = randomUUID();
      ids.set(key, id);
      chunk.push({
        id, name: queue, data: payload as unknown as object, singletonKey: key,
        expireInSeconds: this.settings.leaseSeconds, retryLimit: this.settings.retryLimit, retryDelay: this.settings.retryDelaySeconds,
      });
      chunkBytes += (typeof payload.sample === 'string' ? payload.sample.length : 0) + payload.shared.length;
      // the first job goes in alone: a worker starts on it while the rest are encoded
      if (chunk.length >= (ids.size === 1 ? 1 : INSERT_CHUNK) || chunkBytes >= INSERT_BYTES) await flush();
    }
    await flush();
    const inserted = new Set((await this.inChunks([...ids.values()], (part) => jobsById(this.db, part))).map((j) => j.id));
    const joined: string[] = [];
    for (const [key, id] of ids) {
      if (inserted.has(id)) {
        this.watched.set(key, id);
        this.mine.add(id);
      } else joined.push(key);
    }
    // the queue keeps one queued job per key: these keys were queued by someone else, whose job this run follows
    // (when that job is already gone, the next check finds no job and queues the unit again)
    for (const job of await this.inChunks(joined, (part) => liveJobsByKey(this.db, part))) this.watched.set(job.key, job.id);
  }

  /** A read of many ids or keys, a bounded number per statement (retried while the database is away). */
  private async inChunks<T>(items: readonly string[], read: (part: string[]) => Promise<T[]>): Promise<T[]> {
    const out: T[] = [];
    for (let start = 0; start < items.length; start += READ_IDS) out.push(...(await reconnecting(this.conn, 'reading queued jobs', () => read(items.slice(start, start + READ_IDS)))));
    return out;
  }

  /** Says once, after idleWarnMs, that no worker has taken any of the run's units (every job still waiting, no
   *  result yet): a client waits for workers, silently otherwise. */
  private warnIfIdle(jobs: readonly JobRow[]): void {
    if (this.idleWarned || jobs.length === 0 || performance.now() - this.startedAt < this.settings.idleWarnMs) return;
    if (!jobs.every((j) => j.state === 'created') || this.results.some((r) => r !== undefined)) return;
    this.idleWarned = true;
    this.conn.logger.warn(`andor queue: no worker has taken any of this run's ${jobs.length} queued unit(s) in ${Math.round(this.settings.idleWarnMs / 1000)} s; the run waits for one. Start \`andor worker --queue URL --store DIR\` on this queue (${maskPassword(this.conn.url)}, queue "${this.conn.queue}").`);
  }

  /**
   * Checks that the store still holds what the queued pending jobs read from it. A store with ids must still answer
   * the id their payloads name: a worker gives a unit of another id back unrun and stops, so after the store's id
   * file was deleted and written anew, or the whole folder deleted, the run waited for ever with no word (an
   * adversarial sweep, stop 48). Models and samples gone from a store that kept its id are put back.
   * @throws ModelStoreError (reason 'replaced') when the store's id is no longer the one the jobs were queued under
   */
  private async checkStore(): Promise<void> {
    const keys = this.queuedPending();
    // each hash the jobs read from the store, and a job that needs it (whose unit gives its bytes again)
    const needed = new Map<string, { key: string; model: boolean }>();
    for (const key of keys) {
      const { unit } = this.jobOf(key);
      if (!needed.has(unit.model.sha256)) needed.set(unit.model.sha256, { key, model: true });
      const sample = this.payloads.get(key)?.sample;
      if (typeof sample === 'object' && !needed.has(sample.stored)) needed.set(sample.stored, { key, model: false });
    }
    const missing: string[] = [];
    for (const sha256 of needed.keys()) if (!(await this.store.has(sha256))) missing.push(sha256);
    const queuedUnder = this.encoder.store;
    if (queuedUnder !== undefined && this.store.id) {
      const current = await this.store.id(false);
      if (current !== queuedUnder) throw this.storeReplacedError(queuedUnder, current, missing, needed.size, [...needed.keys()][0]);
    }
    if (missing.length === 0) return;
    // the same store, some of its files gone (deleted by hand, a cleaner): put back before the workers' retries run out
    for (const sha256 of missing) {
      const { key, model } = needed.get(sha256)!;
      const job = this.jobOf(key);
      const bytes = model ? job.unit.model.bytes : this.encoder.encode(job.unit, job.shard).blob;
      if (bytes) await this.store.put(bytes);
    }
    this.conn.logger.warn(`andor queue: ${missing.length} model(s) or sample(s) that this run's queued units need were gone from the store ${this.store.location}; they were put back (${missing.join(', ')}).`);
  }

  /** The error of a run whose store no longer answers the id its jobs were queued under. */
  private storeReplacedError(queuedUnder: string, current: string | undefined, missing: readonly string[], needed: number, first: string | undefined): ModelStoreError {
    const where = this.store.location;
    const units = `${this.queuedPending().length} queued ${this.jobs[0]?.shard ? 'shard(s)' : 'unit(s)'}`;
    const what = current !== undefined
      ? `changed its id from ${queuedUnder} to ${current} while ${units} of this run waited: its id file (.andor-store-id in a FolderStore) was deleted or replaced, and a client wrote a new id`
      : missing.length > 0
        ? `lost its id ${queuedUnder} and ${missing.length} of the ${needed} model(s) and sample(s) that ${units} of this run need while they waited: the folder was deleted or replaced`
        : `lost its id ${queuedUnder} while ${units} of this run waited: its id file (.andor-store-id in a FolderStore) was deleted`;
    return new ModelStoreError(
      missing[0] ?? first ?? '',
      'replaced',
      `The store ${where} ${what}. Workers give back a unit queued under another store's id and stop (exit code 2), so no worker would run these: ` +
        'the run was stopped and its jobs cancelled. Check that this is the folder every worker mounts (--store), restart the workers that stopped, and run again: ' +
        'its units are queued under the store\'s id then, and finished units are stored and reused. A damaged id file is to be restored, not deleted, while units are queued.',
    );
  }

  /** Reads the states of the queued pending keys' jobs: final failures are recorded, jobs that vanished are queued
   *  again. */
  private async checkJobs(): Promise<void> {
    const keys = this.queuedPending();
    const ids = keys.map((k) => this.watched.get(k)).filter((id): id is string => id !== undefined);
    const rows = new Map((await this.inChunks(ids, (part) => jobsById(this.db, part))).map((r) => [r.id, r]));
    this.warnIfIdle([...rows.values()]);
    const settled: string[] = [];
    for (const key of keys) {
      const job = rows.get(this.watched.get(key) ?? '');
      if (!job || !LIVE_STATES.includes(job.state)) settled.push(key);
    }
    if (settled.length === 0) return;
    // a job that completed has stored its result: read it before judging the others
    await this.collect(false, settled);
    const resend: string[] = [];
    for (const key of settled) {
      if (!this.pending.has(key)) continue;
      const job = rows.get(this.watched.get(key) ?? '');
      if (job?.state === 'failed') {
        this.pending.delete(key);
        this.failures.set(key, this.failureOf(key, job));
        continue;
      }
      const count = (this.resends.get(key) ?? 0) + 1;
      this.resends.set(key, count);
      if (count > MAX_RESENDS) {
        this.pending.delete(key);
        this.failures.set(key, { ...this.failureOf(key, job), name: 'CancelledError', code: 'CANCELLED', reason: `its job was cancelled or removed by someone else ${MAX_RESENDS} times (last state: ${job?.state ?? 'gone'}).` });
        continue;
      }
      resend.push(key);
    }
    if (resend.length > 0) await this.submit(resend);
  }

  /** What a failure of a key's job names: its index, row, model, key and (a shard) masks. */
  private failureBase(key: string): Pick<UnitFailure, 'index' | 'row' | 'model' | 'key' | 'masks'> {
    const index = this.byKey.get(key)![0];
    const { unit, shard } = this.jobs[index];
    return { index, row: unit.row, model: unit.model.file ?? unit.model.sha256, key, ...(shard ? { masks: [shard.start, shard.end] as const } : {}) };
  }

  /** A job run here that failed: its error, or (a sharded unit) the first of its shards that failed. */
  private failureFromError(key: string, error: unknown): UnitFailure {
    const base = this.failureBase(key);
    // runUnit names the unit's model and row in what it rethrows, and keeps the shards' error as its cause
    const shards = [error, (error as { cause?: unknown } | undefined)?.cause].find((e): e is UnitsFailedError => e instanceof UnitsFailedError);
    if (shards && shards.failures.length > 0) {
      const [first] = shards.failures;
      const masks = first.masks ? `masks ${first.masks[0]}..${first.masks[1] - 1}` : 'a shard';
      return { ...base, name: first.name, ...(first.code ? { code: first.code } : {}), reason: `${shards.failures.length} shard(s) failed for good; ${masks}: ${first.reason}` };
    }
    const serialized = serializeError(error);
    return { ...base, name: serialized.name, ...(serialized.code ? { code: serialized.code } : {}), reason: serialized.message };
  }

  private failureOf(key: string, job: JobRow | undefined): UnitFailure {
    const output = (job?.output ?? {}) as { name?: unknown; code?: unknown; message?: unknown; value?: { message?: unknown } };
    const expired = output.value?.message === EXPIRED_MESSAGE;
    const base = this.failureBase(key);
    if (expired) {
      return {
        ...base, name: 'WorkerCrashedError', code: 'WORKER_CRASHED',
        reason: `its lease of ${this.settings.leaseSeconds} s ran out on each of its ${(job?.retryCount ?? 0) + 1} tries: the workers running it stopped (killed, out of memory) or lost the database.`,
      };
    }
    return {
      ...base,
      name: typeof output.name === 'string' ? output.name : 'Error',
      ...(typeof output.code === 'string' ? { code: output.code } : {}),
      reason: typeof output.message === 'string' ? output.message : typeof output.value?.message === 'string' ? output.value.message : JSON.stringify(job?.output ?? null),
    };
  }

  /** Cancels this run's unfinished jobs (workers running them stop at their next lease renewal) and stops those run
   *  here, waiting for them to settle. */
  private async cancel(local: Promise<void>): Promise<CancelledError> {
    this.stopLocal.abort();
    const ids = [...this.pending].map((k) => this.watched.get(k)).filter((id): id is string => id !== undefined && this.mine.has(id));
    if (ids.length > 0) await reconnecting(this.conn, 'cancelling jobs', () => this.db.boss.cancel(this.conn.queue, ids));
    await local;
    return this.cancelledError(ids.length);
  }

  /** After an error of the run itself (not a unit's), its jobs are cancelled too; a failure to cancel is reported. */
  private async cancelAfter(error: unknown, local: Promise<void>): Promise<void> {
    try {
      await this.cancel(local);
    } catch (cancelling) {
      this.conn.logger.warn(`andor queue: the run failed (${serializeError(error).message}) and its jobs could not be cancelled: ${serializeError(cancelling).message}`);
    }
  }

  private closedError(): DisposedError {
    return new DisposedError(`The queue executor was closed while this run waited on ${this.pending.size} of its ${this.jobs.length} unit(s); its queued and running jobs are cancelled, finished units are stored and a rerun reuses them. Run it on an executor that stays open (createQueueExecutor()), and close that once its runs have settled.`);
  }

  private cancelledError(cancelled: number): CancelledError {
    const done = this.jobs.length === 0 ? 0 : this.results.filter((r) => r !== undefined).length;
    return new CancelledError(`The run was cancelled: ${cancelled} queued or running job(s) were cancelled, ${done} of ${this.jobs.length} had finished; finished units are stored and a rerun reuses them.`);
  }
}
