// The wire suite end to end with tiny sizes: real Socket.IO and TCP on 127.0.0.1, its report written and read
// back with every figure of the issue present and positive.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWire } from './wire-suite';
import type { WireReport } from './wire-report';

describe('wire benchmark', () => {
  let out: string;
  beforeAll(() => (out = mkdtempSync(join(tmpdir(), 'fedtl-wire-e2e-'))));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('sends updates of 1000 and 5000 floats three ways and reports MB/s, ratios and the passes', async () => {
    await runWire({ out, floats: [5000, 1000], repetitions: 1, seed: 3 }, 'fedtl bench wire (test)');

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as WireReport;
    expect(report.rows.map((row) => row.floats)).toEqual([1000, 5000]);
    for (const row of report.rows) {
      for (const field of ['fedtlMBps', 'jsonMBps', 'rawMBps', 'ratioJson', 'ratioRaw', 'copyMBps', 'encodeMBps', 'decodeMBps'] as const) {
        expect(row[field]).toBeGreaterThan(0);
      }
      expect(row.decodeZeroCopy).toBe(true);
    }
    expect(report.webSocket).toEqual({ serverPerMessageDeflate: false, clientExtensions: '' });
    expect(report.masking.client.native && report.masking.server.native).toBe(true);
    // No size reached the targets' 1e6: nothing was checked, so they are neither met nor missed.
    expect(report.targets).toMatchObject({ met: null, misses: [] });
    const markdown = readFileSync(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('| 5000 |');
    expect(markdown).toContain('not checked: no size of at least 1000000 floats was measured.');
  }, 60_000);
});
