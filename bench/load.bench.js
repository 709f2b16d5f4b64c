// Load test of `andor serve` on loopback: N concurrent clients POST /explain for a bounded time against a server in
// its own process. Prints p50/p99 latency and throughput, the count of responses by status (every failure other than
// 429 counts against the target, which is zero), and the server's RSS over the run (no growth trend).
// Usage: node bench/load.bench.js [clients [seconds]] [--quick]   (default 8 clients for 60 s after a 75 s warm-up at
// full load; --quick: 4 clients for 5 s after 3 s)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median, progress, runSuite, startServe } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLES = JSON.parse(readFileSync(`${ROOT}models/breast-cancer.samples.json`, 'utf8')).samples;
const DIGITS = JSON.parse(readFileSync(`${ROOT}models/digits.samples.json`, 'utf8')).samples;
/** The mix of requests: tabular MLP rows with the default decomposition, and digit images on a 4x4 grid. */
const REQUESTS = [
  ...SAMPLES.map((s) => ({ model: 'breast-cancer-mlp.onnx', sample: s.x, label: s.label, players: '0-9', arrays: false })),
  ...DIGITS.slice(0, 4).map((s) => ({ model: 'digits-cnn.onnx', sample: s.x, modality: 'image', grid: '4x4', players: '1,2,5,6,9,10,11,13,14,15', arrays: false })),
];

const rssMib = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** One client: requests back to back until `until`, recording status and latency of each. */
async function client(url, until, seed, log) {
  for (let i = seed; performance.now() < until; i++) {
    const body = JSON.stringify(REQUESTS[i % REQUESTS.length]);
    const start = performance.now();
    try {
      const response = await fetch(`${url}/explain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await response.arrayBuffer();
      log.push({ status: response.status, ms: performance.now() - start });
      if (response.status === 429) await new Promise((r) => setTimeout(r, 50)); // a polite client backs off
    } catch (error) {
      log.push({ status: 'network', ms: performance.now() - start, error: error.message });
    }
  }
}

async function run({ sizes, quick }) {
  const clients = sizes?.[0] ?? (quick ? 4 : 8);
  const seconds = sizes?.[1] ?? (quick ? 5 : 60);
  const warmupS = quick ? 3 : 75;
  const serverArgs = ['--workers', '2', '--concurrency', '2', '--queue', '4', '--max-players', '16'];
  const { url, child } = await startServe(serverArgs);
  // the warm-up runs at full load, so heaps and runtime arenas reach their working size before RSS is tracked
  progress(`server ${url} (pid ${child.pid}); ${warmupS} s warm-up with ${clients} clients`);
  const warm = [];
  const warmEnd = performance.now() + warmupS * 1e3;
  await Promise.all(Array.from({ length: clients }, (_, c) => client(url, warmEnd, c, warm)));
  const rss = [{ s: 0, mib: rssMib(child.pid) }];
  const started = performance.now();
  const sampler = setInterval(() => rss.push({ s: (performance.now() - started) / 1e3, mib: rssMib(child.pid) }), 1000);
  progress(`${clients} clients for ${seconds} s`);
  const log = [];
  await Promise.all(Array.from({ length: clients }, (_, c) => client(url, started + seconds * 1e3, c * 7, log)));
  clearInterval(sampler);
  const elapsedS = (performance.now() - started) / 1e3;
  rss.push({ s: elapsedS, mib: rssMib(child.pid) });
  child.kill('SIGTERM');
  const exitCode = await new Promise((resolve) => child.on('exit', resolve));

  const ok = log.filter((r) => r.status === 200).map((r) => r.ms).sort((a, b) => a - b);
  const byStatus = {};
  for (const r of log) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const failed = [...warm, ...log].filter((r) => r.status !== 200 && r.status !== 429).length;
  const half = Math.floor(rss.length / 2);
  const firstHalf = median(rss.slice(1, half).map((r) => r.mib));
  const secondHalf = median(rss.slice(half).map((r) => r.mib));
  const row = {
    clients, seconds: elapsedS, requests: log.length, ok: ok.length, throttled: byStatus[429] ?? 0, failed,
    p50: quantile(ok, 0.5), p99: quantile(ok, 0.99), perS: ok.length / elapsedS,
    rssStart: rss[0].mib, rssEnd: rss[rss.length - 1].mib, rssFirstHalf: firstHalf, rssSecondHalf: secondHalf, exitCode,
  };
  return {
    suite: 'load',
    args: { clients, seconds, server: serverArgs.join(' ') },
    tables: [
      {
        title: `load: andor serve (${serverArgs.join(' ')}) on loopback, ${clients} clients for ${seconds} s, POST /explain (MLP rows and 4x4 digit grids, default decomposition)`,
        columns: [
          ['clients', 'clients'], ['requests', 'requests'], ['ok', '200'], ['throttled', '429'], ['failed', 'other'], ['p50', 'p50 ms'], ['p99', 'p99 ms'],
          ['perS', 'ok/s'], ['rssStart', 'RSS start MiB'], ['rssFirstHalf', 'RSS 1st half'], ['rssSecondHalf', 'RSS 2nd half'], ['rssEnd', 'RSS end MiB'], ['exitCode', 'exit'],
        ],
        rows: [row],
        notes: [
          'latency percentiles are over 200 responses; a client that gets 429 waits 50 ms and retries with the next request.',
          `statuses: ${JSON.stringify(byStatus)}; RSS is the server process's VmRSS, sampled every second after a ${warmupS} s warm-up at full load`,
          '(without it the 1st half includes V8 heaps and onnxruntime arenas growing to their working size). "other" counts the warm-up too.',
          'the server stops on SIGTERM (graceful shutdown); exit 0 means it drained and closed cleanly.',
        ],
      },
    ],
    targets: [
      { name: 'failed requests other than 429', goal: '0', value: String(failed), met: failed === 0 },
      { name: 'server RSS trend', goal: 'no growth: 2nd-half median within 10 % of the 1st half', value: `${firstHalf.toFixed(0)} → ${secondHalf.toFixed(0)} MiB`, met: secondHalf <= firstHalf * 1.1 },
      { name: 'graceful shutdown under load', goal: 'exit code 0 after SIGTERM', value: String(exitCode), met: exitCode === 0 },
    ],
  };
}

await runSuite(run);
