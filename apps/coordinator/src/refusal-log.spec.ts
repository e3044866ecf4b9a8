import { Logger, configureLogging, loggingSettings } from '@fedtl/util';
import { REFUSALS_LOGGED_PER_WINDOW, REFUSAL_LOG_WINDOW_MS, RefusalLog } from './refusal-log';

describe('RefusalLog', () => {
  const lines: Array<Record<string, unknown>> = [];
  const before = loggingSettings();
  beforeAll(() => configureLogging({ level: 'info', format: 'json', sink: { write: (line) => lines.push(JSON.parse(line)) } }));
  afterAll(() => configureLogging({ ...before, sink: { write: (line) => process.stderr.write(line + '\n') } }));
  beforeEach(() => (lines.length = 0));

  it('logs the first refusals of a window in full and counts the rest by code in one summary line', () => {
    let now = 1_000;
    const refusals = new RefusalLog(new Logger('server'), () => ({ address: '10.0.0.7' }), () => now);
    for (let i = 0; i < 1000; i++) refusals.refused('refused a message', { event: 'update', code: i % 2 ? 'FEDTL_ERR_NON_FINITE' : 'FEDTL_ERR_WRONG_ROUND', error: `bad ${i}` });
    expect(lines).toHaveLength(REFUSALS_LOGGED_PER_WINDOW);
    expect(lines.map((l) => l.error)).toEqual(['bad 0', 'bad 1', 'bad 2', 'bad 3', 'bad 4']);
    expect(lines[0]).toMatchObject({ msg: 'refused a message', address: '10.0.0.7', event: 'update' });

    now += REFUSAL_LOG_WINDOW_MS; // the next window starts with the summary of the last one
    refusals.refused('refused a message', { event: 'update', code: 'FEDTL_ERR_NON_FINITE', error: 'bad again' });
    expect(lines.slice(REFUSALS_LOGGED_PER_WINDOW)).toEqual([
      expect.objectContaining({ msg: 'refused more messages from this connection than were logged', count: 995, byCode: { FEDTL_ERR_NON_FINITE: 498, FEDTL_ERR_WRONG_ROUND: 497 } }),
      expect.objectContaining({ msg: 'refused a message', error: 'bad again' }),
    ]);
  });

  it('logs what it counted when the connection closes, and nothing when there is nothing to tell', () => {
    const refusals = new RefusalLog(new Logger('server'), () => ({}), () => 0);
    refusals.flush();
    expect(lines).toHaveLength(0);
    for (let i = 0; i < REFUSALS_LOGGED_PER_WINDOW + 2; i++) refusals.refused('refused a join', { event: 'join', code: 'FEDTL_ERR_UNAUTHORIZED', error: 'no' });
    refusals.flush();
    expect(lines.at(-1)).toMatchObject({ count: 2, byCode: { FEDTL_ERR_UNAUTHORIZED: 2 } });
  });
});
