// Soak test of `andor serve` on loopback: clients send a mix of good and bad requests for a bounded time (bad JSON,
// unknown options and models, file paths, huge player ranges, ragged, deep and wide samples, oversized bodies,
// non-JSON bodies, a folder as a model, clients that hang up mid-request). Every answer must be 200, a 4xx or 429:
// the bench prints the failures that are not (the target is zero) and the server's RSS over time (no growth).
// Usage: node bench/soak.bench.js [clients [seconds]] [--quick]   (default 6 clients for 120 s; --quick: 3 for 10 s)
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, existsSync, mkdtempSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, progress, runSuite } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const X = JSON.parse(readFileSync(`${ROOT}models/breast-cancer.samples.json`, 'utf8')).samples[0].x;
const DIGIT = JSON.parse(readFileSync(`${ROOT}models/digits.samples.json`, 'utf8')).samples[0].x;
const mlp = (extra) => ({ model: 'breast-cancer-mlp.onnx', sample: X, players: '0-9', arrays: false, ...extra });
/** A sample nested 5000 deep, as JSON text (JSON.stringify itself would overflow the stack building it). */
const DEEP = `{"model": "breast-cancer-mlp.onnx", "players": "0-9", "sample": ${'['.repeat(5000)}1${']'.repeat(5000)}}`;

/** The mix: [name, body (object, or raw text), content type]. Half good, half bad. */
const MIX = [
  ['good: mlp', mlp({ preset: 'none' })],
  ['good: mlp default decomposition', mlp({})],
  ['good: digits 4x4', { model: 'digits-cnn.onnx', sample: DIGIT, modality: 'image', grid: '4x4', players: '5,6,9,10', arrays: false }],
  ['good: batch of 2', { model: 'breast-cancer-mlp.onnx', samples: [X, X], players: '0-5', preset: 'none' }, 'application/json', '/explain/batch'],
  ['good: mean baseline with reference rows', mlp({ baseline: 'mean', reference: [X, X.map((v) => v * 0.5)], preset: 'none' })],
  ['bad: malformed JSON', '{"model": '],
  ['bad: not JSON', 'model=x', 'text/plain'],
  ['bad: unknown option', mlp({ colour: 'red' })],
  ['bad: unknown model', mlp({ model: 'nope.onnx' })],
  ['bad: path outside', mlp({ model: '../package.json' })],
  ['bad: a folder as model', mlp({ model: 'folder.onnx' })],
  ['bad: file-path sample', mlp({ sample: '/etc/passwd' })],
  ['bad: huge player range', mlp({ players: '0-99999999999' })],
  ['bad: too many players', mlp({ players: '0-19' })],
  ['bad: ragged sample', mlp({ sample: [[1, 2], [3]] })],
  ['bad: deep sample', DEEP],
  ['bad: wide sample', mlp({ sample: new Array(200_000).fill(0.5) })],
  ['bad: wrong shape', mlp({ sample: [1, 2, 3] })],
  ['bad: preset typo', mlp({ preset: 'defualt' })],
  ['bad: iterations string', mlp({ iterations: 'many' })],
  ['bad: arrays "no"', mlp({ arrays: 'no' })],
  ['bad: blur sigma 1e7', { model: 'digits-cnn.onnx', sample: DIGIT, modality: 'image', grid: '4x4', players: '5,6', baseline: 'blur', blurSigma: 1e7 }],
  ['bad: target out of range', mlp({ target: 7 })],
  ['bad: mean without reference', mlp({ baseline: 'mean' })],
  ['bad: hang up mid-request', 'hangup'],
];

const rssMib = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

/** A models folder for the service: the bundled models, plus a folder named like a model. */
function modelsFolder() {
  const dir = mkdtempSync(join(tmpdir(), 'andor-soak-'));
  for (const f of ['breast-cancer-mlp.onnx', 'digits-cnn.onnx', 'manifest.json']) cpSync(`${ROOT}models/${f}`, join(dir, f));
  mkdirSync(join(dir, 'folder.onnx'));
  if (!existsSync(join(dir, 'link.onnx'))) symlinkSync('/etc/hostname', join(dir, 'link.onnx'));
  return dir;
}

function startServer(models, args) {
  const child = spawn(process.execPath, [`${ROOT}dist/engine/interfaces/cli.js`, 'serve', '--models', models, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      const url = /on (http:\/\/\S+)/.exec(d.toString())?.[1];
      if (url) resolve({ url, child });
    });
    child.on('exit', (code) => reject(new Error(`andor serve exited with ${code} before listening`)));
  });
}

/** One request of the mix; resolves with its status ('network' for a connection error, 'hangup' when we hung up). */
async function send(url, [name, body, type = 'application/json', path = '/explain']) {
  if (body === 'hangup') {
    const controller = new AbortController();
    const pending = fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(mlp({ players: '0-13', preset: 'reference', iterations: 300 })), signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    return pending.then((r) => r.arrayBuffer().then(() => r.status), () => 'hangup');
  }
  try {
    const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await response.text();
    if (response.status >= 500) return { status: response.status, name, text: text.slice(0, 200) };
    return response.status;
  } catch (error) {
    return { status: 'network', name, text: error.message };
  }
}

async function run({ sizes, quick }) {
  const clients = sizes?.[0] ?? (quick ? 3 : 6);
  const seconds = sizes?.[1] ?? (quick ? 10 : 120);
  const serverArgs = ['--workers', '2', '--concurrency', '2', '--queue', '6', '--max-players', '16', '--body-limit', '4194304', '--timeout-ms', '20000'];
  const { url, child } = await startServer(modelsFolder(), serverArgs);
  progress(`server ${url} (pid ${child.pid}); ${clients} clients for ${seconds} s, ${MIX.length} kinds of request`);
  const counts = {};
  const failures = [];
  const rss = [{ s: 0, mib: rssMib(child.pid) }];
  const started = performance.now();
  const sampler = setInterval(() => rss.push({ s: (performance.now() - started) / 1e3, mib: rssMib(child.pid) }), 5000);
  const until = started + seconds * 1e3;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c * 5; performance.now() < until; i++) {
        const kind = MIX[i % MIX.length];
        const result = await send(url, kind);
        const status = typeof result === 'object' ? result.status : result;
        counts[status] = (counts[status] ?? 0) + 1;
        if (typeof result === 'object') failures.push(result);
        if (status === 429) await new Promise((r) => setTimeout(r, 50));
      }
    }),
  );
  clearInterval(sampler);
  const health = await fetch(`${url}/health`).then((r) => r.status, () => 'down');
  rss.push({ s: (performance.now() - started) / 1e3, mib: rssMib(child.pid) });
  child.kill('SIGTERM');
  const exitCode = await new Promise((resolve) => child.on('exit', resolve));
  // the first third is warm-up (V8 heaps, onnxruntime arenas and the session cache reach their working size)
  const third = Math.max(1, Math.floor(rss.length / 3));
  const firstHalf = median(rss.slice(third, 2 * third).map((r) => r.mib));
  const secondHalf = median(rss.slice(2 * third).map((r) => r.mib));
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    suite: 'soak',
    args: { clients, seconds, server: serverArgs.join(' ') },
    tables: [
      {
        title: `soak: andor serve (${serverArgs.join(' ')}), ${clients} clients for ${seconds} s, ${MIX.length} kinds of good and bad request`,
        columns: [['status', 'status'], ['count', 'responses']],
        rows: Object.entries(counts).map(([status, count]) => ({ status, count })),
        notes: [`'hangup': the client hung up on purpose; 'network': a connection error the client did not cause.`],
      },
      {
        title: 'server RSS over the run (VmRSS, MiB, every 5 s)',
        columns: [['s', 'seconds'], ['mib', 'RSS MiB']],
        rows: rss.map((r) => ({ s: r.s.toFixed(0), mib: r.mib.toFixed(0) })),
        notes: failures.slice(0, 10).map((f) => `failure: ${f.name}: ${f.status} ${f.text}`),
      },
    ],
    targets: [
      { name: 'answers that are not 200, 4xx or 429', goal: '0', value: `${failures.length} of ${total}`, met: failures.length === 0 },
      { name: 'the service is up after the soak', goal: 'GET /health 200', value: String(health), met: health === 200 },
      { name: 'server RSS trend', goal: 'no growth: the last third\'s median within 10 % of the middle third\'s', value: `${firstHalf.toFixed(0)} → ${secondHalf.toFixed(0)} MiB`, met: secondHalf <= firstHalf * 1.1 },
      { name: 'graceful shutdown after the soak', goal: 'exit code 0 after SIGTERM', value: String(exitCode), met: exitCode === 0 },
    ],
  };
}

await runSuite(run);
