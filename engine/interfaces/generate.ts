// Generated documentation and files, from the schemas: the README's option tables (between <!-- generated:NAME -->
// markers), and the JSON Schema files of the result formats that the package ships (dist/schemas/). A test runs
// `check` so that a README that drifts from the schema fails.
//   node dist/engine/interfaces/generate.js readme [--check]    rewrite (or check) README.md's generated blocks
//   node dist/engine/interfaces/generate.js schemas DIR         write the result schemas as JSON Schema files
import { readFile, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from 'typebox';
import { BatchBodySchema, EngineOptionsSchema, ExplainBodySchema, ValuesBodySchema } from '../contracts/schema/requests.js';
import { BatchResultSchema, DynamicsResultSchema, ExplainResultSchema, SparseResultSchema } from '../contracts/schema/results.js';
import { COMMANDS, optionTables } from './cli-options.js';
import { jsonSchemaOf } from './openapi.js';
import { PACKAGE_ROOT } from './package-info.js';
import { describeSchema } from '../inputs/validate.js';
import { makeFolder } from '../inputs/folders.js';

/** A markdown table of an object schema's fields: name, type, meaning. */
function fieldTable(schema: TSchema & { properties: Record<string, TSchema> }, skip: readonly string[] = []): string {
  const rows = Object.entries(schema.properties)
    .filter(([k]) => !skip.includes(k))
    .map(([k, field]) => {
      const f = field as unknown as Record<string, unknown>;
      const text = String(f.description ?? '') + (f.default !== undefined ? ` (default ${JSON.stringify(f.default)})` : '');
      return `| \`${k}\` | ${describeSchema(field).replace(/\|/g, '\\|')} | ${text.replace(/\|/g, '\\|')} |`;
    });
  return ['| field | value | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** The README's generated blocks, by name. */
export function readmeBlocks(): Record<string, string> {
  return {
    'options:explain': optionTables(COMMANDS.explain),
    'options:dynamics': optionTables(COMMANDS.dynamics),
    'options:serve': optionTables(COMMANDS.serve),
    'options:worker': optionTables(COMMANDS.worker),
    'library:engine': fieldTable(EngineOptionsSchema as never),
    'http:explain': fieldTable(ExplainBodySchema as never),
    'http:batch': fieldTable(BatchBodySchema as never, Object.keys(ExplainBodySchema.properties).filter((k) => k !== 'model' && k !== 'arrays' && k !== 'reference')),
    'http:values': fieldTable(ValuesBodySchema as never, Object.keys(ValuesBodySchema.properties).filter((k) => k in ExplainBodySchema.properties && k !== 'names' && k !== 'arrays')),
  };
}

/** The JSON Schema files of the result formats, by file name. */
export function schemaFiles(): Record<string, unknown> {
  const file = (schema: TSchema, id: string) => ({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: id, ...jsonSchemaOf(schema) });
  return {
    'andor.explain-1.json': file(ExplainResultSchema, 'andor.explain/1'),
    'andor.dynamics-1.json': file(DynamicsResultSchema, 'andor.dynamics/1'),
    'andor.batch-1.json': file(BatchResultSchema, 'andor.batch/1'),
    'andor.sparse-1.json': file(SparseResultSchema, 'andor.sparse/1'),
  };
}

/**
 * Replaces every generated block of a README text.
 * @returns the new text and the names of blocks that changed
 * @throws Error when a block's end marker is missing
 */
export function renderReadme(text: string, blocks: Record<string, string> = readmeBlocks()): { text: string; changed: string[] } {
  const changed: string[] = [];
  let out = text;
  for (const [name, body] of Object.entries(blocks)) {
    const open = `<!-- generated:${name} -->`;
    const close = `<!-- /generated:${name} -->`;
    const start = out.indexOf(open);
    if (start < 0) continue;
    const end = out.indexOf(close, start);
    if (end < 0) throw new Error(`README: ${open} has no ${close}`);
    const next = `${out.slice(0, start + open.length)}\n${body}\n${out.slice(end)}`;
    if (next !== out) changed.push(name);
    out = next;
  }
  return { text: out, changed };
}

async function run(argv: string[]): Promise<number> {
  const [what, arg] = argv;
  if (what === 'readme') {
    const path = resolve(PACKAGE_ROOT, 'README.md');
    const before = await readFile(path, 'utf8');
    const { text, changed } = renderReadme(before);
    if (arg === '--check') {
      if (changed.length) process.stderr.write(`README.md is out of date in: ${changed.join(', ')}. Run "npm run docs".\n`);
      return changed.length ? 1 : 0;
    }
    await writeFile(path, text);
    process.stdout.write(changed.length ? `README.md: rewrote ${changed.join(', ')}\n` : 'README.md is up to date\n');
    return 0;
  }
  if (what === 'schemas' && arg) {
    await makeFolder(arg);
    for (const [name, schema] of Object.entries(schemaFiles())) await writeFile(join(arg, name), JSON.stringify(schema, null, 2) + '\n');
    return 0;
  }
  process.stderr.write('usage: generate.js readme [--check] | schemas DIR\n');
  return 2;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await run(process.argv.slice(2));
}
