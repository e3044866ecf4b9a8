import { parseLeakageArgs, type LeakageOptions } from './leakage-config';

describe('bench leakage flags', () => {
  it('--settings: issue 8\'s rows by default, the DP rows on request, and names a group it does not know', () => {
    expect((parseLeakageArgs([]) as LeakageOptions).settings).toEqual(['base']);
    expect((parseLeakageArgs(['--settings', 'dp']) as LeakageOptions)).toMatchObject({ settings: ['dp'], dpSizes: [1, 50] });
    expect((parseLeakageArgs(['--settings', 'dp,base', '--quick']) as LeakageOptions)).toMatchObject({ settings: ['base', 'dp'], dpSizes: [1, 4] });
    expect(() => parseLeakageArgs(['--settings', 'noise'])).toThrow(/--settings.*base,dp.*noise/);
  });
});
