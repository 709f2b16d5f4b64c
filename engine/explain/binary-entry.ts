// The disk cache's entry format: a small JSON header for the plain part of a value and the typed arrays' raw bytes
// after it, behind a sha256 of everything. The text form of cache.ts (base64 inside JSON) spent most of a warm
// dynamics rerun decoding: at n = 14, 18 s of 28 s for 512 entries of 1 MB (its reviver, the canonical base64 check,
// the UTF-8 decode and the checksum of the text). Here the arrays are copied out of the file's bytes once.
//
// Layout: MAGIC (8 bytes) | sha256 of all that follows (32) | header length H (uint32, little-endian) | header (H
// bytes of UTF-8 JSON) | zero padding to a multiple of 8 from the start | the arrays, each at a multiple of 8.
// The header is { le, value }: le says whether the arrays' bytes are little-endian (the writer's order; a reader of
// the other order takes the entry as a miss), and value is the entry with each typed array replaced by
// { $typed: 'f64' | 'i32' | 'u8', at, length }: its byte offset from the first array and its element count.
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';

const MAGIC = Buffer.from('andorbn1', 'latin1');
const DIGEST_BYTES = 32;
const HEADER_AT = MAGIC.length + DIGEST_BYTES + 4;
const ALIGN = 8;
const LITTLE_ENDIAN = endianness() === 'LE';

const KINDS = { f64: Float64Array, i32: Int32Array, u8: Uint8Array } as const;
type Kind = keyof typeof KINDS;
type TypedArray = InstanceType<(typeof KINDS)[Kind]>;

/** A typed array in the header: its kind, its byte offset in the arrays' part and its element count. */
interface Placed {
  readonly $typed: Kind;
  readonly at: number;
  readonly length: number;
}

const alignUp = (bytes: number) => Math.ceil(bytes / ALIGN) * ALIGN;

/** The kind of a typed array the format holds, else undefined. */
function kindOf(value: unknown): Kind | undefined {
  if (value instanceof Float64Array) return 'f64';
  if (value instanceof Int32Array) return 'i32';
  if (value instanceof Uint8Array) return 'u8';
  return undefined;
}

/**
 * Encodes a value whose leaves are JSON values or Float64Array / Int32Array / Uint8Array. Numbers that JSON cannot
 * hold (NaN, ±Infinity) become null, as in JSON.
 * @param value - plain objects, arrays, numbers, strings, booleans, null and typed arrays
 * @returns the entry's bytes
 */
export function encodeBinaryEntry(value: unknown): Buffer {
  const arrays: TypedArray[] = [];
  let size = 0;
  const header = JSON.stringify({ le: LITTLE_ENDIAN, value }, (_key, v: unknown) => {
    const kind = kindOf(v);
    if (kind === undefined) return v;
    const array = v as TypedArray;
    const placed: Placed = { $typed: kind, at: size, length: array.length };
    arrays.push(array);
    size += alignUp(array.byteLength);
    return placed;
  });
  const headerBytes = Buffer.from(header, 'utf8');
  const dataAt = alignUp(HEADER_AT + headerBytes.length);
  const out = Buffer.alloc(dataAt + size);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(headerBytes.length, MAGIC.length + DIGEST_BYTES);
  headerBytes.copy(out, HEADER_AT);
  let at = dataAt;
  for (const array of arrays) {
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
    at += alignUp(array.byteLength);
  }
  createHash('sha256').update(out.subarray(MAGIC.length + DIGEST_BYTES)).digest().copy(out, MAGIC.length);
  return out;
}

/**
 * Decodes encodeBinaryEntry's bytes. Never throws: bytes that are not a whole, unchanged entry written in this
 * machine's byte order give undefined (the caller recomputes the entry).
 * @param bytes - an entry file's content
 */
export function decodeBinaryEntry(bytes: Uint8Array): unknown {
  if (bytes.length < HEADER_AT) return undefined;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buffer.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const digest = createHash('sha256').update(buffer.subarray(MAGIC.length + DIGEST_BYTES)).digest();
  if (!digest.equals(buffer.subarray(MAGIC.length, MAGIC.length + DIGEST_BYTES))) return undefined;
  const headerLength = buffer.readUInt32LE(MAGIC.length + DIGEST_BYTES);
  const dataAt = alignUp(HEADER_AT + headerLength);
  if (dataAt > buffer.length) return undefined;
  const dataLength = buffer.length - dataAt;
  try {
    const header = JSON.parse(buffer.toString('utf8', HEADER_AT, HEADER_AT + headerLength), (_key, v: unknown) => {
      if (v === null || typeof v !== 'object' || !('$typed' in v)) return v;
      const { $typed, at, length } = v as Placed;
      const Type = Object.hasOwn(KINDS, $typed) ? KINDS[$typed] : undefined;
      if (!Type || !Number.isSafeInteger(at) || !Number.isSafeInteger(length) || at < 0 || length < 0 || at % ALIGN !== 0) throw new SyntaxError('not a placed typed array');
      const byteLength = length * Type.BYTES_PER_ELEMENT;
      if (at + byteLength > dataLength) throw new SyntaxError('typed array beyond the entry');
      // a copy: the entry's arrays do not share (or pin) the file's buffer
      const copy = new Uint8Array(buffer.subarray(dataAt + at, dataAt + at + byteLength));
      return new Type(copy.buffer);
    }) as { le?: unknown; value?: unknown } | null;
    if (header === null || typeof header !== 'object' || header.le !== LITTLE_ENDIAN || !('value' in header)) return undefined;
    return header.value;
  } catch {
    return undefined; // a header that is not JSON, or whose arrays do not fit: a miss
  }
}
