// `dynamics` refuses checkpoints that are not one network saved at different epochs (their inputs or outputs differ
// in names, dtypes or static dims) before any pair runs, by either method, naming both files and what differs; the
// checkpoints of a real training run, and one network exported with a fixed and with a symbolic batch axis, pass.
// A folder that mixed a 3-class and a 2-class model ran and compared unlike things in silence (an adversarial sweep).
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { InvalidInputError, SLOW_MS, createEngine, model, seriesSamples, type DynamicsRequest, type Engine } from '../helpers/index.js';

const SERIES = model('bc-mlp-series');
const FIRST = join(SERIES, 'epoch-0000.onnx');
/** What each method needs of a pair on 3 players (sparse: every mask, every term). */
const METHODS = [
  ['exact', { preset: 'none' }],
  ['sparse', { method: 'sparse', budget: 8, maxOrder: 3 }],
] as const;

/** The sentence that says what to fix (dynamics.ts, assertOneNetwork). */
const FIX = /Every checkpoint must be the same network saved at another epoch of one training run \(the same input and output names, dtypes and shapes; only the weights differ\): give the checkpoints of one run \(--checkpoints\), without other models\.$/;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each(METHODS)('dynamics over checkpoints of different networks (%s method)', (method, methodOptions) => {
  let engine: Engine;
  let dir: string;
  let tabular: string;
  let fourFeatures: string;
  let mixedFolder: string;
  beforeAll(async () => {
    engine = await createEngine({ workers: 0 });
    dir = await mkdtemp(join(tmpdir(), 'andor-dyn-mismatch-'));
    tabular = await seriesSamples(SERIES, join(dir, 'samples.json'), { train: 1, test: 1, ood: 0 });
    // models/faults: features [batch, 4] → logits [batch, 3] (linear-f32) and → logits [batch, 2] (nan-when-masked,
    // finite while feature 0 stays 2: players 1-3 never mask it), so a run without the check gives a result
    fourFeatures = join(dir, 'four.samples.json');
    await writeFile(fourFeatures, JSON.stringify({ samples: [{ x: [2, 1, 3, 1], label: 0, split: 'train' }, { x: [2, 0.5, 1, 2], label: 0, split: 'test' }] }));
    mixedFolder = join(dir, 'mixed');
    await mkdir(mixedFolder);
    await copyFile(model('faults/linear-f32.onnx'), join(mixedFolder, 'epoch-0000.onnx'));
    await copyFile(model('faults/nan-when-masked.onnx'), join(mixedFolder, 'epoch-0001.onnx'));
  });
  afterAll(async () => {
    await engine?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The run's refusal, and how many pairs it finished first. */
  async function refusal(request: DynamicsRequest): Promise<{ error: Error; pairs: number }> {
    let pairs = 0;
    const error = await engine.dynamics({ ...methodOptions, cacheDir: false, ...request, onProgress: () => void pairs++ }).then(
      () => expect.fail('the run gave a result'),
      (e: Error) => e,
    );
    return { error, pairs };
  }

  it('refuses a folder that mixes a 3-class and a 2-class model before any pair, naming both files and the widths', async () => {
    const { error, pairs } = await refusal({ checkpoints: mixedFolder, samples: fourFeatures, players: '1-3' });
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(new RegExp(
      `^The checkpoints ${escape(join(mixedFolder, 'epoch-0000.onnx'))} and ${escape(join(mixedFolder, 'epoch-0001.onnx'))} are not one network saved at two epochs: ` +
        `output "logits" is \\[batch, 3\\] in epoch-0000\\.onnx but \\[batch, 2\\] in epoch-0001\\.onnx \\(width 3 vs 2\\)\\. `,
    ));
    expect(error.message).toMatch(FIX);
    expect(pairs).toBe(0);
  });

  it.each([
    ['output names and widths', 'breast-cancer-logit.onnx', 'the outputs are "logits" float32 [batch, 2] in epoch-0000.onnx but "logit" float32 [batch, 1] in breast-cancer-logit.onnx'],
    ['input and output dtypes', 'tabular-f64.onnx', 'input "features" is float32 in epoch-0000.onnx but float64 in tabular-f64.onnx; output "logits" is float32 in epoch-0000.onnx but float64 in tabular-f64.onnx'],
    ['output shapes (rank)', 'shapes-b1.onnx', 'output "logits" is [batch, 2] in epoch-0000.onnx but [1, 1, 2] in shapes-b1.onnx'],
    ['input names and shapes', 'digits-cnn.onnx', 'the inputs are "features" float32 [batch, 30] in epoch-0000.onnx but "image" float32 [batch, 1, 8, 8] in digits-cnn.onnx; output "logits" is [batch, 2] in epoch-0000.onnx but [batch, 10] in digits-cnn.onnx (width 2 vs 10)'],
  ])('refuses a list whose second model differs in its %s', async (_what, other, differences) => {
    const { error, pairs } = await refusal({ checkpoints: [FIRST, model(other)], samples: tabular, players: '0-2' });
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message.startsWith(`The checkpoints ${FIRST} and ${model(other)} are not one network saved at two epochs: ${differences}. `)).toBe(true);
    expect(error.message).toMatch(FIX);
    expect(pairs).toBe(0);
  });

  it('names the first checkpoint that differs from the first one, after others that agree', async () => {
    const checkpoints = [FIRST, join(SERIES, 'epoch-0016.onnx'), model('breast-cancer-logit.onnx'), join(SERIES, 'epoch-1024.onnx')];
    const { error, pairs } = await refusal({ checkpoints, samples: tabular, players: '0-2' });
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message.startsWith(`The checkpoints ${FIRST} and ${checkpoints[2]} are not one network`)).toBe(true);
    expect(pairs).toBe(0);
  });

  it('refuses a reference model of another network, and takes the series\' own (stop 48)', async () => {
    const other = model('breast-cancer-logit.onnx');
    const { error, pairs } = await refusal({ checkpoints: [FIRST, join(SERIES, 'epoch-1024.onnx')], referenceModels: [join(SERIES, 'reference-0.onnx'), other], samples: tabular, players: '0-2' });
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(
      `The reference model ${other} is not the network of the checkpoint ${FIRST}: the outputs are "logits" float32 [batch, 2] in epoch-0000.onnx but "logit" float32 [batch, 1] in breast-cancer-logit.onnx. ` +
        'A reference model is the same network trained on the test split (the same input and output names, dtypes and shapes; only the weights differ): give such models (--reference-models), or leave them out.',
    );
    expect(pairs).toBe(0);
    const own = await engine.dynamics({ ...methodOptions, checkpoints: [FIRST, join(SERIES, 'epoch-1024.onnx')], referenceModels: [join(SERIES, 'reference-0.onnx')], samples: tabular, players: '0-2', cacheDir: false });
    expect(own.checkpoints).toHaveLength(2);
  }, SLOW_MS);

  it('runs every checkpoint of a real training run (the bundled folder of 12)', async () => {
    const result = await engine.dynamics({ ...methodOptions, checkpoints: SERIES, samples: tabular, players: '0-2', cacheDir: false });
    expect(result.checkpoints.map((c) => c.name)).toEqual(['0000', '0001', '0002', '0004', '0008', '0016', '0032', '0064', '0128', '0256', '0512', '1024'].map((e) => `epoch-${e}`));
    expect(result.method).toBe(method);
    expect(result.checkpoints.every((c) => Number.isFinite(c.kappa))).toBe(true);
  }, SLOW_MS);

  it('runs one network exported with a symbolic and with a fixed batch axis: a symbolic dim matches any size', async () => {
    // digits-cnn.onnx: image [batch, 1, 8, 8] → logits [batch, 10]; digits-cnn-fixed.onnx: [16, 1, 8, 8] → [16, 10]
    const set = join(dir, 'digits.samples.json');
    await seriesSamples(model('digits-cnn-series'), set, { train: 1, test: 1, ood: 0 });
    const result = await engine.dynamics({ ...methodOptions, checkpoints: [model('digits-cnn.onnx'), model('digits-cnn-fixed.onnx')], samples: set, modality: 'image', grid: '2x2', players: '0-2', cacheDir: false });
    expect(result.checkpoints.map((c) => c.name)).toEqual(['digits-cnn', 'digits-cnn-fixed']);
    expect(result.method).toBe(method);
  }, SLOW_MS);
});

describe('andor dynamics over checkpoints of different networks', () => {
  it('exits 1 with the refusal on stderr, and only it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'andor-dyn-mismatch-cli-'));
    try {
      const folder = join(dir, 'mixed');
      await mkdir(folder);
      await copyFile(model('faults/linear-f32.onnx'), join(folder, 'epoch-0000.onnx'));
      await copyFile(model('faults/nan-when-masked.onnx'), join(folder, 'epoch-0001.onnx'));
      const samples = join(dir, 'four.samples.json');
      await writeFile(samples, JSON.stringify({ samples: [{ x: [2, 1, 3, 1], label: 0, split: 'train' }, { x: [2, 0.5, 1, 2], label: 0, split: 'test' }] }));
      const { code, stderr } = await runCli(['dynamics', '--checkpoints', folder, '--samples', samples, '--players', '1-3', '--preset', 'none', '--no-cache', '--workers', '0', '--quiet']);
      expect(code).toBe(1);
      expect(stderr).toMatch(/^andor: error \[INVALID_INPUT\]: The checkpoints .*mixed\/epoch-0000\.onnx and .*mixed\/epoch-0001\.onnx are not one network saved at two epochs: output "logits" is \[batch, 3\] in epoch-0000\.onnx but \[batch, 2\] in epoch-0001\.onnx \(width 3 vs 2\)\. Every checkpoint must be the same network/);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, SLOW_MS);
});
