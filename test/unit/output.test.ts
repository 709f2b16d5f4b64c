// The CLI's output writer: chunked JSON is exactly JSON.stringify's text (property-based), long arrays never become
// one string, concurrent values do not interleave, and a reader that goes away ends the output without an error.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonChunks, openOutput, printable } from '../../engine/interfaces/output.js';
import { ROOT } from '../helpers/index.js';

describe('printable', () => {
  it('shows control characters as \\u escapes and keeps text, newlines and tabs (an ESC in a CSV header ran in the terminal)', () => {
    expect(printable('\u001b]0;PWNED\u0007\u001b[31mred')).toBe('\\u001b]0;PWNED\\u0007\\u001b[31mred');
    expect(printable('a\tb\nc · Ünïcødé \u{1f600}')).toBe('a\tb\nc · Ünïcødé \u{1f600}');
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(printable(s))));
  });
});

describe('jsonChunks', () => {
  it('writes exactly what JSON.stringify writes, for any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => [...jsonChunks(value)].join('') === JSON.stringify(value)), { numRuns: 300 });
  });

  it('writes typed arrays as number arrays, non-finite numbers as null, and leaves undefined fields out', () => {
    const value = { a: Float64Array.of(1.5, NaN, -Infinity), b: undefined, c: [1, Infinity], d: Int32Array.of(-2) };
    expect(JSON.parse([...jsonChunks(value)].join(''))).toEqual({ a: [1.5, null, null], c: [1, null], d: [-2] });
  });

  it('cuts a long array into chunks far shorter than the array', () => {
    const chunks = [...jsonChunks({ v: new Float64Array(100_000).fill(0.123456789) })];
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(200_000);
    expect(JSON.parse(chunks.join('')).v).toHaveLength(100_000);
  });
});

describe('openOutput', () => {
  it('keeps concurrent values whole, one per line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'andor-out-'));
    try {
      const file = join(dir, 'lines.jsonl');
      const out = openOutput(file);
      const values = Array.from({ length: 6 }, (_, i) => ({ i, v: new Float64Array(20_000).fill(i) }));
      await Promise.all(values.map((v) => out.writeJson(v)));
      await out.close();
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => l.i).sort()).toEqual([0, 1, 2, 3, 4, 5]);
      for (const l of lines) expect(new Set(l.v)).toEqual(new Set([l.i]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('finish puts all of a file on disk as FILE.partial and leaves the target as it was, until close; after a failed finish elsewhere, abandon keeps it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'andor-out-'));
    try {
      const [a, b] = [join(dir, 'a.json'), join(dir, 'b.json')];
      await writeFile(a, 'old a');
      await writeFile(b, 'old b');
      const [outA, outB] = [openOutput(a), openOutput(b, '--report')];
      await outA.writeJson({ run: 2 });
      await outB.write('new b');
      await outA.finish();
      await outB.finish();
      expect([await readFile(a, 'utf8'), await readFile(`${a}.partial`, 'utf8')]).toEqual(['old a', '{"run":2}\n']);
      await outA.close(); // after finish: the stream is not ended twice
      await outB.close();
      expect([await readFile(a, 'utf8'), await readFile(b, 'utf8')]).toEqual(['{"run":2}\n', 'new b']);
      // a finished output abandoned (the other output's finish failed) keeps what it wrote, the target untouched
      const again = openOutput(a);
      await again.write('run 3');
      await again.finish();
      expect(await again.abandon()).toBe(`${a}.partial`);
      expect([await readFile(a, 'utf8'), await readFile(`${a}.partial`, 'utf8')]).toEqual(['{"run":2}\n', 'run 3']);
      // a full disk is thrown by finish, naming the flag
      const full = openOutput('/dev/full', '--report');
      await full.write('x'.repeat(1 << 16)).catch(() => undefined);
      await expect(full.finish()).rejects.toThrow(/Cannot write --report \/dev\/full: ENOSPC/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ends quietly when the reader goes away (andor explain --json | head -c 20)', async () => {
    const cli = join(ROOT, 'dist', 'engine', 'interfaces', 'cli.js');
    const child = spawn('sh', ['-c', `"${process.execPath}" "${cli}" explain --json --workers 0 --preset none | head -c 20`], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stdout).toBe('{"schema":"andor.exp');
    expect(stderr).toBe('');
  });
});
