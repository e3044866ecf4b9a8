import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { parseCommandLine } from '@fedtl/util/options';
import { STRATEGY_NAMES, parseCoordinatorConfig, type CoordinatorConfig } from './config';
import { COORDINATOR_OPTIONS } from './coordinator-options';
import { configHashOf } from './run-coordinator';
import { createStrategy, serverOptimizerOf } from './strategy-factory';

const STRONG = '9d41c07be35f2a86e1b4';

describe('coordinator configuration', () => {
  const sandbox = useTestSandbox();

  const file = (content: unknown) => {
    const path = join(sandbox.dir, 'coordinator.json');
    writeFileSync(path, JSON.stringify(content));
    return path;
  };

  it('has documented defaults and takes flags over the environment over a file over the defaults', () => {
    expect(parseCoordinatorConfig([])).toMatchObject({ port: 8080, rounds: 5, minClients: 2, minAvailable: 2, strategy: 'fedavg', labels: ['ham', 'spam'], token: '', warnings: [], logFormat: 'auto' });
    const config = parseCoordinatorConfig(
      ['--config', file({ rounds: 7, minClients: 3, labels: ['x', 'y', 'z'], learningRate: 0.01, localEpochs: 2 }), '--rounds', '9'],
      { FEDTL_TOKEN: 'from-env-5b1f0c9e7d2a', FEDTL_MIN_CLIENTS: '4', FEDTL_ROUNDS: '8' },
    );
    expect(config).toMatchObject({ rounds: 9, minClients: 4, minAvailable: 4, labels: ['x', 'y', 'z'], token: 'from-env-5b1f0c9e7d2a', warnings: [], training: { learningRate: 0.01, localEpochs: 2, batchSize: 32 } });
    const yaml = join(sandbox.dir, 'coordinator.yaml');
    writeFileSync(yaml, 'rounds: 6\nlabels: [a, b]\nsecureAggregation: true\n');
    expect(parseCoordinatorConfig(['--config', yaml])).toMatchObject({ rounds: 6, labels: ['a', 'b'], secureAggregation: true });
  });

  it('prints a configuration (--print-config) that reads back as the same configuration, secrets apart', () => {
    const argv = ['--rounds', '9', '--strategy', 'fedadam', '--server-beta1', '0.8', '--labels', 'x,y,z', '--dp-update-clip-norm', '1', '--dp-update-noise-multiplier', '0.5', '--compression', 'topk:0.05'];
    const printed = parseCommandLine(COORDINATOR_OPTIONS, ['--print-config', ...argv], { FEDTL_TOKEN: STRONG }, () => '').printed;
    expect(printed).not.toContain(STRONG);
    const path = join(sandbox.dir, 'printed.yaml');
    writeFileSync(path, printed);
    expect(parseCoordinatorConfig(['--config', path], { FEDTL_TOKEN: STRONG })).toEqual(parseCoordinatorConfig(argv, { FEDTL_TOKEN: STRONG }));
  });

  it('prints and runs with the canonical --compression, however it was spelt', () => {
    const printed = (argv: string[]) => parseCommandLine(COORDINATOR_OPTIONS, ['--print-config', ...argv], {}, () => 'compression: " INT8"\n').printed;
    expect(printed(['--compression', 'TopK:0.010'])).toContain('compression: topk:0.01 # flag --compression');
    expect(printed(['--compression', 'topk:1e-2'])).toContain('compression: topk:0.01 # flag --compression');
    expect(printed(['--config', 'c.yaml'])).toContain('compression: int8 # config file');
    expect(parseCoordinatorConfig(['--compression', 'TopK:0.010'])).toEqual(parseCoordinatorConfig(['--compression', 'topk:0.01']));
  });

  it('validates file values exactly like flags, naming the option', () => {
    const path = file({ roundTimeoutMs: -1 });
    expect(() => parseCoordinatorConfig(['--config', path])).toThrow(`${path}: roundTimeoutMs: expected an integer in [1, 2147483647], got -1`);
    expect(() => parseCoordinatorConfig(['--config', file({ minClients: 0 })])).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG' }));
    expect(() => parseCoordinatorConfig(['--config', file({ roundsPlease: 3 })])).toThrow('unknown option "roundsPlease" (did you mean "rounds"?)');
    expect(() => parseCoordinatorConfig(['--config', file({ training: { learningRate: 0.1 } })])).toThrow('unknown option "training" (did you mean "');
    expect(() => parseCoordinatorConfig(['--config', file({ fresh: 'sometimes' })])).toThrow('expected true or false');
  });

  it('refuses timeouts that setTimeout cannot hold, and inconsistent quorums and TLS', () => {
    expect(() => parseCoordinatorConfig(['--round-timeout-ms', String(2 ** 31)])).toThrow('--round-timeout-ms: expected an integer in [1, 2147483647], got "2147483648"');
    expect(() => parseCoordinatorConfig(['--min-clients', '3', '--min-available', '2'])).toThrow('--min-available: expected at least --min-clients (3)');
    expect(() => parseCoordinatorConfig(['--tls-cert', 'a.crt'])).toThrow('--tls-cert/--tls-key: expected both or neither');
    expect(() => parseCoordinatorConfig(['--labels', 'spam'])).toThrow('--labels: expected a comma-separated list of at least 2 non-empty items, got "spam"');
  });

  it('takes LoRA inside use-lite (α twice the rank unless given), refusing it where it cannot train', () => {
    expect(parseCoordinatorConfig([]).lora).toBeUndefined();
    expect(parseCoordinatorConfig(['--lora-rank', '4']).lora).toEqual({ rank: 4, alpha: 8, layers: [1], targets: ['query', 'value'] });
    expect(parseCoordinatorConfig(['--lora-rank', '2', '--lora-alpha', '3', '--lora-layers', '1,0', '--lora-targets', 'ffn-inner,key']).lora).toEqual({ rank: 2, alpha: 3, layers: [0, 1], targets: ['key', 'ffn-inner'] });
    expect(() => parseCoordinatorConfig(['--lora-rank', '4', '--lora-layers', '2'])).toThrow('--lora-layers: expected a comma-separated list');
    expect(() => parseCoordinatorConfig(['--lora-rank', '4', '--lora-targets', 'attention'])).toThrow(/--lora-targets: expected a comma-separated list of at least 1 item, each one of query, key, value, output, ffn-inner, ffn-outer, got "attention"/);
    expect(() => parseCoordinatorConfig(['--lora-rank', '4', '--lora-targets', 'query,query'])).toThrow('--lora-targets: expected distinct projections among query, key, value, output, ffn-inner, ffn-outer, got "query,query"');
    expect(() => parseCoordinatorConfig(['--lora-rank', '300', '--lora-layers', '0'])).toThrow('--lora-rank: expected at most 256 (the smallest side of the adapted kernels), got 300');
    expect(() => parseCoordinatorConfig(['--lora-rank', '4', '--lora-alpha', '1e39'])).toThrow(/--lora-alpha: expected positive and finite as a float32/);
    expect(parseCoordinatorConfig(['--lora-rank', '4', '--lora-alpha', '0.1']).lora?.alpha).toBe(Math.fround(0.1));
    expect(parseCoordinatorConfig(['--lora-alpha', '3', '--lora-layers', '0']).warnings).toContain('--lora-alpha, --lora-layers ignored: --lora-rank is 0, so the backbone stays frozen');
    expect(parseCoordinatorConfig(['--lora-rank', '4']).warnings.join('\n')).toMatch(/raise --round-timeout-ms \(now 300000 ms\)/);
    expect(() => parseCoordinatorConfig(['--lora-rank', '4', '--backbone', 'precomputed:16'])).toThrow('--lora-rank: expected 0 with --backbone precomputed:16 (LoRA trains inside the use-lite encoder only), got 4');
    expect(() => parseCoordinatorConfig(['--lora-rank', '4', '--dp-record-clip-norm', '1', '--dp-record-noise-multiplier', '1'])).toThrow(/--lora-rank: expected 0 with --dp-record-clip-norm/);
    // LoRA changes the model, so the run's config hash: a checkpoint of the frozen model is never resumed with it.
    const hash = (config: CoordinatorConfig) => configHashOf(config, { inputDim: 512, adapterWidth: 64, head: 'linear', headHidden: 64, labels: ['ham', 'spam'], ...(config.lora ? { lora: config.lora } : {}) }, 'h');
    expect(hash(parseCoordinatorConfig(['--lora-rank', '4']))).not.toBe(hash(parseCoordinatorConfig([])));
  });

  it('takes secure aggregation, refusing settings that no round could meet before anything starts', () => {
    expect(parseCoordinatorConfig(['--secure-aggregation', '--secagg-threshold', '3', '--min-clients', '3', '--min-available', '4'])).toMatchObject({ secureAggregation: true, secaggThreshold: 3 });
    const refusals: Array<[string[], string]> = [
      [['--min-clients', '1', '--min-available', '1'], '--min-clients: expected at least 2 with --secure-aggregation'],
      [['--secagg-threshold', '1'], '--secagg-threshold: expected 0 (a majority) or at least 2'],
      [['--secagg-threshold', '5', '--min-clients', '3', '--min-available', '3'], '--secagg-threshold: expected at most --min-available (3): a round of that many clients could never be unmasked, got 5'],
      [['--audit-dir', 'audit'], '--audit-dir: expected no --secure-aggregation'],
      [['--update-norm-action', 'reject'], '--update-norm-action: expected clip with --secure-aggregation'],
      [['--max-update-norm', '1e9'], '--max-update-norm: expected a bound whose sum over --max-clients (1000) clients fits the 32-bit ring'],
    ];
    for (const [flags, message] of refusals) {
      expect(() => parseCoordinatorConfig(['--secure-aggregation', ...flags])).toThrow(message);
    }
    expect(() => parseCoordinatorConfig(['--secagg-threshold', '3'])).toThrow('--secagg-threshold: expected --secure-aggregation');
    expect(() => parseCoordinatorConfig(['--secure-aggregation', '--secagg-threshold', '-1'])).toThrow('--secagg-threshold: expected an integer >= 0, got "-1"');
  });

  it('takes every strategy with its own options, refusing options of another strategy by flag, value and the strategies that take them', () => {
    const parse = (args: string[]): CoordinatorConfig => {
      const config = parseCoordinatorConfig(args);
      return config;
    };
    expect(STRATEGY_NAMES).toEqual(['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad', 'fedprox', 'per-fedavg', 'median', 'trimmed-mean', 'krum', 'multikrum']);
    const built: Array<[string[], string, Record<string, unknown>]> = [
      [['--strategy', 'fedyogi'], 'FedYogi', { serverLearningRate: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3 }],
      [['--strategy', 'fedyogi', '--server-learning-rate', '0.05', '--server-beta1', '0.5', '--server-beta2', '0.9', '--server-tau', '0.01'], 'FedYogi', { serverLearningRate: 0.05, beta1: 0.5, beta2: 0.9, tau: 0.01 }],
      [['--strategy', 'fedadagrad', '--server-beta1', '0.3', '--server-tau', '1e-4'], 'FedAdagrad', { serverLearningRate: 0.1, beta1: 0.3, tau: 1e-4 }],
      [['--strategy', 'fedprox'], 'FedProx', { serverLearningRate: 1, proximalMu: 0.01 }],
      [['--strategy', 'fedprox', '--proximal-mu', '1'], 'FedProx', { proximalMu: 1 }],
      [['--strategy', 'fedprox', '--proximal-mu', '0'], 'FedProx', { proximalMu: 0 }],
      [['--strategy', 'per-fedavg'], 'PerFedAvg', { serverLearningRate: 1, metaInnerLearningRate: 0.2 }],
      [['--strategy', 'per-fedavg', '--meta-inner-learning-rate', '0.2'], 'PerFedAvg', { metaInnerLearningRate: 0.2 }],
      [['--strategy', 'median'], 'Median', { serverLearningRate: 1 }],
      [['--strategy', 'trimmed-mean', '--min-clients', '5'], 'TrimmedMean', { trimFraction: 0.2 }],
      [['--strategy', 'trimmed-mean', '--trim-fraction', '0.25', '--min-clients', '4'], 'TrimmedMean', { trimFraction: 0.25 }],
      [['--strategy', 'krum', '--min-clients', '5'], 'Krum', { byzantineClients: 1 }],
      [['--strategy', 'krum', '--byzantine-clients', '0', '--min-clients', '3'], 'Krum', { byzantineClients: 0 }],
      [['--strategy', 'multikrum', '--byzantine-clients', '2', '--multikrum-selected', '4', '--min-clients', '7'], 'MultiKrum', { byzantineClients: 2, selected: 4 }],
    ];
    for (const [args, name, fields] of built) {
      const config = parse(args);
      const strategy = createStrategy(config);
      expect([args, strategy.name]).toEqual([args, name]);
      expect([args, serverOptimizerOf(config)]).toEqual([args, expect.objectContaining(fields)]);
      expect(Boolean(strategy.requiresIndividualUpdates)).toBe(['Median', 'TrimmedMean', 'Krum', 'MultiKrum'].includes(name));
    }
    expect(createStrategy(parse(['--strategy', 'fedprox', '--proximal-mu', '0.5'])).configureRound(1, ['a', 'b'], () => 0)?.config).toEqual({ proximalMu: 0.5 });
    expect(createStrategy(parse(['--strategy', 'fedprox', '--secure-aggregation'])).name).toBe('FedProx');
    expect(createStrategy(parse(['--strategy', 'per-fedavg', '--meta-inner-learning-rate', '0.3'])).configureRound(1, ['a', 'b'], () => 0)?.config).toEqual({ metaInnerLearningRate: 0.3 });
    expect(createStrategy(parse(['--strategy', 'per-fedavg', '--secure-aggregation'])).name).toBe('PerFedAvg');
    expect(createStrategy(parse(['--strategy', 'trimmed-mean', '--min-clients', '5']))).toMatchObject({ trimFraction: 0.2, options: expect.objectContaining({ minFitClients: 5 }) });

    const refusals: Array<[string[], string]> = [
      [['--strategy', 'fedavg', '--server-beta1', '0.5'], '--server-beta1: expected --strategy fedadam|fedyogi|fedadagrad (the only ones that take it), got "0.5 with --strategy fedavg"'],
      [['--strategy', 'fedadagrad', '--server-beta2', '0.9'], '--server-beta2: expected --strategy fedadam|fedyogi (the only ones that take it), got "0.9 with --strategy fedadagrad"'],
      [['--strategy', 'fedyogi', '--server-momentum', '0.9'], '--server-momentum: expected --strategy fedavgm (the only ones that take it), got "0.9 with --strategy fedyogi"'],
      [['--strategy', 'median', '--trim-fraction', '0.2'], '--trim-fraction: expected --strategy trimmed-mean (the only ones that take it), got "0.2 with --strategy median"'],
      [['--strategy', 'trimmed-mean', '--byzantine-clients', '1', '--min-clients', '5'], '--byzantine-clients: expected --strategy krum|multikrum (the only ones that take it), got "1 with --strategy trimmed-mean"'],
      [['--strategy', 'krum', '--multikrum-selected', '2', '--min-clients', '5'], '--multikrum-selected: expected --strategy multikrum (the only ones that take it), got "2 with --strategy krum"'],
      [['--strategy', 'krum'], '--min-clients: expected at least 5 with --strategy krum (Krum needs n > 2f + 2 with f = 1; every accepted round must satisfy it), got 2'],
      [['--strategy', 'multikrum', '--byzantine-clients', '1', '--multikrum-selected', '6', '--min-clients', '5'], '--min-clients: expected at least 7 with --strategy multikrum (Krum needs n > 2f + 2 with f = 1 and n ≥ m + f with m = 6'],
      [['--strategy', 'trimmed-mean', '--trim-fraction', '0.1', '--min-clients', '9'], '--min-clients: expected at least 10 with --strategy trimmed-mean (trimming ⌊0.1·n⌋ ≥ 1 update from each end'],
      [['--strategy', 'trimmed-mean', '--trim-fraction', '0.5'], '--trim-fraction: expected a finite number in (0, 0.5), got "0.5"'],
      [['--strategy', 'krum', '--byzantine-clients', '1.5'], '--byzantine-clients: expected an integer >= 0, got "1.5"'],
      [['--strategy', 'multikrum', '--multikrum-selected', '0'], '--multikrum-selected: expected an integer >= 1, got "0"'],
      [['--strategy', 'fedbogus'], '--strategy: expected one of fedavg|fedavgm|fedadam|fedyogi|fedadagrad|fedprox|per-fedavg|median|trimmed-mean|krum|multikrum, got "fedbogus"'],
      [['--proximal-mu', '0.1'], '--proximal-mu: expected --strategy fedprox (the only ones that take it), got "0.1 with --strategy fedavg"'],
      [['--strategy', 'fedadam', '--proximal-mu', '1'], '--proximal-mu: expected --strategy fedprox (the only ones that take it), got "1 with --strategy fedadam"'],
      [['--strategy', 'fedprox', '--server-momentum', '0.9'], '--server-momentum: expected --strategy fedavgm (the only ones that take it), got "0.9 with --strategy fedprox"'],
      [['--strategy', 'fedprox', '--proximal-mu', '-0.1'], '--proximal-mu: expected a finite number >= 0, got "-0.1"'],
      [['--strategy', 'fedprox', '--proximal-mu=-0.1'], '--proximal-mu: expected a finite number >= 0, got "-0.1"'],
      [['--strategy', 'fedprox', '--proximal-mu', 'Infinity'], '--proximal-mu: expected a finite number >= 0, got "Infinity"'],
      [['--strategy', 'fedprox', '--proximal-mu', 'NaN'], '--proximal-mu: expected a finite number >= 0, got "NaN"'],
      [['--meta-inner-learning-rate', '0.1'], '--meta-inner-learning-rate: expected --strategy per-fedavg (the only ones that take it), got "0.1 with --strategy fedavg"'],
      [['--strategy', 'per-fedavg', '--meta-inner-learning-rate', '0'], '--meta-inner-learning-rate: expected a finite number > 0, got "0"'],
      [['--strategy', 'per-fedavg', '--proximal-mu', '0.1'], '--proximal-mu: expected --strategy fedprox (the only ones that take it), got "0.1 with --strategy per-fedavg"'],
      [['--strategy', 'median', '--secure-aggregation'], "--strategy: expected one that acts on the mean with --secure-aggregation (fedavg|fedavgm|fedadam|fedyogi|fedadagrad|fedprox|per-fedavg): under it the coordinator only learns the sum, and median needs each client's update, got \"median\""],
    ];
    for (const [args, message] of refusals) expect(() => parseCoordinatorConfig(args)).toThrow(message);
    expect(() => parseCoordinatorConfig(['--config', file({ strategy: 'krum', trimFraction: 0.2, minClients: 5 })])).toThrow('--trim-fraction: expected --strategy trimmed-mean');
    expect(() => parseCoordinatorConfig(['--config', file({ strategy: 'fedavg', proximalMu: 0.2 })])).toThrow('--proximal-mu: expected --strategy fedprox (the only ones that take it), got "0.2 with --strategy fedavg"');
    expect(parse(['--config', file({ strategy: 'fedprox', proximalMu: 0.2 })]).proximalMu).toBe(0.2);
  });

  it('records the robust rule and its options in the config hash, so a checkpoint resumes only under the same rule', () => {
    const model = { inputDim: 4, adapterWidth: 0, head: 'linear' as const, headHidden: 1, labels: ['a', 'b'] };
    const hash = (args: string[]) => {
      const config = parseCoordinatorConfig(args);
      return configHashOf(config, model, 'backbone');
    };
    const hashes = [
      hash([]),
      hash(['--strategy', 'fedyogi']),
      hash(['--strategy', 'fedadagrad']),
      hash(['--strategy', 'median']),
      hash(['--strategy', 'trimmed-mean', '--min-clients', '5']),
      hash(['--strategy', 'trimmed-mean', '--trim-fraction', '0.25', '--min-clients', '5']),
      hash(['--strategy', 'krum', '--min-clients', '5']),
      hash(['--strategy', 'multikrum', '--min-clients', '5']),
      hash(['--strategy', 'multikrum', '--multikrum-selected', '3', '--min-clients', '5']),
      hash(['--strategy', 'fedprox']),
      hash(['--strategy', 'fedprox', '--proximal-mu', '1']),
      hash(['--strategy', 'fedprox', '--proximal-mu', '0']),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(hash(['--strategy', 'trimmed-mean', '--trim-fraction', '0.2', '--min-clients', '5'])).toBe(hashes[4]);
    // FedProx's μ changes what the clients train: a run resumes only under the same μ (the default resolved).
    expect(hash(['--strategy', 'fedprox', '--proximal-mu', '0.01'])).toBe(hashes[9]);
  });

  it('takes differential privacy in pairs, one unit at a time, and refuses a budget nothing spends', () => {
    const record = ['--dp-record-clip-norm', '1', '--dp-record-noise-multiplier', '1.1'];
    const client = ['--dp-update-clip-norm', '0.5', '--dp-update-noise-multiplier', '1', '--dp-client-sampling-rate', '0.1'];
    expect(parseCoordinatorConfig([...record, '--dp-epsilon', '4'])).toMatchObject({ dpRecordClipNorm: 1, dpRecordNoiseMultiplier: 1.1, dpEpsilon: 4, dpDelta: 1e-5 });
    expect(parseCoordinatorConfig([...client, '--dp-delta', '1e-6'])).toMatchObject({ dpUpdateClipNorm: 0.5, dpUpdateNoiseMultiplier: 1, dpClientSamplingRate: 0.1, dpDelta: 1e-6 });
    expect(parseCoordinatorConfig(['--config', file({ dpUpdateClipNorm: 2, dpUpdateNoiseMultiplier: 0.8 })])).toMatchObject({ dpUpdateClipNorm: 2, dpUpdateNoiseMultiplier: 0.8 });
    const refusals: Array<[string[], string]> = [
      [['--dp-record-clip-norm', '1'], '--dp-record-noise-multiplier: expected a value with --dp-record-clip-norm (the clip norm and the noise multiplier go together), got "none"'],
      [['--dp-update-noise-multiplier', '1'], '--dp-update-clip-norm: expected a value with --dp-update-noise-multiplier'],
      [[...record, ...client.slice(0, 4)], '--dp-record-clip-norm/--dp-update-clip-norm: expected one unit of privacy'],
      [['--dp-epsilon', '2'], '--dp-epsilon: expected a mechanism to spend it'],
      [['--dp-delta', '1e-6'], '--dp-delta: expected differential privacy on'],
      [[...record, '--dp-client-sampling-rate', '0.5'], '--dp-client-sampling-rate: expected client-level differential privacy'],
      [[...record, '--dp-delta', '0.5'], '--dp-delta: expected a finite number in (0, 0.01), got "0.5"'],
      [['--dp-update-clip-norm', '1e308', '--dp-update-noise-multiplier', '1e308'], '--dp-update-clip-norm × --dp-update-noise-multiplier: expected a finite noise standard deviation, got "1e+308 × 1e+308"'],
      [[...record, '--dp-epsilon', '0'], '--dp-epsilon: expected a finite number > 0, got "0"'],
      [[...client.slice(0, 4), '--dp-client-sampling-rate', '1.5'], '--dp-client-sampling-rate: expected a finite number in (0, 1], got "1.5"'],
      [[...record, '--strategy', 'fedprox'], '--strategy: expected one whose clients take plain local steps with --dp-record-…'],
      [[...client.slice(0, 4), '--strategy', 'median'], '--strategy: expected one that acts on the mean with --dp-update-…'],
      [[...client.slice(0, 4), '--audit-dir', 'audit'], '--audit-dir: expected no --dp-update-…'],
    ];
    for (const [argv, message] of refusals) expect(() => parseCoordinatorConfig(argv)).toThrow(message);
  });

  it('puts the DP mechanism in the config hash (only when set), but not the budget, which a restart may raise', () => {
    const hash = (argv: string[]) => configHashOf(parseCoordinatorConfig(argv) as CoordinatorConfig, { inputDim: 4, adapterWidth: 0, head: 'linear', headHidden: 1, labels: ['a', 'b'] }, 'h');
    const dp = ['--dp-update-clip-norm', '1', '--dp-update-noise-multiplier', '1'];
    expect(hash(dp)).not.toBe(hash([]));
    expect(hash([...dp.slice(0, 3), '2'])).not.toBe(hash(dp));
    expect(hash([...dp, '--dp-epsilon', '3'])).toBe(hash([...dp, '--dp-epsilon', '8']));
  });

  it('takes --compression from flags, the environment and files, carries it in the plan\'s training config, and refuses what cannot apply', () => {
    expect(parseCoordinatorConfig([]).training.updateCompression).toBeUndefined();
    expect(parseCoordinatorConfig(['--compression', 'float32']).training.updateCompression).toBeUndefined();
    expect(parseCoordinatorConfig(['--compression', 'int8']).training.updateCompression).toEqual({ encoding: 'int8' });
    expect(parseCoordinatorConfig([], { FEDTL_COMPRESSION: 'topk:0.05' }).training.updateCompression).toEqual({ encoding: 'sparse', topkFraction: 0.05 });
    expect(parseCoordinatorConfig(['--config', file({ compression: 'float16' })]).training.updateCompression).toEqual({ encoding: 'float16' });
    // float16 and int8 keep every coordinate: a robust rule still sees the updates.
    expect(parseCoordinatorConfig(['--compression', 'int8', '--strategy', 'median']).strategy).toBe('median');
    // Client-level DP: clients clip what they send (top-k's residual included) to S, and the coordinator clips again.
    expect(parseCoordinatorConfig(['--compression', 'topk:0.1', '--dp-update-clip-norm', '1', '--dp-update-noise-multiplier', '1']).training.updateCompression).toEqual({ encoding: 'sparse', topkFraction: 0.1 });
    const refusals: Array<[string[], string]> = [
      [['--compression', 'topk:0'], '--compression: expected float32, float16, int8 or topk:FRACTION with FRACTION in (0, 1] (e.g. topk:0.01), got "topk:0"'],
      [['--compression', 'int4'], '--compression: expected float32, float16, int8 or topk:FRACTION'],
      [['--compression', 'float16', '--secure-aggregation'], '--compression: expected float32 with --secure-aggregation (clients send a masked fixed-point vector, not an update a compression could shrink), got "float16"'],
      [['--compression', 'topk:0.01', '--strategy', 'krum', '--min-clients', '5'], '--compression: expected float32, float16 or int8 with --strategy krum (a per-coordinate robust rule over top-k updates would see mostly zeros), got "topk:0.01"'],
    ];
    for (const [argv, message] of refusals) expect(() => parseCoordinatorConfig(argv)).toThrow(message);
  });

  it('puts the compression in the config hash (only when not float32): a checkpoint resumes only under the same', () => {
    const hash = (argv: string[]) => configHashOf(parseCoordinatorConfig(argv), { inputDim: 4, adapterWidth: 0, head: 'linear', headHidden: 1, labels: ['a', 'b'] }, 'h');
    const hashes = [hash([]), hash(['--compression', 'float16']), hash(['--compression', 'int8']), hash(['--compression', 'topk:0.01']), hash(['--compression', 'topk:0.1'])];
    expect(new Set(hashes).size).toBe(hashes.length);
    expect(hash(['--compression', 'float32'])).toBe(hashes[0]);
  });

  it('normalises --labels to NFC, so a label typed with a precomposed accent matches a decomposed one', () => {
    const config = parseCoordinatorConfig(['--labels', 're\u0301clamation,question']);
    expect(config.labels).toEqual(['r\u00e9clamation', 'question']);
  });

  it('names the encoding of a config file saved as UTF-16', () => {
    const path = join(sandbox.dir, 'utf16.json');
    writeFileSync(path, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"rounds": 3}', 'utf16le')]));
    expect(() => parseCoordinatorConfig(['--config', path])).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_ENCODING' }));
    expect(() => parseCoordinatorConfig(['--config', path])).toThrow(`${path}: expected a UTF-8 text file, but it is UTF-16LE`);
  });

  it('takes the bounds on updates, shares and declared counts, refusing values outside their ranges', () => {
    expect(parseCoordinatorConfig([])).toMatchObject({ maxUpdateNorm: 100, updateNormAction: 'clip', maxClientShare: 0.5, maxDeclaredExamples: 1_000_000 });
    const config = parseCoordinatorConfig(['--max-update-norm', '2.5', '--update-norm-action', 'reject', '--max-client-share', '1', '--max-declared-examples', '500']);
    expect(config).toMatchObject({ maxUpdateNorm: 2.5, updateNormAction: 'reject', maxClientShare: 1, maxDeclaredExamples: 500 });
    expect(parseCoordinatorConfig(['--config', file({ maxClientShare: 0.25 })])).toMatchObject({ maxClientShare: 0.25 });
    expect(() => parseCoordinatorConfig(['--max-update-norm', '0'])).toThrow('--max-update-norm: expected a finite number > 0, got "0"');
    expect(() => parseCoordinatorConfig(['--max-update-norm', 'Infinity'])).toThrow('--max-update-norm');
    expect(() => parseCoordinatorConfig(['--update-norm-action', 'drop'])).toThrow('--update-norm-action: expected one of clip|reject');
    expect(() => parseCoordinatorConfig(['--max-client-share', '1.5'])).toThrow('--max-client-share: expected a finite number in (0, 1]');
    expect(() => parseCoordinatorConfig(['--max-declared-examples', '0'])).toThrow('--max-declared-examples: expected an integer >= 1');
  });

  it('refuses weak or placeholder tokens, naming the rule and never the secret', () => {
    const rule = 'at least 16 characters and not a placeholder (generate one: openssl rand -hex 32)';
    expect(() => parseCoordinatorConfig(['--token', 'sesame'])).toThrow(`--token: expected a federation token of ${rule}, got "6 characters (fewer than 16)"`);
    expect(() => parseCoordinatorConfig([], { FEDTL_TOKEN: 'change-me' })).toThrow('got "a known placeholder (\\"changeme…\\")"');
    for (const placeholder of ['secret', 'password', 'token', 'changeme', 'CHANGE_ME_BEFORE_PRODUCTION']) {
      expect(() => parseCoordinatorConfig([], { FEDTL_TOKEN: placeholder })).toThrow(expect.objectContaining({ code: 'FEDTL_ERR_BAD_CONFIG' }));
    }
    expect(() => parseCoordinatorConfig(['--operator-token-file', file('x')], { FEDTL_TOKEN: STRONG })).toThrow('--operator-token: expected an operator token of');
    expect(() => parseCoordinatorConfig([], { FEDTL_TOKEN: STRONG, FEDTL_OPERATOR_TOKEN: STRONG })).toThrow('--operator-token: expected a different secret than the federation token');
  });

  it('refuses to listen beyond loopback without a token unless explicitly allowed, and then warns', () => {
    expect(parseCoordinatorConfig(['--host', '::1'])).toMatchObject({ token: '', warnings: [] });
    expect(() => parseCoordinatorConfig(['--host', '0.0.0.0'])).toThrow(
      '--host: expected a federation token (--token-file FILE or FEDTL_TOKEN) or per-client tokens (fedtl token issue) when listening beyond loopback, or --allow-unauthenticated, got "0.0.0.0"',
    );
    expect(parseCoordinatorConfig(['--host', '0.0.0.0', '--allow-unauthenticated'])).toMatchObject({
      warnings: ['listening on 0.0.0.0 without a token (--allow-unauthenticated): anyone who reaches this port can join the federation'],
    });
    expect(parseCoordinatorConfig(['--host', '0.0.0.0'], { FEDTL_TOKEN: STRONG })).toMatchObject({ token: STRONG, warnings: [] });
  });

  it('reads tokens from files, and warns that --token on the command line is visible in the process list', () => {
    const tokenFile = join(sandbox.dir, 'token');
    writeFileSync(tokenFile, `${STRONG}\n`);
    expect(parseCoordinatorConfig(['--token-file', tokenFile])).toMatchObject({ token: STRONG, warnings: [] });
    expect(parseCoordinatorConfig(['--config', file({ token: STRONG })])).toMatchObject({ token: STRONG, warnings: [] });
    expect(parseCoordinatorConfig(['--token', STRONG])).toMatchObject({
      token: STRONG,
      warnings: ['--token on the command line is visible to every user of this machine (ps); use --token-file FILE or FEDTL_TOKEN'],
    });
    expect(() => parseCoordinatorConfig(['--token', STRONG, '--token-file', tokenFile])).toThrow('--token/--token-file: expected one of them, got "both"');
    expect(() => parseCoordinatorConfig(['--token-file', join(sandbox.dir, 'missing')])).toThrow('--token-file: expected a readable file holding the secret');
    // An empty secret file is no token: taken as "no authentication", it would leave the federation open.
    for (const [content, what] of [['', 'empty'], [' \n', 'only whitespace']]) {
      const empty = join(sandbox.dir, `empty-${what}`);
      writeFileSync(empty, content);
      expect(() => parseCoordinatorConfig(['--token-file', empty])).toThrow(`--token-file: expected a file holding a secret, got "${empty} (${what})"`);
      expect(() => parseCoordinatorConfig(['--operator-token-file', empty])).toThrow('--operator-token-file: expected a file holding a secret');
    }
  });

  it('takes per-client tokens from --token-store or <out-dir>/tokens.json, which count as authentication beyond loopback', () => {
    const outDir = join(sandbox.dir, 'out');
    expect(parseCoordinatorConfig(['--out-dir', outDir])).not.toHaveProperty('tokenStore');
    mkdirSync(outDir);
    writeFileSync(join(outDir, 'tokens.json'), '{}');
    expect(parseCoordinatorConfig(['--out-dir', outDir, '--host', '0.0.0.0'])).toMatchObject({ tokenStore: join(outDir, 'tokens.json'), token: '', warnings: [] });
    const elsewhere = join(sandbox.dir, 'elsewhere.json');
    expect(() => parseCoordinatorConfig(['--token-store', elsewhere])).toThrow(`--token-store: expected an existing token store (make one with: fedtl token issue --token-store FILE --client ID), got "${elsewhere}"`);
    writeFileSync(elsewhere, '{}');
    expect(parseCoordinatorConfig(['--out-dir', outDir, '--token-store', elsewhere])).toMatchObject({ tokenStore: elsewhere });
  });

  it('has documented admission limits that flags override', () => {
    expect(parseCoordinatorConfig([])).toMatchObject({ maxClients: 1000, maxConnections: 2000, maxConnectionsPerAddress: 16, maxAuthFailures: 10, authFailureWindowMs: 60_000, maxMissedRounds: 2, maxPlanResends: 2 });
    expect(parseCoordinatorConfig(['--max-clients', '5', '--max-connections-per-address', '3', '--max-missed-rounds', '1'])).toMatchObject({ maxClients: 5, maxConnectionsPerAddress: 3, maxMissedRounds: 1 });
    expect(() => parseCoordinatorConfig(['--max-clients', '0'])).toThrow('--max-clients: expected an integer >= 1, got "0"');
  });
});
