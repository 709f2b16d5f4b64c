// The durable results table in the queue's database: one row per unit content key holding its ExplainResult in the
// exact codec of engine/explain/cache.ts, written once (a second write of the same key is a no-op: same content, same
// result; workers write it with their job's completion, jobs.ts). A rerun, a second client or a duplicate delivery
// reads it instead of running anything. SQL only.
import type { Sql } from './connection.js';

/** The table's schema and name (shared by every queue of a database: keys name content, not runs). */
export const RESULTS_TABLE = 'andor.result';

/** Creates the results table when it is missing (under a lock, so that concurrent clients and workers agree). */
export async function ensureResultsTable(sql: Sql): Promise<void> {
  // CREATE ... IF NOT EXISTS races with itself across sessions; a DO block is one transaction, so the lock holds
  await sql(`
    DO $$
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtext('${RESULTS_TABLE}'));
      CREATE SCHEMA IF NOT EXISTS andor;
      CREATE TABLE IF NOT EXISTS ${RESULTS_TABLE} (
        key text PRIMARY KEY,
        value text NOT NULL,
        bytes integer NOT NULL,
        created_on timestamptz NOT NULL DEFAULT now()
      );
    END $$`);
}

/** Bytes of stored results one read returns at most (a larger result comes alone): a rerun reads every stored result
 *  of its units before it queues anything, and an exact result at n = 20 is ~34 MB of text, so 200 of them in one
 *  statement (6.7 GB, held at once) ran the client out of heap (an adversarial sweep). */
export const READ_BYTES = 64 << 20;

/**
 * The stored results of some keys: at most `limit` of them, and results of at most `maxBytes` bytes in all (or the
 * first one alone, when it is larger), so that what one call holds stays bounded however large the results are.
 * @returns [key, encoded value] pairs, in no particular order, and `more`: whether keys given have results that this
 *   call left out (read them again without the keys it returned)
 */
export async function readResults(sql: Sql, keys: readonly string[], limit = 1000, maxBytes = READ_BYTES): Promise<{ rows: [string, string][]; more: boolean }> {
  if (keys.length === 0) return { rows: [], more: false };
  // the sizes are chosen from the bytes column first: only the chosen rows' values are read
  const rows = await sql(
    `WITH sized AS (
       SELECT key, count(*) OVER () AS stored, sum(bytes) OVER (ORDER BY key) AS through
       FROM ${RESULTS_TABLE} WHERE key = ANY($1::text[])
     )
     SELECT r.key, r.value, s.stored FROM sized s JOIN ${RESULTS_TABLE} r ON r.key = s.key
     WHERE s.through <= $3 OR s.through = (SELECT min(through) FROM sized) ORDER BY s.through LIMIT $2`,
    [keys, limit, maxBytes],
  );
  return { rows: rows.map((r) => [String(r.key), String(r.value)]), more: rows.length > 0 && Number(rows[0].stored) > rows.length };
}

/** Stores a result computed outside a job (a sharded unit, gathered by its client); a stored one of the key stays. */
export async function storeResult(sql: Sql, key: string, value: string): Promise<void> {
  await sql(`INSERT INTO ${RESULTS_TABLE} (key, value, bytes) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`, [key, value, Buffer.byteLength(value)]);
}

/** Removes a stored result that could not be decoded, so its unit runs again. */
export async function deleteResult(sql: Sql, key: string): Promise<void> {
  await sql(`DELETE FROM ${RESULTS_TABLE} WHERE key = $1`, [key]);
}
