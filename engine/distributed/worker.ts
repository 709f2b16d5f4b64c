// The worker side of the queue: takes unit jobs, fetches each model by hash from the store, runs the unit (or
// evaluates the shard of a unit's masks the job names) with its own engine context, stores the result under the job's
// content key and completes the job. While a unit runs its lease
// is renewed; a renewal that finds the job gone (cancelled, or expired and handed to another worker) aborts the unit.
// A job whose result is already stored (a duplicate delivery) completes without running. Entry points:
// Engine.serveQueue (the library) and `andor worker` (the CLI).
import { hostname } from 'node:os';
import { CancelledError, InvalidOptionError, serializeError, type SerializedError } from '../contracts/errors.js';
import type { ExplainContext } from '../explain/explain.js';
import { encodeEntry } from '../explain/cache.js';
import { runShard, runUnit } from '../explain/units.js';
import { LruCache, MAX_OPEN_MODELS } from '../pipeline/lru.js';
import { connectQueue, integerOption, isTransient, reconnecting, resolveConnection, sleep, type QueueConnection, type QueueConnectionOptions } from './connection.js';
import { claimJob, completeWithResult, ensureQueue, jobsById, releaseLease, renewLeases, spendRetries, type JobState, type Lease } from './jobs.js';
import { assertPayload, otherPayloadVersion, PAYLOAD_VERSION, unitFromPayload, type UnitPayload } from './payload.js';
import { encodeResult } from './result-codec.js';
import { isDeterministic } from './errors.js';
import { ensureResultsTable } from './results.js';
import type { ModelStore } from './store.js';

/** What a worker reports as it goes (`andor worker` prints each as a JSON line). */
export type WorkerEvent =
  | { readonly type: 'ready'; readonly queue: string; readonly concurrency: number }
  /** masks: a shard's range [start, end) of the unit's masks. */
  | { readonly type: 'started'; readonly key: string; readonly job: string; readonly row: number; readonly model: string; readonly try: number; readonly masks?: readonly [number, number] }
  /** ms: from the start of the unit to its stored result and completed job; runMs: the unit's run alone. */
  | { readonly type: 'completed'; readonly key: string; readonly job: string; readonly ms: number; readonly runMs: number }
  /** The result was stored already (another delivery of the same content): completed without running. */
  | { readonly type: 'duplicate'; readonly key: string; readonly job: string }
  | { readonly type: 'failed'; readonly key: string; readonly job: string; readonly error: SerializedError }
  /** The job was taken away while the unit ran (cancelled, or its lease expired): the unit stopped. */
  | { readonly type: 'aborted'; readonly key: string; readonly job: string; readonly state: JobState | 'gone' }
  /** Claimed as the worker was told to stop, before its unit started: given back to the queue, no try counted. */
  | { readonly type: 'released'; readonly key: string; readonly job: string }
  | { readonly type: 'stopped'; readonly stats: WorkerStats };

/** Counts of a worker's jobs. */
export interface WorkerStats {
  readonly completed: number;
  readonly duplicates: number;
  readonly failed: number;
  readonly aborted: number;
  /** Jobs claimed as the worker stopped and given back unrun. */
  readonly released: number;
}

/** Options of runWorker. */
export interface WorkerOptions extends QueueConnectionOptions {
  /** Where models are fetched by hash (the store the clients put them in). */
  readonly store: ModelStore;
  /** The engine context units run in (Engine.serveQueue passes its own; the caller owns its lifetime). */
  readonly context: ExplainContext;
  /** Units run at once in this process (default 1). */
  readonly concurrency?: number;
  /** Stops the worker: no new units are taken, running ones finish, then runWorker resolves. */
  readonly signal?: AbortSignal;
  /** Stops it at once: running units are cancelled and their jobs given back to the queue, where another worker
   *  takes them now instead of after their lease (signal's stop, and more). */
  readonly abort?: AbortSignal;
  /** How often an idle worker looks for jobs, in ms (default 250). */
  readonly pollMs?: number;
  /** How often running units' leases are renewed, in ms (default 1000; at most a third of each unit's lease). */
  readonly heartbeatMs?: number;
  readonly onEvent?: (event: WorkerEvent) => void;
}

/** A unit in progress. */
interface Running {
  readonly key: string;
  readonly lease: Lease;
  readonly controller: AbortController;
  /** Set when a renewal found the job taken away: its state then. */
  lost?: JobState | 'gone';
}

/**
 * Serves the queue until the signal aborts.
 * @param options - the database URL, the model store, the engine context, concurrency and signal
 * @returns the counts of jobs completed, duplicates, failed and aborted
 * @throws InvalidOptionError naming a bad option; QueueUnavailableError when the database stays unreachable longer
 *   than reconnectMs
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerStats> {
  const concurrency = integerOption(options.concurrency, 'options.concurrency', 1, 256, 1);
  const connection = resolveConnection({ ...options, poolSize: options.poolSize ?? concurrency + 2 });
  const pollMs = integerOption(options.pollMs, 'options.pollMs', 1, 60_000, 250);
  const heartbeatMs = integerOption(options.heartbeatMs, 'options.heartbeatMs', 10, 600_000, 1000);
  if (!options.store || typeof options.store.get !== 'function' || (options.store.id !== undefined && typeof options.store.id !== 'function')) {
    throw new InvalidOptionError('options.store must be a ModelStore (put, get, has, and optionally id), e.g. new FolderStore(dir).');
  }
  const db = await connectQueue(connection, 'worker');
  try {
    await reconnecting(connection, 'preparing the queue', async () => {
      await ensureQueue(db);
      await ensureResultsTable(db.sql);
    });
    return await new Worker(db, options, options.context, { concurrency, pollMs, heartbeatMs }).serve();
  } finally {
    await db.close();
  }
}

/** A memory limit a unit met here is this worker's (its engine's maxMemoryMb), not the client's, whose
 *  --max-memory-mb the message would otherwise seem to name: the message says whose it is (an adversarial sweep). */
function workerLimit(error: SerializedError): SerializedError {
  if (error.code !== 'MEMORY_LIMIT') return error;
  return { ...error, message: `${error.message} The limit is that of the andor worker on ${hostname()} (pid ${process.pid}) that ran the unit: raise its --max-memory-mb (the engine's maxMemoryMb that serves the queue); the client's does not apply to units run by workers.` };
}

/** A job a slot has claimed: its data, its entry in `running`, and whether its result was stored already. */
interface Claimed {
  readonly data: UnitPayload;
  readonly run: Running;
  readonly stored: boolean;
}

class Worker {
  private readonly running = new Map<string, Running>();
  private readonly models = new LruCache<Promise<Uint8Array>>(MAX_OPEN_MODELS, { onEvict: () => undefined });
  /** Stops the slots: the caller's signal, or a fault of the lease loop. */
  private readonly halt = new AbortController();
  /** Wakes the lease loop when a unit starts: its lease may be shorter than the loop's current wait. */
  private wake = new AbortController();
  private stats = { completed: 0, duplicates: 0, failed: 0, aborted: 0, released: 0 };
  /** A fault of this worker that stops it (a unit of another payload version): serve() throws it once stopped. */
  private fatal: InvalidOptionError | undefined;

  constructor(
    private readonly db: QueueConnection,
    private readonly options: WorkerOptions,
    private readonly context: ExplainContext,
    private readonly settings: { concurrency: number; pollMs: number; heartbeatMs: number },
  ) {}

  private get conn() {
    return this.db.options;
  }

  private emit(event: WorkerEvent): void {
    this.options.onEvent?.(event);
  }

  async serve(): Promise<WorkerStats> {
    const stop = () => this.halt.abort();
    const stopNow = () => {
      stop();
      for (const run of this.running.values()) run.controller.abort(new CancelledError(`Unit ${run.key} stopped: the worker was told to stop at once; its job goes back to the queue.`));
    };
    if (this.options.signal?.aborted) stop();
    if (this.options.abort?.aborted) stopNow();
    this.options.signal?.addEventListener('abort', stop, { once: true });
    this.options.abort?.addEventListener('abort', stopNow, { once: true });
    const leasesDone = new AbortController();
    const leases = this.renewLoop(leasesDone.signal).catch((error: unknown) => {
      this.halt.abort();
      throw error;
    });
    this.emit({ type: 'ready', queue: this.conn.queue, concurrency: this.settings.concurrency });
    try {
      const slots = await Promise.allSettled(Array.from({ length: this.settings.concurrency }, () => this.slot()));
      leasesDone.abort();
      await leases;
      const failed = slots.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      if (this.fatal) throw this.fatal;
    } finally {
      leasesDone.abort();
      this.options.signal?.removeEventListener('abort', stop);
      this.options.abort?.removeEventListener('abort', stopNow);
    }
    const stats = { ...this.stats };
    this.emit({ type: 'stopped', stats });
    return stats;
  }

  /**
   * One unit at a time until halted. The next job is claimed (with whether its result is stored already, in the
   * same round trip) as a unit's result is stored, so the two round trips overlap. A claimed job is in `running`
   * from its claim (its lease is renewed). One claimed as the worker is halted is given back to the queue unrun: a
   * stopping worker neither runs another unit nor leaves a job waiting for its lease to run out.
   */
  private async slot(): Promise<void> {
    let next: Promise<Claimed | undefined> | undefined;
    const claimNext = () => {
      if (this.halt.signal.aborted) return;
      next = this.claim();
      // a failed claim is thrown where the loop awaits it, not as an unhandled rejection while a result is stored
      next.catch(() => undefined);
    };
    while (next || !this.halt.signal.aborted) {
      const claimed = await (next ?? this.claim());
      next = undefined;
      if (!claimed) {
        await sleep(this.settings.pollMs, this.halt.signal);
        continue;
      }
      if (this.halt.signal.aborted) await this.release(claimed);
      else await this.handle(claimed, claimNext);
    }
  }

  /** Claims one job (and learns whether its result is stored already) and takes it into `running`. */
  private async claim(): Promise<Claimed | undefined> {
    const job = await reconnecting(this.conn, 'claiming a job', () => claimJob(this.db));
    if (!job) return undefined;
    const data = job.data as UnitPayload;
    const key = typeof data?.key === 'string' ? data.key : '(no key)';
    const run: Running = { key, lease: { id: job.id, retryCount: job.retryCount, seconds: job.seconds }, controller: new AbortController() };
    this.running.set(job.id, run);
    this.wake.abort();
    return { data, run, stored: job.stored };
  }

  /** Runs one claimed job; `ran` is called once its unit has run, before its result is encoded and stored. */
  private async handle({ data, run, stored }: Claimed, ran: () => void): Promise<void> {
    const { key, lease: { id, retryCount } } = run;
    const { queue } = this.conn;
    try {
      if (stored) {
        await reconnecting(this.conn, 'completing a job', () => this.db.boss.complete(queue, id));
        this.stats.duplicates++;
        this.emit({ type: 'duplicate', key, job: id });
        return;
      }
      // a unit queued by another andor version is no fault of the unit: it goes back to the queue unrun, for a worker
      // of that version, and this one stops saying why (it failed such units for good, 3 tries each, while a worker
      // of the right version served the same queue: a fleet halfway through an upgrade; an adversarial sweep, stop 44)
      const version = otherPayloadVersion(data);
      if (version !== undefined) {
        this.fatal ??= new InvalidOptionError(
          `Job ${id} (unit ${key}) was queued by an andor of payload version ${version}; this worker runs version ${PAYLOAD_VERSION}. ` +
            'It went back to the queue unrun, and this worker stopped: run workers of the version of the clients that queue the units.',
        );
        this.halt.abort();
        await this.release({ data, run, stored });
        return;
      }
      assertPayload(data);
      // a unit of another store is no fault of the unit either: this worker cannot read its model, a worker of the
      // clients' store can (a worker with a wrong --store failed their units for good, 3 tries each, while a good one
      // served the same queue: an adversarial sweep, stop 44)
      // ... and so is a store whose id file is damaged: no unit of it can be checked, none is the unit's fault (every
      // one failed for good, its store's error as the reason; a helper's remark, stop 48)
      const own = data.store === undefined ? undefined : await this.storeId(data.store).catch((error: unknown) => (error instanceof InvalidOptionError ? error : Promise.reject(error)));
      if (own instanceof InvalidOptionError) {
        this.fatal ??= new InvalidOptionError(`Job ${id} (unit ${key}) went back to the queue unrun, and this worker stopped: ${own.message}`, { cause: own });
        this.halt.abort();
        await this.release({ data, run, stored });
        return;
      }
      if (data.store !== undefined && data.store !== own) {
        this.fatal ??= new InvalidOptionError(
          `Job ${id} (unit ${key}) was queued by a client whose model store has id ${data.store}; this worker's store ${this.options.store.location} ${this.ownStoreId === undefined ? 'has no andor store id' : `has id ${this.ownStoreId}`}, so it is another folder. ` +
            'The job went back to the queue unrun, and this worker stopped: give it the folder the clients use (--store). ' +
            'If it is that folder, its id was replaced after the job was queued (its .andor-store-id deleted, or the folder deleted): a client still waiting on the job fails its run saying so, and cancels its jobs; start this worker again.',
        );
        this.halt.abort();
        await this.release({ data, run, stored });
        return;
      }
      const sampleText = typeof data.sample === 'string' ? data.sample : await this.storedText(data.sample.stored);
      const { unit, shard } = unitFromPayload(data, await this.modelBytes(data.model.sha256), sampleText);
      this.emit({ type: 'started', key, job: id, row: unit.row, model: unit.model.file ?? unit.model.sha256, try: retryCount + 1, ...(shard ? { masks: [shard.start, shard.end] as const } : {}) });
      const started = performance.now();
      const { signal } = run.controller;
      // stored even when the job was taken away meanwhile: the result of this content is right wherever it ran
      const encode = await (shard ? runShard(this.context, unit, shard, signal).then((rewards) => () => encodeEntry(rewards)) : runUnit(this.context, unit, signal).then((result) => () => encodeResult(unit, result)));
      const runMs = performance.now() - started;
      ran();
      const value = encode();
      await reconnecting(this.conn, 'storing a result', () => completeWithResult(this.db, id, key, value));
      this.stats.completed++;
      this.emit({ type: 'completed', key, job: id, ms: performance.now() - started, runMs });
    } catch (error) {
      if (run.lost !== undefined) {
        this.stats.aborted++;
        this.emit({ type: 'aborted', key, job: id, state: run.lost });
        return;
      }
      // stopped at once (options.abort): the job goes back to the queue, not to its retries
      if (this.options.abort?.aborted && error instanceof CancelledError) {
        await this.release({ data, run, stored });
        return;
      }
      const serialized = workerLimit(serializeError(error));
      // pg-boss retries the job (retryLimit) or marks it failed; the client reads this output as the reason. A fault
      // of the request or the sample fails the same way on every try: it fails for good at once
      if (isDeterministic(error)) await reconnecting(this.conn, 'failing a job', () => spendRetries(this.db, run.lease));
      await reconnecting(this.conn, 'failing a job', () => this.db.boss.fail(queue, id, { ...serialized }));
      this.stats.failed++;
      this.emit({ type: 'failed', key, job: id, error: serialized });
    } finally {
      this.running.delete(id);
    }
  }

  /** Gives a claimed job back to the queue (releaseLease); one whose lease is gone already is someone else's. */
  private async release({ run }: Claimed): Promise<void> {
    try {
      if (await reconnecting(this.conn, 'giving a job back', () => releaseLease(this.db, run.lease))) {
        this.stats.released++;
        this.emit({ type: 'released', key: run.key, job: run.lease.id });
      }
    } finally {
      this.running.delete(run.lease.id);
    }
  }

  /** This worker's store id as last read (ModelStore.id). */
  private ownStoreId: string | undefined;

  /** This worker's store id, read again whenever a unit names another (the first client may create it after this
   *  worker started, and a damaged id file may have been replaced). */
  private async storeId(wanted: string): Promise<string | undefined> {
    if (this.ownStoreId !== wanted) this.ownStoreId = await this.options.store.id?.(false);
    // a store without ids (a ModelStore of the caller's own) cannot tell: every unit is taken
    return this.options.store.id ? this.ownStoreId : wanted;
  }

  /** A large sample's encoding, from the store (checked against its hash). */
  private async storedText(sha256: string): Promise<string> {
    const bytes = await this.options.store.get(sha256);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }

  /** A model's bytes, from the store once per process (the store checks them against the hash). */
  private modelBytes(sha256: string): Promise<Uint8Array> {
    let bytes = this.models.get(sha256);
    if (!bytes) {
      bytes = this.options.store.get(sha256);
      this.models.set(sha256, bytes);
      // a failed read is not remembered: the next unit of this model tries the store again (the block body matters:
      // delete() returns the rejected promise, which would reject this handler's promise too)
      bytes.catch(() => {
        this.models.delete(sha256);
      });
    }
    return bytes;
  }

  /** Renews the running units' leases until `done`; units whose job was taken away are aborted. */
  private async renewLoop(done: AbortSignal): Promise<void> {
    while (!done.aborted) {
      const units = [...this.running.values()].filter((r) => r.lost === undefined);
      const shortest = Math.min(...units.map((r) => r.lease.seconds * 1000), Infinity);
      // a unit claimed meanwhile ends the wait: a heartbeat of 10 s left a 2 s lease to run out (an adversarial sweep)
      this.wake = new AbortController();
      await sleep(Math.max(10, Math.min(this.settings.heartbeatMs, shortest / 3)), AbortSignal.any([done, this.wake.signal]));
      if (done.aborted) return;
      const live = [...this.running.values()].filter((r) => r.lost === undefined);
      if (live.length === 0) continue;
      try {
        const renewed = await renewLeases(this.db, live.map((r) => r.lease));
        const lost = live.filter((r) => !renewed.has(r.lease.id));
        if (lost.length === 0) continue;
        const states = new Map((await jobsById(this.db, lost.map((r) => r.lease.id))).map((j) => [j.id, j.state]));
        for (const r of lost) {
          r.lost = states.get(r.lease.id) ?? 'gone';
          r.controller.abort(new CancelledError(`Unit ${r.key} stopped: its job is ${r.lost} (cancelled by its client, or its lease ran out and another worker has it).`));
        }
      } catch (error) {
        // a dropped connection only delays renewals (leases outlast a restart); anything else is a fault
        if (!isTransient(error)) throw error;
        this.conn.logger.warn(`andor worker: renewing leases failed (${(error as Error).message}); retrying.`);
      }
    }
  }
}
