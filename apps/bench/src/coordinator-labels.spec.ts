import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
// The coordinator's own declarations and checks: what its child process will make of the arguments the bench
// passes (the bench otherwise only spawns it).
import { COORDINATOR_COMMAND } from '@fedtl/coordinator';
import { parseCommandLine } from '@fedtl/util/options';
import { useTestSandbox } from '@fedtl/util/testing';
import { coordinatorLabelArgs, LABELS_CONFIG_FILE } from './coordinator-labels';
import { DOMAINS_DEFAULTS } from './domains/domains-config';
import { federationCoordinatorArgs } from './domains/federation-run';
import { coordinatorProcessArgs } from './load/coordinator-process';
import { sampleFederationOptions } from './testing/federation-options';
import { coordinatorArgs, type SimulationSpec } from './simulate/simulation-run';

const LABELS = ['good, not great', 'bad', 'so-so: "meh"', 'très bien'];

/** The labels `fedtl coordinator ARGS…` would run with, after its cross-option checks. */
async function coordinatorLabels(args: readonly string[]): Promise<string[]> {
  const loaded = parseCommandLine(COORDINATOR_COMMAND.options, args, {}, (path) => readFileSync(path, 'utf8'));
  await COORDINATOR_COMMAND.validate?.(loaded);
  return loaded.values.labels;
}

describe('coordinatorLabelArgs', () => {
  const sandbox = useTestSandbox();

  it('writes the labels as a JSON list into the folder and points --config at it', async () => {
    const args = await coordinatorLabelArgs(sandbox.dir, LABELS);
    expect(args).toEqual(['--config', join(sandbox.dir, LABELS_CONFIG_FILE)]);
    expect(JSON.parse(await readFile(args[1], 'utf8'))).toEqual({ labels: LABELS });
  });

  it('brings labels with commas to the coordinator intact, where --labels A,B would split them', async () => {
    expect(await coordinatorLabels(await coordinatorLabelArgs(sandbox.dir, LABELS))).toEqual(LABELS);
    expect(await coordinatorLabels(['--labels', LABELS.join(',')])).not.toEqual(LABELS);
  });

  it("is how every bench suite that starts a coordinator with the data's labels passes them", async () => {
    // coordinatorArgs reads the spec's settings, not its rows.
    const simulation = { backboneSpec: 'use-lite', labels: LABELS, rounds: 2, seed: 1, clientsPerRound: 2, connectBatch: 1, model: DOMAINS_DEFAULTS.model, training: DOMAINS_DEFAULTS.training } as unknown as SimulationSpec;
    expect(await coordinatorLabels(await coordinatorArgs(simulation, 4, sandbox.dir))).toEqual(LABELS);
    expect(await coordinatorLabels(await coordinatorProcessArgs({ outDir: sandbox.dir, clients: 3, rounds: 1, dim: 8, adapterWidth: 4, labels: LABELS }))).toEqual(LABELS);
    const federation = await federationCoordinatorArgs(sampleFederationOptions(sandbox.dir, { labels: LABELS }));
    expect(await coordinatorLabels(federation)).toEqual(LABELS);
  });
});
