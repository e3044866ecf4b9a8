import { compareCompressions, compressionLines, targetOf, type CompressionRun } from './compression-comparison';
import type { RoundRecord } from './federation-run';

/** Two rounds of a run whose clients a and b end at the given accuracies, with these bytes up per round. */
function run(compression: string, final: [number, number], bytesUp: number, updateBytesUp: number): CompressionRun {
  const record = (round: number, accuracies: [number, number]): RoundRecord => ({
    round,
    status: 'aggregated',
    clients: { a: { accuracy: accuracies[0] }, b: { accuracy: accuracies[1] } },
    bytesUp,
    bytesDown: 1000,
    updateBytesUp,
    seconds: 1,
  });
  return { compression, records: [record(1, [0.5, 0.5]), record(2, final)], seconds: 3 };
}

describe('the compression comparison', () => {
  const load = { before: [1, 2, 3], after: [4, 5, 6] };

  it('measures each row against float32 and checks it against the issue\'s target', () => {
    const comparison = compareCompressions(
      [run('topk:0.01', [0.78, 0.7], 1_000, 900), run('float32', [0.8, 0.7], 100_000, 99_900), run('float16', [0.8, 0.69], 50_100, 50_000), run('int8', [0.79, 0.7], 25_100, 25_000)],
      ['a', 'b'],
      load,
    );
    expect(comparison.rows.map((row) => row.compression)).toEqual(['float32', 'topk:0.01', 'float16', 'int8']);
    const [float32, topk, float16, int8] = comparison.rows;
    expect(float32).toMatchObject({ mean: 0.75, deltaVsFloat32: 0, bytesUpReduction: 1 });
    expect(float32.target).toBeUndefined();
    expect(topk.bytesUpReduction).toBe(100);
    expect(topk.updateBytesReduction).toBe(111);
    expect(topk.deltaVsFloat32).toBeCloseTo(-0.01, 12);
    // Exactly one point below: the top-k bound, still met.
    expect(topk.target).toEqual({ bytesReduction: 8, maxAccuracyDrop: 0.01, met: true });
    // Half a point below, but the bytes shrink by a hair under 2: not met.
    expect(float16.deltaVsFloat32).toBeCloseTo(-0.005, 12);
    expect(float16.target?.met).toBe(false);
    expect(int8.target?.met).toBe(false);
    expect(comparison.loadAverage).toEqual(load);
    const table = compressionLines(comparison, ['a', 'b']).join('\n');
    expect(table).toContain('| topk:0.01 | 78.0 | 70.0 | **74.0** | −1.00 | 1.0 KiB | /100.0 | 0.9 KiB | /111.0 | ≥ /8, ≥ −1.0 | yes | 3.0 |');
    expect(table).toContain('| float16 | 80.0 | 69.0 | **74.5** | −0.50 | 48.9 KiB | /1.996 |');
    expect(table).toContain('Load average (1, 5, 15 min) of the shared machine: 1.00, 2.00, 3.00 before');
  });

  it('needs a float32 run, and has targets for the three compressions only', () => {
    expect(() => compareCompressions([run('int8', [1, 1], 1, 1)], ['a', 'b'], load)).toThrow('a compression comparison needs a float32 run, got int8');
    expect(targetOf('float32')).toBeUndefined();
    expect(targetOf('topk:0.3')).toEqual({ bytesReduction: 8, maxAccuracyDrop: 0.01 });
    expect(targetOf('int8')).toEqual({ bytesReduction: 4, maxAccuracyDrop: 0.005 });
  });
});
