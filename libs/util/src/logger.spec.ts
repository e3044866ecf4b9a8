import { configureLogging, createLogger, isLogLevel, loggingSettings, REDACTED, withLogFields } from './logger';

describe('logger', () => {
  const lines: string[] = [];
  const sink = { write: (line: string) => lines.push(line) };
  beforeEach(() => {
    lines.length = 0;
    configureLogging({ level: 'info', format: 'json', sink, fields: {} });
  });
  afterAll(() => configureLogging({ level: 'info', format: 'auto', sink: { write: (line) => process.stderr.write(line + '\n') } }));

  it('writes pino JSON lines: level as a label, ISO time, module, msg, bound and per-call fields', () => {
    createLogger('round').child({ round: 3 }).info('aggregated', { clientId: 'a' });
    expect(lines).toHaveLength(1);
    const event = JSON.parse(lines[0]);
    expect(event).toMatchObject({ level: 'info', module: 'round', msg: 'aggregated', round: 3, clientId: 'a' });
    expect(new Date(event.time).toISOString()).toBe(event.time);
    expect(event).not.toHaveProperty('pid');
  });

  it('drops lines below the configured level', () => {
    const log = createLogger('x');
    log.debug('hidden');
    log.warn('shown');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });

  it('applies a new configuration to loggers made before it', () => {
    const log = createLogger('x');
    log.debug('hidden');
    configureLogging({ level: 'debug' });
    log.debug('shown');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });

  it('adds withLogFields to every line logged in its async context, and only there', async () => {
    const log = createLogger('coordinator');
    await withLogFields({ runId: 'run-1' }, async () => {
      log.info('started');
      await new Promise((resolve) => setImmediate(resolve));
      withLogFields({ round: 2 }, () => log.child({ clientId: 'a' }).info('round started'));
    });
    log.info('outside');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ msg: 'started', runId: 'run-1' }),
      expect.objectContaining({ msg: 'round started', runId: 'run-1', round: 2, clientId: 'a' }),
      expect.not.objectContaining({ runId: expect.anything() }),
    ]);
  });

  it('writes a field once when the context, a child and the call all set it; the call wins', () => {
    withLogFields({ clientId: 'context' }, () => createLogger('x').child({ clientId: 'bound' }).info('joined', { clientId: 'call' }));
    expect(lines[0].match(/"clientId"/g)).toHaveLength(1);
    expect(JSON.parse(lines[0]).clientId).toBe('call');
  });

  it("hands a worker thread the level, the resolved format and the caller's context fields", () => {
    configureLogging({ level: 'warn', format: 'pretty', fields: { thread: 'main' } });
    const settings = withLogFields({ clientId: 'org-1' }, () => loggingSettings());
    expect(settings).toEqual({ level: 'warn', format: 'pretty', fields: { thread: 'main', clientId: 'org-1' } });
    configureLogging({ ...settings, format: 'json', sink });
    createLogger('learner').warn('diverged');
    expect(JSON.parse(lines[0])).toMatchObject({ thread: 'main', clientId: 'org-1', msg: 'diverged' });
  });

  it('renders pretty lines as key=value pairs', () => {
    configureLogging({ format: 'pretty' });
    createLogger('server').info('listening', { url: 'http://127.0.0.1:1', rounds: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[server\] listening url=http:\/\/127\.0\.0\.1:1 rounds=2$/);
  });

  it("'auto' writes JSON to a sink that is not a TTY, and reports the format it resolved to", () => {
    configureLogging({ format: 'auto' });
    createLogger('x').info('hello');
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'hello' });
    expect(loggingSettings()).toMatchObject({ level: 'info', format: 'json' });
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

  describe.each(['json', 'pretty'] as const)('redaction (%s)', (format) => {
    it('never writes a token, secret, password or key, bound or per call, top level or nested', () => {
      configureLogging({ format });
      createLogger('secrets')
        .child({ token: 'bound-token-1111' })
        .info('config', {
          operatorToken: 'operator-2222',
          secret: 'secret-3333',
          password: 'password-4444',
          privateKey: 'private-5555',
          config: { token: 'nested-6666', operatorToken: 'nested-7777' },
          headers: { authorization: 'Bearer auth-8888', cookie: 'session=9999' },
          tokenId: 'tok-public',
        });
      expect(lines).toHaveLength(1);
      for (const secret of ['1111', '2222', '3333', '4444', '5555', '6666', '7777', '8888', '9999']) expect(lines[0]).not.toContain(secret);
      expect(lines[0]).toContain(REDACTED);
      expect(lines[0]).toContain('tok-public');
    });
  });

  it('writes nothing, and hands workers level silent, until an app configures logging', () => {
    const writes: unknown[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => writes.push(chunk) > 0);
    try {
      jest.isolateModules(() => {
        // A fresh copy of the module, never configured.
        const fresh = require('./logger') as typeof import('./logger');
        fresh.createLogger('library').error('not written', { round: 1 });
        expect(fresh.loggingSettings().level).toBe('silent');
      });
    } finally {
      spy.mockRestore();
    }
    expect(writes).toEqual([]);
  });

  it('knows its levels', () => {
    expect(isLogLevel('warn')).toBe(true);
    expect(isLogLevel('loud')).toBe(false);
  });
});
