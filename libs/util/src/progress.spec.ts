import { Writable } from 'node:stream';
import { createProgress, type ProgressStream } from './progress';

/** A Writable that records what is written; `isTTY` and `columns` as a terminal's (or not). */
function fakeStream(isTTY: boolean): ProgressStream & { text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return Object.assign(stream, { isTTY, columns: 120, text: () => chunks.join('') });
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
    expect(last).toMatch(/^embedding \[={10}-{14}\] 40% \| 4\/10 texts \| \d+\.\d texts\/s \| ETA \S+ \| worker pool/);
    expect(stream.text()).not.toContain('\x1b7');
  });

  it('clears the bar before another write to its stream, and hands the stream back at stop()', () => {
    const stream = fakeStream(true);
    const write = stream.write;
    const progress = createProgress({ label: 'training', unit: 'steps', stream, level: 'debug' });
    progress.update(1, 4);
    stream.write('a log line\n');
    progress.stop();
    expect(stream.write).toBe(write);
    const text = stream.text();
    expect(text).toContain('training [');
    expect(text).toContain('\r\x1b[2Ka log line\n');
    expect(text.indexOf('\r\x1b[2Ka log line')).toBeGreaterThan(text.indexOf('training ['));
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
