// indexList and the option helpers: lists round-trip through their string form, every malformed or oversized list
// is an InvalidOptionError found before any range is expanded, and no value makes a helper throw a foreign error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../engine/contracts/errors.js';
import { MAX_INDEX_COUNT } from '../../../engine/inputs/limits.js';
import { assertKnownKeys, bool, indexList, integerIn, numberIn, oneOf } from '../../../engine/inputs/options.js';
import { FAST_MS, PROPERTY_MS, RUNS, resultOrTypedError, typedError } from './support.js';

/** Writes distinct indices as a list string, folding runs of consecutive values into ranges ("3-5"). */
function listText(indices: readonly number[], spaces: boolean): string {
  const parts: string[] = [];
  for (let k = 0; k < indices.length; ) {
    let end = k;
    while (end + 1 < indices.length && indices[end + 1] === indices[end] + 1) end++;
    const sep = spaces ? ' - ' : '-';
    parts.push(end > k ? `${indices[k]}${sep}${indices[end]}` : String(indices[k]));
    k = end + 1;
  }
  return parts.join(spaces ? ' , ' : ',');
}

describe('indexList (property)', () => {
  it('round-trips distinct indices below the limit, as a string and as an array', () => {
    const lists = fc.integer({ min: 1, max: 200 }).chain((limit) =>
      fc.tuple(fc.constant(limit), fc.uniqueArray(fc.nat({ max: limit - 1 }), { minLength: 1, maxLength: Math.min(limit, 40) }), fc.boolean()),
    );
    fc.assert(
      fc.property(lists, ([limit, indices, spaces]) => {
        expect(indexList(listText(indices, spaces), 'players', limit)).toEqual(indices);
        expect(indexList(indices, 'players', limit)).toEqual(indices);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers any string with valid distinct indices or an InvalidOptionError, fast', async () => {
    const alphabet = fc.constantFrom(...'0123456789-, \t\n.e+x\u00a0a'.split(''));
    const strings = fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 40 }), fc.stringMatching(/^[0-9]{1,25}(-[0-9]{1,25})?(,[0-9]{1,25}(-[0-9]{1,25})?){0,3}$/));
    await fc.assert(
      fc.asyncProperty(strings, fc.option(fc.integer({ min: 0, max: 1000 })), async (text, limit) => {
        const started = performance.now();
        const outcome = await resultOrTypedError(() => indexList(text, 'players', limit ?? undefined));
        expect(performance.now() - started).toBeLessThan(FAST_MS);
        if (!outcome.ok) {
          expect(outcome.error).toBeInstanceOf(InvalidOptionError);
          return;
        }
        const bound = limit ?? MAX_INDEX_COUNT;
        expect(new Set(outcome.value).size).toBe(outcome.value.length);
        for (const i of outcome.value) expect(Number.isSafeInteger(i) && i >= 0 && i < bound).toBe(true);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers any value (not only strings) with indices or an InvalidOptionError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ withBigInt: true, withTypedArray: true, withSparseArray: true }), async (value) => {
        const outcome = await resultOrTypedError(() => indexList(value, 'players', 50));
        if (outcome.ok) for (const i of outcome.value) expect(Number.isInteger(i) && i >= 0 && i < 50).toBe(true);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('never lets the option helpers throw a foreign error, whatever they are given', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ withBigInt: true, withNullPrototype: true, withBoxedValues: true }), async (value) => {
        await resultOrTypedError(() => integerIn(value, 0, Infinity, 'options.row'));
        await resultOrTypedError(() => numberIn(value, 0, 1, 'options.lr'));
        await resultOrTypedError(() => oneOf(value, ['a', 'b'], 'options.kind'));
        await resultOrTypedError(() => bool(value, 'options.flag'));
        await resultOrTypedError(() => assertKnownKeys(value as object, ['a'], 'options'));
      }),
      RUNS,
    );
  }, PROPERTY_MS);
});

describe('indexList (regressions)', () => {
  it.each([
    ['0-99999999999', undefined, /feature column 1000000 \(in the range "0-99999999999"\) is beyond the cap; indices must be below 1000000/],
    ['0-99999999999', 30, /feature column 30 is out of range; valid feature columns are 0..29 \(in the range "0-99999999999"\)/],
    ['5-99999999999999999999', 30, /too large to be an index/],
    ['9007199254740993', undefined, /too large to be an index/],
    ['0-1000000', undefined, /beyond the cap/],
    ['-1', 30, /"-1" is negative/],
    ['1e3', 30, /"1e3" is not a plain decimal integer/],
    ['0x10', 30, /"0x10" is not a plain decimal integer/],
    ['1.5', 30, /"1.5" is not a plain decimal integer/],
    ['1 2', 30, /holds whitespace that is not allowed/],
    ['1\n2', 30, /holds whitespace that is not allowed/],
    ['\u00a01', 30, /holds whitespace that is not allowed/],
    ['1,,2', 30, /empty entry/],
    ['1,', 30, /empty entry/],
    ['0-', 30, /not an index or a range/],
    ['1–3', 30, /not an index or a range/],
    ['0-3,2', 30, /feature column 2 is listed twice/],
    ['3', 0, /there are no feature columns/],
    [[1.5], 30, /players\[0\] must be a non-negative integer \(got 1.5\)/],
    [['1'], 30, /players\[0\] must be a non-negative integer \(got "1"\)/],
    [[-1], 30, /players\[0\] must be a non-negative integer/],
    [[NaN], 30, /got NaN/],
    [[], 30, /is empty/],
    [5, 30, /must be a list of indices/],
    [null, 30, /must be a list of indices/],
    [10n, 30, /got 10n/],
  ])('rejects %s (limit %s) with an InvalidOptionError, before expanding', async (value, limit, message) => {
    const started = performance.now();
    const error = await typedError(() => indexList(value, 'players', limit, 'feature column'));
    expect(performance.now() - started).toBeLessThan(FAST_MS);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error.message).toMatch(message);
  });

  it('keeps the message the CLI test expects for a range past the columns', () => {
    expect(() => indexList('0-40', 'players', 30, 'feature column')).toThrowError('players: feature column 30 is out of range; valid feature columns are 0..29 (in the range "0-40").');
  });

  it('expands the largest list the cap allows', () => {
    expect(indexList(`0-${MAX_INDEX_COUNT - 1}`, 'players')).toHaveLength(MAX_INDEX_COUNT);
  });

  it('rejects an array longer than the cap without reading it', () => {
    expect(() => indexList(new Array(MAX_INDEX_COUNT + 1).fill(0), 'players')).toThrowError(/more than 1000000/);
  });

  it('refuses a bad limit from the caller with a typed error', () => {
    expect(() => indexList('1', 'players', -1)).toThrowError(InvalidOptionError);
    expect(() => indexList('1', 'players', 1.5)).toThrowError(InvalidOptionError);
  });
});

describe('option helpers (regressions)', () => {
  it('describe BigInt and symbols instead of crashing JSON.stringify', () => {
    expect(() => integerIn(10n, 0, 4, 'options.workers')).toThrowError('options.workers must be an integer in 0..4 (got 10n).');
    expect(() => oneOf(Symbol('x'), ['a'], 'options.kind')).toThrowError('options.kind must be one of: a (got Symbol(x)).');
  });

  it('refuse integers beyond 2^53 even when max is Infinity', () => {
    expect(() => integerIn(2 ** 60, 0, Infinity, 'options.row')).toThrowError(/at most 9007199254740991/);
  });

  it('refuse an option object that is not an object', () => {
    expect(() => assertKnownKeys(null as unknown as object, ['a'], 'options')).toThrowError('options must be an object of options (got null).');
    expect(() => assertKnownKeys([] as unknown as object, ['a'], 'options')).toThrowError(InvalidOptionError);
  });
});
