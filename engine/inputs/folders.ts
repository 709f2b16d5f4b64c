// Making a folder and its missing parents, one level at a time. Node 20's mkdir(…, { recursive: true }) never returns
// where a parent cannot be made and the system says ENOENT for it (any path under /proc): it retries for ever.
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * Makes a folder and any missing parents (an existing folder is fine).
 * @param path - the folder
 * @throws the system's error (with its `code`: ENOENT, EACCES, ENOTDIR …) for the first level that cannot be made, or
 *   ENOTDIR when the path or a parent is something other than a folder
 */
export async function makeFolder(path: string): Promise<void> {
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const found = await stat(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
    if (found) {
      if (!found.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a folder, '${dir}'`), { code: 'ENOTDIR', path: dir });
      break;
    }
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) {
    // another process may make it meanwhile
    await mkdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'EEXIST' ? undefined : Promise.reject(error)));
  }
}
