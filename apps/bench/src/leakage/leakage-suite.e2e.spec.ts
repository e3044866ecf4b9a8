// End to end on two tiny fixture review domains: real use-lite features, the client's own training, every
// attack and protection in --quick mode, and the report files; the DP rows (--settings dp) in their own files.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestSandbox } from '@fedtl/util/testing';
import { writeFixtureDomains } from '../testing/fixture-domains';
import type { LeakageReport } from './leakage-report';
import { runLeakageSuite } from './leakage-suite';
import { commandLine } from '../testing/command-line';
import { LEAKAGE_OPTIONS } from './leakage-options';

describe('bench leakage', () => {
  const sandbox = useTestSandbox();

  it('writes report.json and report.md with every row; the one-example SGD update leaks, the masked vector does not', async () => {
    await writeFixtureDomains(sandbox.dir, 12, 30);
    const out = join(sandbox.dir, 'out');
    const tensorsBefore = tf.memory().numTensors;
    const code = await runLeakageSuite(commandLine(LEAKAGE_OPTIONS, ['--quick', '--datasets', 'amazon', '--data-dir', sandbox.dir, '--out', out, '--cache-dir', join(sandbox.dir, 'cache'), '--embed-threads', '1', '--log-level', 'warn']));
    expect(code).toBe(0);
    // Every tensor the client's training and the attacks made is gone (the backbone ran in worker threads).
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as LeakageReport;
    expect(report).toMatchObject({ suite: 'leakage', seed: 42, trials: 3, quick: true });
    expect(report.datasets.map((d) => d.name)).toEqual(['amazon']);
    expect(report.settings.map((s) => s.setting)).toEqual(['default-1', 'default-4', 'malicious', 'secagg-masked', 'secagg-sum-3', 'policy', 'trap-sgd-4', 'trap-default-4', 'trap-secagg-sum-3']);
    const row = (id: string) => {
      const setting = report.settings.find((s) => s.setting === id);
      if (!setting) throw new Error(`no row ${id}`);
      return Object.fromEntries(setting.attacks.map((a) => [a.attack, a]));
    };
    for (const setting of report.settings) {
      const trap = setting.setting.startsWith('trap-') ? ['imprint'] : [];
      expect(setting.attacks.map((a) => a.attack)).toEqual(['analytic', 'matching', 'sign', ...trap]);
    }
    expect(row('malicious').analytic.cosine?.mean).toBeGreaterThan(0.99);
    expect(row('malicious').analytic.top1.mean).toBe(1);
    const masked = row('secagg-masked');
    for (const attack of ['analytic', 'sign']) {
      expect(Math.abs(masked[attack].cosine?.mean ?? 1)).toBeLessThan(0.5);
      expect(masked[attack].top1.mean).toBeLessThanOrEqual(1 / 3);
    }
    const policy = report.settings.find((s) => s.setting === 'policy');
    expect(policy?.refused).toMatch(/^refused by the client's policy, nothing received: expected a round under secure aggregation/);
    expect(row('policy').analytic.cosine).toBeNull();
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('| setting | what the coordinator receives | attack | cosine | top-1 | chance |');
    expect(markdown).toContain('| malicious plan (sgd lr 0.01, 1 epoch, batch 1), 1 example |');
  }, 120_000);

  it('--settings dp writes dp-report.json and .md with the DP rows only: clipped alone leaks, clipped and noised does not', async () => {
    await writeFixtureDomains(sandbox.dir, 12, 30);
    const out = join(sandbox.dir, 'out-dp');
    const tensorsBefore = tf.memory().numTensors;
    const code = await runLeakageSuite(commandLine(LEAKAGE_OPTIONS, ['--quick', '--settings', 'dp', '--datasets', 'amazon', '--data-dir', sandbox.dir, '--out', out, '--cache-dir', join(sandbox.dir, 'cache'), '--embed-threads', '1', '--log-level', 'warn']));
    expect(code).toBe(0);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
    const report = JSON.parse(await readFile(join(out, 'dp-report.json'), 'utf8')) as LeakageReport;
    expect(report).toMatchObject({ suite: 'leakage', group: 'dp', trials: 3, quick: true });
    const eps = (prefix: string) => [8, 4, 2].map((e) => `${prefix}-eps${e}`);
    expect(report.settings.map((s) => s.setting)).toEqual([...eps('dpsgd-malicious'), ...eps('dpsgd-default-1'), ...eps('dpsgd-default-4'), 'dpfedavg-clip-only', ...eps('dpfedavg-malicious')]);
    for (const setting of report.settings) {
      expect(setting.attacks.map((a) => [a.attack, a.notApplicable])).toEqual([['analytic', undefined], ['matching', undefined], ['sign', undefined]]);
      expect(setting.dp?.delta).toBe(1e-5);
    }
    const analytic = (id: string) => report.settings.find((s) => s.setting === id)?.attacks[0];
    expect(analytic('dpfedavg-clip-only')?.top1.mean).toBe(1);
    for (const id of ['dpsgd-malicious-eps8', 'dpfedavg-malicious-eps8']) {
      expect(Math.abs(analytic(id)?.cosine?.mean ?? 1)).toBeLessThan(0.3);
      expect(analytic(id)?.top1.mean).toBeLessThanOrEqual(1 / 3);
    }
    const markdown = await readFile(join(out, 'dp-report.md'), 'utf8');
    expect(markdown).toContain('# Leakage audit with differential privacy on');
    expect(markdown).toContain('| DP-SGD (ε = 2 for this one round, δ = 1e-5; C = 1, σ = ');
  }, 120_000);

  it('names the missing data folder', async () => {
    await expect(runLeakageSuite(commandLine(LEAKAGE_OPTIONS, ['--datasets', 'amazon', '--data-dir', join(sandbox.dir, 'nowhere'), '--out', join(sandbox.dir, 'out2')]))).rejects.toThrow(/^--data-dir: expected an existing folder, got ".*nowhere"$/);
  });
});
