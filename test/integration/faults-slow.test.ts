// Faults that only a slow or large model shows (issue 10, classes 5b, 6a and 6b): Ctrl-C in `andor dynamics` while
// its pairs would run for more than a minute, and the bound on open sessions, as RSS, of `andor serve` and of a
// dynamics run that meet many versions of one model. Each test first measures what its bound is made of (a pair's
// duration, a session's memory), so the bound stays meaningful on a fast machine and on a loaded one.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { ROOT, createEngine, model, seededRandom } from '../helpers/index.js';

/** How long a stopped dynamics run may take to exit: one batch of 64 images per worker, the pool's teardown and
 *  Node's exit take about 1 s; the rest is room for a loaded 2-core machine (the defect took 28-30 s). */
const EXIT_MS = 10_000;
/** The decomposition of each pair is sized from a measured rate to run at least this long, so a run whose pairs are
 *  not cancelled cannot exit within EXIT_MS (the rate is measured on this thread; a busy pool worker is slower). */
const DECOMPOSITION_MS = 90_000;
/** Until the model of the first pairs is open: on a loaded machine startup alone takes seconds. */
const READY_MS = 60_000;
const TEST_MS = 120_000;
const MIB = 2 ** 20;

/** models/random-cnn.onnx: a 1.5 MB CNN on 3×32×32 images, its samples labelled with its own predictions. */
const CNN = model('random-cnn.onnx');
const CNN_SAMPLES = model('random-images.samples.json');

/**
 * Writes `count` versions of random-cnn.onnx into dir: the same graph with another model_version (ModelProto field 5,
 * a varint; protobuf keeps the last value), so each file has its own sha256 and gets its own session.
 * @returns the files, in order
 */
async function writeVersions(dir: string, count: number, name: (k: number) => string): Promise<string[]> {
  const bytes = await readFile(CNN);
  const files: string[] = [];
  for (let k = 0; k < count; k++) {
    const file = join(dir, name(k));
    await writeFile(file, Buffer.concat([bytes, Buffer.from([0x28, k + 1])])); // k + 1 < 128: a one-byte varint
    files.push(file);
  }
  return files;
}

/** Resident memory of another process, in bytes (VmRSS of /proc/PID/status). */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

/** CPU time a process has used so far, in seconds (utime + stime of /proc/PID/stat, in clock ticks of 1/100 s). */
async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on; the name may hold spaces
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Whether any process of the process group pgid is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('faults on a slow model: signals and open sessions', () => {
  let dir: string;
  let samples: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andor-faults-slow-'));
    // dynamics needs labelled samples with a split: the two random images, one for training and one held out
    const set = JSON.parse(await readFile(CNN_SAMPLES, 'utf8'));
    set.samples = set.samples.slice(0, 2).map((s: object, i: number) => ({ ...s, split: i === 0 ? 'train' : 'test' }));
    samples = join(dir, 'samples.json');
    await writeFile(samples, JSON.stringify(set));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('Ctrl-C in dynamics cancels the running pairs of a slow model: exit 130 within seconds, nothing left', async () => {
    // what an uncancelled pair would still cost: its decomposition (n = 16, PDHG, a fixed number of iterations, no
    // early stop) at the rate measured here, the difference of two runs so the setup does not count
    const engine = await createEngine({ workers: 0 });
    let msPerIteration: number;
    try {
      const values = seededRandom(16, 2 ** 16);
      const short = await engine.explainValues({ values, iterations: 200 });
      const long = await engine.explainValues({ values, iterations: 1200 });
      msPerIteration = (long.decomposition.ms - short.decomposition.ms) / 1000;
    } finally {
      await engine.dispose();
    }
    expect(msPerIteration).toBeGreaterThan(0);
    const iterations = Math.min(10_000_000, Math.ceil(DECOMPOSITION_MS / msPerIteration));
    expect(iterations * msPerIteration).toBeGreaterThan(6 * EXIT_MS); // the premise: an uncancelled pair outlasts the bound

    // two checkpoints × two samples, two pairs in flight; each pair evaluates 2^16 masks of a CNN (10 s to minutes),
    // then runs that decomposition
    const checkpoints = join(dir, 'cnn-series');
    await mkdir(checkpoints);
    await writeVersions(checkpoints, 2, (k) => `epoch-000${k}.onnx`);
    const cache = join(dir, 'cache-dynamics');
    // its own process group, so that a process it leaves behind would still be found after it exits
    const child = spawn(
      process.execPath,
      [CLI, 'dynamics', '--checkpoints', checkpoints, '--samples', samples, '--modality', 'image', '--grid', '4x4', '--players', '0-15', '--iterations', String(iterations), '--batch-size', '64', '--workers', '2', '--cache', cache, '--debug'],
      { cwd: ROOT, detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const pid = child.pid!;
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
    try {
      // the pairs run once their model is open: --debug logs the backend then (where CUDA is missing, as on CI);
      // elsewhere, 6 s of CPU time is well past the ~2 s that startup and loading take. Then 1 s into the masks.
      const deadline = Date.now() + READY_MS;
      while (!/Running on/.test(stderr) && (await cpuSecondsOf(pid)) < 6) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`dynamics never started its pairs; stderr: ${stderr}`);
        await sleep(100);
      }
      await sleep(1000);
      const sent = Date.now();
      child.kill('SIGINT');
      // without cancellation the running pairs finish first: their masks, then ≥ DECOMPOSITION_MS of iterations
      const stopped = await Promise.race([exited, sleep(EXIT_MS).then(() => undefined)]);
      expect(stopped, `still running ${EXIT_MS} ms after SIGINT; stderr: ${stderr}`).toBeDefined();
      expect(stopped!.code).toBe(130);
      expect(stopped!.at - sent).toBeLessThan(EXIT_MS);
      // no pair had finished: the exit did not wait for one
      expect(stderr).toMatch(/interrupted: The run was cancelled after 0 of 4 units/);
      expect(groupAlive(pid)).toBe(false); // no child process left behind
      expect((await readdir(cache).catch(() => [] as string[])).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
  }, TEST_MS);

  it('the service keeps a bounded number of sessions while it meets 20 versions of one model', async () => {
    const modelsDir = join(dir, 'serve-models');
    await mkdir(modelsDir);
    await writeVersions(modelsDir, 20, (k) => `cnn-v${k}.onnx`);
    const image = JSON.parse(await readFile(CNN_SAMPLES, 'utf8')).samples[0].x;
    const child = spawn(process.execPath, [CLI, 'serve', '--models', modelsDir, '--port', '0', '--workers', '1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const deadline = Date.now() + READY_MS;
      while (!/on (http:\/\/\S+)/.test(stdout)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the service never started; stderr: ${stderr}`);
        await sleep(100);
      }
      const url = /on (http:\/\/\S+)/.exec(stdout)![1];
      const rss: number[] = []; // rss[k]: after version k + 1
      for (let k = 0; k < 20; k++) {
        // 2^7 masks: one batch of 128 images, whose activations the session's arena keeps (about 50 MB)
        const response = await fetch(`${url}/explain`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: `cnn-v${k}.onnx`, sample: image, modality: 'image', grid: '4x4', players: '0-6', preset: 'none', arrays: false }),
        });
        expect(response.status, await response.clone().text()).toBe(200);
        await response.arrayBuffer();
        rss.push(await rssOf(child.pid!));
      }
      // versions 1-4 all stay open (the LRU keeps 4): their growth is the cost of 3 sessions
      const perSession = (rss[3] - rss[0]) / 3;
      expect(perSession).toBeGreaterThan(16 * MIB); // the premise: a session's memory stands out of the noise
      // versions 6-20 replace sessions; kept, they would add 15 × perSession. Allocator warm-up adds about 2, and
      // levels off after about 30 versions (measured up to 150)
      expect(rss[19] - rss[4], `RSS MiB: ${rss.map((r) => Math.round(r / MIB)).join(' ')}`).toBeLessThan(5 * perSession);
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, TEST_MS);

  it('dynamics over 12 checkpoints with workers: 0 keeps a bounded number of sessions', async () => {
    const checkpointsDir = join(dir, 'cnn-checkpoints');
    await mkdir(checkpointsDir);
    const files = await writeVersions(checkpointsDir, 12, (k) => `epoch-${String(k).padStart(4, '0')}.onnx`);
    const index = new Map(files.map((f, i) => [basename(f), i]));
    const engine = await createEngine({ workers: 0 });
    try {
      const rssAfter: number[] = []; // RSS after the last pair of each checkpoint
      let peak = 0;
      // one pair at a time, checkpoint after checkpoint; 2^7 masks per pair (one batch of 128 images)
      const result = await engine.dynamics({
        checkpoints: files, samples, modality: 'image', grid: '4x4', players: '0-6', preset: 'none', cacheDir: false, concurrency: 1,
        onProgress: ({ model: name }) => {
          const rss = process.memoryUsage().rss;
          peak = Math.max(peak, rss);
          rssAfter[index.get(name)!] = rss;
        },
      });
      expect(new Set(result.checkpoints.map((c) => c.sha256)).size).toBe(12);
      // checkpoints 1-4 all stay open (the LRU keeps 4): their growth is the cost of 3 sessions
      const perSession = (rssAfter[3] - rssAfter[0]) / 3;
      expect(perSession).toBeGreaterThan(16 * MIB); // the premise: a session's memory stands out of the noise
      // checkpoints 5-12 replace sessions; kept, they would add 8 × perSession. Allocator warm-up adds up to about 0.7
      // (measured on 2 loaded cores)
      expect(peak - rssAfter[3], `RSS MiB: ${rssAfter.map((r) => Math.round(r / MIB)).join(' ')}`).toBeLessThan(3 * perSession);
    } finally {
      await engine.dispose();
    }
  }, TEST_MS);
});
