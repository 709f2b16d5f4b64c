// The README promises a Node range (package.json "engines"); it must be true for every package npm installs here:
// the lowest Node version of the range satisfies each dependency's own "engines.node", dev dependencies included
// (npm test runs on them). cookie@2 (through fastify) once required Node 22 while the README said 20.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/index.js';

/** Every package.json under node_modules (scoped and nested). */
function packages(dir: string, out: { name: string; version: string; node?: string }[] = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (entry.startsWith('@')) {
      packages(path, out);
      continue;
    }
    const manifest = join(path, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; version: string; engines?: { node?: string } };
    out.push({ name: pkg.name, version: pkg.version, node: pkg.engines?.node });
    packages(join(path, 'node_modules'), out);
  }
  return out;
}

describe('the Node range in package.json', () => {
  const range = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  const lowest = semver.minVersion(range)!.version;

  it('is the range the README states', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`Node ≥ ${lowest.replace(/\.0$/, '')}`);
  });

  it('is met by every installed dependency at its lowest version', () => {
    const refusing = packages(join(ROOT, 'node_modules')).filter((p) => p.node && !semver.satisfies(lowest, p.node, { includePrerelease: true }));
    expect(refusing.map((p) => `${p.name}@${p.version} needs node ${p.node}`)).toEqual([]);
  });
});
