// Type tests of the public API, and of KernelExports against the .d.ts that asc emits for the kernels.
import { describe, expectTypeOf, it } from 'vitest';
import type { instantiate } from '../../build/release.js';
import type { KernelFunctions } from '../../engine/contracts/kernels.js';
import {
  createEngine, loadSampleSet, resultToJson, type Engine, type EngineOptions, type ExplainRequest, type ExplainResult,
  type ExplainResultJson, type SampleSet, type SparseResult,
} from '../../engine/index.js';

describe('public API types', () => {
  it('createEngine takes optional options and resolves to an Engine', () => {
    expectTypeOf(createEngine).parameter(0).toEqualTypeOf<EngineOptions | undefined>();
    expectTypeOf(createEngine).returns.resolves.toEqualTypeOf<Engine>();
  });

  it('explain takes a request and resolves to a result with Float64Array vectors', () => {
    // the result type follows the method asked for: exact by default, sparse when asked, either for a general request
    const engine = {} as Engine;
    const request = {} as ExplainRequest;
    expectTypeOf(engine.explain({ model: 'm.onnx', sample: '[1]' })).resolves.toEqualTypeOf<ExplainResult>();
    expectTypeOf(engine.explain({ model: 'm.onnx', sample: '[1]', method: 'sparse' })).resolves.toEqualTypeOf<SparseResult>();
    expectTypeOf(engine.explain(request)).resolves.toEqualTypeOf<ExplainResult | SparseResult>();
    expectTypeOf(engine.explainAuto).returns.resolves.toEqualTypeOf<ExplainResult | SparseResult>();
    expectTypeOf<ExplainResult['v']>().toEqualTypeOf<Float64Array>();
    expectTypeOf<ExplainResult['and']>().toEqualTypeOf<Float64Array>();
    expectTypeOf<ExplainRequest['model']>().toEqualTypeOf<string | Uint8Array>();
  });

  it('resultToJson gives plain arrays', () => {
    expectTypeOf(resultToJson({} as ExplainResult)).toEqualTypeOf<ExplainResultJson>();
    expectTypeOf<ExplainResultJson['v']>().toEqualTypeOf<readonly number[]>();
  });

  it('loadSampleSet resolves to a SampleSet', () => {
    expectTypeOf(loadSampleSet).returns.resolves.toEqualTypeOf<SampleSet>();
  });

  it('transform ops take and give Float64Array', () => {
    expectTypeOf<Engine['mobius']>().parameter(0).toEqualTypeOf<Float64Array>();
    expectTypeOf<Engine['mobius']>().returns.resolves.toEqualTypeOf<Float64Array>();
  });
});

describe('KernelExports', () => {
  it('matches the signatures asc emits for build/release.wasm', () => {
    type Emitted = Awaited<ReturnType<typeof instantiate>>;
    expectTypeOf<Pick<Emitted, keyof KernelFunctions>>().toExtend<KernelFunctions>();
    expectTypeOf<KernelFunctions>().toExtend<Pick<Emitted, keyof KernelFunctions>>();
  });
});
