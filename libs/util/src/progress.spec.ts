import { createProgress } from './progress';
import { fakeTerminal } from './testing/fake-terminal';

/** A terminal (or not) that records what is written (into `chunks`: share them to see two streams interleave). */
function fakeStream(isTTY: boolean, chunks: string[] = []) {
  return fakeTerminal({ isTTY, columns: 120, chunks });
}

describe('createProgress', () => {
  it('writes nothing when the stream is not a terminal', () => {
    const stream = fakeStream(false);
    const progress = createProgress({ label: 'embedding', unit: 'texts', rate: true, stream, level: 'info' });
    progress.update(0, 10);
    progress.update(10, 10);
    progress.stop();
    expect(stream.text()).toBe('');
  });

  it('writes nothing on a terminal when the log level is above info', () => {
    const stream = fakeStream(true);
    const progress = createProgress({ label: 'embedding', unit: 'texts', stream, level: 'warn' });
    progress.update(3, 10);
    progress.stop();
    expect(stream.text()).toBe('');
  });

  it('draws a bar with the rate and the ETA on a terminal, and stop() ends its line', () => {
    const stream = fakeStream(true);
    const progress = createProgress({ label: 'embedding', unit: 'texts', rate: true, stream, level: 'info' });
    progress.update(0, 10);
    progress.update(4, 10, 'worker pool');
    progress.stop();
    progress.update(9, 10);
    const lines = stream.text().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    // Each redraw moves to column 1 (CSI 1G) and writes the whole line.
    const last = lines[0].split('\x1b[1G').pop() ?? '';
    expect(last).toMatch(/^embedding \[={8}-{12}\] 40% \| 4\/10 texts \| \d+\.\d texts\/s \| ETA \S+ \| worker pool/);
    expect(stream.text()).not.toContain('\x1b7');
  });

  it('clears the bar before another write to its stream or to a stream on the same terminal, and hands both back at stop()', () => {
    const terminal: string[] = [];
    const stream = fakeStream(true, terminal);
    const stdout = fakeStream(true, terminal);
    const [write, stdoutWrite] = [stream.write, stdout.write];
    const progress = createProgress({ label: 'training', unit: 'steps', stream, sharedTerminal: [stdout], level: 'debug' });
    progress.update(1, 4);
    stdout.write('a table\n');
    stream.write('a log line\n');
    progress.stop();
    expect(stream.write).toBe(write);
    expect(stdout.write).toBe(stdoutWrite);
    const text = terminal.join('');
    expect(text).toContain('training [');
    // Cleared once, before the first write: the bar was not redrawn before the second.
    expect(text).toContain('\r\x1b[2Ka table\na log line\n');
    expect(text.indexOf('\r\x1b[2Ka table')).toBeGreaterThan(text.indexOf('training ['));
  });

  it('stops by itself when the work reaches its total', () => {
    const stream = fakeStream(true);
    const write = stream.write;
    const progress = createProgress({ label: 'suite', unit: 'runs', stream, level: 'info' });
    progress.update(0, 2, 'seed 1');
    progress.update(2, 2);
    expect(stream.write).toBe(write);
    expect(stream.text()).toMatch(/suite \[=+\] 100% \| 2\/2 runs \| ETA \S+\n$/);
  });

  it('draws one bar per stream: a bar created while another is drawn stays quiet', () => {
    const stream = fakeStream(true);
    const outer = createProgress({ label: 'suite', unit: 'runs', stream, level: 'info' });
    outer.update(0, 2);
    const inner = createProgress({ label: 'inner', unit: 'steps', stream, level: 'info' });
    inner.update(1, 2);
    inner.stop();
    outer.stop();
    expect(stream.text()).not.toContain('inner');
    const again = createProgress({ label: 'again', unit: 'runs', stream, level: 'info' });
    again.update(1, 1);
    again.stop();
    expect(stream.text()).toContain('again');
  });
});
