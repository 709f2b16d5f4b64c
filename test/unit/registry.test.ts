// The backend registry: candidate order per choice, fallback across backends with every attempt recorded, and a
// malformed model failing at once. Each test builds its own registry with stand-in backends.
import { describe, expect, it } from 'vitest';
import { BackendRegistry, candidatesFor } from '../../dist/engine/pipeline/registry.js';
import { BackendUnavailableError, ModelLoadError, createEngine, model } from '../helpers/index.js';
import type { Backend, SessionHandle } from '../../dist/engine/contracts/backend.js';

const session = (provider: 'cpu' | 'wasm' | 'cuda'): SessionHandle => ({
  inputs: [], outputs: [], executionProvider: provider, run: async () => ({}), dispose: async () => {},
});

function backend(id: 'ort-node' | 'ort-web', fail: (provider: string) => Error | undefined): Backend {
  return {
    id,
    providers: async () => ['cpu'],
    createSession: async (_model, options) => {
      const error = fail(options.executionProvider);
      if (error) throw error;
      return session(options.executionProvider);
    },
  };
}

describe('backend registry', () => {
  it('orders candidates: auto = cuda, cpu, wasm; cuda falls back to cpu only', () => {
    expect(candidatesFor('auto').map((c) => c.provider)).toEqual(['cuda', 'cpu', 'wasm']);
    expect(candidatesFor('cuda').map((c) => c.provider)).toEqual(['cuda', 'cpu']);
    expect(candidatesFor('cpu').map((c) => c.provider)).toEqual(['cpu']);
    expect(candidatesFor('wasm').map((c) => `${c.backend}/${c.provider}`)).toEqual(['ort-web/wasm']);
  });

  it('falls back from a native binding that cannot load to WASM, recording why', async () => {
    const registry = new BackendRegistry()
      .register(backend('ort-node', () => new BackendUnavailableError('onnxruntime-node could not be loaded.', [{ backend: 'ort-node', reason: 'no binding for this platform' }])))
      .register(backend('ort-web', () => undefined));
    const opened = await registry.open(new Uint8Array(1), candidatesFor('auto'), { intraOpThreads: 1, allowSpinning: false });
    expect(opened.candidate).toEqual({ backend: 'ort-web', provider: 'wasm' });
    expect(opened.attempts.map((a) => a.backend)).toEqual(['ort-node/cuda', 'ort-node/cpu']);
    expect(opened.attempts[1].reason).toBe('no binding for this platform');
  });

  it('lists every attempt when nothing works', async () => {
    const registry = new BackendRegistry()
      .register(backend('ort-node', (p) => new BackendUnavailableError('x', [{ backend: 'ort-node', reason: `${p} broken` }])))
      .register(backend('ort-web', () => new Error('wasm broken')));
    const open = registry.open(new Uint8Array(1), candidatesFor('auto'), { intraOpThreads: 1, allowSpinning: false });
    await expect(open).rejects.toThrowError(BackendUnavailableError);
    await expect(open).rejects.toThrowError(/ort-node\/cuda: cuda broken[\s\S]*ort-node\/cpu: cpu broken[\s\S]*ort-web\/wasm: wasm broken/);
  });

  it('does not try other backends for a malformed model', async () => {
    let webTried = false;
    const registry = new BackendRegistry()
      .register(backend('ort-node', () => new ModelLoadError('bad model')))
      .register(backend('ort-web', () => ((webTried = true), undefined)));
    await expect(registry.open(new Uint8Array(1), candidatesFor('auto'), { intraOpThreads: 1, allowSpinning: false })).rejects.toThrowError(ModelLoadError);
    expect(webTried).toBe(false);
  });

  it('an unregistered backend is an attempt, not a crash', async () => {
    const registry = new BackendRegistry().register(backend('ort-web', () => undefined));
    const opened = await registry.open(new Uint8Array(1), candidatesFor('auto'), { intraOpThreads: 1, allowSpinning: false });
    expect(opened.attempts[0].reason).toBe('not registered');
  });

  const cuda = process.env.ANDOR_TEST_CUDA === '1';
  it(cuda ? 'asking for CUDA where it is present runs on it, without a warning' : 'asking for CUDA without its provider warns once and runs on the CPU', async () => {
    const warnings: string[] = [];
    const engine = await createEngine({ backend: 'cuda', logger: { warn: (m) => warnings.push(m), info: () => {} } });
    const request = { model: model('breast-cancer-mlp.onnx'), sample: model('breast-cancer.samples.json'), players: '0-3' };
    await engine.explain(request);
    await engine.explain(request);
    expect(engine.backend).toBe(cuda ? 'ort-node/cuda' : 'ort-node/cpu');
    expect(warnings).toHaveLength(cuda ? 0 : 1);
    if (!cuda) expect(warnings[0]).toMatch(/CUDA was requested but cannot be used \(ort-node\/cuda: .*\)\. Running on ort-node\/cpu\./);
    await engine.dispose();
  });
});
