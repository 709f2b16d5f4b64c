// The units' jobs in pg-boss (policy 'short': one queued job per content key) and what its API lacks: states of many
// jobs at once, the live job of a key, the lease (pg-boss 10 has no heartbeat: a running unit moves its job's
// started_on forward) and a result stored with its job's completion in one statement. All SQL on pg-boss's tables is
// here, pinned to its schema version.
import { InvalidOptionError } from '../contracts/errors.js';
import type { QueueConnection } from './connection.js';
import { RESULTS_TABLE } from './results.js';

/** The pg-boss schema version these statements are written for (pg-boss 10.x). */
export const PGBOSS_SCHEMA_VERSION = 24;

/** A job's state, as pg-boss names it. */
export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

/** What the client needs to know of a job. */
export interface JobRow {
  readonly id: string;
  readonly key: string;
  readonly state: JobState;
  readonly retryCount: number;
  /** What the worker (or pg-boss, for a lease that ran out) wrote when the job failed. */
  readonly output: unknown;
}

/** States of a job still waiting or running. */
export const LIVE_STATES: readonly JobState[] = ['created', 'retry', 'active'];

/**
 * Creates the queue when missing and checks that pg-boss's tables are the version these statements know.
 * @throws InvalidOptionError when the database holds another pg-boss schema version
 */
export async function ensureQueue(connection: QueueConnection): Promise<void> {
  const version = Number(await connection.boss.schemaVersion());
  if (version !== PGBOSS_SCHEMA_VERSION) {
    throw new InvalidOptionError(
      `The queue's database has pg-boss schema version ${version} in schema "${connection.options.schema}", but andor reads pg-boss ${PGBOSS_SCHEMA_VERSION} (pg-boss 10.x). Use another schema (options.schema) or a pg-boss 10 database.`,
    );
  }
  // the policy matters only when the queue is created: a queue made elsewhere keeps its own
  await connection.boss.createQueue(connection.options.queue, { name: connection.options.queue, policy: 'short' });
}

/** The jobs with these ids (those that still exist), in any order. */
export async function jobsById(connection: QueueConnection, ids: readonly string[]): Promise<JobRow[]> {
  if (ids.length === 0) return [];
  const { schema, queue } = connection.options;
  const rows = await connection.sql(
    `SELECT id::text AS id, singleton_key AS key, state::text AS state, retry_count, output FROM ${schema}.job WHERE name = $1 AND id = ANY($2::uuid[])`,
    [queue, ids],
  );
  return rows.map(toJobRow);
}

/** The waiting or running jobs of these content keys, in any order. */
export async function liveJobsByKey(connection: QueueConnection, keys: readonly string[]): Promise<JobRow[]> {
  if (keys.length === 0) return [];
  const { schema, queue } = connection.options;
  const rows = await connection.sql(
    `SELECT id::text AS id, singleton_key AS key, state::text AS state, retry_count, output FROM ${schema}.job WHERE name = $1 AND singleton_key = ANY($2::text[]) AND state < 'completed'`,
    [queue, keys],
  );
  return rows.map(toJobRow);
}

/** PostgreSQL's error code for a unique constraint violation. */
const UNIQUE_VIOLATION = '23505';

/** A job claimed by claimJob. */
export interface ClaimedJob {
  readonly id: string;
  readonly data: unknown;
  /** Deliveries before this one (pg-boss counts one when it hands out a job that has started before). */
  readonly retryCount: number;
  /** The job's lease length, in seconds. */
  readonly seconds: number;
  /** Whether a result is stored under its payload's content key already (a duplicate delivery). */
  readonly stored: boolean;
}

/**
 * Claims the next job of the queue as pg-boss's fetch does (the same statement for one job of a 'short' queue: FOR
 * UPDATE SKIP LOCKED, a try counted for a job that has started before) and says in the same round trip whether its
 * result is stored already.
 * @returns the job, or undefined when none is waiting
 */
export async function claimJob(connection: QueueConnection): Promise<ClaimedJob | undefined> {
  const { schema, queue } = connection.options;
  const [row] = await connection.sql(
    `WITH next AS (
       SELECT id FROM ${schema}.job
       WHERE name = $1 AND state < 'active' AND start_after < now()
       ORDER BY priority DESC, created_on, id
       LIMIT 1
       FOR UPDATE SKIP LOCKED
     )
     UPDATE ${schema}.job j SET
       state = 'active',
       started_on = now(),
       retry_count = CASE WHEN started_on IS NOT NULL THEN retry_count + 1 ELSE retry_count END
     FROM next
     WHERE j.name = $1 AND j.id = next.id
     RETURNING j.id::text AS id, j.data, j.retry_count, EXTRACT(epoch FROM j.expire_in)::float8 AS seconds,
       EXISTS (SELECT 1 FROM ${RESULTS_TABLE} r WHERE r.key = j.data ->> 'key') AS stored`,
    [queue],
  ).catch((error: unknown) => {
    // as in pg-boss's fetch: a queue of another policy (singleton, stately) refuses a second active job of a key with
    // a unique violation, which means no job to take now
    if ((error as { code?: unknown })?.code === UNIQUE_VIOLATION) return [];
    throw error;
  });
  if (!row) return undefined;
  return { id: String(row.id), data: row.data, retryCount: Number(row.retry_count), seconds: Number(row.seconds), stored: row.stored === true };
}

/** One running unit's claim on its job: the job, and which delivery of it (pg-boss counts deliveries in retry_count). */
export interface Lease {
  readonly id: string;
  readonly retryCount: number;
  /** How long each renewal lasts (the client's lease, which pg-boss gave the job as its expiry). */
  readonly seconds: number;
}

/**
 * Renews leases: each job still active in the same delivery gets its lease's seconds more from now. The renewal moves
 * started_on to now and keeps expire_in at the lease: pg-boss keeps a job's expire_in when its lease runs out and it
 * is delivered again, and the next worker reads its lease from it, so a lease stretched over a long run (expire_in
 * grown by the run's length) became the next try's lease, and a unit whose worker died after an hour waited an hour
 * more after its next worker died too (an adversarial sweep).
 * @returns the ids whose lease was renewed; a missing id lost its job (cancelled, failed, or expired and delivered
 *   again, perhaps to another worker) and its unit should stop
 */
export async function renewLeases(connection: QueueConnection, leases: readonly Lease[]): Promise<Set<string>> {
  if (leases.length === 0) return new Set();
  const { schema, queue } = connection.options;
  const rows = await connection.sql(
    `UPDATE ${schema}.job j SET started_on = now(), expire_in = make_interval(secs => t.seconds)
     FROM unnest($2::uuid[], $3::int[], $4::float8[]) AS t(id, retry_count, seconds)
     WHERE j.name = $1 AND j.id = t.id AND j.retry_count = t.retry_count AND j.state = 'active'
     RETURNING j.id::text AS id`,
    [queue, leases.map((l) => l.id), leases.map((l) => l.retryCount), leases.map((l) => l.seconds)],
  );
  return new Set(rows.map((r) => String(r.id)));
}

function toJobRow(r: Record<string, unknown>): JobRow {
  return { id: String(r.id), key: String(r.key), state: String(r.state) as JobState, retryCount: Number(r.retry_count), output: r.output };
}

/**
 * Stores a unit's result and completes its job in one statement (one transaction): a job is never completed without
 * its result, and a worker pays one round trip for both. The result is kept when its key is already stored; the job
 * is completed only while it is active (as pg-boss's complete() does).
 * @returns whether the job was completed (false: it was no longer active, e.g. cancelled meanwhile)
 */
/**
 * Spends a claimed job's retries, so that failing it next fails it for good: for a fault that no retry can fix (a bad
 * option, a sample that does not fit), where pg-boss would run it retryLimit times more.
 * @param connection - the queue
 * @param lease - the claimed job's id and try count
 */
export async function spendRetries(connection: QueueConnection, lease: Lease): Promise<void> {
  const { schema, queue } = connection.options;
  await connection.sql(`UPDATE ${schema}.job SET retry_limit = retry_count WHERE name = $1 AND id = $2::uuid AND retry_count = $3 AND state = 'active'`, [queue, lease.id, lease.retryCount]);
}

/**
 * Gives a claimed job back to the queue untouched, as if it had never been fetched: state created (or retry, when it
 * has run before), no start time (so that the next fetch does not count a try: pg-boss counts one when it fetches a
 * job that has started), its own lease length again. Only while the lease is this worker's (still active, same try).
 * @param connection - the queue
 * @param lease - the claimed job's id, try count and lease length as fetched
 * @returns whether the job was given back (false: its lease had run out, or it was cancelled meanwhile)
 */
export async function releaseLease(connection: QueueConnection, lease: Lease): Promise<boolean> {
  const { schema, queue } = connection.options;
  const rows = await connection.sql(
    `UPDATE ${schema}.job SET started_on = NULL, expire_in = make_interval(secs => $4),
       state = (CASE WHEN retry_count > 0 THEN 'retry' ELSE 'created' END)::${schema}.job_state
     WHERE name = $1 AND id = $2::uuid AND retry_count = $3 AND state = 'active'
     RETURNING id::text AS id`,
    [queue, lease.id, lease.retryCount, lease.seconds],
  );
  return rows.length === 1;
}

export async function completeWithResult(connection: QueueConnection, id: string, key: string, value: string): Promise<boolean> {
  const { schema, queue } = connection.options;
  const rows = await connection.sql(
    `WITH stored AS (
       INSERT INTO ${RESULTS_TABLE} (key, value, bytes) VALUES ($3, $4, $5) ON CONFLICT (key) DO NOTHING
     )
     UPDATE ${schema}.job SET completed_on = now(), state = 'completed'
     WHERE name = $1 AND id = $2::uuid AND state = 'active'
     RETURNING id::text AS id`,
    [queue, id, key, value, Buffer.byteLength(value)],
  );
  return rows.length === 1;
}
