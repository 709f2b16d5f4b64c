// The pool's workers start with require(esm) off where Node has it on: piscina loads the worker module with require()
// first, and on Node 20.19+ that require(esm) at times met the module half-loaded and aborted the process (V8 "IsGraphAsync
// must be used on an instantiated module"; 3 of 120 CLI runs with 6 at once, 0 of 300 with this).
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { WORKER_EXEC_ARGV } from '../../engine/pipeline/pool.js';

describe('the pool workers\' Node options', () => {
  it('turn require(esm) off in a worker, keeping the process\'s own options', async () => {
    const seen = await new Promise<unknown>((resolve, reject) => {
      const code = 'require("node:worker_threads").parentPort.postMessage({ requireModule: process.features.require_module ?? null, execArgv: process.execArgv })';
      const worker = new Worker(code, { eval: true, ...(WORKER_EXEC_ARGV ? { execArgv: WORKER_EXEC_ARGV } : {}) });
      worker.once('message', (message) => void worker.terminate().then(() => resolve(message)));
      worker.once('error', reject);
    });
    // where Node has no require(esm) (before 20.19) there is nothing to turn off, and the options are the process's
    expect(seen).toMatchObject({ requireModule: process.features.require_module ? false : null });
    expect((seen as { execArgv: string[] }).execArgv.slice(0, process.execArgv.length)).toEqual(process.execArgv);
  });
});
