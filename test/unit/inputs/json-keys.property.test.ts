// Keys given twice in a JSON object: never reported for JSON.stringify's output (its keys are distinct), always
// reported, with the key and the path of its object, when one object of any JSON value gets a key a second time
// (whatever the key's escapes and the text's whitespace); and refused where users give JSON: sample files, inline
// samples, values, and the service's bodies (serve.test.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../engine/contracts/errors.js';
import { duplicateKey } from '../../../engine/inputs/json-keys.js';
import { loadSampleSet } from '../../../engine/inputs/samples.js';
import { RUNS } from './support.js';

/** A JSON value, and a path to each object in it (as duplicateKey writes paths). */
interface Located {
  readonly value: unknown;
  readonly objects: readonly { readonly path: string; readonly target: Record<string, unknown> }[];
}

const step = (at: string | number) => (typeof at === 'number' ? `[${at}]` : /^[A-Za-z_$][\w$]*$/.test(at) ? `.${at}` : `[${JSON.stringify(at)}]`);

function locate(value: unknown, path = '', out: { path: string; target: Record<string, unknown> }[] = []): typeof out {
  if (Array.isArray(value)) value.forEach((child, i) => locate(child, path + step(i), out));
  else if (value !== null && typeof value === 'object') {
    out.push({ path, target: value as Record<string, unknown> });
    for (const [key, child] of Object.entries(value)) locate(child, path + step(key), out);
  }
  return out;
}

/** JSON text of a value with `extra` written as one more key of the object `target` (after its own keys). */
function withExtraKey(value: unknown, target: object, extra: string, space: number): string {
  const marker = '\u0000extra\u0000';
  const text = JSON.stringify(value, (_key, v: unknown) => (v === target ? { ...(v as object), [marker]: 0 } : v), space);
  return text.replace(JSON.stringify(marker), () => JSON.stringify(extra));
}

const json = fc.jsonValue({ maxDepth: 4 }).map((value): Located => ({ value, objects: locate(value) }));

describe('duplicateKey', () => {
  it('finds nothing in JSON.stringify output, indented or not', () => {
    fc.assert(
      fc.property(json, fc.constantFrom(0, 2), ({ value }, space) => {
        expect(duplicateKey(JSON.stringify(value, null, space))).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('finds a key written twice in any object, with that object\'s path', () => {
    const withObject = json.filter((j) => j.objects.some((o) => Object.keys(o.target).length > 0));
    fc.assert(
      fc.property(withObject, fc.nat(), fc.nat(), fc.constantFrom(0, 2), ({ value, objects }, pick, keyPick, space) => {
        const candidates = objects.filter((o) => Object.keys(o.target).length > 0);
        const { path, target } = candidates[pick % candidates.length];
        const keys = Object.keys(target);
        const key = keys[keyPick % keys.length];
        // an earlier object may hold a duplicate only if JSON.stringify wrote one: it does not, so this is the first
        expect(duplicateKey(withExtraKey(value, target, key, space))).toEqual({ key, path });
      }),
      RUNS,
    );
  });

  it('compares keys as JSON strings, escapes decoded ("\\u0078" is "x")', () => {
    expect(duplicateKey('{"x": 1, "\\u0078": 2}')).toEqual({ key: 'x', path: '' });
    expect(duplicateKey('{"a\\"b": 1, "a\\u0022b": 2}')).toEqual({ key: 'a"b', path: '' });
    expect(duplicateKey('{"x": "{\\"x\\": 1, \\"x\\": 2}"}')).toBeUndefined(); // keys inside a string value are not keys
    expect(duplicateKey('[{"x": 1}, {"x": 2}]')).toBeUndefined(); // two objects, one key each
  });
});

describe('sample sources refuse a key given twice', () => {
  it('inline and in a set, naming the key and the sample', async () => {
    await expect(loadSampleSet('{"x": [1, 2], "x": [3, 4]}')).rejects.toThrowError(new InvalidInputError('the inline sample gives the key "x" twice in its top-level object; JSON keeps only the last one, so the other would be ignored in silence. Give each key once.'));
    const set = '{"samples": [{"x": [1, 2], "label": 0}, {"x": [3, 4], "label": 1, "label": 0}]}';
    await expect(loadSampleSet(set)).rejects.toThrowError(/gives the key "label" twice in the object at samples\[1\]/);
  });
});
