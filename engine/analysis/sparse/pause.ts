// Pauses inside long computations on a thread that has other work: the other expansion's game calls and their
// answers, the abort signal's event. A pause lets that work run once this thread has worked SLICE_MS since the last.
/** Most milliseconds of work between two turns given to other work. */
const SLICE_MS = 4;

/**
 * A pause function for one computation.
 * @param check - called at every pause, after any turn given away (throws to cancel)
 * @returns a function to await between the computation's steps
 */
export function createPause(check: () => void): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last >= SLICE_MS) {
      await new Promise((resume) => setImmediate(resume));
      last = performance.now();
    }
    check();
  };
}
