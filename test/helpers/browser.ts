// Headless Chromium for the report tests, from wherever this machine has one: Debian's /usr/bin/chromium (which
// .ci/run installs) and the browser that the @sparticuz/chromium npm package ships inside itself, so `npm test`
// passes on a fresh machine with nothing installed by hand. Both are driven by playwright-core.
import { existsSync } from 'node:fs';
import sparticuz from '@sparticuz/chromium';
import { chromium, type Browser } from 'playwright-core';

/** A browser this machine can launch. */
export interface BrowserSource {
  readonly name: string;
  launch(): Promise<Browser>;
}

const SYSTEM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const npmChromium: BrowserSource = {
  name: '@sparticuz/chromium (npm)',
  // its default flags include --single-process, where closing a page takes the browser down: use ours
  launch: async () => chromium.launch({ executablePath: await sparticuz.executablePath(), args: FLAGS, headless: true }),
};
const systemChromium: BrowserSource = { name: `system (${SYSTEM})`, launch: () => chromium.launch({ executablePath: SYSTEM, args: FLAGS }) };

/** Every browser available here: the npm one always, the system one where it is installed. */
export const BROWSERS: readonly BrowserSource[] = existsSync(SYSTEM) ? [systemChromium, npmChromium] : [npmChromium];
