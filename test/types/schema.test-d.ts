// The public request and result types are written out for consumers' compilers (no TypeBox in the .d.ts files);
// these tests fail when one of them and the schema that validates it (or describes it) disagree.
import type { Static } from 'typebox';
import { describe, expectTypeOf, it } from 'vitest';
import type { DynamicsRequestSchema, EngineOptionsSchema, ExplainRequestSchema, GameRequestSchema } from '../../engine/contracts/schema/requests.js';
import type { DynamicsResultSchema, ExplainResultSchema } from '../../engine/contracts/schema/results.js';
import type { DynamicsRequest, DynamicsResultJson, EngineOptions, ExplainRequest, ExplainResultJson, GameRequest } from '../../engine/index.js';
import type { FunctionRequestSchema } from '../../engine/contracts/schema/requests.js';
import type { SparseResultSchema } from '../../engine/contracts/schema/results.js';
import type { FunctionRequest, SparseResultJson } from '../../engine/index.js';

/** Readonly everywhere, so that readonly and mutable forms of one shape compare equal. */
type Frozen<T> = T extends (...args: never[]) => unknown ? T : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;
/** Fields only JavaScript can fill: the schema leaves them open (unknown); the types give their classes. */
type Library = 'model' | 'sample' | 'custom' | 'baseline' | 'reference' | 'signal' | 'onProgress' | 'values' | 'samples' | 'losses' | 'logger' | 'queue';
type Json<T> = Frozen<Omit<T, Library>>;

describe('request types match their schemas', () => {
  it('ExplainRequest', () => {
    expectTypeOf<Json<ExplainRequest>>().toEqualTypeOf<Json<Static<typeof ExplainRequestSchema>>>();
  });
  it('GameRequest', () => {
    expectTypeOf<Json<GameRequest>>().toEqualTypeOf<Json<Static<typeof GameRequestSchema>>>();
  });
  it('DynamicsRequest', () => {
    expectTypeOf<Json<DynamicsRequest>>().toEqualTypeOf<Json<Static<typeof DynamicsRequestSchema>>>();
  });
  it('EngineOptions', () => {
    expectTypeOf<Json<EngineOptions>>().toEqualTypeOf<Json<Static<typeof EngineOptionsSchema>>>();
  });
});

describe('result types match their schemas', () => {
  it('ExplainResultJson is andor.explain/1', () => {
    expectTypeOf<Frozen<ExplainResultJson>>().toEqualTypeOf<Frozen<Static<typeof ExplainResultSchema>>>();
  });
  it('DynamicsResultJson is andor.dynamics/1', () => {
    expectTypeOf<Frozen<DynamicsResultJson>>().toEqualTypeOf<Frozen<Static<typeof DynamicsResultSchema>>>();
  });
});

describe('sparse method types match their schemas', () => {
  it('SparseResultJson is andor.sparse/1', () => {
    expectTypeOf<Frozen<SparseResultJson>>().toEqualTypeOf<Frozen<Static<typeof SparseResultSchema>>>();
  });
  it('FunctionRequest', () => {
    expectTypeOf<Frozen<Omit<FunctionRequest, Library | 'game'>>>().toEqualTypeOf<Frozen<Omit<Static<typeof FunctionRequestSchema>, Library | 'game'>>>();
  });
});
