import { fakeTerminal } from '@fedtl/util/testing';
import { trainingProgress } from './training-progress';

describe('trainingProgress', () => {
  it('shows the round, the steps and the epoch they fall in, and ends its line at stop()', () => {
    const stream = fakeTerminal();
    const progress = trainingProgress(3, 2, { stream, level: 'info' });
    progress.onProgress(1, 6);
    progress.onProgress(4, 6);
    progress.stop();
    const text = stream.text();
    expect(text).toMatch(/round 3 \[[=-]+\] 66% \| 4\/6 steps \| ETA \S+ \| epoch 2\/2/);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('draws nothing when stderr is not a terminal', () => {
    const stream = Object.assign(fakeTerminal(), { isTTY: false });
    const progress = trainingProgress(1, 1, { stream, level: 'info' });
    progress.onProgress(1, 1);
    progress.stop();
    expect(stream.text()).toBe('');
  });
});
