// Test fixtures of the sparse engine's fault suites (shared-faults, large-n-faults): a run raced against a time
// limit, and a run made to fail at a planned game call. No test lives here.
import { expect } from 'vitest';

/** The run's result, its error, or 'hung' when it has not settled within ms. */
export function within<T>(run: Promise<T>, ms: number): Promise<T | Error | 'hung'> {
  return Promise.race([run.catch((error: unknown) => error as Error), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms).unref())]);
}

/**
 * Runs until a run fails: the two sides' calls are joined when both ask within one turn of the event loop, so a
 * run's count of calls depends on when the answers come (within a few of a clean run's), and a run that ends before
 * call `at` is run again to fail at its own last call (at most 4 runs).
 * @param planned - the call to fail at first
 * @param run - starts a run whose game fails at call `at`; its game counts its calls
 * @returns the call that failed, the game, and the run's outcome
 */
export async function failing<G extends { calls: number }>(planned: number, run: (at: number) => { game: G; outcome: Promise<unknown> }): Promise<{ at: number; game: G; error: unknown }> {
  let at = planned;
  for (let attempt = 1; ; attempt++) {
    const { game, outcome } = run(at);
    const error = await outcome;
    if (error instanceof Error || error === 'hung' || attempt === 4) return { at, game, error };
    expect(game.calls, `a run that did not fail at call ${at} made ${game.calls}`).toBeLessThan(at);
    at = game.calls;
  }
}
