// Where workers find models (and samples too large for a job): a content-addressed store keyed by the bytes' sha256.
// FolderStore keeps one file per entry in a folder every worker can reach (a shared mount), writes atomically (a
// unique temporary name, then a rename) and checks the hash on every read, so a truncated copy or a wrong file is a
// typed error, never a wrong result. No queue or engine code here.
import { createHash, randomBytes } from 'node:crypto';
import { link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidOptionError } from '../contracts/errors.js';
import { ModelStoreError } from './errors.js';
import { preview } from '../inputs/preview.js';
import { makeFolder } from '../inputs/folders.js';

/** A content-addressed store of model files (the queue also keeps large encoded samples in it). */
export interface ModelStore {
  /** A readable name for messages (e.g. the folder). */
  readonly location: string;
  /**
   * Stores bytes under their sha256 (nothing is written when the same bytes are already there; a damaged copy is
   * replaced).
   * @returns the sha256 (lowercase hex)
   */
  put(bytes: Uint8Array): Promise<string>;
  /**
   * The bytes stored under a hash, checked against it.
   * @throws ModelStoreError when the model is missing or its bytes hash to something else
   */
  get(sha256: string): Promise<Uint8Array>;
  /** Whether a model with this hash is stored (its bytes are checked only by get). */
  has(sha256: string): Promise<boolean>;
  /**
   * The store's identity, a random id written once into it: a client queues its units with it, and a worker whose
   * store answers another id (or none) is not looking at the clients' store, so it gives their units back unrun
   * instead of failing them (without this method the check is skipped).
   * @param create - make the id when the store has none (a client, before it queues); a worker only reads
   * @returns the id, or undefined when there is none and create is false
   */
  id?(create: boolean): Promise<string | undefined>;
}

/** The file of a FolderStore's id, beside the models (whose names are hashes: no clash). */
const ID_FILE = '.andor-store-id';
const STORE_ID = /^[0-9a-f]{32}$/;

const SHA256 = /^[0-9a-f]{64}$/;

/** The sha256 of bytes, lowercase hex. */
export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Throws unless `sha256` is 64 lowercase hex digits (it becomes a file name: nothing else may reach the path).
 * @throws InvalidOptionError naming the bad value
 */
export function assertSha256(sha256: unknown, field = 'sha256'): asserts sha256 is string {
  if (typeof sha256 !== 'string' || !SHA256.test(sha256)) {
    throw new InvalidOptionError(`${field} must be a sha256: 64 lowercase hex digits (got ${preview(sha256)}).`);
  }
}

/** A ModelStore in a folder: `<dir>/<sha256>`. Each instance checks a file's bytes once (on put or get) and then
 *  only that it is the same file (a stat: its inode, size and modification time); a file deleted or written after
 *  that is checked, and put back, by the next put. A file damaged in place with its size and time kept is found by
 *  the workers' get, whose error names it; deleting it, as that error says, makes the next put write it again. */
export class FolderStore implements ModelStore {
  readonly dir: string;
  /** Files this instance wrote or read back intact, by hash, with their stat then: a put of one that is still the
   *  same file (a stat) writes and reads nothing (a client puts every model of every run; re-reading a 250 MB model
   *  each time would cost a second per run). A set of hashes alone kept a long-lived client from ever writing a file
   *  back that was deleted after it put it, even as the workers' error told the user to delete it (an adversarial
   *  sweep, stop 48). */
  private readonly intact = new Map<string, FileStamp>();

  /**
   * @param dir - the folder (created on the first put); every worker must see the same folder
   * @throws InvalidOptionError when dir is not a non-empty string
   */
  constructor(dir: string) {
    if (typeof dir !== 'string' || dir.trim() === '') throw new InvalidOptionError(`store must be a folder path (got ${preview(dir)}).`);
    this.dir = resolve(dir);
  }

  get location(): string {
    return this.dir;
  }

  private file(sha256: string): string {
    return join(this.dir, sha256);
  }

  async put(bytes: Uint8Array): Promise<string> {
    if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) throw new InvalidOptionError('store.put needs the non-empty bytes of a model (a Uint8Array).');
    const sha256 = sha256Of(bytes);
    const target = this.file(sha256);
    const before = await stampOf(target);
    const known = this.intact.get(sha256);
    if (known && before && sameFile(known, before, bytes.byteLength)) return sha256;
    this.intact.delete(sha256);
    // a file already there is kept only when its bytes are right: put also repairs a damaged store
    // absent, unreadable or not a regular file (a pipe would block the read for ever): written below, over it
    const existing = before ? await readFile(target).catch(() => undefined) : undefined;
    if (existing && sha256Of(existing) === sha256) {
      // the stat from before the read: a file replaced since differs from it, so the next put checks it again
      this.intact.set(sha256, before!);
      return sha256;
    }
    const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await makeFolder(this.dir);
      await writeFile(tmp, bytes);
      await rename(tmp, target);
    } catch (cause) {
      // force ignores ENOENT only: under a store path that is a file, rm says ENOTDIR
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new ModelStoreError(sha256, 'missing', `Cannot write ${sha256} to the store ${this.dir}: ${(cause as NodeJS.ErrnoException).code ?? cause}. Give a writable folder that every worker can read.`, { cause });
    }
    const written = await stampOf(target);
    if (written) this.intact.set(sha256, written);
    return sha256;
  }

  async get(sha256: string): Promise<Uint8Array> {
    assertSha256(sha256);
    let bytes: Uint8Array;
    const found = await stat(this.file(sha256)).catch(() => undefined);
    if (found && !found.isFile()) {
      throw new ModelStoreError(
        sha256, 'corrupt',
        `Model or sample ${sha256} in the store ${this.dir} is not a regular file (${found.isDirectory() ? 'a folder' : 'a pipe, device or socket'}): delete ${this.file(sha256)} and run the client again (it puts the file back).`,
      );
    }
    try {
      bytes = await readFile(this.file(sha256));
    } catch (cause) {
      throw new ModelStoreError(
        sha256, 'missing',
        `Model or sample ${sha256} is not in the store ${this.dir} (${(cause as NodeJS.ErrnoException).code ?? cause}). The client puts each model (and each large sample) there before queueing its units: check that this worker sees the same folder as the client.`,
        { cause },
      );
    }
    const actual = sha256Of(bytes);
    if (actual !== sha256) {
      this.intact.delete(sha256);
      throw new ModelStoreError(
        sha256, 'corrupt',
        `Model or sample ${sha256} in the store ${this.dir} is corrupt: its ${bytes.byteLength} bytes hash to ${actual}. Delete ${this.file(sha256)} and run the client again (it puts it back).`,
      );
    }
    // the stat from before the read: a file replaced since differs from it, so the next put checks it again
    if (found) this.intact.set(sha256, stampFrom(found));
    return bytes;
  }

  async has(sha256: string): Promise<boolean> {
    assertSha256(sha256);
    return isRegularFile(this.file(sha256));
  }

  async id(create: boolean): Promise<string | undefined> {
    const file = join(this.dir, ID_FILE);
    const read = async (): Promise<string | undefined> => {
      const text = (await isRegularFile(file)) ? await readFile(file, 'utf8').catch(() => undefined) : undefined;
      if (text === undefined) return undefined;
      const id = text.trim();
      if (!STORE_ID.test(id)) {
        // deleting it is not harmless: units queued under the old id would then meet a store of another id, which
        // every worker gives back unrun before it stops, and their clients fail their runs (an adversarial sweep,
        // stop 48). Restoring the old id keeps them running; a new id is safe only with nothing queued.
        throw new InvalidOptionError(
          `The store ${this.dir} has a damaged id file ${file} (${preview(text.slice(0, 40))}); it must hold the store's id, 32 lowercase hex digits. ` +
            `Write the id back into it: every queued unit of this store names it (its job's data.store, e.g. SELECT DISTINCT data->>'store' FROM pgboss.job with your queue's schema), as do the errors of workers and clients that met it. ` +
            'Only when no unit of this store is queued or running, delete the file instead: the next client writes a new id (units still queued under the old one would be given back by every worker, and their clients fail their runs).',
        );
      }
      return id;
    };
    const found = await read();
    if (found !== undefined || !create) return found;
    // written whole under a temporary name, then linked into place: link refuses an existing name, so two clients
    // that create the id at once agree on the first one's, and no reader sees a half-written file
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await makeFolder(this.dir);
      await writeFile(tmp, `${randomBytes(16).toString('hex')}\n`);
      await link(tmp, file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    } catch (cause) {
      throw new InvalidOptionError(`Cannot write the store's id into the store ${this.dir} (${ID_FILE}): ${(cause as NodeJS.ErrnoException).code ?? cause}. Give a writable folder that every worker can read.`, { cause });
    } finally {
      await rm(tmp, { force: true }).catch(() => undefined);
    }
    return (await read())!;
  }
}

/** What tells one file from another at a path without reading it: its inode, size and modification time. */
interface FileStamp {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

function stampFrom(found: Stats): FileStamp {
  return { ino: found.ino, size: found.size, mtimeMs: found.mtimeMs };
}

/** A regular file's stamp (after links); undefined when the path is absent or not a regular file. */
async function stampOf(path: string): Promise<FileStamp | undefined> {
  const found = await stat(path).catch(() => undefined);
  return found?.isFile() ? stampFrom(found) : undefined;
}

/** Whether a file is still the one stamped, with the expected size. */
function sameFile(known: FileStamp, now: FileStamp, byteLength: number): boolean {
  return now.size === byteLength && now.ino === known.ino && now.size === known.size && now.mtimeMs === known.mtimeMs;
}

/** Whether a path is a regular file (after links); absent is an answer, not an error. */
async function isRegularFile(path: string): Promise<boolean> {
  const found = await stat(path).catch(() => undefined);
  return found?.isFile() ?? false;
}
