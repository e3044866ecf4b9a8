import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { benchCommand, shellWord } from './bench-command';
import { STRATEGIES_OPTIONS } from './strategies/strategies-options';
import { commandLine } from './testing/command-line';

describe('shellWord', () => {
  it('quotes what a shell would not read back as one word', () => {
    expect(shellWord('--attacked')).toBe('--attacked');
    expect(shellWord('../../shared/data/amazon-reviews')).toBe('../../shared/data/amazon-reviews');
    expect(shellWord('')).toBe("''");
    expect(shellWord("it's here")).toBe(`'it'\\''s here'`);
  });
});

describe('benchCommand', () => {
  const sandbox = useTestSandbox();

  it('records every option not at its default as its flag, in declaration order, a --config value included', () => {
    const config = join(sandbox.dir, 'bench.yaml');
    writeFileSync(config, 'rounds: 3\nvalidate: false\n');
    const resolved = commandLine(STRATEGIES_OPTIONS, ['--attacked', '', '--out', 'o', '--data-dir', 'my data', '--validate', '--seeds', '1,2', '--config', config]);
    expect(benchCommand('strategies', STRATEGIES_OPTIONS, resolved)).toBe("fedtl bench strategies --seeds 1,2 --attacked '' --data-dir 'my data' --out o --rounds 3 --validate");
  });
});
