// The content-addressed result cache on disk, shared by `dynamics` and batch explanations: a key is the sha256 of
// everything that shaped a result (model bytes, sample values and metadata, options, reference rows, names), an entry
// is written atomically under a unique temporary name with the sha256 of its content, and an entry that cannot be
// decoded or fails its checksum is recomputed, never trusted and never fatal. An entry's file is binary
// (binary-entry.ts: the typed arrays' bytes behind a JSON header); the text codec here (typed arrays as base64 inside
// JSON) is the queue's, whose tables hold text. Both round-trip typed arrays exactly.
import { createHash, randomBytes } from 'node:crypto';
import { lstat, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidOptionError } from '../contracts/errors.js';
import type { Sample } from '../inputs/samples.js';
import { decodeBinaryEntry, encodeBinaryEntry } from './binary-entry.js';
import { makeFolder } from '../inputs/folders.js';

/** Entries change meaning when this does: it is part of every key (6: a sparse result whose budget covered 2^n
 *  holds the exact method's indices, not those of its terms up to maxOrder; 7: a stored result holds the key it is
 *  stored under, stored-result.ts; 8: a unit's key holds its options as the run resolves them, not as they were
 *  spelled (units.ts, resolvedUnitOptions: `tolerance: 'auto'` and no tolerance, a default given or left out, share
 *  one key), and optionsDigest reads objects' keys in sorted order). */
export const CACHE_VERSION = 8;

/** A typed array in an entry: its kind and its bytes. */
type Packed = { readonly $typed: 'f64' | 'i32' | 'u8'; readonly base64: string };

const KINDS = { f64: Float64Array, i32: Int32Array, u8: Uint8Array } as const;

/**
 * Encodes a value whose leaves are JSON values or Float64Array / Int32Array / Uint8Array as JSON text.
 * @param value - plain objects, arrays, numbers (finite), strings, booleans, null and typed arrays
 */
export function encodeEntry(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    for (const [kind, Type] of Object.entries(KINDS) as [Packed['$typed'], (typeof KINDS)[keyof typeof KINDS]][]) {
      if (v instanceof Type) return { $typed: kind, base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') } satisfies Packed;
    }
    return v;
  });
}

/**
 * Decodes encodeEntry's text. Never throws: text that is not a well-formed entry gives undefined.
 * @param text - an entry's content
 */
export function decodeEntry(text: string): unknown {
  try {
    return JSON.parse(text, (_key, v: unknown) => {
      if (v === null || typeof v !== 'object' || !('$typed' in v)) return v;
      const { $typed, base64 } = v as Packed;
      const Type = KINDS[$typed];
      if (!Type || typeof base64 !== 'string') throw new SyntaxError('not a typed array');
      const bytes = Buffer.from(base64, 'base64');
      // Buffer.from skips what is not base64: only the canonical encoding of what it read is taken (cheaper than a
      // regular expression over a sample's MBs)
      if (bytes.toString('base64') !== base64) throw new SyntaxError('not canonical base64');
      if (bytes.byteLength % Type.BYTES_PER_ELEMENT !== 0) throw new SyntaxError('typed array of the wrong length');
      return new Type(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    });
  } catch {
    return undefined; // foreign, truncated or corrupt: the caller recomputes it
  }
}

/** The sha256 of a sample's content: values by input name, shape, label, split and tokens. */
export function sampleDigest(sample: Sample): string {
  const hash = createHash('sha256');
  const values = sample.values instanceof Float64Array ? { x: sample.values } : sample.values;
  for (const [name, v] of Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) hash.update(name).update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return hash.update(JSON.stringify([sample.shape ?? null, sample.label ?? null, sample.tokens ?? null])).digest('hex');
}

/** The sha256 of options, with typed arrays by value, file-path fields (`source`), functions and signals left out, and
 *  the keys of plain objects in sorted order (the order a caller wrote them in shapes no result). */
export function optionsDigest(options: unknown): string {
  const text = JSON.stringify(options, (key, v: unknown) => {
    if (key === 'source' || typeof v === 'function' || v instanceof AbortSignal) return undefined;
    if (ArrayBuffer.isView(v)) return Array.from(v as Float64Array);
    return isPlainObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v;
  });
  return createHash('sha256').update(text ?? 'null').digest('hex');
}

/** An object literal's kind of object (not an array, a typed array, a signal or a class instance). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A cache key from the parts that shaped a result. */
export function cacheKey(kind: string, ...parts: readonly string[]): string {
  return createHash('sha256').update([`v${CACHE_VERSION}`, kind, ...parts].join('|')).digest('hex');
}

/** No entry is larger: an exact result at the kernels' 24 players holds three arrays of 2^24 doubles (384 MiB). */
const MAX_ENTRY_BYTES = 2 ** 30;

/** The file name of a cache entry is its key and this. */
export const ENTRY_EXTENSION = '.bin';

/** A folder of cached results. */
export interface ResultCache {
  readonly dir: string;
  /** The entry for a key when it exists and `accept` (default: any decoded entry) recognises it; undefined otherwise
   *  (corrupt entries included). */
  get<T = unknown>(key: string, accept?: (value: unknown) => value is T): Promise<T | undefined>;
  /** Writes an entry atomically (a unique temporary file, then a rename). */
  put(key: string, value: unknown): Promise<void>;
}

/** A temporary entry older than this is no write in progress (an entry of the largest size is written in seconds). */
const STALE_TEMPORARY_MS = 60 * 60 * 1000;

/**
 * Removes the temporaries of writes that never ended (a process killed mid-write: SIGKILL, or a signal with no
 * handler, as reproduce had; an adversarial sweep, stop 48): `<entry>.<pid>.<hex>.tmp` older than an hour. Best
 * effort: a cache is never refused for its leftovers.
 */
async function sweepTemporaries(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  const now = Date.now();
  await Promise.all(
    names
      .filter((name) => /\.\d+\.[0-9a-f]+\.tmp$/.test(name))
      .map(async (name) => {
        const path = join(root, name);
        const found = await lstat(path).catch(() => undefined);
        if (found?.isFile() && now - found.mtimeMs > STALE_TEMPORARY_MS) await rm(path, { force: true }).catch(() => undefined);
      }),
  );
}

/**
 * Opens (creating it if needed) a cache folder, and removes the temporaries of writes that never ended.
 * @param dir - the folder, or false for no cache
 * @returns the cache, or undefined when disabled
 * @throws InvalidOptionError when the path exists and is not a folder, or cannot be created
 */
export async function openCache(dir: string | false | undefined, option = 'cacheDir'): Promise<ResultCache | undefined> {
  if (dir === false) return undefined;
  const root = resolve(dir ?? '.andor-cache');
  const existing = await stat(root).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new InvalidOptionError(`${option} ${root} is a file, not a folder; give a folder for the cache (or disable it).`);
  try {
    await makeFolder(root);
  } catch (cause) {
    throw new InvalidOptionError(`${option} ${root} cannot be created (${(cause as NodeJS.ErrnoException).code ?? cause}); give a writable folder.`, { cause });
  }
  await sweepTemporaries(root);
  const file = (key: string) => join(root, `${key}${ENTRY_EXTENSION}`);
  return {
    dir: root,
    async get<T>(key: string, accept?: (value: unknown) => value is T) {
      // a missing entry, a folder in its place or unreadable bytes are all just a miss; so is anything but a regular
      // file of at most MAX_ENTRY_BYTES (a FIFO would block the read for ever, /dev/zero never end it)
      const path = file(key);
      const found = await stat(path).catch(() => undefined);
      if (!found?.isFile() || found.size > MAX_ENTRY_BYTES) return undefined;
      const bytes = await readFile(path).catch(() => undefined);
      if (bytes === undefined) return undefined;
      // an entry holds the key it was written under: one renamed or copied under another key is a miss
      const entry = decodeBinaryEntry(bytes) as { key?: unknown; value?: unknown } | undefined;
      if (entry?.key !== key) return undefined;
      const { value } = entry;
      return value !== undefined && (accept?.(value) ?? true) ? (value as T) : undefined;
    },
    async put(key, value) {
      const target = file(key);
      const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        // a write that fails (a full disk) leaves no partial file behind: each one stayed for good (an adversarial
        // sweep, stop 48)
        await writeFile(tmp, encodeBinaryEntry({ key, value }));
        // rename replaces a file atomically; a folder in the entry's place (a corrupt cache) must go first
        if ((await stat(target).catch(() => undefined))?.isDirectory()) await rm(target, { recursive: true, force: true });
        await rename(tmp, target);
      } catch (error) {
        await rm(tmp, { force: true });
        throw error;
      }
    },
  };
}
