// The service's HTTP edge, from an adversarial sweep: a large reply is streamed while other requests are answered, a
// wrong method is 405 with Allow, a URL over Node's limit is 414, a POST without a body, a charset other than UTF-8 and
// bytes that are not UTF-8 each get a message that says what to send, and warnings in a reply name body fields.
import { maxHeaderSize, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Service } from '../../dist/engine/interfaces/serve.js';
import { MODELS, batchToJson, createEngine, model, type Engine } from '../helpers/index.js';

const SAMPLES: { x: number[] }[] = JSON.parse(await readFile(model('breast-cancer.samples.json'), 'utf8')).samples;
const X = SAMPLES[0].x;
/** A batch whose reply is several MB (arrays, every interaction salient) but whose jobs take about a second. */
const BIG = { model: 'breast-cancer-mlp.onnx', samples: SAMPLES.map((s) => s.x), players: '0-11', preset: 'none' as const, salientRatio: 0, arrays: true };
/** Long enough for the big batch on two shared cores. */
const BIG_MS = 30_000;

const post = (url: string, path: string, body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${url}${path}`, { method: 'POST', headers, body });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (response: Response | Promise<Response>): Promise<any> => (await response).json();
const errorOf = async (response: Response): Promise<{ code: string; message: string }> => (await json(response)).error;

/** What a raw HTTP/1.1 request gets back, whole (the server closes the connection after a protocol error). */
function rawRequest(url: string, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk));
    socket.on('error', () => undefined); // the server resets the connection after its reply: the reply is what counts
    socket.on('close', () => resolve(reply));
    socket.write(request);
  });
}

/** A JSON value without the fields that differ from run to run (timings in ms). */
function withoutTimings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimings);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'timings' && key !== 'ms').map(([key, v]) => [key, withoutTimings(v)]));
}

describe('andor serve at the HTTP edge', () => {
  let engine: Engine;
  let service: Service;
  beforeAll(async () => {
    engine = await createEngine({ workers: 1, threads: 1, maxPlayers: 16 });
    service = await serve(engine, { modelsDir: MODELS, port: 0, timeoutMs: BIG_MS });
  });
  afterAll(async () => {
    await service.close();
    await engine.dispose();
  });

  it('answers GET /health while a large reply is being written, and the streamed reply is the library\'s JSON', async () => {
    // the server's own view of the big reply at the moment each /health arrives: JSON.stringify built the whole reply in
    // one go, so it had either not begun (headers not sent) or ended; streamed, /health is served between its pieces
    let big: ServerResponse | undefined;
    const seen: { begun: boolean; ended: boolean }[] = [];
    const watch = (request: IncomingMessage, response: ServerResponse) => {
      if (request.url === '/explain/batch') big = response;
      else if (request.url === '/health' && big) seen.push({ begun: big.headersSent, ended: big.writableEnded });
    };
    service.app.server.on('request', watch);
    try {
      const events: string[] = [];
      let done = false;
      const reply = post(service.url, '/explain/batch', JSON.stringify(BIG)).then(async (response) => {
        events.push('big headers');
        const text = await response.text();
        events.push('big end');
        done = true;
        return { response, text };
      });
      while (!done) {
        const health = await fetch(`${service.url}/health`);
        expect(health.status).toBe(200);
        expect(await json(health)).toMatchObject({ status: 'ok' });
        events.push('health');
      }
      const { response, text } = await reply;
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(seen.some((s) => s.begun && !s.ended)).toBe(true);
      expect(events.slice(events.indexOf('big headers'), events.indexOf('big end'))).toContain('health');

      // the same JSON as the library's result, as JSON.stringify wrote it
      const { arrays: _arrays, ...options } = BIG;
      const library = await engine.explainBatch({ ...options, model: model(BIG.model), samples: { source: 'body.samples', samples: BIG.samples.map((x) => ({ values: Float64Array.from(x) })) }, cacheDir: false });
      const written = JSON.parse(JSON.stringify(batchToJson(library, { arrays: true })));
      const expected = { ...written, model: { ...written.model, file: BIG.model }, results: written.results.map((r: { model: object }) => ({ ...r, model: { ...r.model, file: BIG.model } })) };
      expect(withoutTimings(JSON.parse(text))).toEqual(withoutTimings(expected));
      expect(text.length).toBeGreaterThan(4 * 64 * 1024); // several pieces, not one
    } finally {
      service.app.server.off('request', watch);
    }
  }, BIG_MS);

  it('writes a result that one JSON.stringify cannot (past V8\'s longest string), where it answered 422 REPLY_TOO_LARGE', async () => {
    // the real case, a batch of 130 samples at n = 16 with arrays (over 2^29 characters), takes 23 s and 1.4 GiB: here
    // JSON.stringify fails on a whole result as V8 does on a string that long
    const stringify = JSON.stringify;
    JSON.stringify = ((value: unknown, ...rest: never[]) => {
      if ((value as { schema?: unknown } | null)?.schema?.toString().startsWith('andor.')) throw new RangeError('Invalid string length');
      return stringify(value, ...rest);
    }) as typeof JSON.stringify;
    try {
      const request = { model: 'breast-cancer-mlp.onnx', players: '0-9', preset: 'none', arrays: true };
      const one = await post(service.url, '/explain', stringify({ ...request, sample: X }));
      const batch = await post(service.url, '/explain/batch', stringify({ ...request, samples: [X, SAMPLES[1].x] }));
      expect([one.status, batch.status]).toEqual([200, 200]);
      expect((await json(one)).v).toHaveLength(1024);
      expect((await json(batch)).results.map((r: { v: number[] }) => r.v.length)).toEqual([1024, 1024]);
    } finally {
      JSON.stringify = stringify;
    }
  });

  it('answers a route asked with another method with 405, the route\'s methods in Allow, and which to use', async () => {
    const get = await fetch(`${service.url}/explain`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await errorOf(get)).toEqual({ code: 'METHOD_NOT_ALLOWED', message: '/explain does not take GET (it takes POST): send POST /explain with a JSON object body (Content-Type: application/json). See GET /openapi.json.' });
    // refused for its method, before its body is read (a body Fastify would refuse as text/plain)
    const toHealth = await post(service.url, '/health?verbose=1', 'hello', { 'content-type': 'text/plain' });
    expect(toHealth.status).toBe(405);
    expect(toHealth.headers.get('allow')).toBe('GET, HEAD');
    expect((await errorOf(toHealth)).message).toBe('/health does not take POST (it takes GET, HEAD): send GET /health. See GET /openapi.json.');
    const batch = await fetch(`${service.url}/explain/batch`, { method: 'PUT' });
    expect([batch.status, batch.headers.get('allow')]).toEqual([405, 'POST']);
    // HEAD of a GET route is answered as Fastify does; a path that is no route stays 404
    const head = await fetch(`${service.url}/health`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, 'application/json; charset=utf-8', '']);
    const none = await fetch(`${service.url}/nope`);
    expect([none.status, none.headers.get('allow'), (await errorOf(none)).code]).toEqual([404, null, 'NOT_FOUND']);
    // ... before its body is read: it was refused for a missing or broken body
    for (const body of [undefined, '{']) expect((await fetch(`${service.url}/nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(404);
  });

  it('answers a URL over Node\'s header limit with 414 that says to send the options in the body; long headers stay 431', async () => {
    const url = await rawRequest(service.url, `GET /health?players=${'0,'.repeat(maxHeaderSize)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(url).toMatch(/^HTTP\/1\.1 414 URI Too Long\r\n/);
    expect(JSON.parse(url.slice(url.indexOf('\r\n\r\n') + 4)).error).toEqual({
      code: 'URI_TOO_LONG',
      message: `The URL is over Node's limit on a request's URL and headers together, ${maxHeaderSize} bytes (node --max-http-header-size): send the options in the JSON body of a POST, not in the URL.`,
    });
    // pipelined after a request that was fine, in the same packet: told apart from that request's headers too
    const second = await rawRequest(service.url, `GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health?${'a'.repeat(maxHeaderSize + 1000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(second).toMatch(/^HTTP\/1\.1 414 URI Too Long\r\n/);
    const headers = await rawRequest(service.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(maxHeaderSize + 1000)}\r\n\r\n`);
    expect(headers).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(headers.slice(headers.indexOf('\r\n\r\n') + 4)).error.message).toMatch(/^The request's headers are over Node's limit .*: send fewer or shorter headers/);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });

  it('refuses a batchSize over the service\'s limit with 400, on explain and batch (2^20 rows of a CNN held 14 GB past the job\'s timeout)', async () => {
    for (const [path, body] of [['/explain', { sample: X }], ['/explain/batch', { samples: [X] }]] as const) {
      const over = await post(service.url, path, JSON.stringify({ model: 'breast-cancer-mlp.onnx', players: '0-3', preset: 'none', batchSize: 1025, ...body }));
      expect(over.status, path).toBe(400);
      expect(await errorOf(over)).toEqual({ code: 'INVALID_OPTION', message: 'body.batchSize = 1025 is above this service\'s limit of 1024 rows per model run (maxBatchSize / --max-batch-size): a model\'s activations grow with the batch. Ask for at most 1024, or leave it out.' });
      const within = await post(service.url, path, JSON.stringify({ model: 'breast-cancer-mlp.onnx', players: '0-3', preset: 'none', batchSize: 1024, ...body }));
      expect(within.status, path).toBe(200);
    }
  });

  it('answers a POST without a body by saying to send a JSON object with Content-Type application/json', async () => {
    const response = await fetch(`${service.url}/explain`, { method: 'POST' });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toEqual({ code: 'MISSING_BODY', message: 'POST /explain has no body: send a JSON object of options, with Content-Type: application/json. See GET /openapi.json.' });
    // a body of JSON null was sent: that one is still named as it is
    expect((await errorOf(await post(service.url, '/explain', 'null'))).message).toBe('body must be an object (got null).');
  });

  describe('a body that is not UTF-8', () => {
    const body = (name: string) => JSON.stringify({ model: 'breast-cancer-mlp.onnx', sample: X, players: '0-1', names: ['\uFFFD', name], preset: 'none', arrays: false });

    it('is refused with 415 when sent with another charset, naming it (é was read as U+FFFD)', async () => {
      const response = await post(service.url, '/explain', Buffer.from(body('café'), 'latin1'), { 'content-type': 'application/json; charset=iso-8859-1' });
      expect(response.status).toBe(415);
      expect(await errorOf(response)).toEqual({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'The body is sent as charset iso-8859-1, which this service does not read: encode it as UTF-8, and send Content-Type: application/json (or application/json; charset=utf-8).',
      });
    });

    it('is refused with 400 naming the first byte that is not UTF-8, past a U+FFFD the body does spell', async () => {
      // the body in UTF-8 but for its é, in Latin-1 (one byte, 0xe9); the U+FFFD before it is spelled in UTF-8
      const text = body('café');
      const at = Buffer.byteLength(text.slice(0, text.indexOf('é')));
      const bytes = Buffer.concat([Buffer.from(text.slice(0, text.indexOf('é'))), Buffer.of(0xe9), Buffer.from(text.slice(text.indexOf('é') + 1))]);
      const response = await post(service.url, '/explain', bytes);
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toEqual({
        code: 'INVALID_UTF8',
        message: `The request body is not valid UTF-8: byte ${at} (0xe9, after "0-1\\",\\"names\\":[\\"�\\",\\"caf") is not part of a UTF-8 character. Send the body encoded as UTF-8 (a Latin-1 "é", 0xe9, is 0xc3 0xa9 in UTF-8).`,
      });
    });

    it.each(['application/json', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"'])('is read as sent when it is UTF-8 (%s)', async (contentType) => {
      const response = await post(service.url, '/explain', Buffer.from(body('café'), 'utf8'), { 'content-type': contentType });
      expect(response.status).toBe(200);
      expect((await json(response)).players).toEqual(['\uFFFD', 'café']);
    });
  });

  it('names body fields, not CLI flags, in the warning of a decomposition that did not settle (explain and batch)', async () => {
    // tabular-f64 on sample row 2: PDHG's last iterate is no better than its start (the library warns of --lr)
    const request = { model: 'tabular-f64.onnx', players: '0-9', arrays: false };
    const one = await json(post(service.url, '/explain', JSON.stringify({ ...request, sample: SAMPLES[2].x })));
    const batch = await json(post(service.url, '/explain/batch', JSON.stringify({ ...request, samples: [SAMPLES[2].x] })));
    expect(batch.results.map((r: { schema: string }) => r.schema)).toEqual(['andor.explain/1']); // a small batch's results, streamed too
    for (const warning of [one.decomposition.warning, batch.results[0].decomposition.warning]) {
      expect(warning).toMatch(/no body\.lr or body\.iterations changes it.* Try another body\.lr \(default 5\) or more body\.iterations\./);
      expect(warning).not.toMatch(/--/);
    }
  });
});
