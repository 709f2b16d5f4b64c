// Error classes: one per code, messages kept, and classes rebuilt after crossing a thread boundary.
import { describe, expect, it } from 'vitest';
import * as andor from '../helpers/index.js';

const CLASSES = [
  andor.InvalidOptionError, andor.InvalidInputError, andor.ShapeMismatchError, andor.ModelLoadError, andor.ModelRunError,
  andor.NonFiniteError, andor.MemoryLimitError, andor.BackendUnavailableError, andor.KernelTrapError,
  andor.WorkerCrashedError, andor.CancelledError, andor.DisposedError,
];

describe('errors', () => {
  it.each(CLASSES.map((C) => [C.name, C] as const))('%s survives serialize → revive with its class, code and message', (_name, Class) => {
    const cause = { cause: new Error('root cause') };
    const original = Class === andor.BackendUnavailableError ? new Class('something failed', [], cause) : new Class('something failed', cause as never);
    const revived = andor.reviveError(structuredClone(andor.serializeError(original)));
    expect(revived).toBeInstanceOf(Class);
    expect(revived).toBeInstanceOf(andor.EngineError);
    expect((revived as andor.EngineError).code).toBe(original.code);
    expect(revived.message).toBe(original.message);
    expect(revived.name).toBe(Class.name);
    expect(revived.cause).toBe('root cause');
  });

  it('keeps foreign errors as plain errors with their name', () => {
    const revived = andor.reviveError(andor.serializeError(new RangeError('bad range')));
    expect(revived).not.toBeInstanceOf(andor.EngineError);
    expect(revived.name).toBe('RangeError');
  });

  it('BackendUnavailableError lists every attempt', () => {
    const error = new andor.BackendUnavailableError('No backend could run the model.', [
      { backend: 'ort-node/cuda', reason: 'no provider' },
      { backend: 'ort-node/cpu', reason: 'binding missing' },
    ]);
    expect(error.message).toContain('ort-node/cuda: no provider');
    expect(error.message).toContain('ort-node/cpu: binding missing');
    expect(error.attempts).toHaveLength(2);
  });
});
