// Where the installed package lives and what version it is: the CLI's --version, the default model of the
// manifest, and the OpenAPI document's version all read it here.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder above this file that holds package.json (dist/engine/interfaces/ when built, engine/interfaces/
 *  when tests load the sources). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`andor: no package.json above ${fileURLToPath(import.meta.url)}; the package is incomplete.`);
    dir = parent;
  }
  return dir;
}

/** The package root. */
export const PACKAGE_ROOT = packageRoot();

/** The package's version, from its package.json. */
export const VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
