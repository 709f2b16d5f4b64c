// The command line's options, built from the schema fields: each command's flags (kebab-case of the field), how a
// flag's text becomes the field's value, validation with messages that name the flag, "did you mean" for mistyped
// flags, and the --help text and README tables. Nothing here restates what an option means or its default.
import { parseArgs } from 'node:util';
import Type, { type TSchema } from 'typebox';
import { InvalidOptionError } from '../contracts/errors.js';
import {
  analysisFields, baselineFields, batchFields, dynamicsFields, engineFields, inputFields, outputFields, playerFields, queueFields, rewardFields, runFields, serveFields, sourceFields, workerFields,
} from '../contracts/schema/fields.js';
import { assertValid, describeSchema, didYouMean } from '../inputs/validate.js';

/** A titled group of options, as --help and the README show them. */
export interface OptionGroup {
  readonly title: string;
  readonly fields: Readonly<Record<string, TSchema>>;
}

/** A command: what it does, its option groups, and the positional arguments it takes (most take none). */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly groups: readonly OptionGroup[];
  readonly positionals?: readonly { readonly name: string; readonly description: string }[];
}

const pick = <T extends Record<string, TSchema>, K extends keyof T>(fields: T, ...keys: K[]) => Object.fromEntries(keys.map((k) => [k, fields[k]])) as Pick<T, K>;
const omit = <T extends Record<string, TSchema>, K extends keyof T>(fields: T, ...keys: K[]) => Object.fromEntries(Object.entries(fields).filter(([k]) => !keys.includes(k as K))) as Omit<T, K>;

const players: OptionGroup = { title: 'Players', fields: omit(playerFields, 'background') };
const baseline: OptionGroup = {
  title: 'Baseline',
  fields: {
    baseline: Type.String({ description: `${describeSchema(baselineFields.baseline.anyOf[0])}, an inline JSON array, or a file whose first row is the baseline`, default: 'zero', 'x-arg': 'B' }),
    reference: sourceFields.reference,
    background: playerFields.background,
  },
};
const reward: OptionGroup = { title: 'Reward', fields: rewardFields };
const analysis: OptionGroup = { title: 'Decomposition', fields: analysisFields };
const running: OptionGroup = { title: 'Running', fields: { ...omit(engineFields, 'maxPlayers'), ...runFields } };
const output: OptionGroup = { title: 'Output', fields: outputFields };
const queue: OptionGroup = { title: 'Job queue (andor worker)', fields: queueFields };

/** The commands and their options. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  explain: {
    name: 'explain',
    summary: 'explain one sample of a model, or a game given as values (default: the first model of models/manifest.json)',
    groups: [
      { title: 'Model and sample', fields: { ...pick(sourceFields, 'model', 'sample'), ...inputFields, values: sourceFields.values } },
      { title: 'Many samples', fields: batchFields },
      players,
      baseline,
      reward,
      analysis,
      running,
      queue,
      output,
    ],
  },
  dynamics: {
    name: 'dynamics',
    summary: 'interactions across the checkpoints of a training run (default: the first series of the manifest)',
    groups: [{ title: 'Training run', fields: { ...dynamicsFields, ...pick(inputFields, 'input', 'output') } }, players, baseline, { title: 'Reward', fields: pick(rewardFields, 'reward') }, analysis, running, queue, output],
  },
  report: {
    name: 'report',
    summary: 're-render a saved result (explain, batch JSON lines, or dynamics) as an HTML report',
    positionals: [{ name: 'RESULT', description: 'a result written by --out: andor.explain/1, andor.dynamics/1, or the JSON lines of andor explain --samples' }],
    groups: [
      {
        title: 'Output',
        fields: {
          out: Type.String({ minLength: 1, description: 'write the HTML report to FILE (name it .html)', 'x-arg': 'FILE' }),
          svg: Type.String({ minLength: 1, description: 'also write each chart as DIR/<chart>.svg', 'x-arg': 'DIR' }),
          quiet: outputFields.quiet,
          debug: outputFields.debug,
        },
      },
    ],
  },
  worker: {
    name: 'worker',
    summary: 'serve a job queue: run the units that explain --samples --queue and dynamics --queue send, until SIGINT or SIGTERM',
    groups: [
      { title: 'Job queue', fields: workerFields },
      { title: 'Running', fields: omit(engineFields, 'maxPlayers') },
      { title: 'Output', fields: { quiet: Type.Boolean({ default: false, description: 'print no events (else one JSON line per unit started, completed or failed)' }), debug: outputFields.debug } },
    ],
  },
  serve: {
    name: 'serve',
    summary: 'the HTTP service: POST /explain, POST /explain/batch, GET /models, /health, /openapi.json',
    groups: [{ title: 'Service', fields: serveFields }, { title: 'Running', fields: { ...engineFields } }, { title: 'Output', fields: pick(outputFields, 'debug') }],
  },
};

/** Flag names that are not the kebab-case of their field. */
const FLAG_OF: Readonly<Record<string, string>> = { modelsDir: 'models', queueSize: 'queue', bodyLimitBytes: 'body-limit', cacheDir: 'cache' };

/** The flag of a field: `--blur-sigma` for blurSigma. */
export function flagOf(field: string): string {
  return FLAG_OF[field] ?? field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * A message spelled for one interface: the library names a field `options.maxOrder` and the CLI `--max-order`; the
 * service's body names it `body.maxOrder`. Every mention of a field in `fields` (as `options.<field>` or as its flag)
 * takes the interface's spelling; anything else (a server setting's flag, a field of another interface) stays as it is.
 * A field named both ways at once, `reference (--reference FILE)` or `options.maxOrder (--max-order)`, is named once:
 * `--reference FILE` on the CLI (its argument kept), `body.reference` in the service ("body.reference FILE" was
 * what an adversarial sweep of the service got, stop 43); a word of the sentence beside its flag, "one sample
 * (--sample)", stays a word.
 * @param message - an engine error's message
 * @param fields - the interface's field names (camelCase)
 * @param spell - how the interface writes a field
 */
export function spellFields(message: string, fields: readonly string[], spell: (field: string) => string): string {
  const known = new Set(fields);
  const byFlag = new Map(fields.map((f) => [flagOf(f), f]));
  return message
    .replace(/(?<![\w.-])(options\.)?([A-Za-z]\w*) \(--([a-z][a-z0-9-]*)((?: [A-Z]+)?)\)/g, (whole, prefix: string | undefined, field: string, flag: string, argument: string) => {
      // a name, not a word of the sentence ("one sample (--sample) is explained"): options.x, camelCase, or an argument
      const named = prefix !== undefined || /[A-Z]/.test(field) || argument !== '';
      if (!named || !known.has(field) || flagOf(field) !== flag) return whole;
      const spelled = spell(field);
      return spelled === `--${flag}` ? `${spelled}${argument}` : spelled;
    })
    .replace(/\boptions\.([A-Za-z]\w*)\b/g, (whole, field: string) => (known.has(field) ? spell(field) : whole))
    .replace(/(?<![\w-])--([a-z][a-z0-9-]*)(?![\w-])/g, (whole, flag: string) => (byFlag.has(flag) ? spell(byFlag.get(flag)!) : whole));
}

type Json = Record<string, unknown>;

/** The schema's kinds of value, looking through unions: what a flag's text may become. */
function kinds(schema: TSchema): Set<string> {
  const s = schema as unknown as Json;
  if (Array.isArray(s.anyOf)) return new Set((s.anyOf as TSchema[]).flatMap((b) => [...kinds(b)]));
  if (Array.isArray(s.enum)) return new Set(['string']);
  if (s.const === false) return new Set(['false']);
  return new Set(typeof s.type === 'string' ? [s.type] : []);
}

/** A boolean field that is on unless turned off (`--no-arrays`), or a field that false turns off (`--no-cache`). */
function negatable(schema: TSchema): boolean {
  const s = schema as unknown as Json;
  return (s.type === 'boolean' && s.default === true) || kinds(schema).has('false');
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Turns a flag's text into its field's value; what cannot be converted stays text, and the schema rejects it. */
function fromText(text: string, schema: TSchema): unknown {
  const k = kinds(schema);
  // a number or a keyword (--tolerance 0.01, --tolerance auto): the number first
  if ((k.has('integer') || k.has('number')) && NUMBER.test(text.trim())) return Number(text);
  if (k.has('string')) return text;
  const s = schema as unknown as Json;
  if (k.has('array') && (s.items as Json | undefined)?.type === 'string') return text.split(',').map((x) => x.trim());
  return text;
}

/**
 * A number written in a flag that float64 cannot hold is refused as written: "--lr 1e-400" rounds to 0 and
 * "--lr 1e400" to Infinity, and a message about the rounded value ("got 0") would name a value the user never gave.
 */
function assertRepresentable(text: string, value: number, flag: string): void {
  const mantissa = text.trim().split(/e/i)[0];
  if (value === 0 && /[1-9]/.test(mantissa)) throw new InvalidOptionError(`--${flag} ${text.trim()} is too close to 0 for float64 (it would round to 0); give a larger value.`);
  if (!Number.isFinite(value)) throw new InvalidOptionError(`--${flag} ${text.trim()} is past float64's range (it would round to ${value}); give a smaller value.`);
}

/** Every field of a command, by name. */
export function fieldsOf(command: Command): Record<string, TSchema> {
  return Object.assign({}, ...command.groups.map((g) => g.fields));
}

/**
 * Parses a command's arguments into field values, validated against the fields' schemas.
 * @param command - the command
 * @param args - the arguments after the command name
 * @returns the given fields (camelCase names), plus `help` and `version` when asked for
 * @throws InvalidOptionError for an unknown flag (with the likely intended one), a stray argument, or a value the
 *   field's schema refuses (naming the flag and the valid values)
 */
export function parseCommand(command: Command, args: readonly string[]): Record<string, unknown> & { help?: boolean; version?: boolean } {
  const fields = fieldsOf(command);
  const byFlag = new Map(Object.keys(fields).map((f) => [flagOf(f), f]));
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } };
  for (const [flag, field] of byFlag) {
    const schema = fields[field];
    const isBoolean = (schema as unknown as Json).type === 'boolean';
    options[flag] = { type: isBoolean ? 'boolean' : 'string' };
    if (negatable(schema)) options[`no-${flag}`] = { type: 'boolean' };
  }
  const known = Object.keys(options);
  // "--workers -1": a value that starts with a dash is still the flag's value when it is a number
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = /^--([^=]+)$/.exec(args[i])?.[1];
    if (flag !== undefined && options[flag]?.type === 'string' && NUMBER.test(args[i + 1] ?? '') && args[i + 1].startsWith('-')) joined.push(`${args[i]}=${args[++i]}`);
    else joined.push(args[i]);
  }
  args = joined;
  for (const arg of args) {
    if (arg === '--') break;
    const match = /^--([^=]+)/.exec(arg);
    if (match && !(match[1] in options)) {
      throw new InvalidOptionError(`Unknown option --${match[1]} for "andor ${command.name}".${didYouMean(match[1], known, (f) => `--${f}`)} Run "andor ${command.name} --help" for its options.`);
    }
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true, tokens: true });
  } catch (cause) {
    // parseArgs' own wording (a flag without its value, a value given to a switch) names the flag; keep that part
    const message = (cause as Error).message.split('. To specify a positional')[0].replace(/'/g, '"');
    throw new InvalidOptionError(`${message}. Run "andor ${command.name} --help" for the options.`, { cause });
  }
  // a flag given twice: parseArgs keeps the last, in silence ("--players 0-3 --players 5" explained one player);
  // --flag and --no-flag count as one flag
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    const name = token.name.replace(/^no-/, '');
    if (seen.has(name)) throw new InvalidOptionError(`--${name} is given twice for "andor ${command.name}"; give it once.`);
    seen.add(name);
  }
  const allowed = command.positionals?.length ?? 0;
  if (parsed.positionals.length > allowed) {
    const stray = parsed.positionals[allowed];
    // after "--" every argument is a positional, a known flag too: say so, not "did you mean" the very flag given
    const afterEnd = args.indexOf('--');
    if (afterEnd >= 0 && args.indexOf(stray, afterEnd + 1) > afterEnd && /^--?[^-]/.test(stray)) {
      throw new InvalidOptionError(`Unexpected argument "${stray}" for "andor ${command.name}": it comes after "--", which ends the options, so it is not read as one. Remove the "--".`);
    }
    throw new InvalidOptionError(`Unexpected argument "${stray}" for "andor ${command.name}": options are written --name value.${didYouMean(stray.replace(/^-+/, ''), known, (f) => `--${f}`)}`);
  }
  const values: Record<string, unknown> = {};
  for (const [flag, raw] of Object.entries(parsed.values)) {
    if (raw === undefined) continue;
    if (flag === 'help' || flag === 'version') {
      values[flag] = raw;
      continue;
    }
    const negated = flag.startsWith('no-') && !byFlag.has(flag);
    const field = byFlag.get(negated ? flag.slice(3) : flag)!;
    values[field] = negated ? false : typeof raw === 'string' ? fromText(raw, fields[field]) : raw;
    if (typeof values[field] === 'number') assertRepresentable(raw as string, values[field] as number, flag);
  }
  const { help, version, ...request } = values;
  const positionals = allowed > 0 ? { positionals: parsed.positionals } : {};
  assertValid(Type.Object(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])), { additionalProperties: false }), request, (f) => `--${flagOf(f)}`);
  return { ...request, ...positionals, ...(help ? { help: true } : {}), ...(version ? { version: true } : {}) };
}

/** The placeholder a flag's value shows: the field's x-arg, or its keywords when they are few. */
function argOf(schema: TSchema): string {
  const s = schema as unknown as Json;
  if (s.type === 'boolean') return '';
  if (Array.isArray(s.enum) && (s.enum as string[]).join('|').length <= 26) return (s.enum as string[]).join('|');
  return String(s['x-arg'] ?? 'X');
}

/** The help line's text: description, then the default and the valid values where the description lacks them. */
function meaningOf(schema: TSchema): string {
  const s = schema as unknown as Json;
  let text = String(s.description ?? '');
  const listed = Array.isArray(s.enum) && (s.enum as string[]).every((v) => text.includes(v));
  if (Array.isArray(s.enum) && !argOf(schema).includes('|') && !listed) text += ` (${describeSchema(schema)})`;
  if (s.default !== undefined && s.type !== 'boolean') text += ` (default ${Array.isArray(s.default) ? s.default.join('x') : String(s.default)})`;
  return text;
}

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${indent}`);
}

/** The flag column of a field: `--preset default|reference|none`, with its `--no-` form where it has one. */
function flagColumn(field: string, schema: TSchema): string {
  const flag = `--${flagOf(field)}${argOf(schema) ? ` ${argOf(schema)}` : ''}`;
  return negatable(schema) && (schema as unknown as Json).type !== 'boolean' ? `${flag}, --no-${flagOf(field)}` : negatable(schema) ? `--no-${flagOf(field)}` : flag;
}

/** The --help text of one command. */
export function commandHelp(command: Command): string {
  const args = (command.positionals ?? []).map((p) => ` ${p.name}`).join('');
  const out = [`andor ${command.name}: ${command.summary}`, '', `Usage: andor ${command.name}${args} [options]`];
  for (const p of command.positionals ?? []) out.push(`  ${p.name.padEnd(32)}${p.description}`);
  for (const group of command.groups) {
    out.push('', `${group.title}:`);
    for (const [field, schema] of Object.entries(group.fields)) {
      const column = `  ${flagColumn(field, schema)}`;
      const pad = column.length >= 34 ? `${column}\n${' '.repeat(34)}` : column.padEnd(34);
      out.push(pad + wrap(meaningOf(schema), 84, ' '.repeat(34)));
    }
  }
  out.push('', '  --help, -h                      this text', '  --version                       the package version');
  return `${out.join('\n')}\n`;
}

/** One markdown table per option group of a command (the README's option tables are generated from these). */
export function optionTables(command: Command): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return command.groups
    .map((group) => {
      const rows = Object.entries(group.fields).map(([field, schema]) => `| \`${cell(flagColumn(field, schema))}\` | ${cell(meaningOf(schema))} |`);
      return [`**${group.title}**`, '', '| option | meaning |', '|---|---|', ...rows].join('\n');
    })
    .join('\n\n');
}
