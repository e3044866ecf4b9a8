// `fedtl coordinator`: its declared options and how to run it (the heavy modules load only when it runs).
import type { CommandSpec } from '@fedtl/util/options';
import { COORDINATOR_OPTIONS } from './coordinator-options';

export const COORDINATOR_COMMAND: CommandSpec<typeof COORDINATOR_OPTIONS> = {
  name: 'coordinator',
  summary: 'run a federation: wait for clients, run rounds, aggregate, checkpoint, serve the dashboard',
  epilogue: `
Examples:
  fedtl coordinator --min-clients 2 --rounds 5 --out-dir out/run1
  FEDTL_TOKEN_FILE=/run/secrets/token fedtl coordinator --host 0.0.0.0 --config coordinator.yaml

Exit status: 0 the run finished; 1 it failed (its verdict says why; clients are told); 2 a bad configuration;
130/143 stopped by SIGINT/SIGTERM (a restart resumes from the last checkpoint).`,
  options: COORDINATOR_OPTIONS,
  async validate(options) {
    const { coordinatorConfigFrom } = await import('./config');
    coordinatorConfigFrom(options);
  },
  async run(options) {
    const [{ coordinatorConfigFrom }, { runCoordinatorProcess }] = await Promise.all([import('./config'), import('./coordinator-process')]);
    return runCoordinatorProcess(coordinatorConfigFrom(options));
  },
};
