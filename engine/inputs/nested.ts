// Flattening nested JSON arrays (row-major) into a Float64Array and their shape, level by level without recursion,
// refusing ragged or mixed nestings and anything deeper than MAX_NESTING_DEPTH. What a leaf may be (finite number,
// boolean, null) is the caller's rule, passed in as readLeaf.
import { InvalidInputError, ShapeMismatchError } from '../contracts/errors.js';
import { MAX_ELEMENTS, MAX_NESTING_DEPTH } from './limits.js';
import { preview } from './preview.js';

/** Reads one leaf that is not a finite number (those are always taken as they are); throws a typed error when the
 *  leaf is not allowed. `path` names it ("x[1][0]"), flatIndex is its row-major position. */
export type LeafReader = (value: unknown, path: string, flatIndex: number) => number;

/** A flattened nested array: values in row-major order and the length at each level. */
export interface FlatArray {
  readonly values: Float64Array;
  readonly shape: number[];
}

/**
 * Flattens a nested array (a scalar counts as shape []), checking that it is a proper tensor: every array of one
 * level has the same length and every leaf sits at the same depth. Iterative, so width and depth cost no stack.
 * @param value - a number, or arrays of arrays … of numbers
 * @param what - what the value is, for messages ("the inline sample", "samples.json.samples[3].x")
 * @param readLeaf - turns a leaf that is not a finite number into one, or throws
 * @returns the values in row-major order and the shape
 * @throws ShapeMismatchError when a level is ragged or mixes numbers and arrays;
 *   InvalidInputError when the nesting is deeper than MAX_NESTING_DEPTH (32) or holds more than MAX_ELEMENTS numbers
 */
export function flattenNested(value: unknown, what: string, readLeaf: LeafReader): FlatArray {
  const shape: number[] = [];
  let level: unknown[] = [value];
  for (let depth = 0; level.length > 0; depth++) {
    if (!Array.isArray(level[0])) {
      const values = new Float64Array(level.length);
      for (let k = 0; k < level.length; k++) {
        const leaf = level[k];
        if (typeof leaf === 'number' && Number.isFinite(leaf)) values[k] = leaf; // the common case: no path string
        else if (Array.isArray(leaf)) throw mixed(what, shape, k, leaf, level[0]);
        else values[k] = readLeaf(leaf, pathOf(what, shape, k), k);
      }
      return { values, shape };
    }
    if (depth >= MAX_NESTING_DEPTH) {
      throw new InvalidInputError(
        `${what} nests arrays deeper than ${MAX_NESTING_DEPTH} levels (at ${pathOf(what, shape, 0)}). Tensors of andor have at most ${MAX_NESTING_DEPTH} dims; flatten the data or fix the file.`,
      );
    }
    const width = (level[0] as unknown[]).length;
    if (level.length * width > MAX_ELEMENTS) {
      throw new InvalidInputError(
        `${what} holds more than ${MAX_ELEMENTS} numbers (depth ${depth}: ${level.length} array(s) of ${width}); andor reads at most 2^26 from one array. Use a .npy file or fewer values.`,
      );
    }
    const next: unknown[] = [];
    for (let k = 0; k < level.length; k++) {
      const item = level[k];
      if (!Array.isArray(item)) throw mixed(what, shape, k, item, level[0]);
      if (item.length !== width) {
        throw new ShapeMismatchError(
          `${what} is ragged at depth ${depth}: ${pathOf(what, shape, k)} has ${item.length} entr${item.length === 1 ? 'y' : 'ies'} but ${pathOf(what, shape, 0)} has ${width}. ` +
            'Every array of one level must have the same length (a tensor, row-major).',
        );
      }
      for (let j = 0; j < width; j++) next.push(item[j]);
    }
    shape.push(width);
    level = next;
  }
  return { values: new Float64Array(0), shape };
}

function mixed(what: string, shape: readonly number[], k: number, item: unknown, first: unknown): ShapeMismatchError {
  const isArray = Array.isArray(item);
  return new ShapeMismatchError(
    `${what} mixes numbers and arrays at depth ${shape.length}: ${pathOf(what, shape, k)} is ${isArray ? 'an array' : preview(item)} but ` +
      `${pathOf(what, shape, 0)} is ${Array.isArray(first) ? 'an array' : preview(first)}. Every leaf must sit at the same depth.`,
  );
}

/** The path of item k of the level below `shape` ("x[1][0]"), from its row-major position. */
function pathOf(what: string, shape: readonly number[], k: number): string {
  const indices: number[] = [];
  let rest = k;
  for (let d = shape.length - 1; d >= 0; d--) {
    indices.push(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return what + indices.reverse().map((i) => `[${i}]`).join('');
}
