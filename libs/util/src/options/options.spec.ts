import { Command } from 'commander';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import {
  addDeclaredOptions,
  booleanOption,
  choiceOption,
  integerListOption,
  positiveNumberListOption,
  integerOption,
  loadDeclaredOptions,
  numberOption,
  parseConfigFile,
  resolveOptions,
  stringListOption,
  stringOption,
  type OptionDeclarations,
} from './index';

const DECLARATIONS = {
  port: integerOption({ help: 'port', min: 0, max: 65535, default: 8080 }),
  learningRate: numberOption({ help: 'step size', min: 0, minExclusive: true, default: 0.003 }),
  strategy: choiceOption(['fedavg', 'fedadam'] as const, { help: 'strategy', default: 'fedavg' }),
  labels: stringListOption({ help: 'labels', minItems: 2, default: ['ham', 'spam'] }),
  budgets: integerListOption({ help: 'budgets', min: 1 }),
  rates: positiveNumberListOption({ help: 'rates', default: [0.001, 0.01] }),
  secureAggregation: booleanOption({ help: 'secagg' }),
  personalize: booleanOption({ help: 'personalise', default: true }),
  token: stringOption({ help: 'secret', secret: true, env: 'FEDTL_TOKEN' }),
  outDir: stringOption({ help: 'out', default: 'out/run' }),
  client: stringOption({ help: 'whose', once: true }),
} satisfies OptionDeclarations;

/** Parses `argv` as a real command would, with the given environment and config file text. */
function load(argv: string[], env: Record<string, string> = {}, files: Record<string, string> = {}) {
  const command = addDeclaredOptions(new Command('test').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined }), DECLARATIONS);
  command.parse(argv, { from: 'user' });
  return loadDeclaredOptions(command, DECLARATIONS, env, (path) => {
    if (!(path in files)) throw new Error(`ENOENT: no such file, open '${path}'`);
    return files[path];
  });
}

describe('option declarations', () => {
  it('give defaults when nothing is set, typed', () => {
    const { values, sources } = load([]);
    expect(values).toEqual({ port: 8080, learningRate: 0.003, strategy: 'fedavg', labels: ['ham', 'spam'], secureAggregation: false, personalize: true, outDir: 'out/run', rates: [0.001, 0.01] });
    expect(sources.port).toBe('default');
    expect(sources.token).toBeUndefined();
  });

  it('take precedence flag > environment > file > default, for every subset of sources', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.boolean(), (flag, env, file) => {
        const argv = flag ? ['--port', '1001'] : [];
        const environment: Record<string, string> = env ? { FEDTL_PORT: '1002' } : {};
        const files = { 'c.yaml': file ? 'port: 1003\n' : '{}\n' };
        const { values, sources } = load([...argv, '--config', 'c.yaml'], environment, files);
        const expected = flag ? [1001, 'flag'] : env ? [1002, 'env'] : file ? [1003, 'file'] : [8080, 'default'];
        expect([values.port, sources.port]).toEqual(expected);
      }),
      { numRuns: 16 },
    );
  });

  it('read every kind from the environment and from a YAML or a JSON file', () => {
    const env = { FEDTL_STRATEGY: 'fedadam', FEDTL_LABELS: 'a, b ,c', FEDTL_SECURE_AGGREGATION: 'on', FEDTL_PERSONALIZE: 'false', FEDTL_BUDGETS: '50,200' };
    expect(load([], env).values).toMatchObject({ strategy: 'fedadam', labels: ['a', 'b', 'c'], secureAggregation: true, personalize: false, budgets: [50, 200] });
    const yaml = 'learningRate: 1e-4\nlabels: [x, y]\nbudgets: [8, 32]\nsecureAggregation: true\noutDir: out/y\n';
    const json = JSON.stringify({ learningRate: 0.0001, labels: 'x,y', budgets: '8,32', secureAggregation: true, outDir: 'out/y' });
    for (const text of [yaml, json]) {
      expect(load(['--config', 'c'], {}, { c: text }).values).toMatchObject({ learningRate: 0.0001, labels: ['x', 'y'], budgets: [8, 32], secureAggregation: true, outDir: 'out/y' });
    }
  });

  it('let a flag switch off a switch the file or the environment turned on, and on one they turned off', () => {
    const files = { 'c.yaml': 'secureAggregation: true\npersonalize: false\n' };
    expect(load(['--config', 'c.yaml'], {}, files).values).toMatchObject({ secureAggregation: true, personalize: false });
    expect(load(['--config', 'c.yaml', '--no-secure-aggregation', '--personalize'], {}, files).values).toMatchObject({ secureAggregation: false, personalize: true });
    expect(load(['--no-secure-aggregation'], { FEDTL_SECURE_AGGREGATION: 'true' }).sources.secureAggregation).toBe('flag');
    const help = addDeclaredOptions(new Command('t'), DECLARATIONS).helpInformation();
    expect(help).toContain('--secure-aggregation');
    expect(help).not.toContain('--no-secure-aggregation');
    expect(help).toContain('--no-personalize');
    expect(help).not.toMatch(/^\s+--personalize\b/m);
  });

  it('name the file through FEDTL_CONFIG, and --config wins over it', () => {
    const files = { a: 'port: 1\n', b: 'port: 2\n' };
    expect(load([], { FEDTL_CONFIG: 'a' }, files).values.port).toBe(1);
    expect(load(['--config', 'b'], { FEDTL_CONFIG: 'a' }, files).values.port).toBe(2);
  });

  it('refuse a bad value naming where it came from, what came and what is allowed', () => {
    expect(() => load(['--port', '80x'])).toThrow('--port: expected an integer in [0, 65535], got "80x"');
    expect(() => load(['--port', '70000'])).toThrow('--port: expected an integer in [0, 65535], got "70000"');
    expect(() => load([], { FEDTL_LEARNING_RATE: '0' })).toThrow('FEDTL_LEARNING_RATE (environment): expected a finite number > 0, got "0"');
    expect(() => load(['--config', 'c.yaml'], {}, { 'c.yaml': 'strategy: fedsgd\n' })).toThrow('c.yaml: strategy: expected one of fedavg|fedadam, got "fedsgd"');
    expect(() => load(['--config', 'c.yaml'], {}, { 'c.yaml': 'port: "8080"\nsecureAggregation: maybe\n' })).toThrow('c.yaml: secureAggregation: expected true or false, got "maybe"');
    expect(() => load(['--labels', 'a,,b'])).toThrow('--labels: expected a comma-separated list of at least 2 non-empty items, got "a,,b"');
    expect(() => load(['--budgets', '8,0'])).toThrow('--budgets: expected a comma-separated list of integers >= 1, got "8,0"');
    expect(load(['--rates', '1e-4, 0.3']).values.rates).toEqual([0.0001, 0.3]);
    expect(() => load(['--rates', '0.1,0'])).toThrow('--rates: expected a comma-separated list of numbers > 0, got "0.1,0"');
    expect(() => load(['--rates', '0.1,x'])).toThrow('--rates: expected a comma-separated list of numbers > 0, got "0.1,x"');
    expect(() => load(['--config', 'c'], {}, { c: 'port: .inf\n' })).toThrow('c: port: expected an integer in [0, 65535], got Infinity');
  });

  it('check strings and list items of a syntax of their own with the words the declaration gives', () => {
    const even = (text: string) => /^\d*[02468]$/.test(text);
    const declarations = {
      pair: stringOption({ help: 'an even number', accepts: even, expected: 'an even number (e.g. 4)', default: '2' }),
      pairs: stringListOption({ help: 'even numbers', acceptsItem: even, expectedItem: 'an even number' }),
    };
    const resolve = (flags: Record<string, string>) => resolveOptions(declarations, { flags, env: {} }).values;
    expect(resolve({ pair: '18', pairs: '4,6' })).toEqual({ pair: '18', pairs: ['4', '6'] });
    expect(() => resolve({ pair: '7' })).toThrow('--pair: expected an even number (e.g. 4), got "7"');
    expect(() => resolve({ pairs: '4,5' })).toThrow('--pairs: expected a comma-separated list of at least 1 item, each an even number, got "4,5"');
    expect(() => stringOption({ help: 'x', accepts: even })).toThrow('needs `expected`');
    expect(() => stringListOption({ help: 'x', acceptsItem: even })).toThrow('needs `expectedItem`');
  });

  it('run with and print the canonical form of a value its declaration normalises, from every source', () => {
    const canonical = (text: string) => text.trim().toLowerCase();
    const declarations = {
      mode: stringOption({ help: 'a word', default: 'fast', normalize: canonical }),
      modes: stringListOption({ help: 'words', normalize: (items) => items.map(canonical) }),
    };
    const command = addDeclaredOptions(new Command('t').exitOverride(), declarations);
    command.parse(['--mode', ' FAST ', '--print-config', '--config', 'c.yaml'], { from: 'user' });
    const loaded = loadDeclaredOptions(command, declarations, {}, () => 'modes: [Slow, FAST]\n');
    expect(loaded.values).toEqual({ mode: 'fast', modes: ['slow', 'fast'] });
    expect(loaded.printed).toContain('mode: fast # flag --mode');
    expect(loaded.printed).toContain('modes: [ slow, fast ] # config file');
    expect(resolveOptions(declarations, { flags: {}, env: { FEDTL_MODES: 'A,b' } }).values.modes).toEqual(['a', 'b']);
    expect(() => stringOption({ help: 'x', default: 'Fast', normalize: canonical })).toThrow('option default "Fast" is not in its canonical form "fast"');
  });

  it('bound the items of an integer list from above too', () => {
    const declarations = { sizes: integerListOption({ help: 'sizes', min: 1, max: 100 }) };
    const resolve = (sizes: string) => resolveOptions(declarations, { flags: { sizes }, env: {} }).values.sizes;
    expect(resolve('1,100')).toEqual([1, 100]);
    expect(() => resolve('1,101')).toThrow('--sizes: expected a comma-separated list of integers in [1, 100], got "1,101"');
  });

  it('refuse unknown config keys with the closest valid name, and files that are not a mapping', () => {
    expect(() => load(['--config', 'c.yaml'], {}, { 'c.yaml': 'prot: 1\n' })).toThrow('c.yaml: unknown option "prot" (did you mean "port"?)');
    expect(() => load(['--config', 'c.yaml'], {}, { 'c.yaml': 'out-dir: x\n' })).toThrow('unknown option "out-dir" (did you mean "outDir"?)');
    expect(() => load(['--config', 'c.yaml'], {}, { 'c.yaml': '- port\n' })).toThrow('c.yaml: expected a mapping of option names to values, got a list');
    expect(() => load(['--config', 'c.yaml'], {}, { 'c.yaml': 'config: other.yaml\n' })).toThrow('c.yaml: "config" is a command-line flag, not an option a config file can set');
    // A "billion laughs" alias bomb: yaml refuses to expand it, and that is one line, not a stack trace.
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((name, i) => `${name}: &${name} [${Array(9).fill('*' + 'abcdefgh'[i]).join(', ')}]`), 'labels: [*h, *h, *h, *h, *h, *h, *h, *h, *h]'].join('\n');
    expect(() => load(['--config', 'bomb.yaml'], {}, { 'bomb.yaml': bomb })).toThrow(/^bomb\.yaml: expected a YAML or JSON mapping of options, got a document yaml refuses to expand/);
    expect(() => load(['--config', 'c.yaml'], {}, { 'c.yaml': 'port: 1\nport: 2\n' })).toThrow('c.yaml: expected a YAML or JSON mapping of options, got a syntax error');
    expect(() => load(['--config', 'c.json'], {}, { 'c.json': '{"port": 1,' })).toThrow('c.json: expected a YAML or JSON mapping of options, got a syntax error');
    expect(() => load(['--config', 'missing.yaml'])).toThrow("--config: expected a readable YAML or JSON file, got missing.yaml (ENOENT");
  });

  it('take the last of a repeated flag, refuse one declared `once` given twice, and refuse unknown flags with a suggestion', () => {
    expect(load(['--port', '1', '--port', '2']).values.port).toBe(2);
    expect(() => load(['--client', 'org-1', '--client', 'org-2'])).toThrow('--client was given twice ("org-1", then "org-2"): give it once');
    expect(() => load(['--prot', '1'])).toThrow(/unknown option '--prot'[\s\S]*--port/);
  });

  it('print the merged configuration with sources, secrets redacted, as a file the command reads back', () => {
    const loaded = load(['--port', '9000', '--print-config'], { FEDTL_TOKEN: 'a-very-secret-token-value', FEDTL_STRATEGY: 'fedadam' });
    expect(loaded.printConfig).toBe(true);
    expect(loaded.printed).not.toContain('a-very-secret-token-value');
    expect(loaded.printed).toContain('# token: [redacted] (set, from environment FEDTL_TOKEN)');
    expect(loaded.printed).toContain('port: 9000 # flag --port');
    expect(loaded.printed).toContain('strategy: fedadam # environment FEDTL_STRATEGY');
    expect(loaded.printed).toContain('labels: [ ham, spam ] # default');
    const reread = load(['--config', 'printed.yaml'], {}, { 'printed.yaml': loaded.printed });
    expect({ ...reread.values }).toEqual({ ...loaded.values, token: undefined });
    expect(parseYaml(loaded.printed)).not.toHaveProperty('token');
  });

  it('show the default and the environment variable of each option in --help', () => {
    const command = addDeclaredOptions(new Command('test'), DECLARATIONS);
    const help = command.helpInformation();
    expect(help).toContain('--port <N>');
    expect(help).toContain('port (default 8080; env FEDTL_PORT)');
    expect(help).toContain('--no-personalize');
    expect(help).toContain('--config <FILE>');
    expect(help).not.toMatch(/secret \(default/);
  });

  it('check defaults and keys when declared (programmer errors throw at once)', () => {
    expect(() => integerOption({ help: 'x', min: 1, default: 0 })).toThrow('option default 0 is not an integer >= 1');
    expect(() => addDeclaredOptions(new Command('t'), { config: stringOption({ help: 'x' }) })).toThrow('option key "config" is reserved');
  });

  it('resolve without commander too (the same precedence)', () => {
    const { values } = resolveOptions(DECLARATIONS, { flags: { port: '1' }, env: { FEDTL_PORT: '2' }, file: parseConfigFile('port: 3', 'f', DECLARATIONS) });
    expect(values.port).toBe(1);
  });
});
