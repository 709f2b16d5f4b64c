// The README's option tables are generated from the schema (engine/interfaces/generate.ts); this fails when the README
// drifts from it, and checks that every flag the CLI accepts is documented there.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeBlocks, renderReadme } from '../../engine/interfaces/generate.js';
import { COMMANDS, fieldsOf, flagOf } from '../../engine/interfaces/cli-options.js';
import { ROOT } from '../helpers/index.js';

describe('README', () => {
  it('holds the generated option tables, unchanged (run "npm run docs" after changing the schema)', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    for (const name of Object.keys(readmeBlocks())) expect(readme).toContain(`<!-- generated:${name} -->`);
    expect(renderReadme(readme).changed).toEqual([]);
  });

  it('documents every flag of every command', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    for (const command of Object.values(COMMANDS)) {
      for (const field of Object.keys(fieldsOf(command))) expect(readme).toMatch(new RegExp(`--(no-)?${flagOf(field)}\\b`));
    }
  });

  it('fails the check when a table is edited by hand', () => {
    const blocks = readmeBlocks();
    const stale = `<!-- generated:options:explain -->\n| stale |\n<!-- /generated:options:explain -->`;
    expect(renderReadme(stale, blocks).changed).toEqual(['options:explain']);
  });
});
