// End to end on two tiny fixture domains: the real coordinator and client processes, use-lite features, every
// method (fedavg-secagg compared with fedavg round by round), and the report files.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { writeFixtureDomains } from '../testing/fixture-domains';
import { isWellFormedXml } from '../testing/xml';
import { METHOD_NAMES } from './domains-config';
import { runDomainsSuite } from './domains-suite';
import type { RoundRecord } from './federation-run';
import type { DomainsReport } from './report';
import { commandLine } from '../testing/command-line';
import { DOMAINS_OPTIONS } from './domains-options';

async function metricsOf(runDir: string): Promise<RoundRecord[]> {
  const lines = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean);
  return lines.map((line) => JSON.parse(line) as RoundRecord).filter((record) => record.status === 'aggregated');
}

describe('bench domains', () => {
  const sandbox = useTestSandbox();

  it('runs every method and writes report.json in the issue’s shape, report.md and accuracy.svg', async () => {
    await writeFixtureDomains(sandbox.dir);
    const out = join(sandbox.dir, 'out');
    const code = await runDomainsSuite(commandLine(DOMAINS_OPTIONS, [
      '--data-dir', sandbox.dir, '--out', out, '--cache-dir', join(sandbox.dir, 'cache'), '--labels-per-client', '8', '--rounds', '2',
      '--adapter-width', '8', '--batch-size', '4', '--local-epochs', '1', '--personalize-epochs', '1', '--embed-threads', '1', '--log-level', 'warn',
    ]));
    expect(code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as DomainsReport;
    expect(report).toMatchObject({ suite: 'domains', domains: ['books', 'kitchen'], labelsPerClient: 8, rounds: 2, seed: 7, evaluatedOn: 'test' });
    expect(report.backbone.id).toBe('use-lite');
    expect(report.backbone.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(report.methods)).toEqual(METHOD_NAMES);
    for (const method of METHOD_NAMES) {
      const result = report.methods[method];
      if (!result) throw new Error(`no ${method}`);
      expect(Object.keys(result.perDomain)).toEqual(['books', 'kitchen']);
      for (const accuracy of [result.mean, ...Object.values(result.perDomain)]) expect(accuracy).toBeGreaterThanOrEqual(0);
      expect(result.curve.length).toBe(method === 'local' || method === 'centralized' ? 1 : 2);
      expect(result.seconds).toBeGreaterThan(0);
    }
    expect(report.methods.fedavg?.bytesUp).toBeGreaterThan(0);
    expect(report.methods.fedavg?.bytesDown).toBeGreaterThan(report.methods.fedavg?.bytesUp ?? 0);
    expect(report.methods.local?.bytesUp).toBe(0);
    expect(Array.isArray(report.negativeTransfer)).toBe(true);
    // A fresh cache: the bench embedded every text itself, before any client started.
    expect(report.embedding.computed).toBe(report.embedding.texts);
    expect(existsSync(join(out, 'runs', 'leave-out-books', 'audit'))).toBe(false);
    // The server-optimiser rows ran their own coordinator strategy: its state is in their checkpoints only.
    const checkpointOf = (run: string) => readFile(join(out, 'runs', run, 'checkpoints', 'round-000002.ckpt'));
    expect((await checkpointOf('fedavgm')).includes('state:momentum')).toBe(true);
    expect((await checkpointOf('fedadam')).includes('state:secondMoment')).toBe(true);
    expect((await checkpointOf('fedavg')).includes('state:')).toBe(false);
    // fedavg-secagg is fedavg under secure aggregation (every client required it, so no round ran in the clear):
    // the same accuracy of every domain after every round, to one test example at most.
    const secagg = report.secureAggregation;
    if (!secagg) throw new Error('no fedavg-secagg comparison');
    expect(secagg).toMatchObject({ comparedWith: 'fedavg', rounds: 2, domains: 2 });
    expect(secagg.maxDifferenceInExamples).toBeLessThanOrEqual(1);
    // One round's sum agrees to the fixed-point step (~1e-7); later local training can widen it (5e-4 after 20 rounds on the reviews).
    expect(secagg.maxWeightDifference).toBeLessThan(1e-3);
    const plainRecords = await metricsOf(join(out, 'runs', 'fedavg'));
    const secureRecords = await metricsOf(join(out, 'runs', 'fedavg-secagg'));
    expect(secureRecords.map((r) => r.round)).toEqual([1, 2]);
    for (const [i, record] of secureRecords.entries()) {
      for (const domain of report.domains) {
        const difference = Math.abs(record.clients[domain].accuracy - plainRecords[i].clients[domain].accuracy);
        expect(difference).toBeLessThanOrEqual(1 / report.evaluationExamples[domain] + 1e-9);
      }
    }
    // Keys and shares ride on top of an update of the plain run's size.
    expect(secagg.secure.bytesUp).toBeGreaterThan(secagg.plain.bytesUp);
    expect(secagg.secure.secondsPerRound).toBeGreaterThan(0);
    expect(existsSync(join(out, 'runs', 'fedavg-secagg', 'audit'))).toBe(false);
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('| leave-one-out |');
    expect(markdown).toContain('- fedavgm: FedAvg with server momentum');
    expect(markdown).toContain('| fedavg-secagg |');
    expect(markdown).toContain('Largest |accuracy difference| from fedavg over 2 rounds × 2 domains');
    expect(isWellFormedXml(await readFile(join(out, 'accuracy.svg'), 'utf8'))).toBe(true);
  });
});
