// The work clock of an evaluation job (engine/pipeline/evaluate.ts): the µs its tasks add up sit beside the job's
// control word and count past 2^31 (36 minutes of work, a ResNet at n = 20), where a 32-bit count would wrap and give
// the pool a negative speed.
import { describe, expect, it } from 'vitest';
import { workClock } from '../../engine/pipeline/evaluate.js';

describe('workClock', () => {
  it('adds the tasks\' µs past 2^31 without touching the cancel flag or the progress count', () => {
    const control = new Int32Array(new SharedArrayBuffer(16));
    Atomics.store(control, 1, 7);
    for (let task = 0; task < 3; task++) Atomics.add(workClock(control), 0, 2_000_000_000n);
    expect(Number(Atomics.load(workClock(control), 0))).toBe(6e9);
    expect(Atomics.load(control, 0)).toBe(0);
    expect(Atomics.load(control, 1)).toBe(7);
  });
});
