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

  it('keeps a pretty line one line when a message or field holds a newline, a CR or a bidi override', () => {
    configureLogging({ format: 'pretty' });
    // A client id as a hostile peer would send it: it tries to append a forged "client joined" line.
    const forged = 'org-1\n12:00:00.000 info  [coordinator] client joined clientId=admin';
    createLogger('coordinator').child({ clientId: forged }).warn('refused\r\nfake line', { reason: 'evil\u202etxt.exe', nested: { text: 'a\u2028b' } });
    const output = lines.map((line) => line + '\n').join('');
    expect(output.split(/\r\n|\r|\n|\u2028|\u2029/)).toHaveLength(2);
    expect(lines[0]).toContain('clientId=org-1\\n12:00:00.000 info  [coordinator] client joined clientId=admin');
    expect(lines[0]).toContain('refused\\r\\nfake line');
    expect(lines[0]).toContain('reason=evil\\u202etxt.exe');
    expect(lines[0]).toContain('nested={"text":"a\\u2028b"}');
  });

  it('knows its levels', () => {
    expect(isLogLevel('warn')).toBe(true);
    expect(isLogLevel('loud')).toBe(false);
  });
});
