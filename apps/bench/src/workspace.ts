// Where the workspace is and how the bench runs the apps' real entry points: each as its own Node.js process (the
// same `fedtl` the bench runs from, see fedtlProcessArgs), with its output kept in a log file.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { findWorkspaceRoot } from '@fedtl/util';

export { findWorkspaceRoot };

export const WORKSPACE_ROOT = findWorkspaceRoot(__dirname);

const running = new Set<AppProcess>();

export interface AppProcess {
  /** Resolves with the exit code (1 for a signal). */
  exited: Promise<number>;
  isRunning(): boolean;
  stop(): void;
}

/**
 * Starts `node NODE_ARGS…` in the workspace root (`fedtlProcessArgs(['coordinator', …])` for a fedtl command);
 * stdout and stderr go to `logFile`.
 */
export function startApp(nodeArgs: string[], logFile: string): AppProcess {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: WORKSPACE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const app: AppProcess = {
    exited: new Promise<number>((done) =>
      child.once('close', (code) => {
        log.end();
        running.delete(app);
        done(code ?? 1);
      }),
    ),
    isRunning: () => child.exitCode === null && child.signalCode === null,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
  running.add(app);
  return app;
}

/** Stops every app process this bench started that is still running (on Ctrl-C or a failure). */
export function stopAllApps(): void {
  for (const app of running) app.stop();
}
