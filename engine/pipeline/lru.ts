// The bound on open models: a least-recently-used map that evicts past its capacity, skipping entries in use. The
// LocalRunner, the pool (its shared model bytes) and each pool worker (its sessions) keep their models in one, so a
// service or a dynamics study that meets many models holds at most MAX_OPEN_MODELS of them at a time.
// Eviction only hands the value to onEvict; releasing the session (or the bytes) is the owner's job.

/**
 * Models (sessions) a runner, and each pool worker, keeps open at most. A session holds the weights plus the
 * runtime's arena (several times the file size), so 4 bounds a service that meets many model versions to a few
 * models' worth of memory per thread, while a job that alternates between two or three models reuses their
 * sessions (a dynamics study explains one checkpoint at a time, plus its reference models).
 */
export const MAX_OPEN_MODELS = 4;

/** What an LruCache does with its entries. */
export interface LruPolicy<V> {
  /** Called with each value evicted past the capacity (never for delete or clear). */
  readonly onEvict: (value: V, key: string) => void;
  /** An entry in use is never evicted; the bound is restored by the next trim() once it is free. */
  readonly isBusy?: (value: V) => boolean;
}

/** A map that keeps at most `capacity` entries that are not busy, evicting the least recently used first. */
export class LruCache<V> {
  private readonly entries = new Map<string, V>();

  /**
   * @param capacity - entries kept at most (busy entries may exceed it until they are free)
   * @param policy - what happens to evicted values, and which values are in use
   * @throws RangeError when capacity is not a positive integer
   */
  constructor(
    readonly capacity: number,
    private readonly policy: LruPolicy<V>,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LruCache capacity must be a positive integer (got ${capacity})`);
  }

  /** Number of entries held now. */
  get size(): number {
    return this.entries.size;
  }

  /** The value under key, which becomes the most recently used; undefined when absent. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** The value under key, without making it the most recently used. */
  peek(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Adds key as the most recently used entry, then evicts past the capacity. A value it replaces is evicted. */
  set(key: string, value: V): void {
    const previous = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, value);
    if (previous !== undefined && previous !== value) this.policy.onEvict(previous, key);
    this.trim();
  }

  /** Removes key without calling onEvict. @returns the value it held */
  delete(key: string): V | undefined {
    const value = this.entries.get(key);
    this.entries.delete(key);
    return value;
  }

  /** Removes everything without calling onEvict. @returns the values it held, least recently used first */
  clear(): V[] {
    const values = [...this.entries.values()];
    this.entries.clear();
    return values;
  }

  /** The values, least recently used first. */
  values(): V[] {
    return [...this.entries.values()];
  }

  /** Evicts the least recently used entries that are not busy until at most `capacity` remain, or only busy ones and
   *  the most recently used (which is never evicted: it was just opened for a caller) are left. */
  trim(): void {
    let older = this.entries.size - 1;
    for (const [key, value] of this.entries) {
      if (this.entries.size <= this.capacity || older-- <= 0) return;
      if (this.policy.isBusy?.(value)) continue;
      this.entries.delete(key);
      this.policy.onEvict(value, key);
    }
  }
}
