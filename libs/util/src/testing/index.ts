// Helpers for tests that talk over real sockets and real processes. Everything they start, they can stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EventEmitter } from 'node:events';
import { fedtlProcessArgs, findWorkspaceRoot } from '../fedtl-process';

/** Resolves with the first emission of `event` (its arguments), or rejects after `timeoutMs`. */
export function waitFor<T extends unknown[] = unknown[]>(emitter: Pick<EventEmitter, 'once' | 'off'>, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const onEvent = (...args: unknown[]) => {
      clearTimeout(timer);
      resolvePromise(args as T);
    };
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`));
    }, timeoutMs);
    emitter.once(event, onEvent);
  });
}

/** Polls `condition` until it is truthy or `timeoutMs` passes. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A fresh temporary directory; call the returned `cleanup` in afterEach/afterAll. */
export async function makeTempDir(prefix = 'fedtl-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const WORKSPACE_ROOT = findWorkspaceRoot(__dirname);

export interface TsProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Runs a TypeScript entry point of this workspace in its own Node.js process, through tsx. */
export function spawnTs(entry: string, args: string[], options: { env?: NodeJS.ProcessEnv; echo?: boolean } = {}): TsProcess {
  return spawnNode(['--import', 'tsx', resolve(WORKSPACE_ROOT, entry), ...args], options);
}

/** Runs the built `fedtl` command (bin/fedtl.js, which loads dist/fedtl/main.js) in its own process. */
export function spawnBuiltFedtl(args: string[], options: { env?: NodeJS.ProcessEnv; echo?: boolean } = {}): TsProcess {
  return spawnNode([resolve(WORKSPACE_ROOT, 'bin', 'fedtl.js'), ...args], options);
}

/** Runs `fedtl ARGS…` from the same code as this process (the bundle or the sources, see fedtlProcessArgs). */
export function spawnFedtl(args: string[], options: { env?: NodeJS.ProcessEnv; echo?: boolean } = {}): TsProcess {
  return spawnNode(fedtlProcessArgs(args), options);
}

/** Runs `node NODE_ARGS…` in the workspace root, its output collected (see TsProcess). */
function spawnNode(nodeArgs: string[], options: { env?: NodeJS.ProcessEnv; echo?: boolean }): TsProcess {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // FEDTL_TEST_ECHO=1 shows every child's output live, for debugging a test that hangs.
  const echo = options.echo ?? process.env.FEDTL_TEST_ECHO === '1';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (echo) process.stderr.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | string>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(code ?? signal ?? 'unknown'));
  });
  return {
    child,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export * from './log-events';
export * from './synthetic-features';
export * from './tcp-proxy';
export * from './certificates';
export * from './browser';

export interface TestSandbox {
  /** This test's temporary directory. */
  readonly dir: string;
  /** Processes the test started; each is killed after the test. */
  readonly processes: TsProcess[];
  /**
   * Registers `close` (stop a coordinator, close a socket or a page) to run after the test: after its processes
   * are killed and before its directory is removed, the latest registered first. A close that fails does not
   * keep the others from running; its error is reported after all of them ran.
   */
  defer(close: () => unknown): void;
}

/**
 * Call inside a `describe`: every test gets a fresh temporary directory, and after it every process it
 * registered is killed, everything it deferred is closed and the directory removed, so no test leaves a
 * process, port or file behind. A test whose set-up failed half-way has only what it registered cleaned up.
 */
export function useTestSandbox(): TestSandbox {
  let temp: { dir: string; cleanup: () => Promise<void> } | undefined;
  const processes: TsProcess[] = [];
  const closers: Array<() => unknown> = [];
  beforeEach(async () => {
    temp = await makeTempDir();
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
    const failures: unknown[] = [];
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        failures.push(err);
      }
    }
    await temp?.cleanup();
    temp = undefined;
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} clean-ups failed after the test`);
  });
  return {
    get dir() {
      if (!temp) throw new Error('the sandbox exists only while a test runs');
      return temp.dir;
    },
    processes,
    defer(close) {
      closers.push(close);
    },
  };
}
export * from './fake-terminal';
