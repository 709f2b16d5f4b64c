// JSON samples and sample sets: tensors and sample-set files round-trip exactly (inline, .json and sniffed from any
// extension); ragged, mixed, deep, empty and mistyped inputs end in a typed error naming where, never a foreign one.
import { truncate } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, NonFiniteError, ShapeMismatchError } from '../../../engine/contracts/errors.js';
import { MAX_NESTING_DEPTH, MAX_SAMPLES, MAX_TEXT_BYTES } from '../../../engine/inputs/limits.js';
import { checkSample, flattenNumbers, loadSampleSet, parseJson, pickSample, type SampleSet } from '../../../engine/inputs/samples.js';
import { FAST_MS, FEW_RUNS, PROPERTY_MS, RUNS, npyBytes, resultOrTypedError, typedError, useTempDir } from './support.js';

/** -0 prints as 0 in JSON, so tensors are generated without it. */
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v));

/** Nests flat values into the given shape (row-major). */
function nest(values: readonly number[], shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  const size = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nest(values.slice(i * size, (i + 1) * size), shape.slice(1)));
}

const tensor = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((shape) => {
  const count = shape.reduce((a, b) => a * b, 1);
  return fc.record({ shape: fc.constant(shape), values: fc.array(finite, { minLength: count, maxLength: count }) });
});

const tokenName = fc.string({ maxLength: 6 });
/** A feature or class name: not empty or blank (refused, as a CSV header's empty column is). */
const name = (maxLength: number) => fc.string({ minLength: 1, maxLength }).filter((s) => s.trim() !== '');
const sampleSet = fc.record({ width: fc.integer({ min: 1, max: 5 }), count: fc.integer({ min: 1, max: 5 }), classes: fc.integer({ min: 1, max: 4 }) }).chain(({ width, count, classes }) =>
  fc.record({
    features: fc.option(fc.uniqueArray(name(8), { minLength: width, maxLength: width }), { nil: undefined }),
    classes: fc.uniqueArray(name(5), { minLength: classes, maxLength: classes }),
    samples: fc.array(
      fc.record(
        {
          x: fc.array(finite, { minLength: width, maxLength: width }),
          label: fc.nat({ max: classes - 1 }),
          id: fc.string({ maxLength: 8 }),
          split: fc.constantFrom('train', 'test', 'ood'),
          tokens: fc.array(tokenName, { maxLength: 4 }),
        },
        { requiredKeys: ['x'] },
      ),
      { minLength: count, maxLength: count },
    ),
  }),
);

/** What a set must satisfy whenever loading succeeds: ≥ 1 sample, finite values, one shape. */
function expectWellFormed(set: SampleSet): void {
  expect(set.samples.length).toBeGreaterThan(0);
  const lengths = new Set<string>();
  for (const sample of set.samples) {
    const arrays = sample.values instanceof Float64Array ? [sample.values] : Object.values(sample.values);
    for (const a of arrays) for (const v of a) expect(Number.isFinite(v)).toBe(true);
    if (sample.values instanceof Float64Array) lengths.add(`${sample.values.length}`);
  }
  expect(lengths.size).toBeLessThanOrEqual(1);
}

describe('JSON samples (property)', () => {
  const files = useTempDir('samples');

  it('round-trips a nested tensor as one sample: inline, .json, and JSON under another extension', async () => {
    await fc.assert(
      fc.asyncProperty(tensor, fc.constantFrom('.json', '.txt', '.data', ''), async ({ shape, values }, ext) => {
        const text = JSON.stringify({ x: nest(values, shape) });
        for (const source of [text, await files.write(`t${ext}`, `\ufeff ${text}\r\n`)]) {
          const set = await loadSampleSet(source);
          expect(set.samples).toHaveLength(1);
          expect(Array.from(set.samples[0].values as Float64Array)).toEqual(values);
          expect(set.samples[0].shape).toEqual(shape);
        }
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);

  it('round-trips a sample-set file: rows, features, classes, labels, ids, splits, tokens', async () => {
    await fc.assert(
      fc.asyncProperty(sampleSet, async (written) => {
        const set = await loadSampleSet(await files.write('s.json', JSON.stringify(written)));
        expect(set.features).toEqual(written.features);
        expect(set.classes).toEqual(written.classes);
        written.samples.forEach((s, i) => {
          const read = pickSample(set, i);
          expect(Array.from(read.values as Float64Array)).toEqual(s.x);
          expect([read.label, read.id, read.split, read.tokens]).toEqual([s.label, s.id, s.split, s.tokens]);
        });
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);

  it('refuses a tensor made ragged at any level with a ShapeMismatchError naming the depth', () => {
    // an array at depth ≥ 1 (so it has siblings: shape[depth − 1] > 1) grows or shrinks by one entry
    const ragged = tensor
      .filter((t) => t.shape.slice(0, -1).some((d) => d > 1))
      .chain((t) => fc.tuple(fc.constant(t), fc.constantFrom(...t.shape.flatMap((d, i) => (i < t.shape.length - 1 && d > 1 ? [i + 1] : []))), fc.boolean(), fc.nat()));
    fc.assert(
      fc.property(ragged, ([{ shape, values }, depth, grow, pick]) => {
        const nested = nest(values, shape) as unknown[];
        let target = nested;
        for (let d = 0; d < depth; d++) target = target[pick % target.length] as unknown[];
        if (grow) target.push(structuredClone(target[0]));
        else target.pop();
        let error: unknown;
        try {
          flattenNumbers(nested, 'x');
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ShapeMismatchError);
        expect((error as Error).message).toMatch(new RegExp(`^x is ragged at depth ${depth}: `));
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers any JSON value with a well-formed set or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 5 }), async (value) => {
        const outcome = await resultOrTypedError(() => loadSampleSet(JSON.stringify(value) ?? 'null'));
        if (outcome.ok) expectWellFormed(outcome.value);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers sample sets with mistyped fields with a well-formed set or a typed error', async () => {
    const field = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined));
    const mistyped = fc.record({
      samples: fc.array(fc.record({ x: fc.oneof(field, fc.array(finite, { minLength: 1, maxLength: 3 })), label: field, id: field, split: field, tokens: field }), { maxLength: 3 }),
      features: field,
      classes: field,
      shape: field,
    });
    await fc.assert(
      fc.asyncProperty(mistyped, async (raw) => {
        const outcome = await resultOrTypedError(() => loadSampleSet(JSON.stringify(raw)));
        if (outcome.ok) expectWellFormed(outcome.value);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers anything passed to flattenNumbers with numbers or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ withBigInt: true, withBoxedValues: true, withSparseArray: true, withTypedArray: true }), async (value) => {
        const outcome = await resultOrTypedError(() => flattenNumbers(value, 'options.baseline'));
        if (outcome.ok) for (const v of outcome.value) expect(Number.isFinite(v)).toBe(true);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers random bytes in a file of any extension with a well-formed set or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('.json', '.bin', '.npy', '.csv'), async (bytes, ext) => {
        const outcome = await resultOrTypedError(async () => loadSampleSet(await files.write(`r${ext}`, bytes)));
        if (outcome.ok) expectWellFormed(outcome.value);
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);
});

describe('JSON with NaN or Infinity, as Python writes it (a sweep, stop 47)', () => {
  const HINT = /It holds NaN or Infinity, which JSON does not have \(Python's json\.dump writes them\)/;
  it('says so wherever a bare NaN, Infinity or -Infinity stands in an array or an object', async () => {
    await fc.assert(fc.asyncProperty(fc.array(finite, { maxLength: 6 }), fc.nat(6), fc.constantFrom('NaN', 'Infinity', '-Infinity'), fc.boolean(), async (values, at, word, inObject) => {
      const items = values.map(String);
      items.splice(Math.min(at, items.length), 0, word);
      const text = inObject ? `{"x": [${items.join(', ')}], "y": ${word}}` : `[${items.join(',')}]`;
      const error = await typedError(() => parseJson(text, 'the file'));
      return error instanceof InvalidInputError && HINT.test(error.message);
    }), RUNS);
  });

  it('does not say so of other bad JSON, nor of the word inside a string', async () => {
    for (const text of ['[1, 2,]', '{"name": "NaN", }', '[Nan]', '[NaNa]']) expect((await typedError(() => parseJson(text, 'the file'))).message, text).not.toMatch(HINT);
  });
});

describe('JSON samples (regressions)', () => {
  const files = useTempDir('samples-regress');

  it('refuses [[1,2],[3]] as rows of two shapes, and as one ragged x', async () => {
    const rows = await typedError(() => loadSampleSet('[[1,2],[3]]'));
    expect(rows).toBeInstanceOf(ShapeMismatchError);
    expect(rows.message).toMatch(/is ragged: sample 1 has shape \[1\] but sample 0 has \[2\]/);
    const x = await typedError(() => loadSampleSet('{"x": [[1,2],[3]]}'));
    expect(x).toBeInstanceOf(ShapeMismatchError);
    expect(x.message).toMatch(/the inline sample.x is ragged at depth 1: the inline sample.x\[1\] has 1 entry but the inline sample.x\[0\] has 2/);
    expect(() => flattenNumbers([[[1], [2]], [[3], [4, 5]]], 'x')).toThrowError(/x is ragged at depth 2: x\[1\]\[1\] has 2 entries but x\[0\]\[0\] has 1/);
    expect(() => flattenNumbers([[1, 2], 3], 'body.sample')).toThrowError(/mixes numbers and arrays at depth 1/);
  });

  it('refuses an x nested in another layout than the set\'s shape of the same size, and takes it flat or with dims of 1', async () => {
    const refused = await typedError(() => loadSampleSet(JSON.stringify({ shape: [64, 3], samples: [{ x: nest(Array.from({ length: 192 }, (_, i) => i), [3, 64]) }] })));
    expect(refused).toBeInstanceOf(ShapeMismatchError);
    expect(refused.message).toMatch(/the inline sample\.samples\[0\]\.x has shape \[3, 64\] but the set's shape is \[64, 3\]/);
    // nested against a flat shape too (it was read row-major in silence; an adversarial sweep, stop 43)
    const flatShape = await typedError(() => loadSampleSet(JSON.stringify({ shape: [30], samples: [{ x: nest(Array.from({ length: 30 }, (_, i) => i), [2, 15]) }] })));
    expect(flatShape.message).toMatch(/x has shape \[2, 15\] but the set's shape is \[30\]/);
    await fc.assert(
      fc.asyncProperty(tensor, async ({ shape, values }) => {
        const set = (x: unknown, setShape: readonly number[]) => JSON.stringify({ shape: setShape, samples: [{ x }, x] });
        const reversed = [...shape].reverse();
        const squeezed = (s: readonly number[]) => String(s.filter((d) => d !== 1));
        // the same dims (with 1s anywhere) or a flat x are read as the set's shape; other dims are refused
        expect(Array.from((await loadSampleSet(set(nest(values, [1, ...shape]), shape))).samples[1].values as Float64Array)).toEqual(values);
        expect((await loadSampleSet(set(values, shape))).samples[0].shape).toEqual(shape);
        const other = await resultOrTypedError(() => loadSampleSet(set(nest(values, reversed), shape)));
        const differs = squeezed(reversed) !== squeezed(shape) && shape.filter((d) => d !== 1).length >= 2;
        expect(other.ok).toBe(!differs);
        if (!other.ok) expect(other.error).toBeInstanceOf(ShapeMismatchError);
      }),
      FEW_RUNS,
    );
  });

  it('refuses a sample nested 5000 deep with a typed error, not a stack overflow', async () => {
    const deep = '['.repeat(5000) + '1' + ']'.repeat(5000);
    const error = await typedError(() => loadSampleSet(deep));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(`nests arrays deeper than ${MAX_NESTING_DEPTH} levels`);
    expect(await typedError(() => loadSampleSet(`{"x": ${deep}}`))).toBeInstanceOf(InvalidInputError);
    // the cap itself: 32 levels are read, 33 are not
    expect(flattenNumbers(JSON.parse('['.repeat(32) + '1' + ']'.repeat(32)), 'x')).toEqual(Float64Array.of(1));
    expect(() => flattenNumbers(JSON.parse('['.repeat(33) + '1' + ']'.repeat(33)), 'x')).toThrowError(InvalidInputError);
  });

  it('refuses a sparse JS array of absurd length without walking its holes', () => {
    const started = performance.now();
    expect(() => flattenNumbers(new Array(2 ** 32 - 1), 'options.baseline')).toThrowError(/holds more than 67108864 numbers/);
    expect(() => flattenNumbers([new Array(2 ** 30), new Array(2 ** 30)], 'options.baseline')).toThrowError(InvalidInputError);
    expect(() => flattenNumbers([1, , 3], 'options.baseline')).toThrowError(/options.baseline\[1\] is undefined/);
    expect(performance.now() - started).toBeLessThan(FAST_MS);
  });

  it('reads a 200 000-wide sample', async () => {
    const wide = Array.from({ length: 200_000 }, (_, i) => i % 7);
    const set = await loadSampleSet(JSON.stringify({ x: wide }));
    expect((set.samples[0].values as Float64Array).length).toBe(200_000);
    expect(flattenNumbers([wide], 'x').length).toBe(200_000);
  });

  it.each([
    ['[]', InvalidInputError, /is an empty array/],
    ['[[]]', InvalidInputError, /holds no numbers/],
    ['{"samples": []}', InvalidInputError, /samples is empty/],
    ['{"samples": {}}', InvalidInputError, /samples must be an array/],
    ['{"samples": [{"y": [1]}]}', InvalidInputError, /has no "x"/],
    ['{"x": null}', InvalidInputError, /has no "x"/],
    ['{"x": {}}', InvalidInputError, /x is an empty object/],
    ['{}', InvalidInputError, /is not a sample/],
    ['{"x": ["1", "2"]}', InvalidInputError, /x\[0\] is the string "1"; samples must hold only finite numbers, written without quotes/],
    ['[1, 1e400]', NonFiniteError, /\[1\] is Infinity/],
    ['[1, null]', InvalidInputError, /\[1\] is null/],
    ['{"x": [1], "label": "x"}', InvalidInputError, /label must be a non-negative integer class index \(got "x"\)/],
    ['{"x": [1], "label": -1}', InvalidInputError, /label must be a non-negative integer/],
    ['{"x": [1], "label": 1.5}', InvalidInputError, /label must be a non-negative integer/],
    ['{"x": [1], "split": 5}', InvalidInputError, /split must be one of: train, test, ood \(got 5\)/],
    ['{"x": [1], "split": "validation"}', InvalidInputError, /split must be one of: train, test, ood/],
    ['{"x": [1], "id": {}}', InvalidInputError, /id must be a string or a number/],
    ['{"x": [1], "tokens": "ab"}', InvalidInputError, /tokens must be an array of strings/],
    ['{"x": [1], "tokens": [1]}', InvalidInputError, /tokens\[0\] must be a string/],
    // a likely typo of a field the sample lacks would be ignored in silence (an adversarial sweep, stop 43)
    ['{"x": [1], "lable": 0}', InvalidInputError, /has the key "lable", which no sample field is \(x, label, id, split, tokens; other keys are kept as metadata\), and no "label": did you mean "label"\?/],
    ['{"x": [1], "Split": "train"}', InvalidInputError, /has the key "Split".*did you mean "split"\?/],
    ['{"samples": [{"X": [1]}]}', InvalidInputError, /has the key "X".*did you mean "x"\?/],
    ['{"x": [1], "tokes": ["a"]}', InvalidInputError, /has the key "tokes".*did you mean "tokens"\?/],
    ['{"samples": [{"x": [1, 2]}], "features": ["a"]}', ShapeMismatchError, /names 1 features but its sample has 2 values/],
    ['{"samples": [{"x": [1, 2]}], "features": ["a", " "]}', InvalidInputError, /\.features\[1\] is " ", an empty name; give each one a name\./],
    ['{"samples": [{"x": [1, 2], "label": 0}], "classes": ["", "b"]}', InvalidInputError, /\.classes\[0\] is "", an empty name/],
    ['{"samples": [{"x": [1]}], "features": ["a", "a"]}', InvalidInputError, /are both "a"; names must be distinct/],
    ['{"samples": [{"x": [1, 2, 3]}], "shape": [2]}', ShapeMismatchError, /has 3 values but the set's shape \[2\] needs 2/],
    ['{"samples": [{"x": [1]}], "shape": [0]}', InvalidInputError, /shape must be an array of positive integers/],
    ['{"samples": [{"x": [1], "label": 2}], "classes": ["a", "b"]}', InvalidInputError, /label 2 but the set lists 2 classes/],
    ['{"samples": [{"x": [1]}, {"x": {"a": [1]}}]}', InvalidInputError, /give every sample the same form/],
    ['{"samples": [{"x": {"a": [1]}}, {"x": {"b": [1]}}]}', InvalidInputError, /give every sample the same inputs/],
  ])('refuses %s', async (text, Class, message) => {
    const error = await typedError(() => loadSampleSet(text));
    expect(error).toBeInstanceOf(Class);
    expect(error.message).toMatch(message);
  });

  it('refuses a file holding null, a number or a string', async () => {
    for (const text of ['null', '5', '"abc"']) {
      expect((await typedError(async () => loadSampleSet(await files.write('n.json', text)))).message).toMatch(/is not a sample \(got/);
    }
  });

  it('keeps other keys as metadata, and a near miss of a field the sample has (the bundled files\' keys)', async () => {
    const set = await loadSampleSet('{"x": [1, 2], "label": 1, "labels": [0, 1], "relevant": {"a": 0}, "formulaMobius": [], "y": 3, "ids": [4]}');
    expect(set.samples[0].label).toBe(1);
    expect(checkSample({ values: [1, 2], label: 0, note: 'kept' }, 'options.sample').label).toBe(0);
    expect(() => checkSample({ values: [1, 2], lable: 0 }, 'options.sample')).toThrowError(/options\.sample has the key "lable".*did you mean "label"\?/);
    expect(() => checkSample({ Values: [1, 2] }, 'options.sample')).toThrowError(/has the key "Values".*did you mean "values"\?/);
  });

  it('takes a typed array per input as for the whole sample (a Float32Array per input was refused as not numbers; stop 43)', () => {
    const whole = checkSample({ values: Float32Array.of(0.5, -2, 3) }, 'options.sample').values as Float64Array;
    const perInput = checkSample({ values: { features: Float32Array.of(0.5, -2, 3), mask: Int8Array.of(1, 0, 1) } }, 'options.sample').values as Record<string, Float64Array>;
    expect(Array.from(perInput.features)).toEqual(Array.from(whole));
    expect(Array.from(perInput.mask)).toEqual([1, 0, 1]);
    expect(() => checkSample({ values: { features: Float32Array.of(1, Number.NaN) } }, 'options.sample')).toThrowError(/options\.sample\.values\.features\[1\] is NaN/);
  });

  it('reads null metadata as absent and booleans as 1 / 0', async () => {
    const set = await loadSampleSet('{"x": [true, false, 2], "label": null, "id": null, "split": null, "tokens": null}');
    expect(Array.from(set.samples[0].values as Float64Array)).toEqual([1, 0, 2]);
    expect(set.samples[0]).toMatchObject({ label: undefined, id: undefined, split: undefined, tokens: undefined });
  });

  it('refuses a source that is not a usable string or file', async () => {
    expect((await typedError(() => loadSampleSet(undefined as unknown as string))).message).toMatch(/must be a string/);
    expect((await typedError(() => loadSampleSet('  '))).message).toMatch(/is empty/);
    expect((await typedError(() => loadSampleSet(files.path('missing.json')))).message).toMatch(/ENOENT/);
    expect((await typedError(() => loadSampleSet(files.path('')))).message).toMatch(/is a directory/);
    expect((await typedError(() => loadSampleSet('a\0b.json'))).message).toMatch(/Cannot read/);
  });

  it('sniffs JSON and CSV in files of other extensions, and reports broken JSON as JSON', async () => {
    expect((await loadSampleSet(await files.write('j.txt', '[[1, 2], [3, 4]]'))).samples).toHaveLength(2);
    expect((await loadSampleSet(await files.write('c.txt', 'a,b\n1,2\n'))).features).toEqual(['a', 'b']);
    expect((await typedError(async () => loadSampleSet(await files.write('b.txt', '[1, 2')))).message).toMatch(/not valid JSON: .*read it as JSON/);
    expect((await typedError(async () => loadSampleSet(await files.write('e.json', '')))).message).toMatch(/not valid JSON/);
  });

  it('refuses a file over the text cap before reading it', async () => {
    const file = await files.write('big.json', '');
    await truncate(file, MAX_TEXT_BYTES + 1); // sparse: no disk, no reading
    const started = performance.now();
    expect((await typedError(() => loadSampleSet(file))).message).toMatch(/is too large \(64.0 MiB\); andor reads at most 64 MiB/);
    expect(performance.now() - started).toBeLessThan(FAST_MS);
  });

  it('refuses more than MAX_SAMPLES samples in JSON, CSV and .npy, before building them', async () => {
    const rows = `[${'[0],'.repeat(MAX_SAMPLES)}[0]]`;
    expect((await typedError(() => loadSampleSet(rows))).message).toMatch(/holds 1000001 samples; andor reads at most 1000000/);
    const csv = await files.write('many.csv', '0\n'.repeat(MAX_SAMPLES + 1));
    expect((await typedError(() => loadSampleSet(csv))).message).toMatch(/more than 1000000 data rows \(line 1000001\)/);
    const npy = await files.write('many.npy', npyBytes(new Array<number>(MAX_SAMPLES + 1).fill(0), [MAX_SAMPLES + 1, 1], '|u1'));
    expect((await typedError(() => loadSampleSet(npy))).message).toMatch(/holds 1000001 samples/);
  });

  it('refuses inline JSON longer than the text cap', async () => {
    expect((await typedError(() => loadSampleSet(`[${' '.repeat(MAX_TEXT_BYTES)}1]`))).message).toMatch(/longer than 64 MiB/);
  });
});
