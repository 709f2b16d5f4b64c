// .npy files: every supported dtype, byte order and format version round-trips exactly; truncated, mutated and
// random files end in a typed error (or, for a mutation that still makes a valid file, in a self-consistent array).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, NonFiniteError, ShapeMismatchError } from '../../../engine/contracts/errors.js';
import { loadSampleSet, loadValues, parseNpy } from '../../../engine/inputs/samples.js';
import { FEW_RUNS, NPY_DTYPES, PROPERTY_MS, RUNS, npyBytes, resultOrTypedError, typedError, useTempDir } from './support.js';

/** Values valid for a dtype (exact in float64 and in the dtype). */
function elementOf(kind: string, bytes: number): fc.Arbitrary<number> {
  if (kind === 'f') return bytes === 8 ? fc.double({ noNaN: true, noDefaultInfinity: true }) : fc.float({ noNaN: true, noDefaultInfinity: true }).map(Math.fround);
  if (kind === 'b') return fc.constantFrom(0, 1);
  if (bytes === 8) return kind === 'u' ? fc.maxSafeNat() : fc.maxSafeInteger();
  if (bytes === 4) return kind === 'u' ? fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([high, low]) => high * 65536 + low) : fc.integer();
  const half = 2 ** (bytes * 8 - 1);
  return kind === 'u' ? fc.integer({ min: 0, max: 2 * half - 1 }) : fc.integer({ min: -half, max: half - 1 });
}

const arrays = fc.record({
  dtype: fc.constantFrom(...NPY_DTYPES),
  order: fc.constantFrom('<', '>'),
  version: fc.constantFrom(1, 2, 3) as fc.Arbitrary<1 | 2 | 3>,
  shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 }),
}).chain(({ dtype, order, version, shape }) => {
  const count = shape.reduce((a, b) => a * b, 1);
  const descr = `${dtype[1] === 1 ? '|' : order}${dtype[0]}${dtype[1]}`;
  return fc.record({
    descr: fc.constant(descr),
    version: fc.constant(version),
    shape: fc.constant(shape),
    values: fc.array(elementOf(dtype[0], dtype[1]), { minLength: count, maxLength: count }),
  });
});

describe('.npy (property)', () => {
  const files = useTempDir('npy');

  it('round-trips every supported dtype, byte order, version and shape', () => {
    fc.assert(
      fc.property(arrays, ({ descr, version, shape, values }) => {
        const parsed = parseNpy(npyBytes(values, shape, descr, { version }), 'a.npy');
        expect(parsed.shape).toEqual(shape);
        expect(Array.from(parsed.data)).toEqual(values.map((v) => (Object.is(v, -0) ? -0 : v)));
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('round-trips through files as sample rows: 1-D is one sample, N-D is N rows', async () => {
    await fc.assert(
      fc.asyncProperty(arrays, async ({ descr, version, shape, values }) => {
        const file = await files.write('s.npy', npyBytes(values, shape, descr, { version }));
        const set = await loadSampleSet(file);
        const rows = shape.length <= 1 ? 1 : shape[0];
        const size = values.length / rows;
        expect(set.samples.map((s) => Array.from(s.values as Float64Array))).toEqual(Array.from({ length: rows }, (_, r) => values.slice(r * size, (r + 1) * size)));
        for (const s of set.samples) expect(s.shape).toEqual(shape.length <= 1 ? shape : shape.slice(1));
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);

  it('answers every truncation of a valid file with a typed error', async () => {
    const cut = arrays.chain((a) => {
      const bytes = npyBytes(a.values, a.shape, a.descr, { version: a.version });
      return fc.tuple(fc.constant(bytes), fc.nat({ max: bytes.length - 1 }));
    });
    await fc.assert(
      fc.asyncProperty(cut, async ([bytes, length]) => {
        const error = await typedError(() => parseNpy(bytes.subarray(0, length), 't.npy'));
        expect(error.message).toContain('t.npy');
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers a mutated byte with a typed error or an array whose size fits its shape', async () => {
    const mutated = arrays.chain((a) => {
      const bytes = npyBytes(a.values, a.shape, a.descr, { version: a.version });
      return fc.tuple(fc.constant(bytes), fc.nat({ max: Math.min(bytes.length - 1, 140) }), fc.integer({ min: 0, max: 255 }));
    });
    await fc.assert(
      fc.asyncProperty(mutated, async ([bytes, at, byte]) => {
        const copy = Uint8Array.from(bytes);
        copy[at] = byte;
        const outcome = await resultOrTypedError(() => parseNpy(copy, 'm.npy'));
        if (outcome.ok) expect(outcome.value.data.length).toBe(outcome.value.shape.reduce((a, b) => a * b, 1));
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers random bytes behind a valid magic with a typed error, never a foreign one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (tail) => {
        const bytes = new Uint8Array(6 + tail.length);
        bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
        bytes.set(tail, 6);
        await resultOrTypedError(() => parseNpy(bytes, 'r.npy'));
        const file = await files.write('r.npy', bytes);
        await resultOrTypedError(() => loadSampleSet(file));
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);
});

describe('.npy (regressions)', () => {
  const files = useTempDir('npy-regress');
  const header = (text: string) => npyBytes([1, 2], [2], '<f8', { header: text });

  it.each([
    ['bad magic', new TextEncoder().encode('hello'), InvalidInputError, /not a .npy file \(bad magic number/],
    ['truncated preamble', Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0), InvalidInputError, /truncated .npy file: 8 bytes/],
    ['version 4.0', (() => { const b = npyBytes([1], [1]); b[6] = 4; return b; })(), InvalidInputError, /version 4.0; supported versions are 1.0, 2.0 and 3.0/],
    ['header length beyond the file', (() => { const b = npyBytes([1], [1]); b[8] = 0xff; b[9] = 0xff; return b; })(), InvalidInputError, /header claims 65535 bytes/],
    ['unknown dtype', npyBytes([1, 2], [2], '<c16'), InvalidInputError, /dtype "<c16" is not supported. Expected one of: <f8/],
    ['object dtype', header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"), InvalidInputError, /dtype "\|O" is not supported/],
    ['structured dtype', header("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }"), InvalidInputError, /structured dtypes/],
    ['no byte order', header("{'descr': '|f8', 'fortran_order': False, 'shape': (2,), }"), InvalidInputError, /no explicit byte order/],
    ['missing key', header("{'descr': '<f8', 'shape': (2,), }"), InvalidInputError, /keys \{descr, shape\}, expected exactly/],
    ['extra key', header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}"), InvalidInputError, /expected a string, True, False or a tuple/],
    ['garbage header', header('not a dict at all'), InvalidInputError, /cannot read the .npy header/],
    ['shape larger than the data', header("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"), ShapeMismatchError, /is truncated: shape \(3,\) of <f8 needs 24 data bytes, but 16 follow/],
    ['shape smaller than the data', header("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }"), ShapeMismatchError, /longer than its header says/],
    ['absurd shape', header("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"), ShapeMismatchError, /more data than any file holds/],
    ['fortran order', npyBytes([1, 2, 3, 4], [2, 2], '<f8', { fortran: true }), InvalidInputError, /Fortran order; save it with np.save\(path, np.ascontiguousarray\(a\)\)/],
    ['int64 beyond 2^53', npyBytes([2 ** 53 + 2], [1], '<i8'), InvalidInputError, /element 0 is 9007199254740994, beyond ±2\^53/],
  ])('refuses a file with %s', async (_, bytes, Class, message) => {
    const file = await files.write('c.npy', bytes);
    const error = await typedError(() => loadSampleSet(file));
    expect(error).toBeInstanceOf(Class);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(file);
  });

  it('reads big-endian data and one-dim Fortran-order arrays', () => {
    expect(Array.from(parseNpy(npyBytes([1.5, -2], [2], '>f8'), 'b.npy').data)).toEqual([1.5, -2]);
    expect(Array.from(parseNpy(npyBytes([7, -8], [2], '>i4'), 'b.npy').data)).toEqual([7, -8]);
    expect(Array.from(parseNpy(npyBytes([1, 2, 3], [3], '<f8', { fortran: true }), 'f.npy').data)).toEqual([1, 2, 3]);
  });

  it('reports NaN in samples and values as a NonFiniteError naming where', async () => {
    const samples = await files.write('n.npy', npyBytes([1, 2, 3, NaN], [2, 2]));
    const error = await typedError(() => loadSampleSet(samples));
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(error.message).toMatch(/row 1, element 1 is NaN/);
    const values = await files.write('v.npy', npyBytes([0, Infinity, 1, 2], [4]));
    expect((await typedError(() => loadValues(values))).message).toMatch(/non-finite value at index 1 \(Infinity\)/);
  });

  it('refuses an empty array', async () => {
    const file = await files.write('e.npy', npyBytes([], [0, 3]));
    expect((await typedError(() => loadSampleSet(file))).message).toMatch(/holds no values/);
  });
});
