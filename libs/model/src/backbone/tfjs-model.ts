// A user's own frozen backbone: any TF.js graph or layers model in a directory on disk, next to a
// `tokenizer.json` that says how to turn text into its input. Spec: `tfjs-model:<dir>`.
//
// Directory contract:
//   model.json + weight shards   as written by the TF.js converter or `model.save` (graph or layers format)
//   tokenizer.json               {
//     "type": "sentencepiece-unigram",     required; the only type so far
//     "vocab": [["<unk>", 0], ["▁the", -3.1], …],   required; [piece, score], the index is the id
//     "dim": 384,                          required; the feature width, so the backbone can be fingerprinted
//                                          without loading the model (checked against the model at load)
//     "unkId": 0,                          optional, default 0
//     "reservedCount": 1,                  optional, default 1: leading special entries that never match text
//     "maxTokens": 128,                    optional, default 256: tokens kept per text
//     "padId": 0,                          optional, default 0: fills each row after the text's tokens
//     "inputs": {"ids": "input_ids", "mask": "attention_mask"}   optional, graph models with named inputs
//   }
// The model gets int32 token ids [batch, length] (length: the model's fixed input width, else the longest text of
// the batch), and with `inputs.mask` also an int32 mask [batch, length] of 1 for tokens and 0 for padding. Its
// first output is either [batch, dim], used as is, or [batch, length, dim], mean-pooled over each text's own
// tokens. Rows are then L2-normalised. Empty text is embedded as the single unk token (as in USE lite).
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BackboneRef } from '@fedtl/protocol';
import { FedtlError, createLogger } from '@fedtl/util';
import { selectBackend, type BackendName } from '../backend';
import { l2NormalizeRows, validateBatchSize, type Backbone } from './backbone';
import { hashContents, readNamedFiles, type NamedBytes } from './content-hash';
import { MODEL_FILE, readModelFiles, readModelJson, shardPaths, toModelArtifacts, type ModelJson } from './model-files';
import { DEFAULT_MAX_TOKENS, SentencePieceTokenizer, type ScoredVocabulary } from './sentencepiece';

export const TFJS_MODEL_PREFIX = 'tfjs-model:';
export const TOKENIZER_FILE = 'tokenizer.json';
export const TFJS_MODEL_BATCH_SIZE = 32;
/** What, besides the files, decides the features (see content-hash.ts). */
const TFJS_MODEL_RECIPE = 'tfjs-model sentencepiece-unigram/v1 pooling=masked-mean empty=unk';

const log = createLogger('backbone');

export interface TokenizerSpec {
  type: 'sentencepiece-unigram';
  vocab: ScoredVocabulary;
  dim: number;
  unkId?: number;
  reservedCount?: number;
  maxTokens?: number;
  padId?: number;
  inputs?: { ids?: string; mask?: string };
}

export interface TfjsModelOptions {
  backend?: BackendName;
  /** Texts per forward pass; default TFJS_MODEL_BATCH_SIZE. */
  batchSize?: number;
}

/** The BackboneRef of a model directory from its files alone: nothing is loaded into TF.js. */
export async function tfjsModelFingerprint(dir: string): Promise<BackboneRef> {
  const { bytes, modelJson } = await readModelJson(dir);
  const files = [{ name: MODEL_FILE, bytes }, ...(await readNamedFiles(dir, shardPaths(modelJson)))];
  const [tokenizerFile] = await readTokenizerFile(dir);
  const tokenizerSpec = parseTokenizerSpec(tokenizerFile.bytes, dir);
  return { id: TFJS_MODEL_PREFIX + dir, contentHash: hashTfjsModel([...files, tokenizerFile]), dim: tokenizerSpec.dim };
}

export async function loadTfjsModel(dir: string, options: TfjsModelOptions = {}): Promise<Backbone> {
  const batchSize = validateBatchSize(options.batchSize ?? TFJS_MODEL_BATCH_SIZE);
  const started = Date.now();
  const backend = await selectBackend(options.backend);
  const modelFiles = await readModelFiles(dir);
  const [tokenizerFile] = await readTokenizerFile(dir);
  const spec = parseTokenizerSpec(tokenizerFile.bytes, dir);
  const tokenizer = createTokenizer(spec, dir);
  const runner = isLayersModel(modelFiles.modelJson)
    ? await loadLayersRunner(tf.io.fromMemory(toModelArtifacts(modelFiles)))
    : graphRunner(await loadGraphModel(tf.io.fromMemory(toModelArtifacts(modelFiles))), spec, dir);

  const backbone = new TfjsModelBackbone(
    TFJS_MODEL_PREFIX + dir,
    hashTfjsModel([...modelFiles.files, tokenizerFile]),
    spec,
    tokenizer,
    runner,
    batchSize,
  );
  try {
    // One tiny pass checks the declared width against the model's output.
    await backbone.embed(['warm up']);
  } catch (err) {
    backbone.dispose();
    throw err;
  }
  log.info('backbone loaded', { backbone: backbone.id, backend, dim: spec.dim, ms: Date.now() - started });
  return backbone;
}

/** Runs the model on token ids [batch, length] (and their mask); returns its first output, owned by the caller. */
interface ModelRunner {
  /** Fixed input width, when the model has one. */
  sequenceLength: number | undefined;
  /** Whether the model gets the padding mask; a model without it reads padding as if it were text. */
  seesMask: boolean;
  run(ids: tf.Tensor2D, mask: tf.Tensor2D): Promise<tf.Tensor>;
  dispose(): void;
}

class TfjsModelBackbone implements Backbone {
  readonly dim: number;
  private readonly padId: number;

  constructor(
    readonly id: string,
    readonly contentHash: string,
    spec: TokenizerSpec,
    private readonly tokenizer: SentencePieceTokenizer,
    private readonly runner: ModelRunner,
    private readonly batchSize: number,
  ) {
    this.dim = spec.dim;
    this.padId = spec.padId ?? 0;
  }

  ref(): BackboneRef {
    return { id: this.id, contentHash: this.contentHash, dim: this.dim };
  }

  async embed(texts: string[]): Promise<Float32Array> {
    const features = new Float32Array(texts.length * this.dim);
    for (const group of this.batchGroups(texts)) {
      for (let start = 0; start < group.length; start += this.batchSize) {
        const indices = group.slice(start, start + this.batchSize);
        const batch = await this.embedBatch(indices.map((i) => texts[i]));
        indices.forEach((index, row) => features.set(batch.subarray(row * this.dim, (row + 1) * this.dim), index * this.dim));
      }
    }
    return l2NormalizeRows(features, this.dim);
  }

  /**
   * Indices of the texts, grouped so that a text's features never depend on its batch: a model that cannot
   * mask padding and pads to the batch's longest text only ever sees batches of equal token counts.
   */
  private batchGroups(texts: string[]): number[][] {
    const all = texts.map((_, i) => i);
    if (this.runner.seesMask || this.runner.sequenceLength !== undefined) return [all];
    const byLength = new Map<number, number[]>();
    for (const i of all) {
      const length = Math.max(1, this.tokenizer.encode(texts[i]).length);
      byLength.set(length, [...(byLength.get(length) ?? []), i]);
    }
    return [...byLength.values()];
  }

  dispose(): void {
    this.runner.dispose();
  }

  private async embedBatch(texts: string[]): Promise<Float32Array> {
    const width = this.runner.sequenceLength;
    const encoded = texts.map((text) => {
      const ids = this.tokenizer.encode(text);
      const kept = ids.length > 0 ? ids : [this.tokenizer.unkId];
      return width === undefined ? kept : kept.slice(0, width);
    });
    const length = width ?? Math.max(...encoded.map((ids) => ids.length));
    const ids = new Int32Array(texts.length * length).fill(this.padId);
    const mask = new Int32Array(texts.length * length);
    encoded.forEach((row, i) => {
      ids.set(row, i * length);
      mask.fill(1, i * length, i * length + row.length);
    });

    const idsTensor = tf.tensor2d(ids, [texts.length, length], 'int32');
    const maskTensor = tf.tensor2d(mask, [texts.length, length], 'int32');
    let output: tf.Tensor | undefined;
    try {
      output = await this.runner.run(idsTensor, maskTensor);
      const expected = `[${texts.length}, ${this.dim}] or [${texts.length}, ${length}, ${this.dim}]`;
      const shape = output.shape;
      if (shape[0] !== texts.length || shape[shape.length - 1] !== this.dim || (output.rank === 3 ? shape[1] !== length : output.rank !== 2)) {
        throw new FedtlError('FEDTL_ERR_BAD_TENSOR_SHAPE', `${this.id} should output ${expected}; got [${shape.join(', ')}]`);
      }
      if (output.rank === 2) return (await output.data()) as Float32Array;
      const pooled = maskedMean(output as tf.Tensor3D, maskTensor);
      try {
        return (await pooled.data()) as Float32Array;
      } finally {
        pooled.dispose();
      }
    } finally {
      tf.dispose([idsTensor, maskTensor]);
      output?.dispose();
    }
  }
}

/** Mean over each row's own tokens: [batch, length, dim] x mask [batch, length] -> [batch, dim]. */
function maskedMean(tokens: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const weights = tf.expandDims(tf.cast(mask, 'float32'), 2);
    const sums = tf.sum(tf.mul(tf.cast(tokens, 'float32'), weights), 1);
    return tf.div(sums, tf.maximum(tf.sum(weights, 1), 1)) as tf.Tensor2D;
  });
}

function graphRunner(model: GraphModel, spec: TokenizerSpec, dir: string): ModelRunner {
  const idsName = spec.inputs?.ids;
  const maskName = spec.inputs?.mask;
  if (idsName === undefined && model.inputs.length !== 1) {
    model.dispose();
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `${path.join(dir, TOKENIZER_FILE)} must name the ids input ("inputs": {"ids": …}): the model has inputs ${model.inputs.map((input) => input.name).join(', ')}`,
    );
  }
  const idsInput = idsName === undefined ? model.inputs[0] : model.inputs.find((input) => input.name === idsName);
  if (idsInput === undefined || (maskName !== undefined && !model.inputs.some((input) => input.name === maskName))) {
    model.dispose();
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `the model in ${dir} has no input named ${idsInput === undefined ? idsName : maskName}`);
  }
  const width = idsInput.shape?.[1];
  // execute() where the graph allows it; graphs with control flow or dynamic shapes need executeAsync(), which
  // execute() says by throwing on the first run (and executeAsync() warns on every run of a graph without them).
  let synchronous = true;
  const execute = async (feeds: Record<string, tf.Tensor>): Promise<tf.Tensor | tf.Tensor[]> => {
    if (synchronous) {
      try {
        return model.execute(feeds);
      } catch (err) {
        if (!(err as Error).message.includes('executeAsync')) throw err;
        synchronous = false;
      }
    }
    return model.executeAsync(feeds);
  };
  return {
    sequenceLength: width !== undefined && width > 0 ? width : undefined,
    seesMask: maskName !== undefined,
    async run(ids, mask) {
      const feeds: Record<string, tf.Tensor> = { [idsInput.name]: ids };
      if (maskName !== undefined) feeds[maskName] = mask;
      const output = await execute(feeds);
      if (!Array.isArray(output)) return output;
      output.slice(1).forEach((extra) => extra.dispose());
      return output[0];
    },
    dispose: () => model.dispose(),
  };
}

async function loadLayersRunner(handler: tf.io.IOHandler): Promise<ModelRunner> {
  const model = await tfl.loadLayersModel(handler);
  model.trainable = false;
  const width = model.inputs[0]?.shape[1];
  return {
    sequenceLength: typeof width === 'number' && width > 0 ? width : undefined,
    seesMask: false,
    async run(ids) {
      const output = model.predict(ids);
      if (!Array.isArray(output)) return output;
      output.slice(1).forEach((extra) => extra.dispose());
      return output[0];
    },
    dispose: () => model.dispose(),
  };
}

function isLayersModel(modelJson: ModelJson): boolean {
  if (modelJson.format !== undefined) return modelJson.format === 'layers-model';
  return !Array.isArray((modelJson.modelTopology as { node?: unknown }).node);
}

async function readTokenizerFile(dir: string): Promise<NamedBytes[]> {
  try {
    return await readNamedFiles(dir, [TOKENIZER_FILE]);
  } catch (err) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `a tfjs-model backbone needs ${path.join(dir, TOKENIZER_FILE)}: ${(err as Error).message}`);
  }
}

function parseTokenizerSpec(bytes: Uint8Array, dir: string): TokenizerSpec {
  const file = path.join(dir, TOKENIZER_FILE);
  let spec: Partial<TokenizerSpec>;
  try {
    spec = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<TokenizerSpec>;
  } catch (err) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${file} is not JSON: ${(err as Error).message}`);
  }
  const problem =
    spec.type !== 'sentencepiece-unigram'
      ? `"type" must be "sentencepiece-unigram"; got ${JSON.stringify(spec.type)}`
      : !Array.isArray(spec.vocab)
        ? `"vocab" must be an array of [piece, score]`
        : !Number.isInteger(spec.dim) || (spec.dim as number) < 1
          ? `"dim" must be a positive integer; got ${JSON.stringify(spec.dim)}`
          : spec.padId !== undefined && !Number.isInteger(spec.padId)
            ? `"padId" must be an integer; got ${JSON.stringify(spec.padId)}`
            : undefined;
  if (problem !== undefined) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${file}: ${problem}`);
  return spec as TokenizerSpec;
}

function createTokenizer(spec: TokenizerSpec, dir: string): SentencePieceTokenizer {
  try {
    return new SentencePieceTokenizer(spec.vocab, {
      unkId: spec.unkId,
      reservedCount: spec.reservedCount,
      maxTokens: spec.maxTokens ?? DEFAULT_MAX_TOKENS,
    });
  } catch (err) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${path.join(dir, TOKENIZER_FILE)}: ${(err as Error).message}`);
  }
}

/** Over model.json, its shards and tokenizer.json, in that order. */
function hashTfjsModel(files: readonly NamedBytes[]): string {
  return hashContents(TFJS_MODEL_RECIPE, files);
}
