// The result cache's codec and keys (engine/explain/cache.ts): entries round-trip exactly (typed arrays bit for bit,
// NaN, ±Infinity and −0 included), any text decodes to a value or a miss and never throws, corrupted entries on disk
// are misses, and keys change with the content of every part (issue 10: 3, 4, 9f).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKey, decodeEntry, encodeEntry, openCache, optionsDigest, sampleDigest, type ResultCache } from '../../engine/explain/cache.js';
import { isExplainResult } from '../../engine/explain/units.js';
import { createEngine, model, type Engine } from '../helpers/index.js';
import { FEW_RUNS, PROPERTY_MS, RUNS } from './inputs/support.js';

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

describe('cache entries (property)', () => {
  it('round-trip exactly: plain JSON values, and typed arrays bit for bit (views included)', () => {
    fc.assert(
      fc.property(entries, (value) => {
        const decoded = decodeEntry(encodeEntry(value));
        expect(canonical(decoded)).toEqual(canonical(value));
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('keep NaN (its payload too), ±Infinity and −0 inside typed arrays, where results hold them', () => {
    const x = Float64Array.of(NaN, Infinity, -Infinity, -0, 0, Number.MIN_VALUE, -Number.MAX_VALUE);
    new DataView(x.buffer).setBigUint64(0, 0x7ff8_0000_dead_beefn, true); // a NaN with a payload
    const decoded = decodeEntry(encodeEntry({ v: x })) as { v: Float64Array };
    expect(decoded.v).toBeInstanceOf(Float64Array);
    expect(Buffer.from(decoded.v.buffer).equals(Buffer.from(x.buffer))).toBe(true);
    expect(Object.is(decoded.v[3], -0)).toBe(true);
  });

  it('read plain numbers as JSON does: −0 comes back 0, NaN and ±Infinity come back null', () => {
    // an entry keeps non-finite values and −0 in typed arrays; a plain field would lose them, so results hold none
    expect(decodeEntry(encodeEntry({ a: -0, b: NaN, c: Infinity, d: [-Infinity] }))).toEqual({ a: 0, b: null, c: null, d: [null] });
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
        await writeFile(join(cache.dir, `${key}.json`), content);
        const hit = await cache.get(key, isExplainResult);
        expect(hit === undefined || isExplainResult(hit)).toBe(true);
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);

  it('answers an entry with any one character of its typed arrays\' base64 changed with a miss, not other numbers', async () => {
    const key = cacheKey('explain', 'flipped');
    const isV = (v: unknown): v is { v: Float64Array } => (v as { v?: unknown })?.v instanceof Float64Array;
    const values = Float64Array.from({ length: 64 }, (_, i) => Math.sin(i) * 1e3);
    await cache.put(key, { v: values });
    const path = join(cache.dir, `${key}.json`);
    const written = await readFile(path, 'utf8');
    expect(Array.from((await cache.get(key, isV))!.v)).toEqual(Array.from(values));
    const base64 = /"base64":"([^"]+)"/.exec(written)!;
    const start = base64.index + '"base64":"'.length;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: base64[1].length - 3 }), fc.constantFrom(...BASE64_ALPHABET), async (at, char) => {
        fc.pre(written[start + at] !== char);
        const flipped = written.slice(0, start + at) + char + written.slice(start + at + 1);
        // the flipped text alone still decodes, to an entry its reader would take: only the checksum refuses it
        await writeFile(path, flipped);
        expect(await cache.get(key, isV)).toBeUndefined();
      }),
      FEW_RUNS,
    );
    // an entry of the format before checksums (the encoded entry alone) is a miss too, and is then rewritten
    await writeFile(path, written.slice(written.indexOf('\n') + 1));
    expect(await cache.get(key, isV)).toBeUndefined();
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
  ] as const)('round-trip a %s explain result exactly, and are accepted as one', async (_what, request) => {
    const result = await engine.explain(request as never);
    const decoded = decodeEntry(encodeEntry(result));
    expect(isExplainResult(decoded)).toBe(true);
    expect(canonical(decoded)).toEqual(canonical(result));
  });
});
