// The demo's options, parsed and validated before anything starts or is deleted. Each bad value is one
// FEDTL_ERR_BAD_CONFIG that names the option, what it expects and what came.
import { parseArgs } from 'node:util';
import { configError, parseInteger, parsePositiveNumber } from '@fedtl/util';

export interface DemoOptions {
  rounds: number;
  /** Organisations, one client process each. */
  clients: number;
  /** Mails per organisation, train and test together (the client's --demo-per-organisation). */
  perOrganisation: number;
  /** Labelled mails per organisation (the client's --train-limit); 0 labels all the training mail. */
  trainLimit: number;
  localEpochs: number;
  batchSize: number;
  learningRate: number;
  personalizeEpochs: number;
  /** Score on a validation slice of each organisation's training mail instead of its test mail. */
  validate: boolean;
  outDir: string;
  cacheDir: string;
  verbose: boolean;
  /** Rounds under secure aggregation (default); false sends updates in the clear (--no-secure-aggregation). */
  secureAggregation: boolean;
}

export const DEMO_USAGE = `Usage: npm run demo -- [options]

A real federation on this machine: one coordinator and N client processes over Socket.IO, each client one
organisation with its own SpamAssassin mailbox and a few labelled mails. Defaults in brackets.

  --clients N              organisations, one client process each [4]; the corpus has hard ham for up to 4
                           at 600 mails each
  --per-organisation N     mails per organisation, a quarter held out as test mail [600]
  --train-limit N          labelled mails per organisation, stratified by label; 0 labels all [6]
  --rounds N               federated rounds [5]
  --local-epochs N         local epochs per round [2]
  --batch-size N           [32]
  --learning-rate X        Adam learning rate of local training [0.005]
  --personalize-epochs N   epochs of private head fine-tuning for the personalised row [20]
  --validate               score on a held-out third of each organisation's training mail, not its test mail
  --out-dir DIR            the run's records and checkpoints [out/demo, or out/demo-validate with --validate];
                           emptied first if it holds an earlier run, refused if it holds anything else
  --cache-dir DIR          feature cache, one subdirectory per organisation [.fedtl-cache]
  --no-secure-aggregation  send updates in the clear (default: secure aggregation, the coordinator learns only
                           each round's sum, and every client requires it)
  --verbose                debug logs
  --help                   this text

Exit status: 0 the federation ran and the table was printed; 1 it failed (a process's output is shown);
2 an invalid option.

The demo before issue 8, where every organisation had 225 labelled mails and training alone won:
  npm run demo -- --clients 3 --train-limit 0 --per-organisation 300 --rounds 5 --local-epochs 3 \\
    --batch-size 32 --learning-rate 0.003 --personalize-epochs 5
`;

const FLAGS = {
  rounds: { type: 'string', default: '5' },
  clients: { type: 'string', default: '4' },
  'per-organisation': { type: 'string', default: '600' },
  'train-limit': { type: 'string', default: '6' },
  'local-epochs': { type: 'string', default: '2' },
  'batch-size': { type: 'string', default: '32' },
  'learning-rate': { type: 'string', default: '0.005' },
  'personalize-epochs': { type: 'string', default: '20' },
  validate: { type: 'boolean', default: false },
  'out-dir': { type: 'string' },
  'cache-dir': { type: 'string', default: '.fedtl-cache' },
  verbose: { type: 'boolean', default: false },
  'no-secure-aggregation': { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

/**
 * Parses the demo's command line; 'help' for --help. Throws FEDTL_ERR_BAD_CONFIG for an unknown option, a
 * missing value or a value out of range (limits as the client and coordinator apply them).
 */
export function parseDemoOptions(argv: string[]): DemoOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw configError('demo options', `options from --help`, (err as Error).message);
  }
  if (values.help) return 'help';
  const options: DemoOptions = {
    rounds: parseInteger('--rounds', values.rounds, 1),
    clients: parseInteger('--clients', values.clients, 1),
    perOrganisation: parseInteger('--per-organisation', values['per-organisation'], 10),
    trainLimit: parseInteger('--train-limit', values['train-limit'], 0),
    localEpochs: parseInteger('--local-epochs', values['local-epochs'], 1),
    batchSize: parseInteger('--batch-size', values['batch-size'], 1),
    learningRate: parsePositiveNumber('--learning-rate', values['learning-rate']),
    personalizeEpochs: parseInteger('--personalize-epochs', values['personalize-epochs'], 0),
    validate: values.validate,
    // A --validate run keeps its own records, so it never overwrites those of the reported run.
    outDir: values['out-dir'] ?? (values.validate ? 'out/demo-validate' : 'out/demo'),
    cacheDir: values['cache-dir'],
    verbose: values.verbose,
    secureAggregation: !values['no-secure-aggregation'],
  };
  if (options.secureAggregation && options.clients < 2) {
    throw configError('--clients', 'at least 2 under secure aggregation (a sum of one update is that update), or --no-secure-aggregation', options.clients);
  }
  return options;
}
