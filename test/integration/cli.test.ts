// The andor CLI as a user runs it: the default job, game input with known coefficients, the JSON result, and one
// clear error line (no stack trace) with a non-zero exit code for bad input.
import { lstat, mkdir, mkdtemp, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, expectClose, unanimityGame } from '../helpers/index.js';
import { runCli as run } from '../helpers/cli.js';


describe('andor CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andor-cli-'));
  });

  it('explains the bundled default model with no arguments and writes the JSON result', async () => {
    const out = join(dir, 'default.json');
    const { code, stdout } = await run(['explain', '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/players\s+n = 10: mean radius/);
    const json = JSON.parse(await readFile(out, 'utf8'));
    expect(json.schema).toBe('andor.explain/1');
    expect(json.n).toBe(10);
    expect(json.v).toHaveLength(1024);
    expect(json.and).toHaveLength(1024);
    expect(json.or).toHaveLength(1024);
    expect(json.matching.maxAbsNoise).toBeLessThan(1e-9); // v + q rebuilt exactly
    expect(json.matching.maxAbsError).toBeLessThanOrEqual(json.decomposition.qBound + 1e-12);
    expect(json.decomposition).toMatchObject({ method: 'and-or', preset: 'default', solver: 'pdhg' });
    expect(json.decomposition.objective.final).toBeLessThan(json.decomposition.objective.initial);
    expect(json.orders.positive).toHaveLength(11);
    expect(json.salient[0]).toMatchObject({ kind: expect.stringMatching(/and|or/), players: expect.any(Array), value: expect.any(Number) });
    expect(json.timings.totalMs).toBeGreaterThan(0);
  });

  it('prints the known coefficients of a sum of unanimity games given with --values', async () => {
    // v = 3·u_{0} + 2·u_{1,2} − 1.5·u_{0,1,3}; with --decomposition and --preset none the dividends are the weights
    const v = unanimityGame(4, [{ mask: 0b0001, weight: 3 }, { mask: 0b0110, weight: 2 }, { mask: 0b1011, weight: -1.5 }]);
    const file = join(dir, 'game.json');
    await writeFile(file, JSON.stringify(Array.from(v)));
    const out = join(dir, 'game-result.json');
    const { code, stdout } = await run(['explain', '--values', file, '--decomposition', 'and', '--preset', 'none', '--names', 'a,b,c,d', '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/AND\s+3\.0000\s+\{a\}/);
    expect(stdout).toMatch(/AND\s+2\.0000\s+\{b · c\}/);
    expect(stdout).toMatch(/AND\s+-1\.5000\s+\{a · b · d\}/);
    const json = JSON.parse(await readFile(out, 'utf8'));
    const expected = new Array(16).fill(0);
    expected[0b0001] = 3;
    expected[0b0110] = 2;
    expected[0b1011] = -1.5;
    expectClose(json.and, expected, { atol: 1e-12 });
    expect(json.salient).toHaveLength(3);
  });

  it('reads a raw little-endian float64 values file', async () => {
    const v = unanimityGame(3, [{ mask: 0b101, weight: 4 }]);
    const file = join(dir, 'game.f64');
    await writeFile(file, Buffer.from(v.buffer));
    const { code, stdout } = await run(['explain', '--values', file, '--decomposition', 'and', '--preset', 'none', '--json']);
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.and[0b101]).toBe(4);
  });

  it.each([
    [['explain', '--model', 'models/missing.onnx', '--sample', '[1]'], /error \[MODEL_LOAD\]: Cannot read the model file/, 1],
    [['explain', '--model', 'models/breast-cancer-mlp.onnx', '--sample', '[1,2]'], /error \[SHAPE_MISMATCH\]: .*takes 30 values per sample/, 1],
    [['explain', '--players', '0-40'], /error \[INVALID_OPTION\]: --players: feature column 30 is out of range/, 2],
    // qthres bounds the learned q, which preset none (γ = q = 0) does not learn: refused as --lr is (it was ignored)
    [['explain', '--preset', 'none', '--qthres', '0.1'], /error \[INVALID_OPTION\]: --qthres tunes the solver, which preset "none" \(γ = q = 0\) does not run: leave it out, or choose another preset\.$/m, 2],
    // the library's options.<field> is written as the command's flag (an adversarial sweep, stop 33)
    [['explain', '--target', '5'], /error \[INVALID_OPTION\]: Target class 5 \(--target\) is out of range/, 2],
    [['explain', '--method', 'sparse', '--budget', '5', '--players', '0-29'], /error \[INVALID_OPTION\]: --budget = 5 is too small .* Raise --budget to ≥ \d+ or lower --max-order\.$/m, 2],
    // messages that named the wrong thing (an adversarial sweep, stop 33)
    [['explain', '--model', 'models/digits-cnn.onnx', '--grid', '2X2'], /--grid must be a string "RxC" such as "7x7", or a list of 2 items .*\(got "2X2"\)/, 2],
    [['explain', '--', '--players', '0-3'], /Unexpected argument "--players" for "andor explain": it comes after "--", which ends the options, so it is not read as one\. Remove the "--"\.$/m, 2],
    // the CLI has no --max-players to raise: its limit, 30, is the schema's maximum (a README check, stop 34)
    [['explain', '--model', 'models/tokens-40.onnx', '--sample', 'models/tokens-40.samples.json', '--method', 'exact'], /error \[INVALID_OPTION\]: 40 players exceed the exact method's limit of 30\. Choose at most 30 players, or use method 'sparse' \(--method sparse\)/, 2],
    [['explain', '--lr', '1e-400'], /--lr 1e-400 is too close to 0 for float64 \(it would round to 0\); give a larger value\./, 2],
    [['explain', '--lr', '2e308'], /--lr 2e308 is past float64's range \(it would round to Infinity\); give a smaller value\./, 2],
    [['explain', '--values', '[1,2,3]'], /error \[SHAPE_MISMATCH\]: The values vector has 3 values/, 1],
    [['explain', '--values', '[0,1,null,2]'], /error \[NON_FINITE\]/, 1],
    // a flag the game's values cannot use was ignored in silence (an adversarial sweep, stop 33)
    [['explain', '--values', '[1,2,3,4]', '--method', 'sparse', '--players', '0-1'], /error \[INVALID_OPTION\]: --values explains a game given as its 2\^n values, exactly: --method, --players do not apply to it/, 2],
    [['explain', '--colour', 'red'], /error \[INVALID_OPTION\]: Unknown option --colour for "andor explain"/, 2],
    // the last of a repeated flag won in silence (an adversarial sweep, stop 33)
    [['explain', '--players', '0-3', '--players', '5'], /error \[INVALID_OPTION\]: --players is given twice for "andor explain"; give it once/, 2],
    [['explain', '--model', 'package.json', '--sample', '[1]'], /error \[MODEL_LOAD\]: The runtime could not load the model/, 1],
    [['explain', '--players', '0-19', '--max-memory-mb', '8', '--method', 'exact'], /error \[MEMORY_LIMIT\]: 20 players need 1048576 masks/, 1],
    [['frobnicate'], /Unknown command "frobnicate"/, 2],
    [['explian'], /Unknown command "explian"\. Did you mean "explain"\?/, 2],
    [['explain', '--preset', 'defualt'], /--preset must be one of: none, reference, default[a-z, ]* \(got "defualt"\)\. Did you mean "default"\?/, 2],
    [['explain', '--baseline', 'mena'], /--baseline "mena" is neither a keyword \(zero, mean, marginal, blur, centroid, center\).*Did you mean "mean"\?/, 2],
    [['explain', '--reward', 'log-odds'], /--reward must be one of: gt-log-odds, gt-log-odds-v0, logit, logit-v0, output, output-v0/, 2],
    [['explain', '--iterations', 'many'], /--iterations must be an integer in 1\.\.10000000 \(got "many"\)/, 2],
    [['explain', 'preset', 'none'], /Unexpected argument "preset".*Did you mean --preset\?/, 2],
    [['explain', '--workers', '-1'], /--workers must be an integer in 0\.\.256 \(got -1\)/, 2],
    [['explain', '--out', '/nonexistent-folder/r.json'], /--out \/nonexistent-folder\/r\.json: the folder \/nonexistent-folder does not exist/, 2],
    [['explain', '--report', '/nonexistent-folder/r.html'], /--report .*does not exist/, 2],
    [['explain', '--model', 'models/digits-cnn-series/epoch-0000.onnx', '--sample', 'models/digits.samples.json'], /holds \[1, 8, 8\] per sample, so the default tabular modality would mask its first elements/, 2],
  ])('fails cleanly on %j', async (args, message, exitCode) => {
    const { code, stderr } = await run(args as string[]);
    expect(code).toBe(exitCode);
    expect(stderr).toMatch(message as RegExp);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
  });

  it('names an inline --baseline as the baseline in its errors, not as the sample (an adversarial sweep, stop 43)', async () => {
    const baseline = JSON.stringify([1e300, ...new Array(29).fill(0)]).replace('1e+300', '1e400');
    const { code, stderr } = await run(['explain', '--model', 'models/breast-cancer-mlp.onnx', '--sample', 'models/breast-cancer.samples.json', '--baseline', baseline, '--players', '0-3', '--quiet']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/error \[NON_FINITE\]: the inline --baseline\[0\] is Infinity; samples must hold only finite numbers/);
  });

  it('says of JSON lines without a batch aggregate (an interrupted batch\'s FILE.partial) that a rerun gives the whole result (stop 43)', async () => {
    const partial = join(dir, 'batch.jsonl.partial');
    await writeFile(partial, `${JSON.stringify({ schema: 'andor.explain/1' })}\n${JSON.stringify({ schema: 'andor.explain/1' })}\n`);
    const { code, stderr } = await run(['report', partial, '--out', join(dir, 'partial.html')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/holds 2 JSON lines, but its last line is not an andor\.batch\/1 aggregate \(got schema "andor\.explain\/1"\)\. An interrupted batch leaves its finished samples in FILE\.partial without one: rerun the batch/);
  });

  it('refuses a batch\'s JSON lines that are not the samples its aggregate counts, takes them in any order, and says a cut-off document is cut off (a sweep, stop 47)', async () => {
    const out = join(dir, 'lines.jsonl');
    const made = await run(['explain', '--model', 'models/breast-cancer-mlp.onnx', '--samples', 'models/breast-cancer.samples.json', '--rows', '0-2', '--players', '0-3', '--preset', 'none', '--no-cache', '--workers', '0', '--out', out, '--quiet']);
    expect(made.code, made.stderr).toBe(0);
    const [a, b, c, aggregate] = (await readFile(out, 'utf8')).trim().split('\n');
    const cases: [string, string[], RegExp | undefined][] = [
      ['swapped', [c, a, b, aggregate], undefined],
      ['dropped', [a, c, aggregate], /holds 2 per-sample line\(s\) for the 3 sample\(s\) its aggregate counts; no line for row\(s\) 1\. .*rerun the batch/],
      ['doubled', [a, b, b, c, aggregate], /holds 4 per-sample line\(s\) for the 3 sample\(s\) its aggregate counts; row\(s\) 1 is extra or given twice/],
    ];
    for (const [tag, lines, message] of cases) {
      const file = join(dir, `lines-${tag}.jsonl`);
      await writeFile(file, `${lines.join('\n')}\n`);
      const rendered = await run(['report', file, '--out', join(dir, `lines-${tag}.html`)]);
      if (message === undefined) expect(rendered.code, rendered.stderr).toBe(0);
      else {
        expect(rendered.code, tag).toBe(1);
        expect(rendered.stderr).toMatch(message);
      }
    }
    const pretty = JSON.stringify(JSON.parse(a), null, 2);
    const cut = join(dir, 'cut.json');
    await writeFile(cut, pretty.slice(0, Math.floor(pretty.length / 2)));
    const truncated = await run(['report', cut, '--out', join(dir, 'cut.html')]);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toMatch(/cut\.json is not JSON, as one document \(.*: cut off\?\) nor as JSON lines \(its first line is not a whole value\)/);
  });

  it('says --row with --samples is --rows there, not that --sample was given too (an adversarial sweep, stop 43)', async () => {
    const { code, stderr } = await run(['explain', '--model', 'models/breast-cancer-mlp.onnx', '--samples', 'models/breast-cancer.samples.json', '--row', '2', '--players', '0-3', '--quiet']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/error \[INVALID_OPTION\]: --row picks the row of --sample; with --samples, pick rows with --rows \(e\.g\. --rows 2 or --rows 0-9\)\.$/m);
  });

  it('names a label out of range in --samples as the sample\'s label, not as --target (which --samples does not take)', async () => {
    const set = JSON.parse(await readFile(join(ROOT, 'models', 'breast-cancer.samples.json'), 'utf8'));
    const samples = join(dir, 'labels.json');
    // no "classes": the set's own check (labels below the number of classes) does not apply
    await writeFile(samples, JSON.stringify({ samples: [{ ...set.samples[0], label: 1 }, { ...set.samples[1], label: 5 }] }));
    const { code, stderr } = await run(['explain', '--model', 'models/breast-cancer-mlp.onnx', '--samples', samples, '--players', '0-3', '--preset', 'none', '--no-cache', '--quiet']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/error \[INVALID_OPTION\]: models\/breast-cancer-mlp\.onnx, sample row 1: Target class 5 \(the sample's label\) is out of range: .* Fix the sample's label in --samples\.$/m);
  });

  it('says an option error of a batch or a dynamics run as the option\'s, not as the first unit\'s model and row', async () => {
    for (const args of [
      ['explain', '--samples', 'models/breast-cancer.samples.json', '--players', '0-3', '--preset', 'none', '--qthres', '0.1', '--no-cache', '--quiet'],
      ['dynamics', '--preset', 'none', '--lr', '0.1', '--no-cache', '--quiet'],
    ]) {
      const { code, stderr } = await run(args);
      expect(code).toBe(2);
      expect(stderr).toMatch(/^andor: error \[INVALID_OPTION\]: --(qthres|lr) tunes the solver, which preset "none" \(γ = q = 0\) does not run/m);
      expect(stderr).not.toMatch(/sample row/);
    }
  });

  it('takes --preset none with --conventions authors, which fills a qthres the command line did not give', async () => {
    const { code, stderr } = await run(['explain', '--preset', 'none', '--conventions', 'authors', '--players', '0-3', '--quiet']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('prints the help of bench, as of every command (a README check, stop 34)', async () => {
    const { code, stdout } = await run(['bench', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: andor bench \[--quick\]$/m);
  });

  it('prints its version', async () => {
    const { code, stdout } = await run(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('takes a bundled model\'s modality from the manifest, and shows class names beside the target', async () => {
    const { code, stdout } = await run(['explain', '--model', 'models/digits-cnn.onnx', '--sample', 'models/digits.samples.json', '--players', '5,6,9,10', '--preset', 'none', '--workers', '0']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/players\s+n = 4: r1c1, r1c2, r2c1, r2c2/); // grid cells: the image modality of the manifest
    const bc = await run(['explain', '--preset', 'none', '--workers', '0']);
    expect(bc.stdout).toMatch(/target class 1 \(benign\)/);
  });

  it('refuses an output file that is one of the run\'s inputs, a folder path and a name too long, before any work (stop 33)', async () => {
    const samples = join(dir, 'own-samples.json');
    await writeFile(samples, await readFile(join(ROOT, 'models', 'breast-cancer.samples.json')));
    const cases: [string[], RegExp][] = [
      [['--sample', samples, '--out', samples], /--out and --sample are the same file/],
      [['--sample', samples, '--report', join(ROOT, 'models', 'breast-cancer-mlp.onnx')], /--report and --model are the same file/],
      [['--sample', samples, '--out', join(dir, 'no-such-folder') + '/'], /--out .*no-such-folder\/ names a folder; give a file name/],
      [['--sample', samples, '--out', join(dir, 'a'.repeat(300))], /Cannot write --out .*ENAMETOOLONG/],
      // --cache DIR does not exist yet: the run made it, then failed to write --out over it (EISDIR; a sweep, stop 47)
      [['--samples', samples, '--rows', '0-1', '--cache', join(dir, 'new-cache'), '--out', join(dir, 'new-cache')], /--out and --cache are the same path \(.*new-cache\): one would overwrite the other/],
      [['--samples', samples, '--rows', '0-1', '--cache', join(dir, 'new-cache'), '--report', join(dir, 'new-cache')], /--report and --cache are the same path/],
    ];
    for (const [args, message] of cases) {
      const refused = await run(['explain', '--model', 'models/breast-cancer-mlp.onnx', ...args, '--workers', '0']);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr).toMatch(message);
    }
    expect(JSON.parse(await readFile(samples, 'utf8')).samples.length).toBeGreaterThan(0);
    await expect(stat(join(dir, 'new-cache'))).rejects.toThrow(/ENOENT/); // refused before the cache was made
  });

  it('drops a bundled model\'s default that the caller\'s own option makes ignored (its --mask-token under --mask-mode attention), and refuses one the caller gave (stop 47)', async () => {
    const args = ['explain', '--model', 'models/token-transformer.onnx', '--sample', 'models/tokens.samples.json', '--players', '0-3', '--mask-mode', 'attention', '--preset', 'none', '--workers', '0', '--json'];
    const dropped = await run(args);
    expect(dropped.code, dropped.stderr).toBe(0);
    const json = JSON.parse(dropped.stdout);
    expect(json.n).toBe(4);
    expect(json.v[0]).not.toBe(json.v[15]); // attention masking changes the output
    const given = await run([...args, '--mask-token', '1']);
    expect(given.code).toBe(2);
    expect(given.stderr).toMatch(/^andor: error \[INVALID_OPTION\]: --mask-token is read only with --mask-mode "token" \(the default\), and the request has --mask-mode "attention": it would be ignored\. Give --mask-mode "token", or leave --mask-token out\./m);
  });

  it('writes --out through a link to a file via that file\'s partial, keeping the link (an adversarial sweep, stop 45)', async () => {
    // a link was written in place: a full disk mid-write left the file it names truncated
    const real = join(dir, 'linked-real.json');
    const link = join(dir, 'linked.json');
    await writeFile(real, '{"old": true}');
    await symlink(real, link);
    const { code } = await run(['explain', '--values', '[1, 2, 3, 5]', '--preset', 'none', '--quiet', '--out', link]);
    expect(code).toBe(0);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(JSON.parse(await readFile(real, 'utf8')).schema).toBe('andor.explain/1');
    expect((await readdir(dir)).filter((f) => f.startsWith('linked') && f.endsWith('.partial'))).toEqual([]);
  });

  it('refuses a dynamics output in the folder of its checkpoints that would replace or add one, and one that is a reference model (an adversarial sweep, stop 45)', async () => {
    // --checkpoints DIR --out DIR/epoch-0004.onnx replaced that checkpoint by the JSON result; --reference-models was
    // not checked at all
    const series = join(ROOT, 'models', 'bc-mlp-series');
    const ckpts = join(dir, 'ckpts');
    await mkdir(ckpts, { recursive: true });
    for (const name of ['epoch-0000.onnx', 'epoch-0004.onnx']) await writeFile(join(ckpts, name), await readFile(join(series, name)));
    const reference = join(dir, 'reference.onnx');
    await writeFile(reference, await readFile(join(series, 'reference-0.onnx')));
    const base = ['dynamics', '--samples', join(series, 'samples.json'), '--players', '0-3', '--no-cache', '--workers', '0', '--quiet'];
    const cases: [string[], RegExp][] = [
      [['--checkpoints', ckpts, '--out', join(ckpts, 'epoch-0004.onnx')], /--out .*epoch-0004\.onnx is in the folder .*ckpts of --checkpoints: it would replace one of its files\./],
      [['--checkpoints', ckpts, '--report', join(ckpts, 'epoch-0099.onnx')], /--report .*epoch-0099\.onnx is in the folder .*ckpts of --checkpoints: it would add a model to it\./],
      [['--checkpoints', ckpts, '--reference-models', reference, '--out', reference], /--out and --reference-models are the same file/],
    ];
    for (const [args, message] of cases) {
      const refused = await run([...base, ...args]);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr).toMatch(message);
    }
    expect(Buffer.compare(await readFile(join(ckpts, 'epoch-0004.onnx')), await readFile(join(series, 'epoch-0004.onnx')))).toBe(0);
    await expect(readFile(join(ckpts, 'epoch-0099.onnx'))).rejects.toThrow(/ENOENT/);
    // a result beside the checkpoints that is no model is written
    const beside = await run([...base, '--checkpoints', ckpts, '--out', join(ckpts, 'result.json')]);
    expect(beside.code).toBe(0);
    expect(JSON.parse(await readFile(join(ckpts, 'result.json'), 'utf8')).checkpoints).toHaveLength(2);
  });

  it('writes a batch\'s JSON lines to --out and to stdout with --json, as a single explanation does (stop 33)', async () => {
    const out = join(dir, 'both.jsonl');
    const { code, stdout } = await run(['explain', '--samples', 'models/breast-cancer.samples.json', '--rows', '0-1', '--players', '0-3', '--preset', 'none', '--no-cache', '--out', out, '--json', '--workers', '0']);
    expect(code).toBe(0);
    const written = (await readFile(out, 'utf8')).trim().split('\n');
    expect(written).toHaveLength(3);
    expect(stdout.trim().split('\n')).toEqual(written);
  });

  it('says when the split stopped with its objective still falling, and not once it has settled (an adversarial sweep, stop 33)', async () => {
    // an AND term of all 8 players and an OR term of players 0 and 1: the default 2000 PDHG iterations end at L1 3.52,
    // 200 000 at the optimum 1.92
    const values = Array.from({ length: 256 }, (_, m) => (m === 255 ? 1 : 0) + (m & 3 ? 1 : 0));
    const short = await run(['explain', '--values', JSON.stringify(values), '--workers', '0']);
    expect(short.code).toBe(0);
    expect(short.stdout).toMatch(/^split .*→ 3\.5\d+ \(still falling: \d+\.\d % over the last tenth of the iterations; more --iterations give a closer split, --solver lp the least one\)$/m);
    const long = await run(['explain', '--values', JSON.stringify(values), '--iterations', '200000', '--workers', '0']);
    expect(long.stdout).toMatch(/^split .*→ 1\.92\d*$/m);
    // solver lp: the optimum the 200 000 iterations reach, at once
    const exact = await run(['explain', '--values', JSON.stringify(values), '--solver', 'lp', '--workers', '0']);
    expect(exact.stdout).toMatch(/^split .*\(lp: the exact optimum, \|q\| ≤ 0\.08\d*\); L1 objective 129(\.0+)? → 1\.92(00)?$/m);
    // a diverged run falls back from its blow-up: its fix is another lr (the warning's), not more iterations
    const diverged = await run(['explain', '--values', JSON.stringify(values), '--solver', 'adam', '--lr', '1000', '--iterations', '200', '--workers', '0']);
    expect(diverged.stderr).toMatch(/warning: the objective rose/);
    expect(diverged.stdout).toMatch(/^split /m);
    expect(diverged.stdout).not.toMatch(/still falling/);
  });

  it('keeps none of a bundled model\'s masking from the manifest when asked for another modality (stop 33)', async () => {
    // the manifest's grid is the image modality's: given to tabular players it would be ignored, which is refused
    const { code, stdout, stderr } = await run(['explain', '--model', 'models/digits-cnn.onnx', '--sample', 'models/digits.samples.json', '--modality', 'tabular', '--players', '0-3', '--preset', 'none', '--workers', '0']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/players\s+n = 4: x0, x1, x2, x3/);
  });

  it('reads samples and baselines from CSV, JSON and .npy files alike', async () => {
    const set = JSON.parse(await readFile(join(ROOT, 'models', 'breast-cancer.samples.json'), 'utf8'));
    const rows: number[][] = set.samples.map((s: { x: number[] }) => s.x);
    const baseline = rows[5];
    const csv = join(dir, 'rows.csv');
    await writeFile(csv, [set.features.join(','), ...rows.map((r) => r.join(','))].join('\n'));
    const npy = join(dir, 'baseline.npy');
    let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (30,), }`;
    header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    await writeFile(npy, Buffer.concat([Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length, 0]), Buffer.from(header), Buffer.from(Float64Array.from(baseline).buffer)]));
    const common = ['explain', '--model', 'models/breast-cancer-mlp.onnx', '--players', '0-5', '--preset', 'none', '--json'];
    const fromCsv = JSON.parse((await run([...common, '--sample', csv, '--row', '2', '--baseline', npy])).stdout);
    const fromJson = JSON.parse((await run([...common, '--sample', join(ROOT, 'models', 'breast-cancer.samples.json'), '--row', '2', '--baseline', JSON.stringify(baseline), '--target', String(fromCsv.target)])).stdout);
    expect(fromCsv.players[0]).toBe('mean radius'); // names from the CSV header
    expectClose(fromCsv.v, fromJson.v, { atol: 1e-5 }); // the CSV carries 6 decimals, as the JSON does
  });

  it('reports a saved result, pretty-printed or with a BOM, and refuses an edited one naming the field (an adversarial sweep, stop 32)', async () => {
    const out = join(dir, 'for-report.json');
    expect((await run(['explain', '--values', JSON.stringify(Array.from(unanimityGame(3, [{ mask: 0b011, weight: 2 }]))), '--decomposition', 'and', '--preset', 'none', '--out', out])).code).toBe(0);
    const json = JSON.parse(await readFile(out, 'utf8'));
    const pretty = join(dir, 'pretty.json');
    await writeFile(pretty, '\ufeff' + JSON.stringify(json, null, 2));
    const html = join(dir, 'pretty.html');
    expect((await run(['report', pretty, '--out', html])).code).toBe(0);
    expect(await readFile(html, 'utf8')).toMatch(/^<!doctype html>/i);
    const cases: [string, unknown, RegExp][] = [
      ['markup in a kind', { ...json, salient: [{ ...json.salient[0], kind: 'and<img src=x onerror=alert(1)>' }] }, /: salient must be .*\[0\]\[kind\]: must be equal to one of the allowed values/],
      ['markup in n', { ...json, n: '<img src=x onerror=alert(1)>' }, /: n must be an integer ≥ 1 \(got "<img/],
      ['a huge n', { ...json, n: 1e308 }, /: n = 1e\+308 is above the 30 players/],
      ['players and n apart', { ...json, players: ['a'] }, /: n = 3, but players holds 1 names/],
      ['v cut short', { ...json, v: json.v.slice(0, 3) }, /: v holds 3 values; with n = 3 it holds 2\^n = 8/],
      ['no salient', { ...json, salient: undefined }, /: salient is required/],
      // stop 34: named the parent, "matching must be an object (got an object {…})"
      ['a nested field null', { ...json, matching: { ...json.matching, relativeError: null } }, /: matching\.relativeError must be a finite number \(got null\)\. /],
      ['a nested field missing', { ...json, matching: { ...json.matching, relativeError: undefined } }, /: matching\.relativeError is required: a finite number\. /],
      ['a salient player beyond n', { ...json, salient: [{ ...json.salient[0], players: [7] }] }, /: salient\[0\] names player 7, but n = 3/],
      // stop 33: a million orders overflowed the page's stack
      ['a million orders', { ...json, orders: { ...json.orders, positive: new Array(1e6).fill(0) } }, /: orders\.positive holds 1000000 values; with n = 3 it holds one per order 0\.\.n \(4\)/],
    ];
    for (const [what, edited, message] of cases) {
      const file = join(dir, 'edited.json');
      await writeFile(file, JSON.stringify(edited));
      const refused = await run(['report', file, '--out', join(dir, 'edited.html')]);
      expect(refused.code, what).toBe(1);
      expect(refused.stderr, what).toMatch(/^andor: error \[INVALID_INPUT\]: .*edited\.json/m);
      expect(refused.stderr, what).toMatch(message);
    }
    // one file for two outputs would lose one of them
    const same = await run(['report', out, '--out', out]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/the result and --out are the same file/);
    expect(JSON.parse(await readFile(out, 'utf8')).schema).toBe('andor.explain/1');
    const both = await run(['explain', '--values', '[1,2,3,5]', '--out', out, '--report', out]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--out and --report are the same file/);
    // a --svg that cannot be a folder is refused before --out is written (it failed after: an adversarial sweep, stop 34)
    const page = join(dir, 'not-written.html');
    const notFolder = await run(['report', out, '--out', page, '--svg', pretty]);
    expect(notFolder.code).toBe(2);
    expect(notFolder.stderr).toMatch(/--svg .*pretty\.json cannot be made a folder \(E[A-Z]+\)/);
    await expect(stat(page)).rejects.toThrow(/ENOENT/);
    const twice = await run(['report', out, '--out', page, '--svg', page]);
    expect(twice.stderr).toMatch(/--out and --svg are the same file/);
  });

  it('explains --samples with the default model, not refusing a --sample it was not given (an adversarial sweep, stop 32)', async () => {
    const { code, stdout, stderr } = await run(['explain', '--samples', join(ROOT, 'models', 'breast-cancer.samples.json'), '--rows', '0-1', '--no-cache', '--workers', '0', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.schema)).toEqual(['andor.explain/1', 'andor.explain/1', 'andor.batch/1']);
    expect(lines[0].n).toBe(10); // the default model's players
  });

  it('prints the stack trace with --debug', async () => {
    const { stderr } = await run(['explain', '--values', '[1,2,3]', '--debug']);
    expect(stderr).toMatch(/\n\s+at /);
  });

  it('documents every option in --help', async () => {
    const { code, stdout } = await run(['explain', '--help']);
    expect(code).toBe(0);
    for (const flag of ['--model', '--sample', '--players', '--baseline', '--target', '--reward', '--values', '--out', '--decomposition']) {
      expect(stdout).toContain(flag);
    }
    expect((await run(['--help'])).stdout).toMatch(/andor explain[\s\S]*andor dynamics[\s\S]*andor serve/);
  });
});
