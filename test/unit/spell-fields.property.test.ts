// spellFields (engine/interfaces/cli-options.ts): an engine message respelled for the CLI (--max-order) or the
// service (body.maxOrder). Every mention of a known field, as options.<field> or as its flag, takes the interface's
// spelling; nothing else in the message changes (stop 34).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMANDS, fieldsOf, flagOf, spellFields } from '../../engine/interfaces/cli-options.js';
import { RUNS } from './inputs/support.js';

const FIELDS = Object.keys(fieldsOf(COMMANDS.explain));
const cli = (m: string) => spellFields(m, FIELDS, (f) => `--${flagOf(f)}`);
const body = (m: string) => spellFields(m, FIELDS, (f) => `body.${f}`);

describe('spellFields', () => {
  it('respells the library and CLI names of known fields, and leaves other names as they are', () => {
    const message = 'options.budget = 5 is too small for maxOrder = 3. Raise options.budget or lower options.maxOrder (--max-order); options.nope and --frobnicate stay.';
    expect(cli(message)).toBe('--budget = 5 is too small for maxOrder = 3. Raise --budget or lower --max-order; options.nope and --frobnicate stay.');
    expect(body(message)).toBe('body.budget = 5 is too small for maxOrder = 3. Raise body.budget or lower body.maxOrder; options.nope and --frobnicate stay.');
    // a flag inside a longer word or flag is not a mention
    expect(body('x--players and --players-file and --players.')).toBe('x--players and --players-file and body.players.');
  });

  it('names a field given both ways at once (field and flag) once, with the CLI keeping the flag\'s argument', () => {
    const message = 'baseline "mean" needs a reference set: pass reference (--reference FILE) with one or more rows; or maskToken (--mask-token ID), or nope (--nope X).';
    expect(cli(message)).toBe('baseline "mean" needs a reference set: pass --reference FILE with one or more rows; or --mask-token ID, or nope (--nope X).');
    expect(body(message)).toBe('baseline "mean" needs a reference set: pass body.reference with one or more rows; or body.maskToken, or nope (--nope X).');
    // a flag that is not the field's own, a field inside a longer name, and a word of the sentence beside its flag stay
    expect(body('players (--budget) and xreference (--reference FILE)')).toBe('players (body.budget) and xreference (body.reference FILE)');
    expect(cli('one sample (--sample) is explained without a cache')).toBe('one sample (--sample) is explained without a cache');
  });

  it('changes nothing in a message that names no field (property)', () => {
    const text = fc.string().filter((s) => !/options\.|--/.test(s));
    fc.assert(fc.property(text, (s) => cli(s) === s && body(s) === s), RUNS);
  });

  it('spells every known field, in any text around it, and only it (property)', () => {
    const around = fc.string({ unit: fc.constantFrom(...' ,;:()=\'"0123456789abc'.split('')), maxLength: 12 });
    fc.assert(
      fc.property(around, fc.constantFrom(...FIELDS), around, (before, field, after) => {
        const sep = (s: string) => (s === '' || /[\w-]$/.test(s) ? `${s} ` : s);
        const message = `${sep(before)}options.${field}${/^\w/.test(after) ? ` ${after}` : after}`;
        const spelled = body(message);
        expect(spelled).toContain(`body.${field}`);
        expect(spelled).not.toContain(`options.${field}`);
        expect(body(cli(message))).toBe(spelled); // the two spellings name the same field
      }),
      RUNS,
    );
  });
});
