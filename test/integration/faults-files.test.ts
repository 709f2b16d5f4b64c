// Files that are not what their name says, found by an adversarial sweep (stop 31): a model path or a cache entry that
// is a FIFO with no writer or a link to /dev/zero (the read blocked for ever, or grew without end until the kernel
// killed the process), cache entries renamed under each other's keys (read back as the other sample's numbers), and
// lists of checkpoints or reference models that name nothing (a crash after the work), and dynamics over one player
// (refused only after every pair), an --out that fails at the end (a full disk: an untyped error), and a cache folder
// that cannot be written (every result lost to an untyped EACCES after the work). Each now gets a typed error at once, or a miss that is recomputed to the same
// numbers.
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPool } from '../../dist/engine/explain/units.js';
import { runCli } from '../helpers/cli.js';
import { ROOT, createEngine, InvalidInputError, InvalidOptionError, loadSampleSet, ModelLoadError, model, type Engine } from '../helpers/index.js';

const MLP = model('breast-cancer-mlp.onnx');
const MLP_SAMPLES = model('breast-cancer.samples.json');
/** A row with its first two columns swapped, and rows as CSV text (names and numbers JSON-quoted as pandas writes them). */
const swap = (row: readonly (string | number)[]) => [row[1], row[0], ...row.slice(2)];
const csv = (rows: readonly (readonly (string | number)[])[]) => rows.map((r) => r.map((c) => JSON.stringify(c)).join(',')).join('\n');
const SERIES = model('bc-mlp-series');
/** A refusal that must come at once (the defects blocked or ran for minutes). */
const FAST_MS = 5_000;

describe('files that are not what their name says', () => {
  let engine: Engine;
  let dir: string;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0 });
    dir = await mkdtemp(join(tmpdir(), 'andor-files-'));
  });
  afterAll(async () => {
    await engine.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const fifo = (name: string) => {
    const path = join(dir, name);
    execFileSync('mkfifo', [path]);
    return path;
  };

  it('a model path that is a FIFO with no writer, a link to /dev/zero or a folder is a ModelLoadError at once', async () => {
    const zero = join(dir, 'zero.onnx');
    await symlink('/dev/zero', zero);
    for (const [path, words] of [[fifo('pipe.onnx'), /not a regular file \(a device, pipe or socket\)/], [zero, /not a regular file \(a device, pipe or socket\)/], [dir, /not a regular file \(a folder\)/]] as const) {
      const started = Date.now();
      const error = await engine.explain({ model: path, sample: MLP_SAMPLES, players: '0-3' }).then(() => undefined, (e: Error) => e);
      expect(error, path).toBeInstanceOf(ModelLoadError);
      expect(error!.message).toMatch(words);
      expect(error!.message).toContain('--model');
      expect(Date.now() - started).toBeLessThan(FAST_MS);
    }
  });

  it('a sample read from a device or pipe that is not a .npy file is capped as text, at 64 MiB (an adversarial sweep, stop 43)', async () => {
    // /dev/zero was read to the binary cap, 2 GiB (8 s, 2.2 GB of memory), before it was refused
    const zero = join(dir, 'zero.sample');
    await symlink('/dev/zero', zero);
    const error = await loadSampleSet(zero).then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error!.message).toMatch(/zero\.sample is too large \(more than 64 MiB\); andor reads at most 64 MiB from a file of this kind/);
  });

  it('cache entries replaced by a FIFO or a link to /dev/zero are misses, recomputed to the same numbers', async () => {
    const cacheDir = join(dir, 'special');
    const request = { model: MLP, samples: MLP_SAMPLES, rows: '0-2', players: '0-5', preset: 'none' as const, cacheDir };
    const first = await engine.explainBatch(request);
    const entries = (await readdir(cacheDir)).filter((f) => f.endsWith('.bin')).sort();
    expect(entries).toHaveLength(3);
    await rm(join(cacheDir, entries[0]));
    execFileSync('mkfifo', [join(cacheDir, entries[0])]);
    await rm(join(cacheDir, entries[1]));
    await symlink('/dev/zero', join(cacheDir, entries[1]));
    const again = await engine.explainBatch(request);
    expect(again.samples.filter((s) => !s.cached)).toHaveLength(2);
    for (let i = 0; i < 3; i++) expect(Array.from(again.results![i].v)).toEqual(Array.from(first.results![i].v));
    // the recomputed entries took the FIFO's and the link's places (a rename replaces the name, not what it points at)
    expect((await engine.explainBatch(request)).samples.every((s) => s.cached)).toBe(true);
  }, 30_000);

  it('cache entries renamed under each other\'s keys are misses, not the other sample\'s numbers', async () => {
    const cacheDir = join(dir, 'swapped');
    const request = { model: MLP, samples: MLP_SAMPLES, rows: '0-1', players: '0-5', preset: 'none' as const, cacheDir };
    const first = await engine.explainBatch(request);
    expect(Array.from(first.results![0].v)).not.toEqual(Array.from(first.results![1].v));
    const [a, b] = (await readdir(cacheDir)).filter((f) => f.endsWith('.bin'));
    await rename(join(cacheDir, a), join(cacheDir, 'held'));
    await rename(join(cacheDir, b), join(cacheDir, a));
    await rename(join(cacheDir, 'held'), join(cacheDir, b));
    const again = await engine.explainBatch(request);
    expect(again.samples.map((s) => s.cached)).toEqual([false, false]);
    for (let i = 0; i < 2; i++) expect(Array.from(again.results![i].v)).toEqual(Array.from(first.results![i].v));
  }, 30_000);

  it('a list of checkpoints or reference models that names nothing is an InvalidInputError before any work', async () => {
    const samples = join(SERIES, 'samples.json');
    for (const checkpoints of [',', ' , ']) {
      const error = await engine.dynamics({ checkpoints, samples, players: '0-3', cacheDir: false }).then(() => undefined, (e: Error) => e);
      expect(error, JSON.stringify(checkpoints)).toBeInstanceOf(InvalidInputError);
      expect(error!.message).toMatch(/names no checkpoint; give a folder of ONNX files or a comma-separated list/);
    }
    const error = await engine.dynamics({ checkpoints: join(SERIES, 'epoch-0000.onnx'), samples, referenceModels: ' , ', players: '0-3', cacheDir: false }).then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error!.message).toMatch(/options.referenceModels " , " names no model/);
  });

  it('dynamics over one player is refused at its first pair, not after all of them', async () => {
    let pairs = 0;
    const request = { checkpoints: SERIES, samples: join(SERIES, 'samples.json'), players: '3', cacheDir: false as const, concurrency: 1, onProgress: () => void pairs++ };
    const error = await engine.dynamics(request).then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error!.message).toMatch(/Dynamics needs at least 2 players.*these options give 1 \(mean area\)\. Give more players \(--players\)/);
    // 12 checkpoints × 40 samples: the first pair's result stops the run
    expect(pairs).toBe(0);
  });

  it('a run of units stops scheduling new ones when onResult fails, as when a unit fails', async () => {
    const units = Array.from({ length: 20 }, (_, i) => ({ key: String(i) }));
    let ran = 0;
    const one = async () => {
      ran++;
      await new Promise((r) => setTimeout(r, 1));
      return { result: {} as never, cached: false };
    };
    const failing = runPool(units as never, { concurrency: 2, onResult: (index) => { if (index === 1) throw new InvalidOptionError('stop here'); } }, one);
    await expect(failing).rejects.toThrow('stop here');
    // the unit whose result failed, and at most one more in flight beside it (and the one after it on that lane)
    expect(ran).toBeLessThanOrEqual(4);
  });

  it('an --out that cannot be written at the end (a full disk) is a typed error naming the file, exit 2', async () => {
    for (const args of [['--sample', MLP_SAMPLES], ['--samples', MLP_SAMPLES, '--rows', '0-1', '--no-cache']]) {
      const run = await runCli(['explain', '--model', MLP, ...args, '--players', '0-5', '--preset', 'none', '--out', '/dev/full', '--workers', '0']);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/^andor: error \[INVALID_OPTION\]: Cannot write --out \/dev\/full: ENOSPC\. Give a file on a disk with room for the result/m);
    }
  }, 60_000);

  it('a --report, or andor report\'s --out, that cannot be written is a typed error naming it, exit 2, the --out file left as it was and the new result kept beside it (an adversarial sweep, stops 43 and 46)', async () => {
    // it was Node's own ENOSPC, an "unexpected error" with exit 1, after the whole run; then (stop 46) --out was
    // already replaced when --report failed, a new result beside an old report
    for (const args of [['--sample', MLP_SAMPLES], ['--samples', MLP_SAMPLES, '--rows', '0-1', '--no-cache']]) {
      const out = join(dir, `report-failed-${args[0].slice(2)}.json`);
      await writeFile(out, 'an earlier run\n');
      const run = await runCli(['explain', '--model', MLP, ...args, '--out', out, '--players', '0-5', '--preset', 'none', '--report', '/dev/full', '--workers', '0']);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/^andor: error \[INVALID_OPTION\]: Cannot write --report \/dev\/full: ENOSPC\. Give a file on a disk with room for the result/m);
      expect(run.stderr).toContain(`what was written before the run ended is in ${out}.partial; the --out and --report files were left as they were`);
      expect(await readFile(out, 'utf8')).toBe('an earlier run\n');
      const lines = (await readFile(`${out}.partial`, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
      expect(lines.at(-1).n ?? lines.at(-1).results?.[0]?.n).toBe(6);
    }
    const out = join(dir, 'report-failed-sample.json.partial');
    const rendered = await runCli(['report', out, '--out', '/dev/full']);
    expect(rendered.code).toBe(2);
    expect(rendered.stderr).toMatch(/^andor: error \[INVALID_OPTION\]: Cannot write --out \/dev\/full: ENOSPC\./m);
  }, 60_000);

  it('a batch that fails leaves an existing --out file as it was, and no FILE.partial when nothing was written (an adversarial sweep, stop 32)', async () => {
    const folder = join(dir, 'out-kept');
    await mkdir(folder);
    const out = join(folder, 'kept.jsonl');
    await writeFile(out, 'an earlier run\n');
    const run = await runCli(['explain', '--model', MLP, '--samples', MLP_SAMPLES, '--rows', '0-1', '--players', '0-29', '--method', 'sparse', '--budget', '1', '--no-cache', '--workers', '0', '--out', out]);
    expect(run.code).toBe(2);
    expect(await readFile(out, 'utf8')).toBe('an earlier run\n');
    expect(await readdir(folder)).toEqual(['kept.jsonl']);
  }, 30_000);

  it('reproduce refuses an --out it cannot write before any run, with the message alone (an adversarial sweep, stop 32)', async () => {
    const file = join(dir, 'reproduce-out');
    await writeFile(file, 'not a folder');
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(ROOT, 'dist', 'engine', 'interfaces', 'reproduce.js'), '--out', file, '--no-cache'], (error, _stdout, stderr) => resolve({ code: error ? (error as { code: number }).code : 0, stderr }));
    });
    expect(run.code).toBe(2);
    // its whole stderr: no run's progress line came before it
    expect(run.stderr).toMatch(/^reproduce: error \[INVALID_OPTION\]: --out .*reproduce-out cannot take the reproduction \(ENOTDIR\); give a writable folder\.\n$/);
  }, 30_000);

  it('a cache folder that cannot be made (under /proc, where a recursive mkdir never returned) is a typed error at once, exit 2', async () => {
    const run = await runCli(['explain', '--model', MLP, '--samples', MLP_SAMPLES, '--rows', '0-1', '--players', '0-3', '--preset', 'none', '--cache', '/proc/andor-no-such/cache', '--workers', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^andor: error \[INVALID_OPTION\]: .*\/proc\/andor-no-such\/cache cannot be created \(ENOENT\); give a writable folder/m);
  }, 30_000);

  it('a cache folder that cannot be written costs the run its cache, not its results: said once, and the run goes on', async () => {
    // an entry's temporary name is longer than its own: in a folder whose path leaves room for "<key>.bin" but not for
    // "<key>.bin.<pid>.<random>.tmp" every write fails (ENAMETOOLONG, for root too) while every read is a plain miss
    let folder = join(dir, 'long');
    while (folder.length < 4020 - 250) folder = join(folder, 'd'.repeat(200));
    folder = join(folder, 'e'.repeat(4020 - folder.length - 1));
    expect(folder.length).toBe(4020);
    await mkdir(folder, { recursive: true });
    const warnings: string[] = [];
    const warned = await createEngine({ workers: 0, logger: { warn: (m) => void warnings.push(m), info: () => {} } });
    try {
      const request = { model: MLP, samples: MLP_SAMPLES, rows: '0-2', players: '0-5', preset: 'none' as const, cacheDir: folder };
      const result = await warned.explainBatch(request);
      const clean = await engine.explainBatch({ ...request, cacheDir: false });
      for (let i = 0; i < 3; i++) expect(Array.from(result.results![i].v)).toEqual(Array.from(clean.results![i].v));
      expect(warnings.filter((w) => w.startsWith('Cannot write to the cache folder'))).toHaveLength(1);
      expect(warnings[0]).toMatch(/\(ENAMETOOLONG\): the run goes on, but its results are not cached and a rerun computes them again\. Give a writable folder \(--cache DIR\)/);
    } finally {
      await warned.dispose();
    }
  }, 60_000);

  it('reference rows whose header names the columns in another order are refused, not averaged column by column', async () => {
    const set = JSON.parse(await readFile(MLP_SAMPLES, 'utf8')) as { features: string[]; samples: { x: number[] }[] };
    const same = join(dir, 'reference-same.csv');
    const swapped = join(dir, 'reference-swapped.csv');
    await writeFile(same, csv([set.features, ...set.samples.map((s) => s.x)]));
    await writeFile(swapped, csv([swap(set.features), ...set.samples.map((s) => swap(s.x))]));
    const request = { model: MLP, sample: MLP_SAMPLES, players: '0-3', baseline: 'mean' as const, preset: 'none' as const };
    await expect(engine.explain({ ...request, reference: same })).resolves.toBeDefined();
    const error = await engine.explain({ ...request, reference: swapped }).then(() => undefined, (e: Error) => e);
    expect(error?.name).toBe('ShapeMismatchError');
    expect(error?.message).toMatch(/names column 0 "mean texture", but the sample's file names it "mean radius" \(its "mean texture" is column 1\)/);
  });

  it('a mean baseline whose reference rows overflow when averaged is refused, naming the reference, not the sample (--background mask; stop 34)', async () => {
    const x = (JSON.parse(await readFile(MLP_SAMPLES, 'utf8')) as { samples: { x: number[] }[] }).samples[0].x;
    // column 29 (no player of 0-3: background) at the largest float64 in three rows: their rounded mean is Infinity
    const huge = x.map((value, d) => (d === 29 ? Number.MAX_VALUE : value));
    const reference = JSON.stringify({ samples: [{ x: huge }, { x: huge }, { x: huge }] });
    // a float64 model: each row fits its input, their mean does not
    const error = await engine
      .explain({ model: model('tabular-f64.onnx'), sample: MLP_SAMPLES, players: '0-3', baseline: 'mean', background: 'mask', reference, preset: 'none' })
      .then(() => undefined, (e: Error) => e);
    expect(error?.name).toBe('NonFiniteError');
    expect(error?.message).toMatch(/^The mean of the reference rows is Infinity at element 29 of input ".+": .* Rescale the reference rows, or give the baseline as a vector\.$/);
    // a float32 model cannot hold one row (stop 47): the row is named, before any mean
    const row = await engine.explain({ model: MLP, sample: MLP_SAMPLES, players: '0-3', baseline: 'mean', background: 'mask', reference, preset: 'none' }).then(() => undefined, (e: Error) => e);
    expect(row?.name).toBe('InvalidInputError');
    expect(row?.message).toMatch(/^Input "features" is float32, but reference row 0 of the inline options\.reference has 1\.7976931348623157e\+308 at element 29, beyond float32's range/);
  });

  it('a baseline file (--baseline FILE) is read as the sample is: its columns by name, its layout, and never empty', async () => {
    const set = JSON.parse(await readFile(MLP_SAMPLES, 'utf8')) as { features: string[]; samples: { x: number[] }[] };
    const same = join(dir, 'baseline-same.csv');
    const swapped = join(dir, 'baseline-swapped.csv');
    await writeFile(same, csv([set.features, set.samples[3].x]));
    await writeFile(swapped, csv([swap(set.features), swap(set.samples[3].x)]));
    const common = ['explain', '--model', MLP, '--sample', MLP_SAMPLES, '--players', '0-3', '--preset', 'none', '--json', '--workers', '0'];
    const fromFile = await runCli([...common, '--baseline', same]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const fromArray = await runCli([...common, '--baseline', JSON.stringify(set.samples[3].x)]);
    expect(JSON.parse(fromFile.stdout).v).toEqual(JSON.parse(fromArray.stdout).v);
    // the first key or column was taken as it came: a swapped header put each feature's baseline on the other
    const refused = await runCli([...common, '--baseline', swapped]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\[SHAPE_MISMATCH\]: The baseline .*baseline-swapped\.csv names column 0 "mean texture", but the sample's file names it "mean radius" \(its "mean texture" is column 1\); the baseline is read column by column\. Write the baseline row with the sample's columns/);
    // a baseline or reference row nested in another layout of the same size is refused, as the sample is (it was
    // read row-major as the input's layout, in silence)
    const digits = JSON.parse(await readFile(model('digits.samples.json'), 'utf8')) as { samples: { x: number[][][] }[] };
    const flat = digits.samples.slice(0, 2).map((s) => s.x.flat(2));
    const wide = JSON.stringify({ samples: flat.map((x) => ({ x: Array.from({ length: 4 }, (_, r) => x.slice(16 * r, 16 * r + 16)) })) });
    const image = { model: model('digits-cnn.onnx'), sample: model('digits.samples.json'), modality: 'image' as const, players: '0-3', preset: 'none' as const };
    await expect(engine.explain({ ...image, baseline: 'mean', reference: JSON.stringify({ samples: flat }) })).resolves.toBeDefined();
    await expect(engine.explain({ ...image, baseline: 'mean', reference: wide })).rejects.toThrowError(/^Reference row 0 of .* has shape \[4, 16\] but input "\w+" per sample is \[1, 8, 8\]/);
    await expect(engine.explain({ ...image, baseline: await loadSampleSet(wide) })).rejects.toThrowError(/^The baseline .* has shape \[4, 16\] but input "\w+" per sample is \[1, 8, 8\]/);
    const empty = { samples: [], source: 'empty.json' };
    await expect(engine.explain({ model: MLP, sample: MLP_SAMPLES, players: '0-3', preset: 'none', baseline: empty })).rejects.toThrowError(/options\.baseline: empty\.json holds no rows; its first row is the baseline\./);
  }, 30_000);

  it('a malformed rows option says what rows look like, not the flag\'s placeholder ("a string like \\"ROWS\\"")', async () => {
    for (const rows of ['-1', '1.5', 'all,0', [0, 2]]) {
      const error = await engine.explainBatch({ model: MLP, samples: MLP_SAMPLES, rows: rows as string, players: '0-3', cacheDir: false }).then(() => undefined, (e: Error) => e);
      expect(error, JSON.stringify(rows)).toBeInstanceOf(InvalidOptionError);
      expect(error!.message).toBe(`options.rows must be "all", or row numbers ≥ 0 and ranges like "0-99" or "3,5,8-12" (got ${typeof rows === 'string' ? `"${rows}"` : '[0, 2]'}).`);
    }
    // spaces and tabs around the entries, as options.players takes them (" 0 - 1 " was refused: stop 43's sweep)
    const spaced = await engine.explainBatch({ model: MLP, samples: MLP_SAMPLES, rows: ' 0 - 1 ,\t3 ', players: '0-3', preset: 'none', cacheDir: false });
    expect(spaced.results?.map((r) => r.sample?.row)).toEqual([0, 1, 3]);
  });
});
