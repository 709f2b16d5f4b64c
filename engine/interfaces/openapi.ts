// The OpenAPI 3.1 document of `andor serve`, built from the same schemas that validate the bodies and describe the
// results: request and response schemas for every route, every status the server sends, operationIds, shared
// components, and the package version.
import type { TSchema } from 'typebox';
import { BatchBodySchema, ExplainBodySchema, ValuesBodySchema } from '../contracts/schema/requests.js';
import { BATCH_SCHEMA, BatchResultSchema, ErrorBodySchema, ExplainResultSchema, HealthSchema, ModelListSchema, RESULT_SCHEMA, SPARSE_SCHEMA, SparseResultSchema } from '../contracts/schema/results.js';
import { VERSION } from './package-info.js';

/**
 * Plain JSON of a schema, without the annotations that only andor reads ($id, x-arg, x-library-only).
 * @param schema - a TypeBox schema
 * @param request - a request body: each `default` moves into its description, because client generators
 *   (openapi-typescript) read a default as "always present" and would make every such field required to send
 */
export function jsonSchemaOf(schema: TSchema, request = false): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(schema, function (this: Record<string, unknown>, key, value) {
      if (key === '$id' || key === 'x-arg' || key === 'x-library-only') return undefined;
      if (request && key === 'default') return undefined;
      if (request && key === 'description' && this.default !== undefined) return `${String(value)} (default ${JSON.stringify(this.default)})`;
      return value;
    }),
  );
}

/** Every error status the service sends, and when. */
export function errorStatuses(limits: { maxPlayers: number; bodyLimitBytes: number; timeoutMs: number }) {
  return {
    '400': 'no body, malformed JSON or bytes that are not UTF-8, an unknown or invalid option (the message lists the valid values), or a model path outside the models folder',
    '404': 'unknown model (GET /models lists them)',
    '413': `body over ${limits.bodyLimitBytes} bytes`,
    '415': 'the body is not application/json, is sent in a charset other than UTF-8, or is compressed (Content-Encoding)',
    '422': `the sample does not fit the model, more than ${limits.maxPlayers} players, a game's values not 2^n in number, non-finite rewards, or a memory limit`,
    '429': 'the job queue is full; retry after the Retry-After header\'s seconds',
    '500': 'an internal error (a model that fails to run, a crashed worker)',
    '503': 'the service is shutting down, or no backend can run the model',
    '504': `the job ran past ${limits.timeoutMs} ms and was cancelled`,
  } as const;
}

const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });

/**
 * The OpenAPI 3.1 description of the service.
 * @param limits - the service's limits, quoted in the status descriptions
 */
export function openApi(limits: { maxPlayers: number; bodyLimitBytes: number; timeoutMs: number }) {
  const statuses = errorStatuses(limits);
  const errors = (codes: (keyof typeof statuses)[]) => Object.fromEntries(codes.map((c) => [c, { $ref: `#/components/responses/${c}` }]));
  return {
    openapi: '3.1.0',
    info: { title: 'andor', version: VERSION, description: `AND-OR interactions of ONNX models. Explain results follow the schema ${RESULT_SCHEMA}.` },
    paths: {
      '/health': { get: { operationId: 'getHealth', summary: 'Liveness and queue state', responses: { '200': { description: 'ok', content: json('Health') } } } },
      '/models': {
        get: { operationId: 'listModels', summary: 'The .onnx files of the models folder', responses: { '200': { description: 'model names, relative to the folder', content: json('ModelList') }, ...errors(['500']) } },
      },
      '/openapi.json': {
        get: { operationId: 'getOpenApi', summary: 'This description', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
      '/explain': {
        post: {
          operationId: 'explain',
          summary: 'Explain one sample of a model',
          requestBody: { required: true, content: json('ExplainBody') },
          responses: {
            '200': {
              description: `an ${RESULT_SCHEMA} result (the exact method), or an ${SPARSE_SCHEMA} result (the sparse method: asked for, given a budget or maxOrder, or when 2^n does not fit)`,
              content: { 'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/ExplainResult' }, { $ref: '#/components/schemas/SparseResult' }] } } },
            },
            ...errors(['400', '404', '413', '415', '422', '429', '500', '503', '504']),
          },
        },
      },
      '/explain/batch': {
        post: {
          operationId: 'explainBatch',
          summary: 'Explain many samples of one model, and aggregate them',
          requestBody: { required: true, content: json('BatchBody') },
          responses: { '200': { description: `an ${BATCH_SCHEMA} result with every sample's result in results: ${RESULT_SCHEMA} (the exact method), or ${SPARSE_SCHEMA} (the sparse method: asked for, or given a budget, maxOrder or tolerance)`, content: json('BatchResult') }, ...errors(['400', '404', '413', '415', '422', '429', '500', '503', '504']) },
        },
      },
      '/explain/values': {
        post: {
          operationId: 'explainValues',
          summary: 'Explain a game the client evaluated itself, given as its values on all 2^n masks',
          requestBody: { required: true, content: json('ValuesBody') },
          responses: { '200': { description: `an ${RESULT_SCHEMA} result (the exact method; reward "given", no model)`, content: json('ExplainResult') }, ...errors(['400', '413', '415', '422', '429', '500', '503', '504']) },
        },
      },
    },
    components: {
      schemas: {
        ExplainBody: jsonSchemaOf(ExplainBodySchema, true),
        ExplainResult: jsonSchemaOf(ExplainResultSchema),
        SparseResult: jsonSchemaOf(SparseResultSchema),
        BatchBody: jsonSchemaOf(BatchBodySchema, true),
        BatchResult: jsonSchemaOf(BatchResultSchema),
        ValuesBody: jsonSchemaOf(ValuesBodySchema, true),
        Error: jsonSchemaOf(ErrorBodySchema),
        Health: jsonSchemaOf(HealthSchema),
        ModelList: jsonSchemaOf(ModelListSchema),
      },
      responses: Object.fromEntries(
        Object.entries(statuses).map(([code, description]) => [
          code,
          { description, content: json('Error'), ...(code === '429' ? { headers: { 'Retry-After': { description: 'seconds until a slot is likely free', schema: { type: 'integer', minimum: 1 } } } } : {}) },
        ]),
      ),
    },
  };
}
