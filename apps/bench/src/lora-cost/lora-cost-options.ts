// `fedtl bench lora-cost`: its options, declared once, and the settings they resolve to. --quick is a smoke test:
// the options it shrinks (--texts, --epochs, --repeat) have no declared default, loraCostOptionsFrom fills in the full or
// the quick one; explicit flags win over both.
import { resolve } from 'node:path';
import { booleanOption, integerOption, stringOption, LOG_OPTIONS, type OptionValues } from '@fedtl/util/options';
import { dataAndOut } from '../option-checks';
import { DATA_GROUP, SUITE_GROUP, withoutEnvironment } from '../shared-options';

/** What the suite measures with: the texts, the epochs, the LoRA rank, the repetitions and where it writes. */
export interface LoraCostOptions {
  dataDir: string;
  /** The domain whose DOMAIN.train.jsonl gives the texts (its first `texts` rows). */
  domain: string;
  texts: number;
  epochs: number;
  /** LoRA rank r of every configuration with LoRA; α is 2·r. */
  loraRank: number;
  /** Timed repetitions of every configuration (interleaved); figures are medians. */
  repeat: number;
  /** Absolute. */
  out: string;
}

const FULL = { texts: 200, epochs: 2, repeat: 3 };
const QUICK = { texts: 24, epochs: 1, repeat: 1 };
const both = (fullValue: number, quickValue: number) => `${fullValue}; --quick ${quickValue}`;

export const LORA_COST_OPTIONS = {
  ...withoutEnvironment({
    dataDir: stringOption({ help: 'folder of DOMAIN.train.jsonl files (fields text, label); required', valueName: 'DIR', group: DATA_GROUP }),
    domain: stringOption({ help: 'the domain whose training file gives the texts (its first N rows)', default: 'books', valueName: 'NAME', group: DATA_GROUP }),
    out: stringOption({ help: 'where report.json and report.md go; required', valueName: 'DIR', group: DATA_GROUP }),
    texts: integerOption({ help: 'texts each configuration trains on', min: 2, defaultText: both(FULL.texts, QUICK.texts), valueName: 'N', group: SUITE_GROUP }),
    epochs: integerOption({ help: 'local epochs of each timed training', min: 1, max: 1000, defaultText: both(FULL.epochs, QUICK.epochs), valueName: 'E', group: SUITE_GROUP }),
    loraRank: integerOption({ help: 'LoRA rank of the configurations with LoRA (alpha twice the rank)', min: 1, max: 256, default: 4, valueName: 'R', group: SUITE_GROUP }),
    repeat: integerOption({ help: 'timed repetitions of every configuration, interleaved (a loaded machine\'s speed changes within seconds); figures are medians', min: 1, max: 100, defaultText: both(FULL.repeat, QUICK.repeat), valueName: 'K', group: SUITE_GROUP }),
    quick: booleanOption({ help: `${QUICK.texts} texts, ${QUICK.epochs} epoch, ${QUICK.repeat} repetition (a smoke test); explicit flags still apply`, group: SUITE_GROUP }),
  }),
  ...LOG_OPTIONS,
  logLevel: { ...LOG_OPTIONS.logLevel, default: 'warn' as const },
};

/**
 * The suite's settings from its resolved values, --quick's for what was not given.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming --data-dir or --out when missing.
 */
export function loraCostOptionsFrom(v: OptionValues<typeof LORA_COST_OPTIONS>): LoraCostOptions {
  const { dataDir, out } = dataAndOut(v);
  const base = v.quick ? QUICK : FULL;
  return { dataDir, domain: v.domain, texts: v.texts ?? base.texts, epochs: v.epochs ?? base.epochs, loraRank: v.loraRank, repeat: v.repeat ?? base.repeat, out: resolve(out) };
}
