// Reading a data file with a byte cap, decoding it as strict UTF-8, and sniffing what its bytes hold (.npy, JSON
// text, other text, binary). Parsing the formats is elsewhere (npy.ts, csv.ts, samples.ts).
import { isUtf8 } from 'node:buffer';
import { open, type FileHandle } from 'node:fs/promises';
import { EngineError, InvalidInputError } from '../contracts/errors.js';

const CHUNK_BYTES = 1 << 20;
const MIB = 2 ** 20;

/** Bytes read first when a caller checks a file's start against its size (np.save writes a header of version 2 or
 *  3, which may be longer, only past 65 535 bytes; a longer one is checked once the whole file is read). */
const PREFIX_BYTES = 1 << 17;

/**
 * Reads a whole file, refusing it before reading when it is larger than `maxBytes` (regular files), or as soon as
 * more than `maxBytes` arrive (pipes, devices).
 * @param path - the file
 * @param maxBytes - the cap (MAX_TEXT_BYTES or MAX_BINARY_BYTES)
 * @param kinds - what the caller accepts, for the message when the file cannot be read
 * @param checkStart - for a regular file, called with its first bytes and its size before the rest is read (throws
 *   to refuse it: a .npy file whose header says less data than the file holds)
 * @param streamCap - for a pipe or a device, the cap that its first bytes call for, when lower (text, not .npy: /dev/zero
 *   given as a sample was read to 2 GiB, 8 s, before it was refused; an adversarial sweep, stop 43)
 * @returns the bytes
 * @throws InvalidInputError when the file is missing, unreadable, a directory, or over the cap
 */
export async function readCapped(
  path: string,
  maxBytes: number,
  kinds: string,
  checkStart?: (start: Uint8Array, size: number) => void,
  streamCap?: (start: Uint8Array) => number,
): Promise<Uint8Array> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new InvalidInputError(`Cannot read ${path}: ${code}. Give ${kinds}.`, { cause });
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new InvalidInputError(`${path} is a directory; give ${kinds}.`);
    const tooLarge = (size: string) =>
      new InvalidInputError(`${path} is too large (${size}); andor reads at most ${(maxBytes / MIB).toFixed(0)} MiB from a file of this kind. Split the data or use a smaller set.`);
    if (info.isFile() && info.size > maxBytes) throw tooLarge(`${(info.size / MIB).toFixed(1)} MiB`);
    const chunks: Uint8Array[] = [];
    let total = 0;
    let checking = checkStart !== undefined && info.isFile();
    for (;;) {
      const want = Math.min(info.isFile() && total < info.size ? info.size - total : CHUNK_BYTES, maxBytes + 1 - total, checking ? PREFIX_BYTES : Infinity);
      const chunk = new Uint8Array(Math.max(want, 1));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (checking) {
        checking = false;
        checkStart!(chunks[0], info.size);
      }
      if (streamCap && !info.isFile() && chunks.length === 1) maxBytes = Math.min(maxBytes, streamCap(chunks[0]));
      if (total > maxBytes) throw tooLarge(`more than ${(maxBytes / MIB).toFixed(0)} MiB`);
    }
    if (chunks.length === 1) return chunks[0];
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  } catch (cause) {
    if (cause instanceof EngineError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new InvalidInputError(`Cannot read ${path}: ${code}. Give ${kinds}.`, { cause });
  } finally {
    await handle.close();
  }
}

/** True when the bytes start with the .npy magic string "\x93NUMPY". */
export function hasNpyMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && bytes[0] === 0x93 && bytes[1] === 0x4e && bytes[2] === 0x55 && bytes[3] === 0x4d && bytes[4] === 0x50 && bytes[5] === 0x59;
}

/** Length of a UTF-8 byte-order mark at the start (0 or 3). */
function bomLength(bytes: Uint8Array): number {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

/**
 * True when the bytes, after an optional UTF-8 BOM, hold no control characters but tab, CR and LF: printable ASCII
 * only (`ascii`), or valid UTF-8 besides. This tells a text values file from raw float64: a float64 whose 8 bytes are
 * all printable ASCII is an odd value (~5e-4 of random bit patterns, and none of the usual ones, whose low mantissa
 * bytes are 0x00).
 */
export function isText(bytes: Uint8Array, ascii: boolean): boolean {
  for (let i = bomLength(bytes); i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x7f || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || (ascii && b > 0x7f)) return false;
  }
  return ascii || isUtf8(bytes);
}

/** The first byte that is not whitespace (after an optional BOM), as a character; '' when there is none. */
export function firstSignificantChar(bytes: Uint8Array): string {
  for (let i = bomLength(bytes); i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return String.fromCharCode(b);
  }
  return '';
}

/**
 * Decodes UTF-8 text strictly (a BOM is dropped), so a binary or Latin-1 file fails instead of turning into U+FFFD.
 * @param bytes - the file
 * @param source - the path, for messages
 * @returns the text
 * @throws InvalidInputError for UTF-16 files and bytes that are not UTF-8
 */
export function decodeUtf8(bytes: Uint8Array, source: string): string {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    throw new InvalidInputError(`${source} is UTF-16 text; save it as UTF-8.`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new InvalidInputError(`${source} is not UTF-8 text (nor a .npy file); expected JSON or CSV text in UTF-8, or a .npy file.`, { cause });
  }
}
