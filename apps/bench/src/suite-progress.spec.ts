import { fakeTerminal } from '@fedtl/util/testing';
import { SuiteProgress } from './suite-progress';

describe('SuiteProgress', () => {
  it('shows the unit running and counts the finished ones, ending its line after the last', () => {
    const stream = fakeTerminal();
    const progress = new SuiteProgress('strategies', 2, 'runs', { stream, level: 'info' });
    expect(stream.text()).toContain('strategies [');
    progress.begin('seed 1 fedavg');
    progress.end();
    progress.begin('seed 1 fedprox');
    const beforeLast = stream.text().length;
    progress.end();
    const text = stream.text();
    expect(text).toMatch(/ 0\/2 runs /);
    expect(text.slice(beforeLast)).toMatch(/ 100% \| 2\/2 runs \| ETA \S+\n$/);
  });

  it('stays quiet in a log', () => {
    const stream = Object.assign(fakeTerminal(), { isTTY: false });
    const progress = new SuiteProgress('privacy', 1, 'runs', { stream, level: 'info' });
    progress.begin('overhead');
    progress.end();
    expect(stream.text()).toBe('');
  });
});
