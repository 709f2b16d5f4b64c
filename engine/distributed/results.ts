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

/**
 * The stored results of some keys (at most `limit` of them per call).
 * @returns [key, encoded value] pairs, in no particular order
 */
export async function readResults(sql: Sql, keys: readonly string[], limit = 1000): Promise<[string, string][]> {
  if (keys.length === 0) return [];
  const rows = await sql(`SELECT key, value FROM ${RESULTS_TABLE} WHERE key = ANY($1::text[]) LIMIT $2`, [keys, limit]);
  return rows.map((r) => [String(r.key), String(r.value)]);
}

/** Stores a result computed outside a job (a sharded unit, gathered by its client); a stored one of the key stays. */
export async function storeResult(sql: Sql, key: string, value: string): Promise<void> {
  await sql(`INSERT INTO ${RESULTS_TABLE} (key, value, bytes) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`, [key, value, Buffer.byteLength(value)]);
}

/** Removes a stored result that could not be decoded, so its unit runs again. */
export async function deleteResult(sql: Sql, key: string): Promise<void> {
  await sql(`DELETE FROM ${RESULTS_TABLE} WHERE key = $1`, [key]);
}
