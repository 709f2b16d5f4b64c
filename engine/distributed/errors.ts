// Typed errors of the distributed layer. Each extends the contracts' class with the closest code (so reviveError and
// every `instanceof` check elsewhere keep working) and carries the facts a caller needs: the model's hash, the failed
// units, the queue's URL without its password. No I/O here.
import { BackendUnavailableError, EngineError, ModelLoadError, ModelRunError, type ErrorCode } from '../contracts/errors.js';

/** A model the store does not hold, or holds with bytes that hash to something else; or a store that stopped being
 *  the one a run's units were queued for. */
export class ModelStoreError extends ModelLoadError {
  /**
   * @param sha256 - the hash that was asked for (for 'replaced', one the run's queued units need)
   * @param reason - 'missing' (no such file), 'corrupt' (its bytes hash to another value) or 'replaced' (the store's
   *   id changed or went while units queued under it waited: the folder was deleted or replaced, or its id file was)
   * @param message - what failed, why, and the fix
   */
  constructor(
    readonly sha256: string,
    readonly reason: 'missing' | 'corrupt' | 'replaced',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One unit that failed for good: after its retries, or on a fault no retry can fix. */
export interface UnitFailure {
  /** Its index in the run's list of units (the first one, when several share its content key). */
  readonly index: number;
  /** Its row in the sample file. */
  readonly row: number;
  /** The model's file (as the client named it), else its sha256. */
  readonly model: string;
  /** The unit's content key (a shard's, for a shard). */
  readonly key: string;
  /** A shard's masks [start, end) of its unit. */
  readonly masks?: readonly [number, number];
  /** The error's class name and code, as the worker reported them (or pg-boss, for a lease that ran out). */
  readonly name: string;
  readonly code?: string;
  /** Why it failed: the worker's error message. */
  readonly reason: string;
}

/** Some units of a run failed for good; the others finished and are stored. `failures` lists each failed unit. */
export class UnitsFailedError extends ModelRunError {
  readonly failures: readonly UnitFailure[];
  /**
   * @param failures - each failed unit and its reason
   * @param total - units in the run
   */
  constructor(failures: readonly UnitFailure[], total: number) {
    const lines = failures.map((f) => `\n  - row ${f.row}${f.masks ? ` masks ${f.masks[0]}..${f.masks[1] - 1}` : ''}, model ${f.model}: ${f.name}${f.code ? ` (${f.code})` : ''}: ${f.reason}`).join('');
    super(
      `${failures.length} of ${total} unit(s) failed for good after their retries:${lines}\n` +
        'The other units finished and their results are stored; fix the cause and run again (stored results are reused).',
    );
    this.failures = failures;
  }
}

/** The queue's database cannot be reached (or stayed unreachable longer than the reconnect budget). */
export class QueueUnavailableError extends BackendUnavailableError {
  /**
   * @param url - the queue's URL (its password is masked in the message)
   * @param message - why, and the fix
   */
  constructor(url: string, message: string, options?: { cause?: unknown }) {
    super(`The job queue at ${maskPassword(url)} is unavailable: ${message}`, [], options);
  }
}

/**
 * A PostgreSQL URL with its password replaced by ***, for messages and logs.
 * @param url - a connection URL (anything else is returned as is)
 */
export function maskPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    // node-postgres takes a password from the query too (?password=…, and sslpassword for the key): printed in
    // clear in every message that named the queue (an adversarial sweep, stop 44)
    for (const key of [...parsed.searchParams.keys()]) if (/password/i.test(key)) parsed.searchParams.set(key, '***');
    return parsed.toString();
  } catch {
    // not a URL the parser takes (a message names it as given): the parts that look like passwords, masked anyway
    return url.replace(/(\/\/[^/?#@:]*:)[^/?#@]*@/, '$1***@').replace(/([?&][^=&#]*password[^=&#]*=)[^&#]*/gi, '$1***');
  }
}

/** Codes of faults that no retry can fix: the request's options, the sample, its values, the memory it needs. */
const DETERMINISTIC: readonly string[] = ['INVALID_OPTION', 'INVALID_INPUT', 'SHAPE_MISMATCH', 'NON_FINITE', 'MEMORY_LIMIT'] satisfies ErrorCode[];

/**
 * Whether every try of a unit would meet this error (a worker then fails its job for good at once).
 * @param error - a thrown value, or a failure's code
 */
export function isDeterministic(error: unknown): boolean {
  const code = typeof error === 'string' ? error : error instanceof EngineError ? error.code : undefined;
  return code !== undefined && DETERMINISTIC.includes(code);
}
