// `fedtl demo`: its options, declared once (flags, FEDTL_DEMO_* variables, --config, --help), and checked before
// anything starts or is deleted.
import { configError } from '@fedtl/util';
import { booleanOption, integerOption, numberOption, stringOption, withEnvPrefix, type OptionValues } from '@fedtl/util/options';

// The defaults were chosen with `fedtl bench demo-tuning` on a validation slice of each organisation's training
// mail (docs/results/demo/tuning.md). The demo's variables are FEDTL_DEMO_*: its children read FEDTL_*.
export const DEMO_OPTIONS = withEnvPrefix('FEDTL_DEMO_', {
  clients: integerOption({ help: 'organisations, one client process each (the corpus has hard ham for up to 4 at 600 mails each)', min: 1, default: 4 }),
  perOrganisation: integerOption({ help: 'mails per organisation, a quarter held out as test mail', min: 10, default: 600 }),
  trainLimit: integerOption({ help: 'labelled mails per organisation, stratified by label; 0 labels all', min: 0, default: 6 }),
  rounds: integerOption({ help: 'federated rounds', min: 1, default: 5 }),
  localEpochs: integerOption({ help: 'local epochs per round', min: 1, default: 2 }),
  batchSize: integerOption({ help: 'local batch size', min: 1, default: 32 }),
  learningRate: numberOption({ help: 'Adam learning rate of local training', min: 0, minExclusive: true, default: 0.005 }),
  personalizeEpochs: integerOption({ help: 'epochs of private head fine-tuning for the personalised row', min: 0, default: 20 }),
  validate: booleanOption({ help: "score on a held-out third of each organisation's training mail, not its test mail" }),
  outDir: stringOption({
    help: "the run's records and checkpoints; emptied first if it holds an earlier run, refused if it holds anything else",
    defaultText: 'out/demo, or out/demo-validate with --validate',
    valueName: 'DIR',
  }),
  cacheDir: stringOption({ help: 'feature cache, one subdirectory per organisation', default: '.fedtl-cache', valueName: 'DIR' }),
  secureAggregation: booleanOption({
    help: "secure aggregation: the coordinator learns only each round's sum, and every client requires it; --no-secure-aggregation sends updates in the clear",
    default: true,
  }),
  verbose: booleanOption({ help: 'debug logs from the coordinator and the clients' }),
});

export type DemoOptions = Omit<OptionValues<typeof DEMO_OPTIONS>, 'outDir'> & { outDir: string };

/**
 * The demo's options with their defaults filled in and checked together.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG for a combination no run could use (one client under secure aggregation).
 */
export function demoOptionsFrom(values: OptionValues<typeof DEMO_OPTIONS>): DemoOptions {
  // A --validate run keeps its own records, so it never overwrites those of the reported run.
  const options = { ...values, outDir: values.outDir ?? (values.validate ? 'out/demo-validate' : 'out/demo') };
  if (options.secureAggregation && options.clients < 2) {
    throw configError('--clients', 'at least 2 under secure aggregation (a sum of one update is that update), or --no-secure-aggregation', options.clients);
  }
  return options;
}
