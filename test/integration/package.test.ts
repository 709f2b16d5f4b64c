// The package as a consumer gets it: `npm pack` of the built tree, installed from the tarball into a fresh project
// (ONNXRUNTIME_NODE_INSTALL=skip; dependencies from npm's cache where it has them). From there: the CLI on a model of
// the consumer's own, the library from an ESM file (agreeing with this checkout's run), and the types from a strict
// TypeScript file. Also checks that the tarball holds what runs and nothing else.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, createEngine, expectClose, model } from '../helpers/index.js';

const run = promisify(execFile);
const INSTALL_MS = 300_000;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackedFile {
  readonly path: string;
  readonly size: number;
}

describe('the packed package, installed into a fresh project', () => {
  let dir: string;
  let app: string;
  let files: PackedFile[];
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_audit: 'false', npm_config_fund: 'false' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andor-pack-'));
    // --ignore-scripts: pack what `pretest` built, without rebuilding dist/ under the other test files' feet
    const { stdout } = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, env });
    const [packed] = JSON.parse(stdout) as { filename: string; files: PackedFile[] }[];
    files = packed.files;
    app = join(dir, 'app');
    await run('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed.filename)], { cwd: app, env, maxBuffer: 1 << 24 });
    await copyFile(model('breast-cancer-logit.onnx'), join(app, 'my-model.onnx'));
  }, INSTALL_MS);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ships the compiled code, kernels, schemas and default model, and no sources, tests or benches', () => {
    const paths = files.map((f) => f.path);
    for (const needed of ['build/release.wasm', 'build/debug.wasm', 'dist/engine/index.js', 'dist/engine/index.d.ts', 'dist/engine/interfaces/cli.js', 'dist/engine/pipeline/worker.js', 'dist/schemas/andor.explain-1.json', 'models/manifest.json', 'package.json', 'README.md']) {
      expect(paths).toContain(needed);
    }
    const stray = paths.filter((p) => /^(test|bench|assembly|engine|bindings|examples)\//.test(p) || p.endsWith('.ts') && !p.endsWith('.d.ts') || p.endsWith('.map') || p.includes('node_modules'));
    expect(stray).toEqual([]);
  });

  it('runs `npx andor explain` on a model of the consumer\'s own', async () => {
    const { stdout } = await run(NPM, ['exec', '--', 'andor', 'explain', '--model', 'my-model.onnx', '--sample', model('breast-cancer.samples.json'), '--players', '0-9', '--workers', '0', '--preset', 'none', '--json'], { cwd: app, env, maxBuffer: 1 << 24 });
    const result = JSON.parse(stdout);
    expect(result.schema).toBe('andor.explain/1');
    expect(result.n).toBe(10);
    expect(result.v).toHaveLength(1024);
    expect(result.matching.maxAbsNoise).toBeLessThan(1e-9);
  });

  it('runs `npx andor --version` and a bad option with a typed error', async () => {
    const { stdout } = await run(NPM, ['exec', '--', 'andor', '--version'], { cwd: app, env });
    expect(stdout.trim()).toBe(JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version);
    const failed = await run(NPM, ['exec', '--', 'andor', 'explain', '--presett', 'none'], { cwd: app, env }).catch((e) => e as { code: number; stderr: string });
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toContain('Did you mean --preset?');
  });

  it('imports the library from an ESM file, and agrees with this checkout', async () => {
    const script = `import { createEngine, resultToJson } from 'andor';
      const engine = await createEngine({ workers: 1 });
      try {
        const r = await engine.explain({ model: 'my-model.onnx', sample: ${JSON.stringify(model('breast-cancer.samples.json'))}, players: '0-9', preset: 'none' });
        process.stdout.write(JSON.stringify(resultToJson(r).v));
      } finally { await engine.dispose(); }`;
    await writeFile(join(app, 'use.mjs'), script);
    const { stdout } = await run(process.execPath, ['use.mjs'], { cwd: app, env, maxBuffer: 1 << 24 });
    const engine = await createEngine({ workers: 0 });
    try {
      const local = await engine.explain({ model: model('breast-cancer-logit.onnx'), sample: model('breast-cancer.samples.json'), players: '0-9', preset: 'none' });
      expectClose(JSON.parse(stdout), local.v, { atol: 1e-9 });
    } finally {
      await engine.dispose();
    }
  });

  it('type-checks a strict TypeScript consumer', async () => {
    await writeFile(
      join(app, 'use.ts'),
      `import { createEngine, resultToJson, InvalidOptionError, type ExplainResult, type ExplainResultJson } from 'andor';
       export async function topInteraction(): Promise<number> {
         const engine = await createEngine({ workers: 0, backend: 'cpu' });
         try {
           const result: ExplainResult = await engine.explain({ model: 'my-model.onnx', sample: '[1,2,3]', players: [0, 1], preset: 'default' });
           const json: ExplainResultJson = resultToJson(result);
           return json.salient[0]?.value ?? 0;
         } catch (error) {
           if (error instanceof InvalidOptionError) return -1;
           throw error;
         } finally {
           await engine.dispose();
         }
       }
       // @ts-expect-error: an unknown preset is a type error
       export const bad: Parameters<Awaited<ReturnType<typeof createEngine>>['explain']>[0] = { model: 'm.onnx', sample: '[1]', preset: 'fastest' };
      `,
    );
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022'], types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] }, files: ['use.ts'] }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, env }).catch((e) => e as { stdout: string; code: number });
    expect((result as { stdout: string }).stdout).toBe('');
  });
});
