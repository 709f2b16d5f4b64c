// How long a large reply of `andor serve` holds up other requests. One client asks for a batch whose reply is
// hundreds of MB (arrays, every interaction salient); another polls GET /health every 20 ms, against a server in its
// own process. Prints the worst /health latency while the batch runs (the engine's work) and while its reply is
// written, against the baseline measured in the same run: one JSON.stringify of that reply, which is what the service
// did on its main thread before replies were streamed (stop 47; an adversarial sweep saw /health unanswered 21 s).
// Usage: node bench/serve-stall.bench.js [samples [players]] [--quick]   (default 40 samples of 14 players; --quick:
// 12 samples of 12)
import { readFileSync } from 'node:fs';
import { progress, runSuite, seededRandom, startServe } from './harness.js';

const POLL_MS = 20;

async function run({ sizes, quick }) {
  const count = sizes?.[0] ?? (quick ? 12 : 40);
  const players = sizes?.[1] ?? (quick ? 12 : 14);
  // rows of the MLP's 30 standardized features, seeded: the reply's size depends only on the counts
  const noise = seededRandom(47, count * 30);
  const samples = Array.from({ length: count }, (_, i) => Array.from(noise.subarray(i * 30, (i + 1) * 30), (x) => 2 * x - 1));
  const body = JSON.stringify({ model: 'breast-cancer-mlp.onnx', samples, players: `0-${players - 1}`, preset: 'none', salientRatio: 0, arrays: true });
  const { url, child } = await startServe(['--workers', '1', '--max-players', '16', '--timeout-ms', '600000', '--body-limit', String(1 << 24)]);
  progress(`server ${url}; a batch of ${count} samples × ${players} players, /health every ${POLL_MS} ms`);
  const polls = [];
  let phase = 'job';
  const started = performance.now();
  const batch = fetch(`${url}/explain/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (response) => {
    phase = 'reply';
    const headersAt = performance.now();
    const text = await response.text();
    phase = 'done';
    return { status: response.status, text, jobMs: headersAt - started, replyMs: performance.now() - headersAt };
  });
  while (phase !== 'done') {
    const at = phase;
    const t = performance.now();
    await (await fetch(`${url}/health`)).arrayBuffer();
    // a poll counts for the phase it was sent in: one sent during the job and answered after the headers waited on the job
    polls.push({ phase: at, ms: performance.now() - t });
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const { status, text, jobMs, replyMs } = await batch;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  if (status !== 200) throw new Error(`the batch answered ${status}: ${text.slice(0, 300)}`);

  // the baseline: the reply as one JSON.stringify, as the service wrote it before (its JSON conversion not counted)
  const value = JSON.parse(text);
  const t = performance.now();
  const whole = JSON.stringify(value);
  const stringifyMs = performance.now() - t;
  const worst = (p) => Math.max(0, ...polls.filter((x) => x.phase === p).map((x) => x.ms));
  const row = {
    samples: count, players, mb: text.length / 2 ** 20, jobMs, replyMs, stringifyMs,
    pollsJob: polls.filter((x) => x.phase === 'job').length, worstJob: worst('job'),
    pollsReply: polls.filter((x) => x.phase === 'reply').length, worstReply: worst('reply'),
  };
  const ratio = row.worstReply / stringifyMs;
  return {
    suite: 'serve-stall',
    args: { samples: count, players },
    tables: [
      {
        title: `serve-stall: GET /health latency while andor serve answers a batch of ${count} samples × ${players} players (arrays, salientRatio 0)`,
        columns: [
          ['samples', 'samples'], ['players', 'n'], ['mb', 'reply MB'], ['jobMs', 'job ms'], ['replyMs', 'reply ms'], ['stringifyMs', 'one stringify ms'],
          ['pollsJob', 'polls (job)'], ['worstJob', 'worst ms (job)'], ['pollsReply', 'polls (reply)'], ['worstReply', 'worst ms (reply)'],
        ],
        rows: [row],
        notes: [
          'job: from the request until the reply\'s headers (the engine\'s work, its aggregation on the main thread included);',
          'reply: from the headers until the last byte (the streamed JSON). "one stringify" is the baseline: JSON.stringify of the',
          `same reply in this process, which the service ran on its main thread before (the sum of the conversions not counted). The reply was ${whole.length === text.length ? 'byte for byte as long as' : 'NOT as long as'} one stringify.`,
        ],
      },
    ],
    targets: [
      { name: 'a large reply does not hold up /health', goal: 'worst /health latency while the reply is written ≤ 1/4 of one JSON.stringify of it', value: `${row.worstReply.toFixed(0)} ms vs ${stringifyMs.toFixed(0)} ms (${ratio.toFixed(2)}×)`, met: ratio <= 0.25 },
    ],
  };
}

await runSuite(run);
