// andor report's outputs, --out FILE.html and --svg DIR (one file per chart), on real files through the built CLI
// (an adversarial sweep, stop 48): a chart's file that is the result read or the --out report (or a link to either)
// was written over it in silence, exit 0; a chart that could not be written left --out and the charts before it
// replaced and the rest old; a FIFO at a chart's place blocked for ever; a failed write advised --cache, which report
// does not take. Each is now refused before anything is written, or leaves every file as it was.
import { execFile, execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartsOf } from '../../dist/engine/report/index.js';
import { CLI, runCli, type CliRun } from '../helpers/cli.js';
import { ROOT } from '../helpers/index.js';

/** A refusal that must come at once (a FIFO blocked the old code for ever). */
const FAST_MS = 5_000;
const OLD_PAGE = '<html>an earlier report</html>\n';
const OLD_CHART = '<svg>an earlier chart</svg>\n';

/** Every file of a folder (not its subfolders) with its text: what a refused run must leave as it was. */
async function filesOf(folder: string): Promise<Record<string, string>> {
  const entries = await readdir(folder, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name).sort();
  return Object.fromEntries(await Promise.all(files.map(async (name) => [name, await readFile(join(folder, name), 'utf8').catch((e: NodeJS.ErrnoException) => `(${e.code})`)] as const)));
}

/** `andor ARGS` under a file-size limit of `limitKib` KiB (bash's ulimit -f): a write past it fails with EFBIG, as a
 *  full disk's fails with ENOSPC, without root. */
async function runLimited(limitKib: number, args: readonly string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)('bash', ['-c', `ulimit -f ${limitKib}; exec "$0" "$@"`, process.execPath, CLI, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('andor report --out and --svg', () => {
  let dir: string;
  let result: string;
  let resultText: string;
  /** The chart files of the result, in the order they are written. */
  let charts: { name: string; byteLength: number }[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andor-report-outputs-'));
    result = join(dir, 'result.json');
    // a game whose AND-OR graph chart is larger than its waterfall, the first chart (EFBIG below)
    const values = JSON.stringify([0, 1, 4, 4, 1, 0, 1, 4]);
    const run = await runCli(['explain', '--values', values, '--decomposition', 'and', '--preset', 'none', '--out', result, '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    resultText = await readFile(result, 'utf8');
    charts = chartsOf(JSON.parse(resultText)).map((c) => ({ name: `${c.id}.svg`, byteLength: Buffer.byteLength(c.svg) }));
    expect(charts.length).toBeGreaterThan(2);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A fresh folder holding an earlier chart under each chart's name. */
  const oldCharts = async (name: string): Promise<string> => {
    const folder = join(dir, name);
    await mkdir(folder);
    for (const chart of charts) await writeFile(join(folder, chart.name), OLD_CHART);
    return folder;
  };

  describe('a chart whose file is the result or the --out report', () => {
    it('refuses a chart file that is the result read, and leaves it as it was', async () => {
      const folder = join(dir, 'chart-is-result');
      await mkdir(folder);
      const own = join(folder, charts[0].name);
      await writeFile(own, resultText);
      const run = await runCli(['report', own, '--svg', folder]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`andor: error [INVALID_OPTION]: --svg ${folder} writes the chart ${charts[0].name} to ${own}, which is the result (${own}): it would be overwritten. Give another --svg folder, or move the result.`);
      expect(await filesOf(folder)).toEqual({ [charts[0].name]: resultText });
    });

    it('refuses a chart file that is the --out report, before either is written', async () => {
      const folder = join(dir, 'chart-is-out');
      await mkdir(folder);
      const out = join(folder, charts[1].name);
      const run = await runCli(['report', result, '--out', out, '--svg', folder]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`andor: error [INVALID_OPTION]: --svg ${folder} writes the chart ${charts[1].name} to ${out}, which is the --out file (${out}): it would be overwritten. Give another --svg folder, or another --out.`);
      expect(await filesOf(folder)).toEqual({});
    });

    it('refuses a chart file that is a link to the result, and leaves the result as it was', async () => {
      const folder = join(dir, 'chart-links-result');
      await mkdir(folder);
      const own = join(folder, 'result.json');
      await writeFile(own, resultText);
      await symlink('result.json', join(folder, charts[1].name));
      const run = await runCli(['report', own, '--svg', folder]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^andor: error \[INVALID_OPTION\]: --svg .* writes the chart \S+ to \S+, a link to \S+result\.json, which is the result \(\S+result\.json\): it would be overwritten\./m);
      expect(await readFile(own, 'utf8')).toBe(resultText);
      expect(await readdir(folder)).toEqual([charts[1].name, 'result.json'].sort());
    });

    it('refuses a result that is the FILE.partial an output is written through (a chart, or --out)', async () => {
      const folder = join(dir, 'result-is-partial');
      await mkdir(folder);
      const partial = join(folder, `${charts[0].name}.partial`);
      await writeFile(partial, resultText);
      const viaChart = await runCli(['report', partial, '--svg', folder]);
      expect(viaChart.code).toBe(2);
      expect(viaChart.stderr).toContain(`writes the chart ${charts[0].name} to ${join(folder, charts[0].name)} through ${partial}, which is the result (${partial}): it would be overwritten.`);
      // the partial result of an interrupted batch, reported to the name the whole result would have had
      const out = join(folder, 'whole.json');
      await writeFile(join(folder, 'whole.json.partial'), resultText);
      const viaOut = await runCli(['report', `${out}.partial`, '--out', out]);
      expect(viaOut.code).toBe(2);
      expect(viaOut.stderr).toContain(`andor: error [INVALID_OPTION]: --out ${out} is written through ${out}.partial, which is the result (${out}.partial): it would be overwritten. Give another --out, or move the result.`);
      expect(await filesOf(folder)).toEqual({ [`${charts[0].name}.partial`]: resultText, 'whole.json.partial': resultText });
    });
  });

  describe('a chart that cannot be written', () => {
    it('refuses a folder at a chart\'s place before --out or any chart is written, then writes them all once it is gone', async () => {
      const folder = await oldCharts('folder-at-chart');
      const blocked = charts[charts.length - 1].name;
      await rm(join(folder, blocked));
      await mkdir(join(folder, blocked));
      const page = join(dir, 'folder-at-chart.html');
      await writeFile(page, OLD_PAGE);
      const before = await filesOf(folder);
      const run = await runCli(['report', result, '--out', page, '--svg', folder]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`andor: error [INVALID_OPTION]: --svg ${folder} writes the chart ${blocked} to ${join(folder, blocked)}, which is a folder: a chart is written to a file. Move it, or give another --svg folder.`);
      expect(await readFile(page, 'utf8')).toBe(OLD_PAGE);
      expect(await filesOf(folder)).toEqual(before);
      await rm(join(folder, blocked), { recursive: true });
      const again = await runCli(['report', result, '--out', page, '--svg', folder]);
      expect(again.code, again.stderr).toBe(0);
      expect(await readFile(page, 'utf8')).toMatch(/^<!doctype html>/i);
      const written = await filesOf(folder);
      expect(Object.keys(written)).toEqual(charts.map((c) => c.name).sort());
      for (const text of Object.values(written)) expect(text).toMatch(/^<svg /);
    });

    it('refuses a FIFO at a chart\'s place at once (it blocked for ever)', async () => {
      const folder = join(dir, 'fifo-at-chart');
      await mkdir(folder);
      const fifo = join(folder, charts[1].name);
      execFileSync('mkfifo', [fifo]);
      // a reader after FAST_MS lets a run that opened the FIFO end, so that it fails the checks below, not the timeout
      const reader = setTimeout(() => createReadStream(fifo).resume(), FAST_MS);
      const started = Date.now();
      const run = await runCli(['report', result, '--svg', folder]).finally(() => clearTimeout(reader));
      expect(Date.now() - started).toBeLessThan(FAST_MS);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`andor: error [INVALID_OPTION]: --svg ${folder} writes the chart ${charts[1].name} to ${fifo}, which is a named pipe (FIFO): a chart is written to a file.`);
      expect(await readdir(folder)).toEqual([charts[1].name]);
    });

    it('refuses a link to nothing at a chart\'s place (it would be written through the link, not with the others)', async () => {
      const folder = join(dir, 'dangling-at-chart');
      await mkdir(folder);
      await symlink('nowhere/chart.svg', join(folder, charts[0].name));
      const run = await runCli(['report', result, '--svg', folder]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`writes the chart ${charts[0].name} to ${join(folder, charts[0].name)}, a link to nowhere/chart.svg that names no file (ENOENT). Remove it, or give another --svg folder.`);
      expect(await readdir(folder)).toEqual([charts[0].name]);
    });

    it('leaves every chart as it was, and no FILE.partial, when one fails while written (a file-size limit: EFBIG), and says so without --cache advice', async () => {
      // a limit the first chart fits under and a later one does not: the old code had replaced the charts before it
      const limitKib = Math.ceil(charts[0].byteLength / 1024);
      const over = charts.find((c) => c.byteLength > limitKib * 1024);
      expect(over, 'a chart larger than the first').toBeDefined();
      const folder = await oldCharts('efbig-chart');
      const run = await runLimited(limitKib, ['report', result, '--svg', folder]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`andor: error [INVALID_OPTION]: Cannot write --svg ${join(folder, over!.name)}: EFBIG. Give a file on a disk with room for the result.`);
      expect(run.stderr).not.toContain('--cache');
      expect(await filesOf(folder)).toEqual(Object.fromEntries(charts.map((c) => [c.name, OLD_CHART])));
    });

    it('leaves the charts as they were, and no FILE.partial, when --out fails while written (EFBIG)', async () => {
      const folder = await oldCharts('efbig-out');
      const page = join(dir, 'efbig-out.html');
      await writeFile(page, OLD_PAGE);
      const largest = Math.max(...charts.map((c) => c.byteLength));
      const run = await runLimited(Math.ceil(largest / 1024) + 1, ['report', result, '--out', page, '--svg', folder]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`andor: error [INVALID_OPTION]: Cannot write --out ${page}: EFBIG. Give a file on a disk with room for the result.`);
      expect(await readFile(page, 'utf8')).toBe(OLD_PAGE);
      expect(await readdir(dir)).not.toContain('efbig-out.html.partial');
      expect(await filesOf(folder)).toEqual(Object.fromEntries(charts.map((c) => [c.name, OLD_CHART])));
    });

    it('says a full disk on --out without advising --cache, which report does not take', async () => {
      const run = await runCli(['report', result, '--out', '/dev/full']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^andor: error \[INVALID_OPTION\]: Cannot write --out \/dev\/full: ENOSPC\. Give a file on a disk with room for the result\.$/m);
    });
  });
});
