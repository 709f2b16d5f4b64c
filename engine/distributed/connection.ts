// The connection to the queue's database: the validated options both ends share, one pg-boss instance per process
// (its pool reconnects on its own after a server restart), and `reconnecting`, which retries a statement that failed
// because the server went away, up to a time budget, reporting each retry. Every other error goes straight up.
import type PgBoss from 'pg-boss';
import { DisposedError, InvalidOptionError } from '../contracts/errors.js';
import { QueueUnavailableError, maskPassword } from './errors.js';
import { preview } from '../inputs/preview.js';

/** Where the queue's messages go (the same shape as the engine's Logger). */
export interface QueueLogger {
  warn(message: string): void;
  info(message: string): void;
}

/** Options both the client (executor) and the workers give. */
export interface QueueConnectionOptions {
  /** PostgreSQL URL of the queue's database, e.g. postgres://user:password@host:5432/andor. */
  readonly url: string;
  /** The pg-boss queue the units go through (default 'andor-units'). */
  readonly queue?: string;
  /** The schema of pg-boss's tables (default 'pgboss'). */
  readonly schema?: string;
  /** How often pg-boss's maintenance runs, in s: it hands units whose lease ran out to other workers (default 5). */
  readonly maintenanceIntervalSeconds?: number;
  /** How long a statement is retried while the database is unreachable, in ms (default 60 000). */
  readonly reconnectMs?: number;
  /** Connections of this process's pool (default 4). */
  readonly poolSize?: number;
  /** Wait for each commit to reach the disk (default false). Every write of the queue can be repeated: a job lost
   *  in a server crash is queued again by its client, a lost completion is redelivered and found already stored, a
   *  lost result is computed again; so by default this process's sessions commit asynchronously
   *  (synchronous_commit = off), which saves a disk flush per statement (bench/queue.bench.js measures both). */
  readonly synchronousCommit?: boolean;
  /** Where reconnections and pg-boss's own errors are reported (default: nowhere). */
  readonly logger?: QueueLogger;
}

/** QueueConnectionOptions with defaults filled in. */
export interface ResolvedConnection {
  readonly url: string;
  readonly queue: string;
  readonly schema: string;
  readonly maintenanceIntervalSeconds: number;
  readonly reconnectMs: number;
  readonly poolSize: number;
  readonly synchronousCommit: boolean;
  readonly logger: QueueLogger;
}

const SILENT: QueueLogger = { warn: () => undefined, info: () => undefined };
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const QUEUE_NAME = /^[\w.\-/]{1,100}$/;

/**
 * Validates an integer option.
 * @throws InvalidOptionError naming the field, its range and what it got
 */
export function integerOption(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(`${field} must be an integer from ${min} to ${max} (got ${preview(value)}).`);
  }
  return value;
}

/**
 * Validates a boolean option.
 * @throws InvalidOptionError naming the field and what it got
 */
export function booleanOption(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(`${field} must be true or false (got ${preview(value)}).`);
  return value;
}

/**
 * Validates the connection options and fills in defaults.
 * @param options - the options as given
 * @param prefix - how fields are named in messages ('options' for the library)
 * @throws InvalidOptionError naming the bad field and the valid values
 */
export function resolveConnection(options: QueueConnectionOptions, prefix = 'options'): ResolvedConnection {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError(`${prefix} must be an object with at least {url}.`);
  const { url } = options;
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
    throw new InvalidOptionError(`${prefix}.url must be a PostgreSQL URL such as postgres://user:password@host:5432/database (got ${preview(typeof url === 'string' ? maskPassword(url) : url)}).`);
  }
  // node-postgres parses the URL as the WHATWG URL class does (pg-connection-string: encodeURI, then URL, then once
  // more with a dummy host for "user@/db"): one it cannot parse ended the run as "unexpected error: Invalid URL"
  // (a port of 99999, an unclosed [::1; an adversarial sweep, stop 44)
  if (!parsesAsUrl(url)) throw new InvalidOptionError(`${prefix}.url is not a URL node-postgres can read (got ${preview(maskPassword(url))}): check the host, the port (1–65535) and the brackets around an IPv6 address, as in postgres://user:password@[::1]:5432/database.`);
  const queue = options.queue ?? 'andor-units';
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue)) throw new InvalidOptionError(`${prefix}.queue must be 1–100 letters, digits, _ . - or / (got ${preview(queue)}).`);
  const schema = options.schema ?? 'pgboss';
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema)) throw new InvalidOptionError(`${prefix}.schema must be a lowercase SQL identifier such as pgboss (got ${preview(schema)}).`);
  const logger = options.logger ?? SILENT;
  if (typeof logger?.warn !== 'function' || typeof logger?.info !== 'function') throw new InvalidOptionError(`${prefix}.logger must have warn(message) and info(message) functions.`);
  return {
    url,
    queue,
    schema,
    maintenanceIntervalSeconds: integerOption(options.maintenanceIntervalSeconds, `${prefix}.maintenanceIntervalSeconds`, 1, 3600, 5),
    reconnectMs: integerOption(options.reconnectMs, `${prefix}.reconnectMs`, 0, 24 * 3600 * 1000, 60_000),
    poolSize: integerOption(options.poolSize, `${prefix}.poolSize`, 1, 100, 4),
    synchronousCommit: booleanOption(options.synchronousCommit, `${prefix}.synchronousCommit`, false),
    logger,
  };
}

/** Whether node-postgres's parser (pg-connection-string) reads the URL. */
function parsesAsUrl(url: string): boolean {
  const encoded = encodeURI(url).replace(/%25(\d\d)/g, '%$1');
  for (const attempt of [encoded, encoded.replace('@/', '@___DUMMY___/')]) {
    try {
      new URL(attempt, 'postgres://base');
      return true;
    } catch {
      // the next attempt, as the parser's
    }
  }
  return false;
}

// node-postgres and the server's codes for a connection that went away (or a server still starting or stopping):
// see https://www.postgresql.org/docs/current/errcodes-appendix.html, classes 08 and 57P
// 40P01 and 40001: PostgreSQL rolled the transaction back to break a deadlock or a serialization conflict (workers
// starting at once on a fresh database can deadlock in pg-boss's setup); running it again is the documented remedy
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '40P01', '40001']);
const TRANSIENT_MESSAGES = /Connection terminated|connection error|not queryable|terminating connection|server closed the connection|Client was closed/i;

/** Whether an error means "the database went away, or rolled the statement back; try again" rather than a fault of
 *  the statement. */
export function isTransient(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; errors?: unknown } | undefined;
  if (!e) return false;
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  // Node reports a refused connection to a name with several addresses as an AggregateError of them
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isTransient)) return true;
  return typeof e.message === 'string' && TRANSIENT_MESSAGES.test(e.message);
}

/**
 * Waits ms, or less when the signal aborts (never rejects).
 * @param ms - how long
 * @param signal - ends the wait early
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs a database call, retrying it (100 ms, doubling to 2 s) while it fails because the database is unreachable.
 * Each retry is reported to the logger; a call that keeps failing past `reconnectMs` throws.
 * @param connection - the URL, the budget and the logger
 * @param what - the call, for messages ("storing a result")
 * @param call - the database call (it must be safe to repeat)
 * @throws QueueUnavailableError when the database stays unreachable; the call's own error when it is not transient
 */
export async function reconnecting<T>(connection: Pick<ResolvedConnection, 'url' | 'reconnectMs' | 'logger'>, what: string, call: () => Promise<T>): Promise<T> {
  const started = Date.now();
  let delayMs = 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error)) throw error;
      const elapsed = Date.now() - started;
      if (elapsed >= connection.reconnectMs) {
        throw new QueueUnavailableError(connection.url, `${what} failed for ${elapsed} ms (${(error as Error).message}). Check that PostgreSQL is running and reachable, or raise reconnectMs (--reconnect-ms).`, { cause: error });
      }
      connection.logger.warn(`andor queue: ${what} failed (${(error as Error).message}); retry ${attempt} in ${delayMs} ms.`);
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 2000);
    }
  }
}

/** pg-boss's SQL runner. */
export type Sql = (text: string, values?: unknown[]) => Promise<Record<string, unknown>[]>;

/** One process's connection: pg-boss (jobs) and a SQL runner on its pool (the results table, leases). */
export interface QueueConnection {
  readonly options: ResolvedConnection;
  readonly boss: PgBoss;
  readonly sql: Sql;
  /** Stops pg-boss's loops and closes the pool. */
  close(): Promise<void>;
}

/**
 * Starts pg-boss on the queue's database: installs or migrates its schema, starts its maintenance (which expires
 * leases), and reports its background errors (a dropped connection) to the logger.
 * @param options - validated connection options
 * @param role - 'client' or 'worker', shown in pg_stat_activity
 * @throws QueueUnavailableError when the database stays unreachable for reconnectMs
 */
export async function connectQueue(options: ResolvedConnection, role: 'client' | 'worker'): Promise<QueueConnection> {
  // loaded here, not with the engine: a process that never connects to a queue does not pay for pg-boss and pg
  const { default: Boss } = await import('pg-boss');
  // a pg-boss whose start failed half-way cannot be started again (it believes it is starting): each try gets its own
  const boss = await reconnecting(options, 'connecting to the queue', async () => {
    try {
      return await startBoss();
    } catch (error) {
      throw refusedConnection(options.url, error) ?? error;
    }
  });
  async function startBoss(): Promise<PgBoss> {
    // node-postgres hands `options` to the server at connection: the GUCs of every session of this pool
    const sessions: { options?: string } = options.synchronousCommit ? {} : { options: '-c synchronous_commit=off' };
    const candidate = new Boss({
      ...sessions,
      connectionString: options.url,
      schema: options.schema,
      application_name: `andor-${role}`,
      max: options.poolSize,
      // no cron schedules: their clock checks and internal queues are of no use here
      schedule: false,
      supervise: true,
      migrate: true,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds,
    });
    // pg-boss emits errors of its background loops (maintenance, an idle client whose server restarted); an emitter
    // with no listener would crash the process on them, and the loops retry by themselves
    candidate.on('error', (error) => options.logger.warn(`andor queue (pg-boss): ${error.message}`));
    try {
      return await candidate.start();
    } catch (error) {
      // stop() is a no-op before a successful start; its pool may hold a connection, so close that directly
      await (candidate.getDb() as PgBoss.Db & { close?: () => Promise<void> }).close?.().catch((closing: Error) => options.logger.warn(`andor queue: closing a failed connection: ${closing.message}`));
      throw error;
    }
  }
  const db = boss.getDb();
  const sql: Sql = async (text, values = []) => {
    const result = await db.executeSql(text, values);
    // pg-boss's Db answers a statement after stop() with undefined, not an error: "Cannot read properties of undefined
    // (reading 'rows')" reached the caller of a run that was waiting as its executor closed (an adversarial sweep,
    // stop 48)
    if (result === undefined) throw new DisposedError(`Cannot run a statement on the job queue at ${maskPassword(options.url)}: this process's connection to it was closed (its executor's close(), or its worker stopped). Create another with createQueueExecutor().`);
    return result.rows as Record<string, unknown>[];
  };
  return {
    options,
    boss,
    sql,
    close: () => boss.stop({ graceful: false, close: true, wait: true }),
  };
}

/** PostgreSQL's codes for a connection it refuses as given: a login it rejects (class 28), no such database. */
const REFUSED_CODES = /^(28|3D000$)/;

/**
 * A connection the server refused as given (a wrong user or password, a database that does not exist), as an
 * InvalidOptionError naming the URL (its password masked); undefined for anything else.
 */
function refusedConnection(url: string, error: unknown): InvalidOptionError | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = String((error as Error | undefined)?.message ?? error);
  // the URL's parameters: an sslmode the server cannot meet (node-postgres says so without a code; a certificate it
  // rejects has Node's TLS codes), and session options whose every statement fails at the start (a statement
  // timeout of 1 ms: 57014) ended the run as "unexpected error" (an adversarial sweep, stop 44)
  const refused = typeof code === 'string' ? REFUSED_CODES.test(code) || TLS_CODES.test(code) || code === '57014' : /\bSSL\b/.test(message);
  if (!refused) return undefined;
  return new InvalidOptionError(`The job queue at ${maskPassword(url)} refused the connection: ${message}. Check the user, password and database name in the queue URL (--queue), and its parameters (sslmode, options).`, { cause: error });
}

/** Node's codes for a TLS handshake that failed on the server's certificate. */
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_VERIFY_LEAF_SIGNATURE$|CERT_)/;
