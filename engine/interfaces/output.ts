// The CLI's one output writer: JSON written as a stream of chunks (a result with 2^23 values per array is larger than
// the biggest string V8 can build), lines for JSON-lines streams, backpressure respected, and a reader that goes away
// (`andor ... --json | head`) ends the output quietly instead of an EPIPE stack trace. A file is written as FILE.partial
// and renamed over FILE only when the run has ended well: a failed or interrupted run leaves an existing FILE as it was.
// A link to a regular file is written through the partial of that file, renamed over it (the link stays); anything
// else that is not a regular file (/dev/stdout, a FIFO, a device) is written in place.
import { accessSync, constants, createWriteStream, lstatSync, realpathSync, type Stats, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { InvalidOptionError } from '../contracts/errors.js';

/** Elements of a long array serialized per chunk. */
const CHUNK = 8192;

/** A list whose items are made only when the JSON text reaches them (a batch's results: one sample's JSON at a time,
 *  not all of them before the first byte goes out). */
export class LazyList {
  constructor(
    readonly length: number,
    readonly item: (index: number) => unknown,
  ) {}
}

/** Most items (array elements and object fields, nested ones included) of a value written by one JSON.stringify: its
 *  text stays within tens of KB however large the whole, and small values, most of a result, are written natively. */
const SMALL_ITEMS = 1024;

/** The items a plain value holds, nested ones included, counted until the count passes `limit`; a typed array or a
 *  LazyList counts as past any limit (JSON.stringify would write a typed array as an object, and a list not yet made
 *  must be walked). */
function itemsUpTo(value: unknown, limit: number): number {
  if (value instanceof LazyList || ArrayBuffer.isView(value)) return Infinity;
  if (value === null || typeof value !== 'object') return 1;
  const items = Array.isArray(value) ? value : Object.values(value);
  let count = items.length;
  for (let i = 0; i < items.length && count <= limit; i++) count += itemsUpTo(items[i], limit - count);
  return count;
}

/**
 * The JSON text of a value, in chunks, exactly JSON.stringify's text: long number arrays are cut into pieces, lists
 * of objects and large objects are walked item by item, and small plain values are written by JSON.stringify, so no
 * single string grows with the data (a batch's results joined were hundreds of MB, past V8's longest string at about
 * 130 samples of 16 players). Typed arrays are written as number arrays and a LazyList as the list of its items;
 * undefined fields are left out and non-finite numbers become null, as JSON.stringify does.
 */
export function* jsonChunks(value: unknown): Generator<string> {
  if (value instanceof LazyList) yield* listChunks(value.length, (i) => value.item(i));
  else if (value === undefined || typeof value === 'function') yield 'null';
  else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) yield* numberChunks(value as unknown as ArrayLike<number>);
  else if (value === null || typeof value !== 'object' || itemsUpTo(value, SMALL_ITEMS) <= SMALL_ITEMS) yield JSON.stringify(value) ?? 'null';
  else if (Array.isArray(value) && value.every((x) => typeof x === 'number')) yield* numberChunks(value);
  else if (Array.isArray(value)) yield* listChunks(value.length, (i) => value[i]);
  else {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
    yield '{';
    for (let i = 0; i < entries.length; i++) {
      yield `${i > 0 ? ',' : ''}${JSON.stringify(entries[i][0])}:`;
      yield* jsonChunks(entries[i][1]);
    }
    yield '}';
  }
}

/** A list's JSON text, item by item. */
function* listChunks(length: number, item: (index: number) => unknown): Generator<string> {
  yield '[';
  for (let i = 0; i < length; i++) {
    if (i > 0) yield ',';
    yield* jsonChunks(item(i));
  }
  yield ']';
}

/** A number array's JSON text, CHUNK numbers at a time. */
function* numberChunks(items: ArrayLike<number>): Generator<string> {
  yield '[';
  for (let start = 0; start < items.length; start += CHUNK) {
    const parts: string[] = [];
    for (let i = start; i < Math.min(items.length, start + CHUNK); i++) parts.push(Number.isFinite(items[i]) ? String(items[i]) : 'null');
    yield (start > 0 ? ',' : '') + parts.join(',');
  }
  yield ']';
}

/**
 * Text for a terminal: control characters other than newline and tab (an ESC sequence in a player name from a CSV
 * header would run in the terminal) are shown as \u escapes.
 * @param text - a summary or a message
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Where the CLI writes: a file or stdout. */
export interface Output {
  /** Writes text, waiting while the reader is behind. Resolves false once the reader has gone away. */
  write(text: string): Promise<boolean>;
  /** Writes a value as JSON and a newline. */
  writeJson(value: unknown): Promise<boolean>;
  /**
   * Ends the output and says whether all of it was written (throws what failed), leaving a file at FILE.partial: the
   * outputs of one run are finished together, then closed together, so a full disk on the last one leaves every
   * target as it was rather than a new --out beside an old --report.
   */
  finish(): Promise<void>;
  /** Ends the output (finish); a file then replaces the target. */
  close(): Promise<void>;
  /**
   * Ends the output of a run that failed: a regular file is left as it was, and what was written for it is kept as
   * FILE.partial (removed when empty).
   * @returns the kept file's path, or undefined
   */
  abandon(): Promise<string | undefined>;
}

/** The file a link names, its links resolved; undefined for a link that names nothing (written in place). */
function linkedFile(link: string): string | undefined {
  try {
    return realpathSync(link);
  } catch {
    return undefined;
  }
}

/** Where a file output is written until the run has ended well. */
export const partialPath = (target: string): string => `${target}.partial`;

/**
 * Opens an output.
 * @param target - a file path, or process.stdout
 * @param option - the flag that named the file, for the message of a failed write
 * @param cached - whether a rerun reads the run's results back from a cache, as that message then says (false for
 *   `andor report`, which has no cache: the advice to rerun with --cache named a flag it does not take)
 */
export function openOutput(target: string | Writable, option = '--out', cached = true): Output {
  // a new or regular file goes through FILE.partial; a link to a regular file through the partial of the file it
  // names, renamed over that file (the link stays: it was written in place, and a full disk left its file truncated;
  // an adversarial sweep, stop 45); a device or a pipe is written in place, as before
  let file: string | undefined;
  let existing: Stats | undefined;
  if (typeof target === 'string') {
    const own = lstatSync(target, { throwIfNoEntry: false });
    const path = own?.isSymbolicLink() ? linkedFile(target) : target;
    existing = path === undefined || path === target ? own : lstatSync(path, { throwIfNoEntry: false });
    if (path !== undefined && (existing === undefined || existing.isFile())) file = path;
  }
  // a file its owner made read-only is refused, as writing it in place was (a rename would replace it)
  if (file && existing) {
    try {
      accessSync(file, constants.W_OK);
    } catch (cause) {
      throw new InvalidOptionError(`Cannot write ${option} ${file}: ${(cause as NodeJS.ErrnoException).code ?? cause}. Give a file you may write, or make it writable.`, { cause });
    }
  }
  const stream: Writable = typeof target === 'string' ? createWriteStream(file ? partialPath(file) : target) : target;
  let gone = false;
  let written = 0;
  let failure: Error | undefined;
  let ended: Promise<void> | undefined;
  // a full disk, or a path that went away after the check before the run (ENOSPC, ENOENT): said with the file
  const named = (error: NodeJS.ErrnoException) =>
    new InvalidOptionError(
      `Cannot write ${typeof target === 'string' ? `${option} ${target}` : 'the output'}: ${error.code ?? error.message}. ` +
        `${['EACCES', 'EPERM', 'EROFS'].includes(error.code ?? '') ? 'Give a file in a folder you may write' : 'Give a file on a disk with room for the result'}` +
        `${cached ? '; results kept in the cache (--cache) are read back by a rerun' : ''}.`,
      { cause: error },
    );
  stream.on('error', (error: NodeJS.ErrnoException) => {
    // the reader closed the pipe (`| head`): stop writing, quietly; any other error is the caller's to see
    if (error.code === 'EPIPE') gone = true;
    else failure ??= named(error);
  });
  const write = async (text: string): Promise<boolean> => {
    if (failure) throw failure;
    if (gone) return false;
    written += text.length;
    if (!stream.write(text)) await new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('error', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('error', done);
      stream.on('close', done);
    });
    if (failure) throw failure;
    return !gone;
  };
  // one value at a time: concurrent writers (samples finishing together) must not interleave their chunks
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const next = queue.then(task, task);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    write: (text) => serial(() => write(text)),
    writeJson: (value) =>
      serial(async () => {
        for (const chunk of jsonChunks(value)) if (!(await write(chunk))) return false;
        return write('\n');
      }),
    async finish() {
      await end();
      if (failure) throw failure;
    },
    async close() {
      await end();
      if (file && !failure) await rename(partialPath(file), file).catch((error: NodeJS.ErrnoException) => void (failure ??= named(error)));
      if (failure) throw failure;
    },
    async abandon() {
      await end();
      if (!file) return undefined;
      if (written > 0 && !failure) return partialPath(file);
      await rm(partialPath(file), { force: true });
      return undefined;
    },
  };

  // once: finish, then close or abandon, end the stream one time
  function end(): Promise<void> {
    return (ended ??= (async () => {
      if (typeof target !== 'string') return;
      await queue;
      await new Promise<void>((resolve) => (stream as WriteStream).end((error?: NodeJS.ErrnoException | null) => {
        if (error) failure ??= named(error);
        resolve();
      }));
    })());
  }
}

/**
 * Runs what writes to the output files, then puts them in place together: each is finished (all of it on disk, as
 * FILE.partial), and only then is each renamed over its target, so a full disk on --report leaves --out as it was
 * too. When anything fails (an error, a stop signal, a write), every target is left as it was and what was written
 * is kept as FILE.partial, said on stderr (keep: false removes it instead: what a rerun makes again at no cost).
 * @param files - the outputs by the flag that named them (undefined: not asked for)
 * @param work - the writing
 * @param options - keep: whether what was written is kept as FILE.partial when the run fails (default true)
 * @returns what work returns
 */
export async function settleOutputs<T>(files: readonly (readonly [string, Output | undefined])[], work: () => Promise<T>, { keep = true }: { readonly keep?: boolean } = {}): Promise<T> {
  const outputs = files.filter((f): f is [string, Output] => f[1] !== undefined);
  let result: T;
  try {
    result = await work();
    for (const [, output] of outputs) await output.finish();
  } catch (error) {
    const abandoned = (await Promise.all(outputs.map(([, o]) => o.abandon().catch(() => undefined)))).filter((f): f is string => f !== undefined);
    if (!keep) await Promise.all(abandoned.map((f) => rm(f, { force: true }).catch(() => undefined)));
    const kept = keep ? abandoned : [];
    const many = outputs.length > 1;
    if (kept.length > 0) process.stderr.write(`andor: what was written before the run ended is in ${kept.join(' and ')}; the ${outputs.map(([option]) => option).join(' and ')} file${many ? 's were' : ' was'} left as ${many ? 'they were' : 'it was'}.\n`);
    throw error;
  }
  for (const [, output] of outputs) await output.close();
  return result;
}
