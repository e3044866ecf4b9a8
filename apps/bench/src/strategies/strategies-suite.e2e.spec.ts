// End to end on three tiny fixture domains, every process real: the attacking client (the real client with
// --sign-flip-scale) sends exactly −S × the update the same client sends honestly, and the suite runs its rows
// over seeds and writes the reports.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backboneRefFor } from '@fedtl/model';
import { decodeUpdate } from '@fedtl/protocol';
import { useTestSandbox } from '@fedtl/util/testing';
import { readDomains, textsToEmbed, withBudget } from '../domains/domain-data';
import { DOMAINS_DEFAULTS } from '../domains/domains-config';
import { embedOnce } from '../domains/feature-store';
import { runFederation, type FederationClient } from '../domains/federation-run';
import { FIXTURE_ITEMS, THIRD_FIXTURE_DOMAIN, writeFixtureDomains } from '../testing/fixture-domains';
import { runStrategiesSuite } from './strategies-suite';
import type { StrategiesReport } from './strategies-report';
import { commandLine } from '../testing/command-line';
import { STRATEGIES_OPTIONS } from './strategies-options';

const DOMAINS = { ...FIXTURE_ITEMS, ...THIRD_FIXTURE_DOMAIN };

describe('bench strategies', () => {
  const sandbox = useTestSandbox();

  it('the attacker’s first-round update is −S × the one the same client sends honestly', async () => {
    await writeFixtureDomains(sandbox.dir, 12, 6, DOMAINS);
    const cacheDir = join(sandbox.dir, 'cache');
    // As the suite does: every text embedded once, up front, so no client process writes the shared cache.
    const domains = await readDomains({ dataDir: sandbox.dir, domains: [], seed: 3 });
    await embedOnce(textsToEmbed(withBudget(domains, 100, 3)), await backboneRefFor('use-lite'), 'use-lite', cacheDir, 1);
    const clients: FederationClient[] = Object.keys(DOMAINS).map((id) => ({ id, trainFile: join(sandbox.dir, `${id}.train.jsonl`), testFile: join(sandbox.dir, `${id}.test.jsonl`) }));
    const settings = {
      labels: ['negative', 'positive'], rounds: 1, seed: 3, backbone: 'use-lite', backend: 'cpu', cacheDir,
      model: { ...DOMAINS_DEFAULTS.model, adapterWidth: 8 }, training: { ...DOMAINS_DEFAULTS.training, batchSize: 4 },
      strategy: { name: 'fedavg' as const }, personalizeEpochs: 0, audit: true, secureAggregation: false,
    };
    const honest = await runFederation({ ...settings, runDir: join(sandbox.dir, 'honest'), clients });
    const attacked = await runFederation({ ...settings, runDir: join(sandbox.dir, 'attacked'), clients: clients.map((c) => (c.id === 'books' ? { ...c, signFlipScale: 10 } : c)) });
    const updateOf = async (auditDir: string, clientId: string) => decodeUpdate(await readFile(join(auditDir, 'round-000001', `${clientId}.update.pb`)));
    for (const clientId of Object.keys(DOMAINS)) {
      const sent = await updateOf(attacked.auditDir, clientId);
      const trained = await updateOf(honest.auditDir, clientId);
      const factor = clientId === 'books' ? -10 : 1;
      expect(sent.numExamples).toBe(trained.numExamples);
      expect(sent.delta.map((t) => t.name)).toEqual(trained.delta.map((t) => t.name));
      let largest = 0;
      for (const [i, tensor] of sent.delta.entries()) {
        for (const [j, value] of tensor.data.entries()) {
          const expected = factor * trained.delta[i].data[j];
          largest = Math.max(largest, Math.abs(expected));
          // Same seed, same data, same initial weights: the honest delta is reproduced to float32 rounding.
          expect(Math.abs(value - expected)).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(expected));
        }
      }
      expect(largest).toBeGreaterThan(0);
    }
  }, 240_000);

  it('runs each row once per seed and writes report.json and report.md with the spread and the targets', async () => {
    await writeFixtureDomains(sandbox.dir, 12, 6, DOMAINS);
    const out = join(sandbox.dir, 'out');
    const code = await runStrategiesSuite(commandLine(STRATEGIES_OPTIONS, [
      '--data-dir', sandbox.dir, '--out', out, '--cache-dir', join(sandbox.dir, 'cache'), '--labels-per-client', '8', '--rounds', '2',
      '--seeds', '1,2', '--strategies', 'fedavg,median', '--attacked', 'fedavg,median', '--attacker', 'kitchen',
      '--adapter-width', '8', '--batch-size', '4', '--embed-threads', '1', '--log-level', 'warn',
    ]));
    expect(code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as StrategiesReport;
    expect(report).toMatchObject({ suite: 'strategies', domains: ['books', 'electronics', 'kitchen'], labelsPerClient: 8, rounds: 2, seeds: [1, 2], evaluatedOn: 'test' });
    expect(report.attack).toEqual({ kind: 'scaled sign flip', client: 'kitchen', scale: 10 });
    expect(report.rows.map((r) => [r.strategy, r.attacked])).toEqual([['fedavg', false], ['median', false], ['fedavg', true], ['median', true]]);
    for (const row of report.rows) {
      expect(row.runs.map((r) => r.seed)).toEqual([1, 2]);
      expect(row.mean.n).toBe(2);
      expect(row.bytesUp).toBeGreaterThan(0);
      expect(Object.keys(row.perDomain)).toEqual(report.domains);
    }
    expect(report.targets.map((t) => t.strategy)).toEqual(['median', 'median', 'fedavg']);
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('| median | kitchen (−10×) |');
    expect(markdown).toContain('mean ± std');
    expect(markdown).toContain('Command: `fedtl bench strategies --labels-per-client 8 --seeds 1,2 --strategies fedavg,median --attacked fedavg,median --attacker kitchen --data-dir');
  }, 600_000);
});
