// The backend registry: an instance held by each engine (never module state), filled by the composition roots.
// It turns the user's backend choice into an ordered list of (backend, provider) candidates and opens sessions by
// trying them in order, recording every failed attempt.
import { BackendUnavailableError, InvalidOptionError, ModelLoadError, type BackendAttempt } from '../contracts/errors.js';
import type { Backend, BackendId, ExecutionProvider, SessionHandle, SessionOptions } from '../contracts/backend.js';

/** The user's choice of where models run. */
export type BackendChoice = 'auto' | 'cpu' | 'cuda' | 'wasm';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'cpu', 'cuda', 'wasm'];

/** One way to run a model. */
export interface Candidate {
  readonly backend: BackendId;
  readonly provider: ExecutionProvider;
}

/** Candidates per choice, in order. `cuda` falls back to CPU (with a warning from the caller); `auto` goes on to WASM. */
export function candidatesFor(choice: BackendChoice): Candidate[] {
  const cuda: Candidate = { backend: 'ort-node', provider: 'cuda' };
  const cpu: Candidate = { backend: 'ort-node', provider: 'cpu' };
  const wasm: Candidate = { backend: 'ort-web', provider: 'wasm' };
  switch (choice) {
    case 'auto':
      return [cuda, cpu, wasm];
    case 'cuda':
      return [cuda, cpu];
    case 'cpu':
      return [cpu];
    case 'wasm':
      return [wasm];
  }
}

/** A session that opened, which candidate opened it, and what failed before it. */
export interface OpenedSession {
  readonly session: SessionHandle;
  readonly candidate: Candidate;
  readonly attempts: readonly BackendAttempt[];
}

/** Holds the backends an engine may use. */
export class BackendRegistry {
  private readonly backends = new Map<BackendId, Backend>();

  /** Adds a backend (the composition root registers ort-node and ort-web). */
  register(backend: Backend): this {
    this.backends.set(backend.id, backend);
    return this;
  }

  get(id: BackendId): Backend {
    const backend = this.backends.get(id);
    if (!backend) throw new InvalidOptionError(`Backend "${id}" is not registered. Registered: ${[...this.backends.keys()].join(', ') || 'none'}.`);
    return backend;
  }

  /**
   * Opens a session on the first candidate that works. A malformed model fails at once (no other backend would
   * load it); an unavailable backend or provider moves on to the next candidate.
   * @throws ModelLoadError for a bad model; BackendUnavailableError listing every attempt when none works
   */
  async open(model: Uint8Array, candidates: readonly Candidate[], options: Omit<SessionOptions, 'executionProvider'>): Promise<OpenedSession> {
    const attempts: BackendAttempt[] = [];
    for (const candidate of candidates) {
      const name = `${candidate.backend}/${candidate.provider}`;
      const backend = this.backends.get(candidate.backend);
      if (!backend) {
        attempts.push({ backend: name, reason: 'not registered' });
        continue;
      }
      try {
        const session = await backend.createSession(model, { ...options, executionProvider: candidate.provider });
        return { session, candidate, attempts };
      } catch (error) {
        if (error instanceof ModelLoadError) throw error;
        const reason = error instanceof BackendUnavailableError && error.attempts.length > 0 ? error.attempts.map((a) => a.reason).join('; ') : (error as Error).message;
        attempts.push({ backend: name, reason });
      }
    }
    throw new BackendUnavailableError('No backend could run the model.', attempts);
  }
}
