import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { DOMAINS_DEFAULTS } from './domains-config';
import { runFederation } from './federation-run';

describe('runFederation', () => {
  const sandbox = useTestSandbox();

  it('refuses an audit under secure aggregation before it touches the run folder or starts a process', async () => {
    const runDir = join(sandbox.dir, 'run');
    await mkdir(runDir);
    await writeFile(join(runDir, 'keep'), 'x');
    await expect(
      runFederation({
        runDir,
        clients: [],
        labels: ['negative', 'positive'],
        rounds: 1,
        seed: 7,
        backbone: 'use-lite',
        backend: 'cpu',
        cacheDir: join(sandbox.dir, 'cache'),
        model: DOMAINS_DEFAULTS.model,
        training: DOMAINS_DEFAULTS.training,
        strategy: { name: 'fedavg' },
        personalizeEpochs: 0,
        audit: true,
        secureAggregation: true,
      }),
    ).rejects.toThrow(/secure aggregation/);
    expect(existsSync(join(runDir, 'keep'))).toBe(true);
  });
});
