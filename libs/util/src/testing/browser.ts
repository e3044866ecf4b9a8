// The one place tests get a browser: headless Chromium driven by playwright-core, from npm unless told otherwise.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

/**
 * Flags for a browser on a closed network that only ever talks to 127.0.0.1: no sandbox (CI runs as root in a
 * container), no GPU, no QUIC, and none of the background calls home (component updates, sync, first-run
 * pages) that would otherwise wait on an unreachable internet.
 */
export const BROWSER_FLAGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchBrowserOptions {
  /** A Chromium (or Chrome) binary to use instead of the npm one; defaults to `FEDTL_CHROMIUM` if set and not empty. */
  executablePath?: string;
}

/**
 * Launches headless Chromium for a test; close it in `afterAll`.
 *
 * The browser is `@sparticuz/chromium`, a headless Chromium shipped compressed inside its npm package, so
 * `npm ci` is the only set-up: the first launch on a machine decompresses it to `<tmpdir>/chromium` (a few
 * seconds) and later launches reuse that file. `FEDTL_CHROMIUM` (or `options.executablePath`) points at a
 * system browser instead, e.g. `/usr/bin/chromium`. Either way playwright-core gives every launch a fresh,
 * empty user data directory of its own and deletes it on close.
 *
 * Fails with one error that names the binary it tried.
 */
export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<Browser> {
  // Loaded on first use: every spec and the bench import @fedtl/util/testing, and only browser tests need these.
  const { chromium } = await import('playwright-core');
  const systemBrowser = options.executablePath ?? (process.env.FEDTL_CHROMIUM || undefined);
  if (systemBrowser !== undefined) {
    if (!existsSync(systemBrowser)) throw new Error(`no browser at ${systemBrowser} (FEDTL_CHROMIUM); unset it to use the npm Chromium`);
    return chromium.launch({ executablePath: systemBrowser, args: [...BROWSER_FLAGS], headless: true });
  }
  const npmChromium = (await import('@sparticuz/chromium')).default;
  const executablePath = await npmChromium.executablePath();
  try {
    return await chromium.launch({ executablePath, args: [...BROWSER_FLAGS], headless: true });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`the npm Chromium at ${executablePath} did not start (delete it if a run stopped while decompressing it): ${reason}`);
  }
}
