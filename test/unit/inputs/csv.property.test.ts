// CSV samples: tables of numbers (with or without a header, any line ending, BOM, quoting) round-trip exactly through
// files, and a bad cell anywhere is a typed error naming its own row and column: the header rule never shifts rows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, NonFiniteError, ShapeMismatchError } from '../../../engine/contracts/errors.js';
import { loadSampleSet, parseCsv } from '../../../engine/inputs/samples.js';
import { FEW_RUNS, PROPERTY_MS, RUNS, csvCell, csvNumber, resultOrTypedError, typedError, useTempDir } from './support.js';

/** Column names the header rule accepts: not numbers, NaN/Inf spellings, or missing-value markers. */
const NOT_NAMES = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)|na|n\/a|#n\/a|null|none|nil|missing|-|\?)$/i;
const name = fc.string({ minLength: 1, maxLength: 12 }).map((s) => s.trim()).filter((s) => s !== '' && !NOT_NAMES.test(s));

const table = fc.record({
  width: fc.integer({ min: 1, max: 6 }),
  height: fc.integer({ min: 1, max: 8 }),
  header: fc.boolean(),
  eol: fc.constantFrom('\n', '\r\n', '\r'),
  bom: fc.boolean(),
  trailing: fc.boolean(),
  spaced: fc.boolean(),
}).chain((t) =>
  fc.record({
    ...Object.fromEntries(Object.entries(t).map(([k, v]) => [k, fc.constant(v)])),
    names: fc.uniqueArray(name, { minLength: t.width, maxLength: t.width }),
    rows: fc.array(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: t.width, maxLength: t.width }), { minLength: t.height, maxLength: t.height }),
  }),
) as fc.Arbitrary<{ width: number; height: number; header: boolean; eol: string; bom: boolean; trailing: boolean; spaced: boolean; names: string[]; rows: number[][] }>;

function csvText(t: { header: boolean; eol: string; bom: boolean; trailing: boolean; spaced: boolean; names: string[]; rows: (number | string)[][] }): string {
  const sep = t.spaced ? ', ' : ',';
  const lines = [...(t.header ? [t.names.map(csvCell).join(sep)] : []), ...t.rows.map((r) => r.map((c) => (typeof c === 'number' ? csvNumber(c) : c)).join(sep))];
  return (t.bom ? '\ufeff' : '') + lines.join(t.eol) + (t.trailing ? t.eol : '');
}

/** Cells that are not finite numbers, and the error class each must raise. */
const BAD_CELLS: readonly [string, typeof InvalidInputError | typeof NonFiniteError][] = [
  ['', InvalidInputError], ['NaN', NonFiniteError], ['nan', NonFiniteError], ['inf', NonFiniteError], ['-Infinity', NonFiniteError],
  ['1e400', NonFiniteError], ['NA', InvalidInputError], ['null', InvalidInputError], ['abc', InvalidInputError], ['0x10', InvalidInputError],
  ['"1,5"', InvalidInputError], ['1;2', InvalidInputError], ['Infinityx', InvalidInputError],
];
/** The cells that are names: alone in a one-column first row they ARE a header (the rule's one ambiguity). */
const NAME_LIKE = new Set(['abc', '0x10', '"1,5"', '1;2', 'Infinityx']);

describe('CSV samples (property)', () => {
  const files = useTempDir('csv');

  it('round-trips a table of finite numbers through a file: rows, names, values and shape', async () => {
    await fc.assert(
      fc.asyncProperty(table, async (t) => {
        const file = await files.write('t.csv', csvText(t));
        const set = await loadSampleSet(file);
        expect(set.features).toEqual(t.header ? t.names : undefined);
        expect(set.shape).toEqual([t.width]);
        expect(set.samples.map((s) => Array.from(s.values as Float64Array))).toEqual(t.rows);
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);

  it('reports a bad cell at its own row and column, first data row included', async () => {
    const mutated = table.chain((t) => fc.tuple(fc.constant(t), fc.nat({ max: t.height - 1 }), fc.nat({ max: t.width - 1 }), fc.constantFrom(...BAD_CELLS)));
    await fc.assert(
      fc.asyncProperty(mutated, async ([t, row, column, [cell, Class]]) => {
        fc.pre(t.header || row > 0 || t.width > 1 || !NAME_LIKE.has(cell));
        fc.pre(t.width > 1 || cell !== ''); // one empty cell alone is a blank line: see the regression tests
        const rows: (number | string)[][] = t.rows.map((r) => [...r]);
        rows[row][column] = cell;
        const error = await typedError(() => parseCsv(csvText({ ...t, rows }), 'm.csv'));
        expect(error).toBeInstanceOf(Class);
        expect(error.message).toContain(`m.csv row ${row}, column ${column}`);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('reports a row with a missing or extra cell as a ShapeMismatchError naming the row', async () => {
    const mutated = table.chain((t) => fc.tuple(fc.constant(t), fc.nat({ max: t.height - 1 }), fc.boolean()));
    await fc.assert(
      fc.asyncProperty(mutated, async ([t, row, extra]) => {
        fc.pre(t.header || row > 0);
        fc.pre(extra || t.width > 1);
        const rows = t.rows.map((r) => [...r]);
        if (extra) rows[row].push(1);
        else rows[row].pop();
        const error = await typedError(() => parseCsv(csvText({ ...t, rows }), 'm.csv'));
        expect(error).toBeInstanceOf(ShapeMismatchError);
        expect(error.message).toContain(`row ${row} has ${rows[row].length} columns`);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers random text with rows of finite numbers or a typed error', async () => {
    const alphabet = fc.constantFrom(...'0123456789.,-e"\n\r \tNaIf;x'.split(''));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 60 })), async (text) => {
        const outcome = await resultOrTypedError(() => parseCsv(text, 'r.csv'));
        if (!outcome.ok) return;
        expect(outcome.value.samples.length).toBeGreaterThan(0);
        for (const s of outcome.value.samples) {
          expect((s.values as Float64Array).length).toBe(outcome.value.shape![0]);
          for (const v of s.values as Float64Array) expect(Number.isFinite(v)).toBe(true);
        }
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers random bytes in a .csv file with a typed error or rows of finite numbers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const file = await files.write('b.csv', bytes);
        await resultOrTypedError(() => loadSampleSet(file));
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);
});

describe('CSV samples (regressions)', () => {
  const files = useTempDir('csv-regress');
  const load = async (text: string | Uint8Array) => loadSampleSet(await files.write('r.csv', text));

  it('does not take a first data row with a NaN cell for a header', async () => {
    const error = await typedError(() => load('1,NaN,3\n4,5,6\n'));
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(error.message).toMatch(/row 0, column 1, line 1 is NaN/);
    // one column: "NaN" is not a name either, so the rows do not shift
    expect(await typedError(() => load('NaN\n1\n2\n'))).toBeInstanceOf(NonFiniteError);
    expect((await typedError(() => load('NA\n1\n2\n'))).message).toMatch(/row 0, column 0, line 1 is "NA", a missing value/);
  });

  it('names row and column of a bad cell below a header', async () => {
    const error = await typedError(() => load('a,b\n1,2\n3,\n'));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(/row 1, column 1 \("b"\), line 3 is empty/);
  });

  it('says a header whose first column has no name is pandas\' index column, not an empty cell of row 0', async () => {
    await fc.assert(
      fc.asyncProperty(table.filter((t) => t.width >= 2), async (t) => {
        // DataFrame.to_csv() with its default index=True: ",a,b" then "0,1.5,2.5", …
        const text = csvText({ ...t, header: true, names: ['', ...t.names.slice(1)], rows: t.rows.map((r, i) => [i, ...r.slice(1)]) });
        const error = await typedError(() => load(text));
        expect(error).toBeInstanceOf(InvalidInputError);
        expect(error.message).toMatch(/line 1 is a header whose first column has no name: the index column pandas writes .*index=False/);
      }),
      FEW_RUNS,
    );
  }, PROPERTY_MS);

  it('refuses a header without data rows (a header-only baseline file)', async () => {
    expect((await typedError(() => load('a,b,c\n'))).message).toMatch(/has a header .* but no data rows/);
  });

  it('refuses duplicate header names, empty files and blank lines inside', async () => {
    expect((await typedError(() => load('a,b,a\n1,2,3\n'))).message).toMatch(/columns 0 and 2 are both named "a"/);
    expect((await typedError(() => load(''))).message).toMatch(/is empty/);
    expect((await typedError(() => load('\ufeff \r\n\r\n'))).message).toMatch(/is empty/);
    expect((await typedError(() => load('1,2\n\n3,4\n'))).message).toMatch(/line 2 is blank/);
    // in one column an empty cell is a blank line: refused inside the file, ignored only at its end
    expect((await typedError(() => load('x\n1\n\n3\n'))).message).toMatch(/line 3 is blank/);
  });

  it('reads CRLF and CR line ends, a BOM, quoted cells and trailing blank lines', async () => {
    const set = await load('\ufeff"x, 1",y\r\n1,"2"\r\n3,4\r\n\r\n');
    expect(set.features).toEqual(['x, 1', 'y']);
    expect(set.samples.map((s) => Array.from(s.values as Float64Array))).toEqual([[1, 2], [3, 4]]);
    expect((await load('1,2\r3,4')).samples).toHaveLength(2);
  });

  it('refuses broken quoting, semicolons and decimal commas with a hint', async () => {
    expect((await typedError(() => load('"a,b\n1,2\n'))).message).toMatch(/never closed/);
    expect((await typedError(() => load('a,b\n1,2"x"\n'))).message).toMatch(/quote inside the unquoted cell/);
    expect((await typedError(() => load('a;b\n1;2\n'))).message).toMatch(/seems to use ";"/);
    expect((await typedError(() => load('a,b\n"1,5",2\n'))).message).toMatch(/point as the decimal separator/);
  });

  it('refuses numbers JavaScript would accept but CSV writers do not write', async () => {
    for (const cell of ['0x10', '0b1', '1_000', 'Infinity', '+inf', '1e400']) await typedError(() => load(`a,b\n1,${cell}\n`));
  });

  it('refuses UTF-16 and non-UTF-8 files', async () => {
    expect((await typedError(() => load(Uint8Array.of(0xff, 0xfe, 0x31, 0x00)))).message).toMatch(/UTF-16/);
    expect((await typedError(() => load(Uint8Array.of(0x61, 0xe9, 0x0a, 0x31)))).message).toMatch(/not UTF-8/);
  });
});
