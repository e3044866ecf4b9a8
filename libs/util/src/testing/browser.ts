// The one place tests get a browser: headless Chromium driven by playwright-core, from npm unless told otherwise.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
 * The browser is `@sparticuz/chromium`, a headless Chromium for Linux x64 shipped compressed inside its npm
 * package, so `npm ci` is the only set-up. The first launch in a checkout decompresses it (a few seconds) into
 * a cache of this checkout's own, `node_modules/.cache/fedtl-chromium-<version>/`, built in a staging directory
 * and renamed into place, so a run killed half-way or two runs at once never leave a broken browser for the
 * next. `FEDTL_CHROMIUM` (or `options.executablePath`) points at another browser instead, e.g.
 * `/usr/bin/chromium` (needed on macOS or arm64). Either way playwright-core gives every launch a fresh,
 * empty user data directory of its own and deletes it on close.
 *
 * Fails with one error that names the binary it tried and how to choose another.
 */
export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<Browser> {
  // Loaded on first use: every spec and the bench import @fedtl/util/testing, and only browser tests need it.
  const { chromium } = await import('playwright-core');
  const systemBrowser = options.executablePath ?? (process.env.FEDTL_CHROMIUM || undefined);
  const executablePath = systemBrowser ?? (await npmChromium());
  if (systemBrowser !== undefined && !isFile(systemBrowser)) {
    throw new Error(`no browser at ${systemBrowser} (FEDTL_CHROMIUM): expected a Chromium or Chrome binary; unset it to use the npm Chromium`);
  }
  try {
    return await chromium.launch({
      executablePath,
      args: [...BROWSER_FLAGS],
      headless: true,
      // The npm build brings its own fonts; a system browser uses the system's.
      env: systemBrowser === undefined ? { ...process.env, FONTCONFIG_PATH: join(executablePath, '..', 'fonts') } : process.env,
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const source = systemBrowser === undefined ? 'the npm Chromium' : 'FEDTL_CHROMIUM';
    throw new Error(`the browser at ${executablePath} (${source}) did not start: ${reason}`);
  }
}

/** The npm Chromium's binary, decompressed into this checkout's cache on first use. */
async function npmChromium(): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the npm Chromium is a Linux x64 build; on ${process.platform}-${process.arch} set FEDTL_CHROMIUM to a Chromium or Chrome binary`);
  }
  const packageDir = join(require.resolve('@sparticuz/chromium'), '..', '..', '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const cacheDir = join(packageDir, '..', '..', '.cache', `fedtl-chromium-${version}`);
  const binary = join(cacheDir, 'chromium');
  if (isFile(binary)) return binary;

  // The package always decompresses into os.tmpdir(): run it in a child process whose TMPDIR is a staging
  // directory of ours, then move the finished directory into place in one rename.
  const staging = `${cacheDir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const script = "require('@sparticuz/chromium').executablePath().then((path) => process.stdout.write(path))";
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: packageDir, env: { ...process.env, TMPDIR: staging } });
    if (stdout !== join(staging, 'chromium') || !isFile(stdout)) throw new Error(`expected the binary at ${join(staging, 'chromium')}, got "${stdout}"`);
    writeFileSync(join(staging, 'VERSION'), `${version}\n`);
    try {
      renameSync(staging, cacheDir);
    } catch (err) {
      // Another run finished first: its copy is as good as ours.
      if (!isFile(binary)) throw err;
    }
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`could not decompress the npm Chromium into ${cacheDir}: ${reason}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}
