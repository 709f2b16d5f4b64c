// Parsing NumPy .npy files (format 1.0, 2.0, 3.0) into a Float64Array and a shape. The header is read by a small
// strict parser of the Python dict literal np.save writes, never by regexes or eval; every defect is a typed error.
// see: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
import { InvalidInputError, ShapeMismatchError } from '../contracts/errors.js';
import { preview } from './preview.js';

/** Element kinds and sizes read here (byte order '<' or '>', or '|' for one-byte kinds). */
const SUPPORTED: Readonly<Record<string, readonly number[]>> = { f: [4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };
const SUPPORTED_LIST = '<f8, <f4, <i8, <i4, <i2, |i1, <u8, <u4, <u2, |u1, |b1 (or > for big-endian)';

/** A parsed .npy array. */
export interface NpyArray {
  /** The elements in C (row-major) order, converted to float64; NaN and ±Inf are kept for the caller to judge. */
  readonly data: Float64Array;
  readonly shape: number[];
  /** The dtype as written in the header, e.g. "<f8". */
  readonly descr: string;
}

/**
 * Parses a NumPy .npy file: little- or big-endian float32/64, (u)int8/16/32/64 and bool, C order (or Fortran order
 * when the array has at most one dim, where both orders agree).
 * @param bytes - the whole file
 * @param source - the path, for messages
 * @returns the data as float64 and the shape
 * @throws InvalidInputError for a bad magic number, version, header or dtype, and for integers beyond ±2^53;
 *   ShapeMismatchError when the shape does not match the number of data bytes
 */
export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  // the whole file: its header is in it, so there is a layout
  const { view, dataStart, count, kind, itemBytes, littleEndian, shape, descr } = npyLayout(bytes, source, bytes.length)!;
  return { data: readElements(view, dataStart, count, kind, itemBytes, littleEndian, source), shape, descr };
}

/**
 * Checks a .npy file's size against its header from its first bytes, before the rest is read: a file whose header
 * says (1, 30) but that holds a gigabyte is refused without reading the gigabyte.
 * @param start - the file's first bytes (its whole header)
 * @param size - the file's size in bytes
 * @param source - the path, for messages
 * @throws as parseNpy for the header; ShapeMismatchError when the size is not the header's
 */
export function assertNpySize(start: Uint8Array, size: number, source: string): void {
  npyLayout(start, source, size);
}

/** The header of a .npy file of `size` bytes whose first bytes are `bytes`, checked; where its data starts
 *  (undefined when the header runs past `bytes`). */
function npyLayout(bytes: Uint8Array, source: string, size: number) {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length === 0 || magic.some((b, i) => i < bytes.length && bytes[i] !== b)) {
    throw new InvalidInputError(`${source} is not a .npy file (bad magic number: a .npy file starts with "\\x93NUMPY"). Save arrays with np.save.`);
  }
  if (bytes.length < 10) throw new InvalidInputError(`${source} is a truncated .npy file: ${bytes.length} bytes, shorter than the 10-byte preamble.`);
  const [major, minor] = [bytes[6], bytes[7]];
  if (![1, 2, 3].includes(major) || minor !== 0) {
    throw new InvalidInputError(`${source} uses .npy format version ${major}.${minor}; supported versions are 1.0, 2.0 and 3.0.`);
  }
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) throw new InvalidInputError(`${source} is a truncated .npy file: the version ${major}.0 preamble needs ${headerStart} bytes.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (dataStart > size) {
    throw new InvalidInputError(`${source} is a truncated .npy file: its header claims ${headerLength} bytes but only ${size - headerStart} follow the preamble.`);
  }
  // a version 2 or 3 header may be longer than the first bytes seen (up to 4 GiB): the whole file's parse checks it
  if (dataStart > bytes.length) return undefined;
  const header = decodeHeader(bytes.subarray(headerStart, dataStart), major, source);
  const { descr, fortranOrder, shape } = parseHeader(header, source);

  const match = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  const kind = match?.[2] ?? '';
  const itemBytes = Number(match?.[3]);
  if (!match || !SUPPORTED[kind]?.includes(itemBytes)) {
    throw new InvalidInputError(`${source}: dtype ${preview(descr)} is not supported. Expected one of: ${SUPPORTED_LIST}.`);
  }
  const order = match[1];
  if ((order === '|' || order === '=') && itemBytes > 1) {
    throw new InvalidInputError(`${source}: dtype "${descr}" gives no explicit byte order; np.save writes "<" or ">" for multi-byte dtypes. Save it again with np.save.`);
  }
  const littleEndian = order !== '>';
  if (fortranOrder && shape.filter((d) => d > 1).length > 1) {
    throw new InvalidInputError(`${source} is in Fortran order; save it with np.save(path, np.ascontiguousarray(a)).`);
  }

  let count = 1;
  for (const d of shape) count *= d;
  const dataBytes = size - dataStart;
  const shapeText = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  if (!Number.isSafeInteger(count * itemBytes) || count * itemBytes !== dataBytes) {
    const need = Number.isSafeInteger(count * itemBytes) ? `${count * itemBytes} data bytes` : 'more data than any file holds';
    const why = count * itemBytes > dataBytes ? 'truncated' : 'longer than its header says';
    throw new ShapeMismatchError(`${source} is ${why}: shape ${shapeText} of ${descr} needs ${need}, but ${dataBytes} follow the header.`);
  }
  return { view, dataStart, count, kind, itemBytes, littleEndian, shape, descr };
}

function decodeHeader(bytes: Uint8Array, major: number, source: string): string {
  try {
    // versions 1 and 2 write the header in latin1, version 3 in UTF-8
    return new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new InvalidInputError(`${source}: the .npy header is not valid ${major === 3 ? 'UTF-8' : 'Latin-1'} text.`, { cause });
  }
}

type HeaderValue = string | boolean | number[];

/** Parses the header dict: {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), } and nothing else. */
function parseHeader(text: string, source: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  let at = 0;
  const fail = (why: string): never => {
    throw new InvalidInputError(`${source}: cannot read the .npy header (${why} at character ${at} of ${preview(text.trim())}). Save the array again with np.save.`);
  };
  const skip = () => {
    while (at < text.length && ' \t\r\n'.includes(text[at])) at++;
  };
  const expect = (char: string) => {
    skip();
    if (text[at] !== char) fail(`expected "${char}"`);
    at++;
  };
  const string = (): string => {
    skip();
    const quote = text[at];
    if (quote !== "'" && quote !== '"') fail('expected a quoted string');
    const end = text.indexOf(quote, at + 1);
    if (end < 0) fail('unterminated string');
    const value = text.slice(at + 1, end);
    at = end + 1;
    return value;
  };
  const integer = (): number => {
    skip();
    const digits = /^\d+L?/.exec(text.slice(at, at + 24))?.[0];
    if (!digits) fail('expected a non-negative integer in the shape');
    at += digits!.length;
    const value = Number(digits!.replace('L', ''));
    if (!Number.isSafeInteger(value)) fail(`shape entry ${digits} is too large`);
    return value;
  };
  const value = (): HeaderValue => {
    skip();
    for (const [word, flag] of [['True', true], ['False', false]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return flag;
      }
    }
    if (text[at] === "'" || text[at] === '"') return string();
    if (text[at] === '(') {
      at++;
      const dims: number[] = [];
      for (skip(); text[at] !== ')'; skip()) {
        dims.push(integer());
        skip();
        if (text[at] === ',') at++;
        else if (text[at] !== ')') fail('expected "," or ")" in the shape');
      }
      at++;
      return dims;
    }
    if (text[at] === '[') fail('structured dtypes (a list of fields) are not supported');
    return fail('expected a string, True, False or a tuple');
  };

  expect('{');
  const fields = new Map<string, HeaderValue>();
  for (skip(); text[at] !== '}'; skip()) {
    if (at >= text.length) fail('unterminated dict');
    const key = string();
    if (fields.has(key)) fail(`key "${key}" appears twice`);
    expect(':');
    fields.set(key, value());
    skip();
    if (text[at] === ',') at++;
    else if (text[at] !== '}') fail('expected "," or "}"');
  }
  at++;
  skip();
  if (at < text.length && text.slice(at).replace(/\0/g, '').trim() !== '') fail('unexpected text after the dict');
  const keys = [...fields.keys()].sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') fail(`it has the keys {${keys}}, expected exactly descr, fortran_order, shape`);
  const [descr, fortranOrder, shape] = [fields.get('descr'), fields.get('fortran_order'), fields.get('shape')];
  if (typeof descr !== 'string') fail('descr must be a string');
  if (typeof fortranOrder !== 'boolean') fail('fortran_order must be True or False');
  if (!Array.isArray(shape)) fail('shape must be a tuple of integers');
  return { descr: descr as string, fortranOrder: fortranOrder as boolean, shape: shape as number[] };
}

function readElements(view: DataView, start: number, count: number, kind: string, itemBytes: number, littleEndian: boolean, source: string): Float64Array {
  const out = new Float64Array(count);
  const read = reader(view, kind, itemBytes, littleEndian);
  for (let k = 0, offset = start; k < count; k++, offset += itemBytes) {
    const value = read(offset);
    if (typeof value === 'bigint') {
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new InvalidInputError(`${source}: element ${k} is ${value}, beyond ±2^53, so it cannot be represented exactly as a float64. Store it as float64.`);
      }
      out[k] = Number(value);
    } else out[k] = value;
  }
  return out;
}

function reader(view: DataView, kind: string, itemBytes: number, le: boolean): (offset: number) => number | bigint {
  switch (`${kind}${itemBytes}`) {
    case 'f8': return (o) => view.getFloat64(o, le);
    case 'f4': return (o) => view.getFloat32(o, le);
    case 'i8': return (o) => view.getBigInt64(o, le);
    case 'i4': return (o) => view.getInt32(o, le);
    case 'i2': return (o) => view.getInt16(o, le);
    case 'i1': return (o) => view.getInt8(o);
    case 'u8': return (o) => view.getBigUint64(o, le);
    case 'u4': return (o) => view.getUint32(o, le);
    case 'u2': return (o) => view.getUint16(o, le);
    case 'u1': return (o) => view.getUint8(o);
    default: return (o) => (view.getUint8(o) === 0 ? 0 : 1); // b1: numpy reads any non-zero byte as True
  }
}
