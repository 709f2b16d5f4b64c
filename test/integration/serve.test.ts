// The HTTP service: its endpoints, the same result as the library, a clear 4xx for each kind of bad input with the
// server staying up, backpressure (429 + Retry-After), cancellation on disconnect and timeout, graceful shutdown.
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import { serve, type Service } from '../../dist/engine/interfaces/serve.js';
import { openApi } from '../../dist/engine/interfaces/openapi.js';
import { ErrorBodySchema, ExplainResultSchema, HealthSchema, ModelListSchema } from '../../dist/engine/contracts/schema/results.js';
import { MODELS, createEngine, expectClose, model, type Engine } from '../helpers/index.js';

const SAMPLES = JSON.parse(await readFile(model('breast-cancer.samples.json'), 'utf8')).samples;
const X: number[] = SAMPLES[0].x;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (r: Response | Promise<Response>): Promise<any> => (await r).json();
const post = (url: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${url}/explain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...init });
/** V8's collector, on demand: on Node 20 AbortSignal.any held an AbortSignal.timeout weakly, so one collection
 *  silently dropped a job's time limit (an adversarial sweep, stop 32). */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** A job that takes a while: 2^14 masks and many reference iterations. */
const slow = { model: 'breast-cancer-mlp.onnx', sample: X, players: '0-13', preset: 'reference', iterations: 400, arrays: false };

describe('andor serve', () => {
  let engine: Engine;
  let service: Service;
  beforeAll(async () => {
    engine = await createEngine({ workers: 2, threads: 1, maxPlayers: 16 });
    service = await serve(engine, { modelsDir: MODELS, port: 0, concurrency: 1, queueSize: 1, bodyLimitBytes: 64 * 1024, timeoutMs: 20_000 });
  });
  afterAll(async () => {
    await service.close();
    await engine.dispose();
  });

  it('answers /health, /models and /openapi.json', async () => {
    const health = await json(fetch(`${service.url}/health`));
    expect(health).toMatchObject({ status: 'ok', queue: { running: 0, waiting: 0 } });
    const models = (await json(fetch(`${service.url}/models`))).models;
    expect(models.find((m: { model: string }) => m.model === 'breast-cancer-mlp.onnx')).toMatchObject({ name: 'breast-cancer-mlp', modality: 'tabular' });
    const spec = await json(fetch(`${service.url}/openapi.json`));
    expect(spec).toEqual(JSON.parse(JSON.stringify(openApi({ maxPlayers: 16, bodyLimitBytes: 64 * 1024, timeoutMs: 20_000 }))));
    // the replies are what the document says they are
    expect(Compile(HealthSchema).Check(health)).toBe(true);
    expect(Compile(ModelListSchema).Check({ models })).toBe(true);
  });

  it('POST /explain gives the CLI result schema and the library\'s numbers', async () => {
    const response = await post(service.url, { model: 'breast-cancer-mlp.onnx', sample: X, label: 1, players: '0-9', preset: 'none' });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.schema).toBe('andor.explain/1');
    expect([...Compile(ExplainResultSchema).Errors(body)]).toEqual([]);
    expect(body.model.file).toBe('breast-cancer-mlp.onnx');
    const library = await engine.explain({ model: model('breast-cancer-mlp.onnx'), sample: model('breast-cancer.samples.json'), players: '0-9', preset: 'none' });
    expectClose(body.v, library.v, { atol: 1e-9 });
    expectClose(body.and, library.and, { atol: 1e-9 });
  });

  it('explains a nested image sample and a two-input text sample', async () => {
    const digits = JSON.parse(await readFile(model('digits.samples.json'), 'utf8')).samples[0];
    const image = await post(service.url, { model: 'digits-cnn.onnx', sample: digits.x, modality: 'image', grid: '4x4', players: '5,6,9,10', arrays: false });
    expect(image.status).toBe(200);
    const tokens = JSON.parse(await readFile(model('tokens.samples.json'), 'utf8')).samples[0];
    const text = await post(service.url, { model: 'token-transformer.onnx', sample: tokens.x, modality: 'text', players: '0-9', maskToken: 1, arrays: false });
    expect(text.status).toBe(200);
    expect((await json(text)).salient[0].players).toEqual([4, 7]); // (b AND e) at positions 4 and 7
    // a bundled model's modality and masking come from its manifest entry, as on the command line (an adversarial
    // sweep, stop 32: without modality the image model was refused with 400 "Choose the modality")
    const [byDefault, given] = await Promise.all([
      json(post(service.url, { model: 'digits-cnn.onnx', sample: digits.x, players: '5,6,9,10', arrays: false })),
      json(image),
    ]);
    expect(byDefault.players).toEqual(given.players); // grid cells r1c1 …, as with modality image and grid 4x4
    expect(byDefault.and).toEqual(given.and);
    const bare = await json(post(service.url, { model: 'token-transformer.onnx', sample: tokens.x, players: '0-9', arrays: false }));
    expect(bare.salient[0].players).toEqual([4, 7]);
    // ... whatever name reaches the file (stop 33: "./digits-cnn.onnx" lost them, and its grid became the default)
    const dotted = await json(post(service.url, { model: './digits-cnn.onnx', sample: digits.x, players: '5,6,9,10', arrays: false }));
    expect(dotted.and).toEqual(given.and);
  });

  it.each([
    ['malformed JSON', '{"model": ', 400, /^The request body is not valid JSON \(.+\)\.$/],
    // Fastify called these "not valid JSON" too (an adversarial sweep, stop 33)
    ['a __proto__ key', `{"model": "breast-cancer-mlp.onnx", "sample": [1], "reference": [{"x": [1], "__proto__": {"x": [2]}}]}`, 400, /^The request body holds body\.reference\[0\]\.__proto__, a key this service refuses/],
    ['a constructor.prototype key', '{"model": "breast-cancer-mlp.onnx", "constructor": {"prototype": {"admin": true}}}', 400, /holds body\.constructor, a key this service refuses/],
    ['an empty body', ' ', 400, /^The request body is empty: send a JSON object\.$/],
    // JSON keeps the last of two equal keys: one of them was ignored in silence
    ['a key given twice', '{"model": "breast-cancer-mlp.onnx", "sample": [1], "reference": [{"x": [1], "x": [2]}]}', 400, /^The request body gives the key "x" twice in body\.reference\[0\]: JSON keeps only the last one/],
    // the library's options.<field> is the body's field here (an adversarial sweep, stop 33)
    ['a label out of range', { model: 'breast-cancer-mlp.onnx', sample: X, label: 7, players: '0-3' }, 400, /^Target class 7 \(the sample's label\) is out of range: .* Fix the label, or give body\.target to explain another class\.$/],
    ['a budget too small', { model: 'breast-cancer-mlp.onnx', sample: X, players: '0-19', method: 'sparse', budget: 10 }, 400, /^body\.budget = 10 is too small .* Raise body\.budget to ≥ \d+ or lower body\.maxOrder\.$/],
    // a field the engine names with its flag beside it: once, in the body's spelling (an adversarial sweep, stop 43: "body.reference FILE")
    ['a mean baseline without reference rows', { model: 'breast-cancer-mlp.onnx', sample: X, players: '0-3', baseline: 'mean' }, 400, /^baseline "mean" needs a reference set: pass body\.reference with one or more rows\.$/],
    ['an unknown model', { model: 'nope.onnx', sample: X }, 404, /No model "nope.onnx"/],
    ['a path outside the models folder', { model: '../package.json', sample: X }, 400, /leaves the models folder/],
    ['an absolute path', { model: '/etc/passwd.onnx', sample: X }, 400, /leaves the models folder/],
    ['a file-path sample', { model: 'breast-cancer-mlp.onnx', sample: '/etc/passwd' }, 400, /body.sample must be a non-empty list, or an object \(the sample: a JSON array/],
    ['a file-path baseline', { model: 'breast-cancer-mlp.onnx', sample: X, baseline: '/etc/passwd' }, 400, /body.baseline must be one of: zero, mean, marginal, blur, centroid, center, or a non-empty list of finite numbers \(got "\/etc\/passwd"\)/],
    ['wrong sample shapes', { model: 'breast-cancer-mlp.onnx', sample: [1, 2, 3] }, 422, /takes 30 values per sample, but the sample has 3/],
    ['too many players', { model: 'breast-cancer-mlp.onnx', sample: X, players: '0-19' }, 400, /20 players exceed the limit of 16/],
    ['an unknown option', { model: 'breast-cancer-mlp.onnx', sample: X, colour: 'red' }, 400, /Unknown option body.colour/],
    // messages that named the wrong field (an adversarial sweep): body.sample.label, players[0], players: …
    ['a label float64 holds inexactly', { model: 'breast-cancer-mlp.onnx', sample: X, label: 1e300, players: '0-3' }, 400, /^body\.label must be a non-negative integer class index \(got 1e\+300\)\.$/],
    ['a players list with a huge entry', { model: 'breast-cancer-mlp.onnx', sample: X, players: [0, 1e300] }, 400, /^body\.players\[1\] must be a non-negative integer \(got 1e\+300\)\.$/],
    ['a players list with a player twice', { model: 'breast-cancer-mlp.onnx', sample: X, players: [2, 2] }, 400, /^body\.players: feature column 2 is listed twice\.$/],
    ['a players list out of range', { model: 'breast-cancer-mlp.onnx', sample: X, players: [0, 30] }, 400, /^body\.players: feature column 30 is out of range; valid feature columns are 0\.\.29\.$/],
    ['players [1.5]', { model: 'breast-cancer-mlp.onnx', sample: X, players: [1.5] }, 400, /^body\.players must be a non-empty string, or a non-empty list of integers ≥ 0 .*\(got \[1\.5\]\)\.$/],
    ['players ["a"]', { model: 'breast-cancer-mlp.onnx', sample: X, players: ['a'] }, 400, /^body\.players must be a non-empty string, or a non-empty list of integers ≥ 0 .*\(got \["a"\]\)\.$/],
    ['players [-1]', { model: 'breast-cancer-mlp.onnx', sample: X, players: [-1] }, 400, /^body\.players must be a non-empty string, or a non-empty list of integers ≥ 0 .*\(got \[-1\]\)\.$/],
    // qthres bounds the learned q, which preset none (γ = q = 0) does not learn: refused as lr is (it was ignored)
    ['qthres with preset none', { model: 'breast-cancer-mlp.onnx', sample: X, players: '0-3', preset: 'none', qthres: 0.1 }, 400, /^body\.qthres tunes the solver, which preset "none" \(γ = q = 0\) does not run: leave it out, or choose another preset\.$/],
    ['an oversized body', { model: 'breast-cancer-mlp.onnx', sample: new Array(20_000).fill(0.5) }, 413, /over the 65536-byte limit/],
  ])('%s gets a clear 4xx, and the server stays up', async (_what, body, status, message) => {
    const response = await post(service.url, body);
    expect(response.status).toBe(status);
    const reply = await json(response);
    expect(Compile(ErrorBodySchema).Check(reply)).toBe(true);
    expect(reply.error.message).toMatch(message);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });

  it('names a batch label out of range as body.labels[i], the sample\'s label, not as body.target (which a batch body has not; an adversarial sweep)', async () => {
    const batch = (labels: number[]) => fetch(`${service.url}/explain/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'breast-cancer-mlp.onnx', samples: labels.map(() => X), labels, players: '0-3', preset: 'none' }) });
    for (const [labels, message] of [
      [[1, 5], /^breast-cancer-mlp\.onnx, sample row 1: Target class 5 \(body\.labels\[1\], the sample's label\) is out of range: output "logits" has 2 value\(s\) per sample, so valid targets are 0\.\.1\. Fix body\.labels\[1\]\.$/],
      [[1e300], /^body\.labels\[0\] must be a non-negative integer class index \(got 1e\+300\)\.$/],
    ] as const) {
      const response = await batch([...labels]);
      expect(response.status).toBe(400);
      const { error } = await json(response);
      expect(error.code).toMatch(/^INVALID_(OPTION|INPUT)$/);
      expect(error.message).toMatch(message);
    }
  });

  it('takes preset none under the authors\' conventions, which fill a qthres the body did not give', async () => {
    const response = await post(service.url, { model: 'breast-cancer-mlp.onnx', sample: X, players: '0-3', preset: 'none', conventions: 'authors', arrays: false });
    expect(response.status).toBe(200);
    expect((await json(response)).decomposition.preset).toBe('none');
  });

  it('refuses work beyond the queue with 429 and Retry-After', async () => {
    const jobs = [post(service.url, slow), post(service.url, slow), post(service.url, slow)];
    const responses = await Promise.all(jobs);
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 429]); // one running, one waiting, one refused
    const refused = responses.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('cancels a job whose client disconnects', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = post(service.url, { ...slow, iterations: 100_000 }, { signal: controller.signal }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    await pending;
    // the queue frees long before 100 000 iterations at n = 14 could finish
    expect(await runningAfter(started)).toBe(0);
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('cuts off a client that trickles its body, with 408, after --request-timeout-ms (an adversarial sweep, stop 33)', async () => {
    const strict = await serve(engine, { modelsDir: MODELS, port: 0, requestTimeoutMs: 500 });
    try {
      const client = connect(Number(new URL(strict.url).port), '127.0.0.1');
      let reply = '';
      client.on('data', (chunk) => (reply += chunk));
      client.write('POST /explain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model"');
      // a byte now and then, for ever: without the limit the connection stayed open (120 s in the sweep)
      const trickle = setInterval(() => client.write(' '), 100);
      await new Promise((resolve) => client.once('close', resolve));
      clearInterval(trickle);
      expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await strict.close();
    }
  });

  it('cancels a job whose client half-closes its connection after the request (an adversarial sweep, stop 33)', async () => {
    const started = performance.now();
    const body = JSON.stringify({ ...slow, iterations: 10_000_000 });
    const { port } = new URL(service.url);
    const client = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    client.end(`POST /explain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    client.resume();
    await new Promise((resolve) => client.once('close', resolve));
    // it ends: 10^7 iterations at n = 14 would hold the slot for about 1000 s
    expect(await runningAfter(started)).toBe(0);
  });

  it('gives no queue place to a request whose client went away before its job was queued (an adversarial sweep)', async () => {
    const started = performance.now();
    const controller = new AbortController();
    const running = post(service.url, { ...slow, iterations: 100_000 }, { signal: controller.signal }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 300));
    // a client that sends its whole request and closes at once, while the one slot is taken
    const body = JSON.stringify(slow);
    const client = connect(Number(new URL(service.url).port), '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    client.end(`POST /explain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    client.resume();
    // its job waited for the slot anyway (an abort listener added once the signal had fired never fires), holding the
    // one waiting place (queueSize 1) until the running job ended: the next client got 429
    let waiting = 0;
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 100));
      waiting = Math.max(waiting, (await json(fetch(`${service.url}/health`))).queue.waiting);
    }
    client.destroy();
    expect(waiting).toBe(0);
    controller.abort();
    await running;
    expect(await runningAfter(started)).toBe(0);
  });

  /** The jobs running once none is, or 15 s after `started`, whichever comes first. */
  async function runningAfter(started: number): Promise<number> {
    let health;
    do {
      await new Promise((r) => setTimeout(r, 50));
      health = await json(fetch(`${service.url}/health`));
    } while (health.queue.running > 0 && performance.now() - started < 15_000);
    return health.queue.running as number;
  }
});

describe('andor serve limits and shutdown', () => {
  it('cancels a job past its time limit with 504', async () => {
    const engine = await createEngine({ workers: 1 });
    const service = await serve(engine, { modelsDir: MODELS, port: 0, timeoutMs: 200 });
    const collecting = setInterval(collectGarbage, 20);
    const response = await post(service.url, { ...slow, iterations: 100_000 }).finally(() => clearInterval(collecting));
    expect(response.status).toBe(504);
    expect((await json(response)).error.message).toMatch(/past the 200 ms limit/);
    await service.close();
    await engine.dispose();
  });

  it('counts a job\'s time limit from its start, not from its wait in the queue (an adversarial sweep, stop 31)', async () => {
    const engine = await createEngine({ workers: 1 });
    const service = await serve(engine, { modelsDir: MODELS, port: 0, timeoutMs: 1500, concurrency: 1, queueSize: 2 });
    try {
      // two jobs that run into the limit hold the one slot for about 3 s; the third waits that long, then runs quickly
      const long = [post(service.url, { ...slow, iterations: 100_000 }), post(service.url, { ...slow, iterations: 100_000 })];
      await new Promise((r) => setTimeout(r, 50));
      const quick = await post(service.url, { model: 'breast-cancer-mlp.onnx', sample: X, players: '0-3', preset: 'none', arrays: false });
      expect(quick.status).toBe(200);
      expect((await Promise.all(long)).map((r) => r.status)).toEqual([504, 504]);
    } finally {
      await service.close();
      await engine.dispose();
    }
  }, 30_000);

  it('shuts down gracefully: the running request completes, new connections are refused', async () => {
    const engine = await createEngine({ workers: 1 });
    const service = await serve(engine, { modelsDir: MODELS, port: 0 });
    const running = post(service.url, slow);
    await new Promise((r) => setTimeout(r, 200));
    const closing = service.close();
    const response = await running;
    expect(response.status).toBe(200);
    await closing;
    await expect(fetch(`${service.url}/health`)).rejects.toThrow();
    await engine.dispose();
  });

  it('tells a client whose job outlives the shutdown\'s grace that it was cancelled (503), instead of dropping it (an adversarial sweep, stop 32)', async () => {
    const engine = await createEngine({ workers: 1 });
    const service = await serve(engine, { modelsDir: MODELS, port: 0 });
    try {
      const running = post(service.url, { ...slow, iterations: 100_000 });
      await new Promise((r) => setTimeout(r, 300));
      await service.close(300);
      const response = await running;
      expect(response.status).toBe(503);
      expect((await json(response)).error).toMatchObject({ code: 'SHUTTING_DOWN', message: expect.stringMatching(/shut down before the job finished/) });
    } finally {
      await engine.dispose();
    }
  }, 30_000);

  it('refuses a models folder that does not exist', async () => {
    const engine = await createEngine();
    await expect(serve(engine, { modelsDir: '/nonexistent/models', port: 0 })).rejects.toThrowError(/not a readable folder/);
    await engine.dispose();
  });
});
