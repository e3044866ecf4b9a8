// `fedtl coordinator`: the federation's server as a process — start it, stop it on SIGINT/SIGTERM, and turn how
// the run ended into the exit status.
import { configureLogging, createLogger } from '@fedtl/util';
import type { CoordinatorConfig } from './config';
import { startCoordinator } from './run-coordinator';

/** 128 + the signal's number, as shells report a process that a signal stopped. */
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Runs the coordinator until its run ends (or a signal stops it) and resolves with the exit status: 0 when the
 * run finished, 130/143 when stopped by SIGINT/SIGTERM. A run that fails rejects with its FedtlError.
 */
export async function runCoordinatorProcess(config: CoordinatorConfig): Promise<number> {
  configureLogging({ level: config.logLevel, format: config.logFormat });
  const started = await startCoordinator(config);
  const log = createLogger('coordinator-main').child({ runId: started.runId });
  let stopping: Promise<number> | undefined;
  let runOver = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      // After the verdict (the dashboard lingering) nothing is interrupted: the run finished, and exit says so.
      if (runOver) log.info('stopping the lingering dashboard; the run had finished', { signal });
      else log.info('stopping; the round in flight will be re-run on restart', { signal });
      stopping = started.stop().then(() => (runOver ? 0 : SIGNAL_EXIT_CODES[signal]));
      void stopping.then((code) => process.exit(code));
    });
  }
  const summary = await started.finished;
  runOver = !stopping;
  // A stop ends `finished` too, but the run is not over: no "run finished", and the signal's exit status.
  if (stopping) return stopping;
  log.info('run finished', { rounds: summary.roundsCompleted, accuracy: summary.lastEvaluation.accuracy, outDir: config.outDir });
  if (config.lingerMs > 0) {
    log.info('the dashboard stays up; Ctrl-C to stop', { url: started.url, seconds: config.lingerMs / 1000 });
    await new Promise((resolve) => setTimeout(resolve, config.lingerMs));
  }
  await started.stop();
  return 0;
}
