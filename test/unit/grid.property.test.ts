// The image grid option (engine/pipeline/players.ts parseGrid, behind --grid and the request schema's grid field):
// every grid that fits the image round-trips from its "RxC" and [R, C] forms, and any string or value gives a grid
// that fits or an InvalidOptionError that says what a grid looks like, at once (issue 10, Build: option strings).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../engine/contracts/errors.js';
import { ExplainRequestSchema } from '../../engine/contracts/schema/requests.js';
import { COMMANDS, parseCommand } from '../../engine/interfaces/cli-options.js';
import { assertValid } from '../../engine/inputs/validate.js';
import { parseGrid } from '../../engine/pipeline/players.js';
import { FAST_MS, PROPERTY_MS, RUNS, resultOrTypedError } from './inputs/support.js';

/** An image of 1..64 rows and columns. */
const images = fc.tuple(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }));
/** Strings near the grid syntax (digits, x, signs, dots, exponents, blanks), and any string. */
const gridLike = fc.oneof(
  fc.string(),
  fc.string({ unit: fc.constantFrom(...'0123456789xX -+.e_,\t'.split('')), maxLength: 16 }),
  fc.stringMatching(/^[0-9]{1,20}x[0-9]{1,20}$/),
);

/** A grid that fits an image of `height` × `width`. */
function expectFits(grid: unknown, height: number, width: number): void {
  expect(grid).toHaveLength(2);
  const [rows, cols] = grid as [number, number];
  expect(Number.isInteger(rows) && rows >= 1 && rows <= height).toBe(true);
  expect(Number.isInteger(cols) && cols >= 1 && cols <= width).toBe(true);
}

describe('parseGrid (property)', () => {
  it('round-trips every grid that fits, from "RxC", "RXC" and [R, C]', () => {
    const grids = images.chain(([h, w]) => fc.tuple(fc.constant(h), fc.constant(w), fc.integer({ min: 1, max: h }), fc.integer({ min: 1, max: w })));
    fc.assert(
      fc.property(grids, ([h, w, rows, cols]) => {
        expect(parseGrid(`${rows}x${cols}`, h, w)).toEqual([rows, cols]);
        expect(parseGrid(`${rows}X${cols}`, h, w)).toEqual([rows, cols]);
        expect(parseGrid([rows, cols], h, w)).toEqual([rows, cols]);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('refuses a grid finer than the image, naming both and the finest that fits', () => {
    const finer = images.chain(([h, w]) => fc.tuple(fc.constant(h), fc.constant(w), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 })).filter(([, , r, c]) => r > h || c > w));
    fc.assert(
      fc.property(finer, ([h, w, rows, cols]) => {
        expect(() => parseGrid(`${rows}x${cols}`, h, w)).toThrowError(InvalidOptionError);
        expect(() => parseGrid(`${rows}x${cols}`, h, w)).toThrowError(`grid ${rows}x${cols} is finer than the ${h}x${w} image; use at most ${h}x${w}.`);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers any string with a grid that fits or an InvalidOptionError, fast', async () => {
    await fc.assert(
      fc.asyncProperty(gridLike, images, async (text, [h, w]) => {
        const started = performance.now();
        const outcome = await resultOrTypedError(() => parseGrid(text, h, w));
        expect(performance.now() - started).toBeLessThan(FAST_MS);
        if (outcome.ok) expectFits(outcome.value, h, w);
        else expect(outcome.error).toBeInstanceOf(InvalidOptionError);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('answers any value (numbers, lists, objects, null) with a grid that fits or an InvalidOptionError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), fc.array(fc.anything(), { maxLength: 3 }), fc.tuple(fc.double(), fc.double())), images, async (value, [h, w]) => {
        const outcome = await resultOrTypedError(() => parseGrid(value, h, w));
        if (outcome.ok) expectFits(outcome.value, h, w);
        else expect(outcome.error).toBeInstanceOf(InvalidOptionError);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it.each([
    ['4x', '"4x"'], ['x4', '"x4"'], ['4x4x4', '"4x4x4"'], ['0x4', '"0x4"'], ['-1x4', '"-1x4"'], ['1.5x2', '"1.5x2"'], ['Infinityx1', '"Infinityx1"'], ['', '""'], [[2], '[2]'], [[2, 2, 2], '[2, 2, 2]'], [[{ toString: '' }, 1], 'an array of 2 items'], [[true, 2], '[true, 2]'], [null, 'null'],
  ] as const)('refuses %j saying what a grid looks like', (value, shown) => {
    expect(() => parseGrid(value, 8, 8)).toThrowError(`grid must look like "4x4" (rows x columns; got ${shown}).`);
  });
});

describe('the grid option of a request and of the CLI (property)', () => {
  it('any string as a request\'s grid passes the schema and the parser, or one of them refuses it with an InvalidOptionError', async () => {
    await fc.assert(
      fc.asyncProperty(gridLike, images, async (grid, [h, w]) => {
        const outcome = await resultOrTypedError(() => {
          assertValid(ExplainRequestSchema, { model: 'digits-cnn.onnx', sample: [0], modality: 'image', grid });
          return parseGrid(grid, h, w);
        });
        if (outcome.ok) expectFits(outcome.value, h, w);
        else expect(outcome.error).toBeInstanceOf(InvalidOptionError);
      }),
      RUNS,
    );
  }, PROPERTY_MS);

  it('any string after --grid parses to that grid or is an InvalidOptionError naming --grid', async () => {
    await fc.assert(
      fc.asyncProperty(gridLike.filter((s) => !s.startsWith('-')), async (grid) => {
        const outcome = await resultOrTypedError(() => parseCommand(COMMANDS.explain, ['--grid', grid]));
        if (outcome.ok) expect(outcome.value.grid).toBe(grid);
        else {
          expect(outcome.error).toBeInstanceOf(InvalidOptionError);
          expect(outcome.error.message).toMatch(/--grid/);
        }
      }),
      RUNS,
    );
  }, PROPERTY_MS);
});
