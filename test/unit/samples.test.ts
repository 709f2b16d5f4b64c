// Reading samples and values: inline JSON, sample-set JSON, CSV with and without a header, .npy, raw float64.
// Imports the sources (not dist/) so it tests the parsers as edited; test/unit/inputs/ holds the property tests.
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, ShapeMismatchError } from '../../engine/contracts/errors.js';
import { loadSampleSet, loadValues } from '../../engine/inputs/samples.js';
import { readCapped } from '../../engine/inputs/read.js';
import { MAX_BINARY_BYTES } from '../../engine/inputs/limits.js';
import { model } from '../helpers/index.js';

/** A .npy (format 1.0) of float64 or int32 values, written by hand. */
function npy(values: number[], shape: number[], descr = '<f8'): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const body = descr === '<f8' ? Buffer.from(Float64Array.from(values).buffer) : Buffer.from(Int32Array.from(values).buffer);
  const prefix = Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 255, header.length >> 8]);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]);
}

describe('samples', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andor-samples-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads an inline array as one sample and an array of arrays as rows', async () => {
    expect((await loadSampleSet('[1, 2, 3]')).samples).toHaveLength(1);
    const rows = await loadSampleSet('[[1, 2], [3, 4], [5, 6]]');
    expect(rows.samples.map((s) => Array.from(s.values as Float64Array))).toEqual([[1, 2], [3, 4], [5, 6]]);
  });

  it('reads a sample-set file with features, labels and splits', async () => {
    const set = await loadSampleSet(model('breast-cancer.samples.json'));
    expect(set.features?.[0]).toBe('mean radius');
    expect(set.samples[0]).toMatchObject({ id: 'test-0', label: 1, split: 'test' });
    expect((set.samples[0].values as Float64Array).length).toBe(30);
  });

  it('reads CSV with a header (feature names) and without', async () => {
    await writeFile(join(dir, 'h.csv'), 'a,b,c\n1,2,3\n4,5,6\n');
    const withHeader = await loadSampleSet(join(dir, 'h.csv'));
    expect(withHeader.features).toEqual(['a', 'b', 'c']);
    expect(Array.from(withHeader.samples[1].values as Float64Array)).toEqual([4, 5, 6]);
    await writeFile(join(dir, 'n.csv'), '1,2\n3,4\n');
    expect((await loadSampleSet(join(dir, 'n.csv'))).samples).toHaveLength(2);
  });

  it('refuses pandas\' default header 0,1,…,k−1, reads a header naming a column Na, and hints at ";" (an adversarial sweep, stop 32)', async () => {
    // read as data, pandas' header shifted every row by one and explained the vector [0, 1, 2, …]
    await writeFile(join(dir, 'pandas.csv'), '0,1,2,3\n1.5,2,3,4\n');
    await expect(loadSampleSet(join(dir, 'pandas.csv'))).rejects.toThrowError(/line 1 is 0,1,…,3: the column names pandas writes for unnamed columns .* andor cannot tell\. Write the file with names .* or without a header/);
    await writeFile(join(dir, 'two.csv'), '0,1\n1,0\n'); // two binary columns are data
    expect((await loadSampleSet(join(dir, 'two.csv'))).samples).toHaveLength(2);
    // "Na" (sodium) was a missing-value marker, so the header was read as data and "RI" blamed
    await writeFile(join(dir, 'glass.csv'), 'RI,Na,Mg\n1.52,13.6,4.49\n');
    const glass = await loadSampleSet(join(dir, 'glass.csv'));
    expect(glass.features).toEqual(['RI', 'Na', 'Mg']);
    await writeFile(join(dir, 'na.csv'), 'NA,b\n1,2\n'); // NA is still a missing value, so this row is data
    await expect(loadSampleSet(join(dir, 'na.csv'))).rejects.toThrowError(/row 0, column 0, line 1 is "NA", a missing value/);
    await writeFile(join(dir, 'semi.csv'), '1.5;2;3\n');
    await expect(loadSampleSet(join(dir, 'semi.csv'))).rejects.toThrowError(/no data rows; .* the file seems to use ";" or tabs/);
  });

  it('refuses a .npy file longer than its header says from its first bytes, before reading the rest (an adversarial sweep, stop 32)', async () => {
    // a header of shape (1, 3) followed by 20 MB (sparse on disk): it was read whole (1.5 GB: 13 s, 1.65 GB of memory)
    const file = join(dir, 'long.npy');
    await writeFile(file, npy([1, 2, 3], [1, 3]));
    await truncate(file, 20 * 2 ** 20);
    const seen: { start: number; size: number }[] = [];
    await expect(readCapped(file, MAX_BINARY_BYTES, 'a .npy file', (start, size) => void seen.push({ start: start.length, size }))).resolves.toHaveLength(20 * 2 ** 20);
    expect(seen).toEqual([{ start: 2 ** 17, size: 20 * 2 ** 20 }]);
    await expect(loadSampleSet(file)).rejects.toThrowError(/long\.npy is longer than its header says: shape \(1, 3\) of <f8 needs 24 data bytes, but \d+ follow the header/);
    await expect(loadValues(file)).rejects.toThrowError(ShapeMismatchError);
    // a version 2 header longer than those first bytes is checked with the whole file, not refused as truncated
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
    header += ' '.repeat(200 * 1024 - 12 - header.length - 1) + '\n';
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length);
    const v2 = join(dir, 'v2.npy');
    await writeFile(v2, Buffer.concat([Buffer.from([0x93, ...Buffer.from('NUMPY'), 2, 0]), length, Buffer.from(header, 'latin1'), Buffer.from(Float64Array.from([1.5, 2.5]).buffer)]));
    expect(Array.from((await loadSampleSet(v2)).samples[0].values as Float64Array)).toEqual([1.5, 2.5]);
  });

  it('rejects ragged or non-numeric CSV rows, naming the row', async () => {
    await writeFile(join(dir, 'r.csv'), '1,2,3\n4,5\n');
    await expect(loadSampleSet(join(dir, 'r.csv'))).rejects.toThrowError(/row 1 has 2 columns/);
    await writeFile(join(dir, 'x.csv'), 'a,b\n1,oops\n');
    await expect(loadSampleSet(join(dir, 'x.csv'))).rejects.toThrowError(InvalidInputError);
  });

  it('reads .npy arrays: 1-D is one sample, 2-D is rows', async () => {
    await writeFile(join(dir, 'a.npy'), npy([1, 2, 3, 4, 5, 6], [2, 3]));
    const set = await loadSampleSet(join(dir, 'a.npy'));
    expect(set.samples.map((s) => Array.from(s.values as Float64Array))).toEqual([[1, 2, 3], [4, 5, 6]]);
    await writeFile(join(dir, 'b.npy'), npy([7, 8], [2], '<i4'));
    expect(Array.from((await loadSampleSet(join(dir, 'b.npy'))).samples[0].values as Float64Array)).toEqual([7, 8]);
  });

  it('rejects a file that is not .npy, and NaN in samples', async () => {
    await writeFile(join(dir, 'bad.npy'), 'hello');
    await expect(loadSampleSet(join(dir, 'bad.npy'))).rejects.toThrowError(/not a .npy file/);
    await expect(loadSampleSet('[1, "a"]')).rejects.toThrowError(/finite numbers/);
  });

  it('reads values from JSON, raw float64 and .npy', async () => {
    expect(Array.from(await loadValues('[1, 2, 3, 4]'))).toEqual([1, 2, 3, 4]);
    await writeFile(join(dir, 'v.f64'), Buffer.from(Float64Array.of(1, 2).buffer));
    expect(Array.from(await loadValues(join(dir, 'v.f64')))).toEqual([1, 2]);
    await writeFile(join(dir, 'v.npy'), npy([5, 6, 7, 8], [4]));
    expect(Array.from(await loadValues(join(dir, 'v.npy')))).toEqual([5, 6, 7, 8]);
    await writeFile(join(dir, 'v.raw'), Buffer.alloc(7));
    await expect(loadValues(join(dir, 'v.raw'))).rejects.toThrowError(ShapeMismatchError);
  });
});
