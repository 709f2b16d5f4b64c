// The client side of the queue: a UnitExecutor that reads each unit's stored result when there is one, queues the rest
// as pg-boss jobs (model bytes into the store, one job per content key), then gathers results by polling the results
// table, reporting each as it lands. Failed-for-good units are collected and thrown together once the rest finish;
// the signal cancels this run's jobs (workers notice at their next lease renewal and stop). Workers: worker.ts.
import { randomUUID } from 'node:crypto';
import { CancelledError, DisposedError, InvalidOptionError, serializeError } from '../contracts/errors.js';
import type { ExplainResult } from '../explain/explain.js';
import type { ExplainUnit, UnitExecutor, UnitRunOptions } from '../explain/units.js';
import { connectQueue, integerOption, reconnecting, resolveConnection, sleep, type QueueConnection, type QueueConnectionOptions } from './connection.js';
import { UnitsFailedError, type UnitFailure } from './errors.js';
import { LIVE_STATES, ensureQueue, jobsById, liveJobsByKey, type JobRow } from './jobs.js';
import { INLINE_SAMPLE_BYTES, PayloadEncoder, type UnitPayload } from './payload.js';
import { decodeResult } from './result-codec.js';
import { deleteResult, ensureResultsTable, readResults } from './results.js';
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
  /** First interval between looks for finished units, in ms; it doubles up to maxPollMs while none finish (default 50). */
  readonly pollMs?: number;
  /** Longest interval between looks for finished units, in ms (default 1000). */
  readonly maxPollMs?: number;
  /** How often the states of unfinished jobs are read (failures, jobs cancelled by others), in ms (default 1000). */
  readonly stateCheckMs?: number;
  /** Samples whose encoding is longer than this many bytes go through the store instead of the job (default 64 KiB:
   *  an image sample is MBs, which the job table would carry through every update and into pg-boss's archive). */
  readonly inlineSampleBytes?: number;
}

/** A UnitExecutor over a job queue; close() releases its connection. */
export interface QueueExecutor extends UnitExecutor {
  /** The queue's name and the store's location. */
  readonly queue: string;
  readonly store: ModelStore;
  /** Closes the connection; runs may not start afterwards. */
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
  if (!store || typeof store.put !== 'function' || typeof store.get !== 'function' || typeof store.has !== 'function') {
    throw new InvalidOptionError('options.store must be a ModelStore (put, get, has), e.g. new FolderStore(dir).');
  }
  const settings = {
    leaseSeconds: integerOption(options.leaseSeconds, 'options.leaseSeconds', 2, 7 * 24 * 3600, 60),
    retryLimit: integerOption(options.retryLimit, 'options.retryLimit', 0, 100, 2),
    retryDelaySeconds: integerOption(options.retryDelaySeconds, 'options.retryDelaySeconds', 0, 3600, 1),
    pollMs: integerOption(options.pollMs, 'options.pollMs', 1, 60_000, 50),
    maxPollMs: integerOption(options.maxPollMs, 'options.maxPollMs', 1, 600_000, 1000),
    stateCheckMs: integerOption(options.stateCheckMs, 'options.stateCheckMs', 10, 600_000, 1000),
    inlineSampleBytes: integerOption(options.inlineSampleBytes, 'options.inlineSampleBytes', 0, 256 << 20, INLINE_SAMPLE_BYTES),
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
  let closed = false;
  return {
    queue: connection.queue,
    store,
    run: (units, runOptions) => {
      if (closed) return Promise.reject(new DisposedError('This queue executor was closed; create another with createQueueExecutor().'));
      return new QueueRun(db, store, settings, units, runOptions).run();
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}

type Settings = { leaseSeconds: number; retryLimit: number; retryDelaySeconds: number; pollMs: number; maxPollMs: number; stateCheckMs: number; inlineSampleBytes: number };

/** One run of units through the queue. */
class QueueRun {
  private readonly id = randomUUID();
  private readonly encoder: PayloadEncoder;
  /** Unit indices by content key (units with the same key are one job). */
  private readonly byKey = new Map<string, number[]>();
  private readonly results: ExplainResult[];
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

  constructor(
    private readonly db: QueueConnection,
    private readonly store: ModelStore,
    private readonly settings: Settings,
    private readonly units: readonly ExplainUnit[],
    private readonly options: UnitRunOptions,
  ) {
    this.encoder = new PayloadEncoder(this.id, settings.inlineSampleBytes);
    this.results = new Array(units.length);
    this.cached = new Array(units.length).fill(false);
    units.forEach((unit, index) => {
      const indices = this.byKey.get(unit.key);
      if (indices) indices.push(index);
      else this.byKey.set(unit.key, [index]);
    });
  }

  async run(): Promise<{ results: ExplainResult[]; cached: boolean[] }> {
    const { signal } = this.options;
    if (signal?.aborted) throw this.cancelledError(0);
    for (const key of this.byKey.keys()) this.pending.add(key);
    try {
      await this.collect(true);
      if (this.pending.size > 0) {
        await this.putModels();
        await this.submit([...this.pending]);
      }
      let waitMs = this.settings.pollMs;
      let lastCheck = performance.now();
      while (this.pending.size > 0) {
        await sleep(waitMs, signal);
        if (signal?.aborted) throw await this.cancel();
        const landed = await this.collect(false);
        waitMs = landed > 0 ? this.settings.pollMs : Math.min(waitMs * 2, this.settings.maxPollMs);
        if (performance.now() - lastCheck >= this.settings.stateCheckMs) {
          lastCheck = performance.now();
          await this.checkJobs();
        }
      }
    } catch (error) {
      if (!(error instanceof CancelledError)) await this.cancelAfter(error);
      throw error;
    }
    if (this.failures.size > 0) throw new UnitsFailedError([...this.failures.values()].sort((a, b) => a.index - b.index), this.units.length);
    return { results: this.results, cached: this.cached };
  }

  private get conn() {
    return this.db.options;
  }

  /**
   * Reads the stored results of pending keys and reports them.
   * @param fromCache - whether they count as cached (stored before this run queued anything)
   * @returns how many landed
   */
  private async collect(fromCache: boolean, keys: readonly string[] = [...this.pending]): Promise<number> {
    let landed = 0;
    for (let start = 0; start < keys.length; start += READ_CHUNK) {
      const chunk = keys.slice(start, start + READ_CHUNK);
      const rows = await reconnecting(this.conn, 'reading results', () => readResults(this.db.sql, chunk, READ_CHUNK));
      for (const [key, text] of rows) {
        if (!this.pending.has(key)) continue;
        const value = decodeResult(this.units[this.byKey.get(key)![0]], text);
        if (!value) {
          // a row that does not decode is never trusted: it goes, and the unit runs again (as the disk cache does)
          await reconnecting(this.conn, 'removing an unreadable result', () => deleteResult(this.db.sql, key));
          this.conn.logger.warn(`andor queue: the stored result of unit ${key} could not be decoded; it was removed and the unit runs again.`);
          if (!fromCache) await this.submit([key]);
          continue;
        }
        this.pending.delete(key);
        landed++;
        for (const index of this.byKey.get(key)!) {
          this.results[index] = value;
          this.cached[index] = fromCache;
          await this.options.onResult?.(index, value, fromCache);
        }
      }
    }
    return landed;
  }

  /** Puts every model of the pending units into the store (once per model). */
  private async putModels(): Promise<void> {
    const models = new Map<string, Uint8Array>();
    for (const key of this.pending) {
      const unit = this.units[this.byKey.get(key)![0]];
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
      const encoded = this.encoder.encode(this.units[this.byKey.get(key)![0]]);
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
      if (chunk.length >= INSERT_CHUNK || chunkBytes >= INSERT_BYTES) await flush();
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

  /** Reads the states of the pending keys' jobs: final failures are recorded, jobs that vanished are queued again. */
  private async checkJobs(): Promise<void> {
    const keys = [...this.pending];
    const ids = keys.map((k) => this.watched.get(k)).filter((id): id is string => id !== undefined);
    const rows = new Map((await this.inChunks(ids, (part) => jobsById(this.db, part))).map((r) => [r.id, r]));
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

  private failureOf(key: string, job: JobRow | undefined): UnitFailure {
    const index = this.byKey.get(key)![0];
    const unit = this.units[index];
    const output = (job?.output ?? {}) as { name?: unknown; code?: unknown; message?: unknown; value?: { message?: unknown } };
    const expired = output.value?.message === EXPIRED_MESSAGE;
    const base = { index, row: unit.row, model: unit.model.file ?? unit.model.sha256, key };
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

  /** Cancels this run's unfinished jobs; workers running them stop at their next lease renewal. */
  private async cancel(): Promise<CancelledError> {
    const ids = [...this.pending].map((k) => this.watched.get(k)).filter((id): id is string => id !== undefined && this.mine.has(id));
    if (ids.length > 0) await reconnecting(this.conn, 'cancelling jobs', () => this.db.boss.cancel(this.conn.queue, ids));
    return this.cancelledError(ids.length);
  }

  /** After an error of the run itself (not a unit's), its jobs are cancelled too; a failure to cancel is reported. */
  private async cancelAfter(error: unknown): Promise<void> {
    try {
      await this.cancel();
    } catch (cancelling) {
      this.conn.logger.warn(`andor queue: the run failed (${serializeError(error).message}) and its jobs could not be cancelled: ${serializeError(cancelling).message}`);
    }
  }

  private cancelledError(cancelled: number): CancelledError {
    const done = this.units.length === 0 ? 0 : this.results.filter((r) => r !== undefined).length;
    return new CancelledError(`The run was cancelled: ${cancelled} queued or running unit(s) were cancelled, ${done} of ${this.units.length} had finished; finished units are stored and a rerun reuses them.`);
  }
}
