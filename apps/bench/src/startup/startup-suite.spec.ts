import { renderStartupReport, type StartupReport } from './startup-suite';

describe('the start-up report', () => {
  it('states the machine, every row and the ratio of medians per command', () => {
    const report: StartupReport = {
      machine: { cpuModel: 'Test CPU', cores: 2, memoryGiB: 4, platform: 'linux x64', node: 'v20.0.0' },
      rows: [
        { command: 'coordinator', variant: 'bundle', runs: 3, medianMs: 400, minMs: 300, maxMs: 500 },
        { command: 'coordinator', variant: 'sources', runs: 3, medianMs: 1000, minMs: 900, maxMs: 1100 },
      ],
      speedup: { coordinator: 2.5 },
    };
    const markdown = renderStartupReport(report, 'fedtl bench startup --runs 3');
    expect(markdown).toContain('Machine: Test CPU, 2 cores, 4 GiB RAM, linux x64, Node v20.0.0. Command: `fedtl bench startup --runs 3`.');
    expect(markdown).toContain('| coordinator | node bin/fedtl.js (dist/fedtl, built by esbuild) | 400 | 300 | 500 | 3 |');
    expect(markdown).toContain('the bundle starts 2.5× faster than the sources under tsx');
  });
});
