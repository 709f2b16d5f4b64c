// What `reproduce` writes and refuses, found by an adversarial sweep (stop 48): a run of one series without --out
// rewrote the package's REPRODUCTION.md with that series alone and deleted every other series' figures; a write that
// failed at the end (a full disk, a folder named like a figure) left the output half-written with an untyped stack;
// --help, an unknown flag or a flag without its value printed a Node stack; --authors-iterations past the engine's
// bound and a --cache file were named options.iterations / options.cacheDir, after an empty OUT/docs/reproduction
// was made. The refusals run the real script and must come before any run; the all-or-nothing write is driven on
// real files (a whole run of the smallest series takes about 50 s cold on 2 cores).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, ROOT } from '../helpers/index.js';

const SCRIPT = join(ROOT, 'dist', 'engine', 'interfaces', 'reproduce.js');
const OUTPUT_MODULE = join(ROOT, 'dist', 'engine', 'interfaces', 'reproduce-output.js');
/** A refusal comes before any run; a run that starts anyway is killed long before it would write (it writes only at
 *  its end, after about 50 s cold), so a regression fails the test instead of touching the package. */
const REFUSAL_KILL_MS = 20_000;
/** Test timeout of a refusal. */
const REFUSAL_MS = 30_000;
/** The series the refusals name (the smallest of models/manifest.json). */
const SERIES = 'bc-mlp-series';

/** Runs the reproduce script (through bash when `ulimit` is given, with that file-size limit in 1 KiB blocks). */
function reproduce(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { timeout: REFUSAL_KILL_MS }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

/** Every file under a folder (links and all), by path relative to it, with its content. */
async function tree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    files[relative(dir, path)] = entry.isDirectory() ? '<folder>' : await readFile(path, 'utf8');
  }
  return files;
}

/** An earlier reproduction: its document, verdicts listing two figures, those figures, and a file of someone else. */
async function earlierOutput(out: string): Promise<void> {
  await mkdir(join(out, 'docs', 'reproduction'), { recursive: true });
  await writeFile(join(out, 'REPRODUCTION.md'), '# earlier run, cites docs/reproduction/removal.svg\n');
  await writeFile(join(out, 'docs', 'reproduction', 'verdicts.json'), JSON.stringify({ verdicts: {}, figures: ['removal.svg', 'gone.svg'] }));
  await writeFile(join(out, 'docs', 'reproduction', 'removal.svg'), '<svg>earlier removal</svg>');
  await writeFile(join(out, 'docs', 'reproduction', 'gone.svg'), '<svg>earlier, not written again</svg>');
  await writeFile(join(out, 'docs', 'reproduction', 'mine.svg'), '<svg>not the reproduction\'s</svg>');
}

describe('reproduce refuses before any run (an adversarial sweep, stop 48)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andor-reproduce-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints its usage for --help, exit 0', async () => {
    const run = await reproduce(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: node dist\/engine\/interfaces\/reproduce\.js/);
    for (const flag of ['--out DIR', '--cache DIR', '--no-cache', '--series A,B', '--authors-iterations N', '--quiet', '--help']) expect(run.stdout).toContain(flag);
  }, REFUSAL_MS);

  it.each([
    [['--bogus'], /^reproduce: error \[INVALID_OPTION\]: Unknown option '--bogus'\.\nUsage: /],
    [['--out'], /^reproduce: error \[INVALID_OPTION\]: Option '--out <value>' argument missing\.\nUsage: /],
    [['stray'], /^reproduce: error \[INVALID_OPTION\]: Unexpected argument 'stray'.*\nUsage: /],
  ])('answers %j with the message and the usage, exit 2, no stack', async (args, message) => {
    const run = await reproduce(['--no-cache', ...args]); // last: a bare --out ends the line
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/ERR_PARSE_ARGS|\n\s+at /);
  }, REFUSAL_MS);

  it('bounds --authors-iterations as the engine does, by its own name, and makes no output folder', async () => {
    const out = join(dir, 'out');
    const run = await reproduce(['--series', SERIES, '--authors-iterations', '20000000', '--out', out, '--no-cache']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('reproduce: error [INVALID_OPTION]: --authors-iterations must be an integer in 1..10000000 (got 20000000).\n');
    expect(await readdir(dir)).toEqual([]);
  }, REFUSAL_MS);

  it('names --cache when its path is a file, and makes no output folder', async () => {
    const out = join(dir, 'out');
    const file = join(dir, 'cache-file');
    await writeFile(file, 'not a folder');
    const run = await reproduce(['--series', SERIES, '--out', out, '--cache', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`reproduce: error [INVALID_OPTION]: --cache ${file} is a file, not a folder; give a folder for the cache (or disable it).\n`);
    expect(await readdir(dir)).toEqual(['cache-file']);
  }, REFUSAL_MS);

  it('refuses a run of some series into the package root (it replaced the reproduction of every series), leaving it as it was', async () => {
    const before = { doc: await readFile(join(ROOT, 'REPRODUCTION.md'), 'utf8'), figures: await readdir(join(ROOT, 'docs', 'reproduction')) };
    for (const args of [['--series', SERIES], ['--series', SERIES, '--out', ROOT]]) {
      const run = await reproduce([...args, '--no-cache']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^reproduce: error \[INVALID_OPTION\]: --series bc-mlp-series runs 1 of the \d+ series, and --out is the package root .*: give --out DIR for a run of some series, or leave --series out\.\n$/);
    }
    expect({ doc: await readFile(join(ROOT, 'REPRODUCTION.md'), 'utf8'), figures: await readdir(join(ROOT, 'docs', 'reproduction')) }).toEqual(before);
  }, REFUSAL_MS);

  it('refuses a series name the manifest lacks, listing those it has', async () => {
    const run = await reproduce(['--series', `${SERIES},no-such-series`, '--out', join(dir, 'out'), '--no-cache']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^reproduce: error \[INVALID_OPTION\]: --series no-such-series is not a series of models\/manifest\.json\. Expected some of: bc-mlp-series, .*\.\n$/);
    expect(await readdir(dir)).toEqual([]);
  }, REFUSAL_MS);

  it.each([['docs/reproduction/removal.svg'], ['docs/reproduction/bc-mlp-series-andor-grid.svg'], ['REPRODUCTION.md'], ['docs/reproduction/verdicts.json.partial']])(
    'refuses a folder in place of a file it writes (%s), leaving the earlier output as it was',
    async (file) => {
      const out = join(dir, 'out');
      await earlierOutput(out);
      await rm(join(out, file), { force: true });
      await mkdir(join(out, file));
      const before = await tree(out);
      const run = await reproduce(['--series', SERIES, '--out', out, '--no-cache']);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`reproduce: error [INVALID_OPTION]: --out ${out} cannot take the reproduction: ${join(out, file)} is a folder, where the run writes a file. Move it away, or give another --out.\n`);
      expect(await tree(out)).toEqual(before);
    },
    REFUSAL_MS,
  );
});

describe('writeReproduction (the end of a reproduce run, on real files)', () => {
  // imported here, not at the top: the refusals above stand on their own where this module is missing
  let writeReproduction: typeof import('../../dist/engine/interfaces/reproduce-output.js').writeReproduction;
  let out: string;
  beforeAll(async () => {
    ({ writeReproduction } = await import('../../dist/engine/interfaces/reproduce-output.js'));
  });
  const figures = (svg: string) => [{ file: 'removal.svg', svg: `<svg>${svg} removal</svg>` }, { file: 'new.svg', svg: `<svg>${svg} new</svg>` }];
  beforeEach(async () => {
    out = await mkdtemp(join(tmpdir(), 'andor-reproduce-out-'));
  });
  afterEach(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('replaces the earlier run\'s figures (those its verdicts.json lists), removes those not written again, keeps other files', async () => {
    await earlierOutput(out);
    await writeReproduction(out, 'docs/reproduction', { document: '# new\n', verdicts: '{"figures":["removal.svg","new.svg"]}\n', figures: figures('new') });
    expect(await tree(out)).toEqual({
      'REPRODUCTION.md': '# new\n',
      docs: '<folder>',
      'docs/reproduction': '<folder>',
      'docs/reproduction/verdicts.json': '{"figures":["removal.svg","new.svg"]}\n',
      'docs/reproduction/removal.svg': '<svg>new removal</svg>',
      'docs/reproduction/new.svg': '<svg>new new</svg>',
      'docs/reproduction/mine.svg': '<svg>not the reproduction\'s</svg>',
    });
  });

  it('takes the figures of an earlier verdicts.json without a list from its series, and no one else\'s', async () => {
    await mkdir(join(out, 'docs', 'reproduction'), { recursive: true });
    await writeFile(join(out, 'docs', 'reproduction', 'verdicts.json'), JSON.stringify({ verdicts: { [SERIES]: {} } }));
    for (const f of [`spindle-${SERIES}.svg`, `${SERIES}-andor-grid.svg`, `conventions-${SERIES}.svg`, 'spindle-other-series.svg']) await writeFile(join(out, 'docs', 'reproduction', f), '<svg/>');
    await writeReproduction(out, 'docs/reproduction', { document: '# new\n', verdicts: '{}\n', figures: figures('new') });
    expect((await readdir(join(out, 'docs', 'reproduction'))).sort()).toEqual(['new.svg', 'removal.svg', 'spindle-other-series.svg', 'verdicts.json']);
  });

  it('refuses a folder in place of a file, writing nothing', async () => {
    await earlierOutput(out);
    await mkdir(join(out, 'docs', 'reproduction', 'new.svg'));
    const before = await tree(out);
    const writing = writeReproduction(out, 'docs/reproduction', { document: '# new\n', verdicts: '{}\n', figures: figures('new') });
    await expect(writing).rejects.toThrowError(InvalidOptionError);
    await expect(writing).rejects.toThrowError(`${join(out, 'docs', 'reproduction', 'new.svg')} is a folder, where the run writes a file`);
    expect(await tree(out)).toEqual(before);
  });

  it('leaves the earlier output as it was, and no partial file, when a write fails midway (EFBIG under ulimit -f)', async () => {
    await earlierOutput(out);
    const before = await tree(out);
    // the first figure fits in the limit and is written; the second (64 KiB past it) fails with EFBIG (Node ignores
    // SIGXFSZ): the written partial must go, and nothing be renamed
    const script = `
      const { writeReproduction } = await import(${JSON.stringify(OUTPUT_MODULE)});
      const files = { document: '# new\\n', verdicts: '{}\\n', figures: [{ file: 'removal.svg', svg: '<svg>small</svg>' }, { file: 'big.svg', svg: 'x'.repeat(${64 * 1024}) }] };
      try { await writeReproduction(${JSON.stringify(out)}, 'docs/reproduction', files); console.log(JSON.stringify({ written: true })); }
      catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }`;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile('bash', ['-c', 'ulimit -f 8; exec "$0" --input-type=module -e "$1"', process.execPath, script], (error, text) => (error ? reject(error) : resolve(text)));
    });
    const outcome = JSON.parse(stdout) as { name: string; code: string; message: string };
    expect(outcome).toEqual({
      name: 'InvalidOptionError', code: 'INVALID_OPTION',
      message: expect.stringMatching(new RegExp(`^Cannot write --out ${join(out, 'docs', 'reproduction', 'big.svg')}: EFBIG\\. Give a file on a disk with room for the result; results kept in the cache \\(--cache\\) are read back by a rerun\\.$`)),
    });
    expect(await tree(out)).toEqual(before);
  });
});
