// Writes a reproduction's files as one: REPRODUCTION.md, docs/reproduction/verdicts.json and the figures are each
// written as FILE.partial beside their target and renamed into place only once every one is whole, so a failed
// write (a full disk, a file-size limit, a folder in a file's place) leaves the earlier reproduction as it was and no
// partial file behind. Only the figures of the earlier run (those its verdicts.json lists) are replaced or removed:
// other files in the folder stay. Nothing here runs a series or renders a document.
import { access, constants, lstat, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidOptionError } from '../contracts/errors.js';
import { openOutput, partialPath, settleOutputs } from './output.js';
import { figureFiles } from './reproduce-figures.js';

/** The document, relative to the output folder. */
export const DOCUMENT_FILE = 'REPRODUCTION.md';
/** The verdicts as JSON, in the figures folder. */
export const VERDICTS_FILE = 'verdicts.json';

/** What one reproduction writes. */
export interface ReproductionFiles {
  /** REPRODUCTION.md's text. */
  readonly document: string;
  /** verdicts.json's text. */
  readonly verdicts: string;
  /** The figures, by file name under the figures folder. */
  readonly figures: readonly { readonly file: string; readonly svg: string }[];
}

/** The paths of a reproduction's files: the figures, verdicts.json, then the document (the order they are put in place). */
function targetsOf(out: string, figuresDir: string, figureNames: readonly string[]): string[] {
  const dir = join(out, figuresDir);
  return [...figureNames.map((f) => join(dir, f)), join(dir, VERDICTS_FILE), join(out, DOCUMENT_FILE)];
}

/**
 * Checks, without making anything, that the output folder can take a reproduction: every level of OUT/FIGURES_DIR
 * that exists is a folder, the deepest one is writable, and no file the run writes (nor its FILE.partial) has a
 * folder in its place (a rename cannot replace one: the run failed after minutes, with its figures half-replaced).
 * @param out - the output folder
 * @param figuresDir - the figures folder, relative to it
 * @param figureNames - every figure the run may write (figureFiles)
 * @throws InvalidOptionError naming --out, and the path in the way
 */
export async function assertOutputPlaces(out: string, figuresDir: string, figureNames: readonly string[]): Promise<void> {
  const refuse = (cause: NodeJS.ErrnoException) => new InvalidOptionError(`--out ${out} cannot take the reproduction (${cause.code ?? cause.message}); give a writable folder.`, { cause });
  for (let dir = join(out, figuresDir); ; dir = dirname(dir)) {
    const found = await stat(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(refuse(error))));
    if (found) {
      if (!found.isDirectory()) throw refuse(Object.assign(new Error(`ENOTDIR: not a folder, '${dir}'`), { code: 'ENOTDIR', path: dir }));
      await access(dir, constants.W_OK).catch((error: NodeJS.ErrnoException) => Promise.reject(refuse(error)));
      break;
    }
    if (dirname(dir) === dir) break;
  }
  for (const target of targetsOf(out, figuresDir, figureNames)) {
    for (const path of [target, partialPath(target)]) {
      const found = await lstat(path).catch(() => undefined); // absent (or under a folder not made yet): nothing in the way
      if (found?.isDirectory()) throw new InvalidOptionError(`--out ${out} cannot take the reproduction: ${path} is a folder, where the run writes a file. Move it away, or give another --out.`);
    }
  }
}

/**
 * The figures an earlier reproduction in this folder wrote: those its verdicts.json lists, or for one written before
 * the list was kept, those its series' names give. Only plain .svg names count (a name with a folder in it is not one
 * of ours to remove).
 * @param verdictsFile - the earlier verdicts.json
 */
async function earlierFigures(verdictsFile: string): Promise<string[]> {
  let earlier: { figures?: unknown; verdicts?: unknown };
  try {
    earlier = JSON.parse(await readFile(verdictsFile, 'utf8')) as typeof earlier;
  } catch {
    return []; // no earlier run here (or not a verdicts file of ours): there is nothing of it to replace
  }
  const names = Array.isArray(earlier?.figures)
    ? earlier.figures
    : earlier?.verdicts !== null && typeof earlier?.verdicts === 'object'
      ? figureFiles(Object.keys(earlier.verdicts as object))
      : [];
  return names.filter((f): f is string => typeof f === 'string' && f.endsWith('.svg') && basename(f) === f);
}

/**
 * Writes a reproduction into OUT as one: every file to FILE.partial first, then, once all are whole, each renamed over
 * its target (the document last, so it never cites a figure not yet in place), then the earlier run's figures that
 * this one did not write are removed. A failed write removes the partial files and leaves the earlier reproduction
 * as it was. The output folder and figures folder must exist (assertOutputPlaces, then makeFolder).
 * @param out - the output folder
 * @param figuresDir - the figures folder, relative to it
 * @param files - the document, verdicts.json and the figures
 * @throws InvalidOptionError naming --out, the file and the system's code (ENOSPC, EFBIG, EISDIR …)
 */
export async function writeReproduction(out: string, figuresDir: string, files: ReproductionFiles): Promise<void> {
  const dir = join(out, figuresDir);
  const names = files.figures.map((f) => f.file);
  const targets = targetsOf(out, figuresDir, names);
  const texts = [...files.figures.map((f) => f.svg), files.verdicts, files.document];
  // checked again: something may have taken a file's place during the run
  await assertOutputPlaces(out, figuresDir, names);
  const earlier = await earlierFigures(join(dir, VERDICTS_FILE));
  // every file to FILE.partial, then each renamed over its target once all are whole (the document last, so it never
  // cites a figure not yet in place); a failed write removes the partial files and leaves every target as it was
  const outputs = targets.map((target) => [target, openOutput(target, '--out')] as const);
  await settleOutputs(outputs, async () => {
    for (const [i, [, output]] of outputs.entries()) await output.write(texts[i]);
  }, { keep: false });
  for (const name of earlier.filter((f) => !names.includes(f))) {
    const path = join(dir, name);
    if (!(await lstat(path).catch(() => undefined))?.isFile()) continue; // gone already, or not a file of ours
    await rm(path).catch((cause: NodeJS.ErrnoException) => {
      throw new InvalidOptionError(`The reproduction was written to --out ${out}, but the earlier run's figure ${path} could not be removed (${cause.code ?? cause.message}); remove it by hand.`, { cause });
    });
  }
}
