// POST /explain with the sparse method: andor.sparse/1 replies, the service's own limits on sparse requests
// (maxSparsePlayers, maxBudget) answered with 400 and a message that names the limit and the fix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import { serve, type Service } from '../../dist/engine/interfaces/serve.js';
import { SparseResultSchema } from '../../dist/engine/contracts/schema/results.js';
import { MODELS, createEngine, type Engine } from '../helpers/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (r: Response): Promise<any> => r.json();
const post = (url: string, body: unknown) => fetch(`${url}/explain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
/** The planted AND game of models/planted (n = 64): sample all ones, reward output. */
const PLANTED = { model: 'planted/planted-64.onnx', sample: new Array(64).fill(1), reward: 'output', target: 0 };

describe('andor serve, sparse method', () => {
  let engine: Engine;
  let service: Service;
  beforeAll(async () => {
    engine = await createEngine({ workers: 2, threads: 1, maxPlayers: 16 });
    service = await serve(engine, { modelsDir: MODELS, port: 0, maxBudget: 30_000, maxSparsePlayers: 100, timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await service.close();
    await engine.dispose();
  });

  it('explains 64 players (above maxPlayers 16) with the sparse method, as andor.sparse/1', async () => {
    const response = await post(service.url, { ...PLANTED, method: 'sparse', budget: 20_000, maxOrder: 4 });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.schema).toBe('andor.sparse/1');
    expect([...Compile(SparseResultSchema).Errors(body)]).toEqual([]);
    expect(body.model.file).toBe('planted/planted-64.onnx');
    expect(body.n).toBe(64);
    expect(body.evaluations).toBeLessThanOrEqual(20_000);
  });

  it('chooses the sparse method for 64 players without being asked, within maxBudget', async () => {
    const response = await post(service.url, PLANTED);
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.schema).toBe('andor.sparse/1');
    expect(body.budget).toBeLessThanOrEqual(30_000);
  });

  it('takes a tolerance, reports it requested and kept, and refuses one outside [0, 1) with 400 naming it', async () => {
    const response = await post(service.url, { ...PLANTED, method: 'sparse', budget: 20_000, maxOrder: 4, tolerance: 0.001 });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect([...Compile(SparseResultSchema).Errors(body)]).toEqual([]);
    expect(body.tolerance).toEqual({ requested: 0.001, and: 0.001, or: 0.001 });
    for (const tolerance of [1, -0.5, 'small', null]) {
      const refused = await post(service.url, { ...PLANTED, method: 'sparse', tolerance });
      expect(refused.status).toBe(400);
      const { error } = await json(refused);
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toMatch(/tolerance/);
    }
  });

  it('refuses a budget above maxBudget with 400', async () => {
    const response = await post(service.url, { ...PLANTED, method: 'sparse', budget: 50_000 });
    expect(response.status).toBe(400);
    const { error } = await json(response);
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toBe("body.budget = 50000 is above this service's limit of 30000 evaluations (maxBudget / --max-budget). Ask for at most 30000.");
  });

  it('refuses more players than maxSparsePlayers with 400', async () => {
    const small = await serve(engine, { modelsDir: MODELS, port: 0, maxSparsePlayers: 32 });
    try {
      const response = await post(small.url, { ...PLANTED, method: 'sparse' });
      expect(response.status).toBe(400);
      const { error } = await json(response);
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toMatch(/^64 players exceed this service's limit of 32 players for the sparse method \(maxSparsePlayers \/ --max-sparse-players\)\. Choose at most 32 players/);
    } finally {
      await small.close();
    }
  });

  it('refuses bad service limits up front', async () => {
    await expect(serve(engine, { modelsDir: MODELS, port: 0, maxBudget: 0 })).rejects.toThrow(/maxBudget/);
    await expect(serve(engine, { modelsDir: MODELS, port: 0, maxSparsePlayers: 5000 })).rejects.toThrow(/maxSparsePlayers/);
  });
});
