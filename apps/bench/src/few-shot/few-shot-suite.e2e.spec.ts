// End to end on two tiny fixture domains: each is the new one in turn while the other federates (real
// coordinator and client processes, fedavg and per-fedavg), then it adapts from k examples from each init.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { writeFixtureDomains } from '../testing/fixture-domains';
import type { FewShotReport } from './few-shot-report';
import { runFewShotSuite } from './few-shot-suite';
import { commandLine } from '../testing/command-line';
import { FEW_SHOT_OPTIONS } from './few-shot-options';

describe('bench few-shot', () => {
  const sandbox = useTestSandbox();

  it('federates without the new domain twice, adapts it from every init and writes the report', async () => {
    await writeFixtureDomains(sandbox.dir);
    const out = join(sandbox.dir, 'out');
    const code = await runFewShotSuite(commandLine(FEW_SHOT_OPTIONS, [
      '--data-dir', sandbox.dir, '--out', out, '--cache-dir', join(sandbox.dir, 'cache'), '--seeds', '1', '--shots', '4',
      '--labels-per-client', '8', '--rounds', '2', '--steps', '2', '--embed-threads', '1', '--log-level', 'warn',
    ]));
    expect(code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as FewShotReport;
    expect(report).toMatchObject({ suite: 'few-shot', domains: ['books', 'kitchen'], seeds: [1], shots: [4], evaluatedOn: 'test', steps: 2 });
    expect(report.federations.map((f) => `${f.newDomain}/${f.strategy}`)).toEqual(['books/fedavg', 'books/per-fedavg', 'kitchen/fedavg', 'kitchen/per-fedavg']);
    for (const federation of report.federations) expect(federation.bytesUp).toBeGreaterThan(0);
    expect(report.cells.map((c) => `${c.init}@${c.shots}`)).toEqual(['per-fedavg@0', 'per-fedavg@4', 'fedavg@0', 'fedavg@4', 'scratch@0', 'scratch@4']);
    expect(report.records).toHaveLength(2 * 3 * 2);
    for (const record of report.records) expect(record.accuracy).toBeGreaterThanOrEqual(0);
    // Two different federations per new domain: the meta-learned and the FedAvg weights are not the same model, and
    // each start is the one its records say (the meta-learned one is not the fresh initialisation either).
    for (const domain of report.domains) {
      const federated = (strategy: string) => report.federations.find((f) => f.newDomain === domain && f.strategy === strategy)?.weightsSha256;
      const starts = (init: string) => [...new Set(report.records.filter((r) => r.domain === domain && r.init === init).map((r) => r.startSha256))];
      expect(federated('fedavg')).toMatch(/^[0-9a-f]{64}$/);
      expect(federated('per-fedavg')).not.toBe(federated('fedavg'));
      expect(starts('per-fedavg')).toEqual([federated('per-fedavg')]);
      expect(starts('fedavg')).toEqual([federated('fedavg')]);
      expect(starts('scratch')).toHaveLength(1);
      expect([federated('fedavg'), federated('per-fedavg')]).not.toContain(starts('scratch')[0]);
    }
    const unadapted = (init: string) => report.records.filter((r) => r.init === init && r.shots === 0).map((r) => r.macroF1);
    expect(unadapted('per-fedavg')).not.toEqual(unadapted('scratch'));
    expect(report.comparisons.map((c) => `${c.a}-${c.b}@${c.shots}`)).toEqual(['per-fedavg-fedavg@4', 'fedavg-scratch@4', 'per-fedavg-scratch@4']);
    expect(await readFile(join(out, 'report.md'), 'utf8')).toContain('| (a) meta-learned (Per-FedAvg) |');
    expect(existsSync(join(out, 'runs'))).toBe(false);
  }, 300_000);
});
