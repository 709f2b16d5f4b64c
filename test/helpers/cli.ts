// The andor CLI run to its end as a user runs it: the built dist/engine/interfaces/cli.js in a child Node process.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './index.js';

/** The built CLI's entry script. */
export const CLI = join(ROOT, 'dist', 'engine', 'interfaces', 'cli.js');

/** What a CLI run printed, and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `andor ARGS` from the repository root and waits for it to exit.
 * @param args - the arguments after `andor`
 * @returns the exit code (0 on success) and both streams
 * @throws when the process did not exit but was ended by a signal: which one, the command and its stderr (in 2 of
 *   4 CI runs of one commit a `--values` run of cli.test.ts ended so, seen only as an exit code of null)
 */
export async function runCli(args: readonly string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number | null; signal?: string | null; stdout: string; stderr: string };
    if (typeof e.code !== 'number') throw new Error(`andor ${args.join(' ')} was ended by ${e.signal ?? `no exit code (${String(e.code)})`}; stderr: ${e.stderr}`, { cause: error });
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
