// Every bad call a library user can make ends in one of andor's typed errors, never a plain TypeError: the request
// schema (property-based: random requests built from the schema's own fields and arbitrary values), the CLI's
// argument parser (random argument lists), and a list of the worst values for each entry point.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExplainRequestSchema } from '../../engine/contracts/schema/requests.js';
import { assertValid } from '../../engine/inputs/validate.js';
import { COMMANDS, parseCommand } from '../../engine/interfaces/cli-options.js';
// the schema and the parser are tested from the sources, the engine from the built package: each with its own classes
import { InvalidOptionError as SourceInvalidOptionError } from '../../engine/contracts/errors.js';
import { EngineError, InvalidOptionError, createEngine, model, type Engine } from '../helpers/index.js';

const FIELDS = Object.keys(ExplainRequestSchema.properties);
const anyValue = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.constant(NaN), fc.constant(Infinity), fc.float(), fc.bigInt(), fc.func(fc.anything()));

describe('the request schema', () => {
  it('accepts or refuses any request with an InvalidOptionError, never anything else', () => {
    const request = fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string()), anyValue, { maxKeys: 8 });
    fc.assert(
      fc.property(request, (value) => {
        try {
          assertValid(ExplainRequestSchema, value);
          return true;
        } catch (error) {
          return error instanceof SourceInvalidOptionError;
        }
      }),
      { numRuns: 400 },
    );
  });

  it('refuses non-objects', () => {
    for (const value of [null, undefined, 3, 'x', [1], () => 1]) expect(() => assertValid(ExplainRequestSchema, value)).toThrow(SourceInvalidOptionError);
  });
});

describe('the CLI parser', () => {
  it('parses or refuses any argument list with an InvalidOptionError naming a flag', () => {
    const flags = Object.values(COMMANDS).flatMap((c) => c.groups.flatMap((g) => Object.keys(g.fields))).map((f) => `--${f.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`)}`);
    const arg = fc.oneof(fc.constantFrom(...flags, '--', '-h', '--no-cache', '--no-arrays'), fc.string({ maxLength: 12 }), fc.integer().map(String), fc.double().map(String));
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(COMMANDS)), fc.array(arg, { maxLength: 8 }), (command, args) => {
        try {
          parseCommand(command, args);
          return true;
        } catch (error) {
          return error instanceof SourceInvalidOptionError;
        }
      }),
      { numRuns: 600 },
    );
  });
});

describe('the library entry points under the worst values', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0 });
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  it.each([
    ['explain(null)', (e: Engine) => e.explain(null as never)],
    ['explain({})', (e: Engine) => e.explain({} as never)],
    ['explain with a number model', (e: Engine) => e.explain({ model: 3, sample: '[1]' } as never)],
    ['explain with an unknown option', (e: Engine) => e.explain({ model: model('breast-cancer-mlp.onnx'), sample: '[1]', colour: 'red' } as never)],
    ['explainValues({values: [1, NaN]})', (e: Engine) => e.explainValues({ values: [1, NaN] })],
    ['explainValues({values: "nope"})', (e: Engine) => e.explainValues({ values: 'nope' })],
    ['dynamics({checkpoints: []})', (e: Engine) => e.dynamics({ checkpoints: [], samples: 'x' } as never)],
    ['dynamics(undefined)', (e: Engine) => e.dynamics(undefined as never)],
    ['explainBatch(null)', (e: Engine) => e.explainBatch(null as never)],
    ['explainBatch with rows "abc"', (e: Engine) => e.explainBatch({ model: model('breast-cancer-mlp.onnx'), samples: model('breast-cancer.samples.json'), rows: 'abc' })],
    ['orTransform(undefined)', (e: Engine) => e.orTransform(undefined as never)],
    ['mobius of 3 values', (e: Engine) => e.mobius(new Float64Array(3))],
    ['openModel(42)', (e: Engine) => e.openModel(42 as never)],
  ] as [string, (e: Engine) => Promise<unknown>][])('%s ends in a typed error', async (_what, call) => {
    const error = await Promise.resolve()
      .then(() => call(engine))
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
  });

  it.each([[{ workers: -1 }], [{ backend: 'gpu' }], [{ maxMemoryMb: 0 }], [null], [{ threads: 1.5 }], [{ logger: 3 }]])('createEngine(%j) ends in an InvalidOptionError', async (options) => {
    await expect(createEngine(options as never)).rejects.toBeInstanceOf(InvalidOptionError);
  });
});
