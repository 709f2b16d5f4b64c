// The result cache's codecs and keys (engine/explain/cache.ts: the queue's text codec; binary-entry.ts: the disk
// cache's entries): entries round-trip exactly in both (typed arrays bit for bit, NaN, ±Infinity and −0 included),
// any text or bytes decode to a value or a miss and never throw, a binary entry with any byte changed is a miss,
// corrupted entries on disk are misses, and keys change with the content of every part (issue 10: 3, 4, 9f). Real
// results round-trip through their stored form (stored-result.ts) in both codecs.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { decodeBinaryEntry, encodeBinaryEntry } from '../../engine/explain/binary-entry.js';
import { cacheKey, decodeEntry, encodeEntry, ENTRY_EXTENSION, openCache, optionsDigest, sampleDigest, type ResultCache } from '../../engine/explain/cache.js';
import { isExplainResult, restoreResult, storeResult } from '../../engine/explain/stored-result.js';
import { loadSampleSet } from '../../engine/inputs/samples.js';
import { ROOT, createEngine, model, type Engine } from '../helpers/index.js';
import { FEW_RUNS, PROPERTY_MS, RUNS } from './inputs/support.js';

const run = promisify(execFile);

/** The typed arrays an entry holds (cache.ts KINDS), as views that need not start at their buffer's first byte. */
const typedArrays = fc.oneof(
  fc.float64Array({ maxLength: 12 }),
  fc.int32Array({ maxLength: 12 }),
  fc.uint8Array({ maxLength: 24 }),
  fc.uint8Array({ minLength: 1, maxLength: 24 }).map((a) => a.subarray(1)),
  fc.float64Array({ minLength: 2, maxLength: 12 }).map((a) => a.subarray(1, -1 + a.length)),
);
/** Plain JSON leaves: finite numbers other than −0 (JSON has no −0, NaN or Infinity; typed arrays carry those). */
const leaves = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
  fc.integer(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  typedArrays,
);
/** Object keys: any string but "$typed" (the codec's marker) and "__proto__" (JSON.parse makes it an own key). */
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

const keys = fc.string({ maxLength: 8 }).filter((k) => k !== '$typed' && k !== '__proto__');
const entries = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaves, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(keys, tie('value'), { maxKeys: 5 }),
})).value;

/** A comparable form: typed arrays by their kind and bytes, so NaN payloads and −0 count, and views are compared by
 *  what they show. Object keys whose value is undefined are left out, as JSON leaves them out. */
function canonical(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return { kind: value.constructor.name, hex: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') };
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, canonical(v)]));
  if (typeof value === 'number' && Object.is(value, -0)) return '-0';
  return value;
}

/** decodeEntry, failing the test if it throws (it must answer a miss instead). */
function decodeOrMiss(text: string): unknown {
  try {
    return decodeEntry(text);
  } catch (error) {
    return expect.fail(`decodeEntry threw ${(error as Error)?.name}: ${(error as Error)?.message} on ${JSON.stringify(text.slice(0, 120))}`);
  }
}

/** Each codec as a round trip. */
const CODECS = [
  ['text', (value: unknown) => decodeEntry(encodeEntry(value))],
  ['binary', (value: unknown) => decodeBinaryEntry(encodeBinaryEntry(value))],
] as const;

describe.each(CODECS)('cache entries, %s (property)', (_codec, roundTrip) => {
  it('round-trip exactly: plain JSON values, and typed arrays bit for bit (views included)', () => {
    fc.assert(
      fc.property(entries, (value) => {
        const decoded = roundTrip(value);
        expect(canonical(decoded)).toEqual(canonical(value));
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('keep NaN (its payload too), ±Infinity and −0 inside typed arrays, where results hold them', () => {
    const x = Float64Array.of(NaN, Infinity, -Infinity, -0, 0, Number.MIN_VALUE, -Number.MAX_VALUE);
    new DataView(x.buffer).setBigUint64(0, 0x7ff8_0000_dead_beefn, true); // a NaN with a payload
    const decoded = roundTrip({ v: x }) as { v: Float64Array };
    expect(decoded.v).toBeInstanceOf(Float64Array);
    expect(Buffer.from(decoded.v.buffer).equals(Buffer.from(x.buffer))).toBe(true);
    expect(Object.is(decoded.v[3], -0)).toBe(true);
  });

  it('read plain numbers as JSON does: −0 comes back 0, NaN and ±Infinity come back null', () => {
    // an entry keeps non-finite values and −0 in typed arrays; a plain field would lose them, so results hold none
    expect(roundTrip({ a: -0, b: NaN, c: Infinity, d: [-Infinity] })).toEqual({ a: 0, b: null, c: null, d: [null] });
  });
});

/** decodeBinaryEntry, failing the test if it throws (it must answer a miss instead). */
function decodeBytesOrMiss(bytes: Uint8Array): unknown {
  try {
    return decodeBinaryEntry(bytes);
  } catch (error) {
    return expect.fail(`decodeBinaryEntry threw ${(error as Error)?.name}: ${(error as Error)?.message} on ${Buffer.from(bytes.subarray(0, 60)).toString('hex')}`);
  }
}

/** A binary entry with its header replaced and its checksum made right again: what a writer with other ideas (another
 *  byte order, a bug) would leave. Layout as binary-entry.ts: magic 8, sha256 32, header length 4, header, padding. */
function withHeader(entry: Buffer, edit: (header: { le: boolean; value: unknown }) => unknown): Buffer {
  const length = entry.readUInt32LE(40);
  const header = JSON.parse(entry.toString('utf8', 44, 44 + length)) as { le: boolean; value: unknown };
  const text = Buffer.from(JSON.stringify(edit(header)));
  const oldData = Math.ceil((44 + length) / 8) * 8;
  const newData = Math.ceil((44 + text.length) / 8) * 8;
  const out = Buffer.alloc(newData + entry.length - oldData);
  entry.copy(out, 0, 0, 8);
  out.writeUInt32LE(text.length, 40);
  text.copy(out, 44);
  entry.copy(out, newData, oldData);
  createHash('sha256').update(out.subarray(40)).digest().copy(out, 8);
  return out;
}

describe('binary cache entries that are not what encodeBinaryEntry wrote (property)', () => {
  it('any bytes decode to a value or a miss, never a throw', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // the magic, then anything
      fc.uint8Array({ maxLength: 200 }).map((rest) => Buffer.concat([Buffer.from('andorbn1'), rest])),
    );
    fc.assert(fc.property(bytes, (b) => void decodeBytesOrMiss(b)), RUNS);
  }, PROPERTY_MS);

  it('every strict prefix of an entry (a truncated write), and an entry with any byte changed, is a miss', () => {
    fc.assert(
      fc.property(fc.dictionary(keys, entries, { minKeys: 1, maxKeys: 4 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (value, at, flip) => {
        const entry = encodeBinaryEntry(value);
        expect(decodeBytesOrMiss(entry.subarray(0, at % entry.length))).toBeUndefined();
        const changed = Buffer.from(entry);
        changed[at % entry.length] ^= flip;
        expect(decodeBytesOrMiss(changed)).toBeUndefined();
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('an entry written in the other byte order, or whose arrays lie outside it, is a miss (its checksum right)', () => {
    const value = { v: Float64Array.of(1, 2, 3), w: [Int32Array.of(7)] };
    const entry = encodeBinaryEntry(value);
    // the helper itself: an unchanged header gives the same entry back
    expect(canonical(decodeBinaryEntry(withHeader(entry, (h) => h)))).toEqual(canonical(value));
    expect(decodeBinaryEntry(withHeader(entry, (h) => ({ ...h, le: !h.le })))).toBeUndefined();
    expect(decodeBinaryEntry(withHeader(entry, (h) => ({ value: h.value })))).toBeUndefined();
    // v's 24 bytes and w's 4 (padded to 8) make 32 bytes of arrays
    const placed = (at: unknown, length: unknown, kind: unknown = 'f64') => withHeader(entry, (h) => ({ ...h, value: { ...(h.value as object), v: { $typed: kind, at, length } } }));
    expect(canonical(decodeBinaryEntry(placed(0, 3)))).toEqual(canonical(value));
    for (const [at, length, kind] of [[0, 5], [16, 3], [4, 1], [-8, 1], [0, -1], [0.5, 1], ['0', 1], [0, 1e300], [0, 3, 'f32'], [0, 3, 'constructor']] as const) {
      expect(decodeBytesOrMiss(placed(at, length, kind)), `at ${at}, length ${length}, kind ${kind}`).toBeUndefined();
    }
  });
});

describe('cache entries that are not what encodeEntry wrote (property)', () => {
  it('any text decodes to a value or a miss, never a throw', () => {
    const texts = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.json(),
      fc.string({ unit: fc.constantFrom(...'{}[]":,$typed base64f64i32u8AQID=+/0123456789nul'.split('')), maxLength: 60 }),
    );
    fc.assert(fc.property(texts, (text) => void decodeOrMiss(text)), RUNS);
  }, PROPERTY_MS);

  it('every strict prefix of an entry (a truncated write) is a miss', () => {
    fc.assert(
      fc.property(fc.dictionary(keys, entries, { minKeys: 1, maxKeys: 4 }), fc.nat(), (value, at) => {
        const text = encodeEntry(value);
        expect(decodeOrMiss(text.slice(0, at % text.length))).toBeUndefined();
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('an entry with one character replaced, inserted or deleted anywhere decodes to a value or a miss, never a throw', () => {
    const edits = fc.tuple(fc.constantFrom('replace', 'insert', 'delete'), fc.nat(), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }));
    fc.assert(
      fc.property(fc.dictionary(keys, entries, { minKeys: 1, maxKeys: 4 }), edits, (value, [edit, at, char]) => {
        const text = encodeEntry(value);
        const i = at % text.length;
        const corrupted = edit === 'replace' ? text.slice(0, i) + char + text.slice(i + 1) : edit === 'insert' ? text.slice(0, i) + char + text.slice(i) : text.slice(0, i) + text.slice(i + 1);
        decodeOrMiss(corrupted);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('a typed array whose bytes do not fill whole elements, whose kind is unknown or whose base64 is not base64 is a miss', () => {
    const bad = fc.oneof(
      fc.tuple(fc.constantFrom('f64', 'i32'), fc.uint8Array({ minLength: 1, maxLength: 40 })).filter(([kind, bytes]) => bytes.length % (kind === 'f64' ? 8 : 4) !== 0).map(([kind, bytes]) => ({ $typed: kind, base64: Buffer.from(bytes).toString('base64') })),
      fc.tuple(fc.string({ maxLength: 12 }).filter((k) => !['f64', 'i32', 'u8'].includes(k)), fc.uint8Array({ maxLength: 16 })).map(([kind, bytes]) => ({ $typed: kind, base64: Buffer.from(bytes).toString('base64') })),
      fc.tuple(fc.constantFrom('f64', 'i32', 'u8'), fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/^[A-Za-z0-9+/]*={0,2}$/.test(s))).map(([kind, base64]) => ({ $typed: kind, base64 })),
      fc.tuple(fc.constantFrom('f64', 'i32', 'u8'), fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.nat()), fc.boolean())).map(([kind, base64]) => ({ $typed: kind, base64 })),
      // base64 by its alphabet but not canonical: the unused bits of the last character set (Buffer.from reads them
      // as the canonical string's bytes, so the entry would not be the one that was written)
      fc.uint8Array({ minLength: 1, maxLength: 40 }).filter((bytes) => bytes.length % 3 !== 0).map((bytes) => {
        const canonical = Buffer.from(bytes).toString('base64');
        const last = canonical.replace(/=+$/, '').length - 1;
        const flipped = BASE64_ALPHABET[BASE64_ALPHABET.indexOf(canonical[last]) | 1];
        return { $typed: 'u8', base64: canonical.slice(0, last) + flipped + canonical.slice(last + 1) };
      }),
    );
    fc.assert(
      fc.property(bad, fc.boolean(), (packed, nested) => {
        expect(decodeOrMiss(JSON.stringify(nested ? { v: [1, { inner: packed }] } : packed))).toBeUndefined();
      }),
      RUNS,
    );
  }, PROPERTY_MS);
});

describe('the cache folder with corrupted entries (property)', () => {
  let dir: string;
  let cache: ResultCache;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andor-cache-codec-'));
    cache = (await openCache(join(dir, 'cache')))!;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('answers any bytes in an entry\'s file with a miss or an entry its reader accepts, never a throw', async () => {
    const key = cacheKey('explain', 'corrupted');
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.json().map((t) => new TextEncoder().encode(t)));
    await fc.assert(
      fc.asyncProperty(bytes, async (content) => {
        await writeFile(join(cache.dir, `${key}${ENTRY_EXTENSION}`), content);
        const hit = await cache.get(key, isExplainResult);
        expect(hit === undefined || isExplainResult(hit)).toBe(true);
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);

  it('answers an entry with any one byte changed with a miss, not other numbers, and ignores a text entry of the format before', async () => {
    const key = cacheKey('explain', 'flipped');
    const isV = (v: unknown): v is { v: Float64Array } => (v as { v?: unknown })?.v instanceof Float64Array;
    const values = Float64Array.from({ length: 64 }, (_, i) => Math.sin(i) * 1e3);
    await cache.put(key, { v: values });
    const path = join(cache.dir, `${key}${ENTRY_EXTENSION}`);
    const written = await readFile(path);
    expect(Array.from((await cache.get(key, isV))!.v)).toEqual(Array.from(values));
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: written.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, flip) => {
        const changed = Buffer.from(written);
        changed[at] ^= flip;
        await writeFile(path, changed);
        expect(await cache.get(key, isV)).toBeUndefined();
      }),
      FEW_RUNS,
    );
    // the text format (cache version 4) under the entry's name is a miss, and is then rewritten
    await writeFile(path, `andor-entry sha256:${createHash('sha256').update(encodeEntry({ v: values })).digest('hex')}\n${encodeEntry({ v: values })}`);
    expect(await cache.get(key, isV)).toBeUndefined();
    await cache.put(key, { v: values });
    expect(Array.from((await cache.get(key, isV))!.v)).toEqual(Array.from(values));
  }, PROPERTY_MS);

  it('writes the same key from many writers at once without losing the entry (unique temporary files)', async () => {
    const key = cacheKey('explain', 'raced');
    await Promise.all(Array.from({ length: 16 }, (_, i) => cache.put(key, { v: Float64Array.of(i, i) })));
    const hit = await cache.get(key, (v): v is { v: Float64Array } => (v as { v?: unknown })?.v instanceof Float64Array);
    expect(hit?.v[0]).toBe(hit?.v[1]);
  });
});

describe('cache keys (property)', () => {
  const hex = fc.stringMatching(/^[0-9a-f]{64}$/);

  it('are the same for the same parts and differ when any part differs', () => {
    fc.assert(
      fc.property(fc.array(hex, { minLength: 1, maxLength: 4 }), fc.nat(), hex, (parts, at, other) => {
        expect(cacheKey('explain', ...parts)).toBe(cacheKey('explain', ...[...parts]));
        const changed = parts.map((p, i) => (i === at % parts.length ? other : p));
        if (changed[at % parts.length] !== parts[at % parts.length]) expect(cacheKey('explain', ...changed)).not.toBe(cacheKey('explain', ...parts));
        expect(cacheKey('dynamics', ...parts)).not.toBe(cacheKey('explain', ...parts));
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('hold a sample by content: the same values give the same digest, any changed element another', () => {
    fc.assert(
      fc.property(fc.float64Array({ minLength: 1, maxLength: 16, noNaN: true }), fc.nat(), fc.double({ noNaN: true }), (values, at, x) => {
        const i = at % values.length;
        expect(sampleDigest({ values: Float64Array.from(values) })).toBe(sampleDigest({ values }));
        const changed = Float64Array.from(values);
        changed[i] = x;
        if (!Object.is(changed[i], values[i])) expect(sampleDigest({ values: changed })).not.toBe(sampleDigest({ values }));
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('hold options by content: a file path ("source") is left out, the rows read from it are not', () => {
    const rows = (shift: number) => ({ source: '/same/path.json', samples: [{ values: Float64Array.of(1 + shift, 2) }] });
    expect(optionsDigest({ reference: rows(0) })).toBe(optionsDigest({ reference: { ...rows(0), source: '/another/path.json' } }));
    expect(optionsDigest({ reference: rows(1) })).not.toBe(optionsDigest({ reference: rows(0) }));
  });
});

describe('cache entries of real results', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0 });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it.each([
    ['tabular', { model: model('breast-cancer-mlp.onnx'), sample: model('breast-cancer.samples.json'), players: '0-5', iterations: 200 }],
    ['text', { model: model('token-transformer.onnx'), sample: model('tokens.samples.json'), modality: 'text', players: '0-5', maskToken: 1, iterations: 200 }],
    ['image', { model: model('digits-cnn.onnx'), sample: model('digits.samples.json'), modality: 'image', grid: '2x2', iterations: 200 }],
  ] as const)('round-trip a %s explain result exactly, and are accepted as one, plain and in their stored form', async (_what, request) => {
    const result = await engine.explain(request as never);
    const sample = (await loadSampleSet(request.sample)).samples[0];
    for (const [codec, roundTrip] of CODECS) {
      const decoded = roundTrip(result);
      expect(isExplainResult(decoded), codec).toBe(true);
      expect(canonical(decoded), codec).toEqual(canonical(result));
      const restored = restoreResult({ sample, model: { file: result.model?.file } }, roundTrip(storeResult(sample, result, 'k')), 'k');
      expect(canonical(restored), codec).toEqual(canonical(result));
      // the model file is the reader's (the same bytes under another path: it named the first writer's path)
      expect(restoreResult({ sample, model: { file: 'elsewhere/model.onnx' } }, roundTrip(storeResult(sample, result, 'k')), 'k')!.model?.file).toBe('elsewhere/model.onnx');
      // an exact result's parts that every reader takes as they are: one missing or of the wrong type is no result
      // (an adversarial sweep, stop 44: a queue row without them ended every later run with "unexpected error")
      for (const damage of [(r: Record<string, unknown>) => delete r.decomposition, (r: Record<string, unknown>) => (r.matching = 3), (r: Record<string, unknown>) => (r.threshold = 'x'), (r: Record<string, unknown>) => delete (r.indices as Record<string, unknown>).stii]) {
        const stored = roundTrip(storeResult(sample, result, 'k')) as Record<string, unknown>;
        damage(stored);
        expect(restoreResult({ sample, model: {} }, stored, 'k'), `${codec}: ${damage}`).toBeUndefined();
      }
    }
  });
});

describe('a cache entry that cannot be written whole', () => {
  it('removes the temporaries of writes that never ended (older than an hour) when the cache opens, and nothing else (an adversarial sweep, stop 48)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'andor-cache-stale-'));
    try {
      const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);
      const files = { stale: `${'a'.repeat(64)}.bin.4242.0a1b2c3d4e5f.tmp`, fresh: `${'b'.repeat(64)}.bin.4243.0a1b2c3d4e5f.tmp`, entry: `${'c'.repeat(64)}.bin`, other: 'notes.tmp' };
      for (const name of Object.values(files)) await writeFile(join(dir, name), 'x');
      for (const name of [files.stale, files.entry, files.other]) await utimes(join(dir, name), hoursAgo(2), hoursAgo(2));
      await openCache(dir);
      expect((await readdir(dir)).sort()).toEqual([files.fresh, files.entry, files.other].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves no partial file behind when the write fails (a file-size limit: EFBIG, as a full disk gives ENOSPC; an adversarial sweep, stop 48)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'andor-cache-full-'));
    try {
      // the child's files may hold 16 blocks (8 KiB): an entry of 800 KB fails part-way through its write
      const script = `import { openCache } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/engine/explain/cache.js')).href)};
        const cache = await openCache(process.argv[1], 'cacheDir');
        await cache.put('${'k'.repeat(64)}', { v: new Float64Array(100000) }).then(() => console.log('written'), (e) => console.log(e.code));`;
      const { stdout } = await run('bash', ['-c', 'ulimit -f 16 && exec "$0" --input-type=module -e "$1" "$2"', process.execPath, script, dir]);
      expect(stdout.trim()).toBe('EFBIG');
      expect(await readdir(dir, { recursive: true })).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
