// The service's OpenAPI document: valid OpenAPI 3.1 (checked by @readme/openapi-parser), complete (operationIds,
// every status the server sends, shared components, the package version), and usable: openapi-typescript turns it
// into types under which POST /explain's 200 reply is a typed result, not `never`.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { validate } from '@readme/openapi-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApi } from '../../dist/engine/interfaces/openapi.js';
import { ROOT } from '../helpers/index.js';

const run = promisify(execFile);
const LIMITS = { maxPlayers: 16, bodyLimitBytes: 1 << 20, timeoutMs: 60_000 };

describe('the OpenAPI document', () => {
  const doc = openApi(LIMITS);
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andor-openapi-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is valid OpenAPI 3.1', async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
  });

  it('names every operation, carries the package version, and lists every status the server sends', async () => {
    const version = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version;
    expect(doc.info.version).toBe(version);
    const operations = Object.values(doc.paths).flatMap((p) => Object.values(p) as { operationId: string; responses: Record<string, unknown> }[]);
    expect(operations.map((o) => o.operationId).sort()).toEqual(['explain', 'explainBatch', 'explainValues', 'getHealth', 'getOpenApi', 'listModels']);
    expect(Object.keys(doc.paths['/explain/batch'].post.responses).sort()).toEqual(Object.keys(doc.paths['/explain'].post.responses).sort());
    expect(Object.keys(doc.paths['/explain'].post.responses).sort()).toEqual(['200', '400', '404', '413', '415', '422', '429', '500', '503', '504']);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['ExplainBody', 'ExplainResult', 'Error', 'Health', 'ModelList']));
    expect(doc.components.responses['429']).toHaveProperty('headers.Retry-After');
    // both methods' results, in both operations' descriptions
    for (const path of ['/explain', '/explain/batch'] as const) expect(doc.paths[path].post.responses['200'].description).toMatch(/andor\.explain\/1 .*andor\.sparse\/1/);
  });

  it('generates a typed client: the explain reply is a result, not never', async () => {
    const ast = await openapiTS(structuredClone(doc) as never);
    await writeFile(join(dir, 'api.ts'), astToString(ast));
    await writeFile(
      join(dir, 'use.ts'),
      `import type { paths } from './api.js';
       type Reply = paths['/explain']['post']['responses'][200]['content']['application/json'];
       type Body = paths['/explain']['post']['requestBody'];
       type IsNever<T> = [T] extends [never] ? true : false;
       export const replyIsTyped: IsNever<Reply> = false;
       export function top(reply: Reply): number {
         // an exact or a sparse result, told apart by their schema ids
         if (reply.schema === 'andor.explain/1') {
           const first: { kind: 'and' | 'or'; value: number } | undefined = reply.salient[0];
           return (first?.value ?? 0) + reply.matching.maxAbsError + reply.indices.shapley.length + reply.n;
         }
         return reply.evaluations + (reply.faithfulness.r2 ?? 0);
       }
       export const body: NonNullable<Body>['content']['application/json'] = { model: 'm.onnx', sample: [1, 2], preset: 'none', players: '0-1' };
       type ValuesReply = paths['/explain/values']['post']['responses'][200]['content']['application/json'];
       export const given = (reply: ValuesReply): number => reply.indices.shapley.length + reply.n;
       export const values: NonNullable<paths['/explain/values']['post']['requestBody']>['content']['application/json'] = { values: [0, 1, 2, 4], preset: 'none' };
       // @ts-expect-error: a game's body has no model
       export const noModel: NonNullable<paths['/explain/values']['post']['requestBody']>['content']['application/json'] = { values: [0, 1], model: 'm.onnx' };
       // @ts-expect-error: presets are an enum
       export const bad: NonNullable<Body>['content']['application/json'] = { model: 'm.onnx', sample: [1], preset: 'fastest' };
      `,
    );
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022'], types: [] }, files: ['use.ts'] }));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')]).catch((e) => e as { stdout: string });
    expect((result as { stdout: string }).stdout).toBe('');
  });
});
