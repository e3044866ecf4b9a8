import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { sampleFederationOptions } from '../testing/federation-options';
import { dpFlags, runFederation } from './federation-run';

describe('runFederation', () => {
  const sandbox = useTestSandbox();

  it('refuses an audit under secure aggregation before it touches the run folder or starts a process', async () => {
    const runDir = join(sandbox.dir, 'run');
    await mkdir(runDir);
    await writeFile(join(runDir, 'keep'), 'x');
    await expect(
      runFederation(sampleFederationOptions(runDir, { clients: [], audit: true, secureAggregation: true })),
    ).rejects.toThrow(/secure aggregation/);
    expect(existsSync(join(runDir, 'keep'))).toBe(true);
  });
});

describe('dpFlags', () => {
  it('maps each unit of privacy and the budget to the coordinator’s --dp-* flags', () => {
    expect(dpFlags({ record: { clipNorm: 1, noiseMultiplier: 0.75 }, budget: { epsilon: 4, delta: 1e-5 } })).toEqual([
      '--dp-record-clip-norm', '1', '--dp-record-noise-multiplier', '0.75', '--dp-epsilon', '4', '--dp-delta', '0.00001',
    ]);
    expect(dpFlags({ client: { clipNorm: 0.5, noiseMultiplier: 2, samplingRate: 0.1 } })).toEqual([
      '--dp-update-clip-norm', '0.5', '--dp-update-noise-multiplier', '2', '--dp-client-sampling-rate', '0.1',
    ]);
    expect(dpFlags({})).toEqual([]);
  });
});
