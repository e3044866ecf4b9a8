import { configureLogging, createLogger, isLogLevel } from './logger';

describe('logger', () => {
  const lines: string[] = [];
  beforeEach(() => {
    lines.length = 0;
    configureLogging({ level: 'info', format: 'json', sink: { write: (line) => lines.push(line) } });
  });
  afterAll(() => configureLogging({ level: 'info', format: 'pretty', sink: { write: (line) => process.stderr.write(line + '\n') } }));

  it('writes structured JSON lines with bound and per-call fields', () => {
    createLogger('round').child({ round: 3 }).info('aggregated', { clientId: 'a' });
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'info', module: 'round', msg: 'aggregated', round: 3, clientId: 'a' });
  });

  it('drops lines below the configured level', () => {
    const log = createLogger('x');
    log.debug('hidden');
    log.warn('shown');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });

  it('renders pretty lines as key=value pairs', () => {
    configureLogging({ format: 'pretty' });
    createLogger('server').info('listening', { url: 'http://127.0.0.1:1', rounds: 2 });
    expect(lines[0]).toMatch(/info +\[server\] listening url=http:\/\/127\.0\.0\.1:1 rounds=2$/);
  });

  it('knows its levels', () => {
    expect(isLogLevel('warn')).toBe(true);
    expect(isLogLevel('loud')).toBe(false);
  });
});
