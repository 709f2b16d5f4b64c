// The runnable example of calling andor from another Node service (examples/service.mjs): it starts, answers,
// and shuts down on SIGTERM.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/index.js';

describe('examples/service.mjs', () => {
  it('serves explanations through the library API', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'examples', 'service.mjs'), '0'], { cwd: ROOT });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        const m = /listening on (\S+)/.exec(d.toString());
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    const body = (await (await fetch(`${url}/explain?row=3`)).json()) as { row: number; top: { players: string[] }[] };
    expect(body.row).toBe(3);
    expect(body.top.length).toBeGreaterThan(0);
    expect(typeof body.top[0].players[0]).toBe('string');
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
