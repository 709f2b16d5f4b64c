// `andor serve`: explain over HTTP (fastify). Models come only from one directory; jobs run through a bounded queue
// (429 + Retry-After when full); request size, player count (its own, higher limit for the sparse method, with a
// limit on its budget) and run time are limited; a client that disconnects cancels its job; shutdown drains
// in-flight jobs. Errors are JSON {error: {code, message}} with a 4xx/5xx status. Replies are streamed in pieces, so
// building a large one never holds up the other requests.
import { realpath, readdir, stat } from 'node:fs/promises';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { CancelledError, EngineError, InvalidInputError, InvalidOptionError, type ErrorCode } from '../contracts/errors.js';
import type { Engine } from '../api/engine.js';
import type { Static, TObject } from 'typebox';
import { assertValid, dotted } from '../inputs/validate.js';
import { duplicateKey } from '../inputs/json-keys.js';
import { BatchBodySchema, ExplainBodySchema, JsonSampleSchema, ServeOptionsSchema, ValuesBodySchema } from '../contracts/schema/requests.js';
import { batchToJson, resultToJson } from '../api/result.js';
import { openApi } from './openapi.js';
import { jsonChunks, LazyList } from './output.js';
import { spellFields } from './cli-options.js';
import { SERVE_MAX_BATCH_SIZE, SERVE_MAX_BUDGET, SERVE_MAX_SPARSE_PLAYERS } from '../contracts/schema/constants.js';
import { flattenNumbers, type Sample } from '../inputs/samples.js';
import { preview } from '../inputs/preview.js';
import { readManifest, withModelDefaults } from './manifest.js';

/** Every field a request body may hold, as the messages name them (spellFields). */
const BODY_FIELDS = [...new Set([...Object.keys(ExplainBodySchema.properties), ...Object.keys(BatchBodySchema.properties), ...Object.keys(ValuesBodySchema.properties)])];

/**
 * A request body's text. JSON between systems is UTF-8 (RFC 8259 §8.1), and the body is read as nothing else: a body
 * sent with another charset, or with bytes that are not UTF-8, was read with U+FFFD in their place, so a player named
 * "é" in ISO-8859-1 became "\uFFFD" without a word.
 * @param contentType - the request's Content-Type header (its charset parameter, if any, must name UTF-8)
 * @throws HttpError 415 naming a charset other than UTF-8, or 400 naming the first byte that is not UTF-8
 */
function bodyText(bytes: Buffer, contentType: string | undefined): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `The body is sent as charset ${charset}, which this service does not read: encode it as UTF-8, and send Content-Type: application/json (or application/json; charset=utf-8).`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_ENCODING_INVALID_ENCODED_DATA') throw error;
    const at = firstInvalidByte(bytes);
    const before = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(Math.max(0, at - 24), at)).replace(/^\uFFFD+/, '');
    throw new HttpError(400, 'INVALID_UTF8', `The request body is not valid UTF-8: byte ${at} (0x${bytes[at].toString(16).padStart(2, '0')}, after ${JSON.stringify(before)}) is not part of a UTF-8 character. Send the body encoded as UTF-8 (a Latin-1 "é", 0xe9, is 0xc3 0xa9 in UTF-8).`);
  }
}

/** The offset of the first byte of `bytes` that is not part of a valid UTF-8 character (bytes holds at least one). */
function firstInvalidByte(bytes: Buffer): number {
  // the lenient decoder writes U+FFFD where the bytes go wrong: the first U+FFFD that the bytes do not spell (EF BF BD)
  // is the spot, and the text before it, all valid, is as long in UTF-8 as in the body
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
  let at = 0;
  let from = 0;
  for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) {
    at += Buffer.byteLength(text.slice(from, i));
    from = i;
    if (bytes[at] !== 0xef || bytes[at + 1] !== 0xbf || bytes[at + 2] !== 0xbd) return at;
  }
  return bytes.length - 1;
}

/**
 * A request body: JSON, with no key that could reach an object's prototype when the body is copied (`__proto__`, or
 * `constructor` holding `prototype`: what Fastify's own parser refuses too).
 * @throws HttpError 400 naming the position of a syntax error, or the path of the forbidden key
 */
function parseBody(text: string): unknown {
  if (text.trim() === '') throw new HttpError(400, 'INVALID_JSON', 'The request body is empty: send a JSON object.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'INVALID_JSON', `The request body is not valid JSON (${(error as Error).message}).`);
  }
  const twice = duplicateKey(text);
  if (twice) {
    throw new HttpError(400, 'INVALID_JSON', `The request body gives the key "${twice.key}" twice in body${twice.path}: JSON keeps only the last one, so the other would be ignored in silence. Give each key once.`);
  }
  // an explicit stack: a body nested 10^5 deep is within the size limit
  const stack: [unknown, string][] = [[value, 'body']];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    for (const [key, child] of Object.entries(node)) {
      const at = Array.isArray(node) ? `${path}[${key}]` : `${path}.${key}`;
      if (key === '__proto__' || (key === 'constructor' && child !== null && typeof child === 'object' && 'prototype' in child)) {
        throw new HttpError(400, 'INVALID_JSON', `The request body holds ${at}, a key this service refuses (it could change the prototype of objects the body is copied into): remove it.`);
      }
      stack.push([child, at]);
    }
  }
  return value;
}

/**
 * Whether a request over Node's header limit went over it in its request line, a URL too long (414), rather than in its
 * headers (431). Node reports both as HPE_HEADER_OVERFLOW, with the chunk it was parsing and how far it got: the
 * overflow is in the request line when that part of the chunk starts a request ("GET ", after the blank line that ends
 * any request before it on the connection) and has no line end yet. A request line cut across chunks (a URL of tens of
 * KB sent in pieces) cannot be told apart from a long header, and gets the 431 that names both.
 */
function overflowsInRequestLine(error: NodeJS.ErrnoException & { rawPacket?: unknown; bytesParsed?: unknown }): boolean {
  if (!Buffer.isBuffer(error.rawPacket) || typeof error.bytesParsed !== 'number') return false;
  const parsed = error.rawPacket.subarray(0, error.bytesParsed).toString('latin1');
  const before = parsed.lastIndexOf('\r\n\r\n');
  const request = before < 0 ? parsed : parsed.slice(before + 4);
  return /^[A-Z]+ /.test(request) && !request.includes('\n');
}

/** Service options (ServeOptionsSchema): the models folder, the address, the queue and the limits. */
export type ServeOptions = Static<typeof ServeOptionsSchema>;

const STATUS: Record<ErrorCode, number> = {
  INVALID_OPTION: 400, INVALID_INPUT: 400, SHAPE_MISMATCH: 422, MODEL_LOAD: 422, MODEL_RUN: 500, NON_FINITE: 422, MEMORY_LIMIT: 422,
  BACKEND_UNAVAILABLE: 503, KERNEL_TRAP: 500, WORKER_CRASHED: 500, CANCELLED: 503, DISPOSED: 503,
};

/** An error with an HTTP status of its own (routing and protocol errors). */
/** After a close's grace, how long the cancelled jobs' clients have to get their 503 before every connection is
 *  dropped. */
const SHUTDOWN_REPLY_MS = 1000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A FIFO of jobs: `concurrency` run, `queueSize` wait, the rest are refused. */
class JobQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private averageMs = 1000;

  constructor(
    readonly concurrency: number,
    readonly queueSize: number,
  ) {}

  get stats() {
    return { running: this.running, waiting: this.waiting.length, concurrency: this.concurrency, queueSize: this.queueSize };
  }

  /** Seconds until a slot is likely free. */
  retryAfterS(): number {
    return Math.max(1, Math.ceil((this.averageMs * (this.waiting.length + 1)) / this.concurrency / 1000));
  }

  /** Runs `job` when a slot frees; throws HttpError 429 when the queue is full. */
  async run<T>(job: () => Promise<T>, signal: AbortSignal): Promise<T> {
    // a client gone before its job reached the queue: an abort listener added now would never fire, and the job would
    // hold a waiting place (others got 429) until its turn came
    if (signal.aborted) throw new CancelledError('The request was cancelled before its job was queued (its client had gone).');
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueSize) throw new HttpError(429, 'QUEUE_FULL', `The job queue is full (${this.concurrency} running, ${this.queueSize} waiting). Retry later.`);
      await new Promise<void>((resolveSlot, reject) => {
        const onAbort = () => {
          const at = this.waiting.indexOf(start);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(new CancelledError('The request was cancelled while it waited in the queue.'));
        };
        const start = () => {
          signal.removeEventListener('abort', onAbort);
          resolveSlot();
        };
        this.waiting.push(start);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    } else this.running++;
    const started = performance.now();
    try {
      return await job();
    } finally {
      this.averageMs = 0.8 * this.averageMs + 0.2 * (performance.now() - started);
      const next = this.waiting.shift();
      if (next) next(); // hands the slot over: `running` stays the same
      else this.running--;
    }
  }
}

/** Resolves a model name inside the models folder, refusing anything that escapes it (.., absolute, links). */
async function resolveModel(root: string, name: unknown): Promise<string> {
  if (typeof name !== 'string' || name.trim() === '' || name.includes('\0')) throw new HttpError(400, 'INVALID_OPTION', 'body.model must be the file name of a model in the models folder, e.g. "breast-cancer-mlp.onnx".');
  if (isAbsolute(name) || name.split(/[\\/]/).includes('..')) throw new HttpError(400, 'PATH_OUTSIDE', `body.model "${name}" leaves the models folder; give a path relative to it, without "..".`);
  if (!name.endsWith('.onnx')) throw new HttpError(400, 'INVALID_OPTION', `body.model "${name}" is not an .onnx file.`);
  const candidate = resolve(root, name);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new HttpError(404, 'UNKNOWN_MODEL', `No model "${name}" in the models folder. GET /models lists them.`);
  }
  if (real !== root && !real.startsWith(root + sep)) throw new HttpError(400, 'PATH_OUTSIDE', `body.model "${name}" resolves outside the models folder.`);
  // a folder named like a model would fail later with this machine's path in the message
  const found = await stat(real);
  if (!found.isFile()) throw new HttpError(400, 'INVALID_OPTION', `body.model "${name}" is ${found.isDirectory() ? 'a folder' : 'a device, pipe or socket'}, not a model file. GET /models lists them.`);
  return real;
}

/**
 * The JSON sample (a nested array, or {input: array} for several inputs) as a Sample; strings are refused.
 * @param label - its label, given apart from it: body.label, or body.labels[i] of a batch (`labelAt` names it, and
 *   is the sample's labelSource in a batch, where a unit's messages name it)
 */
function sampleOf(sample: Static<typeof JsonSampleSchema>, label: number | undefined, where = 'body.sample', labelAt = 'body.label', batch = false): Sample {
  // the schema takes any integer ≥ 0 (1e300 too); the library's check would name it as a field of the sample
  if (label !== undefined && !Number.isSafeInteger(label)) throw new InvalidInputError(`${labelAt} must be a non-negative integer class index (got ${preview(label)}).`);
  const labelled = { label, ...(batch && label !== undefined ? { labelSource: labelAt } : {}) };
  if (Array.isArray(sample)) return { values: flattenNumbers(sample, where), ...labelled };
  const values = Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, flattenNumbers(v, `${where}.${k}`)]));
  if (Object.keys(values).length === 0) throw new InvalidInputError(`${where} is empty: give one array per model input.`);
  return { values, ...labelled };
}

/** The .onnx files of the models folder, to depth levels of subfolders: the ones POST /explain serves, links to a file
 *  inside the folder included (resolveModel follows them too; a link that leaves the folder is neither served nor
 *  listed). */
async function listModels(root: string, depth = 2): Promise<{ model: string; bytes: number }[]> {
  const out: { model: string; bytes: number }[] = [];
  const inside = async (path: string) => {
    const real = await realpath(path).catch(() => undefined);
    return real !== undefined && real.startsWith(root + sep) ? stat(real) : undefined;
  };
  const walk = async (dir: string, level: number) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && level < depth) await walk(path, level + 1);
      else if (entry.name.endsWith('.onnx') && (entry.isFile() || entry.isSymbolicLink())) {
        const file = entry.isFile() ? await stat(path) : await inside(path);
        if (file?.isFile()) out.push({ model: relative(root, path).split(sep).join('/'), bytes: file.size });
      }
    }
  };
  await walk(root, 0);
  return out.sort((a, b) => a.model.localeCompare(b.model));
}


/** Characters of JSON text gathered into one piece of a streamed reply: a 200 MB reply is a few thousand pieces, and
 *  building one takes well under a millisecond. */
const REPLY_PIECE_CHARS = 64 * 1024;

/** The JSON text of `value` in pieces of about REPLY_PIECE_CHARS, with a turn of the event loop after each one. */
async function* replyPieces(value: unknown): AsyncGenerator<string> {
  let piece = '';
  for (const chunk of jsonChunks(value)) {
    piece += chunk;
    if (piece.length < REPLY_PIECE_CHARS) continue;
    yield piece;
    piece = '';
    await nextTurn();
  }
  if (piece !== '') yield piece;
}

/**
 * A reply's JSON, sent as a stream: written in one JSON.stringify, a large result held the event loop (a batch reply of
 * 208 MB left GET /health unanswered for 21 s), and one longer than V8's longest string (~2^29 characters) could not be
 * written at all. The stream is read as the client takes it, so it also holds only a few pieces in memory at once.
 */
function jsonReply(reply: FastifyReply, value: unknown): Readable {
  void reply.type('application/json; charset=utf-8');
  return Readable.from(replyPieces(value));
}

/** The message of a request for a path that is no route. */
function notFound(method: string, url: string): string {
  return `No route ${method} ${url}. See GET /openapi.json.`;
}

function sendError(reply: FastifyReply, status: number, code: string, message: string, retryAfterS?: number) {
  if (retryAfterS !== undefined) void reply.header('retry-after', String(retryAfterS));
  return reply.code(status).send({ error: { code, message } });
}

/** A running service: its URL and a graceful close. */
export interface Service {
  readonly app: FastifyInstance;
  readonly url: string;
  /** Stops accepting requests, lets running jobs finish (up to graceMs, then cancels them), and returns. Called again
   *  while it runs (a second signal), a shorter grace ends sooner: close(0) cancels the running jobs now, and their
   *  clients get 503 SHUTTING_DOWN. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts the HTTP service on an engine (which the caller owns and disposes).
 * @throws InvalidOptionError for bad options or a models folder that does not exist
 */
export async function serve(engine: Engine, options: ServeOptions): Promise<Service> {
  assertValid(ServeOptionsSchema, options);
  let root: string;
  try {
    root = await realpath(options.modelsDir);
    if (!(await stat(root)).isDirectory()) throw new Error('not a folder');
  } catch (cause) {
    throw new InvalidOptionError(`options.modelsDir ${options.modelsDir} is not a readable folder (--models DIR).`, { cause });
  }
  const port = options.port ?? 8080;
  const bodyLimitBytes = options.bodyLimitBytes ?? 1 << 20;
  const timeoutMs = options.timeoutMs ?? 60_000;
  // the sparse method's own limits: its players are not bounded by 2^n, its cost is bounded by the budget
  const sparseLimits = { maxBudget: options.maxBudget ?? SERVE_MAX_BUDGET, maxSparsePlayers: options.maxSparsePlayers ?? SERVE_MAX_SPARSE_PLAYERS };
  const queue = new JobQueue(options.concurrency ?? 1, options.queueSize ?? 8);
  const running = new Set<AbortController>();
  const started = Date.now();
  let closing = false;
  /** The close's grace ran out: the jobs still running are cancelled, and their clients told so (503). */
  let shutDown = false;
  // Node's own limit on a request's arrival (fastify turns it off unless given), checked every second or so (Node's
  // default, 30 s, let a trickling client hold its connection that much longer)
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  // errors below the routes (a request that is not HTTP, headers over Node's limit, a URL that cannot be decoded, a
  // request cut off) are answered as every other error, {error: {code, message}}, not in Fastify's own shape
  const protocolError = (error: NodeJS.ErrnoException): [number, string, string] => {
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'REQUEST_TIMEOUT', `The request's headers and body took longer than ${requestTimeout} ms to arrive (the service's --request-timeout-ms); send them at once.`];
    if (error.code === 'HPE_HEADER_OVERFLOW') {
      const limit = `Node's limit on a request's URL and headers together, ${maxHeaderSize} bytes (node --max-http-header-size)`;
      if (overflowsInRequestLine(error)) return [414, 'URI_TOO_LONG', `The URL is over ${limit}: send the options in the JSON body of a POST, not in the URL.`];
      return [431, 'HEADERS_TOO_LARGE', `The request's headers are over ${limit}: send fewer or shorter headers (and a short URL: the options go in the JSON body).`];
    }
    return [400, 'BAD_REQUEST', `The request is not well-formed HTTP/1.1 (${error.code ?? 'a parse error'}): send a request line, headers and a body that match its Content-Length.`];
  };
  const clientErrorHandler = (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, code, message] = protocolError(error);
    const body = JSON.stringify({ error: { code, message } });
    if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    socket.destroy(error);
  };
  const app = Fastify({
    clientErrorHandler,
    frameworkErrors: (error, request, reply) => {
      if (error.code === 'FST_ERR_BAD_URL') return sendError(reply, 400, 'BAD_URL', `The URL "${request.raw.url}" has a malformed percent-encoding (a % not followed by two hex digits, or bytes that are not UTF-8): encode it. See GET /openapi.json.`);
      return sendError(reply, 400, 'BAD_REQUEST', `Malformed request: ${error.message}`);
    },
    bodyLimit: bodyLimitBytes, logger: false, requestTimeout,
    http: { requestTimeout, headersTimeout: Math.min(60_000, requestTimeout), connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeout / 2))) },
  });
  // bodies are JSON: a text/plain body (which Fastify would parse as a string, then refuse as 'body must be an
  // object') is a 415, as any other media type
  app.removeContentTypeParser('text/plain');
  // JSON bodies: Fastify's parser calls both a syntax error and a "__proto__" key "not valid JSON"; this one says which
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, bytes, done) => {
    try {
      done(null, parseBody(bodyText(bytes as Buffer, request.headers['content-type'])));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // a request for no route is answered before its body is read (a POST to /health was refused for its body, or as 404
  // "No route"): a path asked with a method it does not take is 405 with the methods it takes (RFC 9110 §15.5.6)
  const methodsOf = new Map<string, string[]>();
  app.addHook('onRoute', (route) => {
    methodsOf.set(route.url, [...(methodsOf.get(route.url) ?? []), ...[route.method].flat()]);
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = request.url.split('?')[0];
    const allowed = methodsOf.get(path);
    if (allowed === undefined) throw new HttpError(404, 'NOT_FOUND', notFound(request.method, request.url));
    void reply.header('allow', allowed.join(', '));
    const how = allowed.includes('POST') ? `POST ${path} with a JSON object body (Content-Type: application/json)` : `${allowed[0]} ${path}`;
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${path} does not take ${request.method} (it takes ${allowed.join(', ')}): send ${how}. See GET /openapi.json.`);
  });
  // a compressed body (Content-Encoding gzip, br, …) reached the JSON parser as is, and was refused as "not valid JSON
  // (Unexpected token '\u001f')": say what to send instead (RFC 7694: 415 with the codings accepted)
  app.addHook('onRequest', async (request, reply) => {
    const encoding = request.headers['content-encoding']?.trim().toLowerCase();
    if (encoding === undefined || encoding === '' || encoding === 'identity') return;
    void reply.header('accept-encoding', 'identity');
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `The body is sent with Content-Encoding ${request.headers['content-encoding']}, which this service does not decode: send it uncompressed, as application/json.`);
  });
  // while shutting down, responses close their connection, so keep-alive sockets do not hold the close open
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  // a POST with no body (and so no Content-Type) was refused as "body must be an object (got null)": say what to send
  app.addHook('preValidation', async (request) => {
    if (request.method !== 'POST' || request.body !== undefined) return;
    throw new HttpError(400, 'MISSING_BODY', `${request.method} ${request.url.split('?')[0]} has no body: send a JSON object of options, with Content-Type: application/json. See GET /openapi.json.`);
  });
  const spec = openApi({ maxPlayers: engine.options.maxPlayers, bodyLimitBytes, timeoutMs });
  // bodies are checked by the request schemas, with the library's messages (field, valid values, what was sent)
  app.setValidatorCompiler(({ schema }) => (data: unknown) => {
    try {
      assertValid(schema as TObject, data, dotted('body'));
      return { value: data };
    } catch (error) {
      return { error: error as Error };
    }
  });

  // an engine error names a model by its file on this machine (a batch's sample: "<file>, sample row 0: …"): the
  // client named it relative to the models folder, so it reads that, not the folder's path
  const folders = [...new Set([root, resolve(options.modelsDir)])].map((folder) => folder + sep);
  const relativeNames = (message: string) => folders.reduce((text, folder) => text.split(folder).join(''), message);
  // the library's options.<field>, or a CLI flag in its advice, is body.<field> here
  const forClient = (message: string) => spellFields(relativeNames(message), BODY_FIELDS, (f) => `body.${f}`);
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (error instanceof HttpError) return sendError(reply, error.status, error.code, error.message, error.status === 429 ? queue.retryAfterS() : undefined);
    if (error instanceof EngineError) return sendError(reply, STATUS[error.code], error.code, forClient(error.message));
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 413, 'BODY_TOO_LARGE', `The request body is over the ${bodyLimitBytes}-byte limit of this service (bodyLimitBytes / --body-limit): send less (arrays of numbers cost about 20 bytes each), or raise the limit where the service is started.`);
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return sendError(reply, error.statusCode, error.code ?? 'BAD_REQUEST', `Malformed request: ${error.message}`);
    return sendError(reply, 500, 'INTERNAL', `Internal error: ${relativeNames(error.message)}`);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'NOT_FOUND', notFound(request.method, request.url)));

  app.get('/health', async () => ({ status: 'ok', uptimeS: Math.round((Date.now() - started) / 1000), backend: engine.backend ?? null, queue: queue.stats }));
  app.get('/openapi.json', async () => spec);
  /** The models folder's manifest entries by model name (the name a request gives). */
  const manifestEntries = async () => new Map(((await readManifest(join(root, 'manifest.json')))?.models ?? []).map((m) => [m.file.replace(/^models\//, ''), m]));
  /** The manifest entry of a model file, by its real path (undefined for a model the manifest does not list). */
  const manifestEntryOf = async (real: string) => {
    for (const [name, entry] of await manifestEntries()) if ((await realpath(resolve(root, name)).catch(() => undefined)) === real) return entry;
    return undefined;
  };
  app.get('/models', async () => {
    const known = await manifestEntries();
    return { models: (await listModels(root)).map((m) => ({ ...m, name: known.get(m.model)?.name, modality: known.get(m.model)?.modality })) };
  });

  /** Runs a job through the queue, cancelled when its client goes away or when it has run for its time (504); the
   *  time counts from the job's start, not from its wait in the queue (timeoutMs: "a job running longer"). */
  async function job<T>(reply: FastifyReply, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    running.add(controller);
    // a client that goes away cancels its job: the response closes before it was written, or its connection does (a
    // client that half-closes its side: the server ends the connection, and the response's 'close' waited for the job)
    const onClose = () => !reply.raw.writableFinished && controller.abort();
    const socket = reply.raw.socket;
    reply.raw.on('close', onClose);
    socket?.on('close', onClose);
    // ... or did before the job began (the request was whole when the client half-closed)
    if (socket && (socket.destroyed || !socket.writable)) controller.abort();
    // a timer of this job's own, not AbortSignal.timeout: on Node 20 AbortSignal.any holds that signal weakly, and a
    // garbage collection while the job ran dropped its limit (the job ran on to its end)
    const limit = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await queue.run(() => {
        timer = setTimeout(() => limit.abort(), timeoutMs);
        return work(AbortSignal.any([controller.signal, limit.signal]));
      }, controller.signal);
    } catch (error) {
      if (error instanceof CancelledError && limit.signal.aborted && !controller.signal.aborted) {
        throw new HttpError(504, 'TIMEOUT', `The job ran past the ${timeoutMs} ms limit and was cancelled.`);
      }
      if (error instanceof CancelledError && shutDown) throw new HttpError(503, 'SHUTTING_DOWN', 'The service shut down before the job finished (its grace ran out, or a second signal cut it short); send the request again, to another instance or once it is back.');
      throw error;
    } finally {
      clearTimeout(timer);
      running.delete(controller);
      reply.raw.off('close', onClose);
      socket?.off('close', onClose);
    }
  }
  // a budget above the service's limit is refused before the request waits in the queue
  const maxBatchSize = options.maxBatchSize ?? SERVE_MAX_BATCH_SIZE;
  const assertLimits = ({ budget, batchSize }: { budget?: number; batchSize?: number }) => {
    // a client's batch of 2^20 rows of a CNN held 14 GB and ran past the job's timeout (one model run cannot be cut
    // short): the memory check sees its inputs and outputs, not the model's activations
    if (batchSize !== undefined && batchSize > maxBatchSize) throw new InvalidOptionError(`body.batchSize = ${batchSize} is above this service's limit of ${maxBatchSize} rows per model run (maxBatchSize / --max-batch-size): a model's activations grow with the batch. Ask for at most ${maxBatchSize}, or leave it out.`);
    if (budget === undefined || budget <= sparseLimits.maxBudget) return;
    throw new InvalidOptionError(`body.budget = ${budget} is above this service's limit of ${sparseLimits.maxBudget} evaluations (maxBudget / --max-budget). Ask for at most ${sparseLimits.maxBudget}.`);
  };
  const referenceOf = (rows: Static<typeof JsonSampleSchema>[] | undefined) => rows && { source: 'body.reference', samples: rows.map((row, i) => sampleOf(row, undefined, `body.reference[${i}]`)) };
  // report the model by the name the client used, not by this machine's path; and a decomposition's warning, as its
  // errors, in the body's fields ("Try another --lr (default 5)" named a CLI flag)
  const clientView = <T extends { model?: { file?: string }; decomposition?: object }>(json: T, name?: string): T => {
    const warning = (json.decomposition as { warning?: string } | undefined)?.warning;
    return {
      ...json,
      ...(json.model && name !== undefined ? { model: { ...json.model, file: name } } : {}),
      ...(warning !== undefined ? { decomposition: { ...json.decomposition, warning: forClient(warning) } } : {}),
    };
  };

  app.post('/explain', { schema: { body: ExplainBodySchema } }, async (request, reply) => {
    // a bundled model's modality and masking are its defaults, as on the command line, whatever the name that
    // reaches its file ("./patches-49.onnx", a link)
    const model = await resolveModel(root, (request.body as { model: unknown }).model);
    const body = withModelDefaults(request.body as Static<typeof ExplainBodySchema>, await manifestEntryOf(model));
    const { model: _m, sample: rawSample, label, arrays, reference: rows, ...rest } = body;
    assertLimits(rest);
    const sample = sampleOf(rawSample, label);
    const reference = referenceOf(rows);
    const result = await job(reply, (signal) => engine.explainAuto({ ...rest, ...(reference ? { reference } : {}), model, sample, signal }, sparseLimits));
    return jsonReply(reply, clientView(resultToJson(result, { arrays: arrays !== false }), body.model));
  });

  app.post('/explain/batch', { schema: { body: BatchBodySchema } }, async (request, reply) => {
    const model = await resolveModel(root, (request.body as { model: unknown }).model);
    const body = withModelDefaults(request.body as Static<typeof BatchBodySchema>, await manifestEntryOf(model));
    const { model: _m, samples: rawSamples, labels, arrays, reference: rows, ...rest } = body;
    if (labels && labels.length !== rawSamples.length) throw new InvalidInputError(`body.labels has ${labels.length} labels for ${rawSamples.length} samples; give one per sample.`);
    assertLimits(rest);
    const samples = { source: 'body.samples', samples: rawSamples.map((raw, i) => sampleOf(raw, labels?.[i], `body.samples[${i}]`, `body.labels[${i}]`, true)) };
    const reference = referenceOf(rows);
    const result = await job(reply, (signal) => engine.explainBatch({ ...rest, ...(reference ? { reference } : {}), model, samples, cacheDir: false, signal }, sparseLimits));
    // each sample's result is made into JSON as the reply reaches it: all at once, 40 samples of 14 players held the
    // event loop for seconds before the first byte
    const { results, ...aggregate } = result;
    const { timings, ...json } = clientView(batchToJson(aggregate, { arrays: arrays === true }), body.model);
    const each = results && new LazyList(results.length, (i) => clientView(resultToJson(results[i], { arrays: arrays === true }), body.model));
    return jsonReply(reply, { ...json, ...(each ? { results: each } : {}), timings });
  });

  // a game the client evaluated itself (its own model, in any language): the exact analysis of its 2^n values, in a
  // worker, as the library's explainValues; the engine's player limit holds (--max-players)
  app.post('/explain/values', { schema: { body: ValuesBodySchema } }, async (request, reply) => {
    const { arrays, ...rest } = request.body as Static<typeof ValuesBodySchema>;
    // the engine's message for too many players offers the sparse method, which needs the model (POST /explain)
    const { maxPlayers } = engine.options;
    if (rest.values.length > 2 ** maxPlayers) throw new InvalidOptionError(`body.values holds ${rest.values.length} values, more than the 2^${maxPlayers} of this service's limit of ${maxPlayers} players (maxPlayers / --max-players). Send a game of at most ${maxPlayers} players, or explain the model by POST /explain with method "sparse".`);
    const result = await job(reply, (signal) => engine.explainValues({ ...rest, signal }));
    return jsonReply(reply, clientView(resultToJson(result, { arrays: arrays !== false })));
  });

  let address: string;
  try {
    address = await app.listen({ port, host: options.host ?? '127.0.0.1' });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new InvalidOptionError(`Port ${port} is in use; choose another with --port (0 picks a free one).`, { cause });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new InvalidOptionError(`Cannot listen on host "${options.host}": this machine has no such address (--host).`, { cause });
    if (code === 'EACCES') throw new InvalidOptionError(`Port ${port} needs privileges this process lacks; use a port above 1023 (--port).`, { cause });
    throw cause;
  }
  // after the grace: cancel running jobs and drop every connection, including a client still trickling a body
  const endGrace = () => {
    if (shutDown) return;
    shutDown = true;
    running.forEach((c) => c.abort());
    // their clients get a 503 first; a connection still open after that (a client trickling a body) is dropped
    setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_REPLY_MS).unref();
  };
  let closed: Promise<void> | undefined;
  let deadline = Infinity;
  let timer: NodeJS.Timeout | undefined;
  return {
    app,
    url: address,
    close(graceMs = 10_000) {
      closing = true;
      // a second close (a second signal) only shortens the grace: it ran on, and the signal's default killed the
      // process, dropping every client without an answer
      if (Date.now() + graceMs < deadline) {
        deadline = Date.now() + graceMs;
        clearTimeout(timer);
        timer = setTimeout(endGrace, graceMs);
      }
      // stops accepting, waits for in-flight requests
      closed ??= app.close().finally(() => clearTimeout(timer));
      return closed;
    },
  };
}
