import { logEvents } from './log-events';

describe('logEvents', () => {
  it('reads the JSON log lines of an output and skips everything else', () => {
    const output = [
      '{"level":"info","time":"2026-01-01T00:00:00.000Z","module":"coordinator","runId":"r","round":1,"msg":"round started"}',
      'fedtl coordinator: FEDTL_ERR_QUORUM_NOT_MET: round 1 missed its quorum',
      '{"roundsCompleted":2}',
      '{"level":"warn","time":"2026-01-01T00:00:01.000Z","module":"client","clientId":"a","msg":"connection lost',
      '{"level":"warn","time":"2026-01-01T00:00:02.000Z","module":"client","clientId":"a","msg":"refused"}',
      '',
    ].join('\n');
    expect(logEvents(output)).toEqual([
      { level: 'info', time: '2026-01-01T00:00:00.000Z', module: 'coordinator', runId: 'r', round: 1, msg: 'round started' },
      { level: 'warn', time: '2026-01-01T00:00:02.000Z', module: 'client', clientId: 'a', msg: 'refused' },
    ]);
  });
});
