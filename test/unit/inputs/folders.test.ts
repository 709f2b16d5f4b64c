// makeFolder: a folder and its missing parents, an existing one kept, and every path that cannot be made an error with
// the system's code, never a hang (Node 20's recursive mkdir retries for ever under /proc).
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFolder } from '../../../engine/inputs/folders.js';

describe('makeFolder', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'andor-folders-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('makes a folder and its missing parents, and keeps one that is there', async () => {
    const deep = join(root, 'a', 'b', 'c');
    await makeFolder(deep);
    expect((await stat(deep)).isDirectory()).toBe(true);
    await makeFolder(deep);
    await makeFolder(join(root, 'a'));
    expect((await stat(deep)).isDirectory()).toBe(true);
  });

  it('makes the same folder from several calls at once', async () => {
    const shared = join(root, 'x', 'y');
    await Promise.all(Array.from({ length: 8 }, () => makeFolder(shared)));
    expect((await stat(shared)).isDirectory()).toBe(true);
  });

  it('refuses a path through a file with ENOTDIR', async () => {
    const file = join(root, 'file');
    await writeFile(file, 'x');
    await expect(makeFolder(file)).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(makeFolder(join(file, 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('ends with an error under /proc, where mkdir(…, { recursive: true }) never returns', async () => {
    // Linux: ENOENT (the bug's case); elsewhere /proc is missing or read-only
    await expect(makeFolder('/proc/andor-no-such/folder')).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOENT|EROFS|EACCES)$/) });
  }, 5000);
});
