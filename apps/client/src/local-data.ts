// Loads a client's private data and turns its text into frozen-backbone features (cached on disk).
// Texts stay in this process; what leaves is computed from the features by the learner.
import { normalizeLabel, readDataset, readUserText, stratifiedSample, stratifiedSplit, spamAssassinMailboxes, type LabelledText } from '@fedtl/data';
import { EmbeddingPool, FeatureCache, USE_LITE_ID, backboneRefFor, precomputedBackboneRef, type ProgressCallback } from '@fedtl/model';
import type { BackboneRef } from '@fedtl/protocol';
import { FedtlError, createLogger, createProgress } from '@fedtl/util';
import type { ClientConfig } from './config';

export interface FeatureSplit {
  /** Row-major [n, dim]. */
  features: Float32Array;
  labels: string[];
}

export interface LocalData {
  backbone: BackboneRef;
  train: FeatureSplit;
  test: FeatureSplit;
  /** The labels this client holds (sent at Join so the coordinator can refuse unknown ones early). */
  labelSet: string[];
  /**
   * The texts of `train` and `test`, in their order, kept when the backbone is use-lite: a run with LoRA inside
   * the backbone trains through its encoder from them (they never leave this process). Absent otherwise.
   */
  texts?: { train: string[]; test: string[] };
}

const log = createLogger('local-data');

export async function loadLocalData(config: ClientConfig): Promise<LocalData> {
  if (config.data.kind === 'precomputed') {
    const data = await readPrecomputed(config.data.path, config.backbone);
    return config.trainLimit > 0 ? { ...data, train: sampleSplit(data.train, config.trainLimit, config.seed) } : data;
  }
  const all = await readTexts(config);
  const train = config.trainLimit > 0 ? stratifiedSample(all.train, config.trainLimit, config.seed) : all.train;
  const test = all.test;
  const backbone = await backboneRefFor(config.backbone);
  const cache = FeatureCache.open(config.cacheDir, backbone);
  const texts = [...train, ...test].map((e) => e.text);
  // The worker pool (and its copies of the backbone) starts only if some text is not cached yet.
  let pool: EmbeddingPool | undefined;
  const embedMisses = async (missing: string[]) => {
    pool ??= await EmbeddingPool.start(config.backbone, { threads: config.embedThreads || undefined, backend: config.backend });
    return pool.embed(missing);
  };
  let features: Float32Array;
  const bar = createProgress({ label: 'embedding', unit: 'texts', rate: true });
  try {
    features = await cache.embedAll(texts, embedMisses, { onProgress: embeddingProgress((done, total) => bar.update(done, total)) });
  } finally {
    bar.stop();
    await pool?.close();
    cache.close();
  }
  const stats = cache.stats();
  log.info('features ready', { texts: texts.length, cacheHits: stats.hits, computed: stats.misses, dim: backbone.dim });
  const split = train.length * backbone.dim;
  return {
    backbone,
    train: { features: features.subarray(0, split), labels: train.map((e) => e.label) },
    test: { features: features.subarray(split), labels: test.map((e) => e.label) },
    labelSet: [...new Set([...train, ...test].map((e) => e.label))].sort(),
    ...(backbone.id === USE_LITE_ID ? { texts: { train: train.map((e) => e.text), test: test.map((e) => e.text) } } : {}),
  };
}

/** `toBar` (drawn on a terminal only), and a log line at every quarter for logs (piped output, the demo, CI). */
function embeddingProgress(toBar: ProgressCallback): ProgressCallback {
  let reported = 0;
  return (done, total) => {
    toBar(done, total);
    const quarter = total === 0 ? 4 : Math.floor((4 * done) / total);
    if (quarter > reported) {
      reported = quarter;
      log.info('embedding', { done, total });
    }
  };
}

async function readTexts(config: ClientConfig): Promise<{ train: LabelledText[]; test: LabelledText[] }> {
  const source = config.data;
  if (source.kind === 'demo-mailbox') {
    const mailboxes = await spamAssassinMailboxes({ organisations: source.organisations, perOrganisation: source.perOrganisation });
    const mailbox = mailboxes[source.organisation - 1];
    log.info('using a SpamAssassin demo mailbox', { mailbox: mailbox.name, train: mailbox.train.length, test: mailbox.test.length });
    return { train: mailbox.train, test: mailbox.test };
  }
  if (source.kind !== 'file') throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `expected a text data source, got ${source.kind}`);
  const options = { textField: source.textField, labelField: source.labelField };
  const all = (await readDataset(source.train, options)).examples;
  if (source.test) return { train: all, test: (await readDataset(source.test, options)).examples };
  return stratifiedSplit(all, { testFraction: source.testFraction, seed: config.seed });
}

interface PrecomputedFile {
  dim: number;
  train: { features: number[][]; labels: string[] };
  test: { features: number[][]; labels: string[] };
}

/** A JSON file of feature vectors computed elsewhere: `{dim, train: {features, labels}, test: {…}}`. */
/** `limit` rows of `split`, stratified by label and seeded like --train-limit on text (stratifiedSample). */
function sampleSplit(split: FeatureSplit, limit: number, seed: number): FeatureSplit {
  const dim = split.labels.length > 0 ? split.features.length / split.labels.length : 0;
  const rows = stratifiedSample(split.labels.map((label, row) => ({ label, row })), limit, seed);
  const features = new Float32Array(rows.length * dim);
  rows.forEach(({ row }, i) => features.set(split.features.subarray(row * dim, (row + 1) * dim), i * dim));
  return { features, labels: rows.map(({ label }) => label) };
}

async function readPrecomputed(path: string, backboneSpec: string): Promise<LocalData> {
  let file: PrecomputedFile;
  try {
    file = JSON.parse(await readUserText(path));
  } catch (err) {
    if (err instanceof FedtlError) throw err;
    throw new FedtlError('FEDTL_ERR_BAD_DATA', `${path}: expected a JSON file of precomputed features, got ${(err as Error).message}`);
  }
  const backbone = precomputedBackboneRef(file.dim);
  if (backboneSpec !== backbone.id) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${path} holds ${file.dim}-d features: expected --backbone ${backbone.id}, got ${backboneSpec}`);
  }
  const split = (name: 'train' | 'test'): FeatureSplit => {
    const part = file[name];
    if (!part || !Array.isArray(part.features) || part.features.length !== part.labels?.length) {
      throw new FedtlError('FEDTL_ERR_BAD_DATA', `${path}: expected "${name}" with as many feature rows as labels`);
    }
    const features = new Float32Array(part.features.length * file.dim);
    part.features.forEach((row, i) => {
      if (row.length !== file.dim) throw new FedtlError('FEDTL_ERR_BAD_DATA', `${path}: ${name} row ${i} has ${row.length} values, expected ${file.dim}`);
      features.set(row, i * file.dim);
    });
    return { features, labels: part.labels.map(normalizeLabel) };
  };
  const train = split('train');
  const test = split('test');
  return { backbone, train, test, labelSet: [...new Set([...train.labels, ...test.labels])].sort() };
}
