// The sparse method from the command line: its flags come from the schema (--method, --budget, --max-order; the
// service's --max-budget, --max-sparse-players), a sparse run prints its summary and writes andor.sparse/1, and
// andor report re-renders it.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { model } from '../helpers/index.js';
import { runCli as run } from '../helpers/cli.js';

const PLANTED = ['--model', model('planted/planted-64.onnx'), '--sample', JSON.stringify(new Array(64).fill(1)), '--reward', 'output', '--target', '0'];

describe('andor CLI, sparse method', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andor-sparse-cli-'));
  });

  it('lists the sparse flags in --help', async () => {
    const explain = (await run(['explain', '--help'])).stdout;
    expect(explain).toMatch(/--method exact\|sparse/);
    expect(explain).toMatch(/--budget N/);
    expect(explain).toMatch(/--max-order D/);
    const serve = (await run(['serve', '--help'])).stdout;
    expect(serve).toMatch(/--max-budget N .*\(default 100000\)|--max-budget N[\s\S]*default 100000/);
    expect(serve).toMatch(/--max-sparse-players N[\s\S]*default 1024/);
  });

  it('explains 64 players, prints the evaluations and R², writes andor.sparse/1, and re-renders its report', async () => {
    const out = join(dir, 'planted.json');
    const { code, stdout, stderr } = await run(['explain', ...PLANTED, '--method', 'sparse', '--budget', '20000', '--max-order', '4', '--out', out]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/method {4}sparse \(adaptive\): \d+ of at most 20000 evaluations, orders ≤ 4/);
    expect(stdout).toMatch(/fidelity {2}R² AND 1\.0000 on 1000 held-out masks/);
    const json = JSON.parse(await readFile(out, 'utf8'));
    expect(json.schema).toBe('andor.sparse/1');
    expect(json.n).toBe(64);
    const html = join(dir, 'planted.html');
    expect((await run(['report', out, '--out', html])).code).toBe(0);
    expect(await readFile(html, 'utf8')).toContain('andor explain (sparse): planted-64.onnx, n = 64');
  });

  it('takes --tolerance, reports it requested and kept per expansion, and refuses it with --method exact', async () => {
    const out = join(dir, 'tolerance.json');
    const given = await run(['explain', ...PLANTED, '--method', 'sparse', '--budget', '20000', '--max-order', '4', '--tolerance', '0.001', '--out', out]);
    expect(given.code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8')).tolerance).toEqual({ requested: 0.001, and: 0.001, or: 0.001 });
    // auto on an exactly sparse game (a planted ONNX model): both exact searches end with budget to spare
    const auto = await run(['explain', ...PLANTED, '--method', 'sparse', '--budget', '20000', '--max-order', '4', '--out', out]);
    expect(auto.code).toBe(0);
    expect(auto.stdout).toContain('tolerance auto (kept: AND 0, OR 0)');
    expect(JSON.parse(await readFile(out, 'utf8')).tolerance).toEqual({ requested: 'auto', and: 0, or: 0 });
    // the default, spelled out (it was refused: "must be a finite number", though the result says requested "auto"; stop 47)
    const first = await readFile(out, 'utf8');
    const spelled = await run(['explain', ...PLANTED, '--method', 'sparse', '--budget', '20000', '--max-order', '4', '--tolerance', 'auto', '--out', out]);
    expect(spelled.code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8')).and).toEqual(JSON.parse(first).and);
    const refused = await run(['explain', ...PLANTED, '--method', 'exact', '--tolerance', '0.001']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--tolerance applies to method 'sparse' only/);
    const bad = await run(['explain', ...PLANTED, '--method', 'sparse', '--tolerance', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--tolerance must be .*"auto"/);
  });

  it('states the least sufficient budget on one error line', async () => {
    const { code, stderr } = await run(['explain', ...PLANTED, '--method', 'sparse', '--budget', '40', '--max-order', '4']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^andor: error \[INVALID_OPTION\]: --budget = 40 is too small for maxOrder = 4 at n = 64 players: the sparse method needs at least \d+ evaluations/);
  });
});
