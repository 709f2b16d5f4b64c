// POST /explain/values: a game the client evaluated itself, given as its 2^n values. The reply is the library's
// explainValues result, the same interactions as POST /explain of the model whose v it is, and each bad body is a
// 4xx that says what to fix, with the service staying up.
import { readFile } from 'node:fs/promises';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema, ExplainResultSchema } from '../../dist/engine/contracts/schema/results.js';
import { serve, type Service } from '../../dist/engine/interfaces/serve.js';
import { MODELS, createEngine, expectClose, model, type Engine } from '../helpers/index.js';

const X: number[] = JSON.parse(await readFile(model('breast-cancer.samples.json'), 'utf8')).samples[0].x;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const post = async (url: string, route: string, body: unknown): Promise<{ status: number; body: any }> => {
  const response = await fetch(`${url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
};

describe('POST /explain/values', () => {
  let engine: Engine;
  let service: Service;
  beforeAll(async () => {
    engine = await createEngine({ workers: 1, threads: 1, maxPlayers: 12 });
    service = await serve(engine, { modelsDir: MODELS, port: 0, bodyLimitBytes: 256 * 1024, timeoutMs: 20_000 });
  });
  afterAll(async () => {
    await service?.close();
    await engine?.dispose();
  });

  it('gives the interactions POST /explain gives for the model whose v it is, and the library\'s explainValues result', async () => {
    for (const options of [{ preset: 'none' }, { preset: 'default', qthres: 0.1 }, { decomposition: 'and', preset: 'none', salientRatio: 0.2, indexOrder: 3 }]) {
      const byModel = await post(service.url, '/explain', { model: 'breast-cancer-mlp.onnx', sample: X, players: '0-7', ...options });
      expect(byModel.status).toBe(200);
      const names = byModel.body.players;
      const byValues = await post(service.url, '/explain/values', { values: byModel.body.v, names, ...options });
      expect(byValues.status, JSON.stringify(byValues.body).slice(0, 300)).toBe(200);
      expect([...Compile(ExplainResultSchema).Errors(byValues.body)]).toEqual([]);
      expect(byValues.body).toMatchObject({ schema: 'andor.explain/1', n: 8, players: names, reward: 'given' });
      expect(byValues.body.model).toBeUndefined();
      for (const key of ['and', 'or', 'v'] as const) expectClose(byValues.body[key], byModel.body[key], { atol: 0 });
      expect(byValues.body.indices).toEqual(byModel.body.indices);
      expect(byValues.body.salient).toEqual(byModel.body.salient);
      const library = await engine.explainValues({ values: byModel.body.v, names, ...(options as object) });
      expectClose(byValues.body.and, library.and, { atol: 0 });
      expectClose(byValues.body.indices.shapley, library.indices.shapley, { atol: 0 });
    }
    // arrays false empties v, and and or, as on /explain
    const lean = await post(service.url, '/explain/values', { values: [0, 1, 2, 4], arrays: false, preset: 'none' });
    expect(lean.status).toBe(200);
    expect([lean.body.v, lean.body.and, lean.body.or]).toEqual([[], [], []]);
    // a known game: v = x0 + 2·x1 + x0·x1 has AND terms 1, 2 and 1 on {0}, {1}, {0, 1}; Shapley values 1.5 and 2.5
    expect(lean.body.indices.shapley).toEqual([1.5, 2.5]);
  });

  it('refuses each bad body with a 4xx that names the field and what to send, and stays up', async () => {
    const cases: [unknown, number, string, RegExp][] = [
      [{ values: [1, 2, 3] }, 422, 'SHAPE_MISMATCH', /3 values|power of two|2\^n/],
      [{ values: [1] }, 400, 'INVALID_OPTION', /body\.values/],
      [{ values: '/etc/passwd' }, 400, 'INVALID_OPTION', /body\.values/],
      [{ values: [0, null] }, 400, 'INVALID_OPTION', /body\.values .*at \[1\]: must be number/],
      [{ values: [0, '1'] }, 400, 'INVALID_OPTION', /body\.values .*at \[1\]: must be number/],
      [{ values: new Array(2 ** 13).fill(0) }, 400, 'INVALID_OPTION', /8192 values.*12 players.*--max-players/],
      [{ values: [0, 1], model: 'breast-cancer-mlp.onnx' }, 400, 'INVALID_OPTION', /model/],
      [{ values: [0, 1, 2, 3], names: ['a'] }, 400, 'INVALID_OPTION', /names/],
      [{ values: [-1e308, 1e308] }, 422, 'NON_FINITE', /overflows|Rescale/],
      [{ values: [0, 1], preset: 'fastest' }, 400, 'INVALID_OPTION', /body\.preset/],
      ['{"values": [0, NaN]}', 400, 'INVALID_JSON', /NaN/],
    ];
    for (const [body, status, code, message] of cases) {
      const reply = await post(service.url, '/explain/values', body);
      const what = `${JSON.stringify(body).slice(0, 60)} → ${JSON.stringify(reply.body).slice(0, 300)}`;
      expect(reply.status, what).toBe(status);
      expect([...Compile(ErrorBodySchema).Errors(reply.body)], what).toEqual([]);
      expect(reply.body.error.code, what).toBe(code);
      expect(reply.body.error.message, what).toMatch(message);
    }
    // over the body limit: 413; another method: 405 naming POST
    const big = await post(service.url, '/explain/values', { values: new Array(2 ** 14).fill(0.123456789012345) });
    expect(big.status).toBe(413);
    expect(big.body.error.message).toMatch(/262144-byte limit .*--body-limit/);
    const get = await fetch(`${service.url}/explain/values`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toMatch(/POST/);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });
});
