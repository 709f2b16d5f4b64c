// Game values: 2^n finite numbers round-trip through inline JSON, JSON files of any extension, .npy and raw float64;
// random bytes are either exactly their raw float64 reading or a typed error; NaN / ±Inf / null name their index.
import { truncate } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, NonFiniteError, ShapeMismatchError } from '../../../engine/contracts/errors.js';
import { firstSignificantChar, isText } from '../../../engine/inputs/read.js';
import { loadValues } from '../../../engine/inputs/samples.js';
import { FAST_MS, FEW_RUNS, PROPERTY_MS, RUNS, npyBytes, resultOrTypedError, typedError, useTempDir } from './support.js';

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const game = fc.integer({ min: 0, max: 6 }).chain((n) => fc.array(finite, { minLength: 2 ** n, maxLength: 2 ** n }));
const rawBytes = (values: readonly number[]) => new Uint8Array(Float64Array.from(values).buffer);

describe('game values (property)', () => {
  const files = useTempDir('values');

  it('round-trip exactly through every format the loader reads', async () => {
    await fc.assert(
      fc.asyncProperty(game, fc.constantFrom('.f64', '.bin', '.dat', ''), async (values, ext) => {
        const plain = values.map((v) => (Object.is(v, -0) ? 0 : v)); // JSON prints -0 as 0
        const json = JSON.stringify(plain);
        expect(Array.from(await loadValues(json))).toEqual(plain);
        expect(Array.from(await loadValues(await files.write('v.json', json)))).toEqual(plain);
        expect(Array.from(await loadValues(await files.write(`j${ext}`, `\ufeff\n ${json}`)))).toEqual(plain);
        expect(Array.from(await loadValues(await files.write('v.npy', npyBytes(values, [values.length]))))).toEqual(values);
        expect(Array.from(await loadValues(await files.write(`n${ext}`, npyBytes(values, [values.length]))))).toEqual(values);
        // a raw float64 file made only of printable ASCII bytes reads as text (see isText); vanishingly rare
        fc.pre(!isText(rawBytes(values), true));
        expect(Array.from(await loadValues(await files.write(`r${ext}`, rawBytes(values))))).toEqual(values);
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);

  it('take a 2×2×…×2 tensor (or axes of length 1) as the flat list, and refuse any other shape (an adversarial sweep, stop 45)', async () => {
    // a 2×4 array (two 2-player games) was read as one game of 3 players, from JSON and .npy alike
    const nest = (flat: readonly number[], shape: readonly number[]): unknown =>
      shape.length <= 1 ? [...flat] : Array.from({ length: shape[0] }, (_, k) => nest(flat.slice((k * flat.length) / shape[0], ((k + 1) * flat.length) / shape[0]), shape.slice(1)));
    const shaped = fc.array(fc.constantFrom<number>(1, 2, 4), { minLength: 1, maxLength: 4 }).filter((shape) => shape.reduce((a, b) => a * b, 1) >= 2);
    await fc.assert(
      fc.asyncProperty(shaped, async (shape) => {
        const count = shape.reduce((a, b) => a * b, 1);
        const flat = Array.from({ length: count }, (_, k) => k + 0.5);
        const axes = shape.filter((d) => d !== 1);
        const game = axes.length <= 1 || axes.every((d) => d === 2);
        for (const load of [() => loadValues(JSON.stringify(nest(flat, shape))), async () => loadValues(await files.write('t.npy', npyBytes(flat, shape)))]) {
          if (game) expect(Array.from(await load())).toEqual(flat);
          else await expect(load()).rejects.toThrowError(new RegExp(`has shape ${shape.join('×')}: a game's values are a flat list of 2\\^n numbers`));
        }
      }),
      FEW_RUNS,
    );
    await expect(loadValues('[[0, 1, 2, 5], [0, 2, 1, 5]]')).rejects.toThrowError(ShapeMismatchError);
  }, PROPERTY_MS);

  it('read random bytes as exactly their raw float64 values, or refuse them with a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 128 }), async (bytes) => {
        const outcome = await resultOrTypedError(async () => loadValues(await files.write('r.bin', bytes)));
        if (!outcome.ok) return;
        // UTF-8 text that opens with "[" or "{" is read as JSON, whose count is the caller's to check ("[0]": one value,
        // its 3 bytes no float64s; "[]": none); other UTF-8 that is not ASCII may be raw float64s (loadValues' rules)
        const lead = firstSignificantChar(bytes);
        if ((lead === '[' || lead === '{') && isText(bytes, false)) {
          expect(Array.from(outcome.value)).toEqual(JSON.parse(new TextDecoder().decode(bytes).replace(/^\ufeff/, '')));
          return;
        }
        expect(Array.from(outcome.value)).toEqual(Array.from(new Float64Array(Uint8Array.from(bytes).buffer)));
        expect(Number.isInteger(Math.log2(outcome.value.length))).toBe(true); // a raw file of 2^n float64s
      }),
      // "[0]" and "[]": text (the test read their bytes as float64s and threw a RangeError; stop 35); six blanks and
      // U+0080: UTF-8 that is not JSON, read as one float64 (the test took it for JSON; CI, stop 39)
      {
        ...RUNS,
        examples: [[Uint8Array.from([0x5b, 0x30, 0x5d])], [Uint8Array.from([0x5b, 0x5d])], [Uint8Array.from([32, 32, 32, 32, 32, 32, 0xc2, 0x80])]],
      },
    );
  }, PROPERTY_MS);

  it('name the index of the first non-finite value, in every format', async () => {
    const bad = game.chain((values) => fc.tuple(fc.constant(values), fc.nat({ max: values.length - 1 }), fc.constantFrom(NaN, Infinity, -Infinity)));
    await fc.assert(
      fc.asyncProperty(bad, async ([values, at, value]) => {
        const broken = [...values];
        broken[at] = value;
        const texts = broken.map((v) => (Number.isFinite(v) ? JSON.stringify(v) : Number.isNaN(v) ? 'null' : v > 0 ? '1e400' : '-1e400'));
        for (const source of [`[${texts.join(',')}]`, await files.write('b.npy', npyBytes(broken, [broken.length])), await files.write('b.f64', rawBytes(broken))]) {
          const error = await typedError(() => loadValues(source));
          expect(error).toBeInstanceOf(NonFiniteError);
          expect(error.message).toContain(`non-finite value at index ${at}`);
        }
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);

  it('refuse a raw file whose count is not a power of two, and leave JSON / .npy counts to the caller', async () => {
    const counts = fc.integer({ min: 1, max: 70 }).filter((c) => !Number.isInteger(Math.log2(c)));
    await fc.assert(
      fc.asyncProperty(counts, async (count) => {
        const values = Array.from({ length: count }, (_, i) => i / 3);
        const error = await typedError(async () => loadValues(await files.write('c.f64', rawBytes(values))));
        expect(error).toBeInstanceOf(ShapeMismatchError);
        expect(error.message).toMatch(new RegExp(`holds ${count} raw float64 values; a game needs 2\\^n`));
        // explainValues checks these counts with the player limits ("The values vector has 3 values")
        expect(await loadValues(JSON.stringify(values))).toHaveLength(count);
        expect(await loadValues(await files.write('c.npy', npyBytes(values, [count])))).toHaveLength(count);
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);
});

describe('game values (regressions)', () => {
  const files = useTempDir('values-regress');

  it('reads JSON text in a .bin file as JSON, not as float64', async () => {
    expect(Array.from(await loadValues(await files.write('v.bin', '[1, 2, 3, 4]')))).toEqual([1, 2, 3, 4]);
    expect(Array.from(await loadValues(await files.write('w.bin', '  [[0, 1],\r\n [1, 2]]\n')))).toEqual([0, 1, 1, 2]);
    const broken = await typedError(async () => loadValues(await files.write('x.bin', '[1, 2, 3,]')));
    expect(broken).toBeInstanceOf(InvalidInputError);
    expect(broken.message).toMatch(/is not valid JSON/);
  });

  it('refuses text that is not JSON rather than reading it as float64', async () => {
    const csv = await files.write('c.bin', '0,1,1,2,0,1,1,2\n'); // 16 bytes: two "float64s" before the fix
    expect((await typedError(() => loadValues(csv))).message).toMatch(/is text but not a JSON array/);
    expect((await typedError(async () => loadValues(await files.write('o.bin', '{"v": [1, 2]}')))).message).toMatch(/must be a JSON array of 2\^n numbers/);
  });

  it('refuses raw float64 of a wrong byte length or count, and empty files', async () => {
    const seven = await files.write('s.f64', Uint8Array.of(1, 2, 3, 4, 5, 6, 0x80));
    expect(await typedError(() => loadValues(seven))).toBeInstanceOf(ShapeMismatchError);
    const three = await files.write('t.f64', rawBytes([0.5, 1.5, 2.5]));
    expect((await typedError(() => loadValues(three))).message).toMatch(/holds 3 raw float64 values; a game needs 2\^n/);
    expect((await typedError(async () => loadValues(await files.write('e.f64', '')))).message).toMatch(/is empty/);
  });

  it('reports NaN, null, strings and overflow with their index', async () => {
    expect((await typedError(() => loadValues('[0, 1, null, 2]'))).message).toMatch(/non-finite value at index 2 \(null\)/);
    expect((await typedError(() => loadValues('[0, 1e400]'))).message).toMatch(/non-finite value at index 1 \(Infinity\)/);
    expect((await typedError(() => loadValues('[0, "NaN"]'))).message).toMatch(/non-finite value at index 1 \("NaN"\)/);
    expect((await typedError(() => loadValues('[0, "1"]'))).message).toMatch(/the string "1" at index 1; values must be numbers, written without quotes/);
    expect((await typedError(() => loadValues('[[0, 1], [2, null]]'))).message).toMatch(/index 3 \(\[1\]\[1\]\)/);
    expect((await typedError(() => loadValues('[0, true]'))).message).toMatch(/holds true at index 1/);
    expect(await typedError(() => loadValues('[[0, 1], [2]]'))).toBeInstanceOf(ShapeMismatchError);
  });

  it('refuses a file over the binary cap before reading it', async () => {
    const file = await files.write('big.f64', '');
    await truncate(file, 2 ** 31); // sparse
    const started = performance.now();
    expect((await typedError(() => loadValues(file))).message).toMatch(/is too large \(2048.0 MiB\); andor reads at most 2048 MiB/);
    expect(performance.now() - started).toBeLessThan(FAST_MS);
  });

  it('refuses a source that is not a string or not a file', async () => {
    expect(await typedError(() => loadValues(42 as unknown as string))).toBeInstanceOf(InvalidInputError);
    expect((await typedError(() => loadValues(files.path('')))).message).toMatch(/is a directory/);
  });
});
