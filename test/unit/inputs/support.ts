// Shared pieces of the input-parser property tests: a per-suite temp folder, writers of .npy and CSV bytes (the
// generators beside the data, so no test holds an opaque blob), and the "typed error, nothing else" assertion.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { EngineError } from '../../../engine/contracts/errors.js';

/** fast-check settings: enough runs to find the classic defects, bounded so each file runs in a few seconds. */
export const RUNS = { numRuns: 150, interruptAfterTimeLimit: 4_000 } as const;
export const FEW_RUNS = { numRuns: 40, interruptAfterTimeLimit: 4_000 } as const;
/** Bound (ms) on a refusal that must come before any expansion or read: far below the minutes (or the crash) that
 *  expanding "0-99999999999" or reading a 2 GiB file would take, far above a loaded CI machine's jitter. */
export const FAST_MS = 1_000;
/** Per-test timeout (ms) for the property tests; vitest's default of 60 s would hide a hang for too long. */
export const PROPERTY_MS = 20_000;

/** A temp folder made before the suite and removed after it; `path(name)` is a file inside it. */
export function useTempDir(prefix: string): { path: (name: string) => string; write: (name: string, data: string | Uint8Array) => Promise<string> } {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `andor-${prefix}-`));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  let count = 0;
  const path = (name: string) => join(dir, name);
  const write = async (name: string, data: string | Uint8Array) => {
    const file = path(`${count++}-${name}`);
    await writeFile(file, data);
    return file;
  };
  return { path, write };
}

/**
 * Runs `action` and returns the error it throws, failing when it returns or throws anything but an EngineError
 * subclass (a TypeError, RangeError or SyntaxError is a parser bug).
 */
export async function typedError(action: () => unknown): Promise<EngineError> {
  let result: unknown;
  try {
    result = await action();
  } catch (error) {
    if (!(error instanceof EngineError)) throw new Error(`expected an EngineError, got ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
    return error;
  }
  return expect.fail(`expected a typed error, got a result: ${String(result).slice(0, 200)}`);
}

/** Runs `action`; a thrown error must be an EngineError (returned as { error }), else the result comes back. */
export async function resultOrTypedError<T>(action: () => T | Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: EngineError }> {
  try {
    return { ok: true, value: await action() };
  } catch (error) {
    if (!(error instanceof EngineError)) throw new Error(`expected an EngineError, got ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
    return { ok: false, error };
  }
}

/** The .npy dtypes the parser supports: [kind, bytes]. */
export const NPY_DTYPES = [['f', 8], ['f', 4], ['i', 8], ['i', 4], ['i', 2], ['i', 1], ['u', 8], ['u', 4], ['u', 2], ['u', 1], ['b', 1]] as const;

/**
 * Writes a .npy file the way np.save does (header padded with spaces to a multiple of 64, ending in "\n").
 * @param values - the elements in C order (already valid for the dtype)
 * @param shape - the shape
 * @param descr - e.g. "<f8", ">i4", "|u1"
 * @param options - format version (1, 2, 3) and the fortran_order flag to write
 */
export function npyBytes(values: readonly number[], shape: readonly number[], descr = '<f8', options: { version?: 1 | 2 | 3; fortran?: boolean; header?: string } = {}): Uint8Array {
  const version = options.version ?? 1;
  const shapeText = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  let header = options.header ?? `{'descr': '${descr}', 'fortran_order': ${options.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const preamble = version === 1 ? 10 : 12;
  header += ' '.repeat((64 - ((preamble + header.length + 1) % 64)) % 64) + '\n';
  const headerBytes = new TextEncoder().encode(header);
  const littleEndian = descr[0] !== '>';
  const kind = descr[1];
  const size = Number(descr.slice(2));
  const body = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((v, k) => {
    const at = k * size;
    switch (`${kind}${size}`) {
      case 'f8': body.setFloat64(at, v, littleEndian); break;
      case 'f4': body.setFloat32(at, v, littleEndian); break;
      case 'i8': body.setBigInt64(at, BigInt(v), littleEndian); break;
      case 'i4': body.setInt32(at, v, littleEndian); break;
      case 'i2': body.setInt16(at, v, littleEndian); break;
      case 'i1': body.setInt8(at, v); break;
      case 'u8': body.setBigUint64(at, BigInt(v), littleEndian); break;
      case 'u4': body.setUint32(at, v, littleEndian); break;
      case 'u2': body.setUint16(at, v, littleEndian); break;
      default: body.setUint8(at, v);
    }
  });
  const pre = new Uint8Array(preamble);
  pre.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(pre.buffer);
  if (version === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  const out = new Uint8Array(preamble + headerBytes.length + body.byteLength);
  out.set(pre, 0);
  out.set(headerBytes, preamble);
  out.set(new Uint8Array(body.buffer), preamble + headerBytes.length);
  return out;
}

/** A number as a CSV writer prints it, exactly (String() is the shortest round-trip form; -0 keeps its sign). */
export const csvNumber = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

/** Quotes a CSV cell when it needs it (comma, quote, line break, surrounding blanks). */
export const csvCell = (cell: string) => (/[",\r\n]|^[ \t]|[ \t]$/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
